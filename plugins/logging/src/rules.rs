//! The plugin's checks over composed stacks.

use crate::settings::{ACCEPTED_RETENTION_DAYS, LoggingSettings};
use tenant_plugin_sdk::document::referenced_resource;
use tenant_plugin_sdk::prelude::*;
use tenant_plugin_sdk::{BlockKind, TerraformBlock};

pub const RETENTION_VALID: Rule = Rule::error(
    "logging.retention-valid",
    "Every log group sets retention_in_days to a value CloudWatch Logs accepts.",
);
pub const RETENTION_MATCHES: Rule = Rule::warning(
    "logging.retention-matches",
    "Every log group keeps events for the configured retention.",
);
pub const LOG_GROUPS_ENCRYPTED: Rule = Rule::error(
    "logging.log-groups-encrypted",
    "Every log group is encrypted with a KMS key of its own stack.",
);
pub const SUBSCRIPTION_FORWARDING: Rule = Rule::error(
    "logging.subscription-forwarding",
    "Every tenant API log group has a subscription filter forwarding it to the central log group.",
);
pub const FLOW_LOGS_ENABLED: Rule = Rule::error("logging.flow-logs-enabled", "Every VPC has a flow log.");

/// Every rule, as `describe` declares them.
pub const RULES: &[Rule] = &[
    RETENTION_VALID,
    RETENTION_MATCHES,
    LOG_GROUPS_ENCRYPTED,
    SUBSCRIPTION_FORWARDING,
    FLOW_LOGS_ENABLED,
];

pub fn check_stack(stack: &StackDocument, settings: &LoggingSettings) -> Vec<Finding> {
    let configured_retention = settings.retention_days;
    let mut findings = Vec::new();
    let mut report = |rule: Rule, address: String, message: String, remediation: &str| {
        findings.push(rule.finding(address, message, remediation));
    };
    for group in stack.resources_of("aws_cloudwatch_log_group") {
        let address = group.address();
        let retention = group.body.get("retention_in_days").and_then(Value::as_u64);
        let shown = retention.map_or("unset (never expires)".to_owned(), |days| days.to_string());
        if !retention.is_some_and(|days| ACCEPTED_RETENTION_DAYS.contains(&days)) {
            report(
                RETENTION_VALID,
                address.clone(),
                format!("{address} has retention_in_days {shown}, which CloudWatch Logs does not accept"),
                "Set retention_in_days to one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653.",
            );
        }
        if retention != Some(configured_retention) {
            report(
                RETENTION_MATCHES,
                address.clone(),
                format!(
                    "{address} keeps events {shown} days; the configured retention is {configured_retention}"
                ),
                "Use the logging plugin's retention-days setting for retention_in_days.",
            );
        }
        let key = referenced_block(group.body.get("kms_key_id"));
        if !key.is_some_and(|(type_name, name)| {
            matches!(type_name, "aws_kms_key" | "aws_kms_alias") && declares(stack, type_name, name)
        }) {
            report(
                LOG_GROUPS_ENCRYPTED,
                address.clone(),
                format!("{address} is not encrypted with a KMS key of this stack"),
                "Set kms_key_id to the ARN of a customer managed key declared in this stack.",
            );
        }
        if is_tenant_api_log_group(stack, &group) && !is_forwarded(stack, &group) {
            report(
                SUBSCRIPTION_FORWARDING,
                address.clone(),
                format!(
                    "{address} has no subscription filter, so its events never reach the central log group"
                ),
                "Add an aws_cloudwatch_log_subscription_filter on it whose destination is the central log forwarder.",
            );
        }
    }
    for vpc in stack.resources_of("aws_vpc") {
        let logged = stack
            .resources_of("aws_flow_log")
            .any(|flow_log| refers_to(flow_log.body.get("vpc_id"), &vpc));
        if !logged {
            let address = vpc.address();
            report(
                FLOW_LOGS_ENABLED,
                address.clone(),
                format!("{address} has no flow log"),
                "Add an aws_flow_log with vpc_id referring to this VPC and traffic_type ALL.",
            );
        }
    }
    findings
}

