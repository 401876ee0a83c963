//! Checks a body against a parsed schema: names, required attributes and blocks, block counts
//! and value shapes, collecting every problem with its path in the body.

use super::template::is_template;
use super::{AttrType, Block, COMMENT_KEY, META_ARGUMENTS, NestedBlock, Nesting, ProblemKind, SchemaProblem};
use serde_json::{Map, Value};

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

fn key(path: &str, k: &str) -> String {
    format!("{path}[{}]", Value::String(k.to_owned()))
}

pub(super) fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn check_block(
    block: &Block,
    body: &Map<String, Value>,
    path: &str,
    top_level: bool,
    problems: &mut Vec<SchemaProblem>,
) {
    for (name, value) in body {
        if name == COMMENT_KEY
            || (top_level
                && META_ARGUMENTS.contains(&name.as_str())
                && !block.attributes.contains_key(name)
                && !block.block_types.contains_key(name))
        {
            continue;
        }
        let here = join(path, name);
        if let Some(attr) = block.attributes.get(name) {
            if attr.computed && !attr.required && !attr.optional {
                problems.push(SchemaProblem {
                    path: here,
                    message: format!("`{name}` is computed by the provider and cannot be set; remove it"),
                    kind: ProblemKind::ComputedOnly,
                });
            } else {
                check_value(&attr.ty, value, &here, problems);
            }
        } else if let Some(nested) = block.block_types.get(name) {
            check_nested(nested, value, &here, problems);
        } else {
            problems.push(SchemaProblem {
                path: here,
                message: format!(
                    "unknown attribute or block `{name}`; check the spelling against the provider schema"
                ),
                kind: ProblemKind::UnknownName,
            });
        }
    }
    for (name, attr) in &block.attributes {
        if attr.required && body.get(name).is_none_or(Value::is_null) {
            problems.push(SchemaProblem {
                path: join(path, name),
                message: format!("missing required attribute `{name}`"),
                kind: ProblemKind::MissingAttribute,
            });
        }
    }
    for (name, nested) in &block.block_types {
        if nested.min_items > 0 && body.get(name).is_none_or(Value::is_null) {
            problems.push(SchemaProblem {
                path: join(path, name),
                message: format!(
                    "missing required block `{name}` (at least {} expected)",
                    nested.min_items
                ),
                kind: ProblemKind::MissingBlock,
            });
        }
    }
}

fn check_nested(nested: &NestedBlock, value: &Value, path: &str, problems: &mut Vec<SchemaProblem>) {
    // (path, body) of every block instance given.
    let mut items: Vec<(String, &Value)> = Vec::new();
    match (nested.nesting, value) {
        // Absence is reported by the parent's required-block check.
        (_, Value::Null) => return,
        (Nesting::Map, Value::Object(labelled)) => {
            items.extend(labelled.iter().map(|(label, body)| (key(path, label), body)));
        }
        (_, Value::Object(_)) => items.push((path.to_owned(), value)),
        (Nesting::Map, _) => {
            problems.push(SchemaProblem {
                path: path.to_owned(),
                message: format!(
                    "a map block must be an object of labelled objects, not {}",
                    shape(value)
                ),
                kind: ProblemKind::BlockShape,
            });
            return;
        }
        (_, Value::Array(list)) => {
            items.extend(list.iter().enumerate().map(|(i, v)| (index(path, i), v)));
        }
        (_, other) => {
            problems.push(SchemaProblem {
                path: path.to_owned(),
                message: format!(
                    "a block must be an object or an array of objects, not {}",
                    shape(other)
                ),
                kind: ProblemKind::BlockShape,
            });
            return;
        }
    }
    let given = items.len() as u64;
    if given < nested.min_items {
        problems.push(SchemaProblem {
            path: path.to_owned(),
            message: format!("{given} block(s) given, at least {} required", nested.min_items),
            kind: ProblemKind::MissingBlock,
        });
    }
    if let Some(max) = nested.max_items
        && given > max
    {
        problems.push(SchemaProblem {
            path: path.to_owned(),
            message: format!("{given} blocks given, at most {max} allowed"),
            kind: ProblemKind::TooManyBlocks,
        });
    }
    for (item_path, item) in items {
        match item {
            Value::Object(body) => check_block(&nested.block, body, &item_path, false, problems),
            other => problems.push(SchemaProblem {
                path: item_path,
                message: format!("a block must be a JSON object, not {}", shape(other)),
                kind: ProblemKind::BlockShape,
            }),
        }
    }
}

fn check_value(ty: &AttrType, value: &Value, path: &str, problems: &mut Vec<SchemaProblem>) {
    if value.is_null() {
        return;
    }
    if let Value::String(s) = value
        && is_template(s)
    {
        return;
    }
    let ok = match (ty, value) {
        (AttrType::Dynamic, _) => true,
        (AttrType::String, v) => matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)),
        (AttrType::Number, Value::Number(_)) => true,
        (AttrType::Number, Value::String(s)) => is_decimal_number(s),
        (AttrType::Bool, Value::Bool(_)) => true,
        (AttrType::Bool, Value::String(s)) => matches!(s.as_str(), "true" | "false" | "1" | "0"),
        (AttrType::List(elem) | AttrType::Set(elem), Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_value(elem, item, &index(path, i), problems);
            }
            true
        }
        (AttrType::Map(elem), Value::Object(entries)) => {
            for (k, v) in entries {
                check_value(elem, v, &key(path, k), problems);
            }
            true
        }
        (AttrType::Object { fields, optional }, Value::Object(given)) => {
            for (name, v) in given {
                match fields.get(name) {
                    Some(field_ty) => check_value(field_ty, v, &join(path, name), problems),
                    None => problems.push(SchemaProblem {
                        path: join(path, name),
                        message: format!("unknown object field `{name}`"),
                        kind: ProblemKind::UnknownName,
                    }),
                }
            }
            for name in fields.keys() {
                if !optional.contains(name) && given.get(name).is_none_or(Value::is_null) {
                    problems.push(SchemaProblem {
                        path: join(path, name),
                        message: format!("missing object field `{name}`"),
                        kind: ProblemKind::MissingAttribute,
                    });
                }
            }
            true
        }
        (AttrType::Tuple(types), Value::Array(items)) if types.len() == items.len() => {
            for (i, (t, item)) in types.iter().zip(items).enumerate() {
                check_value(t, item, &index(path, i), problems);
            }
            true
        }
        _ => false,
    };
    if !ok {
        let found = match value {
            Value::String(s) if matches!(ty, AttrType::Number | AttrType::Bool) => {
                format!("the string {}", Value::String(s.clone()))
            }
            Value::Array(items) if matches!(ty, AttrType::Tuple(_)) => {
                format!("an array of {}", items.len())
            }
            other => shape(other).to_owned(),
        };
        problems.push(SchemaProblem {
            path: path.to_owned(),
            message: format!("expected {}, found {found}", ty.describe()),
            kind: ProblemKind::WrongType,
        });
    }
}

/// Whether `s` parses as a decimal number the way Terraform converts strings to numbers:
/// optional sign, digits with an optional fraction, optional exponent. No `inf`/`nan`/hex.
fn is_decimal_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}
