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

use tenant_plugin_sdk::iam::{key_administration, logs_key_use};
use tenant_plugin_sdk::naming::{
    api_log_group_name, flow_log_group_name, log_group_arn, tenant_events_dlq_name,
};
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
    [api_log_group_name, flow_log_group_name]
        .iter()
        .map(|name| {
            log_group_arn(
                scope.region,
                scope.account_id,
                &name(scope.tenant_id, scope.suffix),
            )
        })
        .collect()
}

/// The tenant's EventBridge dead-letter queue, which the events plugin declares under the SDK's
/// `naming::tenant_events_dlq_name`.
pub fn tenant_dead_letter_queue_arn(scope: &KeyPolicyScope<'_>) -> String {
    format!(
        "arn:aws:sqs:{}:{}:{}",
        scope.region,
        scope.account_id,
        tenant_events_dlq_name(scope.tenant_id, scope.suffix)
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
