//! The crypto plugin gives every tenant its own customer-managed KMS key and makes sure the
//! tenant's data is encrypted with it.
//!
//! In each tenant stack it declares one symmetric key (`aws_kms_key.tenant`) with yearly
//! rotation and a short deletion window, its alias `alias/tenant-{id}-{suffix}`, and a key policy
//! that keeps the key administrable by the account, lets only this tenant's tagged principals
//! (and CloudWatch Logs, for this tenant's own log groups) use it, and explicitly denies
//! principals tagged for any other tenant. The other plugins receive the key's ARN and id and the
//! account id. The central stack gets nothing.
//!
//! Its checks read the composed stacks: rotation, deletion window, wildcard principals in key
//! policies, and whether every bucket, table, log group, queue and function of a tenant stack is
//! encrypted with a key declared in that same stack.
//!
//! The logic lives in [`synth`], [`policy`], [`rules`] and [`settings`]; this file only wires
//! it to the plugin contract.

mod describe;
pub mod policy;
pub mod rules;
pub mod settings;
pub mod synth;

use tenant_plugin_sdk::prelude::*;

/// The crypto plugin.
#[derive(Debug)]
pub struct Crypto;

impl Plugin for Crypto {
    fn describe() -> PluginInfo {
        describe::plugin_info()
    }

    fn synthesize_tenant(context: &StackContext) -> Result<Fragment, PluginError> {
        synth::tenant_fragment(context)
    }

    fn check_stack(stack: &StackDocument, settings: &Value) -> Result<Vec<Finding>, PluginError> {
        rules::check_stack(stack, settings)
    }
}

export_plugin!(Crypto);
