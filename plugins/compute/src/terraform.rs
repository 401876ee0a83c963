//! Reading composed Terraform JSON: nested blocks and references between blocks.

use tenant_plugin_sdk::BlockKind;
use tenant_plugin_sdk::prelude::*;

/// A nested block such as `vpc_config`: Terraform JSON writes it as a list of one object, but an
/// object on its own is accepted too.
pub fn nested<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    match body.get(key)? {
        Value::Array(items) => items.first(),
        object @ Value::Object(_) => Some(object),
        _ => None,
    }
}

/// The `(type, name)` of the resource a whole-string interpolation such as
/// `${aws_sqs_queue.api_dlq.arn}` refers to.
pub fn referenced_resource(value: &str) -> Option<(&str, &str)> {
    let expression = value.strip_prefix("${")?.strip_suffix('}')?;
    let mut parts = expression.split('.');
    let (type_name, name, _attribute) = (parts.next()?, parts.next()?, parts.next()?);
    (type_name.starts_with("aws_") && parts.next().is_none()).then_some((type_name, name))
}

/// The body of the resource `value` refers to, if the stack declares it.
pub fn resolve<'a>(stack: &'a StackDocument, value: &str) -> Option<(&'a str, &'a Value)> {
    let (type_name, name) = referenced_resource(value)?;
    stack
        .blocks()
        .find(|block| block.kind == BlockKind::Resource && block.type_name == type_name && block.name == name)
        .map(|block| (block.type_name, block.body))
}

/// Whether `value` refers to a KMS key (or an alias of one) that this stack declares.
pub fn is_key_of_stack(stack: &StackDocument, value: Option<&Value>) -> bool {
    value
        .and_then(Value::as_str)
        .and_then(|value| resolve(stack, value))
        .is_some_and(|(type_name, _)| matches!(type_name, "aws_kms_key" | "aws_kms_alias"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_whole_string_references_only() {
        let cases = [
            (
                "${aws_sqs_queue.api_dlq.arn}",
                Some(("aws_sqs_queue", "api_dlq")),
                "an attribute reference",
            ),
            (
                "${data.aws_kms_key.x.arn}",
                None,
                "a data source is not a resource of the stack",
            ),
            ("arn:aws:sqs:us-east-1:1:q", None, "a literal ARN"),
            ("${aws_sqs_queue.api_dlq}", None, "no attribute"),
            (
                "prefix-${aws_sqs_queue.q.arn}",
                None,
                "an interpolation inside text",
            ),
        ];
        for (value, expected, reason) in cases {
            assert_eq!(referenced_resource(value), expected, "{reason}");
        }
    }

    #[test]
    fn nested_blocks_are_read_from_lists_or_objects() {
        let body = json!({"a": [{"x": 1}], "b": {"x": 2}, "c": [], "d": "text"});
        assert_eq!(nested(&body, "a"), Some(&json!({"x": 1})));
        assert_eq!(nested(&body, "b"), Some(&json!({"x": 2})));
        assert_eq!(nested(&body, "c"), None);
        assert_eq!(nested(&body, "d"), None);
    }
}
