//! # tenant-plugin-storage
//!
//! Contributes each tenant's data stores to its stack and guards every data store of the fleet.
//!
//! **What it adds to a tenant stack**
//! - `aws_dynamodb_table.metadata` (`tenant-{id}-metadata-{suffix}`): keys `tenant_id` /
//!   `resource_type`, on-demand billing, encrypted with the tenant CMK, point-in-time recovery,
//!   contributor insights, no deletion protection.
//! - `aws_s3_bucket.data` (`tenant-{id}-data-{suffix}`): versioned, SSE-KMS with the tenant CMK and
//!   a bucket key, public access blocked, ACLs disabled, `force_destroy`; a lifecycle rule that moves
//!   objects to Intelligent-Tiering on day 0, expires them (setting `object-expiration-days`),
//!   expires noncurrent versions and aborts stale multipart uploads; the Intelligent-Tiering archive
//!   tiers; object events to EventBridge.
//! - A bucket policy that only denies: plain HTTP, object data to any principal not tagged with
//!   this tenant (AWS service principals and listed data administrators excepted, see
//!   [`policies::bucket_policy`]), and uploads asking for another encryption or key.
//! - Policies for the tenant VPC's S3 and DynamoDB gateway endpoints that reach only this tenant's
//!   bucket and table, for principals of the tenant's account tagged with the tenant. Without them
//!   a gateway endpoint reaches every bucket and table in the region.
//!
//! It provides `bucket-name`, `bucket-arn`, `table-name`, `table-arn` and outputs `bucket_name`,
//! `table_name`, `table_arn`.
//!
//! **Rules** (over every composed stack, whichever plugin emitted the resource): bucket
//! versioning, public access block and KMS encryption with a key of the stack, table
//! point-in-time recovery and contributor insights, destroyability, unreachable archive tiers, and
//! (tenant stacks) gateway endpoint policies scoped to the stack's own data stores.
//!
//! **checkov**: access logging (CKV_AWS_18) and cross-region replication (CKV_AWS_144) are waived:
//! a log bucket per tenant would itself need logging, versioning and a key, and the audit trail for
//! object access is CloudTrail data events; replication would copy tenant data to a second region
//! the requirements do not allow and double the cost of a test environment.

mod document;
mod policies;
mod rules;
mod settings;
mod synth;

use tenant_plugin_sdk::bundled::{
    ACCOUNT_ID, BUCKET_ARN, BUCKET_NAME, DYNAMODB_ENDPOINT_ID, KMS_KEY_ARN, S3_ENDPOINT_ID, TABLE_ARN,
    TABLE_NAME,
};
use tenant_plugin_sdk::prelude::*;

/// The storage plugin.
#[derive(Debug)]
pub struct StoragePlugin;

impl Plugin for StoragePlugin {
    type Settings = settings::StorageSettings;

    fn describe() -> PluginInfo {
        PluginInfo::new(
            "storage",
            env!("CARGO_PKG_VERSION"),
            "Each tenant's S3 data bucket and DynamoDB metadata table, encrypted with the tenant key and reachable only through scoped gateway endpoints.",
        )
        .requires(&[KMS_KEY_ARN, ACCOUNT_ID, S3_ENDPOINT_ID, DYNAMODB_ENDPOINT_ID])
        .provides(&[BUCKET_NAME, BUCKET_ARN, TABLE_NAME, TABLE_ARN])
        .rules(rules::RULES)
        .names(synth::NAMES)
    }

    fn synthesize_tenant(context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        synth::tenant_fragment(context)
    }

    fn check_stack(stack: &StackDocument, _settings: &Self::Settings) -> Result<Vec<Finding>, PluginError> {
        Ok(rules::check_stack(stack))
    }
}

export_plugin!(StoragePlugin);

tenant_plugin_sdk::conformance_tests!(
    StoragePlugin,
    golden = "tests/golden",
    tenant = synth::tests::acme_context
);
