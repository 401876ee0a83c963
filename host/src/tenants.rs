//! From configuration to a validated fleet: tenant ids (shape, duplicates, the length budget of
//! the names plugins generate), the suffix, the regions, plugin settings against what the loaded
//! plugins declare, and each tenant's VPC block, allocated once and recorded in the lock file.
//!
//! Every problem is collected and reported at once, each pointing at its line in the file.
//! Settings are checked against each plugin's declared schema, then resolved once (defaults,
//! fleet-wide, per tenant) and given to the plugins' own `validate-settings`, whose problems are
//! placed on the setting (or the tenant's block) they name.

use crate::config::{
    ConfigError, ConfigFile, DEFAULT_SUFFIX, PluginSettings, Quotas, StateBackend, WaiverConfig,
    table_to_json,
};
use crate::declarations::{NamePattern, PluginDeclaration, SettingType, StackKind};
use crate::diagnostics::{Diagnostic, Report, Segment};
use crate::lock::Lock;
use crate::names::{NameProblem, check_names};
use crate::path;
use std::collections::BTreeMap;
use std::ops::Range;
use tenant_plugin_sdk::cidr::Ipv4Block;

/// One tenant, validated, with its VPC block.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    /// The tenant id.
    pub id: String,
    /// The VPC block.
    pub cidr_block: Ipv4Block,
    /// Every loaded plugin's settings for this tenant, resolved: its defaults overlaid with the
    /// fleet-wide and then this tenant's configuration.
    pub settings: BTreeMap<String, PluginSettings>,
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
    pub plugin_settings: BTreeMap<String, PluginSettings>,
    /// The tenants, in configuration order.
    pub tenants: Vec<Tenant>,
    /// The account quotas for preflight checks.
    pub quotas: Quotas,
    /// The configured waivers.
    pub waivers: Vec<WaiverConfig>,
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

