use tenant_plugin_sdk::prelude::*;
pub struct Network;
impl Plugin for Network {
    fn describe() -> PluginInfo { PluginInfo::new("network", env!("CARGO_PKG_VERSION"), "x") }
}
export_plugin!(Network);
