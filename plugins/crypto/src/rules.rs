//! The crypto rules, checked over composed stacks so that they also see what other plugins
//! emit.
//!
//! The deletion window is judged by two rules of different weight: a window KMS would reject
//! (or that cannot be read) is an error, a valid window longer than the configured one only a
//! warning, since it delays clean-up but protects nothing less.

use crate::settings::{AWS_DELETION_WINDOW_DAYS, CryptoSettings};
use std::collections::BTreeSet;
use tenant_plugin_sdk::document::{nested_blocks, string};
use tenant_plugin_sdk::prelude::*;

/// Every KMS key rotates.
pub const KEY_ROTATION_ENABLED: Rule = Rule::error(
    "crypto.key-rotation-enabled",
    "Every KMS key has automatic rotation enabled.",
);
/// Every KMS key's deletion window is one KMS accepts.
pub const DELETION_WINDOW_IN_RANGE: Rule = Rule::error(
    "crypto.deletion-window-in-range",
    "Every KMS key's deletion window is a literal number of days KMS accepts (7 to 30).",
);
/// No KMS key's deletion window exceeds the configured one.
pub const SHORT_DELETION_WINDOW: Rule = Rule::warning(
    "crypto.short-deletion-window",
    "No KMS key's deletion window (30 days when unset) is longer than the configured `deletion-window-days`, so stacks are destroyed promptly.",
);
/// No key policy allows a wildcard principal without a binding condition.
pub const NO_UNBOUND_WILDCARD_PRINCIPAL: Rule = Rule::error(
    "crypto.no-unbound-wildcard-principal",
    "No key policy allows a wildcard principal unless a condition binds it to an account, organization or principal ARN.",
);
/// Tenant data is encrypted with a key of the tenant's own stack.
pub const DATA_ENCRYPTED_WITH_TENANT_KEY: Rule = Rule::error(
    "crypto.data-encrypted-with-tenant-key",
    "In a tenant stack every S3 bucket, DynamoDB table, log group, SQS queue and Lambda function is encrypted with a KMS key declared in that stack.",
);

/// Every rule, as `describe` declares them.
pub const RULES: &[Rule] = &[
    KEY_ROTATION_ENABLED,
    DELETION_WINDOW_IN_RANGE,
    SHORT_DELETION_WINDOW,
    NO_UNBOUND_WILDCARD_PRINCIPAL,
    DATA_ENCRYPTED_WITH_TENANT_KEY,
];

/// The window KMS uses when `deletion_window_in_days` is not set.
const KMS_DEFAULT_DELETION_WINDOW_DAYS: u64 = 30;

/// Every rule over one composed stack; `settings` are the ones the stack was synthesized with.
pub fn check_stack(stack: &StackDocument, settings: &CryptoSettings) -> Vec<Finding> {
    let mut findings = key_rotation_enabled(stack, &KEY_ROTATION_ENABLED);
    findings.extend(deletion_window(
        stack,
        &DELETION_WINDOW_IN_RANGE,
        &SHORT_DELETION_WINDOW,
        settings.deletion_window_days,
    ));
    findings.extend(no_unbound_wildcard_principal(
        stack,
        &NO_UNBOUND_WILDCARD_PRINCIPAL,
    ));
    findings.extend(data_encrypted_with_tenant_key(
        stack,
        &DATA_ENCRYPTED_WITH_TENANT_KEY,
    ));
    findings
}

fn key_rotation_enabled(stack: &StackDocument, rule: &Rule) -> Vec<Finding> {
    stack
        .resources_of("aws_kms_key")
        .filter(|key| key.body.get("enable_key_rotation") != Some(&json!(true)))
        .map(|key| {
            rule.finding(
                key.address(),
                format!(
                    "enable_key_rotation is {}, so the key material is never rotated",
                    key.body
                        .get("enable_key_rotation")
                        .map_or_else(|| "not set".to_owned(), Value::to_string)
                ),
                "Set enable_key_rotation = true.",
            )
        })
        .collect()
}

