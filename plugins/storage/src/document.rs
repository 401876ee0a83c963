//! Reading composed stacks: references between blocks, nested blocks and policy documents.

use tenant_plugin_sdk::TerraformBlock;
use tenant_plugin_sdk::prelude::*;

/// Whether `value` is exactly an interpolation of one attribute of the block at `address`, e.g.
/// `${aws_s3_bucket.data.id}` for `aws_s3_bucket.data`.
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

/// The blocks of a nested block type: Terraform JSON allows one object or a list of them.
pub fn nested<'v>(body: &'v Value, key: &str) -> Vec<&'v Value> {
    match body.get(key) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    }
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

/// The statements of a policy held as a JSON string; `Statement` may be one object or a list.
pub fn policy_statements(policy: &str) -> Result<Vec<Value>, String> {
    let document: Value =
        serde_json::from_str(policy).map_err(|e| format!("the policy is not JSON ({e})"))?;
    match document.get("Statement") {
        Some(Value::Array(statements)) => Ok(statements.clone()),
        Some(statement @ Value::Object(_)) => Ok(vec![statement.clone()]),
        _ => Err("the policy has no Statement".to_owned()),
    }
}

/// A policy element that is one string or a list of strings (`Action`, `Resource`).
pub fn one_or_many(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_references() {
        let cases = [
            (
                "an attribute of the block",
                "${aws_s3_bucket.data.id}",
                "aws_s3_bucket.data",
                true,
            ),
            (
                "another block whose name extends this one",
                "${aws_s3_bucket.data2.id}",
                "aws_s3_bucket.data",
                false,
            ),
            (
                "the block itself without attribute",
                "${aws_s3_bucket.data}",
                "aws_s3_bucket.data",
                false,
            ),
            (
                "text around the reference",
                "${aws_s3_bucket.data.arn}/*",
                "aws_s3_bucket.data",
                false,
            ),
            (
                "a literal name",
                "tenant-acme-corp-data-dev",
                "aws_s3_bucket.data",
                false,
            ),
        ];
        for (reason, value, address, expected) in cases {
            assert_eq!(is_reference_to(value, address), expected, "{reason}");
        }
    }

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

    #[test]
    fn reads_single_and_listed_statements() {
        assert_eq!(
            policy_statements(r#"{"Statement": {"Effect": "Allow"}}"#)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(policy_statements(r#"{"Statement": [{}, {}]}"#).unwrap().len(), 2);
        assert!(policy_statements("${data.aws_iam_policy_document.x.json}").is_err());
        assert!(policy_statements("{}").is_err());
    }
}
