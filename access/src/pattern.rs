//! Wildcards, policy variables and unresolved Terraform expressions in policy strings.
//!
//! - `*` matches any run of characters and `?` one character, in `Action` (case-insensitively),
//!   `Resource` and the `*Like`/`Arn*` condition operators
//!   ([Resource](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html)).
//! - ARNs are matched per colon-delimited component: a wildcard never spans the `:` between
//!   partition, service, region and account
//!   ([ARN operators](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN)).
//! - `${aws:PrincipalTag/TenantId}` is replaced by the request's value of that key; a key the
//!   request lacks makes the string match nothing; `${*}`, `${?}`, `${$}` are the literal characters
//!   ([policy variables](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html)).
//!   Variables are only substituted in `"Version": "2012-10-17"` policies.
//! - Any other `${…}` is a Terraform expression the model could not resolve: comparing with it
//!   is [`Tri::Unknown`].

use crate::context::Context;
use crate::tri::Tri;

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    Literal(char),
    AnyRun,
    AnyOne,
}

/// A policy string after policy-variable substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Template {
    /// A pattern the model can compare.
    Pattern(Vec<Token>),
    /// Contains a Terraform expression the model could not resolve.
    Unresolved,
    /// Names a policy variable the request does not carry: matches nothing.
    MissingVariable,
}

/// Whether a request-side value still carries a Terraform expression.
pub fn is_unresolved(value: &str) -> bool {
    value.contains("${")
}

/// Whether `name` (the inside of `${…}`) is an IAM policy variable rather than Terraform.
fn iam_variable(name: &str) -> Option<(&str, Option<&str>)> {
    let (key, default) = match name.split_once(',') {
        Some((key, rest)) => {
            let rest = rest.trim();
            let default = rest.strip_prefix('\'')?.strip_suffix('\'')?;
            (key.trim(), Some(default))
        }
        None => (name, None),
    };
    let (service, rest) = key.split_once(':')?;
    let service_ok = !service.is_empty()
        && service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let rest_ok = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':'));
    (service_ok && rest_ok).then_some((key, default))
}

/// Compiles a policy string. `variables` is `None` for policies whose version predates policy
/// variables; `wildcards` is false for exact operators (`StringEquals`), where `*` is literal.
pub(crate) fn compile(text: &str, variables: Option<&Context>, wildcards: bool) -> Template {
    let mut tokens = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        push_literal_run(&mut tokens, &rest[..start], wildcards);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Template::Unresolved;
        };
        let name = &after[..end];
        match (name, variables) {
            ("*" | "?" | "$", Some(_)) => tokens.extend(name.chars().map(Token::Literal)),
            (_, Some(context)) => {
                let Some((key, default)) = iam_variable(name) else {
                    return Template::Unresolved;
                };
                let value = match context.single(key) {
                    Some(value) => value,
                    None => match default {
                        Some(default) => default,
                        None => return Template::MissingVariable,
                    },
                };
                if is_unresolved(value) {
                    return Template::Unresolved;
                }
                tokens.extend(value.chars().map(Token::Literal));
            }
            (_, None) => {
                if iam_variable(name).is_none() {
                    return Template::Unresolved;
                }
                // Version 2008-10-17: the variable is plain text.
                push_literal_run(&mut tokens, &rest[start..start + 2 + end + 1], wildcards);
            }
        }
        rest = &after[end + 1..];
    }
    push_literal_run(&mut tokens, rest, wildcards);
    Template::Pattern(tokens)
}

/// Whether `text` compiles to nothing but its own characters: no wildcard (where wildcards
/// count) and no `${…}`. Such a pattern is compared as a string, without compiling it: the fleet
/// model evaluates hundreds of thousands of requests, and most policy strings are literal.
fn is_literal(text: &str, wildcards: bool) -> bool {
    !(text.contains('$') || wildcards && text.contains(['*', '?']))
}

/// The literal start every value a pattern may match begins with: the text before its first
/// wildcard or `${` (a policy variable or an unresolved expression). Matching is per character
/// and a wildcard never makes an earlier literal character optional.
pub(crate) fn literal_prefix(pattern: &str) -> &str {
    let bytes = pattern.as_bytes();
    let end = (0..bytes.len())
        .find(|&at| ends_literal_prefix(bytes, at))
        .unwrap_or(bytes.len());
    &pattern[..end]
}

