//! Scans Terraform template strings (`${...}`, `%{...}`) and the references they make.

use super::COMMENT_KEY;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Reference roots that never name something declared in the document.
const IGNORED_ROOTS: &[&str] = &["path", "each", "count", "self", "terraform"];

/// How deeply templates may nest inside each other (`${"${"${x}"}"}` is three deep). Real
/// configurations nest two or three levels; the bound keeps the scan's work linear in the string
/// and the recursion of [`expr_references`] shallow, whatever a plugin emits.
pub const MAX_TEMPLATE_DEPTH: usize = 32;

/// The longest string, in bytes, that is scanned as a template. A longer string with template
/// syntax is refused rather than scanned, so the work per string stays bounded.
pub const MAX_TEMPLATE_BYTES: usize = 1 << 20;

/// Why a string is not a template the host can read (and Terraform could not either).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `${`, `%{` or quoted string is never closed.
    #[error("the `{opener}` at byte {at} is never closed")]
    Unterminated {
        /// What was opened: `${`, `%{` or `"`.
        opener: &'static str,
        /// Its byte offset in the string.
        at: usize,
    },
    /// Templates nest deeper than [`MAX_TEMPLATE_DEPTH`].
    #[error("templates nest more than {MAX_TEMPLATE_DEPTH} levels deep (at byte {at})")]
    TooDeep {
        /// The byte offset of the opener that went too deep.
        at: usize,
    },
    /// A string with template syntax is longer than [`MAX_TEMPLATE_BYTES`].
    #[error("a template of {len} bytes is longer than the limit of {MAX_TEMPLATE_BYTES} bytes")]
    TooLong {
        /// The string's length.
        len: usize,
    },
}

/// Whether a JSON string holds template syntax (`${..}` or `%{..}`, terminated or not), so that
/// its value is only known at plan time. A malformed template counts: it is reported by
/// [`template_problems`], not a second time as a wrong type.
pub(super) fn is_template(s: &str) -> bool {
    let mut found = false;
    for_each_template_expr(s, &mut |_| found = true).is_err() || found
}

/// Whether `b[i..]` starts an interpolation or directive, and whether it is the `$${` / `%%{`
/// escape of a literal one.
fn opener_at(b: &[u8], i: usize) -> (bool, bool) {
    let sigil = matches!(b[i], b'$' | b'%');
    let open = sigil && b.get(i + 1) == Some(&b'{');
    let escaped = sigil && b.get(i + 1) == Some(&b[i]) && b.get(i + 2) == Some(&b'{');
    (open, escaped)
}

/// Calls `f` with the text inside every `${...}` / `%{...}` of a template string, skipping the
/// `$${` / `%%{` escapes. A string that is not a well-formed template is an error, and `f` is not
/// called for anything after the problem.
fn for_each_template_expr<'a>(s: &'a str, f: &mut dyn FnMut(&'a str)) -> Result<(), TemplateError> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match opener_at(b, i) {
            (_, true) => i += 3,
            (true, false) => {
                if b.len() > MAX_TEMPLATE_BYTES {
                    return Err(TemplateError::TooLong { len: b.len() });
                }
                let end = closing(b, i, Frame::Expr { braces: 0 })?;
                f(&s[i + 2..end]);
                i = end + 1;
            }
            (false, false) => i += 1,
        }
    }
    Ok(())
}

/// What the scanner is inside of.
#[derive(Debug, Clone, Copy)]
enum Frame {
    /// An expression (`${` or `%{`), with the count of its own unclosed `{`.
    Expr { braces: usize },
    /// A quoted string inside an expression.
    Quoted,
}