/// What keeps `text` from being `[a-z0-9-]+` without leading, trailing or double hyphens.
fn name_shape_problems(text: &str) -> Vec<String> {
    if text.is_empty() {
        return vec!["is empty".into()];
    }
    let mut problems = Vec::new();
    let mut bad: Vec<char> = text
        .chars()
        .filter(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        .collect();
    bad.dedup();
    if !bad.is_empty() {
        let listed: Vec<String> = bad.iter().map(|c| format!("`{c}`")).collect();
        problems.push(format!("contains {}", listed.join(", ")));
    }
    if text.starts_with('-') {
        problems.push("starts with a hyphen".into());
    }
    if text.ends_with('-') {
        problems.push("ends with a hyphen".into());
    }
    if text.contains("--") {
        problems.push("contains a double hyphen".into());
    }
    problems
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`: letters, hyphens, a final number.
fn is_region_shaped(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// 3-63 characters of `[a-z0-9.-]`, starting and ending with a letter or digit.
fn is_bucket_shaped(text: &str) -> bool {
    (3..=63).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// The longest environment suffix: it is part of every name and of every stack name.
const MAX_SUFFIX_LEN: usize = 16;
/// The longest tenant prefix length: AWS VPCs are /16 to /28.
const MAX_PREFIX_LENGTH: u8 = 28;
/// The shortest: AWS VPCs are /16 to /28.
const MIN_PREFIX_LENGTH: u8 = 16;

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
    let plugin_settings: BTreeMap<String, PluginSettings> = plugins
        .iter()
        .map(|plugin| {
            let mut settings = plugin.defaults();
            if let Some(table) = config.plugins.get(&plugin.name) {
                settings.extend(table_to_json(table));
            }
            (plugin.name.clone(), settings)
        })
        .collect();
    let tenants: Vec<Tenant> = config
        .tenants
        .iter()
        .map(|tenant| Tenant {
            id: tenant.id.clone(),
            cidr_block: new_lock.blocks[&tenant.id],
            settings: plugin_settings
                .iter()
                .map(|(plugin, fleet_wide)| {
                    let mut settings = fleet_wide.clone();
                    if let Some(table) = tenant.settings.get(plugin) {
                        settings.extend(table_to_json(table));
                    }
                    (plugin.clone(), settings)
                })
                .collect(),
        })
        .collect();
    checker.cross_checks(cross_checks, &plugin_settings, &tenants);
    if !checker.problems.is_empty() {
        return Err(invalid(checker));
    }
    let retired = new_lock
        .blocks
        .iter()
        .filter(|(id, _)| !config.tenants.iter().any(|t| &t.id == *id))
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
            waivers: config.waivers.clone(),
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

    fn lock_name(&self) -> String {
        self.file
            .lock_path()
            .map_or_else(|| "the lock file".to_owned(), |p| p.display().to_string())
    }

    fn suffix(&mut self, suffix: &str, span: Option<Range<usize>>) -> bool {
        let mut shape = name_shape_problems(suffix);
        if suffix.len() > MAX_SUFFIX_LEN {
            shape.push(format!(
                "is {} characters long, more than {MAX_SUFFIX_LEN}",
                suffix.len()
            ));
        }
        if shape.is_empty() {
            return true;
        }
        let from_flag = span.is_none();
        let mut problem = Diagnostic::error(format!("environment suffix `{suffix}` {}", shape.join(" and ")))
            .at(span, "not a usable suffix")
            .help(format!(
                "use 1-{MAX_SUFFIX_LEN} lowercase letters, digits and single hyphens, e.g. `dev` or `pr42`"
            ));
        if from_flag {
            problem = problem.note("the suffix comes from --environment-suffix or ENVIRONMENT_SUFFIX");
        }
        self.problems.push(problem);
        false
    }

    fn regions_and_backend(&mut self) {
        let config = &self.file.config;
        for (region, path) in [
            (&config.region, path!["region"].to_vec()),
            (
                &config.state_backend.region,
                path!["state-backend", "region"].to_vec(),
            ),
        ] {
            if !is_region_shaped(region) {
                let problem = Diagnostic::error(format!("`{region}` is not an AWS region name"))
                    .at(self.value(&path), "not a region")
                    .help("use a region code such as `us-east-1` or `eu-central-1`");
                self.problems.push(problem);
            }
        }
        let bucket = &config.state_backend.bucket;
        if !is_bucket_shaped(bucket) {
            let problem = Diagnostic::error(format!("state bucket `{bucket}` is not a valid S3 bucket name"))
                .at(self.value(&path!["state-backend", "bucket"]), "not a bucket name")
                .help("use 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit");
            self.problems.push(problem);
        }
    }

    /// Checks ids for shape and duplicates; returns whether each tenant's id is well shaped.
    fn tenant_ids(&mut self) -> Vec<bool> {
        let tenants = &self.file.config.tenants;
        if tenants.is_empty() {
            let problem = Diagnostic::error("the configuration lists no tenants")
                .at(self.key(&path!["tenants"]), "no tenants")
                .help("add at least one `[[tenants]]` table with an `id`");
            self.problems.push(problem);
        }
        let mut first_index: BTreeMap<&str, usize> = BTreeMap::new();
        let mut shaped = Vec::new();
        for (index, tenant) in tenants.iter().enumerate() {
            let span = self.value(&path!["tenants", index, "id"]);
            let shape = name_shape_problems(&tenant.id);
            shaped.push(shape.is_empty());
            if !shape.is_empty() {
                let problem = Diagnostic::error(format!("tenant id `{}` {}", tenant.id, shape.join(" and ")))
                    .at(span.clone(), "not a valid tenant id")
                    .help("use lowercase letters, digits and single hyphens inside, e.g. `acme-corp`");
                self.problems.push(problem);
            }
            match first_index.get(tenant.id.as_str()) {
                Some(first) => {
                    let problem = Diagnostic::error(format!("tenant id `{}` is listed twice", tenant.id))
                        .at(span, "listed again here")
                        .also(self.value(&path!["tenants", *first, "id"]), "first listed here")
                        .help("give every tenant its own id: rename or remove one of them");
                    self.problems.push(problem);
                }
                None => {
                    first_index.insert(&tenant.id, index);
                }
            }
        }
        shaped
    }

    /// Checks that the names the loaded plugins declare fit AWS's limits and avoid its reserved
    /// prefixes and suffixes.
    fn name_budget(
        &mut self,
        suffix: &str,
        suffix_span: Option<Range<usize>>,
        shaped: &[bool],
        plugins: &[PluginDeclaration],
    ) {
        let of_stack = |stack: StackKind| -> Vec<&NamePattern> {
            plugins
                .iter()
                .flat_map(|p| &p.name_patterns)
                .filter(|n| n.stack == stack)
                .collect()
        };
        let (central, tenant_names) = (of_stack(StackKind::Central), of_stack(StackKind::Tenant));
        // A problem that any id produces is the suffix's fault: report it once.
        let all: Vec<&NamePattern> = central.iter().chain(&tenant_names).copied().collect();
        let from_suffix = check_names(&all, "a", suffix);
        for problem in &from_suffix {
            let message = match problem {
                NameProblem::Reserved { pattern, text, affix } => format!(
                    "with environment suffix `{suffix}`, every {} of plugin `{}` ends like `{text}`, with `{affix}`, which AWS reserves",
                    pattern.resource_kind, pattern.plugin
                ),
                NameProblem::TooLong { pattern, text } => format!(
                    "with environment suffix `{suffix}`, the {} `{text}` (plugin `{}`) would be {} characters, over AWS's limit of {}",
                    pattern.resource_kind,
                    pattern.plugin,
                    text.len(),
                    pattern.max_length
                ),
            };
            self.problems.push(
                Diagnostic::error(message)
                    .at(suffix_span.clone(), "this suffix")
                    .help("choose another (shorter) environment suffix"),
            );
        }
        let max_len = tenant_names.iter().filter_map(|n| n.max_id_len(suffix)).min();
        for (index, tenant) in self.file.config.tenants.iter().enumerate() {
            if !shaped[index] {
                continue;
            }
            let span = self.value(&path!["tenants", index, "id"]);
            let mut too_long: Vec<String> = Vec::new();
            for problem in check_names(&tenant_names, &tenant.id, suffix) {
                match problem {
                    NameProblem::TooLong { pattern, text } => too_long.push(format!(
                        "the {} `{text}` (plugin `{}`) would be {} characters, {} over AWS's limit of {}",
                        pattern.resource_kind,
                        pattern.plugin,
                        text.len(),
                        text.len() - pattern.max_length as usize,
                        pattern.max_length
                    )),
                    NameProblem::Reserved { pattern, text, affix } => {
                        if from_suffix
                            .iter()
                            .any(|p| matches!(p, NameProblem::Reserved { affix: a, .. } if *a == affix))
                        {
                            continue;
                        }
                        let problem = Diagnostic::error(format!(
                            "tenant `{}` would get the {} `{text}` (plugin `{}`), which uses the prefix or suffix `{affix}` that AWS reserves",
                            tenant.id, pattern.resource_kind, pattern.plugin
                        ))
                        .at(span.clone(), "gives a reserved name")
                        .help("choose another tenant id");
                        self.problems.push(problem);
                    }
                }
            }
            if let Some((first, rest)) = too_long.split_first() {
                let max = max_len.unwrap_or_default();
                let mut problem = Diagnostic::error(format!("tenant id `{}` is too long: {first}", tenant.id))
                    .at(span, format!("{} characters", tenant.id.len()))
                    .help(format!(
                        "shorten the id to at most {max} characters (with suffix `{suffix}`), or use a shorter environment suffix"
                    ));
                for other in rest {
                    problem = problem.note(format!("also {other}"));
                }
                self.problems.push(problem);
            }
        }
    }

    /// Asks the plugins to check their resolved settings across fields, fleet-wide and for every
    /// tenant, and places each problem on the setting it names (where it was configured) or on
    /// the tenant's block. A tenant's problem that the fleet-wide settings already have is
    /// reported once, for the fleet.
    fn cross_checks(
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
            let index = self.file.config.tenants.iter().position(|t| t.id == id);
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

    /// Where setting `key` of `plugin` was configured: in the tenant's table, else fleet-wide,
    /// else the plugin's table or the tenant; with a label for the diagnostic.
    fn setting_position(
        &self,
        plugin: &str,
        tenant: Option<usize>,
        key: &str,
    ) -> (Option<Range<usize>>, String) {
        if let Some(index) = tenant
            && let Some(span) = self.value(&path!["tenants", index, "settings", plugin, key])
        {
            return (Some(span), format!("`{key}`"));
        }
        if let Some(span) = self.value(&path!["plugins", plugin, key]) {
            return (Some(span), format!("`{key}`"));
        }
        if let Some(span) = self.key(&path!["plugins", plugin]) {
            return (Some(span), format!("`{key}` is the default here"));
        }
        let span = tenant.and_then(|index| self.value(&path!["tenants", index, "id"]));
        (span, format!("`{key}` is the plugin's default"))
    }

    /// Checks that settings name loaded plugins and declared settings, that every value fits
    /// the setting's declared schema, and that required settings are given fleet-wide.
    fn settings(&mut self, plugins: &[PluginDeclaration]) {
        let config = &self.file.config;
        let fleet_wide = config
            .plugins
            .iter()
            .map(|(plugin, table)| (path!["plugins", plugin].to_vec(), plugin, table));
        let per_tenant = config.tenants.iter().enumerate().flat_map(|(index, tenant)| {
            tenant.settings.iter().map(move |(plugin, table)| {
                (
                    path!["tenants", index, "settings", plugin].to_vec(),
                    plugin,
                    table,
                )
            })
        });
        let layers: Vec<_> = fleet_wide.chain(per_tenant).collect();
        let loaded: Vec<&str> = plugins.iter().map(|p| p.name.as_str()).collect();
        for (at, plugin, table) in layers {
            let Some(declared) = plugins.iter().find(|p| p.name == *plugin) else {
                let problem =
                    Diagnostic::error(format!("settings for plugin `{plugin}`, which is not loaded"))
                        .at(self.key(&at), "no such plugin")
                        .note(format!("loaded plugins: {}", list_or_none(&loaded)))
                        .help("fix the plugin's name, or add its component to the --plugins folder");
                self.problems.push(problem);
                continue;
            };
            for (key, value) in table {
                let mut setting = at.clone();
                setting.push(Segment::from(key));
                let Some(schema) = declared.settings.iter().find(|s| s.name == *key) else {
                    let known: Vec<&str> = declared.settings.iter().map(|s| s.name.as_str()).collect();
                    let problem = Diagnostic::error(format!("plugin `{plugin}` has no setting `{key}`"))
                        .at(self.key(&setting), "not declared by the plugin")
                        .note(format!("its settings: {}", list_or_none(&known)))
                        .help("fix the setting's name, or remove it");
                    self.problems.push(problem);
                    continue;
                };
                let json = serde_json::to_value(value).expect("TOML values convert to JSON");
                let size = json.to_string().len();
                if size > crate::result_limits::MAX_SETTING_BYTES {
                    let problem = Diagnostic::error(format!(
                        "setting `{key}` of plugin `{plugin}` is {size} bytes, more than the limit of {} bytes",
                        crate::result_limits::MAX_SETTING_BYTES
                    ))
                    .at(self.key(&setting), "too large")
                    .help("settings configure a plugin; keep data out of them");
                    self.problems.push(problem);
                } else if let Some(why) = schema.problem(&json) {
                    let (why, label) = if schema.has_type(&json) {
                        (why, "not allowed")
                    } else {
                        let found = toml_type(value);
                        (format!("{why}, not {found}"), found)
                    };
                    let mut problem =
                        Diagnostic::error(format!("setting `{key}` of plugin `{plugin}` {why}"))
                            .at(self.value(&setting), label);
                    if !schema.description.is_empty() {
                        problem = problem.note(format!("`{key}`: {}", schema.description));
                    }
                    let help = match &schema.default {
                        Some(default) => {
                            format!("write {}, like the default {default}", schema.kind.describe())
                        }
                        None => format!("write {}", schema.kind.describe()),
                    };
                    self.problems.push(problem.help(help));
                }
            }
        }
        for plugin in plugins {
            let table = config.plugins.get(&plugin.name);
            for setting in plugin.settings.iter().filter(|s| s.required) {
                if table.is_some_and(|t| t.contains_key(&setting.name)) {
                    continue;
                }
                let span = table.and_then(|_| self.key(&path!["plugins", &plugin.name]));
                let problem = Diagnostic::error(format!(
                    "plugin `{}` requires setting `{}`, which the configuration does not give",
                    plugin.name, setting.name
                ))
                .at(span, "missing here")
                .note(format!("`{}`: {}", setting.name, setting.description))
                .help(format!(
                    "add `{} = ...` ({}) to `[plugins.{}]`",
                    setting.name,
                    setting.kind.describe(),
                    plugin.name
                ));
                self.problems.push(problem);
            }
        }
    }

    fn selection(&mut self, options: &PlanOptions) {
        let ids: Vec<&str> = self.file.config.tenants.iter().map(|t| t.id.as_str()).collect();
        for wanted in &options.only {
            if !ids.contains(&wanted.as_str()) {
                let problem = Diagnostic::error(format!(
                    "--tenant `{wanted}` is not a tenant of {}",
                    self.file.source.origin
                ))
                .note(format!("its tenants: {}", list_or_none(&ids)))
                .help("name a configured tenant, or add the tenant to the configuration");
                self.problems.push(problem);
            }
        }
    }

    /// The lock without the released tenants; checks that each may be released.
    fn release(&mut self, lock: &Lock, options: &PlanOptions) -> Lock {
        let mut released = lock.clone();
        for id in &options.release {
            if let Some(index) = self.file.config.tenants.iter().position(|t| &t.id == id) {
                let problem =
                    Diagnostic::error(format!("--release `{id}`: tenant `{id}` is still configured"))
                        .at(self.value(&path!["tenants", index, "id"]), "still configured")
                        .help("remove the tenant from the configuration and destroy its stack first");
                self.problems.push(problem);
            } else if released.blocks.remove(id).is_none() {
                let problem = Diagnostic::error(format!(
                    "--release `{id}`: {} has no block for tenant `{id}`",
                    self.lock_name()
                ))
                .help("name a removed tenant that is still recorded in the lock file");
                self.problems.push(problem);
            } else if options.locked {
                let problem = Diagnostic::error(format!(
                    "--release `{id}` changes {}, which --locked forbids",
                    self.lock_name()
                ))
                .help("release blocks in a run without --locked and commit the lock file");
                self.problems.push(problem);
            }
        }
        released
    }

    /// Keeps every recorded block, checks explicit blocks, and gives every other new tenant the
    /// lowest free block; `None` when the pool itself is unusable.
    fn allocate(&mut self, lock: &Lock, lock_exists: bool, locked: bool) -> Option<Lock> {
        let config = &self.file.config;
        let pool_span = self.value(&path!["addressing", "pool"]);
        let pool: Ipv4Block = match config.addressing.pool.parse() {
            Ok(pool) => pool,
            Err(e) => {
                let problem = Diagnostic::error(format!(
                    "address pool `{}` is not a CIDR block: {e}",
                    config.addressing.pool
                ))
                .at(pool_span, "not a block")
                .help("write the pool as an address and a prefix length, e.g. `10.0.0.0/8`");
                self.problems.push(problem);
                return None;
            }
        };
        let prefix = config.addressing.prefix_length;
        if prefix < pool.prefix().max(MIN_PREFIX_LENGTH) || prefix > MAX_PREFIX_LENGTH {
            let problem = Diagnostic::error(format!(
                "prefix length /{prefix} must be between /{} and /{MAX_PREFIX_LENGTH}",
                pool.prefix().max(MIN_PREFIX_LENGTH)
            ))
            .at(self.value(&path!["addressing", "prefix-length"]), "out of range")
            .note(format!(
                "the pool is {pool}, and AWS VPCs are /{MIN_PREFIX_LENGTH} to /{MAX_PREFIX_LENGTH}"
            ))
            .help("choose a prefix length inside that range");
            self.problems.push(problem);
            return None;
        }
        let lock_name = self.lock_name();
        let mut working = lock.clone();
        let mut new_tenants = Vec::new();
        for (index, tenant) in config.tenants.iter().enumerate() {
            let span = self.value(&path!["tenants", index, "cidr-block"]);
            let explicit = match tenant.cidr_block.as_deref().map(str::parse::<Ipv4Block>) {
                None => None,
                Some(Ok(block)) => Some(block),
                Some(Err(e)) => {
                    let problem = Diagnostic::error(format!("cidr-block of tenant `{}` is not a CIDR block: {e}", tenant.id))
                        .at(span, "not a block")
                        .help("write an address and a prefix length with no host bits, e.g. `10.3.0.0/16`, or remove cidr-block to get the next free block");
                    self.problems.push(problem);
                    continue;
                }
            };
            if let Some(recorded) = lock.blocks.get(&tenant.id) {
                if let Some(block) = explicit.filter(|b| b != recorded) {
                    let problem = Diagnostic::error(format!(
                        "cidr-block {block} of tenant `{}` differs from its block {recorded} in {lock_name}",
                        tenant.id
                    ))
                    .at(span, "would renumber a live VPC")
                    .help(format!(
                        "set cidr-block to {recorded} or remove it; to move the tenant, destroy its stack, remove it, release it with --release, and add it again"
                    ));
                    self.problems.push(problem);
                }
                continue;
            }
            let Some(block) = explicit else {
                new_tenants.push(index);
                continue;
            };
            if !(MIN_PREFIX_LENGTH..=MAX_PREFIX_LENGTH).contains(&block.prefix()) {
                let problem = Diagnostic::error(format!(
                    "cidr-block {block} of tenant `{}` has the prefix length /{}, which must be between /{MIN_PREFIX_LENGTH} and /{MAX_PREFIX_LENGTH}",
                    tenant.id,
                    block.prefix()
                ))
                .at(span, "prefix length out of range")
                .note(format!("AWS VPCs are /{MIN_PREFIX_LENGTH} to /{MAX_PREFIX_LENGTH}"))
                .help("choose a block with a prefix length inside that range, or remove cidr-block to get the next free block");
                self.problems.push(problem);
                continue;
            }
            if !pool.contains(&block) {
                let problem = Diagnostic::error(format!(
                    "cidr-block {block} of tenant `{}` is outside the pool {pool}",
                    tenant.id
                ))
                .at(span, "outside the pool")
                .also(pool_span.clone(), "the pool")
                .help(format!(
                    "choose a block inside {pool}, or remove cidr-block to get the next free block"
                ));
                self.problems.push(problem);
                continue;
            }
            match working.blocks.iter().find(|(_, other)| other.overlaps(&block)) {
                Some((owner, other)) => {
                    let owner_index = config.tenants.iter().position(|t| &t.id == owner);
                    let mut problem = Diagnostic::error(format!(
                        "cidr-block {block} of tenant `{}` overlaps {other}, the block of tenant `{owner}`",
                        tenant.id
                    ))
                    .at(span, "overlaps");
                    problem = match owner_index {
                        Some(i) if config.tenants[i].cidr_block.is_some() => {
                            problem.also(self.value(&path!["tenants", i, "cidr-block"]), "the other block")
                        }
                        Some(_) => problem.note(format!("`{owner}` has {other} recorded in {lock_name}")),
                        None => problem.note(format!(
                            "`{owner}` was removed from the configuration; its block stays reserved in {lock_name} until `--release {owner}`"
                        )),
                    };
                    self.problems.push(
                        problem.help("choose a free block, or remove cidr-block to get the next free one"),
                    );
                }
                None => {
                    working.blocks.insert(tenant.id.clone(), block);
                }
            }
        }
        let ids: Vec<&str> = new_tenants
            .iter()
            .map(|i| config.tenants[*i].id.as_str())
            .collect();
        let allocated = match allocate(pool, prefix, &working, &ids) {
            Ok(allocated) => allocated,
            Err(unplaced) => {
                let index = new_tenants[unplaced[0]];
                let capacity = 1u64 << (prefix - pool.prefix());
                let mut problem = Diagnostic::error(format!(
                    "no free /{prefix} block is left in the pool {pool} for tenant `{}`",
                    config.tenants[index].id
                ))
                .at(self.value(&path!["tenants", index, "id"]), "no block left")
                .note(format!("the pool holds {capacity} blocks of /{prefix}"));
                if unplaced.len() > 1 {
                    problem = problem.note(format!("{} tenants in all get no block", unplaced.len()));
                }
                self.problems.push(problem.help(
                    "use a larger pool, a longer prefix-length for new tenants, or release removed tenants' blocks with --release",
                ));
                return None;
            }
        };
        if locked {
            for (index, tenant) in config.tenants.iter().enumerate() {
                if lock.blocks.contains_key(&tenant.id) {
                    continue;
                }
                let mut problem = Diagnostic::error(format!(
                    "tenant `{}` has no block in {lock_name}, and --locked forbids allocating one",
                    tenant.id
                ))
                .at(self.value(&path!["tenants", index, "id"]), "not in the lock file");
                if !lock_exists {
                    problem = problem.note("there is no lock file yet");
                }
                self.problems.push(problem.help(format!(
                    "run `tenant-host synth` without --locked and commit {lock_name}"
                )));
            }
        }
        Some(allocated)
    }
}

/// Gives each of `new_tenants`, in order, the lowest block of `pool` with `prefix` that overlaps
/// no block of `lock`; the lock's blocks never change. Returns the positions in `new_tenants`
/// left without a block when the pool is exhausted.
pub fn allocate(pool: Ipv4Block, prefix: u8, lock: &Lock, new_tenants: &[&str]) -> Result<Lock, Vec<usize>> {
    let mut lock = lock.clone();
    let capacity = 1u64 << (prefix - pool.prefix());
    let mut next = 0u64;
    let mut unplaced = Vec::new();
    for (position, id) in new_tenants.iter().enumerate() {
        let free = (next..capacity).find_map(|netnum| {
            let candidate = pool
                .subnet(prefix - pool.prefix(), netnum as u32)
                .expect("netnum is below capacity");
            let taken = lock.blocks.values().any(|other| other.overlaps(&candidate));
            (!taken).then_some((netnum, candidate))
        });
        match free {
            Some((netnum, block)) => {
                next = netnum + 1;
                lock.blocks.insert((*id).to_owned(), block);
            }
            None => {
                next = capacity;
                unplaced.push(position);
            }
        }
    }
    if unplaced.is_empty() {
        Ok(lock)
    } else {
        Err(unplaced)
    }
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// The type of a configured value, in the words of `SettingType::describe`.
fn toml_type(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::String(_) => "a string",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
        toml::Value::Datetime(_) => "a datetime",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Source;
    use proptest::prelude::*;

    fn file(tenants: &str) -> ConfigFile {
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

    fn plan(file: &ConfigFile, lock: Option<&Lock>) -> Result<Plan, String> {
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

    fn blocks(plan: &Plan) -> Vec<String> {
        plan.fleet
            .tenants
            .iter()
            .map(|t| t.cidr_block.to_string())
            .collect()
    }

    #[test]
    fn the_example_gets_consecutive_blocks() {
        let fleet = Fleet::example("dev");
        let blocks: Vec<_> = fleet.tenants.iter().map(|t| t.cidr_block.to_string()).collect();
        assert_eq!(blocks, ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"]);
    }

    #[test]
    fn explicit_blocks_are_skipped_by_allocation() {
        let config = file("[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\ncidr-block = \"10.0.0.0/16\"\n");
        let plan = plan(&config, None).unwrap();
        assert_eq!(blocks(&plan), ["10.1.0.0/16", "10.0.0.0/16"]);
        assert!(plan.lock_changed);
    }

    #[test]
    fn recorded_blocks_survive_removal_and_reordering() {
        let first = plan(
            &file("[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\n[[tenants]]\nid = \"c\"\n"),
            None,
        )
        .unwrap();
        let second = plan(
            &file("[[tenants]]\nid = \"d\"\n[[tenants]]\nid = \"c\"\n[[tenants]]\nid = \"a\"\n"),
            Some(&first.lock),
        )
        .unwrap();
        assert_eq!(blocks(&second), ["10.3.0.0/16", "10.2.0.0/16", "10.0.0.0/16"]);
        assert_eq!(second.retired, [("b".to_owned(), "10.1.0.0/16".parse().unwrap())]);
        let unchanged = plan(
            &file("[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"c\"\n[[tenants]]\nid = \"d\"\n"),
            Some(&second.lock),
        )
        .unwrap();
        assert!(!unchanged.lock_changed);
    }

    #[test]
    fn a_released_block_goes_to_the_next_new_tenant() {
        let first = plan(&file("[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\n"), None).unwrap();
        let options = PlanOptions {
            release: vec!["a".into()],
            ..PlanOptions::default()
        };
        let second = plan_fleet(
            &file("[[tenants]]\nid = \"b\"\n[[tenants]]\nid = \"n\"\n"),
            Some("dev"),
            Some(&first.lock),
            &[],
            &NoCrossChecks,
            &options,
        )
        .unwrap();
        assert_eq!(blocks(&second), ["10.1.0.0/16", "10.0.0.0/16"]);
    }

    #[test]
    fn locked_refuses_to_allocate() {
        let first = plan(&file("[[tenants]]\nid = \"a\"\n"), None).unwrap();
        let options = PlanOptions {
            locked: true,
            ..PlanOptions::default()
        };
        let error = plan_fleet(
            &file("[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\n"),
            Some("dev"),
            Some(&first.lock),
            &[],
            &NoCrossChecks,
            &options,
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("tenant `b` has no block in tenants.lock, and --locked forbids"),
            "{error}"
        );
        assert!(
            plan_fleet(
                &file("[[tenants]]\nid = \"a\"\n"),
                Some("dev"),
                Some(&first.lock),
                &[],
                &NoCrossChecks,
                &options
            )
            .is_ok()
        );
    }

    fn logging() -> PluginDeclaration {
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
    fn logging_plan_error(config: &ConfigFile) -> String {
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

    #[test]
    fn settings_are_checked_against_the_declared_schema() {
        let config = file(
            "[plugins.logging]\nretention-days = \"30\"\nretention = 1\n[plugins.loging]\nx = 1\n[[tenants]]\nid = \"a\"\n[tenants.settings.logging]\nretention-days = 0\n",
        );
        let error = logging_plan_error(&config);
        for needle in [
            "plugin `logging` has no setting `retention`",
            "setting `retention-days` of plugin `logging` must be an integer, not a string",
            "tenants.toml:6:18",
            "setting `retention-days` of plugin `logging` must be at least 1, not 0",
            "tenants.toml:13:18",
            "plugin `logging` requires setting `archive-bucket`, which the configuration does not give",
            "settings for plugin `loging`, which is not loaded",
        ] {
            assert!(error.contains(needle), "{needle}: {error}");
        }
    }

    #[test]
    fn the_name_budget_comes_from_the_declared_patterns() {
        let config = file(&format!(
            "[plugins.logging]\narchive-bucket = \"b\"\n[[tenants]]\nid = \"{}\"\n",
            "a".repeat(39)
        ));
        let error = logging_plan_error(&config);
        assert!(
            error.contains("the aws_iam_role.name `tenant-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-flow-logs-role-dev` (plugin `logging`) would be 65 characters, 1 over AWS's limit of 64"),
            "{error}"
        );
        assert!(error.contains("at most 38 characters"), "{error}");
        let without_settings = file(&format!("[[tenants]]\nid = \"{}\"\n", "a".repeat(39)));
        assert!(
            plan_fleet(
                &without_settings,
                Some("dev"),
                None,
                &[],
                &NoCrossChecks,
                &PlanOptions::default()
            )
            .is_ok(),
            "without a plugin that declares the name, there is no budget"
        );
    }

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

    #[test]
    fn shape_problems_are_named() {
        assert_eq!(
            name_shape_problems("Bad_Id-"),
            ["contains `B`, `_`, `I`", "ends with a hyphen"]
        );
        assert_eq!(name_shape_problems(""), ["is empty"]);
        assert!(name_shape_problems("acme-corp").is_empty());
    }

    #[test]
    fn region_shapes() {
        for (region, ok) in [
            ("us-east-1", true),
            ("us-gov-west-1", true),
            ("useast1", false),
            ("us-east-x", false),
        ] {
            assert_eq!(is_region_shaped(region), ok, "{region}");
        }
    }

    /// One edit of the tenant list.
    #[derive(Debug, Clone)]
    enum Edit {
        /// Adds new tenants at the end.
        Add(u8),
        /// Removes the tenant at this position (modulo the length).
        Remove(usize),
        /// Rotates the list.
        Rotate(usize),
        /// Reverses the list.
        Reverse,
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            (1u8..4).prop_map(Edit::Add),
            any::<usize>().prop_map(Edit::Remove),
            any::<usize>().prop_map(Edit::Rotate),
            Just(Edit::Reverse),
        ]
    }

    /// Applies `edits` to a tenant list, allocating after each from the previous lock; checks
    /// stability and disjointness on the way and returns the final lock.
    fn run_edits(edits: &[Edit], reverse_new: bool) -> Lock {
        let pool: Ipv4Block = "10.0.0.0/8".parse().unwrap();
        let mut tenants: Vec<String> = Vec::new();
        let mut lock = Lock::default();
        let mut counter = 0;
        for edit in edits {
            let mut added = Vec::new();
            match edit {
                Edit::Add(n) => {
                    for _ in 0..*n {
                        added.push(format!("t{counter}"));
                        counter += 1;
                    }
                    if reverse_new {
                        added.reverse();
                    }
                    tenants.extend(added.iter().cloned());
                }
                Edit::Remove(i) if !tenants.is_empty() => {
                    let i = i % tenants.len();
                    tenants.remove(i);
                }
                Edit::Remove(_) => {}
                Edit::Rotate(i) if !tenants.is_empty() => {
                    let i = i % tenants.len();
                    tenants.rotate_left(i);
                }
                Edit::Rotate(_) => {}
                Edit::Reverse => tenants.reverse(),
            }
            let new: Vec<&str> = tenants
                .iter()
                .filter(|t| !lock.blocks.contains_key(*t))
                .map(String::as_str)
                .collect();
            let next = allocate(pool, 16, &lock, &new).expect("the pool is large enough");
            for (id, block) in &lock.blocks {
                assert_eq!(next.blocks.get(id), Some(block), "the block of `{id}` changed");
            }
            let all: Vec<&Ipv4Block> = next.blocks.values().collect();
            for (i, a) in all.iter().enumerate() {
                for b in &all[i + 1..] {
                    assert!(!a.overlaps(b), "{a} overlaps {b}");
                }
            }
            assert!(tenants.iter().all(|t| next.blocks.contains_key(t)));
            lock = next;
        }
        lock
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Adds, removals and reorders never change an existing block and never overlap; the
        /// blocks in use do not depend on the order in which tenants are listed.
        #[test]
        fn allocation_is_stable_and_order_independent(edits in prop::collection::vec(edit(), 1..30)) {
            let forward = run_edits(&edits, false);
            let backward = run_edits(&edits, true);
            let used = |lock: &Lock| lock.blocks.values().copied().collect::<std::collections::BTreeSet<_>>();
            prop_assert_eq!(used(&forward), used(&backward));
            prop_assert_eq!(forward.blocks.keys().collect::<Vec<_>>(), backward.blocks.keys().collect::<Vec<_>>());
        }
    }
}