fn deletion_window(stack: &StackDocument, in_range: &Rule, short: &Rule, configured: u64) -> Vec<Finding> {
    let mut findings = Vec::new();
    for key in stack.resources_of("aws_kms_key") {
        let window = key.body.get("deletion_window_in_days");
        match window.map_or(Some(KMS_DEFAULT_DELETION_WINDOW_DAYS), Value::as_u64) {
            Some(days) if !AWS_DELETION_WINDOW_DAYS.contains(&days) => findings.push(in_range.finding(key.address(),
                format!("deletion_window_in_days is {days}; KMS accepts 7 to 30"),
                format!("Set deletion_window_in_days = {configured}."),
            )),
            Some(days) if days > configured => findings.push(short.finding(key.address(),
                format!(
                    "the deletion window is {days} days{}, longer than the configured {configured}, which delays clean-up of destroyed stacks",
                    if window.is_none() { " (the KMS default)" } else { "" }
                ),
                format!("Set deletion_window_in_days = {configured}."),
            )),
            Some(_) => {}
            None => findings.push(in_range.finding(key.address(),
                format!("deletion_window_in_days is {}, not a whole number of days", window.map_or_else(String::new, Value::to_string)),
                format!("Set deletion_window_in_days = {configured}."),
            )),
        }
    }
    findings
}

/// Resource types holding a key policy in `policy`.
const KEY_POLICY_HOLDERS: [&str; 2] = ["aws_kms_key", "aws_kms_key_policy"];

/// Condition operators that can bind a principal (negated and `IfExists` forms cannot).
const BINDING_OPERATORS: [&str; 5] = [
    "StringEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "ArnEquals",
    "ArnLike",
];

/// Condition keys that tie a caller to an account, organization or principal. A principal tag
/// alone does not: any account can tag its principals `TenantId = <tenant>`.
const BINDING_KEYS: [&str; 8] = [
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalArn",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOrgID",
    "kms:CallerAccount",
];

fn no_unbound_wildcard_principal(stack: &StackDocument, rule: &Rule) -> Vec<Finding> {
    let mut findings = Vec::new();
    for holder in stack.resources_of_types(&KEY_POLICY_HOLDERS) {
        // Without a policy KMS applies its default one, which names only the account.
        let Some(text) = string(holder.body, "policy") else {
            continue;
        };
        let Ok(policy) = serde_json::from_str::<Value>(text) else {
            findings.push(rule.finding(holder.address(),
                "the key policy is not a JSON document (e.g. an interpolated data source), so its principals cannot be verified",
                "Write the key policy as a literal JSON document (iam::PolicyDocument::render).",
            ));
            continue;
        };
        let statements = match &policy["Statement"] {
            Value::Array(statements) => statements.iter().collect(),
            statement => vec![statement],
        };
        for (index, statement) in statements.into_iter().enumerate() {
            if statement["Effect"] == "Allow" && grants_everyone(statement) && !is_bound(statement) {
                let sid = statement["Sid"]
                    .as_str()
                    .map_or_else(|| format!("#{index}"), |sid| format!("`{sid}`"));
                findings.push(rule.finding(holder.address(),
                    format!("statement {sid} allows a wildcard principal without a condition binding it to an account, organization or principal"),
                    "Name the principals, or add e.g. StringEquals aws:PrincipalAccount = <account id>.",
                ));
            }
        }
    }
    findings
}

/// Whether a statement's principal is everyone: `*`, `{"AWS": "*"}`, or any `NotPrincipal`.
fn grants_everyone(statement: &Value) -> bool {
    let is_star = |value: &Value| match value {
        Value::String(text) => text == "*",
        Value::Array(items) => items.iter().any(|item| item == "*"),
        _ => false,
    };
    let principal = &statement["Principal"];
    statement.get("NotPrincipal").is_some() || is_star(principal) || principal.get("AWS").is_some_and(is_star)
}

