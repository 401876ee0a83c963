//! The guest SDK for tenant-host plugins.
//!
//! A plugin is a WebAssembly component that contributes Terraform JSON to every stack tenant-host
//! writes and checks the composed stacks against its policy rules. This crate is the only
//! dependency a plugin needs: it hides the generated bindings of the contract
//! (`wit/tenant-plugin@0.2.0/plugin.wit`) and gives authors plain Rust types and builders.
//!
//! An author implements [`Plugin`] on a unit struct and calls [`export_plugin!`]. Everything a
//! plugin declares is a constant used both in [`Plugin::describe`] and where the plugin acts:
//! [`Rule`]s make findings, [`ValueDeclaration`]s read inputs and provide values, [`NamePattern`]s
//! are the names it creates, and the settings are one `serde` struct with a [`SettingsSchema`],
//! parsed and checked by the SDK before the plugin sees them. The trait's functions take and
//! return plain Rust values, so the plugin's logic is unit-tested natively with `cargo test`
//! ([`testing`], [`conformance_tests!`]); only a `wasm32` build wires it to the component.
//!
//! ```
//! use tenant_plugin_sdk::prelude::*;
//!
//! const GREETING_PRESENT: Rule = Rule::error("hello.greeting-present", "Every tenant stack greets.");
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     type Settings = NoSettings;
//!
//!     fn describe() -> PluginInfo {
//!         PluginInfo::new("hello", env!("CARGO_PKG_VERSION"), "Says hello in every tenant stack.")
//!             .rules(&[GREETING_PRESENT])
//!     }
//!
//!     fn synthesize_tenant(context: &StackContext<NoSettings>) -> Result<Fragment, PluginError> {
//!         let tenant = context.tenant()?;
//!         let mut fragment = Fragment::default();
//!         fragment.output("greeting", json!(format!("hello {}", tenant.id)), "A greeting.");
//!         Ok(fragment)
//!     }
//!
//!     fn check_stack(stack: &StackDocument, _settings: &NoSettings) -> Result<Vec<Finding>, PluginError> {
//!         let greets = stack.section("output").and_then(|output| output.get("greeting")).is_some();
//!         Ok(if greets { Vec::new() } else { vec![GREETING_PRESENT.finding("", "no greeting", "Load hello.")] })
//!     }
//! }
//!
//! export_plugin!(Hello);
//! ```
#![deny(missing_docs)]

// The generated bindings name this crate by its public path, also from inside it.
extern crate self as tenant_plugin_sdk;

pub mod bundled;
pub mod cidr;
mod conformance;
mod declarations;
pub mod document;
mod fragment;
pub mod iam;
mod intents;
pub mod log;
pub mod naming;
pub mod package;
pub mod resources;
pub mod settings;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
mod types;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __guest;
#[cfg(any(test, all(target_arch = "wasm32", feature = "one-shot-allocator")))]
mod one_shot_alloc;

/// Every call runs in a fresh instance, so the plugin allocates without freeing (see
/// `one_shot_alloc`); `default-features = false` keeps Rust's default allocator instead.
#[cfg(all(
    target_arch = "wasm32",
    not(target_feature = "atomics"),
    feature = "one-shot-allocator"
))]
#[global_allocator]
static ALLOCATOR: one_shot_alloc::OneShotAllocator = one_shot_alloc::OneShotAllocator::new();

pub use declarations::{
    CONTRACT_VERSION, ExtensionPoint, NamePattern, PluginInfo, Rule, ValueDeclaration, ValueKind,
};
pub use document::{StackDocument, TerraformBlock};
pub use fragment::{Asset, Block, BlockKind, Fragment, Output, Reference};
pub use intents::{AccessExpectation, AccessIntent};
/// The `serde` the SDK parses settings with; derive `Deserialize` on a settings struct with
/// `#[serde(crate = "tenant_plugin_sdk::serde")]`, so a plugin needs no `serde` dependency.
pub use serde;
pub use settings::{NoSettings, Setting, SettingProblem, SettingType, SettingsSchema};
pub use types::{
    Contribution, ExchangedValue, Finding, PluginError, ReceivedContribution, Severity, StackContext,
    StackKind, Tenant,
};

/// `value` (a JSON value or map) as compact JSON text, e.g. a policy for a `policy` attribute.
/// `serde_json::to_string` writes straight into the text; `to_string()` goes through `Value`'s
/// `Display`, which passes every token through a formatter and took 2.5 times as long on a stack
/// document.
pub fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("a JSON value serializes")
}

