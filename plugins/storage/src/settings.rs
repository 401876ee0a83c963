//! The storage settings of one stack, declared with the limits S3 enforces.

use tenant_plugin_sdk::prelude::*;

/// Days after creation at which current object versions expire.
pub const OBJECT_EXPIRATION_DAYS: &str = "object-expiration-days";
/// Days after becoming noncurrent at which object versions expire.
pub const NONCURRENT_VERSION_EXPIRATION_DAYS: &str = "noncurrent-version-expiration-days";
/// Whether the Intelligent-Tiering archive tiers are configured at all.
pub const ARCHIVE_TIERS_ENABLED: &str = "archive-tiers-enabled";
/// Days without access before Intelligent-Tiering moves an object to Archive Access.
pub const ARCHIVE_ACCESS_DAYS: &str = "archive-access-days";
/// Days without access before Intelligent-Tiering moves an object to Deep Archive Access.
pub const DEEP_ARCHIVE_ACCESS_DAYS: &str = "deep-archive-access-days";
/// IAM role names (wildcards allowed) exempt from the bucket policy's tenant-tag deny.
pub const DATA_ADMIN_ROLE_NAMES: &str = "data-admin-role-names";

/// How long data lives and when it is archived.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    crate = "tenant_plugin_sdk::serde",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
pub struct StorageSettings {
    /// Days after creation at which objects expire.
    pub object_expiration_days: u64,
    /// Days after becoming noncurrent at which versions expire.
    pub noncurrent_version_expiration_days: u64,
    /// Whether the archive tiers are configured.
    pub archive_tiers_enabled: bool,
    /// Days before Archive Access.
    pub archive_access_days: u64,
    /// Days before Deep Archive Access.
    pub deep_archive_access_days: u64,
    /// Untagged roles that may still use the bucket's data, by name.
    pub data_admin_role_names: Vec<String>,
}

/// Days without access before Intelligent-Tiering archives an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveTiers {
    /// Days before Archive Access.
    pub archive_access_days: u64,
    /// Days before Deep Archive Access.
    pub deep_archive_access_days: u64,
}

impl StorageSettings {
    /// The archive tiers, `None` when they are switched off.
    pub fn archive_tiers(&self) -> Option<ArchiveTiers> {
        self.archive_tiers_enabled.then_some(ArchiveTiers {
            archive_access_days: self.archive_access_days,
            deep_archive_access_days: self.deep_archive_access_days,
        })
    }
}

impl SettingsSchema for StorageSettings {
    fn schema() -> Vec<Setting> {
        vec![
            Setting::integer(OBJECT_EXPIRATION_DAYS, "Days after creation at which data bucket objects expire.")
                .default(90)
                .minimum(1),
            Setting::integer(
                NONCURRENT_VERSION_EXPIRATION_DAYS,
                "Days after an object version becomes noncurrent at which it expires.",
            )
            .default(30)
            .minimum(1),
            Setting::boolean(ARCHIVE_TIERS_ENABLED, "Whether the Intelligent-Tiering archive tiers are configured.")
                .default(true),
            // Intelligent-Tiering accepts 90..=730 days for Archive Access and 180..=730 for Deep Archive.
            Setting::integer(ARCHIVE_ACCESS_DAYS, "Days without access before Archive Access (90 to 730).")
                .default(90)
                .range(90, 730),
            Setting::integer(
                DEEP_ARCHIVE_ACCESS_DAYS,
                "Days without access before Deep Archive Access (180 to 730, above archive-access-days).",
            )
            .default(180)
            .range(180, 730),
            // Role names are [\w+=,.@-]; `*` and `?` are ArnLike wildcards. A `/` or `:` would let
            // a name escape the `role/` part of the ARN the exemption is built from.
            Setting::string_list(
                DATA_ADMIN_ROLE_NAMES,
                "Roles of the tenant's account, besides those tagged with the tenant, that may read, write and empty the data bucket. The default is tenant-host's default deployer role ([access] deployer-role-arn), so that `terraform destroy` can empty the versioned bucket (force_destroy).",
            )
            .default(json!(["terraform-deployer"]))
            .max_length(64)
            .pattern(r"[A-Za-z0-9_+=,.@*?-]+"),
        ]
    }

