//! The plugin's settings: one field and one declaration each. The SDK checks configured values
//! against the declarations and parses them into [`AuditSettings`] before the plugin runs; the
//! host reports a value out of range with its place in the configuration.

use tenant_plugin_sdk::prelude::*;

/// Setting: days audit objects are kept.
pub const RETENTION_DAYS: &str = "retention-days";

/// The plugin's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(
    crate = "tenant_plugin_sdk::serde",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
pub struct AuditSettings {
    /// Days audit objects (and their old versions) are kept.
    pub retention_days: u64,
}

impl SettingsSchema for AuditSettings {
    fn schema() -> Vec<Setting> {
        vec![
            Setting::integer(RETENTION_DAYS, "Days audit objects are kept (1 to 3650).")
                .default(365)
                .range(1, 3650),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Audit;
    use tenant_plugin_sdk::testing::{default_settings, settings_with};

    #[test]
    fn the_default_keeps_a_year() {
        assert_eq!(default_settings::<Audit>().retention_days, 365);
    }

    #[test]
    fn values_outside_the_range_are_refused() {
        // (value, accepted, why)
        let cases = [
            (json!(1), true, "the shortest retention"),
            (json!(3650), true, "ten years"),
            (json!(0), false, "objects would expire at once"),
            (json!(3651), false, "longer than audits need"),
            (json!("30"), false, "a number, not text"),
        ];
        for (value, accepted, why) in cases {
            let result = settings_with::<Audit>(json!({RETENTION_DAYS: value}));
            assert_eq!(result.is_ok(), accepted, "{value}: {why}");
        }
    }
}
