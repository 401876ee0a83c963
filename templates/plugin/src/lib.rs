//! The audit plugin: one audit bucket per tenant, encrypted with the tenant's key, and a rule
//! that every tenant stack has one.
//!
//! It has the shape every plugin takes: this file is the export shim (what the plugin declares,
//! wired to the contract by `export_plugin!`); `settings.rs` holds the typed settings and their
//! checks, `synth.rs` the fragment and the names it creates, `rules.rs` the policy, and
//! `tests/golden/` the fragment as reviewed. Everything is plain Rust, unit-tested natively with
//! `cargo test`; `cargo build --release --target wasm32-wasip2` makes the component.
//!
//! The bucket is complete on purpose: the host runs every loaded plugin's rules and its own
//! guardrails over every stack, so a bucket without versioning, the tenant key or a public access
//! block would fail the storage and crypto plugins' rules.

pub mod rules;
pub mod settings;
pub mod synth;

use tenant_plugin_sdk::bundled::KMS_KEY_ARN;
use tenant_plugin_sdk::prelude::*;

/// The plugin.
#[derive(Debug)]
pub struct Audit;

impl Plugin for Audit {
    type Settings = settings::AuditSettings;

    fn describe() -> PluginInfo {
        PluginInfo::new(
            "audit",
            env!("CARGO_PKG_VERSION"),
            "Adds an audit bucket per tenant, encrypted with the tenant key.",
        )
        .requires(&[KMS_KEY_ARN])
        .rules(rules::RULES)
        .names(synth::NAMES)
    }

    fn synthesize_tenant(context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        synth::tenant_fragment(context)
    }

    fn check_stack(stack: &StackDocument, _settings: &Self::Settings) -> Result<Vec<Finding>, PluginError> {
        Ok(rules::check_stack(stack))
    }
}

export_plugin!(Audit);

// Golden fragments, declared values and names, own rules only, settings schema.
tenant_plugin_sdk::conformance_tests!(
    Audit,
    golden = "tests/golden",
    tenant = synth::tests::acme_context
);
