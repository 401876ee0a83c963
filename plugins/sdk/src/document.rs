//! Read access to composed stacks, for check functions: the stack and its blocks, and small
//! readers for Terraform JSON bodies and the references between blocks.
//!
//! Terraform JSON writes a nested block as a list of objects, but accepts a single object too;
//! a list of strings may likewise be a single string. The readers here accept both shapes, so
//! every check reads bodies the same way whichever plugin (or hand) wrote them.

use crate::{BlockKind, Tenant};
use serde_json::Value;

/// A composed stack as the host will write it.
#[derive(Debug, Clone, PartialEq)]
pub struct StackDocument {
    /// The stack's name.
    pub stack: String,
    /// The tenant; `None` for the central stack.
    pub tenant: Option<Tenant>,
    /// The whole `cdk.tf.json` document.
    pub document: Value,
}

/// One resource or data source of a [`StackDocument`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TerraformBlock<'a> {
    /// Resource or data source.
    pub kind: BlockKind,
    /// Provider type.
    pub type_name: &'a str,
    /// Local name.
    pub name: &'a str,
    /// Body.
    pub body: &'a Value,
}

impl TerraformBlock<'_> {
    /// The Terraform address, e.g. `aws_vpc.tenant`.
    pub fn address(&self) -> String {
        crate::Reference::new(self.kind, self.type_name, self.name).address()
    }
}

impl StackDocument {
    /// Every resource and data source, in the document's (sorted) order.
    pub fn blocks(&self) -> impl Iterator<Item = TerraformBlock<'_>> {
        [("resource", BlockKind::Resource), ("data", BlockKind::Data)]
            .into_iter()
            .flat_map(move |(section, kind)| {
                self.document
                    .get(section)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .flat_map(move |(type_name, by_name)| {
                        by_name
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(move |(name, body)| TerraformBlock {
                                kind,
                                type_name,
                                name,
                                body,
                            })
                    })
            })
    }

    /// The resources of one type.
    pub fn resources_of<'a>(&'a self, type_name: &'a str) -> impl Iterator<Item = TerraformBlock<'a>> {
        self.blocks()
            .filter(move |b| b.kind == BlockKind::Resource && b.type_name == type_name)
    }
}

/// The nested blocks under `key`: the elements of an array, or the value itself if it is one
/// object. Anything else (missing, a string, a number) gives none.
pub fn nested_blocks<'a>(body: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    let value = body.get(key);
    let many = value.and_then(Value::as_array).into_iter().flatten();
    let one = value.filter(|v| v.is_object());
    many.chain(one)
}

/// The first nested block under `key`, for block types that occur once (`vpc_config`,
/// `dead_letter_config`): the first element of an array, or the value itself if it is one object.
pub fn nested_block<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    nested_blocks(body, key).next()
}

/// The strings under `key`: the string elements of an array, or the value itself if it is a
/// string.
pub fn strings<'a>(body: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    let value = body.get(key);
    let many = value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    let one = value.and_then(Value::as_str);
    many.chain(one)
}

/// The string attribute `key`, if present.
pub fn string<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// Whether `value` is exactly an interpolation of one attribute of the block at `address`, e.g.
/// `${aws_s3_bucket.data.id}` for `aws_s3_bucket.data`. Text around the interpolation, the block
/// without an attribute, or a block whose name merely starts with the same letters do not count.
pub fn is_reference_to(value: &str, address: &str) -> bool {
    value
        .strip_prefix("${")
        .and_then(|inner| inner.strip_suffix('}'))
        .and_then(|inner| inner.strip_prefix(address))
        .and_then(|rest| rest.strip_prefix('.'))
        .is_some_and(|attribute| {
            !attribute.is_empty() && attribute.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// The `(type, name)` of the AWS resource a whole-string interpolation of one of its attributes
/// refers to: `${aws_sqs_queue.api_dlq.arn}` gives `("aws_sqs_queue", "api_dlq")`. Data sources,
/// text around the interpolation and references without an attribute give `None`.
pub fn referenced_resource(value: &str) -> Option<(&str, &str)> {
    let expression = value.strip_prefix("${")?.strip_suffix('}')?;
    let mut parts = expression.split('.');
    let (type_name, name, _attribute) = (parts.next()?, parts.next()?, parts.next()?);
    (type_name.starts_with("aws_") && parts.next().is_none()).then_some((type_name, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_resources_and_data_sources() {
        let doc = StackDocument {
            stack: "s".into(),
            tenant: None,
            document: json!({
                "resource": {"aws_vpc": {"a": {}, "b": {}}, "aws_subnet": {"c": {}}},
                "data": {"aws_region": {"current": {}}}
            }),
        };
        let addresses: Vec<_> = doc.blocks().map(|b| b.address()).collect();
        assert_eq!(
            addresses,
            [
                "aws_subnet.c",
                "aws_vpc.a",
                "aws_vpc.b",
                "data.aws_region.current"
            ]
        );
        assert_eq!(doc.resources_of("aws_vpc").count(), 2);
    }

    #[test]
    fn reads_blocks_and_strings_in_either_shape() {
        let body = json!({"many": [{"a": 1}, {"a": 2}], "one": {"a": 3}, "list": ["x", "y"], "text": "z", "empty": []});
        assert_eq!(nested_blocks(&body, "many").count(), 2);
        assert_eq!(nested_blocks(&body, "one").count(), 1);
        assert_eq!(nested_blocks(&body, "text").count(), 0);
        assert_eq!(nested_blocks(&body, "missing").count(), 0);
        assert_eq!(nested_block(&body, "many"), Some(&json!({"a": 1})));
        assert_eq!(nested_block(&body, "one"), Some(&json!({"a": 3})));
        assert_eq!(nested_block(&body, "empty"), None);
        assert_eq!(nested_block(&body, "text"), None);
        assert_eq!(strings(&body, "list").collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(strings(&body, "text").collect::<Vec<_>>(), ["z"]);
        assert_eq!(strings(&body, "one").count(), 0);
        assert_eq!(string(&body, "text"), Some("z"));
        assert_eq!(string(&body, "list"), None);
    }

    #[test]
    fn recognises_references_to_one_block() {
        let cases = [
            ("${aws_s3_bucket.data.id}", true, "an attribute of the block"),
            (
                "${aws_s3_bucket.data2.id}",
                false,
                "a block whose name extends this one",
            ),
            (
                "${aws_s3_bucket.data}",
                false,
                "the block itself without attribute",
            ),
            ("${aws_s3_bucket.data.arn}/*", false, "text around the reference"),
            ("tenant-acme-corp-data-dev", false, "a literal name"),
        ];
        for (value, expected, reason) in cases {
            assert_eq!(is_reference_to(value, "aws_s3_bucket.data"), expected, "{reason}");
        }
    }

    #[test]
    fn parses_whole_string_resource_references_only() {
        let cases = [
            (
                "${aws_sqs_queue.api_dlq.arn}",
                Some(("aws_sqs_queue", "api_dlq")),
                "an attribute reference",
            ),
            ("${data.aws_kms_key.x.arn}", None, "a data source"),
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
}