/// The `(type, name)` of a resource referred to by a whole-string interpolation such as
/// `${aws_kms_key.tenant.arn}`.
fn referenced_block(value: Option<&Value>) -> Option<(&str, &str)> {
    referenced_resource(value?.as_str()?)
}

fn declares(stack: &StackDocument, type_name: &str, name: &str) -> bool {
    stack
        .blocks()
        .any(|b| b.kind == BlockKind::Resource && b.type_name == type_name && b.name == name)
}

fn refers_to(value: Option<&Value>, block: &TerraformBlock<'_>) -> bool {
    referenced_block(value) == Some((block.type_name, block.name))
}

fn is_tenant_api_log_group(stack: &StackDocument, group: &TerraformBlock<'_>) -> bool {
    let name = group.body.get("name").and_then(Value::as_str);
    stack.tenant.as_ref().is_some_and(|tenant| {
        name.is_some_and(|name| name.starts_with(&format!("tenant-{}-api-logs-", tenant.id)))
    })
}

fn is_forwarded(stack: &StackDocument, group: &TerraformBlock<'_>) -> bool {
    stack
        .resources_of("aws_cloudwatch_log_subscription_filter")
        .any(|filter| {
            let target = filter.body.get("log_group_name");
            refers_to(target, group) || (target.is_some() && target == group.body.get("name"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Logging;
    use tenant_plugin_sdk::Tenant;
    use tenant_plugin_sdk::testing::default_settings;

    fn acme() -> Option<Tenant> {
        Some(Tenant {
            id: "acme-corp".into(),
            cidr_block: "10.0.0.0/16".into(),
        })
    }

    fn findings(tenant: Option<Tenant>, resources: Value) -> Vec<(String, String)> {
        let stack = StackDocument {
            stack: "s".into(),
            tenant,
            document: json!({"resource": resources}),
        };
        check_stack(&stack, &default_settings::<Logging>())
            .into_iter()
            .map(|finding| (finding.rule_id, finding.address))
            .collect()
    }

    fn group(name: &str, retention: Value, key: &str) -> Value {
        json!({"name": name, "retention_in_days": retention, "kms_key_id": key})
    }

    const KEY: &str = "${aws_kms_key.tenant.arn}";
    const API: &str = "aws_cloudwatch_log_group.api";

    /// A tenant stack with its API log group, its forwarding filter and its VPC's flow log.
    fn complying() -> Value {
        json!({
            "aws_kms_key": {"tenant": {}},
            "aws_cloudwatch_log_group": {"api": group("tenant-acme-corp-api-logs-dev", json!(30), KEY)},
            "aws_cloudwatch_log_subscription_filter": {"api": {"log_group_name": "${aws_cloudwatch_log_group.api.name}"}},
            "aws_vpc": {"tenant": {}},
            "aws_flow_log": {"vpc": {"vpc_id": "${aws_vpc.tenant.id}"}},
        })
    }

    fn changed(path: &[&str], value: Value) -> Value {
        let mut resources = complying();
        let (last, parents) = path.split_last().unwrap();
        let parent = parents.iter().fold(&mut resources, |node, key| &mut node[*key]);
        if value.is_null() {
            parent.as_object_mut().unwrap().remove(*last);
        } else {
            parent[*last] = value;
        }
        resources
    }

    /// Why, in which stack, which resources, and the `(rule, address)` findings expected.
    type Case = (
        &'static str,
        Option<Tenant>,
        Value,
        &'static [(Rule, &'static str)],
    );

    #[test]
    fn each_rule_flags_what_it_guards() {
        let retention = ["aws_cloudwatch_log_group", "api", "retention_in_days"];
        let key = ["aws_cloudwatch_log_group", "api", "kms_key_id"];
        let mut through_alias = changed(&key, json!("${aws_kms_alias.tenant.arn}"));
        through_alias["aws_kms_alias"] = json!({"tenant": {}});
        let cases: [Case; 13] = [
            ("a complying tenant stack", acme(), complying(), &[]),
            (
                "a retention CloudWatch refuses",
                acme(),
                changed(&retention, json!(31)),
                &[(RETENTION_VALID, API), (RETENTION_MATCHES, API)],
            ),
            (
                "no retention: events never expire",
                acme(),
                changed(&retention, Value::Null),
                &[(RETENTION_VALID, API), (RETENTION_MATCHES, API)],
            ),
            (
                "a valid retention other than the configured one",
                acme(),
                changed(&retention, json!(90)),
                &[(RETENTION_MATCHES, API)],
            ),
            (
                "no encryption",
                acme(),
                changed(&key, Value::Null),
                &[(LOG_GROUPS_ENCRYPTED, API)],
            ),
            (
                "a literal key ARN from elsewhere",
                acme(),
                changed(&key, json!("arn:aws:kms:us-east-1:1:key/x")),
                &[(LOG_GROUPS_ENCRYPTED, API)],
            ),
            (
                "a key the stack does not declare",
                acme(),
                changed(&key, json!("${aws_kms_key.other.arn}")),
                &[(LOG_GROUPS_ENCRYPTED, API)],
            ),
            ("an alias of a key of the stack", acme(), through_alias, &[]),
            (
                "an alias the stack does not declare",
                acme(),
                changed(&key, json!("${aws_kms_alias.tenant.arn}")),
                &[(LOG_GROUPS_ENCRYPTED, API)],
            ),
            (
                "no subscription filter",
                acme(),
                changed(&["aws_cloudwatch_log_subscription_filter"], Value::Null),
                &[(SUBSCRIPTION_FORWARDING, API)],
            ),
            (
                "a filter naming the group literally",
                acme(),
                changed(
                    &["aws_cloudwatch_log_subscription_filter", "api", "log_group_name"],
                    json!("tenant-acme-corp-api-logs-dev"),
                ),
                &[],
            ),
            (
                "a VPC without a flow log",
                acme(),
                changed(&["aws_flow_log"], Value::Null),
                &[(FLOW_LOGS_ENABLED, "aws_vpc.tenant")],
            ),
            (
                "the central stack's groups are not tenant API groups",
                None,
                changed(&["aws_cloudwatch_log_subscription_filter"], Value::Null),
                &[],
            ),
        ];
        for (reason, tenant, resources, expected) in cases {
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(rule, address)| (rule.id.to_owned(), (*address).to_owned()))
                .collect();
            assert_eq!(findings(tenant, resources), expected, "{reason}");
        }
    }

    #[test]
    fn a_flow_log_of_another_vpc_does_not_count() {
        let mut resources = complying();
        resources["aws_vpc"]["second"] = json!({});
        assert_eq!(
            findings(acme(), resources),
            [(FLOW_LOGS_ENABLED.id.to_owned(), "aws_vpc.second".to_owned())]
        );
    }

    #[test]
    fn the_synthesized_fragments_comply() {
        let mut tenant = crate::synth::tenant::tests::acme().to_json();
        // Stand-ins for what the crypto and network plugins add to the composed stack.
        tenant["resource"]["aws_kms_key"] = json!({"tenant": {}});
        tenant["resource"]["aws_vpc"] = json!({"tenant": {}});
        let central = crate::synth::central::tests::central().to_json();
        for (tenant, document) in [(acme(), tenant), (None, central)] {
            let stack = StackDocument {
                stack: "s".into(),
                tenant,
                document,
            };
            assert_eq!(check_stack(&stack, &default_settings::<Logging>()), vec![]);
        }
    }

    #[test]
    fn severities_follow_the_declared_rules() {
        let stack = StackDocument {
            stack: "s".into(),
            tenant: acme(),
            document: json!({"resource": changed(&["aws_cloudwatch_log_group", "api", "retention_in_days"], json!(90))}),
        };
        let [finding] = check_stack(&stack, &default_settings::<Logging>())
            .try_into()
            .unwrap();
        assert_eq!(finding.severity, Severity::Warning);
        assert!(finding.message.contains("90") && finding.message.contains("30"));
    }
}