/// Index of the byte that closes the frame opened at `at` (the `}` of the `${` / `%{` there, or
/// the `"` closing the quote there), honouring nested braces and quoted strings that hold
/// templates of their own. Iterative with an explicit stack of enclosing frames, so no input can
/// exhaust the host's stack, and bounded by [`MAX_TEMPLATE_DEPTH`].
fn closing(b: &[u8], at: usize, first: Frame) -> Result<usize, TemplateError> {
    let mut top = first;
    let mut enclosing: Vec<Frame> = Vec::new();
    // How many expressions are open: the nesting depth that is bounded.
    let mut depth = usize::from(matches!(first, Frame::Expr { .. }));
    let mut i = match first {
        Frame::Expr { .. } => at + 2,
        Frame::Quoted => at + 1,
    };
    loop {
        let Some(&byte) = b.get(i) else {
            let opener = match (first, b[at]) {
                (Frame::Quoted, _) => "\"",
                (Frame::Expr { .. }, b'%') => "%{",
                (Frame::Expr { .. }, _) => "${",
            };
            return Err(TemplateError::Unterminated { opener, at });
        };
        let mut opened = None;
        let mut closed = false;
        match &mut top {
            Frame::Expr { braces } => match byte {
                b'{' => *braces += 1,
                b'}' if *braces == 0 => closed = true,
                b'}' => *braces -= 1,
                b'"' => opened = Some((Frame::Quoted, 1)),
                _ => {}
            },
            Frame::Quoted => match (byte, opener_at(b, i)) {
                (b'\\', _) => i += 1,
                (b'"', _) => closed = true,
                (_, (_, true)) => i += 2,
                (_, (true, false)) => opened = Some((Frame::Expr { braces: 0 }, 2)),
                _ => {}
            },
        }
        if closed {
            if let Frame::Expr { .. } = top {
                depth -= 1;
            }
            match enclosing.pop() {
                Some(frame) => top = frame,
                None => return Ok(i),
            }
        }
        if let Some((frame, opener_len)) = opened {
            if let Frame::Expr { .. } = frame {
                depth += 1;
                if depth > MAX_TEMPLATE_DEPTH {
                    return Err(TemplateError::TooDeep { at: i });
                }
            }
            enclosing.push(std::mem::replace(&mut top, frame));
            i += opener_len;
        } else {
            i += 1;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    Ident(&'a str),
    Str(&'a str),
    Punct(u8),
    Other,
}

fn tokenize(expr: &str) -> Vec<Token<'_>> {
    let b = expr.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                i += 1;
            }
            tokens.push(Token::Ident(&expr[start..i]));
            continue;
        }
        if c.is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            tokens.push(Token::Other);
            continue;
        }
        if c == b'"' {
            // The expression came from a well-formed template, so its quotes are closed.
            let Ok(end) = closing(b, i, Frame::Quoted) else {
                break;
            };
            tokens.push(Token::Str(&expr[i + 1..end]));
            i = end + 1;
            continue;
        }
        if !c.is_ascii_whitespace() {
            tokens.push(if c.is_ascii() {
                Token::Punct(c)
            } else {
                Token::Other
            });
        }
        i += 1;
    }
    tokens
}

/// Every reference root (`aws_vpc.main`, `data.aws_region.current`, `var.x`, `local.x`,
/// `module.x`) an expression mentions, ignoring `ignored` names (loop variables, iterators).
fn expr_references(expr: &str, ignored: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    let tokens = tokenize(expr);
    // Names bound by `for a, b in ...` are local to the expression.
    let mut bound: BTreeSet<&str> = BTreeSet::new();
    for (i, t) in tokens.iter().enumerate() {
        if *t == Token::Ident("for") {
            let mut j = i + 1;
            while let Some(Token::Ident(name)) = tokens.get(j) {
                if *name == "in" {
                    break;
                }
                bound.insert(name);
                j += 1;
                if tokens.get(j) == Some(&Token::Punct(b',')) {
                    j += 1;
                }
            }
        }
    }
    for (i, t) in tokens.iter().enumerate() {
        match *t {
            Token::Str(inner) => {
                // The enclosing template was well-formed, and so is every part of it.
                let _ = for_each_template_expr(inner, &mut |e| expr_references(e, ignored, out));
            }
            Token::Ident(root) => {
                let after = |p: u8| i > 0 && tokens[i - 1] == Token::Punct(p);
                let after_path_sep = after(b':') && i > 1 && tokens[i - 2] == Token::Punct(b':');
                if after(b'.') || after_path_sep {
                    continue; // an attribute of an earlier traversal, or `provider::ns::fn`
                }
                let mut parts = vec![root];
                let mut j = i + 1;
                while tokens.get(j) == Some(&Token::Punct(b'.')) {
                    match tokens.get(j + 1) {
                        Some(Token::Ident(name)) => parts.push(name),
                        _ => break,
                    }
                    j += 2;
                }
                if parts.len() == 1 {
                    continue; // a function name, keyword, or bare loop variable
                }
                if IGNORED_ROOTS.contains(&root) || bound.contains(root) || ignored.contains(root) {
                    continue;
                }
                let reference = match root {
                    "var" | "local" | "module" => format!("{root}.{}", parts[1]),
                    "data" => parts[1..parts.len().min(3)]
                        .iter()
                        .fold("data".to_owned(), |acc, p| format!("{acc}.{p}")),
                    _ if root.contains('_') => format!("{root}.{}", parts[1]),
                    _ => continue,
                };
                out.insert(reference);
            }
            Token::Punct(_) | Token::Other => {}
        }
    }
}

