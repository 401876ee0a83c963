//! The events plugin (to be written).
use tenant_plugin_sdk::prelude::*;

/// The events plugin.
pub struct Pluginevents;

impl Plugin for Pluginevents {
    fn describe() -> PluginInfo {
        PluginInfo::new("events", env!("CARGO_PKG_VERSION"), "Not written yet.")
    }
}

export_plugin!(Pluginevents);
