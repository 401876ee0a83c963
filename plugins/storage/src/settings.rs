//! The storage settings of one stack, validated against the limits S3 enforces.

use crate::info::{
    ARCHIVE_ACCESS_DAYS, ARCHIVE_TIERS_ENABLED, DATA_ADMIN_ROLE_NAMES, DEEP_ARCHIVE_ACCESS_DAYS,
    NONCURRENT_VERSION_EXPIRATION_DAYS, OBJECT_EXPIRATION_DAYS,
};
use tenant_plugin_sdk::prelude::*;

/// Intelligent-Tiering accepts 90..=730 days for Archive Access and 180..=730 for Deep Archive.
const ARCHIVE_ACCESS_RANGE: std::ops::RangeInclusive<u64> = 90..=730;
const DEEP_ARCHIVE_ACCESS_RANGE: std::ops::RangeInclusive<u64> = 180..=730;

/// How long data lives and when it is archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageSettings {
    pub object_expiration_days: u64,
    pub noncurrent_version_expiration_days: u64,
    /// `None` when the archive tiers are switched off.
    pub archive_tiers: Option<ArchiveTiers>,
    /// Untagged roles that may still use the bucket's data, by name.
    pub data_admin_role_names: Vec<String>,
}

/// Days without access before Intelligent-Tiering archives an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveTiers {
    pub archive_access_days: u64,
    pub deep_archive_access_days: u64,
}

impl StorageSettings {
    /// Reads and validates the settings of `context`.
    pub fn from_context(context: &StackContext) -> Result<Self, PluginError> {
        let object_expiration_days = positive(context, OBJECT_EXPIRATION_DAYS)?;
        let noncurrent_version_expiration_days = positive(context, NONCURRENT_VERSION_EXPIRATION_DAYS)?;
        let archive_tiers = if context.setting_bool(ARCHIVE_TIERS_ENABLED)? {
            let archive_access_days = within(context, ARCHIVE_ACCESS_DAYS, ARCHIVE_ACCESS_RANGE)?;
            let deep_archive_access_days =
                within(context, DEEP_ARCHIVE_ACCESS_DAYS, DEEP_ARCHIVE_ACCESS_RANGE)?;
            if deep_archive_access_days <= archive_access_days {
                return Err(PluginError::InvalidSettings(format!(
                    "`{DEEP_ARCHIVE_ACCESS_DAYS}` ({deep_archive_access_days}) must be greater than `{ARCHIVE_ACCESS_DAYS}` ({archive_access_days})"
                )));
            }
            Some(ArchiveTiers {
                archive_access_days,
                deep_archive_access_days,
            })
        } else {
            None
        };
        Ok(Self {
            object_expiration_days,
            noncurrent_version_expiration_days,
            archive_tiers,
            data_admin_role_names: role_names(context)?,
        })
    }
}

fn role_names(context: &StackContext) -> Result<Vec<String>, PluginError> {
    let invalid = || {
        PluginError::InvalidSettings(format!(
            "`{DATA_ADMIN_ROLE_NAMES}` must be a list of non-empty IAM role names"
        ))
    };
    let names = context
        .setting(DATA_ADMIN_ROLE_NAMES)?
        .as_array()
        .ok_or_else(invalid)?;
    names
        .iter()
        .map(|name| match name.as_str() {
            // Role names are [\w+=,.@-]; `*` and `?` are ArnLike wildcards. A `/` or `:` would
            // let a name escape the `role/` part of the ARN the exemption is built from.
            Some(name)
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-*?".contains(c)) =>
            {
                Ok(name.to_owned())
            }
            _ => Err(invalid()),
        })
        .collect()
}

fn positive(context: &StackContext, name: &str) -> Result<u64, PluginError> {
    match context.setting_u64(name)? {
        0 => Err(PluginError::InvalidSettings(format!(
            "`{name}` must be at least 1 day"
        ))),
        days => Ok(days),
    }
}

fn within(
    context: &StackContext,
    name: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, PluginError> {
    let days = context.setting_u64(name)?;
    if range.contains(&days) {
        Ok(days)
    } else {
        Err(PluginError::InvalidSettings(format!(
            "`{name}` is {days}; S3 Intelligent-Tiering accepts {} to {} days",
            range.start(),
            range.end()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoragePlugin;
    use tenant_plugin_sdk::testing::tenant_context;

    fn with(overrides: &[(&str, Value)]) -> Result<StorageSettings, PluginError> {
        let mut context = tenant_context::<StoragePlugin>("acme-corp", "10.0.0.0/16", &[]);
        for (name, value) in overrides {
            context.settings[*name] = value.clone();
        }
        StorageSettings::from_context(&context)
    }

    #[test]
    fn defaults_are_valid() {
        let settings = with(&[]).unwrap();
        assert_eq!(settings.object_expiration_days, 90);
        assert_eq!(settings.noncurrent_version_expiration_days, 30);
        assert_eq!(
            settings.archive_tiers,
            Some(ArchiveTiers {
                archive_access_days: 90,
                deep_archive_access_days: 180
            })
        );
        // The default deployer may empty the bucket on destroy (issue 9 item 2).
        assert_eq!(settings.data_admin_role_names, ["terraform-deployer"]);
    }

    #[test]
    fn switching_the_tiers_off_ignores_their_days() {
        let settings = with(&[
            (ARCHIVE_TIERS_ENABLED, json!(false)),
            (ARCHIVE_ACCESS_DAYS, json!(1)),
        ])
        .unwrap();
        assert_eq!(settings.archive_tiers, None);
    }

    #[test]
    fn rejects_values_s3_would_reject() {
        let cases: &[(&str, &[(&str, Value)])] = &[
            (
                "objects cannot expire on the day they are created",
                &[(OBJECT_EXPIRATION_DAYS, json!(0))],
            ),
            (
                "noncurrent versions need at least one day",
                &[(NONCURRENT_VERSION_EXPIRATION_DAYS, json!(0))],
            ),
            (
                "archive access starts at 90 days",
                &[(ARCHIVE_ACCESS_DAYS, json!(30))],
            ),
            (
                "deep archive access ends at 730 days",
                &[(DEEP_ARCHIVE_ACCESS_DAYS, json!(731))],
            ),
            (
                "deep archive must come after archive",
                &[
                    (ARCHIVE_ACCESS_DAYS, json!(200)),
                    (DEEP_ARCHIVE_ACCESS_DAYS, json!(200)),
                ],
            ),
            (
                "a number written as text is not a number",
                &[(OBJECT_EXPIRATION_DAYS, json!("90"))],
            ),
            (
                "admin roles are a list",
                &[(DATA_ADMIN_ROLE_NAMES, json!("deployer"))],
            ),
            (
                "a role name cannot leave the role path",
                &[(DATA_ADMIN_ROLE_NAMES, json!(["x:root"]))],
            ),
            (
                "an empty role name exempts nobody sensibly",
                &[(DATA_ADMIN_ROLE_NAMES, json!([""]))],
            ),
        ];
        for (reason, overrides) in cases {
            assert!(
                matches!(with(overrides), Err(PluginError::InvalidSettings(_))),
                "{reason}"
            );
        }
    }
}