/// Every function a template string calls (`format`, `join`, `provider::aws::arn_parse`, ...),
/// in its expressions and in the templates of their quoted strings; an error for a string that
/// is not a well-formed template. For a guardrail that reads strings literally: where a function
/// is called, the value is only known at plan time.
pub fn called_functions(text: &str) -> Result<BTreeSet<String>, TemplateError> {
    fn expression_functions(expr: &str, out: &mut BTreeSet<String>) {
        let tokens = tokenize(expr);
        for (i, token) in tokens.iter().enumerate() {
            match *token {
                // The enclosing template was well-formed, and so is every part of it.
                Token::Str(inner) => {
                    let _ = for_each_template_expr(inner, &mut |e| expression_functions(e, out));
                }
                Token::Ident(name) if tokens.get(i + 1) == Some(&Token::Punct(b'(')) => {
                    out.insert(name.to_owned());
                }
                _ => {}
            }
        }
    }
    let mut found = BTreeSet::new();
    for_each_template_expr(text, &mut |e| expression_functions(e, &mut found))?;
    Ok(found)
}

/// Names declared in a document: `type.name`, `data.type.name`, `var.x`, `local.x`, `module.x`.
fn declared_names(document: &Map<String, Value>) -> BTreeSet<String> {
    let mut declared = BTreeSet::new();
    for (section, prefix) in [("resource", ""), ("data", "data.")] {
        if let Some(Value::Object(types)) = document.get(section) {
            for (type_name, instances) in types {
                if let Value::Object(instances) = instances {
                    for name in instances.keys() {
                        declared.insert(format!("{prefix}{type_name}.{name}"));
                    }
                }
            }
        }
    }
    for (section, prefix) in [("variable", "var"), ("locals", "local"), ("module", "module")] {
        let tables: Vec<&Map<String, Value>> = match document.get(section) {
            Some(Value::Object(table)) => vec![table],
            Some(Value::Array(tables)) => tables.iter().filter_map(Value::as_object).collect(),
            _ => Vec::new(),
        };
        for table in tables {
            for name in table.keys() {
                declared.insert(format!("{prefix}.{name}"));
            }
        }
    }
    declared
}