/// What most plugins import: `use tenant_plugin_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::iam::{PolicyDocument, Statement};
    pub use crate::naming::{resource_name, standard_tags};
    pub use crate::{
        AccessIntent, Contribution, ExchangedValue, ExtensionPoint, Finding, Fragment, NamePattern,
        NoSettings, Plugin, PluginError, PluginInfo, Reference, Rule, Setting, SettingProblem,
        SettingsSchema, Severity, StackContext, StackDocument, StackKind, Tenant, ValueDeclaration, bundled,
        export_plugin,
    };
    pub use serde::Deserialize;
    pub use serde_json::{self, Value, json};
}

/// The behaviour of a plugin. Every function but [`Plugin::describe`] has a default that
/// contributes nothing, so a plugin implements only what it adds.
pub trait Plugin {
    /// The plugin's settings: parsed and checked against their schema by the SDK before any other
    /// function sees them ([`NoSettings`] for a plugin without settings).
    type Settings: SettingsSchema;

    /// Who the plugin is, what it provides and requires, its rules, names, extension points and
    /// fleet needs. Its settings come from [`Plugin::Settings`].
    fn describe() -> PluginInfo;

    /// What the plugin adds to other plugins' extension points (declared with
    /// [`PluginInfo::contributes_to`]) in one stack, before any plugin synthesizes it.
    fn contribute(_context: &StackContext<Self::Settings>) -> Result<Vec<Contribution>, PluginError> {
        Ok(Vec::new())
    }

    /// The plugin's part of the central stack.
    fn synthesize_central(_context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        Ok(Fragment::default())
    }

    /// The plugin's part of one tenant stack.
    fn synthesize_tenant(_context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        Ok(Fragment::default())
    }

    /// Checks one composed stack, with the settings the stack was synthesized with.
    fn check_stack(_stack: &StackDocument, _settings: &Self::Settings) -> Result<Vec<Finding>, PluginError> {
        Ok(Vec::new())
    }

    /// Checks rules that span the fleet. Each stack's document holds only what the plugin
    /// declared in [`PluginInfo::fleet_needs_resources`] and [`PluginInfo::fleet_needs_output`]
    /// (in Terraform JSON layout), central stack first, then tenants in id order.
    fn check_fleet(
        _summaries: &[StackDocument],
        _settings: &Self::Settings,
    ) -> Result<Vec<Finding>, PluginError> {
        Ok(Vec::new())
    }
}

/// Exports a type implementing [`Plugin`] as the component's `tenant:plugin/plugin-api@0.2.0`
/// interface.
///
/// Call it once, at the root of the plugin crate. On targets other than `wasm32` it expands to
/// nothing, so the crate still builds and tests natively.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::__guest::wit;
            struct Exported;
            impl $crate::__guest::Guest for Exported {
                fn describe() -> wit::PluginInfo {
                    $crate::__guest::describe::<$plugin>()
                }
                fn validate_settings(settings: String, tenant: Option<wit::Tenant>) -> Vec<wit::SettingProblem> {
                    $crate::__guest::validate_settings::<$plugin>(settings, tenant)
                }
                fn contribute(context: wit::StackContext) -> Result<Vec<wit::Contribution>, wit::PluginError> {
                    $crate::__guest::contribute::<$plugin>(context)
                }
                fn synthesize_central(context: wit::StackContext) -> Result<wit::Fragment, wit::PluginError> {
                    $crate::__guest::synthesize_central::<$plugin>(context)
                }
                fn synthesize_tenant(context: wit::StackContext) -> Result<wit::Fragment, wit::PluginError> {
                    $crate::__guest::synthesize_tenant::<$plugin>(context)
                }
                fn check_stack(
                    stack: wit::StackDocument,
                    settings: String,
                ) -> Result<Vec<wit::Finding>, wit::PluginError> {
                    $crate::__guest::check_stack::<$plugin>(stack, settings)
                }
                fn check_fleet(
                    summaries: Vec<wit::StackSummary>,
                    settings: String,
                ) -> Result<Vec<wit::Finding>, wit::PluginError> {
                    $crate::__guest::check_fleet::<$plugin>(summaries, settings)
                }
            }
            $crate::__guest::bindings::__export_plugin_world!(Exported with_types_in $crate::__guest::bindings);
        };
    };
}
