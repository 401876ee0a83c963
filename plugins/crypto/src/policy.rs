//! The tenant key's policy.
//!
//! Statements, in order:
//! 1. `EnableAccountAdministration`: the account root gets `kms:*`. This is the statement AWS
//!    requires so the key stays manageable; it delegates access decisions to IAM policies.
//! 2. `AllowUseByTenantPrincipals`: principals of this account tagged `TenantId = <tenant>` may
//!    use the key directly (attribute-based access; the account condition keeps principals of
//!    other accounts carrying the same tag out). Calls S3 and DynamoDB make for such a principal
//!    carry the principal's tags, so this statement also covers them.
//! 3. `AllowDynamoDbGrantsForTenantPrincipals`: the same principals may let DynamoDB create the
//!    grants it needs for the tenant's table, only for AWS resources and only through DynamoDB in
//!    this region.
//! 4. `AllowCloudWatchLogsForTenantLogGroups`: the regional CloudWatch Logs service may use the
//!    key only for this tenant's own log groups, named exactly (a `tenant-{id}-*` pattern would
//!    also match a tenant whose id starts with this one's, e.g. `acme` and `acme-corp`).
//! 5. `AllowEventBridgeForTenantDeadLetterQueue`: EventBridge, which writes undeliverable
//!    events of the tenant's routing rule to a queue encrypted with this key, may use the key only
//!    for that one queue (SQS passes the queue ARN as encryption context).
//! 6. `DenyPrincipalsOfOtherTenants`: any principal tagged with another tenant's id is denied
//!    every KMS action on this key, whatever its IAM policies grant. Service principals carry no
//!    principal tags, so statements 4 and 5 are unaffected.
//!
//! Then the statements other plugins contributed to the extension point `tenant-key-policy`, in
//! plugin order, once [`contributed_statements`] has accepted each of them.

use tenant_plugin_sdk::ReceivedContribution;
use tenant_plugin_sdk::bundled::TENANT_KEY_POLICY;
use tenant_plugin_sdk::iam::{key_administration, logs_key_use};
use tenant_plugin_sdk::naming::{API_LOG_GROUP, FLOW_LOG_GROUP, TENANT_EVENTS_DLQ, log_group_arn};
use tenant_plugin_sdk::prelude::*;

/// The actions that use a key for data.
pub const KEY_USE_ACTIONS: [&str; 5] = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
];

/// The principal tag naming the tenant a principal works for.
pub const TENANT_TAG: &str = "aws:PrincipalTag/TenantId";

/// Whom the key belongs to and where it lives.
#[derive(Debug, Clone, Copy)]
pub struct KeyPolicyScope<'a> {
    /// The tenant's id.
    pub tenant_id: &'a str,
    /// The environment suffix, part of the log group names.
    pub suffix: &'a str,
    /// The AWS region.
    pub region: &'a str,
    /// The account id, usually a reference to `data.aws_caller_identity`.
    pub account_id: &'a str,
}

/// The log groups of the tenant CloudWatch Logs may encrypt with the key.
pub fn tenant_log_group_arns(scope: &KeyPolicyScope<'_>) -> Vec<String> {
    [API_LOG_GROUP, FLOW_LOG_GROUP]
        .iter()
        .map(|group| {
            log_group_arn(
                scope.region,
                scope.account_id,
                &group.render(scope.tenant_id, scope.suffix),
            )
        })
        .collect()
}

/// The tenant's EventBridge dead-letter queue, which the events plugin declares under the SDK's
/// `naming::TENANT_EVENTS_DLQ`.
pub fn tenant_dead_letter_queue_arn(scope: &KeyPolicyScope<'_>) -> String {
    format!(
        "arn:aws:sqs:{}:{}:{}",
        scope.region,
        scope.account_id,
        TENANT_EVENTS_DLQ.render(scope.tenant_id, scope.suffix)
    )
}

