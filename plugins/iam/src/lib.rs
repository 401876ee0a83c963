//! The iam plugin (to be written).
use tenant_plugin_sdk::prelude::*;

/// The iam plugin.
pub struct Pluginiam;

impl Plugin for Pluginiam {
    fn describe() -> PluginInfo {
        PluginInfo::new("iam", env!("CARGO_PKG_VERSION"), "Not written yet.")
    }
}

export_plugin!(Pluginiam);
