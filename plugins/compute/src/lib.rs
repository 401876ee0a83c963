//! The compute plugin (to be written).
use tenant_plugin_sdk::prelude::*;

/// The compute plugin.
pub struct Plugincompute;

impl Plugin for Plugincompute {
    fn describe() -> PluginInfo {
        PluginInfo::new("compute", env!("CARGO_PKG_VERSION"), "Not written yet.")
    }
}

export_plugin!(Plugincompute);
