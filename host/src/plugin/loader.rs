//! Finds plugin components in a folder, checks that each speaks a compatible contract, and asks
//! it to describe itself.

use super::bindings::{CONTRACT_INTERFACE, CONTRACT_PACKAGE, Contract, api, v0_1, v0_2};
use super::legacy;
use super::runtime::{CallError, Function, LargestInput, Runtime, Scope, TextSize};
use super::sandbox::Sandbox;
use crate::declarations::{NamePattern, PluginDeclaration, SettingSchema, SettingType, StackKind};
use semver::Version;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use wasmtime::component::Component;

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The folder could not be listed.
    #[error("cannot read the plugin folder {}", dir.display())]
    ReadDir {
        /// The folder.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file could not be read.
    #[error("cannot read plugin {}", file.display())]
    ReadFile {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The folder holds no `*.wasm` file.
    #[error("no plugins (*.wasm files) in {}; build them with `just plugins`", dir.display())]
    Empty {
        /// The folder.
        dir: PathBuf,
    },
    /// The file is not WebAssembly, or a core module rather than a component.
    #[error("{} is not a plugin: {reason}", file.display())]
    NotAComponent {
        /// The file.
        file: PathBuf,
        /// What it is instead.
        reason: String,
    },
    /// The component does not export the contract interface.
    #[error("{} is not a tenant-host plugin: it does not export `{CONTRACT_PACKAGE}/{CONTRACT_INTERFACE}` (its exports: {exports})", file.display())]
    NotAPlugin {
        /// The file.
        file: PathBuf,
        /// What it exports.
        exports: String,
    },
    /// The component was built for a contract version this host cannot run.
    #[error("{} was built for contract {CONTRACT_PACKAGE}@{found}, but this host speaks {CONTRACT_PACKAGE}@0.1.0 and @0.2.0; rebuild the plugin against a compatible tenant-plugin-sdk", file.display())]
    IncompatibleContract {
        /// The file.
        file: PathBuf,
        /// The version it exports.
        found: String,
    },
    /// The component needs imports the host does not give, or its exports have the wrong types.
    #[error("{} cannot run in the tenant-host sandbox: {reason}", file.display())]
    Link {
        /// The file.
        file: PathBuf,
        /// The linker's explanation.
        reason: String,
    },
    /// `describe` failed.
    #[error("{}: {call}", file.display())]
    Describe {
        /// The file.
        file: PathBuf,
        /// The failed call (boxed: it carries the plugin's log).
        call: Box<CallError>,
    },
    /// `describe` returned something unusable.
    #[error("{}: plugin `{plugin}` describes itself wrongly: {reason}", file.display())]
    InvalidDescription {
        /// The file.
        file: PathBuf,
        /// The name it reported.
        plugin: String,
        /// What is wrong.
        reason: String,
    },
    /// Two files describe plugins of the same name.
    #[error("{} and {} both contain a plugin named `{name}`; remove one", first.display(), second.display())]
    DuplicateName {
        /// The name.
        name: String,
        /// The first file.
        first: PathBuf,
        /// The second file.
        second: PathBuf,
    },
}

/// A pre-instantiated component of one contract version, from which each call gets a fresh
/// instance.
enum Guest {
    V0_1(v0_1::PluginPre<Sandbox>),
    V0_2(v0_2::PluginPre<Sandbox>),
}

/// A plugin ready to be called: its description in the host's version-neutral model, what it
/// declares for the configuration pass, and its component.
pub struct LoadedPlugin {
    /// Where it was loaded from.
    pub file: PathBuf,
    /// What `describe` returned (a 0.1 description converted into the 0.2 model).
    pub info: api::PluginInfo,
    /// The contract version its component exports.
    pub contract: Contract,
    /// Its settings' schema and its name patterns, checked.
    pub declaration: PluginDeclaration,
    /// The declared settings' defaults, parsed.
    pub defaults: serde_json::Map<String, serde_json::Value>,
    /// SHA-256 of the component file, for the stack digests.
    pub digest: String,
    /// Runs the calls about one tenant: a second copy of the component, the same machine code in
    /// modules of its own, so that its instances take pooled memory slots of their own. Calls
    /// about the central stack and the fleet write more of their memory (their inputs grow with
    /// the fleet), a slot keeps every page a call wrote resident up to the pool's bound, and every
    /// later call in the slot resets them all. Sharing slots, the resets were 6 % of the samples
    /// of a 1,000-tenant `check` and 9 % of a 10,000-tenant one; apart, 2–3 %.
    tenant_guest: Guest,
    /// Runs every other call: about the plugin itself, the central stack and the fleet.
    wide_guest: Guest,
    inputs: InputSizes,
}

/// The largest input each function of one plugin received in each scope, so that a run can show
/// (and a test can check) what grows with the fleet. The key is `Copy`: recording allocates
/// nothing.
#[derive(Debug, Default)]
struct InputSizes(Mutex<BTreeMap<(Function, Scope), usize>>);

impl InputSizes {
    fn record(&self, function: Function, scope: Scope, bytes: usize) {
        let mut largest = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = largest.entry((function, scope)).or_default();
        *entry = (*entry).max(bytes);
    }
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("file", &self.file)
            .field("name", &self.info.name)
            .field("contract", &self.contract)
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// The guest that runs calls in `scope`.
    fn guest(&self, scope: Scope) -> &Guest {
        match scope {
            Scope::Tenant => &self.tenant_guest,
            Scope::Plugin | Scope::Central | Scope::Fleet => &self.wide_guest,
        }
    }

    /// The largest input each of its functions received so far in each scope (`describe` takes
    /// none), ordered by function and scope.
    pub fn largest_inputs(&self) -> Vec<LargestInput> {
        let largest = self.inputs.0.lock().unwrap_or_else(PoisonError::into_inner);
        largest
            .iter()
            .map(|(&(function, scope), &bytes)| LargestInput {
                plugin: self.name().to_owned(),
                function,
                scope,
                bytes,
            })
            .collect()
    }

    /// Calls `validate-settings`; a 0.1 plugin has no such function and finds no problems.
    pub fn validate_settings(
        &self,
        runtime: &Runtime,
        settings: &str,
        tenant: Option<&api::Tenant>,
    ) -> Result<Vec<api::SettingProblem>, CallError> {
        let scope = if tenant.is_some() {
            Scope::Tenant
        } else {
            Scope::Plugin
        };
        let Guest::V0_2(pre) = self.guest(scope) else {
            return Ok(Vec::new());
        };
        let label = tenant.map_or_else(
            || "the fleet-wide settings".to_owned(),
            |t| format!("tenant `{}`", t.id),
        );
        let bytes = settings.len() + tenant.map_or(0, TextSize::text_size);
        self.inputs.record(Function::ValidateSettings, scope, bytes);
        runtime.call(self.name(), &label, Function::ValidateSettings, |store| {
            let instance = pre.instantiate(&mut *store)?;
            Ok(Ok(instance
                .tenant_plugin_plugin_api()
                .call_validate_settings(store, settings, tenant)?))
        })
    }

    /// Calls `contribute`; only plugins that declare `contributes-to` (never 0.1 ones) contribute.
    pub fn contribute(
        &self,
        runtime: &Runtime,
        context: &api::StackContext,
    ) -> Result<Vec<api::Contribution>, CallError> {
        let scope = stack_scope(context.tenant.as_ref());
        let Guest::V0_2(pre) = self.guest(scope) else {
            return Ok(Vec::new());
        };
        if self.info.contributes_to.is_empty() {
            return Ok(Vec::new());
        }
        let label = format!("stack `{}`", context.stack);
        self.inputs
            .record(Function::Contribute, scope, context.text_size());
        runtime.call(self.name(), &label, Function::Contribute, |store| {
            let instance = pre.instantiate(&mut *store)?;
            instance
                .tenant_plugin_plugin_api()
                .call_contribute(store, context)
        })
    }

    /// Calls `synthesize-central` or `synthesize-tenant`.
    pub fn synthesize(
        &self,
        runtime: &Runtime,
        function: Function,
        context: &api::StackContext,
    ) -> Result<api::Fragment, CallError> {
        let label = format!("stack `{}`", context.stack);
        let central = function == Function::SynthesizeCentral;
        let scope = stack_scope(context.tenant.as_ref());
        self.inputs.record(function, scope, context.text_size());
        runtime
            .call(self.name(), &label, function, |store| match self.guest(scope) {
                Guest::V0_1(pre) => {
                    let guest = pre.instantiate(&mut *store)?;
                    let api = guest.tenant_plugin_plugin_api();
                    let context = legacy::stack_context(context);
                    let result = if central {
                        api.call_synthesize_central(store, &context)?
                    } else {
                        api.call_synthesize_tenant(store, &context)?
                    };
                    Ok(result.map(legacy::fragment).map_err(legacy::error))
                }
                Guest::V0_2(pre) => {
                    let guest = pre.instantiate(&mut *store)?;
                    let api = guest.tenant_plugin_plugin_api();
                    if central {
                        api.call_synthesize_central(store, context)
                    } else {
                        api.call_synthesize_tenant(store, context)
                    }
                }
            })
            .and_then(|f| crate::result_limits::accept_fragment(f, self.name(), &label, function))
    }

    /// Calls `check-stack`.
    pub fn check_stack(
        &self,
        runtime: &Runtime,
        stack: &api::StackDocument,
        settings: &str,
    ) -> Result<Vec<api::Finding>, CallError> {
        let label = format!("stack `{}`", stack.stack);
        let scope = stack_scope(stack.tenant.as_ref());
        self.inputs
            .record(Function::CheckStack, scope, stack.text_size() + settings.len());
        runtime
            .call(self.name(), &label, Function::CheckStack, |store| {
                match self.guest(scope) {
                    Guest::V0_1(pre) => {
                        let guest = pre.instantiate(&mut *store)?;
                        let result = guest.tenant_plugin_plugin_api().call_check_stack(
                            store,
                            &legacy::stack_document(stack),
                            settings,
                        )?;
                        Ok(result.map(legacy::findings).map_err(legacy::error))
                    }
                    Guest::V0_2(pre) => {
                        let guest = pre.instantiate(&mut *store)?;
                        guest
                            .tenant_plugin_plugin_api()
                            .call_check_stack(store, stack, settings)
                    }
                }
            })
            .and_then(|f| crate::result_limits::accept_findings(f, self.name(), &label, Function::CheckStack))
    }

    /// Whether `check-fleet` wants whole stack documents (a 0.1 plugin) rather than summaries.
    pub fn wants_documents(&self) -> bool {
        self.contract == Contract::V0_1
    }

    /// Calls `check-fleet`: a 0.2 plugin gets `summaries` (restricted to its `fleet-needs` by the
    /// caller), a 0.1 plugin gets `documents`, which the caller builds only when
    /// [`wants_documents`](Self::wants_documents).
    pub fn check_fleet(
        &self,
        runtime: &Runtime,
        summaries: &[api::StackSummary],
        documents: &[api::StackDocument],
        settings: &str,
    ) -> Result<Vec<api::Finding>, CallError> {
        self.inputs.record(
            Function::CheckFleet,
            Scope::Fleet,
            summaries.text_size() + documents.text_size() + settings.len(),
        );
        runtime
            .call(
                self.name(),
                "the fleet",
                Function::CheckFleet,
                |store| match self.guest(Scope::Fleet) {
                    Guest::V0_1(pre) => {
                        let guest = pre.instantiate(&mut *store)?;
                        let documents: Vec<_> = documents.iter().map(legacy::stack_document).collect();
                        let result = guest
                            .tenant_plugin_plugin_api()
                            .call_check_fleet(store, &documents, settings)?;
                        Ok(result.map(legacy::findings).map_err(legacy::error))
                    }
                    Guest::V0_2(pre) => {
                        let guest = pre.instantiate(&mut *store)?;
                        guest
                            .tenant_plugin_plugin_api()
                            .call_check_fleet(store, summaries, settings)
                    }
                },
            )
            .and_then(|f| {
                crate::result_limits::accept_findings(f, self.name(), "the fleet", Function::CheckFleet)
            })
    }
}

/// A stack's scope: a tenant's, or the central one.
fn stack_scope(tenant: Option<&api::Tenant>) -> Scope {
    if tenant.is_some() {
        Scope::Tenant
    } else {
        Scope::Central
    }
}

/// Loads every `*.wasm` file directly inside `dir`, sorted by plugin name so that the result
/// does not depend on the order the file system lists them in.
pub fn load_plugins(runtime: &Runtime, dir: &Path) -> Result<Vec<LoadedPlugin>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::ReadDir {
        dir: dir.into(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| LoadError::ReadDir {
                dir: dir.into(),
                source,
            })?
            .path();
        if path.extension().is_some_and(|ext| ext == "wasm") && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(LoadError::Empty { dir: dir.into() });
    }
    files.sort();
    // Compiling (on a cold cache) and describing are independent per file.
    let loaded = crate::synth::parallel_map(&files, |file| load_plugin(runtime, file));
    let mut by_name: BTreeMap<String, LoadedPlugin> = BTreeMap::new();
    for plugin in loaded {
        let plugin = plugin?;
        if let Some(first) = by_name.get(plugin.name()) {
            return Err(LoadError::DuplicateName {
                name: plugin.info.name.clone(),
                first: first.file.clone(),
                second: plugin.file,
            });
        }
        by_name.insert(plugin.info.name.clone(), plugin);
    }
    Ok(by_name.into_values().collect())
}

