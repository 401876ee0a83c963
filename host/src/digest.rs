//! The digest of a stack: a SHA-256 over everything that determines its bytes, so that a run
//! can tell which stacks changed without comparing files, and a rollout can apply only those.
//!
//! A stack's bytes are a function of the host (its version: compose adds provider, backend and
//! metadata), the plugins that ran (their component bytes, in order) with their resolved
//! settings for this stack, and the stack's context: name, suffix, region, state backend, and
//! the tenant (id and block) or, for the central stack, the fleet (every tenant's id and block).
//! Plugins are deterministic (fixed clocks, seeded randomness, no ambient authority), so equal
//! digests mean equal bytes. A tenant's own settings enter only its own stack's digest.

use crate::plugin::LoadedPlugin;
use crate::synth::resolved_settings;
use crate::tenants::{Fleet, Tenant};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tenant_plugin_sdk::naming::{central_stack_name, tenant_stack_name};

/// The host version that enters every digest.
const HOST_VERSION: &str = env!("CARGO_PKG_VERSION");

/// SHA-256 of `bytes`, as lowercase hex: the SDK's, which names plugins' assets the same way.
pub use tenant_plugin_sdk::package::sha256_hex;

/// The digest of every stack of the fleet, by stack name; `plugins` in the order they run.
pub fn stack_digests(plugins: &[LoadedPlugin], fleet: &Fleet) -> BTreeMap<String, String> {
    let central = central_stack_name(&fleet.suffix);
    let mut digests = BTreeMap::from([(central.clone(), stack_digest(plugins, fleet, &central, None))]);
    for tenant in &fleet.tenants {
        let name = tenant_stack_name(&tenant.id, &fleet.suffix);
        let digest = stack_digest(plugins, fleet, &name, Some(tenant));
        digests.insert(name, digest);
    }
    digests
}

fn stack_digest(plugins: &[LoadedPlugin], fleet: &Fleet, name: &str, tenant: Option<&Tenant>) -> String {
    let wire = |t: &Tenant| json!({"id": t.id, "cidr-block": t.cidr_block.to_string()});
    let fleet_view: Vec<Value> = match tenant {
        Some(_) => Vec::new(),
        None => fleet.tenants.iter().map(wire).collect(),
    };
    let plugins: Vec<Value> = plugins
        .iter()
        .map(|plugin| {
            json!({
                "name": plugin.name(),
                "component": plugin.digest,
                "settings": resolved_settings(plugin, fleet, tenant),
            })
        })
        .collect();
    let inputs = json!({
        "host": HOST_VERSION,
        "stack": name,
        "suffix": fleet.suffix,
        "region": fleet.region,
        "backend": {
            "bucket": fleet.backend.bucket,
            "region": fleet.backend.region,
            "key-prefix": fleet.backend.key_prefix,
        },
        "tenant": tenant.map(wire),
        "fleet": fleet_view,
        "plugins": plugins,
    });
    // serde_json's maps are sorted, so the text is canonical.
    sha256_hex(tenant_plugin_sdk::json_text(&inputs).as_bytes())
}
