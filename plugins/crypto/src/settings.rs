//! The crypto plugin's settings, shared by synthesis and the checks.

use std::ops::RangeInclusive;
use tenant_plugin_sdk::prelude::*;

/// Setting: the key's deletion window in days.
pub const DELETION_WINDOW_DAYS: &str = "deletion-window-days";

/// The deletion windows AWS KMS accepts.
pub const AWS_DELETION_WINDOW_DAYS: RangeInclusive<u64> = 7..=30;

/// The validated settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(
    crate = "tenant_plugin_sdk::serde",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
pub struct CryptoSettings {
    /// Days KMS waits before deleting a destroyed tenant key.
    pub deletion_window_days: u64,
}

impl SettingsSchema for CryptoSettings {
    fn schema() -> Vec<Setting> {
        vec![
            Setting::integer(
                DELETION_WINDOW_DAYS,
                "Days KMS waits before deleting a destroyed tenant key (7 to 30); longer windows are reported.",
            )
            .default(7)
            .range(*AWS_DELETION_WINDOW_DAYS.start() as f64, *AWS_DELETION_WINDOW_DAYS.end() as f64),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Crypto;
    use tenant_plugin_sdk::testing::{default_settings, settings_with};

    #[test]
    fn the_default_is_the_shortest_window() {
        assert_eq!(default_settings::<Crypto>().deletion_window_days, 7);
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
            let result = settings_with::<Crypto>(json!({DELETION_WINDOW_DAYS: value}));
            assert_eq!(result.is_ok(), accepted, "{value}: {why}");
        }
    }
}
