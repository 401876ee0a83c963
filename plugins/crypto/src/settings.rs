//! The crypto plugin's settings, shared by synthesis and the checks.

use std::ops::RangeInclusive;
use tenant_plugin_sdk::prelude::*;

/// Setting: the key's deletion window in days.
pub const DELETION_WINDOW_DAYS: &str = "deletion-window-days";

/// The deletion windows AWS KMS accepts.
pub const AWS_DELETION_WINDOW_DAYS: RangeInclusive<u64> = 7..=30;

/// The configured deletion window, which must be one AWS accepts.
pub fn deletion_window_days(settings: &Value) -> Result<u64, PluginError> {
    let days = settings.get(DELETION_WINDOW_DAYS).ok_or_else(|| {
        PluginError::InvalidSettings(format!("setting `{DELETION_WINDOW_DAYS}` is missing"))
    })?;
    days.as_u64()
        .filter(|days| AWS_DELETION_WINDOW_DAYS.contains(days))
        .ok_or_else(|| {
            PluginError::InvalidSettings(format!(
                "setting `{DELETION_WINDOW_DAYS}` is {days}; KMS accepts whole days from {} to {}",
                AWS_DELETION_WINDOW_DAYS.start(),
                AWS_DELETION_WINDOW_DAYS.end()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Crypto;
    use tenant_plugin_sdk::testing::default_settings;

    #[test]
    fn the_default_is_the_shortest_window() {
        assert_eq!(deletion_window_days(&default_settings::<Crypto>()), Ok(7));
    }

    #[test]
    fn accepts_only_what_kms_accepts() {
        // (value, accepted, why)
        let cases = [
            (json!(7), true, "the shortest window"),
            (json!(30), true, "the longest window"),
            (json!(6), false, "below the KMS minimum"),
            (json!(31), false, "above the KMS maximum"),
            (json!(7.5), false, "whole days only"),
            (json!("7"), false, "a number, not text"),
        ];
        for (value, accepted, why) in cases {
            let result = deletion_window_days(&json!({DELETION_WINDOW_DAYS: value}));
            assert_eq!(result.is_ok(), accepted, "{value}: {why}");
        }
        assert!(deletion_window_days(&json!({})).is_err(), "missing");
    }
}
