//! The storage plugin (to be written).
use tenant_plugin_sdk::prelude::*;

/// The storage plugin.
pub struct Pluginstorage;

impl Plugin for Pluginstorage {
    fn describe() -> PluginInfo {
        PluginInfo::new("storage", env!("CARGO_PKG_VERSION"), "Not written yet.")
    }
}

export_plugin!(Pluginstorage);
