//! The central stack fragment: the central log group, its key, the forwarder and its plumbing.

use crate::access::{READ_LOG_EVENTS, WRITE_LOG_EVENTS, group_and_streams};
use crate::deployment::{asset_path, forwarder_package};
use crate::settings::LoggingSettings;
use crate::synth::FLOW_LOGS_ROLE;
use tenant_plugin_sdk::bundled::{CENTRAL_LOG_GROUP_ARN, CENTRAL_LOG_GROUP_NAME};
use tenant_plugin_sdk::iam::{key_administration, logs_key_use};
use tenant_plugin_sdk::naming::{
    API_ROLE, CENTRAL_LOG_FORWARDER, CENTRAL_LOG_GROUP, log_group_arn, role_arn,
};
use tenant_plugin_sdk::package::PackageDigest;
use tenant_plugin_sdk::prelude::*;
use tenant_plugin_sdk::resources::{dead_letter_queue, encrypted_log_group};

/// Throttled asynchronous invocations are retried for up to six hours, so the cap delays events
/// under a burst rather than losing them; it keeps the forwarder from taking the account's
/// concurrency away from the tenants' functions.
const FORWARDER_RESERVED_CONCURRENCY: u64 = 10;

pub fn synthesize(context: &StackContext<LoggingSettings>) -> Result<Fragment, PluginError> {
    if context.tenant.is_some() {
        return Err(PluginError::InvalidContext(format!(
            "stack `{}` is a tenant stack",
            context.stack
        )));
    }
    let retention = context.settings.retention_days;
    let (suffix, region) = (context.environment_suffix.as_str(), context.region.as_str());
    let tags = |name: &str| standard_tags(None, suffix, name);
    // Central resources follow the fleet's pattern with `saas-central` in place of the tenant.
    let central_name = |kind: &str| format!("saas-central-{kind}-{suffix}");
    let mut fragment = Fragment::default();

    let caller = fragment.data("aws_caller_identity", "logging", json!({}));
    let account = caller.attr("account_id");
    let central_group_name = CENTRAL_LOG_GROUP.render_central(suffix);
    let forwarder_name = CENTRAL_LOG_FORWARDER.render_central(suffix);
    let forwarder_group_name = format!("/aws/lambda/{forwarder_name}");
    // Literal ARNs: the key must exist before the groups it encrypts, so it cannot refer to them.
    let group_arn = |name: &str| log_group_arn(region, &account, name);

    let key_policy = PolicyDocument::new()
        .statement(key_administration("AccountAdministersKey", &account))
        .statement(logs_key_use(
            "CloudWatchLogsEncryptsCentralGroups",
            region,
            &[group_arn(&central_group_name), group_arn(&forwarder_group_name)],
        ));
    let key_name = central_name("logs");
    let key = fragment.resource(
        "aws_kms_key",
        "central_logs",
        json!({
            "description": format!("Encrypts the central log groups and the log forwarder's DLQ ({suffix})"),
            "enable_key_rotation": true,
            "deletion_window_in_days": 7,
            "policy": key_policy.render(),
            "tags": tags(&key_name),
        }),
    );
    fragment.resource(
        "aws_kms_alias",
        "central_logs",
        json!({"name": format!("alias/{key_name}"), "target_key_id": key.attr("key_id")}),
    );

    let mut log_group = |local_name: &str, name: &str| {
        fragment.resource(
            "aws_cloudwatch_log_group",
            local_name,
            encrypted_log_group(name, retention, &key.attr("arn"), tags(name)),
        )
    };
    let central_group = log_group("central", &central_group_name);
    let forwarder_group = log_group("log_forwarder", &forwarder_group_name);

    let dlq_name = central_name("log-forwarder-dlq");
    let dlq = fragment.resource(
        "aws_sqs_queue",
        "log_forwarder_dlq",
        dead_letter_queue(&dlq_name, &key.attr("arn"), tags(&dlq_name)),
    );

    let role_name = central_name("log-forwarder-role");
    let trust = PolicyDocument::new().statement(
        Statement::allow("LambdaAssumes")
            .principal(json!({"Service": "lambda.amazonaws.com"}))
            .actions(&["sts:AssumeRole"])
            .condition("StringEquals", "aws:SourceAccount", json!(account)),
    );
    let role = fragment.resource(
        "aws_iam_role",
        "log_forwarder",
        json!({
            "name": role_name,
            "description": "Runs the central log forwarder: writes to the central log group only",
            "assume_role_policy": trust.render(),
            "tags": tags(&role_name),
        }),
    );
    let permissions = PolicyDocument::new()
        .statement(
            Statement::allow("WriteCentralLogGroup")
                .actions(&WRITE_LOG_EVENTS)
                .resources(&group_and_streams(&central_group.attr("arn"))),
        )
        .statement(
            Statement::allow("WriteOwnLogGroup")
                .actions(&WRITE_LOG_EVENTS)
                .resources(&group_and_streams(&forwarder_group.attr("arn"))),
        )
        .statement(
            Statement::allow("SendToDeadLetterQueue")
                .actions(&["sqs:SendMessage"])
                .resources(&[dlq.attr("arn")]),
        )
        .statement(
            // The DLQ is SSE-KMS: sending to it encrypts with the central key, through SQS only.
            Statement::allow("EncryptDeadLetters")
                .actions(&["kms:GenerateDataKey", "kms:Decrypt"])
                .resources(&[key.attr("arn")])
                .condition(
                    "StringEquals",
                    "kms:ViaService",
                    json!(format!("sqs.{region}.amazonaws.com")),
                ),
        )
        .statement(
            // Lambda decrypts the function's environment (encrypted with the central key) with
            // the execution role's own credentials, not through SQS (issue 9 item 1): without
            // this, every invocation fails with KMSAccessDeniedException.
            Statement::allow("DecryptOwnEnvironment")
                .actions(&["kms:Decrypt"])
                .resources(&[key.attr("arn")])
                .condition(
                    "StringEquals",
                    "kms:EncryptionContext:LambdaFunctionName",
                    json!(forwarder_name),
                ),
        )
        .statement(
            // X-Ray has no resource-level permissions: AWS only accepts `*` here.
            Statement::allow("WriteTraces")
                .actions(&["xray:PutTraceSegments", "xray:PutTelemetryRecords"])
                .resources(&["*"]),
        );
    let role_policy = fragment.resource(
        "aws_iam_role_policy",
        "log_forwarder",
        json!({"name": central_name("log-forwarder-permissions"), "role": role.attr("name"), "policy": permissions.render()}),
    );

    let package = forwarder_package();
    let digest = PackageDigest::of(&package);
    let source_code_hash = digest.base64;
    let filename = fragment.asset(&asset_path(&digest.hex), package);
    let forwarder = fragment.resource(
        "aws_lambda_function",
        "log_forwarder",
        json!({
            "function_name": forwarder_name,
            "description": "Copies tenant log events into the central log group under tenant-prefixed streams",
            "role": role.attr("arn"),
            "runtime": "python3.12",
            "handler": "forwarder.handler",
            "architectures": ["arm64"],
            "memory_size": 256,
            "timeout": 60,
            "reserved_concurrent_executions": FORWARDER_RESERVED_CONCURRENCY,
            "filename": filename,
            "source_code_hash": source_code_hash,
            "kms_key_arn": key.attr("arn"),
            "environment": [{"variables": {
                "CENTRAL_LOG_GROUP": central_group.attr("name"),
                "ENVIRONMENT_SUFFIX": suffix,
            }}],
            "tracing_config": [{"mode": "Active"}],
            "dead_letter_config": [{"target_arn": dlq.attr("arn")}],
            "logging_config": [{"log_format": "JSON", "log_group": forwarder_group.attr("name")}],
            // Lambda refuses a DLQ the role cannot send to, so the grant must exist first.
            "depends_on": [role_policy.address()],
            "tags": tags(&forwarder_name),
        }),
    );
    // No permission here: each tenant stack grants the forwarder to its own log group by exact
    // ARN, so central lists no tenants (issue 9 item 4) and no look-alike group can invoke it (5).
    let (role_arn, key_arn, dlq_arn) = (role.attr("arn"), key.attr("arn"), dlq.attr("arn"));
    for intent in [
        AccessIntent::environment_decryption(&role_arn, &key_arn, &forwarder_name),
        AccessIntent::dead_letter_delivery(&role_arn, &dlq_arn, &forwarder_name),
        AccessIntent::queue_encryption(&role_arn, &key_arn, &dlq_arn, region),
        AccessIntent::log_group_encryption(region, &key_arn, &central_group.attr("arn")),
        AccessIntent::log_group_encryption(region, &key_arn, &forwarder_group.attr("arn")),
        AccessIntent::allow(
            &role_arn,
            "logs:PutLogEvents",
            &format!("{}:log-stream:tenant/stream", central_group.attr("arn")),
        )
        .because("the forwarder writes every tenant's events into the central log group"),
    ] {
        fragment.intent(intent);
    }
    central_key_intents(
        &mut fragment,
        context,
        &key_arn,
        &central_group.attr("arn"),
        &account,
    );
    fragment.intent(
        AccessIntent::deny(
            "service:logs.amazonaws.com",
            "lambda:InvokeFunction",
            &forwarder.attr("arn"),
        )
        .context(
            "aws:SourceArn",
            &format!("arn:aws:logs:{region}:{account}:log-group:tenant-look-alike-api-logs-{suffix}:*"),
        )
        .because("only log groups a tenant stack granted may feed the central stream"),
    );

    let read_name = central_name("logs-read");
    let read = PolicyDocument::new().statement(
        Statement::allow("ReadCentralLogGroup")
            .actions(&READ_LOG_EVENTS)
            .resources(&group_and_streams(&central_group.attr("arn"))),
    );
    let read_policy = fragment.resource(
        "aws_iam_policy",
        "central_logs_read",
        json!({
            "name": read_name,
            "description": "Read of the central log group only; attach to the platform operator role",
            "policy": read.render(),
            "tags": tags(&read_name),
        }),
    );

    fragment.output(
        "central_log_group_name",
        json!(central_group.attr("name")),
        "The central log group.",
    );
    fragment.output(
        "central_logs_read_policy_arn",
        json!(read_policy.attr("arn")),
        "Attach to the platform operator role to read the central log group.",
    );
    fragment.output(
        "central_log_forwarder_arn",
        json!(forwarder.attr("arn")),
        "The central log forwarder.",
    );
    fragment.provide(&CENTRAL_LOG_GROUP_NAME, central_group.attr("name"));
    fragment.provide(&CENTRAL_LOG_GROUP_ARN, central_group.attr("arn"));
    Ok(fragment)
}

