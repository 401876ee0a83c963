//! The crypto plugin (to be written).
use tenant_plugin_sdk::prelude::*;

/// The crypto plugin.
pub struct Plugincrypto;

impl Plugin for Plugincrypto {
    fn describe() -> PluginInfo {
        PluginInfo::new("crypto", env!("CARGO_PKG_VERSION"), "Not written yet.")
    }
}

export_plugin!(Plugincrypto);
