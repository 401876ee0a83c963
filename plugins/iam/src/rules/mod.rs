//! The iam rules, checked over composed stacks: they judge every policy in the stack, whichever
//! plugin emitted it.

mod data_actions;
mod foreign_tenant;
mod trust;
mod wildcard_principal;

use crate::info::plugin_info;
use tenant_plugin_sdk::prelude::*;

/// All findings of the iam rules for one composed stack.
pub fn check_stack(stack: &StackDocument) -> Vec<Finding> {
    let info = plugin_info();
    let mut findings = Vec::new();
    findings.extend(data_actions::check(stack, &info));
    findings.extend(foreign_tenant::check(stack, &info));
    findings.extend(trust::check(stack, &info));
    findings.extend(wildcard_principal::check(stack, &info));
    findings
}

#[cfg(test)]
mod test_support {
    use super::*;
    use crate::synth::{tenant_fragment, tests::INPUTS};
    use tenant_plugin_sdk::testing::{self, tenant_context, tenant_stack};

    /// The acme-corp stack as iam synthesizes it, plus named resources of the other plugins and a
    /// scoped bucket policy: the complying baseline each case edits.
    pub fn complying_document() -> Value {
        let context = tenant_context::<crate::IamPlugin>("acme-corp", "10.0.0.0/16", INPUTS);
        let mut document = tenant_fragment(&context).unwrap().to_json();
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
    /// `rule_id`'s findings.
    pub fn addresses_found(rule_id: &str, document: Value) -> Vec<String> {
        let stack = tenant_stack("acme-corp", "10.0.0.0/16", document);
        check_stack(&stack)
            .into_iter()
            .filter(|f| f.rule_id == rule_id)
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
