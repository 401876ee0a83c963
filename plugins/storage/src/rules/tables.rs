//! Table rules: point-in-time recovery and contributor insights.

use super::{TABLE_CONTRIBUTOR_INSIGHTS, TABLE_POINT_IN_TIME_RECOVERY};
use tenant_plugin_sdk::document::{is_reference_to, nested_blocks};
use tenant_plugin_sdk::prelude::*;

pub(super) fn check(stack: &StackDocument) -> Vec<Finding> {
    let mut findings = Vec::new();
    for table in stack.resources_of("aws_dynamodb_table") {
        let address = table.address();
        let recoverable =
            nested_blocks(table.body, "point_in_time_recovery").any(|pitr| pitr["enabled"] == true);
        if !recoverable {
            findings.push(TABLE_POINT_IN_TIME_RECOVERY.finding(
                address.clone(),
                format!("`{address}` does not enable point-in-time recovery"),
                "Set point_in_time_recovery [{\"enabled\": true}] on the table.",
            ));
        }
        let literal_name = table.body.get("name").and_then(Value::as_str);
        let observed = stack
            .resources_of("aws_dynamodb_contributor_insights")
            .any(|insights| {
                // Index-level insights leave the table's own key traffic unobserved.
                let for_table = insights.body.get("index_name").is_none();
                let target = insights.body.get("table_name").and_then(Value::as_str);
                for_table
                    && target.is_some_and(|target| {
                        is_reference_to(target, &address) || Some(target) == literal_name
                    })
            });
        if !observed {
            findings.push(TABLE_CONTRIBUTOR_INSIGHTS.finding(address.clone(),
                format!("`{address}` has no table-level aws_dynamodb_contributor_insights"),
                "Add an aws_dynamodb_contributor_insights whose table_name references the table, without index_name.",
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{addresses_found, complying_document, edited};
    use super::*;

    const TABLE: &str = "aws_dynamodb_table.metadata";

    #[test]
    fn point_in_time_recovery() {
        let cases: &[(&str, Value, &[&str])] = &[
            ("enabled", complying_document(), &[]),
            (
                "disabled",
                edited(
                    "/resource/aws_dynamodb_table/metadata/point_in_time_recovery/0/enabled",
                    Some(json!(false)),
                ),
                &[TABLE],
            ),
            (
                "not configured",
                edited(
                    "/resource/aws_dynamodb_table/metadata/point_in_time_recovery",
                    None,
                ),
                &[TABLE],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(TABLE_POINT_IN_TIME_RECOVERY, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }

    #[test]
    fn contributor_insights() {
        const INSIGHTS: &str = "/resource/aws_dynamodb_contributor_insights/metadata";
        let cases: &[(&str, Value, &[&str])] = &[
            ("insights reference the table", complying_document(), &[]),
            (
                "no insights",
                edited("/resource/aws_dynamodb_contributor_insights", None),
                &[TABLE],
            ),
            (
                "insights name the table literally",
                edited(
                    &format!("{INSIGHTS}/table_name"),
                    Some(json!("tenant-acme-corp-metadata-dev")),
                ),
                &[],
            ),
            (
                "insights for another table",
                edited(
                    &format!("{INSIGHTS}/table_name"),
                    Some(json!("${aws_dynamodb_table.other.name}")),
                ),
                &[TABLE],
            ),
            (
                "insights for an index only",
                edited(&format!("{INSIGHTS}/index_name"), Some(json!("by-type"))),
                &[TABLE],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(TABLE_CONTRIBUTOR_INSIGHTS, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }
}
