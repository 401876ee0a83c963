//! Bucket rules: versioning, public access block, KMS default encryption.

use super::{BUCKET_ENCRYPTED_WITH_KMS, BUCKET_PUBLIC_ACCESS_BLOCKED, BUCKET_VERSIONING_ENABLED};
use crate::document::bucket_configurations;
use tenant_plugin_sdk::document::{is_reference_to, nested_blocks};
use tenant_plugin_sdk::prelude::*;

const PUBLIC_ACCESS_SETTINGS: [&str; 4] = [
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

pub(super) fn check(stack: &StackDocument) -> Vec<Finding> {
    let mut findings = Vec::new();
    for bucket in stack.resources_of("aws_s3_bucket") {
        let address = bucket.address();

        let versioned = bucket_configurations(stack, "aws_s3_bucket_versioning", &bucket).any(|versioning| {
            nested_blocks(versioning.body, "versioning_configuration")
                .any(|configuration| configuration["status"] == "Enabled")
        });
        if !versioned {
            findings.push(BUCKET_VERSIONING_ENABLED.finding(address.clone(),
                format!("`{address}` has no aws_s3_bucket_versioning with status Enabled"),
                "Add an aws_s3_bucket_versioning for the bucket with versioning_configuration status \"Enabled\".",
            ));
        }

        let blocked =
            bucket_configurations(stack, "aws_s3_bucket_public_access_block", &bucket).any(|block| {
                PUBLIC_ACCESS_SETTINGS
                    .iter()
                    .all(|setting| block.body[setting] == true)
            });
        if !blocked {
            findings.push(BUCKET_PUBLIC_ACCESS_BLOCKED.finding(
                address.clone(),
                format!(
                    "`{address}` has no aws_s3_bucket_public_access_block setting all of {}",
                    PUBLIC_ACCESS_SETTINGS.join(", ")
                ),
                "Add an aws_s3_bucket_public_access_block for the bucket with all four settings true.",
            ));
        }

        let encryptions: Vec<_> = bucket_configurations(
            stack,
            "aws_s3_bucket_server_side_encryption_configuration",
            &bucket,
        )
        .collect();
        let encrypted = !encryptions.is_empty()
            && encryptions.iter().all(|encryption| {
                let defaults: Vec<_> = nested_blocks(encryption.body, "rule")
                    .flat_map(|rule| nested_blocks(rule, "apply_server_side_encryption_by_default"))
                    .collect();
                !defaults.is_empty() && defaults.iter().all(|default| uses_stack_key(stack, default))
            });
        if !encrypted {
            findings.push(BUCKET_ENCRYPTED_WITH_KMS.finding(address.clone(),
                format!("`{address}` is not encrypted by default with aws:kms and a KMS key of stack `{}`", stack.stack),
                "Add an aws_s3_bucket_server_side_encryption_configuration with sse_algorithm \"aws:kms\" and kms_master_key_id referencing the stack's aws_kms_key.",
            ));
        }
    }
    findings
}

/// Whether a default-encryption block uses SSE-KMS (or DSSE-KMS) with a key declared in `stack`.
fn uses_stack_key(stack: &StackDocument, default: &Value) -> bool {
    let algorithm = default["sse_algorithm"].as_str();
    let key = default["kms_master_key_id"].as_str().unwrap_or_default();
    matches!(algorithm, Some("aws:kms" | "aws:kms:dsse"))
        && stack
            .resources_of("aws_kms_key")
            .any(|stack_key| is_reference_to(key, &stack_key.address()))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{addresses_found, complying_document, edited};
    use super::*;

    const BUCKET: &str = "aws_s3_bucket.data";

    #[test]
    fn versioning() {
        let cases: &[(&str, Value, &[&str])] = &[
            ("the synthesized bucket is versioned", complying_document(), &[]),
            (
                "versioning only suspended",
                edited(
                    "/resource/aws_s3_bucket_versioning/data/versioning_configuration/0/status",
                    Some(json!("Suspended")),
                ),
                &[BUCKET],
            ),
            (
                "no versioning resource",
                edited("/resource/aws_s3_bucket_versioning", None),
                &[BUCKET],
            ),
            (
                "versioning configures another bucket",
                edited(
                    "/resource/aws_s3_bucket_versioning/data/bucket",
                    Some(json!("${aws_s3_bucket.other.id}")),
                ),
                &[BUCKET],
            ),
            (
                "versioning names the bucket literally",
                edited(
                    "/resource/aws_s3_bucket_versioning/data/bucket",
                    Some(json!("tenant-acme-corp-data-dev")),
                ),
                &[],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(BUCKET_VERSIONING_ENABLED, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }

    #[test]
    fn public_access_block() {
        let cases: &[(&str, Value, &[&str])] = &[
            ("all four settings true", complying_document(), &[]),
            (
                "public policies allowed",
                edited(
                    "/resource/aws_s3_bucket_public_access_block/data/block_public_policy",
                    Some(json!(false)),
                ),
                &[BUCKET],
            ),
            (
                "a setting left to its default",
                edited(
                    "/resource/aws_s3_bucket_public_access_block/data/ignore_public_acls",
                    None,
                ),
                &[BUCKET],
            ),
            (
                "no public access block",
                edited("/resource/aws_s3_bucket_public_access_block", None),
                &[BUCKET],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(BUCKET_PUBLIC_ACCESS_BLOCKED, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }

    #[test]
    fn kms_encryption() {
        const DEFAULT: &str = "/resource/aws_s3_bucket_server_side_encryption_configuration/data/rule/0/apply_server_side_encryption_by_default/0";
        let cases: &[(&str, Value, &[&str])] = &[
            ("the stack's key", complying_document(), &[]),
            (
                "S3-managed keys",
                edited(&format!("{DEFAULT}/sse_algorithm"), Some(json!("AES256"))),
                &[BUCKET],
            ),
            (
                "a key of another stack, by ARN",
                edited(
                    &format!("{DEFAULT}/kms_master_key_id"),
                    Some(json!("arn:aws:kms:us-east-1:111122223333:key/abcd")),
                ),
                &[BUCKET],
            ),
            (
                "the AWS managed key",
                edited(&format!("{DEFAULT}/kms_master_key_id"), None),
                &[BUCKET],
            ),
            (
                "no encryption configuration",
                edited(
                    "/resource/aws_s3_bucket_server_side_encryption_configuration",
                    None,
                ),
                &[BUCKET],
            ),
            (
                "the referenced key is not in the stack",
                edited("/resource/aws_kms_key", None),
                &[BUCKET],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(BUCKET_ENCRYPTED_WITH_KMS, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }
}