/// The key policy of the tenant's key; see the module documentation for each statement.
pub fn key_policy(scope: &KeyPolicyScope<'_>) -> PolicyDocument {
    let tenant = json!(scope.tenant_id);
    let account = json!(scope.account_id);
    let any_principal = json!({"AWS": "*"});
    PolicyDocument::new()
        .statement(key_administration(
            "EnableAccountAdministration",
            scope.account_id,
        ))
        .statement(
            Statement::allow("AllowUseByTenantPrincipals")
                .principal(any_principal.clone())
                .actions(&KEY_USE_ACTIONS)
                .resources(&["*"])
                .condition("StringEquals", "aws:PrincipalAccount", account.clone())
                .condition("StringEquals", TENANT_TAG, tenant.clone()),
        )
        .statement(
            Statement::allow("AllowDynamoDbGrantsForTenantPrincipals")
                .principal(any_principal.clone())
                .actions(&["kms:CreateGrant"])
                .resources(&["*"])
                .condition("StringEquals", "aws:PrincipalAccount", account)
                .condition("StringEquals", TENANT_TAG, tenant.clone())
                .condition(
                    "StringEquals",
                    "kms:ViaService",
                    json!(format!("dynamodb.{}.amazonaws.com", scope.region)),
                )
                .condition("Bool", "kms:GrantIsForAWSResource", json!("true")),
        )
        .statement(logs_key_use(
            "AllowCloudWatchLogsForTenantLogGroups",
            scope.region,
            &tenant_log_group_arns(scope),
        ))
        .statement(
            Statement::allow("AllowEventBridgeForTenantDeadLetterQueue")
                .principal(json!({"Service": "events.amazonaws.com"}))
                .actions(&["kms:Decrypt", "kms:GenerateDataKey"])
                .resources(&["*"])
                .condition(
                    "ArnEquals",
                    "kms:EncryptionContext:aws:sqs:arn",
                    json!(tenant_dead_letter_queue_arn(scope)),
                ),
        )
        .statement(
            Statement::deny("DenyPrincipalsOfOtherTenants")
                .principal(any_principal)
                .actions(&["kms:*"])
                .resources(&["*"])
                .condition("StringNotEquals", TENANT_TAG, tenant)
                .condition("Null", TENANT_TAG, json!("false")),
        )
}

/// The key actions a contributed statement may allow: using the key for data and letting an AWS
/// service create the grants it needs. Administration (policy, deletion, grants revocation) stays
/// with the account.
pub const CONTRIBUTABLE_ACTIONS: [&str; 8] = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
    "kms:CreateGrant",
];

/// The statement ids crypto's own policy uses; a contribution may not reuse one.
const OWN_SIDS: [&str; 6] = [
    "EnableAccountAdministration",
    "AllowUseByTenantPrincipals",
    "AllowDynamoDbGrantsForTenantPrincipals",
    "AllowCloudWatchLogsForTenantLogGroups",
    "AllowEventBridgeForTenantDeadLetterQueue",
    "DenyPrincipalsOfOtherTenants",
];

/// The statements contributed to `tenant-key-policy`, each checked against what the extension
/// point accepts (see [`TENANT_KEY_POLICY`]); the first unacceptable one is an
/// `InvalidContribution` naming its contributor.
pub fn contributed_statements(contributions: &[ReceivedContribution]) -> Result<Vec<Value>, PluginError> {
    let mut sids: Vec<&str> = OWN_SIDS.to_vec();
    let mut statements = Vec::new();
    for contribution in contributions.iter().filter(|c| c.point == TENANT_KEY_POLICY.name) {
        let statement = &contribution.body;
        let refuse = |why: String| {
            PluginError::InvalidContribution(format!(
                "`{}` contributed a statement to `{}` that is refused: {why}",
                contribution.contributor, TENANT_KEY_POLICY.name
            ))
        };
        statement_problem(statement, &sids).map_or(Ok(()), |why| Err(refuse(why)))?;
        sids.push(statement["Sid"].as_str().unwrap_or_default());
        statements.push(statement.clone());
    }
    Ok(statements)
}