/// Whether the literal prefix of `pattern` ends at byte `at`. Wildcards and `${` are ASCII, so
/// such a byte is always a character boundary.
fn ends_literal_prefix(pattern: &[u8], at: usize) -> bool {
    match pattern[at] {
        b'*' | b'?' => true,
        b'$' => pattern.get(at + 1) == Some(&b'{'),
        _ => false,
    }
}

/// Whether `value` certainly does not match `pattern` (compared case-sensitively): it does not
/// start with the pattern's literal start. Rejects most non-matching values without compiling;
/// the fleet model asks this hundreds of thousands of times, so it compares byte by byte in one
/// pass and looks for `${` in the value only when it would reject.
fn rejects(pattern: &str, value: &str) -> bool {
    let (pattern_bytes, value_bytes) = (pattern.as_bytes(), value.as_bytes());
    for (at, &byte) in pattern_bytes.iter().enumerate() {
        if ends_literal_prefix(pattern_bytes, at) {
            return false;
        }
        if value_bytes.get(at) != Some(&byte) {
            return !is_unresolved(value);
        }
    }
    false
}

/// [`compile`] `pattern`, then [`Template::matches`] `value`.
pub(crate) fn matches(
    pattern: &str,
    variables: Option<&Context>,
    wildcards: bool,
    value: &str,
    ignore_case: bool,
) -> Tri {
    if !ignore_case && wildcards && rejects(pattern, value) {
        return Tri::False;
    }
    if is_literal(pattern, wildcards) && pattern.is_ascii() && value.is_ascii() {
        if is_unresolved(value) {
            return Tri::Unknown;
        }
        return if ignore_case {
            pattern.eq_ignore_ascii_case(value).into()
        } else {
            (pattern == value).into()
        };
    }
    compile(pattern, variables, wildcards).matches(value, ignore_case)
}

/// [`compile`] `pattern` with wildcards, then [`Template::matches_arn`] `value`.
pub(crate) fn matches_arn(pattern: &str, variables: Option<&Context>, value: &str) -> Tri {
    if rejects(pattern, value) {
        return Tri::False;
    }
    if is_literal(pattern, true) {
        if is_unresolved(value) {
            return Tri::Unknown;
        }
        // Equal component by component is equal as a whole; an ARN has six components.
        return (pattern == value && value.splitn(6, ':').count() == 6).into();
    }
    compile(pattern, variables, true).matches_arn(value)
}

fn push_literal_run(tokens: &mut Vec<Token>, text: &str, wildcards: bool) {
    tokens.extend(text.chars().map(|c| match c {
        '*' if wildcards => Token::AnyRun,
        '?' if wildcards => Token::AnyOne,
        c => Token::Literal(c),
    }));
}

impl Template {
    /// Compares the whole value with this template.
    pub(crate) fn matches(&self, value: &str, ignore_case: bool) -> Tri {
        match self {
            Template::MissingVariable => Tri::False,
            Template::Unresolved => Tri::Unknown,
            Template::Pattern(_) if is_unresolved(value) => Tri::Unknown,
            Template::Pattern(tokens) => {
                let text: Vec<char> = value.chars().collect();
                glob(tokens, &text, ignore_case).into()
            }
        }
    }

    /// Compares an ARN component by component (six components; the last keeps its colons);
    /// a lone `*` matches everything.
    pub(crate) fn matches_arn(&self, value: &str) -> Tri {
        let Template::Pattern(tokens) = self else {
            return self.matches(value, false);
        };
        if is_unresolved(value) {
            return Tri::Unknown;
        }
        if tokens == &[Token::AnyRun] {
            return Tri::True;
        }
        let pattern_parts = split_tokens(tokens);
        let value_parts: Vec<Vec<char>> = value.splitn(6, ':').map(|part| part.chars().collect()).collect();
        if pattern_parts.len() != 6 || value_parts.len() != 6 {
            // Not an ARN on one side: ARN comparison never matches a non-ARN.
            return Tri::False;
        }
        pattern_parts
            .iter()
            .zip(&value_parts)
            .all(|(pattern, text)| glob(pattern, text, false))
            .into()
    }
}