/// Loads one component file.
pub fn load_plugin(runtime: &Runtime, file: &Path) -> Result<LoadedPlugin, LoadError> {
    let read_error = |source| LoadError::ReadFile {
        file: file.into(),
        source,
    };
    let not_a_component = |reason: &str| LoadError::NotAComponent {
        file: file.into(),
        reason: reason.into(),
    };
    // The 8-byte header first: a file that is not a component is refused without reading it.
    let header = crate::bounded_read::read_prefix(file, crate::bounded_read::MAX_COMPONENT_BYTES, 8)
        .map_err(read_error)?;
    match header.get(..8) {
        Some([0, b'a', b's', b'm', 0x0d, 0x00, 0x01, 0x00]) => {}
        Some([0, b'a', b's', b'm', 0x01, 0x00, 0x00, 0x00]) => {
            return Err(not_a_component(
                "it is a core WebAssembly module, not a component; build plugins with `cargo build --target wasm32-wasip2`",
            ));
        }
        _ => return Err(not_a_component("it is not a WebAssembly file")),
    }
    let bytes =
        crate::bounded_read::read(file, crate::bounded_read::MAX_COMPONENT_BYTES).map_err(read_error)?;
    // The digest keys the compiled-component cache and enters every stack's digest.
    let digest = crate::digest::sha256_hex(&bytes);
    let component = runtime
        .compile(&bytes, &digest)
        .map_err(|e| not_a_component(&format!("it is not a valid component: {e:#}")))?;
    let contract = check_contract_version(runtime, &component, file)?;
    let link = |e: wasmtime::Error| LoadError::Link {
        file: file.into(),
        reason: format!("{e:#}"),
    };
    let guest = |component: &Component| -> Result<Guest, LoadError> {
        let instance_pre = runtime.linker().instantiate_pre(component).map_err(link)?;
        Ok(match contract {
            Contract::V0_1 => Guest::V0_1(v0_1::PluginPre::new(instance_pre).map_err(link)?),
            Contract::V0_2 => Guest::V0_2(v0_2::PluginPre::new(instance_pre).map_err(link)?),
        })
    };
    let wide_guest = guest(&component)?;
    let label = format!("loading {}", file.display());
    let shown = file.display().to_string();
    let described = runtime.call(&shown, &label, Function::Describe, |store| match &wide_guest {
        Guest::V0_1(pre) => {
            let instance = pre.instantiate(&mut *store)?;
            let info = instance.tenant_plugin_plugin_api().call_describe(store)?;
            Ok(Ok(legacy::plugin_info(info)))
        }
        Guest::V0_2(pre) => {
            let instance = pre.instantiate(&mut *store)?;
            Ok(Ok(Ok(instance
                .tenant_plugin_plugin_api()
                .call_describe(store)?)))
        }
    });
    let described = described.map_err(|call| LoadError::Describe {
        file: file.into(),
        call: Box::new(call),
    })?;
    let invalid = |plugin: &str, reason| LoadError::InvalidDescription {
        file: file.into(),
        plugin: plugin.into(),
        reason,
    };
    let info = described.map_err(|reason| invalid(&shown, reason))?;
    let declaration = validate_description(&info, contract).map_err(|reason| invalid(&info.name, reason))?;
    let tenant_guest = guest(&runtime.duplicate(&component, &digest).map_err(link)?)?;
    Ok(LoadedPlugin {
        file: file.into(),
        defaults: declaration.defaults(),
        declaration,
        info,
        digest,
        contract,
        tenant_guest,
        wide_guest,
        inputs: InputSizes::default(),
    })
}

