//! The one place the contract in `wit/plugin.wit` becomes Rust types for the host.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
});

pub use exports::tenant::plugin::plugin_api as api;

/// The package name and version this host was generated from.
pub const CONTRACT_PACKAGE: &str = "tenant:plugin";
/// The exported interface every plugin must provide.
pub const CONTRACT_INTERFACE: &str = "plugin-api";
