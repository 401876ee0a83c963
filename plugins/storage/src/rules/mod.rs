//! The storage rules, checked over composed stacks. Each rule reads the document only, so it
//! judges what any plugin emitted, not what this plugin meant to emit.

mod buckets;
mod destroyable;
mod endpoints;
mod tables;
mod tiering;

use tenant_plugin_sdk::prelude::*;

/// Every object version is kept, so overwrites and deletes can be undone.
pub const BUCKET_VERSIONING_ENABLED: Rule = Rule::error(
    "storage.bucket-versioning-enabled",
    "Every S3 bucket has versioning Enabled.",
);
/// No bucket can become public through ACLs or policies.
pub const BUCKET_PUBLIC_ACCESS_BLOCKED: Rule = Rule::error(
    "storage.bucket-public-access-blocked",
    "Every S3 bucket has a public access block with all four settings true.",
);
/// Buckets are encrypted with a customer managed key of their own stack.
pub const BUCKET_ENCRYPTED_WITH_KMS: Rule = Rule::error(
    "storage.bucket-encrypted-with-kms",
    "Every S3 bucket's default encryption is aws:kms with a KMS key declared in the same stack.",
);
/// Tables can be restored to any second of the last 35 days.
pub const TABLE_POINT_IN_TIME_RECOVERY: Rule = Rule::warning(
    "storage.table-point-in-time-recovery",
    "Every DynamoDB table has point-in-time recovery enabled.",
);
/// Tables report their most accessed and throttled keys.
pub const TABLE_CONTRIBUTOR_INSIGHTS: Rule = Rule::error(
    "storage.table-contributor-insights",
    "Every DynamoDB table has an aws_dynamodb_contributor_insights resource for the table.",
);
/// `terraform destroy` removes the stack's data stores without manual steps.
pub const DESTROYABLE: Rule = Rule::error(
    "storage.destroyable",
    "No resource enables deletion protection or prevent_destroy, and every S3 bucket sets force_destroy.",
);
/// Intelligent-Tiering archive tiers that the lifecycle expiry makes unreachable.
pub const ARCHIVE_TIERS_UNREACHABLE: Rule = Rule::warning(
    "storage.archive-tiers-unreachable",
    "No Intelligent-Tiering archive tier waits as long as or longer than the bucket's lifecycle expiration.",
);
/// Gateway endpoints of a tenant VPC reach only the tenant's own bucket and table.
pub const ENDPOINT_POLICIES_SCOPED: Rule = Rule::error(
    "storage.endpoint-policies-scoped",
    "Every gateway VPC endpoint of a tenant stack has a policy allowing only the stack's own buckets and tables.",
);

/// Every rule, as `describe` declares them.
pub const RULES: &[Rule] = &[
    BUCKET_VERSIONING_ENABLED,
    BUCKET_PUBLIC_ACCESS_BLOCKED,
    BUCKET_ENCRYPTED_WITH_KMS,
    TABLE_POINT_IN_TIME_RECOVERY,
    TABLE_CONTRIBUTOR_INSIGHTS,
    DESTROYABLE,
    ARCHIVE_TIERS_UNREACHABLE,
    ENDPOINT_POLICIES_SCOPED,
];

/// All findings of the storage rules for one composed stack.
pub fn check_stack(stack: &StackDocument) -> Vec<Finding> {
    // The destroyable rule reads every block: reading them first parses the document in one pass.
    let destroyable = destroyable::check(stack);
    let mut findings = Vec::new();
    findings.extend(buckets::check(stack));
    findings.extend(tables::check(stack));
    findings.extend(destroyable);
    findings.extend(tiering::check(stack));
    findings.extend(endpoints::check(stack));
    findings
}

#[cfg(test)]
mod test_support {
    use super::*;
    use crate::synth::{tenant_fragment, tests::acme_context};
    use tenant_plugin_sdk::testing::{self, tenant_stack};

    /// The acme-corp stack as storage synthesizes it, plus the network endpoints and tenant key
    /// it refers to: the complying baseline each case edits.
    pub fn complying_document() -> Value {
        let mut document = tenant_fragment(&acme_context()).unwrap().to_json();
        document["resource"]["aws_kms_key"] = json!({"tenant": {"enable_key_rotation": true}});
        document["resource"]["aws_vpc_endpoint"] = json!({
            "s3": {"vpc_id": "${aws_vpc.tenant.id}", "service_name": "com.amazonaws.us-east-1.s3", "vpc_endpoint_type": "Gateway"},
            "dynamodb": {"vpc_id": "${aws_vpc.tenant.id}", "service_name": "com.amazonaws.us-east-1.dynamodb"},
        });
        document
    }

    /// Runs the checks over `document` as the acme-corp stack and returns the addresses of
    /// `rule`'s findings.
    pub fn addresses_found(rule: Rule, document: Value) -> Vec<String> {
        let stack = tenant_stack("acme-corp", "10.0.0.0/16", document);
        check_stack(&stack)
            .into_iter()
            .filter(|f| f.rule_id == rule.id)
            .map(|f| f.address)
            .collect()
    }

    /// `document` with `edit` applied at the JSON pointer `pointer`: `Some(value)` sets it,
    /// `None` removes it.
    pub fn edited(pointer: &str, edit: Option<Value>) -> Value {
        testing::edited(complying_document(), pointer, edit)
    }

    #[test]
    fn the_synthesized_stack_breaks_no_error_rule() {
        let stack = tenant_stack("acme-corp", "10.0.0.0/16", complying_document());
        let errors: Vec<_> = check_stack(&stack)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}
