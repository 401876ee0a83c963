//! The plugin's policy, checked over every composed stack (so it judges what any plugin emitted).

use tenant_plugin_sdk::prelude::*;

/// Every tenant stack keeps an audit bucket.
pub const BUCKET_PRESENT: Rule =
    Rule::error("audit.bucket-present", "Every tenant stack has an audit bucket.");

/// Every rule, as `describe` declares them.
pub const RULES: &[Rule] = &[BUCKET_PRESENT];

/// The findings of every rule for one composed stack.
pub fn check_stack(stack: &StackDocument) -> Vec<Finding> {
    let Some(tenant) = &stack.tenant else {
        return Vec::new();
    };
    let has_bucket = stack
        .resources_of("aws_s3_bucket")
        .any(|bucket| bucket.name == "audit");
    if has_bucket {
        return Vec::new();
    }
    vec![BUCKET_PRESENT.finding(
        "",
        format!("tenant `{}` has no audit bucket", tenant.id),
        "Load the audit plugin for this fleet.",
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenant_plugin_sdk::testing::tenant_stack;

    #[test]
    fn the_rule_finds_a_stack_without_the_bucket() {
        // (document, findings, why)
        let cases = [
            (json!({}), 1, "a tenant stack without the bucket"),
            (
                json!({"resource": {"aws_s3_bucket": {"audit": {}}}}),
                0,
                "a tenant stack with it",
            ),
        ];
        for (document, expected, why) in cases {
            let stack = tenant_stack("acme-corp", "10.0.0.0/16", document);
            assert_eq!(check_stack(&stack).len(), expected, "{why}");
        }
    }
}
