//! The iam rules, checked over composed stacks: they judge every policy in the stack, whichever
//! plugin emitted it.

mod data_actions;
mod foreign_tenant;
mod trust;
mod wildcard_principal;

use tenant_plugin_sdk::prelude::*;

/// Identity policies never grant data actions on every resource.
pub const DATA_ACTIONS_SCOPED: Rule = Rule::error(
    "iam.data-actions-scoped",
    "No identity policy allows dynamodb:, s3:, kms: or logs: data actions on Resource \"*\" (or NotResource).",
);
/// Identity policies of a tenant stack grant data actions only to principals tagged with the tenant.
pub const PRINCIPAL_TAG_BOUND: Rule = Rule::error(
    "iam.principal-tag-bound",
    "In tenant stacks, every identity-policy Allow of data actions requires aws:PrincipalTag/TenantId to equal the tenant id.",
);
/// A tenant stack names nothing of another tenant.
pub const NO_FOREIGN_TENANT: Rule = Rule::error(
    "iam.no-foreign-tenant",
    "A tenant stack mentions no `tenant-…` name except the tenant itself and names its own resources carry.",
);
/// Roles trust one AWS service, for requests from one account or resource.
pub const TRUST_SCOPED: Rule = Rule::error(
    "iam.trust-scoped",
    "Every role trusts only service principals and binds aws:SourceAccount or aws:SourceArn, or trusts one role of the same stack.",
);
/// Resource policies never allow everyone unconditionally.
pub const NO_WILDCARD_PRINCIPAL: Rule = Rule::error(
    "iam.no-wildcard-principal",
    "No resource policy or Lambda permission allows principal \"*\" without a condition.",
);

/// Every rule, as `describe` declares them.
pub const RULES: &[Rule] = &[
    DATA_ACTIONS_SCOPED,
    PRINCIPAL_TAG_BOUND,
    NO_FOREIGN_TENANT,
    TRUST_SCOPED,
    NO_WILDCARD_PRINCIPAL,
];

/// All findings of the iam rules for one composed stack.
pub fn check_stack(stack: &StackDocument) -> Vec<Finding> {
    // Every policy rule reads the same list of the stack's policies: found once.
    let policies = crate::document::policies(stack);
    let mut findings = Vec::new();
    findings.extend(data_actions::check(stack, &policies));
    findings.extend(foreign_tenant::check(stack));
    findings.extend(trust::check(stack, &policies));
    findings.extend(wildcard_principal::check(stack, &policies));
    findings
}

#[cfg(test)]
mod test_support {
    use super::*;
    use crate::synth::{tenant_fragment, tests::acme_context};
    use tenant_plugin_sdk::testing::{self, tenant_stack};

    /// The acme-corp stack as iam synthesizes it, plus named resources of the other plugins and a
    /// scoped bucket policy: the complying baseline each case edits.
    pub fn complying_document() -> Value {
        // Composed as the host composes: the declared intents travel beside the document, and
        // their look-alike tenant's names are meant to be foreign.
        let mut document = testing::compose(&[&tenant_fragment(&acme_context()).unwrap()]);
        document["resource"]["aws_s3_bucket"] = json!({"data": {"bucket": "tenant-acme-corp-data-dev"}});
        document["resource"]["aws_cloudwatch_log_group"] =
            json!({"api": {"name": "tenant-acme-corp-api-logs-dev"}});
        document["resource"]["aws_kms_alias"] = json!({"tenant": {"name": "alias/tenant-acme-corp-dev"}});
        document["resource"]["aws_sqs_queue"] = json!({"api_dlq": {"name": "tenant-acme-corp-api-dlq-dev"}});
        document["resource"]["aws_s3_bucket_policy"] = json!({"data": {
            "bucket": "${aws_s3_bucket.data.id}",
            "policy": policy(json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}})),
        }});
        document
    }

    /// A policy string with one statement.
    pub fn policy(statement: Value) -> Value {
        json!(json!({"Version": "2012-10-17", "Statement": [statement]}).to_string())
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

    /// The baseline with the value at JSON pointer `pointer` set (`Some`) or removed (`None`).
    pub fn edited(pointer: &str, edit: Option<Value>) -> Value {
        testing::edited(complying_document(), pointer, edit)
    }

    #[test]
    fn the_synthesized_stack_breaks_no_rule() {
        let stack = tenant_stack("acme-corp", "10.0.0.0/16", complying_document());
        let findings = check_stack(&stack);
        assert!(findings.is_empty(), "{findings:#?}");
    }
}
