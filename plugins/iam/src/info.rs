//! What the iam plugin declares: the values it exchanges and its rules.

use tenant_plugin_sdk::prelude::*;

/// Identity policies never grant data actions on every resource.
pub const DATA_ACTIONS_SCOPED: &str = "iam.data-actions-scoped";
/// Identity policies of a tenant stack grant data actions only to principals tagged with the tenant.
pub const PRINCIPAL_TAG_BOUND: &str = "iam.principal-tag-bound";
/// A tenant stack names nothing of another tenant.
pub const NO_FOREIGN_TENANT: &str = "iam.no-foreign-tenant";
/// Roles trust one AWS service, for requests from one account or resource.
pub const TRUST_SCOPED: &str = "iam.trust-scoped";
/// Resource policies never allow everyone unconditionally.
pub const NO_WILDCARD_PRINCIPAL: &str = "iam.no-wildcard-principal";

/// The plugin's self-description.
pub fn plugin_info() -> PluginInfo {
    PluginInfo::new(
        "iam",
        env!("CARGO_PKG_VERSION"),
        "Each tenant's Lambda execution role, limited to the tenant's own data by policy, principal tag and permissions boundary.",
    )
    .requires(StackKind::Tenant, "account-id", "The tenant account: binds the trust policy and EC2 ARNs.")
    .requires(StackKind::Tenant, "kms-key-arn", "The tenant CMK the function encrypts and decrypts with.")
    .requires(StackKind::Tenant, "table-arn", "The tenant metadata table.")
    .requires(StackKind::Tenant, "bucket-arn", "The tenant data bucket.")
    .requires(StackKind::Tenant, "log-group-arn", "The API function's log group.")
    .requires(StackKind::Tenant, "vpc-id", "The tenant VPC: the only VPC the function may place network interfaces in.")
    .provides(StackKind::Tenant, "lambda-role-arn", "The API function's execution role ARN, available once its policy is attached.")
    .provides(StackKind::Tenant, "lambda-role-name", "The API function's execution role name, available once its policy is attached.")
    .rule(
        DATA_ACTIONS_SCOPED,
        Severity::Error,
        "No identity policy allows dynamodb:, s3:, kms: or logs: data actions on Resource \"*\" (or NotResource).",
    )
    .rule(
        PRINCIPAL_TAG_BOUND,
        Severity::Error,
        "In tenant stacks, every identity-policy Allow of data actions requires aws:PrincipalTag/TenantId to equal the tenant id.",
    )
    .rule(
        NO_FOREIGN_TENANT,
        Severity::Error,
        "A tenant stack mentions no `tenant-…` name except the tenant itself and names its own resources carry.",
    )
    .rule(
        TRUST_SCOPED,
        Severity::Error,
        "Every role trusts only service principals and binds aws:SourceAccount or aws:SourceArn.",
    )
    .rule(
        NO_WILDCARD_PRINCIPAL,
        Severity::Error,
        "No resource policy or Lambda permission allows principal \"*\" without a condition.",
    )
}
