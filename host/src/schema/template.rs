//! Scans Terraform template strings (`${...}`, `%{...}`) and the references they make.

use super::COMMENT_KEY;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Reference roots that never name something declared in the document.
const IGNORED_ROOTS: &[&str] = &["path", "each", "count", "self", "terraform"];

/// Whether a JSON string is a Terraform template with at least one `${..}` or `%{..}`.
pub(super) fn is_template(s: &str) -> bool {
    let mut found = false;
    for_each_template_expr(s, &mut |_| found = true);
    found
}

/// Calls `f` with the text inside every terminated `${...}` / `%{...}` in a template string,
/// skipping the `$${` / `%%{` escapes.
fn for_each_template_expr<'a>(s: &'a str, f: &mut dyn FnMut(&'a str)) {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        let open = matches!(b[i], b'$' | b'%') && b[i + 1] == b'{';
        let escaped = matches!(b[i], b'$' | b'%') && b[i + 1] == b[i] && b.get(i + 2) == Some(&b'{');
        if escaped {
            i += 3;
        } else if open {
            match expr_end(b, i + 2) {
                Some(end) => {
                    f(&s[i + 2..end]);
                    i = end + 1;
                }
                None => return,
            }
        } else {
            i += 1;
        }
    }
}

/// Index of the `}` closing an expression that starts at `start`, honouring nested braces and
/// quoted strings (which may hold templates of their own).
fn expr_end(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            b'"' => i = string_end(b, i + 1)?,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Index of the `"` closing a quoted string whose content starts at `start`.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'"' => return Some(i),
            b'$' | b'%' if b.get(i + 1) == Some(&b'{') => i = expr_end(b, i + 2)?,
            _ => {}
        }
        i += 1;
    }
    None
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
            let Some(end) = string_end(b, i + 1) else {
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
                for_each_template_expr(inner, &mut |e| expr_references(e, ignored, out));
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

fn collect_references(value: &Value, ignored: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    let mut scan = |s: &str| for_each_template_expr(s, &mut |e| expr_references(e, ignored, out));
    match value {
        Value::String(s) => scan(s),
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, ignored, out)),
        Value::Object(fields) => {
            for (k, v) in fields {
                if k == COMMENT_KEY {
                    continue;
                }
                for_each_template_expr(k, &mut |e| expr_references(e, ignored, out));
                collect_references(v, ignored, out);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Every reference in a whole `cdk.tf.json` document that names nothing declared in it, sorted
/// and deduplicated: `aws_vpc.main`, `data.aws_region.current`, `var.x`, `local.x`,
/// `module.x`.
///
/// All strings (and object keys) outside `"//"` keys are scanned for `${...}` / `%{...}`;
/// `path.`, `each.`, `count.`, `self.`, `terraform.`, `for` variables and `dynamic` iterators
/// are ignored; function names are skipped but their arguments are scanned. A document that is
/// not a JSON object has no references.
pub fn undeclared_references(document: &Value) -> Vec<String> {
    let Value::Object(fields) = document else {
        return Vec::new();
    };
    let declared = declared_names(fields);
    let mut ignored = BTreeSet::new();
    dynamic_iterators(document, &mut ignored);
    let mut found = BTreeSet::new();
    collect_references(document, &ignored, &mut found);
    found.retain(|r| !declared.contains(r));
    found.into_iter().collect()
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
}