/// Finds the exported contract interface and picks the contract version the host runs it with;
/// refuses an incompatible version with a message that names the versions, before the linker
/// would fail with a less helpful one.
fn check_contract_version(
    runtime: &Runtime,
    component: &Component,
    file: &Path,
) -> Result<Contract, LoadError> {
    let prefix = format!("{CONTRACT_PACKAGE}/{CONTRACT_INTERFACE}@");
    let exports: Vec<String> = component
        .component_type()
        .exports(runtime.engine())
        .map(|(name, _)| name.to_owned())
        .collect();
    let Some(found) = exports.iter().find_map(|name| name.strip_prefix(&prefix)) else {
        let exports = if exports.is_empty() {
            "nothing".to_owned()
        } else {
            exports.join(", ")
        };
        return Err(LoadError::NotAPlugin {
            file: file.into(),
            exports,
        });
    };
    let incompatible = || LoadError::IncompatibleContract {
        file: file.into(),
        found: found.to_owned(),
    };
    let found_version = Version::parse(found).map_err(|_| incompatible())?;
    contract_for(&found_version).ok_or_else(incompatible)
}

/// The contract version the host runs a component exporting `version` with, if any.
fn contract_for(version: &Version) -> Option<Contract> {
    Contract::ALL
        .into_iter()
        .find(|contract| compatible(version, &contract.version()))
}

