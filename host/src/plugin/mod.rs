//! Plugin loading and calling: the contract's bindings, the sandbox each call runs in, and the
//! bounded call wrapper.

mod bindings;
mod legacy;
mod loader;
mod precompiled;
mod runtime;
mod sandbox;

pub use bindings::{Contract, api};
pub use loader::{LoadError, LoadedPlugin, load_plugin, load_plugins};
pub use runtime::{CallError, CallFailure, CodeTier, Function, LargestInput, Limits, Runtime, Scope};

/// A description with nothing provided, required, enforced, configurable, named or accepted,
/// for tests to fill in.
#[cfg(test)]
pub fn bare_info(name: &str) -> api::PluginInfo {
    api::PluginInfo {
        name: name.into(),
        version: "1.0.0".into(),
        contract_version: "0.2.0".into(),
        summary: String::new(),
        provides: vec![],
        requires: vec![],
        rules: vec![],
        settings: vec![],
        name_patterns: vec![],
        accepts: vec![],
        contributes_to: vec![],
        fleet_needs: vec![],
    }
}
