//! Reading composed stacks: the storage-specific references between blocks. Nested blocks,
//! whole references and policy statements are read with the SDK's `document` and `iam` readers.

use tenant_plugin_sdk::TerraformBlock;
use tenant_plugin_sdk::document::is_reference_to;
use tenant_plugin_sdk::prelude::*;

/// The name of the block `value` interpolates an attribute of, if it is a resource of
/// `type_name`: `${aws_s3_bucket.data.arn}/*` gives `data` and the rest `/*`.
pub fn referenced_resource<'v>(value: &'v str, type_name: &str) -> Option<(&'v str, &'v str)> {
    let inner = value
        .strip_prefix("${")?
        .strip_prefix(type_name)?
        .strip_prefix('.')?;
    let (expression, rest) = inner.split_once('}')?;
    let (name, _attribute) = expression.split_once('.')?;
    Some((name, rest))
}

/// The resources of `type_name` whose `bucket` attribute names `bucket`, by reference or by its
/// literal name.
pub fn bucket_configurations<'a>(
    stack: &'a StackDocument,
    type_name: &'a str,
    bucket: &TerraformBlock<'a>,
) -> impl Iterator<Item = TerraformBlock<'a>> {
    let address = bucket.address();
    let literal_name = bucket.body.get("bucket").and_then(Value::as_str);
    stack.resources_of(type_name).filter(move |configuration| {
        configuration
            .body
            .get("bucket")
            .and_then(Value::as_str)
            .is_some_and(|target| is_reference_to(target, &address) || Some(target) == literal_name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_resource_references() {
        let cases = [
            (
                "${aws_s3_bucket.data.arn}/*",
                "aws_s3_bucket",
                Some(("data", "/*")),
            ),
            (
                "${aws_dynamodb_table.metadata.arn}",
                "aws_dynamodb_table",
                Some(("metadata", "")),
            ),
            (
                "${aws_dynamodb_table_replica.metadata.arn}",
                "aws_dynamodb_table",
                None,
            ),
            ("arn:aws:s3:::tenant-acme-corp-data-dev", "aws_s3_bucket", None),
            ("*", "aws_s3_bucket", None),
        ];
        for (value, type_name, expected) in cases {
            assert_eq!(referenced_resource(value, type_name), expected, "{value}");
        }
    }
}
