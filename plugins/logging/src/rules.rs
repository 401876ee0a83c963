//! The plugin's checks over composed stacks.

use crate::settings::{ACCEPTED_RETENTION_DAYS, LoggingSettings};
use tenant_plugin_sdk::TerraformBlock;
use tenant_plugin_sdk::document::referenced_resource;
use tenant_plugin_sdk::iam::{one_or_many, policy_statements};
use tenant_plugin_sdk::naming::CENTRAL_LOG_GROUP;
use tenant_plugin_sdk::prelude::*;

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
pub const CENTRAL_KEY_PRIVATE: Rule = Rule::error(
    "logging.central-key-private",
    "The key of the central log group grants use only to its account (which leaves the decision to IAM policies) and to AWS services: never to `*`, a tenant's principal or any other.",
);

/// Every rule, as `describe` declares them.
pub const RULES: &[Rule] = &[
    RETENTION_VALID,
    RETENTION_MATCHES,
    LOG_GROUPS_ENCRYPTED,
    SUBSCRIPTION_FORWARDING,
    FLOW_LOGS_ENABLED,
    CENTRAL_KEY_PRIVATE,
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
    for key in central_keys(stack) {
        for grant in grants_beyond_account_and_services(&key) {
            let address = key.address();
            report(
                CENTRAL_KEY_PRIVATE,
                address.clone(),
                format!(
                    "{address} encrypts the central log group, shared by every tenant, but its policy grants {grant}"
                ),
                "Grant the central key only to the account root (IAM policies then decide: attach the operator read policy) and to CloudWatch Logs for the central groups.",
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

/// The keys encrypting the central log group of a central stack.
fn central_keys<'a>(stack: &'a StackDocument) -> Vec<TerraformBlock<'a>> {
    let central_prefix = CENTRAL_LOG_GROUP.template.trim_end_matches("{suffix}");
    if stack.tenant.is_some() {
        return Vec::new();
    }
    let keys: Vec<(&str, &str)> = stack
        .resources_of("aws_cloudwatch_log_group")
        .filter(|group| {
            group
                .body
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| name.starts_with(central_prefix))
        })
        .filter_map(|group| referenced_block(group.body.get("kms_key_id")))
        .collect();
    stack
        .resources_of("aws_kms_key")
        .filter(|key| keys.contains(&(key.type_name, key.name)))
        .collect()
}

/// What the key policy of `key` allows to principals other than an account root or an AWS
/// service, one description per statement; an unreadable policy is one such grant, since it
/// cannot be shown private.
fn grants_beyond_account_and_services(key: &TerraformBlock<'_>) -> Vec<String> {
    let policy = key.body.get("policy").and_then(Value::as_str).unwrap_or("{}");
    let statements = match policy_statements(policy) {
        Ok(statements) => statements,
        Err(why) => return vec![format!("something it cannot show: {why}")],
    };
    statements
        .iter()
        .filter(|statement| statement["Effect"] == "Allow")
        .filter_map(|statement| {
            let sid = statement["Sid"].as_str().unwrap_or("(no Sid)");
            if statement.get("NotPrincipal").is_some() {
                return Some(format!("everyone but the listed principals in `{sid}`"));
            }
            let others: Vec<&str> = match &statement["Principal"] {
                Value::Object(principal) => principal
                    .iter()
                    .filter(|(kind, _)| kind.as_str() != "Service")
                    .flat_map(|(_, names)| one_or_many(Some(names)))
                    .filter(|name| !is_account(name))
                    .collect(),
                other => one_or_many(Some(other)),
            };
            (!others.is_empty()).then(|| format!("use to {} in `{sid}`", others.join(", ")))
        })
        .collect()
}

/// An account id, or its root principal `arn:aws:iam::<account>:root`, literal or read from
/// `data.aws_caller_identity`.
fn is_account(principal: &str) -> bool {
    let account = principal
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.strip_suffix(":root"))
        .unwrap_or(principal);
    let literal = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let caller_identity =
        account.starts_with("${data.aws_caller_identity.") && account.ends_with(".account_id}");
    literal || caller_identity
}