/// The central key is shared by every tenant's forwarded events (keys per tenant would need the
/// central stack to list the tenants, which it must not: tenants join without re-applying it). It
/// is therefore the operators' alone: no principal bound to a tenant, the tenant's API role nor
/// its flow-log delivery role, can decrypt with it or read the central log group.
/// `logging.central-key-private` keeps the key policy from granting it to them.
fn central_key_intents(
    fragment: &mut Fragment,
    context: &StackContext<LoggingSettings>,
    key_arn: &str,
    central_group_arn: &str,
    account: &str,
) {
    let suffix = context.environment_suffix.as_str();
    let private = [
        ("kms:Decrypt", key_arn.to_owned()),
        ("logs:FilterLogEvents", central_group_arn.to_owned()),
        ("logs:GetLogEvents", format!("{central_group_arn}:log-stream:any")),
    ];
    for tenant in &context.fleet {
        for role in [&API_ROLE, &FLOW_LOGS_ROLE] {
            let principal = role_arn(account, &role.render(&tenant.id, suffix));
            for (action, resource) in &private {
                fragment.intent(
                    AccessIntent::deny(&principal, action, resource)
                        .because("central logs hold every tenant's events: only operators read them"),
                );
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Logging;
    use tenant_plugin_sdk::AccessExpectation;
    use tenant_plugin_sdk::testing::{assert_reproducible_package, central_context, tenant_context};

    pub(crate) fn central() -> Fragment {
        synthesize(&central_context::<Logging>(&[])).unwrap()
    }

    #[test]
    fn the_package_is_reproducible_and_pinned_by_its_hash() {
        assert_reproducible_package(
            &central(),
            &central(),
            "assets/log-forwarder",
            "aws_lambda_function.log_forwarder",
        );
    }

    #[test]
    fn every_tenant_bound_role_is_denied_the_central_key_and_group() {
        // Proven over the composed fleet in tests/bundled-fleet; here: who is named.
        let fragment = central();
        let denied: Vec<(&str, &str)> = fragment
            .intents
            .iter()
            .filter(|intent| intent.expect == AccessExpectation::Deny && intent.principal.contains(":role/"))
            .map(|intent| (intent.principal.as_str(), intent.action.as_str()))
            .collect();
        assert_eq!(denied.len(), 3 * 2 * 3, "{denied:#?}");
        for tenant in ["acme-corp", "tech-startup", "retail-co"] {
            for role in ["lambda-role", "flow-logs-role"] {
                let principal = format!(
                    "arn:aws:iam::${{data.aws_caller_identity.logging.account_id}}:role/tenant-{tenant}-{role}-dev"
                );
                let actions: Vec<&str> = denied
                    .iter()
                    .filter(|(p, _)| *p == principal)
                    .map(|(_, action)| *action)
                    .collect();
                assert_eq!(
                    actions,
                    ["kms:Decrypt", "logs:FilterLogEvents", "logs:GetLogEvents"],
                    "{principal}"
                );
            }
        }
    }

    #[test]
    fn the_forwarder_bakes_in_no_tenant_list() {
        // Issue 9 item 4: a tenant added later needs no change to the central stack.
        let fragment = central();
        let variables =
            &fragment.body("aws_lambda_function.log_forwarder").unwrap()["environment"][0]["variables"];
        assert!(variables.get("TENANT_IDS").is_none(), "{variables}");
        assert_eq!(variables["ENVIRONMENT_SUFFIX"], "dev");
        assert!(
            fragment
                .body("aws_lambda_permission.tenant_log_subscriptions")
                .is_none()
        );
    }

    #[test]
    fn tenant_stacks_are_refused() {
        let error = synthesize(&tenant_context::<Logging>("acme-corp", "10.0.0.0/16", &[])).unwrap_err();
        assert!(error.to_string().contains("tenant stack"));
    }
}