/// Names and iterators of `dynamic` blocks anywhere in the document; their `.value`/`.key`
/// traversals are not references.
fn dynamic_iterators(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(fields) => {
            if let Some(Value::Object(dynamics)) = fields.get("dynamic") {
                for (name, spec) in dynamics {
                    out.insert(name.clone());
                    if let Some(Value::String(it)) = spec.get("iterator") {
                        out.insert(it.clone());
                    }
                }
            }
            fields.values().for_each(|v| dynamic_iterators(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| dynamic_iterators(v, out)),
        _ => {}
    }
}

/// What one scan of a value found: the references of its well-formed templates and every
/// string that is not a well-formed template, by JSON pointer.
#[derive(Debug, Default)]
struct Scan {
    references: BTreeSet<String>,
    problems: Vec<TemplateProblem>,
}

fn scan_value(value: &Value, pointer: &mut String, ignored: &BTreeSet<String>, scan: &mut Scan) {
    let scan_text = |text: &str, pointer: &str, scan: &mut Scan| {
        let references = &mut scan.references;
        if let Err(error) = for_each_template_expr(text, &mut |e| expr_references(e, ignored, references)) {
            scan.problems.push(TemplateProblem {
                pointer: pointer.to_owned(),
                error,
            });
        }
    };
    match value {
        Value::String(text) => scan_text(text, pointer, scan),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let length = pointer.len();
                // Writing to a `String` cannot fail.
                let _ = write!(pointer, "/{index}");
                scan_value(item, pointer, ignored, scan);
                pointer.truncate(length);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                if key == COMMENT_KEY {
                    continue;
                }
                let length = pointer.len();
                pointer.push('/');
                // Escaped as JSON pointers demand (RFC 6901), in place.
                for c in key.chars() {
                    match c {
                        '~' => pointer.push_str("~0"),
                        '/' => pointer.push_str("~1"),
                        c => pointer.push(c),
                    }
                }
                scan_text(key, pointer, scan);
                scan_value(item, pointer, ignored, scan);
                pointer.truncate(length);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// A string of a document that is not a well-formed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateProblem {
    /// The JSON pointer of the string (or of the value under a malformed key) in the document.
    pub pointer: String,
    /// What is wrong with it.
    pub error: TemplateError,
}

/// The reference and template problems of one block of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockReferences {
    /// The block: `aws_vpc.main`, `data.aws_region.current`, `output.x`, or a top-level section
    /// such as `locals` or `provider`.
    pub address: String,
    /// References in the block that name nothing declared in the document, sorted.
    pub undeclared: Vec<String>,
    /// Strings in the block that are not well-formed templates.
    pub problems: Vec<TemplateProblem>,
}

/// Every block of a document with undeclared references or malformed templates, in document
/// order (sections, then types, then names, as the JSON object orders them).
///
/// All strings (and object keys) outside `"//"` keys are scanned for `${...}` / `%{...}`;
/// `path.`, `each.`, `count.`, `self.`, `terraform.`, `for` variables and `dynamic` iterators
/// are ignored; function names are skipped but their arguments are scanned. A document that is
/// not a JSON object has no blocks.
pub fn check_references(document: &Value) -> Vec<BlockReferences> {
    let Value::Object(fields) = document else {
        return Vec::new();
    };
    let declared = declared_names(fields);
    let mut ignored = BTreeSet::new();
    dynamic_iterators(document, &mut ignored);
    let mut blocks: Vec<(String, String, &Value)> = Vec::new();
    for (section, value) in fields {
        match (section.as_str(), value) {
            ("resource" | "data", Value::Object(types)) => {
                let prefix = if section == "data" { "data." } else { "" };
                for (type_name, instances) in types {
                    for (name, body) in instances.as_object().into_iter().flatten() {
                        blocks.push((
                            format!("{prefix}{type_name}.{name}"),
                            format!("/{section}/{type_name}/{name}"),
                            body,
                        ));
                    }
                }
            }
            ("output", Value::Object(outputs)) => {
                for (name, body) in outputs {
                    blocks.push((format!("output.{name}"), format!("/output/{name}"), body));
                }
            }
            (COMMENT_KEY, _) => {}
            _ => blocks.push((section.clone(), format!("/{section}"), value)),
        }
    }
    blocks
        .into_iter()
        .filter_map(|(address, mut pointer, body)| {
            let mut scan = Scan::default();
            scan_value(body, &mut pointer, &ignored, &mut scan);
            let undeclared: Vec<String> = scan
                .references
                .into_iter()
                .filter(|r| !declared.contains(r))
                .collect();
            (!undeclared.is_empty() || !scan.problems.is_empty()).then_some(BlockReferences {
                address,
                undeclared,
                problems: scan.problems,
            })
        })
        .collect()
}

/// Every reference in a whole `cdk.tf.json` document that names nothing declared in it, sorted
/// and deduplicated: `aws_vpc.main`, `data.aws_region.current`, `var.x`, `local.x`,
/// `module.x`. See [`check_references`] for what is scanned.
pub fn undeclared_references(document: &Value) -> Vec<String> {
    let all: BTreeSet<String> = check_references(document)
        .into_iter()
        .flat_map(|block| block.undeclared)
        .collect();
    all.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// (reason, document, expected undeclared references).
    #[test]
    fn undeclared_reference_cases() {
        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            (
                "declared resource, data, var and local references are fine",
                json!({
                    "variable": {"env": {}}, "locals": {"tags": {}},
                    "data": {"aws_region": {"current": {}}},
                    "resource": {"aws_vpc": {"main": {"cidr_block": "10.0.0.0/16"}},
                                 "aws_subnet": {"a": {"vpc_id": "${aws_vpc.main.id}",
                                    "tags": {"r": "${data.aws_region.current.name}-${var.env}", "t": "${local.tags}"}}}}
                }),
                vec![],
            ),
            (
                "undeclared references of every kind are found, sorted and deduplicated",
                json!({"resource": {"aws_subnet": {"a": {
                    "vpc_id": "${aws_vpc.main.id}", "x": ["${aws_vpc.main.arn}", "${var.env}"],
                    "y": {"z": "${local.t} ${data.aws_region.current.name} ${module.net.id}"}}}}}),
                vec![
                    "aws_vpc.main",
                    "data.aws_region.current",
                    "local.t",
                    "module.net",
                    "var.env",
                ],
            ),
            (
                "references inside function arguments are inspected; the function name is not",
                json!({"resource": {"aws_subnet": {"a": {
                    "cidr_block": "${cidrsubnet(aws_vpc.main.cidr_block, 8, 1)}",
                    "tags": "${merge(local.base, {Name = join(\"-\", [var.env, \"x\"])})}"}}}}),
                vec!["aws_vpc.main", "local.base", "var.env"],
            ),
            (
                "path, each, count, self and terraform are not declarations to look for",
                json!({"resource": {"aws_s3_object": {"o": {
                    "source": "${path.module}/f", "key": "${each.key}-${count.index}",
                    "etag": "${self.id}", "w": "${terraform.workspace}"}}}}),
                vec![],
            ),
            (
                "the \"//\" metadata key is skipped at every depth",
                json!({"//": {"x": "${aws_vpc.gone.id}"},
                       "resource": {"aws_vpc": {"m": {"//": {"y": "${var.gone}"}}}}}),
                vec![],
            ),
            (
                "for-expression variables and dynamic iterators are not resources",
                json!({"resource": {"aws_security_group": {"g": {
                    "ids": "${[for sub_net in aws_subnet.all : sub_net.id]}",
                    "dynamic": {"ingress": {"for_each": "${var.rules}", "iterator": "in_rule",
                        "content": {"from_port": "${in_rule.value.port}"}}}}}}}),
                vec!["aws_subnet.all", "var.rules"],
            ),
            (
                "indexes and splats still name the resource; strings in expressions are scanned",
                json!({"resource": {"aws_route": {"r": {
                    "a": "${aws_subnet.a[0].id}", "b": "${aws_subnet.b.*.id}",
                    "c": "${jsonencode({\"x\" = \"${aws_kms_key.k.arn}\"})}"}}}}),
                vec!["aws_kms_key.k", "aws_subnet.a", "aws_subnet.b"],
            ),
            (
                "both arms of a conditional are references; provider functions are not",
                json!({"output": {"o": {"value":
                    "${var.on ? aws_vpc.a.id : aws_vpc.b.id} ${provider::aws::arn_parse(local.arn)}"}}}),
                vec!["aws_vpc.a", "aws_vpc.b", "local.arn", "var.on"],
            ),
            (
                "escaped $${...} is a literal and template directives are scanned",
                json!({"output": {"o": {"value": "$${aws_vpc.literal.id} %{ if var.flag }y%{ endif }"}}}),
                vec!["var.flag"],
            ),
            (
                "locals given as an array of objects and data without a name are handled",
                json!({"locals": [{"a": 1}], "output": {"o": {"value": "${local.a} ${data.aws_region}"}}}),
                vec!["data.aws_region"],
            ),
        ];
        for (reason, doc, expected) in cases {
            assert_eq!(undeclared_references(&doc), expected, "case: {reason}");
        }
    }

    /// `${"` nested far deeper than any stack allows a recursive scanner to go.
    fn nested_quotes(depth: usize) -> String {
        format!("{}x{}", "${\"".repeat(depth), "\"}".repeat(depth))
    }

    #[test]
    fn deep_nesting_is_refused_without_exhausting_the_stack() {
        let text = nested_quotes(200_000);
        let error = for_each_template_expr(&text, &mut |_| {}).unwrap_err();
        assert!(matches!(error, TemplateError::TooDeep { .. }), "{error}");
        // The bound itself is read as a template; one more level is not.
        let mut found = 0;
        for_each_template_expr(&nested_quotes(MAX_TEMPLATE_DEPTH), &mut |_| found += 1).unwrap();
        assert_eq!(found, 1);
        let error = for_each_template_expr(&nested_quotes(MAX_TEMPLATE_DEPTH + 1), &mut |_| {});
        assert!(matches!(error, Err(TemplateError::TooDeep { .. })), "{error:?}");
    }

    /// (reason, string, expected error or None).
    #[test]
    fn malformed_templates_are_errors() {
        let unterminated = |opener, at| Some(TemplateError::Unterminated { opener, at });
        let cases: Vec<(&str, String, Option<TemplateError>)> = vec![
            ("plain text", "tenant-a".into(), None),
            ("closed interpolation", "${var.a}-x".into(), None),
            ("escaped interpolation", "$${var.a".into(), None),
            ("escape inside a quoted string", "${\"$${\"}".into(), None),
            ("a lone dollar", "cost $5 {x}".into(), None),
            (
                "unclosed interpolation",
                "a-${var.a".into(),
                unterminated("${", 2),
            ),
            (
                "unclosed directive",
                "%{ if x }".replace('}', ""),
                unterminated("%{", 0),
            ),
            ("unclosed quote", "${\"abc}".into(), unterminated("${", 0)),
            ("open-open-open", "${${${".into(), unterminated("${", 0)),
            (
                "closed first, then unclosed",
                "${a.b} ${".into(),
                unterminated("${", 7),
            ),
            (
                "too long",
                format!("${{a.b}}{}", "x".repeat(MAX_TEMPLATE_BYTES)),
                Some(TemplateError::TooLong {
                    len: MAX_TEMPLATE_BYTES + 6,
                }),
            ),
        ];
        for (reason, text, expected) in cases {
            assert_eq!(
                for_each_template_expr(&text, &mut |_| {}).err(),
                expected,
                "case: {reason}"
            );
        }
    }

    #[test]
    fn blocks_carry_their_address_undeclared_references_and_template_problems() {
        let document = json!({
            "resource": {"aws_vpc": {
                "main": {"cidr_block": "10.0.0.0/16"},
                "bad": {"tags": {"Name": "${aws_vpc.main.id", "Other": "${var.gone}"}}
            }},
            "output": {"o": {"value": "${aws_vpc.nope.id}"}}
        });
        let blocks = check_references(&document);
        assert_eq!(
            blocks,
            [
                BlockReferences {
                    address: "output.o".into(),
                    undeclared: vec!["aws_vpc.nope".into()],
                    problems: vec![],
                },
                BlockReferences {
                    address: "aws_vpc.bad".into(),
                    undeclared: vec!["var.gone".into()],
                    problems: vec![TemplateProblem {
                        pointer: "/resource/aws_vpc/bad/tags/Name".into(),
                        error: TemplateError::Unterminated { opener: "${", at: 0 },
                    }],
                },
            ]
        );
    }

    /// A problem's pointer escapes `~` and `/` in keys (RFC 6901) and counts list items.
    #[test]
    fn problem_pointers_escape_keys_and_count_items() {
        let document = json!({"resource": {"aws_s3_object": {"o": {
            "tags": {"a/b~c": ["fine", "${unterminated"]}
        }}}});
        let blocks = check_references(&document);
        let pointers: Vec<&str> = blocks[0].problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(pointers, ["/resource/aws_s3_object/o/tags/a~1b~0c/1"]);
    }

    #[test]
    fn called_functions_are_found_at_every_depth() {
        let cases: [(&str, &[&str]); 5] = [
            ("arn:aws:s3:::${aws_s3_bucket.data.bucket}/*", &[]),
            (
                "arn:aws:s3:::${format(\"tenant-%s-data-dev\", \"retail-co\")}/*",
                &["format"],
            ),
            ("${join(\"-\", [\"tenant\", lower(var.x)])}", &["join", "lower"]),
            ("${\"${replace(\"a\", \"b\", \"c\")}\"}", &["replace"]),
            ("${provider::aws::arn_parse(local.arn).region}", &["arn_parse"]),
        ];
        for (text, expected) in cases {
            let found = called_functions(text).unwrap();
            assert_eq!(
                found.iter().map(String::as_str).collect::<Vec<_>>(),
                expected,
                "{text}"
            );
        }
        assert!(called_functions("${format(").is_err());
    }
}
