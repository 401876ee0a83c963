//! Everything the stack creates can be destroyed by `terraform destroy` alone.

use super::DESTROYABLE;
use tenant_plugin_sdk::prelude::*;

/// Attributes that make AWS refuse to delete a resource, across resource types.
const DELETION_PROTECTION: [&str; 3] = [
    "deletion_protection",
    "deletion_protection_enabled",
    "enable_deletion_protection",
];

pub(super) fn check(stack: &StackDocument) -> Vec<Finding> {
    let mut findings = Vec::new();
    for block in stack
        .blocks()
        .filter(|block| block.kind == tenant_plugin_sdk::BlockKind::Resource)
    {
        let address = block.address();
        for attribute in DELETION_PROTECTION
            .iter()
            .filter(|attribute| block.body[**attribute] == true)
        {
            findings.push(DESTROYABLE.finding(
                address.clone(),
                format!("`{address}` sets {attribute} = true, so destroying the stack fails"),
                "Set it to false: test environments must be destroyable.",
            ));
        }
        if block.body["lifecycle"]["prevent_destroy"] == true {
            findings.push(DESTROYABLE.finding(
                address.clone(),
                format!(
                    "`{address}` sets lifecycle.prevent_destroy, so terraform refuses to destroy the stack"
                ),
                "Remove prevent_destroy.",
            ));
        }
        if block.type_name == "aws_s3_bucket" && block.body["force_destroy"] != true {
            findings.push(DESTROYABLE.finding(
                address.clone(),
                format!(
                    "`{address}` does not set force_destroy, so destroying it fails while it holds objects"
                ),
                "Set force_destroy = true on the bucket.",
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{addresses_found, complying_document, edited};
    use super::*;

    #[test]
    fn destroyable() {
        let cases: &[(&str, Value, &[&str])] = &[
            ("the synthesized stack", complying_document(), &[]),
            (
                "a protected table",
                edited(
                    "/resource/aws_dynamodb_table/metadata/deletion_protection_enabled",
                    Some(json!(true)),
                ),
                &["aws_dynamodb_table.metadata"],
            ),
            (
                "a bucket that keeps its objects",
                edited("/resource/aws_s3_bucket/data/force_destroy", Some(json!(false))),
                &["aws_s3_bucket.data"],
            ),
            (
                "a bucket left to the default",
                edited("/resource/aws_s3_bucket/data/force_destroy", None),
                &["aws_s3_bucket.data"],
            ),
            (
                "another plugin's protected load balancer",
                edited(
                    "/resource/aws_lb",
                    Some(json!({"api": {"enable_deletion_protection": true}})),
                ),
                &["aws_lb.api"],
            ),
            (
                "terraform's own guard",
                edited(
                    "/resource/aws_kms_key/tenant/lifecycle",
                    Some(json!({"prevent_destroy": true})),
                ),
                &["aws_kms_key.tenant"],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(DESTROYABLE, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }
}
