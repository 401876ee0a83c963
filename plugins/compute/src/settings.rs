//! The plugin's settings, validated once for synthesis and checks alike.

use tenant_plugin_sdk::prelude::*;

pub const MEMORY_MB: &str = "memory-mb";
pub const TIMEOUT_SECONDS: &str = "timeout-seconds";
pub const RESERVED_CONCURRENCY: &str = "reserved-concurrency";

/// The tenant API function's sizing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputeSettings {
    pub memory_mb: u64,
    pub timeout_seconds: u64,
    pub reserved_concurrency: u64,
}

impl ComputeSettings {
    /// Reads and range-checks the settings object. The ranges are Lambda's own limits, except
    /// concurrency, which stops at 1000, the default account concurrency quota: reserving more for
    /// one tenant would starve the others.
    pub fn from_json(settings: &Value) -> Result<Self, PluginError> {
        Ok(Self {
            memory_mb: in_range(settings, MEMORY_MB, 128, 10_240)?,
            timeout_seconds: in_range(settings, TIMEOUT_SECONDS, 1, 900)?,
            reserved_concurrency: in_range(settings, RESERVED_CONCURRENCY, 1, 1000)?,
        })
    }
}

fn in_range(settings: &Value, name: &str, min: u64, max: u64) -> Result<u64, PluginError> {
    let value = settings
        .get(name)
        .ok_or_else(|| PluginError::InvalidSettings(format!("setting `{name}` is missing")))?;
    match value.as_u64() {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(PluginError::InvalidSettings(format!(
            "setting `{name}` must be an integer from {min} to {max}, not {value}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Compute;
    use tenant_plugin_sdk::testing::default_settings;

    #[test]
    fn defaults_are_the_requirements_sizing() {
        let settings = ComputeSettings::from_json(&default_settings::<Compute>()).unwrap();
        assert_eq!(
            settings,
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
            let mut settings = default_settings::<Compute>();
            settings[name] = value;
            let error = ComputeSettings::from_json(&settings).expect_err(reason);
            assert!(error.to_string().contains(name), "{reason}: {error}");
        }
    }

    #[test]
    fn a_missing_setting_is_named() {
        let error = ComputeSettings::from_json(&json!({})).unwrap_err();
        assert!(error.to_string().contains(MEMORY_MB));
    }
}
