//! The network plugin gives every tenant its own isolated, internet-less VPC.
//!
//! In each tenant stack it declares a VPC on the block the host allocated to the tenant, two
//! private subnets in two availability zones, one private route table (local route only),
//! gateway endpoints for S3 and DynamoDB (so the tenant API reaches its data without a NAT or
//! internet gateway), the security group of the tenant's Lambda functions (no ingress; HTTPS
//! egress to the endpoints and the VPC only), the VPC's default security group stripped of all
//! rules, and a network ACL that explicitly drops traffic from and to the rest of the tenant pool.
//! The central stack gets nothing.
//!
//! Its checks read the composed stacks, so they also catch what other plugins add: public
//! ingress, paths to the internet, subnets in a single zone, a VPC off its allocation, an open
//! default security group, and (fleet-wide) overlapping tenant VPCs.
//!
//! The logic lives in [`synth`], [`rules`] and [`settings`]; this file only wires it to the
//! plugin contract.

mod describe;
pub mod rules;
pub mod settings;
pub mod synth;

use tenant_plugin_sdk::prelude::*;

/// The network plugin.
#[derive(Debug)]
pub struct Network;

impl Plugin for Network {
    fn describe() -> PluginInfo {
        describe::plugin_info()
    }

    fn synthesize_tenant(context: &StackContext) -> Result<Fragment, PluginError> {
        synth::tenant_fragment(context)
    }

    fn check_stack(stack: &StackDocument, _settings: &Value) -> Result<Vec<Finding>, PluginError> {
        Ok(rules::check_stack(stack))
    }

    fn check_fleet(stacks: &[StackDocument], _settings: &Value) -> Result<Vec<Finding>, PluginError> {
        Ok(rules::check_fleet(stacks))
    }
}

export_plugin!(Network);
