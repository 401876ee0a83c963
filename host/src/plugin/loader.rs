//! Finds plugin components in a folder, checks that each speaks a compatible contract, and asks
//! it to describe itself.

use super::bindings::{CONTRACT_INTERFACE, CONTRACT_PACKAGE, PluginPre, api};
use super::runtime::{CallError, Function, Runtime};
use super::sandbox::Sandbox;
use semver::Version;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tenant_plugin_sdk::CONTRACT_VERSION;
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
    #[error("{} was built for contract {CONTRACT_PACKAGE}@{found}, but this host speaks {CONTRACT_PACKAGE}@{CONTRACT_VERSION}; rebuild the plugin against a compatible tenant-plugin-sdk", file.display())]
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
        /// The failed call.
        call: CallError,
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

/// A plugin ready to be called: its description, its settings' defaults and a pre-instantiated
/// component from which each call gets a fresh instance.
pub struct LoadedPlugin {
    /// Where it was loaded from.
    pub file: PathBuf,
    /// What `describe` returned.
    pub info: api::PluginInfo,
    /// The declared settings' defaults, parsed.
    pub defaults: serde_json::Map<String, serde_json::Value>,
    /// SHA-256 of the component file, for the stack digests.
    pub digest: String,
    pre: PluginPre<Sandbox>,
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("file", &self.file)
            .field("name", &self.info.name)
            .finish_non_exhaustive()
    }
}

impl LoadedPlugin {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// Calls `synthesize-central` or `synthesize-tenant`.
    pub fn synthesize(
        &self,
        runtime: &Runtime,
        function: Function,
        context: &api::StackContext,
    ) -> Result<api::Fragment, CallError> {
        let stack = format!("stack `{}`", context.stack);
        let result = runtime.call(
            &self.pre,
            self.name(),
            &stack,
            function,
            |guest, store| match function {
                Function::SynthesizeCentral => guest.call_synthesize_central(store, context),
                _ => guest.call_synthesize_tenant(store, context),
            },
        )?;
        result.map_err(|e| rejected(self.name(), &stack, function, e))
    }

    /// Calls `check-stack`.
    pub fn check_stack(
        &self,
        runtime: &Runtime,
        stack: &api::StackDocument,
        settings: &str,
    ) -> Result<Vec<api::Finding>, CallError> {
        let label = format!("stack `{}`", stack.stack);
        let result = runtime.call(
            &self.pre,
            self.name(),
            &label,
            Function::CheckStack,
            |guest, store| guest.call_check_stack(store, stack, settings),
        )?;
        result.map_err(|e| rejected(self.name(), &label, Function::CheckStack, e))
    }

    /// Calls `check-fleet`.
    pub fn check_fleet(
        &self,
        runtime: &Runtime,
        stacks: &[api::StackDocument],
        settings: &str,
    ) -> Result<Vec<api::Finding>, CallError> {
        let label = "the fleet".to_owned();
        let result = runtime.call(
            &self.pre,
            self.name(),
            &label,
            Function::CheckFleet,
            |guest, store| guest.call_check_fleet(store, stacks, settings),
        )?;
        result.map_err(|e| rejected(self.name(), &label, Function::CheckFleet, e))
    }
}

