//! The tenant stack fragment: log groups, flow logs, forwarding, and the tenant's read policy.

use crate::access::{EVERY_LOG_READ, READ_LOG_EVENTS, WRITE_LOG_EVENTS, group_and_streams};
use crate::settings::LoggingSettings;
use crate::synth::FLOW_LOGS_ROLE;
use tenant_plugin_sdk::bundled::{ACCOUNT_ID, KMS_KEY_ARN, LOG_GROUP_ARN, LOG_GROUP_NAME, VPC_ID};
use tenant_plugin_sdk::naming::{API_LOG_GROUP, CENTRAL_LOG_FORWARDER, FLOW_LOG_GROUP};
use tenant_plugin_sdk::prelude::*;
use tenant_plugin_sdk::resources::encrypted_log_group;

pub fn synthesize(context: &StackContext<LoggingSettings>) -> Result<Fragment, PluginError> {
    let tenant = context.tenant()?;
    let retention = context.settings.retention_days;
    let (id, suffix, region) = (
        tenant.id.as_str(),
        context.environment_suffix.as_str(),
        context.region.as_str(),
    );
    let key_arn = context.input(&KMS_KEY_ARN)?;
    let account = context.input(&ACCOUNT_ID)?;
    let own_tenant =
        |statement: Statement| statement.condition("StringEquals", "aws:PrincipalTag/TenantId", json!(id));
    let mut fragment = Fragment::default();
    let mut log_group = |local_name: &str, name: String| {
        fragment.resource(
            "aws_cloudwatch_log_group",
            local_name,
            encrypted_log_group(&name, retention, key_arn, standard_tags(Some(id), suffix, &name)),
        )
    };
    let api_logs = log_group("api", API_LOG_GROUP.render(id, suffix));
    let flow_logs = log_group("flow", FLOW_LOG_GROUP.render(id, suffix));

    let forwarder = fragment.data(
        "aws_lambda_function",
        "central_log_forwarder",
        json!({"function_name": CENTRAL_LOG_FORWARDER.render_central(suffix)}),
    );
    // This tenant grants the central forwarder to its own API log group, by exact ARN: central
    // keeps no tenant list (issue 9 item 4) and no group named like a tenant's can feed it (5).
    let subscription = fragment.resource(
        "aws_lambda_permission",
        "central_log_forwarder",
        json!({
            // Unique in the forwarder's policy, which every tenant adds to; not a resource name.
            "statement_id": format!("ApiLogsOf-{id}"),
            "action": "lambda:InvokeFunction",
            "function_name": forwarder.attr("function_name"),
            "principal": "logs.amazonaws.com",
            "source_arn": format!("{}:*", api_logs.attr("arn")),
            "source_account": account,
        }),
    );
    fragment.resource(
        "aws_cloudwatch_log_subscription_filter",
        "api_to_central",
        json!({
            "name": resource_name(id, "api-logs-to-central", suffix),
            "log_group_name": api_logs.attr("name"),
            // Every event: the central group is the complete record.
            "filter_pattern": "",
            "destination_arn": forwarder.attr("arn"),
            // CloudWatch Logs refuses a destination it may not invoke yet.
            "depends_on": [subscription.address()],
        }),
    );

    let role_name = FLOW_LOGS_ROLE.render(id, suffix);
    let trust = PolicyDocument::new().statement(
        Statement::allow("VpcFlowLogsForThisAccount")
            .principal(json!({"Service": "vpc-flow-logs.amazonaws.com"}))
            .actions(&["sts:AssumeRole"])
            .condition("StringEquals", "aws:SourceAccount", json!(account))
            .condition(
                "ArnLike",
                "aws:SourceArn",
                json!(format!("arn:aws:ec2:{region}:{account}:vpc-flow-log/*")),
            ),
    );
    let flow_role = fragment.resource(
        "aws_iam_role",
        "flow_logs",
        json!({
            "name": role_name,
            "description": format!("Delivers VPC flow logs of tenant {id} to its flow log group"),
            "assume_role_policy": trust.render(),
            "tags": standard_tags(Some(id), suffix, &role_name),
        }),
    );
    let delivery = PolicyDocument::new().statement(own_tenant(
        Statement::allow("DeliverToFlowLogGroup")
            .actions(&[&WRITE_LOG_EVENTS[..], &["logs:DescribeLogStreams"]].concat())
            .resources(&group_and_streams(&flow_logs.attr("arn"))),
    ));
    fragment.resource(
        "aws_iam_role_policy",
        "flow_logs",
        json!({
            "name": resource_name(id, "flow-logs-delivery", suffix),
            "role": flow_role.attr("name"),
            "policy": delivery.render(),
        }),
    );
    let flow_log_name = resource_name(id, "flow-log", suffix);
    fragment.resource(
        "aws_flow_log",
        "vpc",
        json!({
            "vpc_id": context.input(&VPC_ID)?,
            "traffic_type": "ALL",
            "log_destination_type": "cloud-watch-logs",
            "log_destination": flow_logs.attr("arn"),
            "iam_role_arn": flow_role.attr("arn"),
            "max_aggregation_interval": 60,
            "tags": standard_tags(Some(id), suffix, &flow_log_name),
        }),
    );

    let flow_role_arn = flow_role.attr("arn");
    for intent in [
        AccessIntent::allow(
            "service:logs.amazonaws.com",
            "lambda:InvokeFunction",
            &forwarder.attr("arn"),
        )
        .context("aws:SourceArn", &format!("{}:*", api_logs.attr("arn")))
        .because("the subscription filter delivers the tenant's API logs to the central forwarder"),
        AccessIntent::allow(
            "service:vpc-flow-logs.amazonaws.com",
            "sts:AssumeRole",
            &flow_role_arn,
        )
        .context(
            "aws:SourceArn",
            &format!("arn:aws:ec2:{region}:{account}:vpc-flow-log/fl-of-this-vpc"),
        )
        .because("VPC Flow Logs assumes the delivery role for this account's flow log"),
        AccessIntent::allow(
            &flow_role_arn,
            "logs:PutLogEvents",
            &format!("{}:log-stream:eni-flows", flow_logs.attr("arn")),
        )
        .because("the delivery role writes the VPC's flow logs into their group"),
        AccessIntent::deny(&flow_role_arn, "logs:FilterLogEvents", &api_logs.attr("arn"))
            .because("the delivery role writes flow logs and reads nothing"),
        AccessIntent::deny("account:other", "sts:AssumeRole", &flow_role_arn)
            .because("only VPC Flow Logs, for this account, assumes the delivery role"),
    ] {
        fragment.intent(intent);
    }

    let own_logs = [
        group_and_streams(&api_logs.attr("arn")),
        group_and_streams(&flow_logs.attr("arn")),
    ]
    .concat();
    let read_own = PolicyDocument::new()
        .statement(own_tenant(
            Statement::allow("ReadOwnLogGroups")
                .actions(&READ_LOG_EVENTS)
                .resources(&own_logs),
        ))
        .statement(
            Statement::deny("DenyLogReadsOutsideOwnGroups")
                .actions(&EVERY_LOG_READ)
                .not_resources(&own_logs),
        );
    let read_policy_name = resource_name(id, "log-read", suffix);
    let read_policy = fragment.resource(
        "aws_iam_policy",
        "log_read",
        json!({
            "name": read_policy_name,
            "description": format!("Read of tenant {id}'s own log groups; denies log reads anywhere else"),
            "policy": read_own.render(),
            "tags": standard_tags(Some(id), suffix, &read_policy_name),
        }),
    );

    fragment.output(
        "log_read_policy_arn",
        json!(read_policy.attr("arn")),
        "Attach to the tenant's principals (tagged TenantId) to let them read their own logs only.",
    );
    fragment.provide(&LOG_GROUP_NAME, api_logs.attr("name"));
    fragment.provide(&LOG_GROUP_ARN, api_logs.attr("arn"));
    Ok(fragment)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Logging;
    use tenant_plugin_sdk::testing::{central_context, settings_with, tenant_context};

    pub(crate) const INPUTS: &[(&str, &str)] = &[
        ("kms-key-arn", "${aws_kms_key.tenant.arn}"),
        ("account-id", "${data.aws_caller_identity.crypto.account_id}"),
        ("vpc-id", "${aws_vpc.tenant.id}"),
    ];

    /// The acme-corp context with what crypto and network provide.
    pub(crate) fn acme_context() -> StackContext<LoggingSettings> {
        tenant_context::<Logging>("acme-corp", "10.0.0.0/16", INPUTS)
    }

    pub(crate) fn acme() -> Fragment {
        synthesize(&acme_context()).unwrap()
    }

    fn read_policy() -> Value {
        let fragment = acme();
        serde_json::from_str(
            fragment.body("aws_iam_policy.log_read").unwrap()["policy"]
                .as_str()
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn the_read_policy_allows_only_own_groups_and_denies_all_others() {
        let policy = read_policy();
        let [allow, deny] = policy["Statement"].as_array().unwrap().as_slice() else {
            panic!("two statements")
        };
        let own = json!([
            "${aws_cloudwatch_log_group.api.arn}",
            "${aws_cloudwatch_log_group.api.arn}:*",
            "${aws_cloudwatch_log_group.flow.arn}",
            "${aws_cloudwatch_log_group.flow.arn}:*",
        ]);
        assert_eq!(allow["Resource"], own);
        assert_eq!(
            allow["Condition"]["StringEquals"]["aws:PrincipalTag/TenantId"],
            "acme-corp"
        );
        assert_eq!(
            (deny["Effect"].as_str(), &deny["NotResource"]),
            (Some("Deny"), &own)
        );
        assert!(
            deny.get("Resource").is_none() && deny.get("Condition").is_none(),
            "the deny holds for anyone"
        );
    }

    #[test]
    fn the_forwarder_is_granted_this_tenants_api_log_group_only() {
        let fragment = acme();
        let permission = fragment
            .body("aws_lambda_permission.central_log_forwarder")
            .unwrap();
        assert_eq!(permission["principal"], "logs.amazonaws.com");
        assert_eq!(permission["source_arn"], "${aws_cloudwatch_log_group.api.arn}:*");
        assert_eq!(
            permission["function_name"],
            "${data.aws_lambda_function.central_log_forwarder.function_name}"
        );
    }

    #[test]
    fn configured_retention_reaches_both_groups() {
        let mut context = acme_context();
        context.settings = settings_with::<Logging>(json!({"retention-days": 90})).unwrap();
        let fragment = synthesize(&context).unwrap();
        for group in ["aws_cloudwatch_log_group.api", "aws_cloudwatch_log_group.flow"] {
            assert_eq!(fragment.body(group).unwrap()["retention_in_days"], 90, "{group}");
        }
    }

    #[test]
    fn unusable_contexts_are_refused() {
        let mut missing_vpc = acme_context();
        missing_vpc.inputs.retain(|(name, _)| name != "vpc-id");
        let cases = [
            (
                central_context::<Logging>(&[]),
                "has no tenant",
                "the central stack is not a tenant's",
            ),
            (missing_vpc, "vpc-id", "no VPC to log"),
        ];
        for (context, expected, reason) in cases {
            let error = synthesize(&context).expect_err(reason);
            assert!(error.to_string().contains(expected), "{reason}: {error}");
        }
    }
}
