//! The plugin's policy rules, checked on every composed stack (so they also judge what other
//! plugins emit).

use tenant_plugin_sdk::document::nested_block;
use tenant_plugin_sdk::prelude::*;

/// Every event target retries explicitly and dead-letters what it cannot deliver.
pub const RULE_HAS_DLQ: Rule = Rule::error(
    "events.rule-has-dlq",
    "Every aws_cloudwatch_event_target has a retry_policy and a dead_letter_config with a queue ARN, so no event is dropped silently.",
);
/// Every Lambda permission granted to EventBridge names the rule it is for.
pub const LAMBDA_PERMISSION_BOUND: Rule = Rule::error(
    "events.lambda-permission-bound",
    "Every aws_lambda_permission for events.amazonaws.com has a source_arn, so only that rule (not any rule in any account) may invoke the function.",
);
/// In a tenant stack, every event rule matches only events about that tenant.
pub const TENANT_RULE_SCOPED: Rule = Rule::error(
    "events.tenant-rule-scoped",
    "In a tenant stack, every event rule's pattern pins detail.tenant_id to that tenant alone, so no tenant receives another tenant's events.",
);
/// Every SQS queue is encrypted with a customer managed key.
pub const QUEUES_ENCRYPTED: Rule = Rule::error(
    "events.queues-encrypted",
    "Every aws_sqs_queue has kms_master_key_id (a customer managed key), so queued events are encrypted under a key the platform controls.",
);

/// Every rule, as `describe` declares them.
pub const RULES: &[Rule] = &[
    RULE_HAS_DLQ,
    LAMBDA_PERMISSION_BOUND,
    TENANT_RULE_SCOPED,
    QUEUES_ENCRYPTED,
];

/// Runs every rule over `stack`.
pub fn check_stack(stack: &StackDocument) -> Vec<Finding> {
    let mut findings = Vec::new();
    targets_have_dead_letter_queues(stack, &RULE_HAS_DLQ, &mut findings);
    lambda_permissions_are_bound(stack, &LAMBDA_PERMISSION_BOUND, &mut findings);
    if let Some(tenant) = &stack.tenant {
        tenant_rules_are_scoped(stack, &tenant.id, &TENANT_RULE_SCOPED, &mut findings);
    }
    queues_are_encrypted(stack, &QUEUES_ENCRYPTED, &mut findings);
    findings
}

fn non_empty_string(value: Option<&Value>) -> bool {
    value.and_then(Value::as_str).is_some_and(|text| !text.is_empty())
}

fn targets_have_dead_letter_queues(stack: &StackDocument, rule: &Rule, findings: &mut Vec<Finding>) {
    for target in stack.resources_of("aws_cloudwatch_event_target") {
        let has_queue = nested_block(target.body, "dead_letter_config")
            .is_some_and(|dlq| non_empty_string(dlq.get("arn")));
        let has_retry_policy = nested_block(target.body, "retry_policy").is_some();
        let missing: Vec<&str> = [
            (has_queue, "a dead_letter_config with an arn"),
            (has_retry_policy, "a retry_policy"),
        ]
        .into_iter()
        .filter(|(present, _)| !present)
        .map(|(_, what)| what)
        .collect();
        if !missing.is_empty() {
            findings.push(rule.finding(target.address(),
                format!("event target `{}` lacks {}", target.address(), missing.join(" and ")),
                "Give the target a retry_policy (maximum_event_age_in_seconds, maximum_retry_attempts) and a dead_letter_config pointing at a KMS-encrypted SQS queue whose policy admits events.amazonaws.com for this rule.",
            ));
        }
    }
}

fn lambda_permissions_are_bound(stack: &StackDocument, rule: &Rule, findings: &mut Vec<Finding>) {
    for permission in stack.resources_of("aws_lambda_permission") {
        let for_eventbridge =
            permission.body.get("principal").and_then(Value::as_str) == Some("events.amazonaws.com");
        if for_eventbridge && !non_empty_string(permission.body.get("source_arn")) {
            findings.push(rule.finding(
                permission.address(),
                format!(
                    "`{}` lets events.amazonaws.com invoke the function without a source_arn",
                    permission.address()
                ),
                "Set source_arn to the ARN of the one event rule that targets the function.",
            ));
        }
    }
}

