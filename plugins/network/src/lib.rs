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
//! default security group, and (fleet-wide, from the `aws_vpc` blocks only) overlapping tenant
//! VPCs.
//!
//! The logic lives in [`synth`], [`rules`] and [`settings`]; this file only wires it to the
//! plugin contract.

pub mod rules;
pub mod settings;
pub mod synth;

use tenant_plugin_sdk::bundled::{
    DYNAMODB_ENDPOINT_ID, LAMBDA_SECURITY_GROUP_ID, PRIVATE_ROUTE_TABLE_ID, PRIVATE_SUBNET_IDS,
    S3_ENDPOINT_ID, VPC_CIDR_BLOCK, VPC_ID,
};
use tenant_plugin_sdk::prelude::*;

/// The network plugin.
#[derive(Debug)]
pub struct Network;

impl Plugin for Network {
    type Settings = settings::NetworkSettings;

    fn describe() -> PluginInfo {
        PluginInfo::new(
            "network",
            env!("CARGO_PKG_VERSION"),
            "One isolated VPC per tenant: private subnets in two zones, S3/DynamoDB gateway endpoints, a closed Lambda security group and a NACL that blocks other tenants; no path to the internet.",
        )
        .provides(&[
            VPC_ID,
            VPC_CIDR_BLOCK,
            PRIVATE_SUBNET_IDS,
            LAMBDA_SECURITY_GROUP_ID,
            PRIVATE_ROUTE_TABLE_ID,
            S3_ENDPOINT_ID,
            DYNAMODB_ENDPOINT_ID,
        ])
        .rules(rules::RULES)
        .names(synth::NAMES)
        .fleet_needs_resources(&["aws_vpc"])
    }

    fn synthesize_tenant(context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        synth::tenant_fragment(context)
    }

    fn check_stack(stack: &StackDocument, _settings: &Self::Settings) -> Result<Vec<Finding>, PluginError> {
        Ok(rules::check_stack(stack))
    }

    fn check_fleet(
        summaries: &[StackDocument],
        _settings: &Self::Settings,
    ) -> Result<Vec<Finding>, PluginError> {
        Ok(rules::check_fleet(summaries))
    }
}

export_plugin!(Network);

tenant_plugin_sdk::conformance_tests!(Network, golden = "tests/golden");
