//! The one place the contract becomes Rust types for the host: one module per published version
//! of `tenant:plugin` (`wit/tenant-plugin@<version>/plugin.wit`).

/// Bindings for `tenant:plugin@0.1.0`.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/tenant-plugin@0.1.0",
        world: "plugin",
    });

    pub use exports::tenant::plugin::plugin_api as api;
}

/// Bindings for `tenant:plugin@0.2.0`.
pub mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit/tenant-plugin@0.2.0",
        world: "plugin",
    });
}

pub use v0_1::{PluginPre, api};

/// The package name and version this host was generated from.
pub const CONTRACT_PACKAGE: &str = "tenant:plugin";
/// The exported interface every plugin must provide.
pub const CONTRACT_INTERFACE: &str = "plugin-api";