    /// Deep Archive must come after Archive (when the tiers are on), and role names must stay
    /// inside the role path (the host checks the pattern; this keeps native callers honest too).
    fn validate(&self, _tenant: Option<&Tenant>) -> Vec<SettingProblem> {
        let mut problems = Vec::new();
        if let Some(tiers) = self.archive_tiers()
            && tiers.deep_archive_access_days <= tiers.archive_access_days
        {
            problems.push(SettingProblem::new(
                DEEP_ARCHIVE_ACCESS_DAYS,
                format!(
                    "`{DEEP_ARCHIVE_ACCESS_DAYS}` ({}) must be greater than `{ARCHIVE_ACCESS_DAYS}` ({})",
                    tiers.deep_archive_access_days, tiers.archive_access_days
                ),
            ));
        }
        let valid_role_name = |name: &str| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-*?".contains(c))
        };
        if let Some(name) = self
            .data_admin_role_names
            .iter()
            .find(|name| !valid_role_name(name))
        {
            problems.push(SettingProblem::new(
                DATA_ADMIN_ROLE_NAMES,
                format!("`{name}` is not an IAM role name (letters, digits, _+=,.@- and the wildcards * ?)"),
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoragePlugin;
    use tenant_plugin_sdk::testing::{default_settings, settings_with};

    #[test]
    fn defaults_are_valid() {
        let settings = default_settings::<StoragePlugin>();
        assert_eq!(settings.object_expiration_days, 90);
        assert_eq!(settings.noncurrent_version_expiration_days, 30);
        assert_eq!(
            settings.archive_tiers(),
            Some(ArchiveTiers {
                archive_access_days: 90,
                deep_archive_access_days: 180
            })
        );
        // The default deployer may empty the bucket on destroy (issue 9 item 2).
        assert_eq!(settings.data_admin_role_names, ["terraform-deployer"]);
        assert_eq!(settings.validate(None), []);
    }

    #[test]
    fn switching_the_tiers_off_ignores_their_order() {
        let settings = settings_with::<StoragePlugin>(json!({
            ARCHIVE_TIERS_ENABLED: false, ARCHIVE_ACCESS_DAYS: 200, DEEP_ARCHIVE_ACCESS_DAYS: 200
        }))
        .unwrap();
        assert_eq!(settings.archive_tiers(), None);
        assert_eq!(settings.validate(None), []);
    }

    #[test]
    fn rejects_values_s3_would_reject() {
        // (why, overrides, the setting a problem names)
        let cases = [
            (
                "objects cannot expire on the day they are created",
                json!({OBJECT_EXPIRATION_DAYS: 0}),
                OBJECT_EXPIRATION_DAYS,
            ),
            (
                "noncurrent versions need at least one day",
                json!({NONCURRENT_VERSION_EXPIRATION_DAYS: 0}),
                NONCURRENT_VERSION_EXPIRATION_DAYS,
            ),
            (
                "archive access starts at 90 days",
                json!({ARCHIVE_ACCESS_DAYS: 30}),
                ARCHIVE_ACCESS_DAYS,
            ),
            (
                "deep archive access ends at 730 days",
                json!({DEEP_ARCHIVE_ACCESS_DAYS: 731}),
                DEEP_ARCHIVE_ACCESS_DAYS,
            ),
            (
                "deep archive must come after archive",
                json!({ARCHIVE_ACCESS_DAYS: 200, DEEP_ARCHIVE_ACCESS_DAYS: 200}),
                DEEP_ARCHIVE_ACCESS_DAYS,
            ),
            (
                "a number written as text is not a number",
                json!({OBJECT_EXPIRATION_DAYS: "90"}),
                OBJECT_EXPIRATION_DAYS,
            ),
            (
                "admin roles are a list",
                json!({DATA_ADMIN_ROLE_NAMES: "deployer"}),
                DATA_ADMIN_ROLE_NAMES,
            ),
            (
                "a role name cannot leave the role path",
                json!({DATA_ADMIN_ROLE_NAMES: ["x:root"]}),
                DATA_ADMIN_ROLE_NAMES,
            ),
            (
                "an empty role name exempts nobody sensibly",
                json!({DATA_ADMIN_ROLE_NAMES: [""]}),
                DATA_ADMIN_ROLE_NAMES,
            ),
        ];
        for (why, overrides, key) in cases {
            let mut settings = tenant_plugin_sdk::settings::defaults::<StorageSettings>();
            settings
                .as_object_mut()
                .unwrap()
                .extend(overrides.as_object().unwrap().clone());
            let problems = tenant_plugin_sdk::settings::problems::<StorageSettings>(&settings, None);
            assert_eq!(
                problems.first().map(|p| p.key.as_str()),
                Some(key),
                "{why}: {problems:?}"
            );
        }
    }
}