/// Whether a statement's conditions tie the caller to an account, organization or principal.
fn is_bound(statement: &Value) -> bool {
    let Some(conditions) = statement.get("Condition").and_then(Value::as_object) else {
        return false;
    };
    conditions
        .iter()
        .filter(|(operator, _)| BINDING_OPERATORS.contains(&operator.as_str()))
        .any(|(_, keys)| {
            keys.as_object().into_iter().flatten().any(|(key, value)| {
                let binds_nothing = match value {
                    Value::String(text) => text == "*",
                    Value::Array(items) => items.is_empty() || items.iter().any(|item| item == "*"),
                    _ => true,
                };
                BINDING_KEYS
                    .iter()
                    .any(|binding| binding.eq_ignore_ascii_case(key))
                    && !binds_nothing
            })
        })
}

/// The KMS keys declared in one stack, by local name.
struct StackKeys<'a> {
    names: BTreeSet<&'a str>,
}

/// Key attributes an attribute accepts: an ARN only, or also the key id.
const ARN_ONLY: &[&str] = &["arn"];
const ARN_OR_KEY_ID: &[&str] = &["arn", "id", "key_id"];

impl StackKeys<'_> {
    /// Why `body[attribute]` does not name a key of this stack by one of the `accepted`
    /// attributes, if it does not.
    fn problem(&self, body: &Value, attribute: &str, accepted: &[&str]) -> Option<String> {
        let Some(reference) = string(body, attribute) else {
            return Some(format!(
                "sets no `{attribute}`, so AWS encrypts with a key it owns or manages, not the tenant's"
            ));
        };
        let referenced = reference
            .strip_prefix("${aws_kms_key.")
            .and_then(|rest| rest.strip_suffix('}'))
            .and_then(|rest| rest.split_once('.'))
            .filter(|(name, _)| self.names.contains(name));
        match referenced {
            Some((_, key_attribute)) if accepted.contains(&key_attribute) => None,
            Some((_, key_attribute)) => Some(format!(
                "`{attribute}` = `{reference}` names the key by `{key_attribute}`; `{attribute}` needs its {}",
                accepted.join(" or ")
            )),
            None if reference.starts_with("alias/aws/") || reference.contains(":alias/aws/") => Some(
                format!("`{attribute}` = `{reference}` is an AWS-managed key, not the tenant's"),
            ),
            None => Some(format!(
                "`{attribute}` = `{reference}` is not a KMS key declared in this tenant stack"
            )),
        }
    }
}

