//! From configuration to a validated fleet: tenant ids (shape, duplicates, the length budget of
//! the names plugins generate), the suffix, the regions, plugin settings against what the loaded
//! plugins declare, and each tenant's VPC block, allocated once and recorded in the lock file.
//!
//! Every problem is collected and reported at once, each pointing at its line in the file.
//! Settings are checked against each plugin's declared schema, then resolved once (defaults,
//! fleet-wide, per tenant) and given to the plugins' own `validate-settings`, whose problems are
//! placed on the setting (or the tenant's block) they name.
//!
//! [`plan_fleet`] runs the checks in order; each job is a module that adds methods to the one
//! problem collector: [`identity`] (suffix, regions, backend, tenant ids, `--tenant`),
//! [`name_budget`] (the declared names' lengths), [`settings`] (against the declared schemas),
//! [`cross_checks`] (the plugins' `validate-settings`) and [`blocks`] (address blocks and the
//! lock file); the waivers are checked in the same pass ([`crate::waivers`]).

mod blocks;
mod cross_checks;
mod identity;
mod name_budget;
mod settings;

pub use blocks::allocate;
pub use cross_checks::{CrossChecks, NoCrossChecks, SettingProblem, SettingsCheck};

use crate::config::{
    ConfigError, ConfigFile, DEFAULT_SUFFIX, PluginSettings, Quotas, StateBackend, table_to_json,
};
use crate::declarations::{PluginDeclaration, SettingType};
use crate::diagnostics::{Diagnostic, Report, Segment};
use crate::lock::Lock;
use crate::path;
use crate::waivers::Waivers;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;
use tenant_plugin_sdk::cidr::Ipv4Block;

/// One tenant, validated, with its VPC block.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    /// The tenant id.
    pub id: String,
    /// The VPC block.
    pub cidr_block: Ipv4Block,
    /// Every loaded plugin's settings for this tenant, resolved: its defaults overlaid with the
    /// fleet-wide and then this tenant's configuration. A tenant that configures nothing of its
    /// own shares the fleet-wide map: at 1,000 tenants the copies were 6.5 MB.
    pub settings: Arc<BTreeMap<String, PluginSettings>>,
}

/// The validated fleet: everything synthesis needs from the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// The environment suffix.
    pub suffix: String,
    /// The region.
    pub region: String,
    /// The state backend.
    pub backend: StateBackend,
    /// Every loaded plugin's fleet-wide settings, resolved: its defaults overlaid with the
    /// fleet-wide configuration. The central stack and fleet checks use these.
    pub plugin_settings: Arc<BTreeMap<String, PluginSettings>>,
    /// The tenants, in configuration order.
    pub tenants: Vec<Tenant>,
    /// The account quotas for preflight checks.
    pub quotas: Quotas,
    /// The configured waivers, checked.
    pub waivers: Waivers,
    /// The access model's settings.
    pub access: crate::config::AccessConfig,
}

impl Fleet {
    /// The built-in example fleet with `suffix`, planned without a lock file and as if the
    /// plugins it configures were loaded and accepted what it configures: for tests and
    /// benchmarks.
    pub fn example(suffix: &str) -> Self {
        let file = ConfigFile::example();
        let declared: Vec<PluginDeclaration> = file
            .config
            .plugins
            .iter()
            .map(|(name, table)| PluginDeclaration {
                name: name.clone(),
                settings: table_to_json(table)
                    .into_iter()
                    .map(|(key, value)| {
                        let kind = SettingType::of_default(&value).expect("the example's settings are typed");
                        crate::declarations::SettingSchema::typed(&key, kind, Some(value))
                    })
                    .collect(),
                name_patterns: Vec::new(),
            })
            .collect();
        plan_fleet(
            &file,
            Some(suffix),
            None,
            &declared,
            &NoCrossChecks,
            &PlanOptions::default(),
        )
        .expect("the built-in example is valid")
        .fleet
    }
}

/// How the run may treat the lock file and which tenants it is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Fail instead of changing the lock file (for CI).
    pub locked: bool,
    /// Removed tenants whose blocks are given back to the pool.
    pub release: Vec<String>,
    /// Only these tenants are written (`--tenant`); they must be configured.
    pub only: Vec<String>,
}

/// The validated fleet and the lock file that goes with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The fleet.
    pub fleet: Fleet,
    /// The lock after this run: every configured tenant and every unreleased removed one.
    pub lock: Lock,
    /// Whether `lock` differs from the lock file that was read.
    pub lock_changed: bool,
    /// Tenants in the lock file but no longer configured, whose blocks stay reserved.
    pub retired: Vec<(String, Ipv4Block)>,
}

