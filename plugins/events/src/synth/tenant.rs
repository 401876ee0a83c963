//! The tenant stack's part: a rule on the central bus that routes this tenant's events, and only
//! them, to the tenant's API function.

use crate::delivery::{self, DeadLetterQueue, QUEUE_NAME_LIMIT, RULE_NAME_LIMIT, rule_delivery};
use crate::settings::EventsSettings;
use tenant_plugin_sdk::bundled::{ACCOUNT_ID, FUNCTION_ARN, FUNCTION_NAME, KMS_KEY_ARN};
use tenant_plugin_sdk::naming;
use tenant_plugin_sdk::prelude::*;

/// The event pattern of a tenant's routing rule: events from the platform (`saas.*` sources)
/// whose `detail.tenant_id` is this tenant.
pub fn event_pattern(tenant_id: &str) -> Value {
    json!({
        "source": [{"prefix": "saas."}],
        "detail": {"tenant_id": [tenant_id]},
    })
}

/// The tenant stack fragment.
pub fn fragment(context: &StackContext<EventsSettings>) -> Result<Fragment, PluginError> {
    let tenant = context.tenant()?;
    let suffix = &context.environment_suffix;
    let delivery = context.settings.delivery();
    let function_arn = context.input(&FUNCTION_ARN)?;
    let function_name = context.input(&FUNCTION_NAME)?;
    let kms_key_arn = context.input(&KMS_KEY_ARN)?;
    let account_id = context.input(&ACCOUNT_ID)?;
    // The central stack owns the bus; a tenant stack knows it only by its conventional name.
    let bus_name = naming::EVENT_BUS.render_central(suffix);
    let rule_name = delivery::within_limit(
        naming::TENANT_EVENTS_RULE.render(&tenant.id, suffix),
        RULE_NAME_LIMIT,
        "rule",
    )?;
    let queue_name = delivery::within_limit(
        naming::TENANT_EVENTS_DLQ.render(&tenant.id, suffix),
        QUEUE_NAME_LIMIT,
        "queue",
    )?;

    let mut fragment = Fragment::default();
    let rule = fragment.resource(
        "aws_cloudwatch_event_rule",
        "tenant_events",
        json!({
            "name": rule_name,
            "description": format!("Routes platform events about tenant {} to its API function.", tenant.id),
            "event_bus_name": bus_name,
            "event_pattern": event_pattern(&tenant.id).to_string(),
            "tags": standard_tags(Some(&tenant.id), suffix, &rule_name),
        }),
    );
    let dead_letter_queue = DeadLetterQueue {
        local_name: "events_dlq",
        name: &queue_name,
        kms_key: kms_key_arn,
        rule: &rule,
        account_id,
        tags: standard_tags(Some(&tenant.id), suffix, &queue_name),
    }
    .add_to(&mut fragment);
    fragment.resource(
        "aws_cloudwatch_event_target",
        "tenant_events",
        delivery::target_body(
            &rule,
            &bus_name,
            "tenant-api",
            function_arn,
            delivery,
            &dead_letter_queue,
            json!({}),
        ),
    );
    fragment.resource(
        "aws_lambda_permission",
        "tenant_events",
        json!({
            "statement_id": "AllowTenantEventsRule",
            "action": "lambda:InvokeFunction",
            "function_name": function_name,
            "principal": "events.amazonaws.com",
            "source_arn": rule.attr("arn"),
            "source_account": account_id,
        }),
    );
    // A rule of a tenant whose id begins with this one's: its deliveries must not get through.
    let look_alike_rule = format!(
        "arn:aws:events:{}:{account_id}:rule/{bus_name}/{}",
        context.region,
        naming::TENANT_EVENTS_RULE.render(&naming::look_alike_tenant(&tenant.id), suffix)
    );
    let rule_arn = rule.attr("arn");
    let queue_arn = dead_letter_queue.attr("arn");
    for intent in [
        rule_delivery("lambda:InvokeFunction", function_arn, &rule_arn)
            .because("EventBridge invokes the tenant's API with the tenant's events"),
        rule_delivery("lambda:InvokeFunction", function_arn, &look_alike_rule)
            .denied()
            .because("no other tenant's rule invokes this tenant's API"),
        rule_delivery("sqs:SendMessage", &queue_arn, &look_alike_rule)
            .denied()
            .because("no other tenant's rule writes into this tenant's dead-letter queue"),
    ] {
        fragment.intent(intent);
    }
    fragment.output(
        "events_rule_arn",
        json!(rule.attr("arn")),
        "ARN of the rule routing this tenant's platform events to its API function.",
    );
    Ok(fragment)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Events;
    use tenant_plugin_sdk::testing::tenant_context;

    pub const INPUTS: [(&str, &str); 4] = [
        ("function-arn", "${aws_lambda_function.api.arn}"),
        ("function-name", "${aws_lambda_function.api.function_name}"),
        ("kms-key-arn", "${aws_kms_key.tenant.arn}"),
        ("account-id", "${data.aws_caller_identity.crypto.account_id}"),
    ];

    /// The acme-corp context with what crypto and compute provide.
    pub(crate) fn acme_context() -> StackContext<EventsSettings> {
        tenant_context::<Events>("acme-corp", "10.0.0.0/16", &INPUTS)
    }

    #[test]
    fn the_rule_listens_on_the_central_bus_for_this_tenant_only() {
        let fragment = fragment(&tenant_context::<Events>("retail-co", "10.2.0.0/16", &INPUTS)).unwrap();
        let rule = fragment.body("aws_cloudwatch_event_rule.tenant_events").unwrap();
        assert_eq!(rule["name"], "tenant-retail-co-events-dev");
        assert_eq!(rule["event_bus_name"], "saas-tenant-events-dev");
        let pattern: Value = serde_json::from_str(rule["event_pattern"].as_str().unwrap()).unwrap();
        assert_eq!(pattern["detail"]["tenant_id"], json!(["retail-co"]));
        let target = fragment
            .body("aws_cloudwatch_event_target.tenant_events")
            .unwrap();
        assert_eq!(target["event_bus_name"], "saas-tenant-events-dev");
        assert_eq!(target["arn"], "${aws_lambda_function.api.arn}");
    }

    #[test]
    fn missing_inputs_and_long_names_are_refused() {
        let missing = fragment(&tenant_context::<Events>(
            "acme-corp",
            "10.0.0.0/16",
            &INPUTS[..3],
        ));
        assert!(matches!(missing, Err(PluginError::InvalidContext(m)) if m.contains("account-id")));
        let long_id = "a".repeat(50);
        let too_long = fragment(&tenant_context::<Events>(&long_id, "10.0.0.0/16", &INPUTS));
        assert!(matches!(too_long, Err(PluginError::InvalidContext(m)) if m.contains("rule name")));
    }
}