/// Why a rule's pattern does not pin `detail.tenant_id` to `tenant_id`, or `None` when it does.
fn unscoped_pattern_reason(body: &Value, tenant_id: &str) -> Option<String> {
    let Some(pattern_text) = body.get("event_pattern").and_then(Value::as_str) else {
        // A scheduled rule receives no events, so it cannot receive another tenant's.
        return if non_empty_string(body.get("schedule_expression")) {
            None
        } else {
            Some("has no event_pattern".to_owned())
        };
    };
    let Ok(pattern) = serde_json::from_str::<Value>(pattern_text) else {
        return Some(
            "has an event_pattern that is not literal JSON, so its scope cannot be verified".to_owned(),
        );
    };
    let expected = json!([tenant_id]);
    match pattern.get("detail").and_then(|detail| detail.get("tenant_id")) {
        Some(values) if *values == expected => None,
        Some(values) => Some(format!("matches detail.tenant_id {values} instead of {expected}")),
        None => Some("does not match on detail.tenant_id".to_owned()),
    }
}

fn tenant_rules_are_scoped(stack: &StackDocument, tenant_id: &str, rule: &Rule, findings: &mut Vec<Finding>) {
    for event_rule in stack.resources_of("aws_cloudwatch_event_rule") {
        if let Some(reason) = unscoped_pattern_reason(event_rule.body, tenant_id) {
            findings.push(rule.finding(event_rule.address(),
                format!("event rule `{}` in the stack of tenant {tenant_id} {reason}", event_rule.address()),
                format!(r#"Add "detail": {{"tenant_id": ["{tenant_id}"]}} to the rule's event_pattern, with no other tenant ids or content filters."#),
            ));
        }
    }
}

fn queues_are_encrypted(stack: &StackDocument, rule: &Rule, findings: &mut Vec<Finding>) {
    for queue in stack.resources_of("aws_sqs_queue") {
        if !non_empty_string(queue.body.get("kms_master_key_id")) {
            findings.push(rule.finding(queue.address(),
                format!("queue `{}` has no kms_master_key_id", queue.address()),
                "Set kms_master_key_id to the stack's customer managed key (the tenant key in tenant stacks); SQS-managed encryption is not enough.",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenant_plugin_sdk::{Tenant, testing};

    fn tenant_stack(resources: Value) -> StackDocument {
        testing::tenant_stack("acme-corp", "10.0.0.0/16", json!({"resource": resources}))
    }

    fn central_stack(resources: Value) -> StackDocument {
        testing::received("central-dev", None, &json!({"resource": resources}))
    }

    fn findings_of(rule: Rule, stack: &StackDocument) -> Vec<String> {
        check_stack(stack)
            .into_iter()
            .filter(|f| f.rule_id == rule.id)
            .map(|f| f.address)
            .collect()
    }

    const DLQ: &str = "${aws_sqs_queue.events_dlq.arn}";

    #[test]
    fn event_targets_need_a_queue_and_a_retry_policy() {
        let retry = json!([{"maximum_retry_attempts": 8}]);
        let cases = [
            (
                "both blocks as arrays",
                json!({"dead_letter_config": [{"arn": DLQ}], "retry_policy": retry}),
                true,
            ),
            (
                "both blocks as objects",
                json!({"dead_letter_config": {"arn": DLQ}, "retry_policy": {}}),
                true,
            ),
            ("no dead-letter queue", json!({"retry_policy": retry}), false),
            (
                "dead-letter block without an arn",
                json!({"dead_letter_config": [{}], "retry_policy": retry}),
                false,
            ),
            (
                "empty dead-letter list",
                json!({"dead_letter_config": [], "retry_policy": retry}),
                false,
            ),
            (
                "no retry policy",
                json!({"dead_letter_config": [{"arn": DLQ}]}),
                false,
            ),
        ];
        for (reason, body, complies) in cases {
            let stack = central_stack(json!({"aws_cloudwatch_event_target": {"t": body}}));
            let expected: Vec<String> = if complies {
                vec![]
            } else {
                vec!["aws_cloudwatch_event_target.t".into()]
            };
            assert_eq!(findings_of(RULE_HAS_DLQ, &stack), expected, "{reason}");
        }
    }

    #[test]
    fn eventbridge_permissions_need_a_source_arn() {
        let cases = [
            (
                "bound to a rule",
                json!({"principal": "events.amazonaws.com", "source_arn": "${aws_cloudwatch_event_rule.r.arn}"}),
                true,
            ),
            ("unbound", json!({"principal": "events.amazonaws.com"}), false),
            (
                "empty source arn",
                json!({"principal": "events.amazonaws.com", "source_arn": ""}),
                false,
            ),
            (
                "account alone is not a rule",
                json!({"principal": "events.amazonaws.com", "source_account": "123456789012"}),
                false,
            ),
            (
                "another service is another rule's business",
                json!({"principal": "s3.amazonaws.com"}),
                true,
            ),
        ];
        for (reason, body, complies) in cases {
            let stack = tenant_stack(json!({"aws_lambda_permission": {"p": body}}));
            let expected: Vec<String> = if complies {
                vec![]
            } else {
                vec!["aws_lambda_permission.p".into()]
            };
            assert_eq!(findings_of(LAMBDA_PERMISSION_BOUND, &stack), expected, "{reason}");
        }
    }

    #[test]
    fn tenant_rules_must_pin_the_tenant() {
        let pattern = |value: Value| json!({"event_pattern": value.to_string()});
        let cases = [
            (
                "own tenant",
                pattern(json!({"source": [{"prefix": "saas."}], "detail": {"tenant_id": ["acme-corp"]}})),
                true,
            ),
            (
                "scheduled, receives no events",
                json!({"schedule_expression": "rate(5 minutes)"}),
                true,
            ),
            (
                "another tenant",
                pattern(json!({"detail": {"tenant_id": ["retail-co"]}})),
                false,
            ),
            (
                "own and another tenant",
                pattern(json!({"detail": {"tenant_id": ["acme-corp", "retail-co"]}})),
                false,
            ),
            (
                "a prefix filter matches other tenants",
                pattern(json!({"detail": {"tenant_id": [{"prefix": "acme"}]}})),
                false,
            ),
            (
                "no tenant filter",
                pattern(json!({"source": ["saas.tenant"]})),
                false,
            ),
            (
                "tenant outside detail",
                pattern(json!({"tenant_id": ["acme-corp"]})),
                false,
            ),
            (
                "pattern not literal JSON",
                json!({"event_pattern": "${jsonencode(local.pattern)}"}),
                false,
            ),
            ("neither pattern nor schedule", json!({"name": "r"}), false),
        ];
        for (reason, body, complies) in cases {
            let stack = tenant_stack(json!({"aws_cloudwatch_event_rule": {"r": body}}));
            let expected: Vec<String> = if complies {
                vec![]
            } else {
                vec!["aws_cloudwatch_event_rule.r".into()]
            };
            assert_eq!(findings_of(TENANT_RULE_SCOPED, &stack), expected, "{reason}");
        }
    }

    #[test]
    fn central_rules_are_not_tenant_scoped() {
        let stack = central_stack(
            json!({"aws_cloudwatch_event_rule": {"signup": {"event_pattern": "{\"source\":[\"saas.tenant\"]}"}}}),
        );
        assert!(findings_of(TENANT_RULE_SCOPED, &stack).is_empty());
    }

    #[test]
    fn queues_need_a_customer_managed_key() {
        let cases = [
            (
                "tenant key",
                json!({"kms_master_key_id": "${aws_kms_key.tenant.arn}"}),
                true,
            ),
            (
                "SQS-managed encryption only",
                json!({"sqs_managed_sse_enabled": true}),
                false,
            ),
            ("empty key", json!({"kms_master_key_id": ""}), false),
            ("no encryption", json!({"name": "q"}), false),
        ];
        for (reason, body, complies) in cases {
            let stack = tenant_stack(json!({"aws_sqs_queue": {"q": body}}));
            let expected: Vec<String> = if complies {
                vec![]
            } else {
                vec!["aws_sqs_queue.q".into()]
            };
            assert_eq!(findings_of(QUEUES_ENCRYPTED, &stack), expected, "{reason}");
        }
    }

    #[test]
    fn the_plugins_own_fragments_comply() {
        use crate::Events;
        use tenant_plugin_sdk::testing::{central_context, tenant_context};
        let tenant = crate::synth::tenant::fragment(&tenant_context::<Events>(
            "acme-corp",
            "10.0.0.0/16",
            &crate::synth::tenant::tests::INPUTS,
        ))
        .unwrap();
        let central = crate::synth::central::fragment(&central_context::<Events>(&[])).unwrap();
        let tenant_doc = tenant_stack(tenant.to_json()["resource"].clone());
        let central_doc = central_stack(central.to_json()["resource"].clone());
        assert_eq!(check_stack(&tenant_doc), vec![]);
        assert_eq!(check_stack(&central_doc), vec![]);
        // The same tenant fragment in another tenant's stack is caught.
        let mut misplaced = tenant_doc.clone();
        misplaced.tenant = Some(Tenant {
            id: "retail-co".into(),
            cidr_block: "10.2.0.0/16".into(),
        });
        assert_eq!(
            findings_of(TENANT_RULE_SCOPED, &misplaced),
            ["aws_cloudwatch_event_rule.tenant_events"]
        );
    }
}
