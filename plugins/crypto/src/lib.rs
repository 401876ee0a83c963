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
//! It owns the extension point `tenant-key-policy` (see
//! [`bundled::TENANT_KEY_POLICY`](tenant_plugin_sdk::bundled::TENANT_KEY_POLICY)): later plugins
//! contribute key-policy statements for their own service or role, which [`policy`] validates
//! before appending them; the rules below still judge the resulting policy.
//!
//! Its checks read the composed stacks: rotation, deletion window, wildcard principals in key
//! policies, and whether every bucket, table, log group, queue and function of a tenant stack is
//! encrypted with a key declared in that same stack.
//!
//! The logic lives in [`synth`], [`policy`], [`rules`] and [`settings`]; this file only wires
//! it to the plugin contract.

pub mod policy;
pub mod rules;
pub mod settings;
pub mod synth;

use tenant_plugin_sdk::bundled::{ACCOUNT_ID, KMS_KEY_ARN, KMS_KEY_ID, TENANT_KEY_POLICY};
use tenant_plugin_sdk::prelude::*;

/// The crypto plugin.
#[derive(Debug)]
pub struct Crypto;

impl Plugin for Crypto {
    type Settings = settings::CryptoSettings;

    fn describe() -> PluginInfo {
        PluginInfo::new(
            "crypto",
            env!("CARGO_PKG_VERSION"),
            "One customer-managed KMS key per tenant, usable only by that tenant's principals and its own log groups; checks that tenant data is encrypted with it.",
        )
        .provides(&[ACCOUNT_ID, KMS_KEY_ARN, KMS_KEY_ID])
        .rules(rules::RULES)
        .names(synth::NAMES)
        .accepts(TENANT_KEY_POLICY)
    }

    fn synthesize_tenant(context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        synth::tenant_fragment(context)
    }

    fn check_stack(stack: &StackDocument, settings: &Self::Settings) -> Result<Vec<Finding>, PluginError> {
        Ok(rules::check_stack(stack, settings))
    }
}

export_plugin!(Crypto);

tenant_plugin_sdk::conformance_tests!(Crypto, golden = "tests/golden");