fn rejected(plugin: &str, stack: &str, function: Function, error: api::PluginError) -> CallError {
    let message = match error {
        api::PluginError::InvalidSettings(m) => format!("invalid settings: {m}"),
        api::PluginError::InvalidContext(m) => format!("invalid context: {m}"),
        api::PluginError::InvalidDocument(m) => format!("invalid document: {m}"),
        api::PluginError::Internal(m) => format!("internal error: {m}"),
    };
    CallError {
        plugin: plugin.into(),
        stack: stack.into(),
        function,
        failure: super::CallFailure::Rejected(message),
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
    let mut by_name: BTreeMap<String, LoadedPlugin> = BTreeMap::new();
    for file in files {
        let plugin = load_plugin(runtime, &file)?;
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
    let bytes = std::fs::read(file).map_err(|source| LoadError::ReadFile {
        file: file.into(),
        source,
    })?;
    let not_a_component = |reason: &str| LoadError::NotAComponent {
        file: file.into(),
        reason: reason.into(),
    };
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 0x0d, 0x00, 0x01, 0x00]) => {}
        Some([0, b'a', b's', b'm', 0x01, 0x00, 0x00, 0x00]) => {
            return Err(not_a_component(
                "it is a core WebAssembly module, not a component; build plugins with `cargo build --target wasm32-wasip2`",
            ));
        }
        _ => return Err(not_a_component("it is not a WebAssembly file")),
    }
    let component = Component::new(runtime.engine(), &bytes)
        .map_err(|e| not_a_component(&format!("it is not a valid component: {e:#}")))?;
    check_contract_version(runtime, &component, file)?;
    let instance_pre = runtime
        .linker()
        .instantiate_pre(&component)
        .map_err(|e| LoadError::Link {
            file: file.into(),
            reason: format!("{e:#}"),
        })?;
    let pre = PluginPre::new(instance_pre).map_err(|e| LoadError::Link {
        file: file.into(),
        reason: format!("{e:#}"),
    })?;
    let label = format!("loading {}", file.display());
    let info = runtime
        .call(
            &pre,
            &file.display().to_string(),
            &label,
            Function::Describe,
            |guest, store| guest.call_describe(store),
        )
        .map_err(|call| LoadError::Describe {
            file: file.into(),
            call,
        })?;
    let defaults = validate_description(&info).map_err(|reason| LoadError::InvalidDescription {
        file: file.into(),
        plugin: info.name.clone(),
        reason,
    })?;
    Ok(LoadedPlugin {
        file: file.into(),
        info,
        defaults,
        digest: crate::digest::sha256_hex(&bytes),
        pre,
    })
}

/// Finds the exported contract interface and refuses an incompatible version with a message that
/// names both versions, before the linker would fail with a less helpful one.
fn check_contract_version(runtime: &Runtime, component: &Component, file: &Path) -> Result<(), LoadError> {
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
    let host_version = Version::parse(CONTRACT_VERSION).expect("the SDK's contract version is semver");
    if compatible(&found_version, &host_version) {
        Ok(())
    } else {
        Err(incompatible())
    }
}

/// Semver compatibility of a plugin's contract with the host's: the same major version (the same
/// major and minor while the major is 0), and nothing newer than the host knows.
fn compatible(plugin: &Version, host: &Version) -> bool {
    let same_line =
        plugin.major == host.major && (host.major > 0 || plugin.minor == host.minor) && plugin.pre.is_empty();
    same_line && (plugin.minor, plugin.patch) <= (host.minor, host.patch)
}

/// Checks what `describe` returned and parses the settings' defaults.
fn validate_description(
    info: &api::PluginInfo,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let kebab = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    };
    if !kebab(&info.name) {
        return Err(format!("name `{}` is not kebab-case", info.name));
    }
    if info.contract_version != CONTRACT_VERSION {
        let reported = Version::parse(&info.contract_version)
            .map_err(|_| format!("contract version `{}` is not semver", info.contract_version))?;
        let host = Version::parse(CONTRACT_VERSION).expect("the SDK's contract version is semver");
        if !compatible(&reported, &host) {
            return Err(format!(
                "it reports contract version {reported}, which this host ({host}) cannot run"
            ));
        }
    }
    let mut rule_ids = std::collections::BTreeSet::new();
    for rule in &info.rules {
        if !rule.id.starts_with(&format!("{}.", info.name)) {
            return Err(format!("rule id `{}` must start with `{}.`", rule.id, info.name));
        }
        if !rule_ids.insert(&rule.id) {
            return Err(format!("rule id `{}` is declared twice", rule.id));
        }
    }
    let mut defaults = serde_json::Map::new();
    for setting in &info.settings {
        if !kebab(&setting.name) {
            return Err(format!("setting name `{}` is not kebab-case", setting.name));
        }
        let value = serde_json::from_str(&setting.default_value)
            .map_err(|e| format!("the default of setting `{}` is not JSON: {e}", setting.name))?;
        if defaults.insert(setting.name.clone(), value).is_some() {
            return Err(format!("setting `{}` is declared twice", setting.name));
        }
    }
    Ok(defaults)
}

#[cfg(test)]
mod tests {
    use super::*;

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
