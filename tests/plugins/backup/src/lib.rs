//! A test fixture: the third-party AWS Backup plugin of issue 8, on contract 0.2. It exercises
//! what 0.2 adds end to end: a ranged setting, a declared physical name whose template is long
//! enough (`tenant-{id}-backup-vault-{suffix}`, AWS limit 50) to refuse long tenant ids in the
//! configuration pass, a contribution to crypto's `tenant-key-policy` extension point, an access
//! intent and a `host.log` message.

use tenant_plugin_sdk::bundled::{KMS_KEY_ARN, TENANT_KEY_POLICY};
use tenant_plugin_sdk::prelude::*;

/// The plugin.
#[derive(Debug)]
pub struct Backup;

/// Setting: days recovery points are kept.
pub const RETENTION_DAYS: &str = "retention-days";

/// The plugin's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(
    crate = "tenant_plugin_sdk::serde",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
pub struct BackupSettings {
    /// Days recovery points are kept.
    pub retention_days: u64,
}

impl SettingsSchema for BackupSettings {
    fn schema() -> Vec<Setting> {
        vec![
            Setting::integer(RETENTION_DAYS, "Days recovery points are kept (1 to 36500).")
                .default(35)
                .range(1, 36500),
        ]
    }
}

/// Every tenant stack has a backup vault.
pub const VAULT_PRESENT: Rule = Rule::error("backup.vault-present", "Every tenant stack has a backup vault.");

/// The vault's name.
pub const VAULT: NamePattern =
    NamePattern::tenant("aws_backup_vault.name", "tenant-{id}-backup-vault-{suffix}", 50);

/// AWS Backup's use of the tenant key, as contributed to crypto's key policy.
pub fn key_policy_statement(region: &str) -> Value {
    json!({
        "Sid": "BackupVaultUse",
        "Effect": "Allow",
        "Principal": {"Service": "backup.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": format!("backup.{region}.amazonaws.com")}},
    })
}

impl Plugin for Backup {
    type Settings = BackupSettings;

    fn describe() -> PluginInfo {
        PluginInfo::new(
            "backup",
            env!("CARGO_PKG_VERSION"),
            "An AWS Backup vault per tenant, encrypted with the tenant key.",
        )
        .requires(&[KMS_KEY_ARN])
        .rules(&[VAULT_PRESENT])
        .names(&[VAULT])
        .contributes_to(TENANT_KEY_POLICY)
    }

    fn contribute(context: &StackContext<Self::Settings>) -> Result<Vec<Contribution>, PluginError> {
        Ok(vec![Contribution::new(
            &TENANT_KEY_POLICY,
            key_policy_statement(&context.region),
        )])
    }

    fn synthesize_tenant(context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        let tenant = context.tenant()?;
        let suffix = &context.environment_suffix;
        let key_arn = context.input(&KMS_KEY_ARN)?;
        let name = VAULT
            .template
            .replace("{id}", &tenant.id)
            .replace("{suffix}", suffix);
        tenant_plugin_sdk::log::info(&format!(
            "vault {name} keeps recovery points {} days",
            context.settings.retention_days
        ));
        let tags = standard_tags(Some(&tenant.id), suffix, &name);
        let mut fragment = Fragment::default();
        fragment.resource(
            "aws_backup_vault",
            "tenant",
            json!({"name": name, "kms_key_arn": key_arn, "force_destroy": true, "tags": tags}),
        );
        fragment.intent(
            AccessIntent::allow("service:backup.amazonaws.com", "kms:Decrypt", key_arn)
                .context(
                    "kms:ViaService",
                    &format!("backup.{}.amazonaws.com", context.region),
                )
                .because("AWS Backup encrypts the tenant's recovery points with the tenant key"),
        );
        Ok(fragment)
    }

    fn check_stack(stack: &StackDocument, _settings: &Self::Settings) -> Result<Vec<Finding>, PluginError> {
        let Some(tenant) = &stack.tenant else {
            return Ok(Vec::new());
        };
        if stack
            .resources_of("aws_backup_vault")
            .any(|vault| vault.name == "tenant")
        {
            return Ok(Vec::new());
        }
        Ok(vec![VAULT_PRESENT.finding(
            "",
            format!("tenant `{}` has no backup vault", tenant.id),
            "Load the backup plugin for this fleet.",
        )])
    }
}

export_plugin!(Backup);
