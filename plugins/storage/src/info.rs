//! What the storage plugin declares: the values it exchanges, its rules and its settings.

use tenant_plugin_sdk::prelude::*;

/// Every object version is kept, so overwrites and deletes can be undone.
pub const BUCKET_VERSIONING_ENABLED: &str = "storage.bucket-versioning-enabled";
/// No bucket can become public through ACLs or policies.
pub const BUCKET_PUBLIC_ACCESS_BLOCKED: &str = "storage.bucket-public-access-blocked";
/// Buckets are encrypted with a customer managed key of their own stack.
pub const BUCKET_ENCRYPTED_WITH_KMS: &str = "storage.bucket-encrypted-with-kms";
/// Tables can be restored to any second of the last 35 days.
pub const TABLE_POINT_IN_TIME_RECOVERY: &str = "storage.table-point-in-time-recovery";
/// Tables report their most accessed and throttled keys.
pub const TABLE_CONTRIBUTOR_INSIGHTS: &str = "storage.table-contributor-insights";
/// `terraform destroy` removes the stack's data stores without manual steps.
pub const DESTROYABLE: &str = "storage.destroyable";
/// Intelligent-Tiering archive tiers that the lifecycle expiry makes unreachable.
pub const ARCHIVE_TIERS_UNREACHABLE: &str = "storage.archive-tiers-unreachable";
/// Gateway endpoints of a tenant VPC reach only the tenant's own bucket and table.
pub const ENDPOINT_POLICIES_SCOPED: &str = "storage.endpoint-policies-scoped";

/// Days after creation at which current object versions expire.
pub const OBJECT_EXPIRATION_DAYS: &str = "object-expiration-days";
/// Days after becoming noncurrent at which object versions expire.
pub const NONCURRENT_VERSION_EXPIRATION_DAYS: &str = "noncurrent-version-expiration-days";
/// Whether the Intelligent-Tiering archive tiers are configured at all.
pub const ARCHIVE_TIERS_ENABLED: &str = "archive-tiers-enabled";
/// Days without access before Intelligent-Tiering moves an object to Archive Access.
pub const ARCHIVE_ACCESS_DAYS: &str = "archive-access-days";
/// Days without access before Intelligent-Tiering moves an object to Deep Archive Access.
pub const DEEP_ARCHIVE_ACCESS_DAYS: &str = "deep-archive-access-days";

/// IAM role names (wildcards allowed) exempt from the bucket policy's tenant-tag deny.
pub const DATA_ADMIN_ROLE_NAMES: &str = "data-admin-role-names";

/// The plugin's self-description.
pub fn plugin_info() -> PluginInfo {
    PluginInfo::new(
        "storage",
        env!("CARGO_PKG_VERSION"),
        "Each tenant's S3 data bucket and DynamoDB metadata table, encrypted with the tenant key and reachable only through scoped gateway endpoints.",
    )
    .requires(StackKind::Tenant, "kms-key-arn", "The tenant CMK that encrypts the bucket and the table.")
    .requires(StackKind::Tenant, "account-id", "The account id that binds the gateway endpoint policies.")
    .requires(StackKind::Tenant, "s3-endpoint-id", "The tenant VPC's S3 gateway endpoint.")
    .requires(StackKind::Tenant, "dynamodb-endpoint-id", "The tenant VPC's DynamoDB gateway endpoint.")
    .provides(StackKind::Tenant, "bucket-name", "The tenant data bucket's name.")
    .provides(StackKind::Tenant, "bucket-arn", "The tenant data bucket's ARN.")
    .provides(StackKind::Tenant, "table-name", "The tenant metadata table's name.")
    .provides(StackKind::Tenant, "table-arn", "The tenant metadata table's ARN.")
    .rule(BUCKET_VERSIONING_ENABLED, Severity::Error, "Every S3 bucket has versioning Enabled.")
    .rule(
        BUCKET_PUBLIC_ACCESS_BLOCKED,
        Severity::Error,
        "Every S3 bucket has a public access block with all four settings true.",
    )
    .rule(
        BUCKET_ENCRYPTED_WITH_KMS,
        Severity::Error,
        "Every S3 bucket's default encryption is aws:kms with a KMS key declared in the same stack.",
    )
    .rule(TABLE_POINT_IN_TIME_RECOVERY, Severity::Warning, "Every DynamoDB table has point-in-time recovery enabled.")
    .rule(
        TABLE_CONTRIBUTOR_INSIGHTS,
        Severity::Error,
        "Every DynamoDB table has an aws_dynamodb_contributor_insights resource for the table.",
    )
    .rule(
        DESTROYABLE,
        Severity::Error,
        "No resource enables deletion protection or prevent_destroy, and every S3 bucket sets force_destroy.",
    )
    .rule(
        ARCHIVE_TIERS_UNREACHABLE,
        Severity::Warning,
        "No Intelligent-Tiering archive tier waits as long as or longer than the bucket's lifecycle expiration.",
    )
    .rule(
        ENDPOINT_POLICIES_SCOPED,
        Severity::Error,
        "Every gateway VPC endpoint of a tenant stack has a policy allowing only the stack's own buckets and tables.",
    )
    .setting(OBJECT_EXPIRATION_DAYS, json!(90), "Days after creation at which data bucket objects expire.")
    .setting(
        NONCURRENT_VERSION_EXPIRATION_DAYS,
        json!(30),
        "Days after an object version becomes noncurrent at which it expires.",
    )
    .setting(ARCHIVE_TIERS_ENABLED, json!(true), "Whether the Intelligent-Tiering archive tiers are configured.")
    .setting(ARCHIVE_ACCESS_DAYS, json!(90), "Days without access before Archive Access (90 to 730).")
    .setting(
        DEEP_ARCHIVE_ACCESS_DAYS,
        json!(180),
        "Days without access before Deep Archive Access (180 to 730, above archive-access-days).",
    )
    .setting(
        DATA_ADMIN_ROLE_NAMES,
        json!(["terraform-deployer"]),
        "Roles of the tenant's account, besides those tagged with the tenant, that may read, write and empty the data bucket. The default is tenant-host's default deployer role ([access] deployer-role-arn), so that `terraform destroy` can empty the versioned bucket (force_destroy).",
    )
}