/// Splits a token list at its first five literal colons.
fn split_tokens(tokens: &[Token]) -> Vec<Vec<Token>> {
    let mut parts = vec![Vec::new()];
    for token in tokens {
        if *token == Token::Literal(':') && parts.len() < 6 {
            parts.push(Vec::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(*token);
        }
    }
    parts
}

/// Iterative wildcard match with single-star backtracking (linear in practice).
fn glob(pattern: &[Token], text: &[char], ignore_case: bool) -> bool {
    let same = |a: char, b: char| {
        if ignore_case {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Token::AnyRun) => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(Token::AnyOne) => {
                p += 1;
                t += 1;
            }
            Some(Token::Literal(c)) if same(*c, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, consumed)) => {
                    p = star + 1;
                    t = consumed + 1;
                    backtrack = Some((star, consumed + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|token| *token == Token::AnyRun)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> Template {
        compile(text, None, true)
    }

    #[test]
    fn star_and_question_mark() {
        assert_eq!(pattern("s3:Get*").matches("s3:GetObject", false), Tri::True);
        assert_eq!(pattern("s3:Get?bject").matches("s3:GetObject", false), Tri::True);
        assert_eq!(pattern("s3:Get?").matches("s3:GetObject", false), Tri::False);
        assert_eq!(pattern("a*b*c").matches("axxbyyc", false), Tri::True);
        assert_eq!(pattern("a*b*c").matches("axxbyy", false), Tri::False);
    }

    #[test]
    fn arn_wildcards_stay_in_their_component() {
        let p = pattern("arn:aws:s3:::*");
        assert_eq!(p.matches_arn("arn:aws:s3:::bucket/key"), Tri::True);
        let p = pattern("arn:aws:logs:*:log-group:*");
        assert_eq!(p.matches_arn("arn:aws:logs:us-east-1:1:log-group:x"), Tri::False);
    }

    #[test]
    fn a_value_is_rejected_only_when_it_leaves_the_literal_start() {
        assert_eq!(
            literal_prefix("arn:aws:s3:::tenant-${aws:PrincipalTag/TenantId}-*"),
            "arn:aws:s3:::tenant-"
        );
        assert_eq!(literal_prefix("arn:aws:s3:::a$b?c"), "arn:aws:s3:::a$b");
        assert_eq!(literal_prefix("ärn:*"), "ärn:");
        assert!(rejects("arn:aws:s3:::a*", "arn:aws:s3:::b"));
        assert!(
            rejects("arn:aws:s3:::abc", "arn:aws:s3:::ab"),
            "shorter than the literal start"
        );
        assert!(!rejects("arn:aws:s3:::a*", "arn:aws:s3:::a"));
        assert!(!rejects("arn:aws:s3:::a?", "arn:aws:s3:::ab"));
        assert!(!rejects("arn:aws:s3:::${x}", "arn:aws:s3:::anything"));
        assert!(
            !rejects("arn:aws:s3:::a*", "arn:aws:s3:::${aws_s3_bucket.b.id}"),
            "unresolved values are never rejected"
        );
        assert!(!rejects("ärn:*", "ärn:x"));
        assert!(rejects("ärn:*", "ärm:x"));
    }

    #[test]
    fn literal_patterns_compare_as_strings_like_compiled_ones() {
        let values = [
            "arn:aws:s3:::bucket",
            "arn:aws:s3:::Bucket",
            "arn:aws:s3:::bucket/key",
            "s3:GetObject",
            "s3:getobject",
            "not-an-arn",
            "a:b:c",
            "${aws_s3_bucket.x.arn}",
        ];
        let patterns = values.iter().chain(&[
            "arn:aws:s3:::b*",
            "arn:aws:s3:::bucket/*",
            "arn:aws:*:*:*:*",
            "s3:Get*",
            "a:b:?",
            "arn:aws:s3:::${aws:username}",
        ]);
        for pattern in patterns {
            for value in values {
                for (wildcards, ignore_case) in [(true, true), (true, false), (false, false)] {
                    assert_eq!(
                        matches(pattern, None, wildcards, value, ignore_case),
                        compile(pattern, None, wildcards).matches(value, ignore_case),
                        "{pattern} {value}"
                    );
                }
                assert_eq!(
                    matches_arn(pattern, None, value),
                    compile(pattern, None, true).matches_arn(value),
                    "{pattern} {value}"
                );
            }
        }
    }

    #[test]
    fn terraform_expressions_are_unknown() {
        assert_eq!(pattern("${format(\"a\")}").matches("a", false), Tri::Unknown);
        assert_eq!(
            pattern("a").matches("${aws_s3_bucket.x.arn}", false),
            Tri::Unknown
        );
    }
}
