//! Helpers shared by the tests of the planning modules.

use super::{NoCrossChecks, Plan, PlanOptions, plan_fleet};
use crate::config::ConfigFile;
use crate::declarations::{NamePattern, PluginDeclaration, SettingType, StackKind};
use crate::diagnostics::Source;
use crate::lock::Lock;

pub(super) fn file(tenants: &str) -> ConfigFile {
    let text = format!(
        "region = \"us-east-1\"\n[state-backend]\nbucket = \"state-bucket\"\nregion = \"us-east-1\"\n{tenants}"
    );
    ConfigFile::parse(
        Source {
            origin: "tenants.toml".into(),
            text,
        },
        Some("tenants.toml".into()),
    )
    .unwrap()
}

pub(super) fn plan(file: &ConfigFile, lock: Option<&Lock>) -> Result<Plan, String> {
    plan_fleet(
        file,
        Some("dev"),
        lock,
        &[],
        &NoCrossChecks,
        &PlanOptions::default(),
    )
    .map_err(|e| e.to_string())
}

pub(super) fn logging() -> PluginDeclaration {
    use crate::declarations::SettingSchema;
    PluginDeclaration {
        name: "logging".into(),
        settings: vec![
            SettingSchema {
                minimum: Some(1.0),
                maximum: Some(3653.0),
                ..SettingSchema::typed("retention-days", SettingType::Integer, Some(30.into()))
            },
            SettingSchema {
                required: true,
                ..SettingSchema::typed("archive-bucket", SettingType::String, None)
            },
        ],
        name_patterns: vec![NamePattern {
            plugin: "logging".into(),
            resource_kind: "aws_iam_role.name".into(),
            template: "tenant-{id}-flow-logs-role-{suffix}".into(),
            max_length: 64,
            stack: StackKind::Tenant,
        }],
    }
}

/// The configuration error of `config` planned with the `logging` declaration alone.
pub(super) fn logging_plan_error(config: &ConfigFile) -> String {
    plan_fleet(
        config,
        Some("dev"),
        None,
        &[logging()],
        &NoCrossChecks,
        &PlanOptions::default(),
    )
    .unwrap_err()
    .to_string()
}
