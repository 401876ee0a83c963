//! The plugin's settings, validated once for synthesis and checks alike.

use tenant_plugin_sdk::prelude::*;

pub const RETENTION_DAYS: &str = "retention-days";

/// The retention periods CloudWatch Logs accepts (`PutRetentionPolicy`).
pub const ACCEPTED_RETENTION_DAYS: [u64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// How long log groups keep events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(
    crate = "tenant_plugin_sdk::serde",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
pub struct LoggingSettings {
    pub retention_days: u64,
}

impl SettingsSchema for LoggingSettings {
    fn schema() -> Vec<Setting> {
        vec![
            Setting::integer(
                RETENTION_DAYS,
                "Days every log group keeps events; one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653).",
            )
            .default(30)
            .range(ACCEPTED_RETENTION_DAYS[0] as f64, ACCEPTED_RETENTION_DAYS[21] as f64),
        ]
    }

    /// The schema bounds the range; only the listed periods are accepted within it.
    fn validate(&self, _tenant: Option<&Tenant>) -> Vec<SettingProblem> {
        if ACCEPTED_RETENTION_DAYS.contains(&self.retention_days) {
            return Vec::new();
        }
        vec![SettingProblem::new(
            RETENTION_DAYS,
            format!(
                "{} is not a retention CloudWatch Logs accepts; use one of {ACCEPTED_RETENTION_DAYS:?}",
                self.retention_days
            ),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Logging;
    use tenant_plugin_sdk::settings::{defaults, problems};

    #[test]
    fn only_cloudwatch_retention_periods_are_accepted() {
        let cases = [
            (json!(30), true, "the default"),
            (json!(3653), true, "ten years, the longest"),
            (json!(31), false, "not a CloudWatch period"),
            (json!(0), false, "never-expire is not a retention"),
            (json!("30"), false, "a string"),
            (json!(null), false, "null"),
        ];
        for (value, accepted, reason) in cases {
            let mut settings = defaults::<LoggingSettings>();
            settings[RETENTION_DAYS] = value;
            let problems = problems::<LoggingSettings>(&settings, None);
            assert_eq!(problems.is_empty(), accepted, "{reason}: {problems:?}");
            assert!(problems.iter().all(|p| p.key == RETENTION_DAYS), "{reason}");
        }
        let _ = tenant_plugin_sdk::testing::default_settings::<Logging>();
    }
}
