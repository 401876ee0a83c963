//! Guarded event delivery, shared by the central signup rule and every tenant's routing rule: a
//! target with an explicit retry policy and a KMS-encrypted dead-letter queue that only
//! EventBridge, on behalf of that one rule, may write to.

use crate::settings::Delivery;
use tenant_plugin_sdk::prelude::*;
use tenant_plugin_sdk::resources::dead_letter_queue;

/// EventBridge rule names are at most 64 characters.
pub const RULE_NAME_LIMIT: usize = 64;
/// SQS queue names are at most 80 characters.
pub const QUEUE_NAME_LIMIT: usize = 80;

/// The dead-letter queue of one rule's target.
#[derive(Debug)]
pub struct DeadLetterQueue<'a> {
    /// Local name of the `aws_sqs_queue` and its `aws_sqs_queue_policy`.
    pub local_name: &'a str,
    /// The queue's name.
    pub name: &'a str,
    /// The CMK the queue is encrypted with (ARN or reference).
    pub kms_key: &'a str,
    /// The rule whose target dead-letters into the queue; the only source allowed to send.
    pub rule: &'a Reference,
    /// The account the rule belongs to.
    pub account_id: &'a str,
    /// The queue's tags.
    pub tags: Value,
}

impl DeadLetterQueue<'_> {
    /// Adds the queue and its policy to `fragment`; returns the queue.
    pub fn add_to(self, fragment: &mut Fragment) -> Reference {
        // SQS's longest retention: a dead-lettered event stays inspectable for two weeks.
        let queue = fragment.resource(
            "aws_sqs_queue",
            self.local_name,
            dead_letter_queue(self.name, self.kms_key, self.tags),
        );
        let policy = PolicyDocument::new().statement(
            Statement::allow("AcceptDeadLettersOfOneRule")
                .principal(json!({"Service": "events.amazonaws.com"}))
                .actions(&["sqs:SendMessage"])
                .resources(&[queue.attr("arn")])
                .condition("ArnEquals", "aws:SourceArn", json!(self.rule.attr("arn")))
                .condition("StringEquals", "aws:SourceAccount", json!(self.account_id)),
        );
        fragment.resource(
            "aws_sqs_queue_policy",
            self.local_name,
            json!({"queue_url": queue.attr("id"), "policy": policy.render()}),
        );
        fragment.intent(
            rule_delivery("sqs:SendMessage", &queue.attr("arn"), &self.rule.attr("arn"))
                .because("EventBridge writes the rule's undeliverable events to its dead-letter queue"),
        );
        queue
    }
}

/// EventBridge doing `action` on `resource` for the rule `rule_arn`: it names the rule as
/// `aws:SourceArn`, which resource policies bind their grants to
/// ([EventBridge resource-based policies](https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html)).
pub fn rule_delivery(action: &str, resource: &str, rule_arn: &str) -> AccessIntent {
    AccessIntent::allow("service:events.amazonaws.com", action, resource).context("aws:SourceArn", rule_arn)
}

/// The body of an `aws_cloudwatch_event_target` of `rule` on `bus_name` delivering to `arn`, with
/// the retry policy of `delivery` and `dead_letter_queue`; `extra` adds target-specific
/// attributes (role, input transformer).
pub fn target_body(
    rule: &Reference,
    bus_name: &str,
    target_id: &str,
    arn: &str,
    delivery: Delivery,
    dead_letter_queue: &Reference,
    extra: Value,
) -> Value {
    let mut body = json!({
        "rule": rule.attr("name"),
        "event_bus_name": bus_name,
        "target_id": target_id,
        "arn": arn,
        "retry_policy": [{
            "maximum_event_age_in_seconds": delivery.max_event_age_seconds,
            "maximum_retry_attempts": delivery.max_retry_attempts,
        }],
        "dead_letter_config": [{"arn": dead_letter_queue.attr("arn")}],
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

/// `name`, or an error when it is longer than AWS allows for `what`.
pub fn within_limit(name: String, limit: usize, what: &str) -> Result<String, PluginError> {
    if name.len() <= limit {
        Ok(name)
    } else {
        Err(PluginError::InvalidContext(format!(
            "{what} name `{name}` has {} characters; AWS allows {limit}: shorten the tenant id or the environment suffix",
            name.len()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenant_plugin_sdk::BlockKind;

    #[test]
    fn queue_policy_admits_only_the_rule() {
        let rule = Reference::new(BlockKind::Resource, "aws_cloudwatch_event_rule", "r");
        let mut fragment = Fragment::default();
        DeadLetterQueue {
            local_name: "dlq",
            name: "q",
            kms_key: "key",
            rule: &rule,
            account_id: "123456789012",
            tags: json!({}),
        }
        .add_to(&mut fragment);
        let policy = fragment.body("aws_sqs_queue_policy.dlq").unwrap()["policy"]
            .as_str()
            .unwrap();
        let statement = &serde_json::from_str::<Value>(policy).unwrap()["Statement"][0];
        assert_eq!(statement["Principal"], json!({"Service": "events.amazonaws.com"}));
        assert_eq!(statement["Action"], "sqs:SendMessage");
        assert_eq!(
            statement["Condition"]["ArnEquals"]["aws:SourceArn"],
            "${aws_cloudwatch_event_rule.r.arn}"
        );
        assert_eq!(
            fragment.body("aws_sqs_queue.dlq").unwrap()["kms_master_key_id"],
            "key"
        );
    }

    #[test]
    fn names_over_the_limit_are_refused() {
        assert_eq!(within_limit("abc".into(), 3, "rule"), Ok("abc".into()));
        assert!(
            matches!(within_limit("abcd".into(), 3, "rule"), Err(PluginError::InvalidContext(m)) if m.contains("abcd"))
        );
    }
}
