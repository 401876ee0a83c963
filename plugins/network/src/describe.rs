//! What the network plugin declares: the values it provides, its rules and its settings.

use crate::rules;
use crate::settings::{SUBNET_NEWBITS, TENANT_POOL, ZONE_LETTERS};
use tenant_plugin_sdk::prelude::*;

/// The plugin's self-description, also the source of the [`Rule`]s its findings cite.
pub fn plugin_info() -> PluginInfo {
    PluginInfo::new(
        "network",
        env!("CARGO_PKG_VERSION"),
        "One isolated VPC per tenant: private subnets in two zones, S3/DynamoDB gateway endpoints, a closed Lambda security group and a NACL that blocks other tenants; no path to the internet.",
    )
    .provides(StackKind::Tenant, "vpc-id", "The tenant VPC's id.")
    .provides(StackKind::Tenant, "vpc-cidr-block", "The tenant VPC's IPv4 block.")
    .provides(
        StackKind::Tenant,
        "private-subnet-ids",
        "A JSON array (as text) of the two private subnets' ids, one per availability zone.",
    )
    .provides(
        StackKind::Tenant,
        "lambda-security-group-id",
        "The security group for the tenant's Lambda functions: no ingress, HTTPS egress to S3, DynamoDB and the VPC.",
    )
    .provides(StackKind::Tenant, "private-route-table-id", "The private subnets' route table (local route and gateway endpoints only).")
    .provides(StackKind::Tenant, "s3-endpoint-id", "The S3 gateway endpoint; its policy is attached by the storage plugin.")
    .provides(
        StackKind::Tenant,
        "dynamodb-endpoint-id",
        "The DynamoDB gateway endpoint; its policy is attached by the storage plugin.",
    )
    .rule(
        rules::NO_PUBLIC_INGRESS,
        Severity::Error,
        "No security group admits ingress from 0.0.0.0/0 or ::/0.",
    )
    .rule(
        rules::SUBNETS_SPAN_TWO_AZS,
        Severity::Error,
        "A tenant stack's subnets are placed in at least two distinct availability zones.",
    )
    .rule(
        rules::NO_INTERNET_PATH,
        Severity::Error,
        "No NAT, internet or egress-only gateway, no VPC peering, and no default route (0.0.0.0/0 or ::/0).",
    )
    .rule(
        rules::VPC_CIDR_MATCHES_ALLOCATION,
        Severity::Error,
        "Every VPC of a tenant stack uses exactly the IPv4 block allocated to the tenant.",
    )
    .rule(
        rules::DEFAULT_SECURITY_GROUP_CLOSED,
        Severity::Error,
        "Every VPC of a tenant stack manages its default security group and leaves it without rules.",
    )
    .rule(
        rules::NO_OVERLAPPING_CIDRS,
        Severity::Error,
        "No two tenant stacks' VPC blocks overlap.",
    )
    .setting(
        SUBNET_NEWBITS,
        json!(8),
        "Bits added to the VPC prefix for each private subnet (Terraform cidrsubnet newbits); subnets must end up /16 to /28.",
    )
    .setting(
        TENANT_POOL,
        json!("10.0.0.0/8"),
        "The block all tenant VPCs are allocated from; each tenant's network ACL denies traffic with the rest of it.",
    )
    .setting(
        ZONE_LETTERS,
        json!(["a", "b"]),
        "The letters of the two availability zones (region name + letter) that hold the private subnets.",
    )
}
