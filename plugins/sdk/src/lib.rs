//! The guest SDK for tenant-host plugins.
//!
//! A plugin is a WebAssembly component that contributes Terraform JSON to every stack tenant-host
//! writes and checks the composed stacks against its policy rules. This crate is the only
//! dependency a plugin needs: it hides the generated WIT bindings (`wit/tenant-plugin@0.1.0/plugin.wit` is the
//! contract), and gives authors plain Rust types and builders.
//!
//! An author implements [`Plugin`] on a unit struct and calls [`export_plugin!`]. The trait's
//! functions take and return plain Rust values, so the plugin's logic is unit-tested natively with
//! `cargo test`; only a `wasm32` build wires it to the component's exports.
//!
//! ```
//! use tenant_plugin_sdk::prelude::*;
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn describe() -> PluginInfo {
//!         PluginInfo::new("hello", env!("CARGO_PKG_VERSION"), "Says hello in every tenant stack.")
//!     }
//!
//!     fn synthesize_tenant(context: &StackContext) -> Result<Fragment, PluginError> {
//!         let tenant = context.tenant()?;
//!         let mut fragment = Fragment::default();
//!         fragment.output("greeting", serde_json::json!(format!("hello {}", tenant.id)), "A greeting.");
//!         Ok(fragment)
//!     }
//! }
//!
//! export_plugin!(Hello);
//! ```
#![deny(missing_docs)]

// The generated bindings name this crate by its public path, also from inside it.
extern crate self as tenant_plugin_sdk;

pub mod cidr;
pub mod document;
mod fragment;
pub mod iam;
mod intents;
pub mod naming;
pub mod package;
pub mod resources;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
mod types;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __guest;

pub use document::{StackDocument, TerraformBlock};
pub use fragment::{Asset, Block, BlockKind, Fragment, Output, Reference};
pub use intents::{AccessExpectation, AccessIntent};
pub use types::{
    CONTRACT_VERSION, Finding, PluginError, PluginInfo, Rule, Setting, Severity, StackContext, StackKind,
    Tenant, ValueDeclaration,
};

/// What most plugins import: `use tenant_plugin_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::iam::{PolicyDocument, Statement};
    pub use crate::naming::{resource_name, standard_tags};
    pub use crate::{
        AccessIntent, Finding, Fragment, Plugin, PluginError, PluginInfo, Reference, Rule, Setting, Severity,
        StackContext, StackDocument, StackKind, Tenant, ValueDeclaration, export_plugin,
    };
    pub use serde_json::{self, Value, json};
}

/// The behaviour of a plugin. Every function but [`Plugin::describe`] has a default that
/// contributes nothing, so a plugin implements only what it adds.
pub trait Plugin {
    /// Who the plugin is, what it provides and requires, its rules and settings.
    fn describe() -> PluginInfo;

    /// The plugin's part of the central stack.
    fn synthesize_central(_context: &StackContext) -> Result<Fragment, PluginError> {
        Ok(Fragment::default())
    }

    /// The plugin's part of one tenant stack.
    fn synthesize_tenant(_context: &StackContext) -> Result<Fragment, PluginError> {
        Ok(Fragment::default())
    }

    /// Checks one composed stack; `settings` is the JSON object the stack was synthesized with.
    fn check_stack(
        _stack: &StackDocument,
        _settings: &serde_json::Value,
    ) -> Result<Vec<Finding>, PluginError> {
        Ok(Vec::new())
    }

    /// Checks rules that span the fleet's stacks.
    fn check_fleet(
        _stacks: &[StackDocument],
        _settings: &serde_json::Value,
    ) -> Result<Vec<Finding>, PluginError> {
        Ok(Vec::new())
    }
}

/// Exports a type implementing [`Plugin`] as the component's `tenant:plugin/plugin-api` interface.
///
/// Call it once, at the root of the plugin crate. On targets other than `wasm32` it expands to
/// nothing, so the crate still builds and tests natively.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct Exported;
            impl $crate::__guest::Guest for Exported {
                fn describe() -> $crate::__guest::wit::PluginInfo {
                    $crate::__guest::describe::<$plugin>()
                }
                fn synthesize_central(
                    context: $crate::__guest::wit::StackContext,
                ) -> Result<$crate::__guest::wit::Fragment, $crate::__guest::wit::PluginError> {
                    $crate::__guest::synthesize_central::<$plugin>(context)
                }
                fn synthesize_tenant(
                    context: $crate::__guest::wit::StackContext,
                ) -> Result<$crate::__guest::wit::Fragment, $crate::__guest::wit::PluginError> {
                    $crate::__guest::synthesize_tenant::<$plugin>(context)
                }
                fn check_stack(
                    stack: $crate::__guest::wit::StackDocument,
                    settings: String,
                ) -> Result<Vec<$crate::__guest::wit::Finding>, $crate::__guest::wit::PluginError> {
                    $crate::__guest::check_stack::<$plugin>(stack, settings)
                }
                fn check_fleet(
                    stacks: Vec<$crate::__guest::wit::StackDocument>,
                    settings: String,
                ) -> Result<Vec<$crate::__guest::wit::Finding>, $crate::__guest::wit::PluginError> {
                    $crate::__guest::check_fleet::<$plugin>(stacks, settings)
                }
            }
            $crate::__guest::bindings::__export_plugin_world!(Exported with_types_in $crate::__guest::bindings);
        };
    };
}
