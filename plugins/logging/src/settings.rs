//! The plugin's settings, validated once for synthesis and checks alike.

use tenant_plugin_sdk::prelude::*;

pub const RETENTION_DAYS: &str = "retention-days";

/// The retention periods CloudWatch Logs accepts (`PutRetentionPolicy`).
pub const ACCEPTED_RETENTION_DAYS: [u64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// How long log groups keep events.
pub fn retention_days(settings: &Value) -> Result<u64, PluginError> {
    let value = settings
        .get(RETENTION_DAYS)
        .ok_or_else(|| PluginError::InvalidSettings(format!("setting `{RETENTION_DAYS}` is missing")))?;
    value.as_u64().filter(|days| ACCEPTED_RETENTION_DAYS.contains(days)).ok_or_else(|| {
        PluginError::InvalidSettings(format!(
            "setting `{RETENTION_DAYS}` is {value}; CloudWatch Logs accepts one of {ACCEPTED_RETENTION_DAYS:?}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cloudwatch_retention_periods_are_accepted() {
        let cases = [
            (json!(30), Some(30), "the default"),
            (json!(3653), Some(3653), "ten years, the longest"),
            (json!(31), None, "not a CloudWatch period"),
            (json!(0), None, "never-expire is not a retention"),
            (json!("30"), None, "a string"),
            (json!(null), None, "null"),
        ];
        for (value, expected, reason) in cases {
            assert_eq!(
                retention_days(&json!({RETENTION_DAYS: value})).ok(),
                expected,
                "{reason}"
            );
        }
        assert!(
            retention_days(&json!({}))
                .unwrap_err()
                .to_string()
                .contains(RETENTION_DAYS)
        );
    }
}
