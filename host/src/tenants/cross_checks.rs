//! The plugins' own checks of their resolved settings (`validate-settings`), each problem placed
//! on the setting it names or on the tenant's block.

use super::{Checker, Tenant};
use crate::config::PluginSettings;
use crate::diagnostics::Diagnostic;
use crate::path;
use std::collections::BTreeMap;
use tenant_plugin_sdk::cidr::Ipv4Block;

/// One request to a plugin's `validate-settings`.
#[derive(Debug, Clone, Copy)]
pub struct SettingsCheck<'a> {
    /// The plugin.
    pub plugin: &'a str,
    /// Its resolved settings.
    pub settings: &'a PluginSettings,
    /// The tenant's id and block; `None` for the fleet-wide settings.
    pub tenant: Option<(&'a str, Ipv4Block)>,
}

/// A problem `validate-settings` found: the setting's key (or `cidr-block`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    /// The setting, or `cidr-block` for the tenant's block.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// The plugins' own checks of their resolved settings, asked in one batch so that an
/// implementation may run them side by side.
pub trait CrossChecks: Sync {
    /// One result per request, in order: the problems found, or why the check could not run.
    fn check(&self, requests: &[SettingsCheck<'_>]) -> Vec<Result<Vec<SettingProblem>, String>>;
}

/// For plans without plugins to ask (the built-in example, tests): nothing is checked across
/// fields.
#[derive(Debug, Clone, Copy)]
pub struct NoCrossChecks;

impl CrossChecks for NoCrossChecks {
    fn check(&self, requests: &[SettingsCheck<'_>]) -> Vec<Result<Vec<SettingProblem>, String>> {
        requests.iter().map(|_| Ok(Vec::new())).collect()
    }
}

impl Checker<'_> {
    /// Asks the plugins to check their resolved settings across fields, fleet-wide and for every
    /// tenant, and places each problem on the setting it names (where it was configured) or on
    /// the tenant's block. A tenant's problem that the fleet-wide settings already have is
    /// reported once, for the fleet.
    pub(super) fn cross_checks(
        &mut self,
        cross_checks: &dyn CrossChecks,
        fleet_wide: &BTreeMap<String, PluginSettings>,
        tenants: &[Tenant],
    ) {
        let mut requests: Vec<SettingsCheck<'_>> = fleet_wide
            .iter()
            .map(|(plugin, settings)| SettingsCheck {
                plugin,
                settings,
                tenant: None,
            })
            .collect();
        for tenant in tenants {
            requests.extend(tenant.settings.iter().map(|(plugin, settings)| SettingsCheck {
                plugin,
                settings,
                tenant: Some((&tenant.id, tenant.cidr_block)),
            }));
        }
        let results = cross_checks.check(&requests);
        // Each tenant's place in the configuration, looked up once per request (searching the
        // tenants for each one made 10,000 tenants take a second here). Reversed, so that the
        // first of two equal ids wins, as a search would find it.
        let places: BTreeMap<&str, usize> = self
            .file
            .config
            .tenants
            .iter()
            .enumerate()
            .rev()
            .map(|(place, t)| (t.id.as_str(), place))
            .collect();
        let mut fleet_problems: BTreeMap<&str, Vec<SettingProblem>> = BTreeMap::new();
        for (request, result) in requests.iter().zip(results) {
            let problems = match result {
                Ok(problems) => problems,
                Err(failure) => {
                    self.problems
                        .push(Diagnostic::error(failure).help("fix the plugin, or its settings"));
                    continue;
                }
            };
            let Some((id, block)) = request.tenant else {
                for problem in &problems {
                    let (span, label) = self.setting_position(request.plugin, None, &problem.key);
                    self.problems.push(
                        Diagnostic::error(format!("plugin `{}`: {}", request.plugin, problem.message))
                            .at(span, label),
                    );
                }
                fleet_problems.insert(request.plugin, problems);
                continue;
            };
            let index = places.get(id).copied();
            for problem in problems {
                let overridden = index.is_some_and(|i| {
                    self.file.config.tenants[i]
                        .settings
                        .get(request.plugin)
                        .is_some_and(|t| t.contains_key(&problem.key))
                });
                let known = fleet_problems
                    .get(request.plugin)
                    .is_some_and(|p| p.contains(&problem));
                if known && !overridden && problem.key != "cidr-block" {
                    continue;
                }
                let (span, label) = if problem.key == "cidr-block" {
                    let explicit = index.and_then(|i| self.value(&path!["tenants", i, "cidr-block"]));
                    let id_span = index.and_then(|i| self.value(&path!["tenants", i, "id"]));
                    match explicit {
                        Some(span) => (Some(span), "this block".to_owned()),
                        None => (id_span, format!("gets block {block}")),
                    }
                } else {
                    self.setting_position(request.plugin, index, &problem.key)
                };
                self.problems.push(
                    Diagnostic::error(format!(
                        "plugin `{}` refuses the settings of tenant `{id}`: {}",
                        request.plugin, problem.message
                    ))
                    .at(span, label),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{file, logging};
    use super::super::{PlanOptions, plan_fleet};
    use super::*;

    /// A stand-in for plugins' `validate-settings`: refuses blocks smaller than /16 and a
    /// retention of more than 365 days for any tenant.
    struct Refusing;

    impl CrossChecks for Refusing {
        fn check(&self, requests: &[SettingsCheck<'_>]) -> Vec<Result<Vec<SettingProblem>, String>> {
            requests
                .iter()
                .map(|request| {
                    let mut problems = Vec::new();
                    if let Some((_, block)) = request.tenant
                        && block.prefix() > 16
                    {
                        problems.push(SettingProblem {
                            key: "cidr-block".into(),
                            message: format!("{block} is smaller than /16"),
                        });
                    }
                    if request.settings["retention-days"].as_u64() > Some(365) {
                        problems.push(SettingProblem {
                            key: "retention-days".into(),
                            message: "more than a year".into(),
                        });
                    }
                    Ok(problems)
                })
                .collect()
        }
    }

    #[test]
    fn cross_field_problems_point_at_the_setting_or_the_block() {
        let config = file(
            "[plugins.logging]\narchive-bucket = \"b\"\nretention-days = 400\n[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"small\"\ncidr-block = \"10.9.0.0/24\"\n[[tenants]]\nid = \"c\"\n[tenants.settings.logging]\nretention-days = 500\n",
        );
        let error = plan_fleet(
            &config,
            Some("dev"),
            None,
            &[logging()],
            &Refusing,
            &PlanOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("3 problems"),
            "fleet-wide once, tenant c's override, the /24: {error}"
        );
        for needle in [
            "error: plugin `logging`: more than a year\n --> tenants.toml:7:18",
            "plugin `logging` refuses the settings of tenant `small`: 10.9.0.0/24 is smaller than /16\n  --> tenants.toml:12:14",
            "plugin `logging` refuses the settings of tenant `c`: more than a year\n  --> tenants.toml:16:18",
        ] {
            assert!(error.contains(needle), "{needle}: {error}");
        }
    }
}