/// Semver compatibility of a plugin's contract with the host's: the same major version (the same
/// major and minor while the major is 0), and nothing newer than the host knows.
fn compatible(plugin: &Version, host: &Version) -> bool {
    let same_line =
        plugin.major == host.major && (host.major > 0 || plugin.minor == host.minor) && plugin.pre.is_empty();
    same_line && (plugin.minor, plugin.patch) <= (host.minor, host.patch)
}

fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Checks what `describe` returned and turns its settings and names into the host's declaration.
fn validate_description(info: &api::PluginInfo, contract: Contract) -> Result<PluginDeclaration, String> {
    if !is_kebab(&info.name) {
        return Err(format!("name `{}` is not kebab-case", info.name));
    }
    let reported = Version::parse(&info.contract_version)
        .map_err(|_| format!("contract version `{}` is not semver", info.contract_version))?;
    if !compatible(&reported, &contract.version()) {
        return Err(format!(
            "it reports contract version {reported}, but its component exports {CONTRACT_PACKAGE}@{}",
            contract.version()
        ));
    }
    let mut rule_ids = BTreeSet::new();
    for rule in &info.rules {
        if !rule.id.starts_with(&format!("{}.", info.name)) {
            return Err(format!("rule id `{}` must start with `{}.`", rule.id, info.name));
        }
        if !rule_ids.insert(&rule.id) {
            return Err(format!("rule id `{}` is declared twice", rule.id));
        }
    }
    let mut settings: Vec<SettingSchema> = Vec::new();
    for setting in &info.settings {
        let schema = setting_schema(setting)?;
        if settings.iter().any(|s| s.name == schema.name) {
            return Err(format!("setting `{}` is declared twice", setting.name));
        }
        settings.push(schema);
    }
    let mut name_patterns = Vec::new();
    for pattern in &info.name_patterns {
        let pattern = NamePattern {
            plugin: info.name.clone(),
            resource_kind: pattern.resource_kind.clone(),
            template: pattern.template.clone(),
            max_length: pattern.max_length,
            stack: match pattern.stack {
                api::StackKind::Central => StackKind::Central,
                api::StackKind::Tenant => StackKind::Tenant,
            },
        };
        if let Some(problem) = pattern.problem() {
            return Err(problem);
        }
        name_patterns.push(pattern);
    }
    let mut points = BTreeSet::new();
    for point in &info.accepts {
        if !is_kebab(&point.name) || !points.insert(point.name.as_str()) {
            return Err(format!(
                "extension point `{}` is not kebab-case or is declared twice",
                point.name
            ));
        }
    }
    if let Some(own) = info.contributes_to.iter().find(|p| points.contains(p.as_str())) {
        return Err(format!("it contributes to its own extension point `{own}`"));
    }
    let type_name = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if let Some(need) = info.fleet_needs.iter().find(|need| {
        need.strip_prefix("output:")
            .map_or(!type_name(need), |output| output.is_empty())
    }) {
        return Err(format!(
            "fleet need `{need}` is neither a resource type (`aws_vpc`) nor `output:<name>`"
        ));
    }
    Ok(PluginDeclaration {
        name: info.name.clone(),
        settings,
        name_patterns,
    })
}