/// Why `statement` cannot join the tenant key's policy, if it cannot.
fn statement_problem(statement: &Value, taken_sids: &[&str]) -> Option<String> {
    let Some(fields) = statement.as_object() else {
        return Some(format!("it is not a JSON object: {statement}"));
    };
    if let Some(field) = fields.keys().find(|key| {
        !["Sid", "Effect", "Principal", "Action", "Resource", "Condition"].contains(&key.as_str())
    }) {
        return Some(format!(
            "`{field}` is not accepted (only Sid, Effect, Principal, Action, Resource, Condition)"
        ));
    }
    let sid = statement["Sid"].as_str().unwrap_or_default();
    if sid.is_empty() || !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Some("`Sid` must be letters and digits".into());
    }
    if taken_sids.contains(&sid) {
        return Some(format!("`Sid` {sid} is already used in the key policy"));
    }
    if statement["Effect"] != "Allow" {
        return Some("`Effect` must be Allow".into());
    }
    if statement["Resource"] != "*" {
        return Some("`Resource` must be \"*\" (the key itself)".into());
    }
    let service = statement.pointer("/Principal/Service").and_then(Value::as_str);
    let role = statement.pointer("/Principal/AWS").and_then(Value::as_str);
    let principal_count = statement["Principal"].as_object().map_or(0, |p| p.len());
    match (service, role, principal_count) {
        (Some(service), None, 1) if service.ends_with(".amazonaws.com") && !service.contains('*') => {
            if statement["Condition"].as_object().is_none_or(|c| c.is_empty()) {
                return Some(format!(
                    "a statement for the service {service} needs a `Condition` binding it to this tenant"
                ));
            }
        }
        (None, Some(role), 1) if role.starts_with("${aws_iam_role.") && role.ends_with(".arn}") => {}
        _ => {
            return Some(format!(
                "`Principal` must be one AWS service or one role ARN of this stack (`${{aws_iam_role.<name>.arn}}`), not {}",
                statement["Principal"]
            ));
        }
    }
    let actions: Vec<&str> = match &statement["Action"] {
        Value::String(action) => vec![action],
        Value::Array(actions) => actions.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if actions.is_empty() {
        return Some("`Action` must name at least one action".into());
    }
    actions
        .iter()
        .find(|action| !CONTRIBUTABLE_ACTIONS.contains(action))
        .map(|action| {
            format!(
                "`{action}` is not accepted; only {}",
                CONTRIBUTABLE_ACTIONS.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANTS: [&str; 4] = ["acme-corp", "tech-startup", "retail-co", "acme"];

    fn policy_of(tenant_id: &str) -> Value {
        let scope = KeyPolicyScope {
            tenant_id,
            suffix: "dev",
            region: "us-east-1",
            account_id: "${data.aws_caller_identity.crypto.account_id}",
        };
        serde_json::from_str(&key_policy(&scope).render()).unwrap()
    }

    fn statements(policy: &Value) -> &Vec<Value> {
        policy["Statement"].as_array().unwrap()
    }

    #[test]
    fn the_key_policy_never_names_another_tenant() {
        for tenant in TENANTS {
            let policy = policy_of(tenant);
            for statement in statements(&policy) {
                let sid = &statement["Sid"];
                let conditions = statement
                    .get("Condition")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten();
                // `Null` tests whether the tag is present, not whose it is.
                for (operator, keys) in conditions.filter(|(operator, _)| *operator != "Null") {
                    if let Some(value) = keys.get(TENANT_TAG) {
                        assert_eq!(
                            value, tenant,
                            "{tenant}: {sid} {operator} binds the tenant tag to another value"
                        );
                    }
                }
                // Exact ARNs only: a `tenant-{id}-*` pattern would also match the resources of
                // a tenant whose id extends this one (`acme` and `acme-corp`).
                let arn_conditions = statement
                    .pointer("/Condition/ArnEquals")
                    .and_then(Value::as_object);
                for arns in arn_conditions.into_iter().flat_map(|keys| keys.values()) {
                    for arn in arns
                        .as_array()
                        .map_or_else(|| vec![arns], |many| many.iter().collect())
                    {
                        let arn = arn.as_str().unwrap();
                        let name = arn.rsplit(':').next().unwrap();
                        assert!(!arn.contains('*'), "{tenant}: {sid} uses a pattern: {arn}");
                        assert!(
                            name.starts_with(&format!("tenant-{tenant}-")),
                            "{tenant}: {sid} names {arn}"
                        );
                    }
                }
            }
            let text = policy.to_string();
            for other in TENANTS.iter().filter(|other| !tenant.contains(*other)) {
                assert!(!text.contains(other), "the policy of {tenant} mentions {other}");
            }
        }
    }

    #[test]
    fn contributions_are_accepted_only_within_the_extension_points_terms() {
        let valid = json!({
            "Sid": "BackupVaultUse",
            "Effect": "Allow",
            "Principal": {"Service": "backup.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:CreateGrant"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "backup.us-east-1.amazonaws.com"}},
        });
        let with = |pointer: &str, edit: Option<Value>| {
            tenant_plugin_sdk::testing::edited(valid.clone(), pointer, edit)
        };
        // (why, statement, accepted)
        let cases = [
            ("a bound service statement", valid.clone(), true),
            (
                "a role of this stack",
                with("/Principal", Some(json!({"AWS": "${aws_iam_role.backup.arn}"}))),
                true,
            ),
            ("everyone", with("/Principal", Some(json!({"AWS": "*"}))), false),
            ("a service without a condition", with("/Condition", None), false),
            (
                "an account ARN",
                with(
                    "/Principal",
                    Some(json!({"AWS": "arn:aws:iam::111122223333:root"})),
                ),
                false,
            ),
            (
                "key administration",
                with("/Action", Some(json!("kms:PutKeyPolicy"))),
                false,
            ),
            (
                "a wildcard action",
                with("/Action", Some(json!(["kms:*"]))),
                false,
            ),
            ("a deny", with("/Effect", Some(json!("Deny"))), false),
            (
                "another resource",
                with("/Resource", Some(json!("arn:aws:kms:us-east-1:1:key/x"))),
                false,
            ),
            (
                "a NotAction",
                with("/NotAction", Some(json!("kms:Decrypt"))),
                false,
            ),
            (
                "a taken Sid",
                with("/Sid", Some(json!("DenyPrincipalsOfOtherTenants"))),
                false,
            ),
            (
                "a Sid with spaces",
                with("/Sid", Some(json!("Backup use"))),
                false,
            ),
        ];
        for (why, statement, accepted) in cases {
            let contribution = ReceivedContribution {
                contributor: "backup".into(),
                point: TENANT_KEY_POLICY.name.into(),
                body: statement,
            };
            let result = contributed_statements(&[contribution]);
            assert_eq!(result.is_ok(), accepted, "{why}: {result:?}");
            if let Err(error) = result {
                assert!(
                    matches!(&error, PluginError::InvalidContribution(m) if m.contains("`backup`")),
                    "{why}"
                );
            }
        }
        let twice = ReceivedContribution {
            contributor: "backup".into(),
            point: TENANT_KEY_POLICY.name.into(),
            body: valid,
        };
        assert!(
            contributed_statements(&[twice.clone(), twice]).is_err(),
            "one Sid twice"
        );
    }

    #[test]
    fn only_the_deny_and_the_logs_service_reach_beyond_tenant_principals() {
        let policy = policy_of("acme-corp");
        let sids: Vec<_> = statements(&policy)
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(
            sids,
            [
                "EnableAccountAdministration",
                "AllowUseByTenantPrincipals",
                "AllowDynamoDbGrantsForTenantPrincipals",
                "AllowCloudWatchLogsForTenantLogGroups",
                "AllowEventBridgeForTenantDeadLetterQueue",
                "DenyPrincipalsOfOtherTenants"
            ]
        );
        for statement in statements(&policy) {
            if statement["Principal"] == json!({"AWS": "*"}) && statement["Effect"] == "Allow" {
                assert_eq!(statement["Condition"]["StringEquals"][TENANT_TAG], "acme-corp");
                assert_eq!(
                    statement["Condition"]["StringEquals"]["aws:PrincipalAccount"],
                    "${data.aws_caller_identity.crypto.account_id}"
                );
            }
        }
        let deny = &statements(&policy)[5];
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(deny["Condition"]["StringNotEquals"][TENANT_TAG], "acme-corp");
        assert_eq!(
            deny["Condition"]["Null"][TENANT_TAG], "false",
            "untagged principals and services are not denied"
        );
    }
}