/// Validates the configuration against the loaded plugins and the lock file, and allocates every
/// new tenant's block; reports every problem at once.
///
/// `suffix` is the flag's or `ENVIRONMENT_SUFFIX`'s value, which wins over the file's; `lock` is
/// the lock file's content, `None` when there is none (yet, or for the built-in example).
pub fn plan_fleet(
    file: &ConfigFile,
    suffix: Option<&str>,
    lock: Option<&Lock>,
    plugins: &[PluginDeclaration],
    cross_checks: &dyn CrossChecks,
    options: &PlanOptions,
) -> Result<Plan, ConfigError> {
    let mut checker = Checker {
        file,
        problems: Vec::new(),
    };
    let (suffix, suffix_span) = match suffix {
        Some(suffix) => (suffix.to_owned(), None),
        None => match &file.config.environment_suffix {
            Some(suffix) => (suffix.clone(), file.spans.value(&path!["environment-suffix"])),
            None => (DEFAULT_SUFFIX.to_owned(), None),
        },
    };
    let suffix_ok = checker.suffix(&suffix, suffix_span.clone());
    checker.regions_and_backend();
    let shaped = checker.tenant_ids();
    if suffix_ok {
        checker.name_budget(&suffix, suffix_span, &shaped, plugins);
    }
    checker.settings(plugins);
    checker.selection(options);
    let waivers = checker.waivers(&suffix);
    let previous = lock.cloned().unwrap_or_default();
    let released = checker.release(&previous, options);
    let allocated = checker.allocate(&released, lock.is_some(), options.locked);
    let invalid = |checker: Checker<'_>| {
        ConfigError::Invalid(Report {
            source: file.source.clone(),
            diagnostics: checker.problems,
        })
    };
    let Some(new_lock) = allocated.filter(|_| checker.problems.is_empty()) else {
        return Err(invalid(checker));
    };
    let config = &file.config;
    let plugin_settings: Arc<BTreeMap<String, PluginSettings>> = Arc::new(
        plugins
            .iter()
            .map(|plugin| {
                let mut settings = plugin.defaults();
                if let Some(table) = config.plugins.get(&plugin.name) {
                    settings.extend(table_to_json(table));
                }
                (plugin.name.clone(), settings)
            })
            .collect(),
    );
    let own_settings = |tenant: &crate::config::TenantConfig| {
        let own = plugin_settings
            .keys()
            .any(|plugin| tenant.settings.contains_key(plugin));
        if !own {
            return plugin_settings.clone();
        }
        Arc::new(
            plugin_settings
                .iter()
                .map(|(plugin, fleet_wide)| {
                    let mut settings = fleet_wide.clone();
                    if let Some(table) = tenant.settings.get(plugin) {
                        settings.extend(table_to_json(table));
                    }
                    (plugin.clone(), settings)
                })
                .collect(),
        )
    };
    let tenants: Vec<Tenant> = config
        .tenants
        .iter()
        .map(|tenant| Tenant {
            id: tenant.id.clone(),
            cidr_block: new_lock.blocks[&tenant.id],
            settings: own_settings(tenant),
        })
        .collect();
    checker.cross_checks(cross_checks, &plugin_settings, &tenants);
    if !checker.problems.is_empty() {
        return Err(invalid(checker));
    }
    let configured: BTreeSet<&str> = config.tenants.iter().map(|t| t.id.as_str()).collect();
    let retired = new_lock
        .blocks
        .iter()
        .filter(|(id, _)| !configured.contains(id.as_str()))
        .map(|(id, block)| (id.clone(), *block))
        .collect();
    Ok(Plan {
        fleet: Fleet {
            suffix,
            region: config.region.clone(),
            backend: config.state_backend.clone(),
            plugin_settings,
            tenants,
            quotas: config.quotas,
            waivers,
            access: config.access.clone(),
        },
        lock_changed: lock != Some(&new_lock),
        lock: new_lock,
        retired,
    })
}

/// Collects the problems of one configuration.
struct Checker<'a> {
    file: &'a ConfigFile,
    problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn value(&self, path: &[Segment]) -> Option<Range<usize>> {
        self.file.spans.value(path)
    }

    fn key(&self, path: &[Segment]) -> Option<Range<usize>> {
        self.file.spans.key(path)
    }

    /// Checks the waivers: a malformed one is a problem of the configuration like any other.
    fn waivers(&mut self, suffix: &str) -> Waivers {
        Waivers::parse(self.file, suffix).unwrap_or_else(|problems| {
            self.problems.extend(problems);
            Waivers::default()
        })
    }

    fn lock_name(&self) -> String {
        self.file
            .lock_path()
            .map_or_else(|| "the lock file".to_owned(), |p| p.display().to_string())
    }
}

/// The items joined with commas, or `none`.
fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    /// A tenant that configures nothing of its own shares the fleet-wide settings; one that
    /// does gets them overlaid with its own.
    #[test]
    fn tenants_share_the_fleet_wide_settings_unless_they_configure_their_own() {
        let config = testing::file(
            "[plugins.logging]\narchive-bucket = \"b\"\n[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\n\
             [[tenants]]\nid = \"c\"\n[tenants.settings.logging]\nretention-days = 90\n",
        );
        let plan = plan_fleet(
            &config,
            Some("dev"),
            None,
            &[testing::logging()],
            &NoCrossChecks,
            &PlanOptions::default(),
        )
        .unwrap();
        let (fleet_wide, tenants) = (&plan.fleet.plugin_settings, &plan.fleet.tenants);
        assert!(Arc::ptr_eq(&tenants[0].settings, fleet_wide));
        assert!(Arc::ptr_eq(&tenants[1].settings, fleet_wide));
        assert!(!Arc::ptr_eq(&tenants[2].settings, fleet_wide));
        assert_eq!(fleet_wide["logging"]["retention-days"], 30);
        assert_eq!(tenants[2].settings["logging"]["retention-days"], 90);
        assert_eq!(tenants[2].settings["logging"]["archive-bucket"], "b");
    }

    #[test]
    fn the_example_gets_consecutive_blocks() {
        let fleet = Fleet::example("dev");
        let blocks: Vec<_> = fleet.tenants.iter().map(|t| t.cidr_block.to_string()).collect();
        assert_eq!(blocks, ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"]);
    }
}
