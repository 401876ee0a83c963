//! The one place the contract becomes Rust types for the host: one module per published version
//! of `tenant:plugin` (`wit/tenant-plugin@<version>/plugin.wit`).
//!
//! The newest version's types ([`api`]) are also the host's version-neutral model of a plugin:
//! 0.2 is a superset of 0.1, so a 0.1 plugin's description and results convert into it without
//! loss (see `legacy`), and nothing above the plugin layer knows which version a plugin speaks.

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
        // Composed stacks, which carry intents and summaries, are compared in tests.
        additional_derives: [PartialEq],
    });

    pub use exports::tenant::plugin::plugin_api as api;
}

pub use v0_2::api;

/// The package every plugin's contract belongs to.
pub const CONTRACT_PACKAGE: &str = "tenant:plugin";
/// The exported interface every plugin must provide.
pub const CONTRACT_INTERFACE: &str = "plugin-api";

/// A contract version this host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contract {
    /// `tenant:plugin@0.1.0`
    V0_1,
    /// `tenant:plugin@0.2.0`
    V0_2,
}

impl Contract {
    /// Every version this host runs, oldest first.
    pub const ALL: [Contract; 2] = [Contract::V0_1, Contract::V0_2];

    /// The version as published.
    pub fn version(self) -> semver::Version {
        match self {
            Self::V0_1 => semver::Version::new(0, 1, 0),
            Self::V0_2 => semver::Version::new(0, 2, 0),
        }
    }
}
