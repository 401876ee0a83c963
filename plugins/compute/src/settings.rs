//! The plugin's settings, declared with Lambda's own limits.

use tenant_plugin_sdk::prelude::*;

pub const MEMORY_MB: &str = "memory-mb";
pub const TIMEOUT_SECONDS: &str = "timeout-seconds";
pub const RESERVED_CONCURRENCY: &str = "reserved-concurrency";

/// The tenant API function's sizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(
    crate = "tenant_plugin_sdk::serde",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
pub struct ComputeSettings {
    pub memory_mb: u64,
    pub timeout_seconds: u64,
    pub reserved_concurrency: u64,
}

impl SettingsSchema for ComputeSettings {
    /// The ranges are Lambda's own limits, except concurrency, which stops at 1000, the default
    /// account concurrency quota: reserving more for one tenant would starve the others.
    fn schema() -> Vec<Setting> {
        vec![
            Setting::integer(MEMORY_MB, "Memory of the tenant API function in MB (128-10240).")
                .default(256)
                .range(128, 10_240),
            Setting::integer(
                TIMEOUT_SECONDS,
                "Timeout of the tenant API function in seconds (1-900).",
            )
            .default(60)
            .range(1, 900),
            Setting::integer(
                RESERVED_CONCURRENCY,
                "Concurrent executions reserved for (and capping) each tenant's API function (1-1000).",
            )
            .default(10)
            .range(1, 1000),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Compute;
    use tenant_plugin_sdk::testing::{default_settings, settings_with};

    #[test]
    fn defaults_are_the_requirements_sizing() {
        assert_eq!(
            default_settings::<Compute>(),
            ComputeSettings {
                memory_mb: 256,
                timeout_seconds: 60,
                reserved_concurrency: 10
            }
        );
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let cases = [
            (MEMORY_MB, json!(64), "below Lambda's minimum memory"),
            (MEMORY_MB, json!(20_000), "above Lambda's maximum memory"),
            (TIMEOUT_SECONDS, json!(0), "a zero timeout"),
            (TIMEOUT_SECONDS, json!(901), "above Lambda's 15 minutes"),
            (
                RESERVED_CONCURRENCY,
                json!(0),
                "zero reserved concurrency would disable the function",
            ),
            (RESERVED_CONCURRENCY, json!(5000), "more than the account quota"),
            (MEMORY_MB, json!("256"), "a string"),
            (TIMEOUT_SECONDS, json!(-5), "a negative number"),
        ];
        for (name, value, reason) in cases {
            let error = settings_with::<Compute>(json!({name: value})).expect_err(reason);
            assert!(error.to_string().contains(name), "{reason}: {error}");
        }
    }
}