/// The `(type, name)` of a resource referred to by a whole-string interpolation such as
/// `${aws_kms_key.tenant.arn}`.
fn referenced_block(value: Option<&Value>) -> Option<(&str, &str)> {
    referenced_resource(value?.as_str()?)
}

fn declares(stack: &StackDocument, type_name: &str, name: &str) -> bool {
    stack.resource(type_name, name).is_some()
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
        let stack = tenant_plugin_sdk::testing::received("s", tenant, &json!({"resource": resources}));
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
            let stack = tenant_plugin_sdk::testing::received("s", tenant, &document);
            assert_eq!(check_stack(&stack, &default_settings::<Logging>()), vec![]);
        }
    }

    /// A key policy of `statements`.
    fn key_policy(statements: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": statements}).to_string()
    }

    /// A central stack whose central log group is encrypted with a key of `policy`.
    fn central_with_key_policy(policy: String) -> Value {
        json!({
            "aws_kms_key": {"central_logs": {"policy": policy}},
            "aws_cloudwatch_log_group": {"central": group("/aws/saas/central-logs-dev", json!(30), "${aws_kms_key.central_logs.arn}")},
        })
    }

    #[test]
    fn the_central_key_grants_only_the_account_and_services() {
        // Key policies decide who may use a key; a statement naming the account root only
        // delegates to IAM policies (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam).
        let root = json!({"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::${data.aws_caller_identity.logging.account_id}:root"}, "Action": "kms:*", "Resource": "*"});
        let logs = json!({"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*"});
        let tagged = json!({"Sid": "Tenants", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/TenantId": "acme-corp"}}});
        let role = json!({"Sid": "Role", "Effect": "Allow", "Principal": {"AWS": ["123456789012", "arn:aws:iam::123456789012:role/tenant-acme-corp-lambda-role-dev"]}, "Action": "kms:Decrypt", "Resource": "*"});
        let anyone = json!({"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"});
        let denial = json!({"Sid": "NoOne", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"});
        let key = "aws_kms_key.central_logs";
        let flagged: &[(Rule, &str)] = &[(CENTRAL_KEY_PRIVATE, key)];
        let cases = [
            (
                "the account root and CloudWatch Logs",
                key_policy(json!([root, logs, denial])),
                &[][..],
            ),
            (
                "any principal tagged with a tenant",
                key_policy(json!([root, tagged])),
                flagged,
            ),
            (
                "a tenant role beside the account",
                key_policy(json!([role])),
                flagged,
            ),
            ("everyone", key_policy(json!([anyone.clone()])), flagged),
            (
                "a policy it cannot read",
                "${data.aws_iam_policy_document.x.json}".to_owned(),
                flagged,
            ),
        ];
        for (reason, policy, expected) in cases {
            let resources = central_with_key_policy(policy);
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(rule, address)| (rule.id.to_owned(), (*address).to_owned()))
                .collect();
            assert_eq!(findings(None, resources), expected, "{reason}");
        }
        // A tenant stack's keys are the tenant's own: crypto's rules judge them.
        let tenant = central_with_key_policy(key_policy(json!([anyone])));
        let flagged: Vec<_> = findings(acme(), tenant)
            .into_iter()
            .filter(|(rule, _)| rule == CENTRAL_KEY_PRIVATE.id)
            .collect();
        assert_eq!(flagged, Vec::<(String, String)>::new());
    }

    #[test]
    fn severities_follow_the_declared_rules() {
        let stack = tenant_plugin_sdk::testing::received(
            "s",
            acme(),
            &json!({"resource": changed(&["aws_cloudwatch_log_group", "api", "retention_in_days"], json!(90))}),
        );
        let [finding] = check_stack(&stack, &default_settings::<Logging>())
            .try_into()
            .unwrap();
        assert_eq!(finding.severity, Severity::Warning);
        assert!(finding.message.contains("90") && finding.message.contains("30"));
    }
}
