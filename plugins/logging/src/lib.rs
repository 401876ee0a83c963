//! The logging plugin (to be written).
use tenant_plugin_sdk::prelude::*;

/// The logging plugin.
pub struct Pluginlogging;

impl Plugin for Pluginlogging {
    fn describe() -> PluginInfo {
        PluginInfo::new("logging", env!("CARGO_PKG_VERSION"), "Not written yet.")
    }
}

export_plugin!(Pluginlogging);