type EncryptionCheck = fn(&Value, &StackKeys<'_>) -> Vec<String>;

/// The encrypted resource types and how each names its key.
const ENCRYPTED_RESOURCES: [(&str, EncryptionCheck); 5] = [
    (
        "aws_s3_bucket_server_side_encryption_configuration",
        s3_default_encryption,
    ),
    ("aws_dynamodb_table", dynamodb_encryption),
    ("aws_cloudwatch_log_group", |body, keys| {
        keys.problem(body, "kms_key_id", ARN_ONLY).into_iter().collect()
    }),
    ("aws_sqs_queue", |body, keys| {
        keys.problem(body, "kms_master_key_id", ARN_OR_KEY_ID)
            .into_iter()
            .collect()
    }),
    ("aws_lambda_function", |body, keys| {
        keys.problem(body, "kms_key_arn", ARN_ONLY).into_iter().collect()
    }),
];

fn s3_default_encryption(body: &Value, keys: &StackKeys<'_>) -> Vec<String> {
    let defaults: Vec<&Value> = nested_blocks(body, "rule")
        .flat_map(|rule| nested_blocks(rule, "apply_server_side_encryption_by_default"))
        .collect();
    if defaults.is_empty() {
        return vec![
            "has no apply_server_side_encryption_by_default, so S3 encrypts with its own keys".to_owned(),
        ];
    }
    defaults
        .into_iter()
        .filter_map(|default| match string(default, "sse_algorithm") {
            Some("aws:kms" | "aws:kms:dsse") => keys.problem(default, "kms_master_key_id", ARN_OR_KEY_ID),
            algorithm => Some(format!(
                "sse_algorithm is {}, not aws:kms",
                algorithm.unwrap_or("not set")
            )),
        })
        .collect()
}

fn dynamodb_encryption(body: &Value, keys: &StackKeys<'_>) -> Vec<String> {
    let problem = match nested_blocks(body, "server_side_encryption").next() {
        Some(encryption) if encryption.get("enabled") == Some(&json!(true)) => {
            keys.problem(encryption, "kms_key_arn", ARN_OR_KEY_ID)
        }
        _ => Some("does not enable server_side_encryption, so DynamoDB uses a key AWS owns".to_owned()),
    };
    problem.into_iter().collect()
}

/// Whether an S3 encryption configuration's `bucket` points at `bucket_address`.
fn configures_bucket(configuration: &Value, bucket_address: &str) -> bool {
    string(configuration, "bucket").is_some_and(|bucket| {
        ["id", "bucket"]
            .iter()
            .any(|attribute| bucket == format!("${{{bucket_address}.{attribute}}}"))
    })
}

fn data_encrypted_with_tenant_key(stack: &StackDocument, rule: &Rule) -> Vec<Finding> {
    if stack.tenant.is_none() {
        return Vec::new();
    }
    let keys = StackKeys {
        names: stack.resources_of("aws_kms_key").map(|key| key.name).collect(),
    };
    let remediation = |type_name: &str| {
        format!(
            "Encrypt the {type_name} with the tenant key declared in this stack, e.g. `${{aws_kms_key.tenant.arn}}` (the crypto plugin's kms-key-arn)."
        )
    };
    let mut findings = Vec::new();
    for (type_name, check) in ENCRYPTED_RESOURCES {
        for resource in stack.resources_of(type_name) {
            findings.extend(
                check(resource.body, &keys)
                    .into_iter()
                    .map(|problem| rule.finding(resource.address(), problem, remediation(type_name))),
            );
        }
    }
    let configurations: Vec<_> = stack
        .resources_of("aws_s3_bucket_server_side_encryption_configuration")
        .collect();
    for bucket in stack.resources_of("aws_s3_bucket") {
        let address = bucket.address();
        if !configurations
            .iter()
            .any(|configuration| configures_bucket(configuration.body, &address))
        {
            findings.push(rule.finding(address,
                "has no aws_s3_bucket_server_side_encryption_configuration, so S3 encrypts it with its own keys",
                remediation("aws_s3_bucket_server_side_encryption_configuration"),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Crypto;
    use tenant_plugin_sdk::testing::{default_settings, settings_with};

    fn stack(tenant: bool, resources: Value) -> StackDocument {
        let name = if tenant {
            "tenant-acme-corp-dev"
        } else {
            "central-dev"
        };
        let tenant = tenant.then(|| Tenant {
            id: "acme-corp".into(),
            cidr_block: "10.0.0.0/16".into(),
        });
        tenant_plugin_sdk::testing::received(name, tenant, &json!({"resource": resources}))
    }

    /// A key passing every key rule, to combine with the resources under test.
    fn good_key() -> Value {
        json!({"enable_key_rotation": true, "deletion_window_in_days": 7})
    }

    /// The `(rule id, address)` findings a case expects.
    type Expected = Vec<(Rule, &'static str)>;

    /// `(rule id, address)` of every finding.
    fn reported(document: &StackDocument) -> Vec<(String, String)> {
        check_stack(document, &default_settings::<Crypto>())
            .into_iter()
            .map(|f| (f.rule_id, f.address))
            .collect()
    }

    #[test]
    fn rules_flag_violations_and_pass_compliant_documents() {
        let policy =
            |statement: Value| json!({"Version": "2012-10-17", "Statement": [statement]}).to_string();
        // (why, in a tenant stack, resources, (rule, address) findings expected)
        let cases: Vec<(&str, bool, Value, Expected)> = vec![
            (
                "a compliant key",
                false,
                json!({"aws_kms_key": {"k": good_key()}}),
                vec![],
            ),
            (
                "rotation off and unset",
                false,
                json!({"aws_kms_key": {"off": {"enable_key_rotation": false, "deletion_window_in_days": 7}, "unset": {"deletion_window_in_days": 7}}}),
                vec![
                    (KEY_ROTATION_ENABLED, "aws_kms_key.off"),
                    (KEY_ROTATION_ENABLED, "aws_kms_key.unset"),
                ],
            ),
            (
                "windows KMS rejects or cannot read",
                false,
                json!({"aws_kms_key": {
                    "short": {"enable_key_rotation": true, "deletion_window_in_days": 6},
                    "long": {"enable_key_rotation": true, "deletion_window_in_days": 31},
                    "computed": {"enable_key_rotation": true, "deletion_window_in_days": "${var.days}"}
                }}),
                vec![
                    (DELETION_WINDOW_IN_RANGE, "aws_kms_key.computed"),
                    (DELETION_WINDOW_IN_RANGE, "aws_kms_key.long"),
                    (DELETION_WINDOW_IN_RANGE, "aws_kms_key.short"),
                ],
            ),
            (
                "valid windows above the configured 7 days, including the default of 30",
                false,
                json!({"aws_kms_key": {"ten": {"enable_key_rotation": true, "deletion_window_in_days": 10}, "default": {"enable_key_rotation": true}}}),
                vec![
                    (SHORT_DELETION_WINDOW, "aws_kms_key.default"),
                    (SHORT_DELETION_WINDOW, "aws_kms_key.ten"),
                ],
            ),
            (
                "wildcard principals without binding conditions",
                false,
                json!({
                    "aws_kms_key": {"k": {"enable_key_rotation": true, "deletion_window_in_days": 7,
                        "policy": policy(json!({"Sid": "Open", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}))}},
                    "aws_kms_key_policy": {
                        "star": {"policy": policy(json!({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}))},
                        "tag_only": {"policy": policy(json!({"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "kms:Decrypt",
                            "Condition": {"StringEquals": {"aws:PrincipalTag/TenantId": "acme-corp"}}}))},
                        "negated": {"policy": policy(json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
                            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}}))},
                        "unreadable": {"policy": "${data.aws_iam_policy_document.key.json}"}
                    }
                }),
                vec![
                    (NO_UNBOUND_WILDCARD_PRINCIPAL, "aws_kms_key.k"),
                    (NO_UNBOUND_WILDCARD_PRINCIPAL, "aws_kms_key_policy.negated"),
                    (NO_UNBOUND_WILDCARD_PRINCIPAL, "aws_kms_key_policy.star"),
                    (NO_UNBOUND_WILDCARD_PRINCIPAL, "aws_kms_key_policy.tag_only"),
                    (NO_UNBOUND_WILDCARD_PRINCIPAL, "aws_kms_key_policy.unreadable"),
                ],
            ),
            (
                "bound wildcards, named principals and denies",
                false,
                json!({"aws_kms_key_policy": {
                    "bound": {"policy": policy(json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
                        "Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333", "aws:PrincipalTag/TenantId": "acme-corp"}}}))},
                    "named": {"policy": policy(json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*"}))},
                    "deny": {"policy": policy(json!({"Effect": "Deny", "Principal": "*", "Action": "kms:*"}))}
                }}),
                vec![],
            ),
            (
                "data encrypted with AWS keys, foreign keys or not at all",
                true,
                json!({
                    "aws_kms_key": {"tenant": good_key()},
                    "aws_s3_bucket": {"data": {}, "unconfigured": {}},
                    "aws_s3_bucket_server_side_encryption_configuration": {
                        "data": {"bucket": "${aws_s3_bucket.data.id}", "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "AES256"}]}]}
                    },
                    "aws_dynamodb_table": {
                        "owned": {},
                        "managed": {"server_side_encryption": [{"enabled": true, "kms_key_arn": "arn:aws:kms:us-east-1:111122223333:alias/aws/dynamodb"}]}
                    },
                    "aws_cloudwatch_log_group": {"by_id": {"kms_key_id": "${aws_kms_key.tenant.id}"}},
                    "aws_sqs_queue": {"foreign": {"kms_master_key_id": "${aws_kms_key.other.arn}"}, "managed": {"kms_master_key_id": "alias/aws/sqs"}},
                    "aws_lambda_function": {"api": {}}
                }),
                vec![
                    (
                        DATA_ENCRYPTED_WITH_TENANT_KEY,
                        "aws_s3_bucket_server_side_encryption_configuration.data",
                    ),
                    (DATA_ENCRYPTED_WITH_TENANT_KEY, "aws_dynamodb_table.managed"),
                    (DATA_ENCRYPTED_WITH_TENANT_KEY, "aws_dynamodb_table.owned"),
                    (DATA_ENCRYPTED_WITH_TENANT_KEY, "aws_cloudwatch_log_group.by_id"),
                    (DATA_ENCRYPTED_WITH_TENANT_KEY, "aws_sqs_queue.foreign"),
                    (DATA_ENCRYPTED_WITH_TENANT_KEY, "aws_sqs_queue.managed"),
                    (DATA_ENCRYPTED_WITH_TENANT_KEY, "aws_lambda_function.api"),
                    (DATA_ENCRYPTED_WITH_TENANT_KEY, "aws_s3_bucket.unconfigured"),
                ],
            ),
            (
                "data encrypted with the stack's own key",
                true,
                json!({
                    "aws_kms_key": {"tenant": good_key()},
                    "aws_s3_bucket": {"data": {}},
                    "aws_s3_bucket_server_side_encryption_configuration": {
                        "data": {"bucket": "${aws_s3_bucket.data.bucket}", "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.tenant.arn}"}]}]}
                    },
                    "aws_dynamodb_table": {"metadata": {"server_side_encryption": [{"enabled": true, "kms_key_arn": "${aws_kms_key.tenant.arn}"}]}},
                    "aws_cloudwatch_log_group": {"api": {"kms_key_id": "${aws_kms_key.tenant.arn}"}},
                    "aws_sqs_queue": {"dlq": {"kms_master_key_id": "${aws_kms_key.tenant.key_id}"}},
                    "aws_lambda_function": {"api": {"kms_key_arn": "${aws_kms_key.tenant.arn}"}}
                }),
                vec![],
            ),
            (
                "the central stack is no tenant's data",
                false,
                json!({"aws_kms_key": {"central": good_key()}, "aws_cloudwatch_log_group": {"central": {}}}),
                vec![],
            ),
        ];
        for (why, tenant, resources, expected) in cases {
            let expected: Vec<_> = expected
                .into_iter()
                .map(|(rule, address)| (rule.id.to_owned(), address.to_owned()))
                .collect();
            assert_eq!(reported(&stack(tenant, resources)), expected, "{why}");
        }
    }

    #[test]
    fn severities_follow_the_rules() {
        let document = stack(
            false,
            json!({"aws_kms_key": {"slow": {"enable_key_rotation": true, "deletion_window_in_days": 20},
                                                          "invalid": {"enable_key_rotation": true, "deletion_window_in_days": 40}}}),
        );
        let findings = check_stack(&document, &default_settings::<Crypto>());
        let severity_of = |address: &str| findings.iter().find(|f| f.address == address).map(|f| f.severity);
        assert_eq!(severity_of("aws_kms_key.slow"), Some(Severity::Warning));
        assert_eq!(severity_of("aws_kms_key.invalid"), Some(Severity::Error));
        let relaxed = settings_with::<Crypto>(json!({"deletion-window-days": 30})).unwrap();
        assert!(
            check_stack(&document, &relaxed)
                .iter()
                .all(|f| f.address != "aws_kms_key.slow"),
            "20 ≤ 30 configured"
        );
    }
}
