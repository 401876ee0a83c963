//! The storage rules, checked over composed stacks. Each rule reads the document only, so it
//! judges what any plugin emitted, not what this plugin meant to emit.

mod buckets;
mod destroyable;
mod endpoints;
mod tables;
mod tiering;

use crate::info::plugin_info;
use tenant_plugin_sdk::prelude::*;

/// All findings of the storage rules for one composed stack.
pub fn check_stack(stack: &StackDocument) -> Vec<Finding> {
    let info = plugin_info();
    let mut findings = Vec::new();
    findings.extend(buckets::check(stack, &info));
    findings.extend(tables::check(stack, &info));
    findings.extend(destroyable::check(stack, &info));
    findings.extend(tiering::check(stack, &info));
    findings.extend(endpoints::check(stack, &info));
    findings
}

#[cfg(test)]
mod test_support {
    use super::*;
    use crate::synth::{tenant_fragment, tests::INPUTS};
    use tenant_plugin_sdk::testing::{self, tenant_context, tenant_stack};

    /// The acme-corp stack as storage synthesizes it, plus the network endpoints and tenant key
    /// it refers to: the complying baseline each case edits.
    pub fn complying_document() -> Value {
        let context = tenant_context::<crate::StoragePlugin>("acme-corp", "10.0.0.0/16", INPUTS);
        let mut document = tenant_fragment(&context).unwrap().to_json();
        document["resource"]["aws_kms_key"] = json!({"tenant": {"enable_key_rotation": true}});
        document["resource"]["aws_vpc_endpoint"] = json!({
            "s3": {"vpc_id": "${aws_vpc.tenant.id}", "service_name": "com.amazonaws.us-east-1.s3", "vpc_endpoint_type": "Gateway"},
            "dynamodb": {"vpc_id": "${aws_vpc.tenant.id}", "service_name": "com.amazonaws.us-east-1.dynamodb"},
        });
        document
    }

    /// Runs one rule's checks over `document` as the acme-corp stack and returns the addresses of
    /// that rule's findings.
    pub fn addresses_found(rule_id: &str, document: Value) -> Vec<String> {
        let stack = tenant_stack("acme-corp", "10.0.0.0/16", document);
        check_stack(&stack)
            .into_iter()
            .filter(|f| f.rule_id == rule_id)
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
