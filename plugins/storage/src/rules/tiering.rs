//! Intelligent-Tiering archive tiers that lifecycle expiration makes unreachable.
//!
//! An archive tier moves an object after it has gone `D` days without access; lifecycle
//! expiration deletes it `E` days after creation. Last access is never before creation, so when
//! `D >= E` every object is deleted before it could reach the tier: the tier only costs
//! monitoring and misleads readers about retention.

use super::ARCHIVE_TIERS_UNREACHABLE;
use crate::document::bucket_configurations;
use tenant_plugin_sdk::document::nested_blocks;
use tenant_plugin_sdk::prelude::*;

pub(super) fn check(stack: &StackDocument) -> Vec<Finding> {
    let mut findings = Vec::new();
    for bucket in stack.resources_of("aws_s3_bucket") {
        let Some(expiration) = earliest_expiration(stack, &bucket) else {
            continue;
        };
        for tiering in
            bucket_configurations(stack, "aws_s3_bucket_intelligent_tiering_configuration", &bucket)
        {
            if tiering.body["status"] == "Disabled" {
                continue;
            }
            let unreachable: Vec<String> = nested_blocks(tiering.body, "tiering")
                .filter_map(|tier| Some((tier["access_tier"].as_str()?, tier["days"].as_u64()?)))
                .filter(|(_, days)| *days >= expiration.days)
                .map(|(tier, days)| format!("{tier} after {days} days"))
                .collect();
            if unreachable.is_empty() {
                continue;
            }
            findings.push(ARCHIVE_TIERS_UNREACHABLE.finding(tiering.address(),
                format!(
                    "`{}` expires every object {} days after creation (`{}`, rule `{}`), so the Intelligent-Tiering archive tiers {} without access are never reached",
                    bucket.address(),
                    expiration.days,
                    expiration.configuration,
                    expiration.rule_id,
                    unreachable.join(" and "),
                ),
                "Raise the expiration above the longest tier (storage setting `object-expiration-days`) or drop the unreachable tiers (storage setting `archive-tiers-enabled` = false).",
            ));
        }
    }
    findings
}

/// The earliest expiration a lifecycle rule applies to every object of the bucket.
struct Expiration {
    days: u64,
    configuration: String,
    rule_id: String,
}

fn earliest_expiration(
    stack: &StackDocument,
    bucket: &tenant_plugin_sdk::TerraformBlock,
) -> Option<Expiration> {
    bucket_configurations(stack, "aws_s3_bucket_lifecycle_configuration", bucket)
        .flat_map(|configuration| {
            nested_blocks(configuration.body, "rule")
                .filter(|rule| rule["status"] == "Enabled" && covers_every_object(rule))
                .flat_map(move |rule| {
                    nested_blocks(rule, "expiration").filter_map(move |expiration| {
                        Some(Expiration {
                            days: expiration["days"].as_u64()?,
                            configuration: configuration.address(),
                            rule_id: rule["id"].as_str().unwrap_or_default().to_owned(),
                        })
                    })
                })
        })
        .min_by_key(|expiration| expiration.days)
}

/// A rule without prefix, tag or size filter applies to the whole bucket; narrower rules leave
/// other objects to reach the tiers.
fn covers_every_object(rule: &Value) -> bool {
    let unrestricted = |value: &Value| match value {
        Value::Null => true,
        Value::String(prefix) => prefix.is_empty(),
        _ => false,
    };
    unrestricted(&rule["prefix"])
        && nested_blocks(rule, "filter").all(|filter| {
            filter.as_object().is_some_and(|fields| {
                fields
                    .iter()
                    .all(|(key, value)| key == "prefix" && unrestricted(value))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{addresses_found, complying_document, edited};
    use super::*;

    const TIERING: &str = "aws_s3_bucket_intelligent_tiering_configuration.data";
    const RULE: &str = "/resource/aws_s3_bucket_lifecycle_configuration/data/rule/0";

    #[test]
    fn archive_tiers_unreachable() {
        let cases: &[(&str, Value, &[&str])] = &[
            (
                "90-day expiry before the 90- and 180-day tiers",
                complying_document(),
                &[TIERING],
            ),
            (
                "expiry after both tiers",
                edited(&format!("{RULE}/expiration/0/days"), Some(json!(365))),
                &[],
            ),
            (
                "expiry between the tiers",
                edited(&format!("{RULE}/expiration/0/days"), Some(json!(120))),
                &[TIERING],
            ),
            ("no expiry", edited(&format!("{RULE}/expiration"), None), &[]),
            (
                "the rule is disabled",
                edited(&format!("{RULE}/status"), Some(json!("Disabled"))),
                &[],
            ),
            (
                "the rule only expires one prefix",
                edited(&format!("{RULE}/filter"), Some(json!([{"prefix": "tmp/"}]))),
                &[],
            ),
            (
                "an empty prefix covers every object",
                edited(&format!("{RULE}/filter"), Some(json!([{"prefix": ""}]))),
                &[TIERING],
            ),
            (
                "tiering switched off",
                edited(
                    "/resource/aws_s3_bucket_intelligent_tiering_configuration/data/status",
                    Some(json!("Disabled")),
                ),
                &[],
            ),
            (
                "no tiering configuration",
                edited("/resource/aws_s3_bucket_intelligent_tiering_configuration", None),
                &[],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(ARCHIVE_TIERS_UNREACHABLE, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }

    #[test]
    fn the_message_states_the_numbers() {
        let stack = tenant_plugin_sdk::testing::received("s", None, &complying_document());
        let findings = super::super::check_stack(&stack);
        let finding = findings
            .iter()
            .find(|f| f.rule_id == ARCHIVE_TIERS_UNREACHABLE.id)
            .expect("a finding");
        assert_eq!(finding.severity, Severity::Warning);
        for number in [
            "90 days after creation",
            "ARCHIVE_ACCESS after 90 days",
            "DEEP_ARCHIVE_ACCESS after 180 days",
        ] {
            assert!(
                finding.message.contains(number),
                "{number} in {}",
                finding.message
            );
        }
    }
}