/// The host's schema of one declared setting, with its default checked against it.
fn setting_schema(setting: &api::Setting) -> Result<SettingSchema, String> {
    let name = &setting.name;
    if !is_kebab(name) {
        return Err(format!("setting name `{name}` is not kebab-case"));
    }
    if name == "cidr-block" {
        return Err("setting name `cidr-block` is reserved for the tenant's address block".into());
    }
    let default = setting
        .default_value
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
        .transpose()
        .map_err(|e| format!("the default of setting `{name}` is not JSON: {e}"))?;
    match (&default, setting.required) {
        (Some(_), true) => {
            return Err(format!(
                "setting `{name}` is required and has a default; drop one"
            ));
        }
        (None, false) => return Err(format!("setting `{name}` has no default and is not required")),
        _ => {}
    }
    if let (Some(min), Some(max)) = (setting.minimum, setting.maximum)
        && min > max
    {
        return Err(format!("setting `{name}` has minimum {min} above maximum {max}"));
    }
    let pattern = setting
        .pattern
        .as_deref()
        .map(SettingSchema::compile_pattern)
        .transpose()
        .map_err(|e| format!("setting `{name}`: {e}"))?;
    let schema = SettingSchema {
        name: name.clone(),
        description: setting.description.clone(),
        kind: match setting.kind {
            api::SettingType::String => SettingType::String,
            api::SettingType::Integer => SettingType::Integer,
            api::SettingType::Number => SettingType::Number,
            api::SettingType::Boolean => SettingType::Boolean,
            api::SettingType::StringList => SettingType::StringList,
            api::SettingType::Object => SettingType::Object,
        },
        default,
        required: setting.required,
        minimum: setting.minimum,
        maximum: setting.maximum,
        max_length: setting.max_length,
        allowed: setting.allowed.clone(),
        pattern,
    };
    if let Some(problem) = schema.default.as_ref().and_then(|d| schema.problem(d)) {
        return Err(format!(
            "the default of setting `{name}` breaks its own schema: it {problem}"
        ));
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_export_version_is_dispatched_to_the_bindings_that_speak_it() {
        let v = |s| Version::parse(s).unwrap();
        assert_eq!(contract_for(&v("0.1.0")), Some(Contract::V0_1));
        assert_eq!(contract_for(&v("0.2.0")), Some(Contract::V0_2));
        assert_eq!(
            contract_for(&v("0.2.1")),
            None,
            "a newer patch may use what the host lacks"
        );
        assert_eq!(contract_for(&v("0.3.0")), None);
        assert_eq!(contract_for(&v("1.0.0")), None);
    }

    fn setting(kind: api::SettingType, default: Option<&str>) -> api::Setting {
        api::Setting {
            name: "retention-days".into(),
            description: String::new(),
            kind,
            default_value: default.map(str::to_owned),
            required: default.is_none(),
            minimum: Some(1.0),
            maximum: Some(35.0),
            max_length: None,
            allowed: vec![],
            pattern: None,
        }
    }

    #[test]
    fn a_description_is_refused_for_what_the_host_could_not_honour() {
        let info = |settings, names: Vec<api::NamePattern>| api::PluginInfo {
            settings,
            name_patterns: names,
            ..crate::plugin::bare_info("backup")
        };
        let check = |info: &api::PluginInfo| {
            validate_description(info, Contract::V0_2)
                .map(|_| ())
                .unwrap_err()
        };
        assert!(
            check(&info(vec![setting(api::SettingType::Integer, Some("0"))], vec![]))
                .contains("breaks its own schema: it must be at least 1, not 0")
        );
        assert!(
            check(&info(vec![setting(api::SettingType::String, Some("7"))], vec![]))
                .contains("must be a string")
        );
        let mut both = setting(api::SettingType::Integer, Some("7"));
        both.required = true;
        assert!(check(&info(vec![both], vec![])).contains("is required and has a default"));
        let central_id = api::NamePattern {
            resource_kind: "aws_backup_vault.name".into(),
            template: "central-{id}-{suffix}".into(),
            max_length: 50,
            stack: api::StackKind::Central,
        };
        assert!(check(&info(vec![], vec![central_id])).contains("cannot use `{id}`"));
        let ok = info(vec![setting(api::SettingType::Integer, Some("7"))], vec![]);
        assert!(validate_description(&ok, Contract::V0_2).is_ok());
        assert!(
            validate_description(&ok, Contract::V0_1)
                .unwrap_err()
                .contains("reports contract version 0.2.0"),
            "the reported version must match the exported one"
        );
    }

    #[test]
    fn contract_compatibility_follows_semver() {
        let v = |s| Version::parse(s).unwrap();
        let cases = [
            ("0.1.0", "0.1.0", true, "same version"),
            ("0.1.0", "0.1.3", true, "older patch runs on a newer host"),
            (
                "0.1.4",
                "0.1.3",
                false,
                "a newer patch may use what the host lacks",
            ),
            ("0.2.0", "0.1.0", false, "minor bumps break while the major is 0"),
            ("1.0.0", "1.2.0", true, "older minor of 1.x"),
            ("1.3.0", "1.2.0", false, "newer minor of 1.x"),
            ("2.0.0", "1.2.0", false, "another major"),
            ("0.1.0-rc.1", "0.1.0", false, "pre-releases are not accepted"),
        ];
        for (plugin, host, expected, reason) in cases {
            assert_eq!(compatible(&v(plugin), &v(host)), expected, "{reason}");
        }
    }
}
