//! The storage fragment of a tenant stack.

use crate::policies::{BucketArns, bucket_policy, endpoint_policy};
use crate::settings::StorageSettings;
use tenant_plugin_sdk::bundled::{
    ACCOUNT_ID, BUCKET_ARN, BUCKET_NAME, DYNAMODB_ENDPOINT_ID, KMS_KEY_ARN, S3_ENDPOINT_ID, TABLE_ARN,
    TABLE_NAME,
};
use tenant_plugin_sdk::naming::{API_ROLE, role_arn};
use tenant_plugin_sdk::prelude::*;

/// The tenant's metadata table.
pub const TABLE: NamePattern =
    NamePattern::tenant("aws_dynamodb_table.name", "tenant-{id}-metadata-{suffix}", 255);
/// The tenant's data bucket; S3 rejects bucket names longer than 63 characters.
pub const BUCKET: NamePattern = NamePattern::tenant("aws_s3_bucket.bucket", "tenant-{id}-data-{suffix}", 63);
/// The bucket's Intelligent-Tiering configuration (its id, unique per bucket).
pub const TIERING_CONFIGURATION: NamePattern = NamePattern::tenant(
    "aws_s3_bucket_intelligent_tiering_configuration.name",
    "archive-tiers",
    64,
);

/// Every physical name the plugin creates.
pub const NAMES: &[NamePattern] = &[TABLE, BUCKET, TIERING_CONFIGURATION];
/// Incomplete multipart uploads hold storage nobody can read; a week is enough to resume one.
const ABORT_INCOMPLETE_UPLOAD_DAYS: u64 = 7;

/// The tenant's bucket, table and gateway endpoint policies.
pub fn tenant_fragment(context: &StackContext<StorageSettings>) -> Result<Fragment, PluginError> {
    let tenant = context.tenant()?;
    let settings = &context.settings;
    let suffix = &context.environment_suffix;
    let kms_key_arn = context.input(&KMS_KEY_ARN)?;
    let account_id = context.input(&ACCOUNT_ID)?;
    let tags = |name: &str| standard_tags(Some(&tenant.id), suffix, name);
    let mut fragment = Fragment::default();

    let table_name = TABLE.render(&tenant.id, suffix);
    let table = fragment.resource(
        "aws_dynamodb_table",
        "metadata",
        json!({
            "name": table_name,
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": "tenant_id",
            "range_key": "resource_type",
            "attribute": [{"name": "tenant_id", "type": "S"}, {"name": "resource_type", "type": "S"}],
            "server_side_encryption": [{"enabled": true, "kms_key_arn": kms_key_arn}],
            "point_in_time_recovery": [{"enabled": true}],
            "deletion_protection_enabled": false,
            "tags": tags(&table_name),
        }),
    );
    fragment.resource(
        "aws_dynamodb_contributor_insights",
        "metadata",
        json!({"table_name": table.attr("name")}),
    );

    let bucket_name = BUCKET.render(&tenant.id, suffix);
    if bucket_name.len() > BUCKET.max_length as usize {
        return Err(PluginError::InvalidContext(format!(
            "bucket name `{bucket_name}` is longer than {} characters; shorten the tenant id or suffix",
            BUCKET.max_length
        )));
    }
    let bucket = fragment.resource(
        "aws_s3_bucket",
        "data",
        json!({"bucket": bucket_name, "force_destroy": true, "tags": tags(&bucket_name)}),
    );
    let bucket_id = bucket.attr("id");
    let versioning = fragment.resource(
        "aws_s3_bucket_versioning",
        "data",
        json!({"bucket": bucket_id, "versioning_configuration": [{"status": "Enabled"}]}),
    );
    fragment.resource(
        "aws_s3_bucket_server_side_encryption_configuration",
        "data",
        json!({
            "bucket": bucket_id,
            "rule": [{
                "apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": kms_key_arn}],
                // One data key per bucket instead of per object: fewer KMS calls, same key.
                "bucket_key_enabled": true,
            }],
        }),
    );
    fragment.resource(
        "aws_s3_bucket_public_access_block",
        "data",
        json!({
            "bucket": bucket_id,
            "block_public_acls": true,
            "block_public_policy": true,
            "ignore_public_acls": true,
            "restrict_public_buckets": true,
        }),
    );
    fragment.resource(
        "aws_s3_bucket_ownership_controls",
        "data",
        json!({"bucket": bucket_id, "rule": [{"object_ownership": "BucketOwnerEnforced"}]}),
    );
    let bucket_arns = BucketArns::new(bucket.attr("arn"));
    fragment.resource(
        "aws_s3_bucket_policy",
        "data",
        json!({
            "bucket": bucket_id,
            "policy": bucket_policy(&tenant.id, &bucket_arns, kms_key_arn, account_id, &settings.data_admin_role_names),
        }),
    );
    // Object events go to EventBridge (CKV2_AWS_62); nothing is delivered until a rule asks.
    fragment.resource(
        "aws_s3_bucket_notification",
        "data",
        json!({"bucket": bucket_id, "eventbridge": true}),
    );
    if let Some(tiers) = settings.archive_tiers() {
        fragment.resource(
            "aws_s3_bucket_intelligent_tiering_configuration",
            "data",
            json!({
                "bucket": bucket_id,
                "name": TIERING_CONFIGURATION.template,
                "status": "Enabled",
                "tiering": [
                    {"access_tier": "ARCHIVE_ACCESS", "days": tiers.archive_access_days},
                    {"access_tier": "DEEP_ARCHIVE_ACCESS", "days": tiers.deep_archive_access_days},
                ],
            }),
        );
    }
    fragment.resource(
        "aws_s3_bucket_lifecycle_configuration",
        "data",
        json!({
            "bucket": bucket_id,
            "rule": [{
                "id": "tier-and-expire",
                "status": "Enabled",
                // An empty filter applies the rule to every object.
                "filter": [{}],
                "transition": [{"days": 0, "storage_class": "INTELLIGENT_TIERING"}],
                "expiration": [{"days": settings.object_expiration_days}],
                "noncurrent_version_expiration": [{"noncurrent_days": settings.noncurrent_version_expiration_days}],
                "abort_incomplete_multipart_upload": [{"days_after_initiation": ABORT_INCOMPLETE_UPLOAD_DAYS}],
            }],
            // Noncurrent-version rules need versioning in place first.
            "depends_on": [versioning.address()],
        }),
    );

    fragment.resource(
        "aws_vpc_endpoint_policy",
        "storage_s3",
        json!({
            "vpc_endpoint_id": context.input(&S3_ENDPOINT_ID)?,
            "policy": endpoint_policy(
                "TenantBucketOnly",
                "s3",
                &[bucket_arns.bucket.clone(), bucket_arns.objects.clone()],
                &tenant.id,
                account_id,
            ),
        }),
    );
    let table_arn = table.attr("arn");
    fragment.resource(
        "aws_vpc_endpoint_policy",
        "storage_dynamodb",
        json!({
            "vpc_endpoint_id": context.input(&DYNAMODB_ENDPOINT_ID)?,
            "policy": endpoint_policy(
                "TenantTableOnly",
                "dynamodb",
                &[table_arn.clone(), format!("{table_arn}/index/*"), format!("{table_arn}/stream/*")],
                &tenant.id,
                account_id,
            ),
        }),
    );

    bucket_intents(&mut fragment, context, &bucket_arns)?;
    // No account outside the tenant's own reads its rows: the table has no resource policy.
    fragment.intent(
        AccessIntent::deny("account:other", "dynamodb:GetItem", &table_arn)
            .because("another account never reads the tenant's rows"),
    );

    fragment.output(
        "bucket_name",
        json!(bucket.attr("bucket")),
        "The tenant data bucket.",
    );
    fragment.output(
        "table_name",
        json!(table.attr("name")),
        "The tenant metadata table.",
    );
    fragment.output("table_arn", json!(table_arn), "The tenant metadata table's ARN.");
    fragment.provide(&BUCKET_NAME, bucket.attr("bucket"));
    fragment.provide(&BUCKET_ARN, bucket_arns.bucket);
    fragment.provide(&TABLE_NAME, table.attr("name"));
    fragment.provide(&TABLE_ARN, table_arn);
    Ok(fragment)
}

/// What the bucket policy must refuse, each intent proving one of its statements: anonymous and
/// foreign-account callers; and, for the tenant's own API role, which its identity policy would
/// otherwise let through, requests without TLS and uploads naming another encryption or key.
fn bucket_intents(
    fragment: &mut Fragment,
    context: &StackContext<StorageSettings>,
    bucket: &BucketArns,
) -> Result<(), PluginError> {
    let tenant = context.tenant()?;
    let api_role = role_arn(
        context.input(&ACCOUNT_ID)?,
        &API_ROLE.render(&tenant.id, &context.environment_suffix),
    );
    let objects = bucket.objects.as_str();
    for action in ["s3:GetObject", "s3:PutObject"] {
        fragment.intent(
            AccessIntent::deny("anonymous", action, objects).because("nothing in a tenant bucket is public"),
        );
    }
    fragment.intent(
        AccessIntent::deny("account:other", "s3:GetObject", objects)
            .because("another account never reads the tenant's objects"),
    );
    fragment.intent(
        AccessIntent::deny(&api_role, "s3:GetObject", objects)
            .context("aws:SecureTransport", "false")
            .because("tenant data never travels without TLS, whoever asks"),
    );
    fragment.intent(
        AccessIntent::deny(&api_role, "s3:PutObject", objects)
            .context("s3:x-amz-server-side-encryption", "AES256")
            .because("objects are encrypted with the tenant key, never with S3-managed keys"),
    );
    let other_key = format!(
        "arn:aws:kms:{}:{}:key/another-key",
        context.region,
        context.input(&ACCOUNT_ID)?
    );
    fragment.intent(
        AccessIntent::deny(&api_role, "s3:PutObject", objects)
            .context("s3:x-amz-server-side-encryption", "aws:kms")
            .context("s3:x-amz-server-side-encryption-aws-kms-key-id", &other_key)
            .because("objects are encrypted with the tenant key, never with another key"),
    );
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::StoragePlugin;
    use tenant_plugin_sdk::testing::{settings_with, tenant_context};

    pub(crate) const INPUTS: &[(&str, &str)] = &[
        ("kms-key-arn", "${aws_kms_key.tenant.arn}"),
        ("account-id", "${data.aws_caller_identity.crypto.account_id}"),
        ("s3-endpoint-id", "${aws_vpc_endpoint.s3.id}"),
        ("dynamodb-endpoint-id", "${aws_vpc_endpoint.dynamodb.id}"),
    ];

    /// The acme-corp context with what crypto and network provide.
    pub(crate) fn acme_context() -> StackContext<StorageSettings> {
        tenant_context::<StoragePlugin>("acme-corp", "10.0.0.0/16", INPUTS)
    }

    #[test]
    fn switching_the_archive_tiers_off_drops_the_tiering_configuration() {
        let mut context = acme_context();
        context.settings =
            settings_with::<StoragePlugin>(json!({crate::settings::ARCHIVE_TIERS_ENABLED: false})).unwrap();
        let fragment = tenant_fragment(&context).unwrap();
        assert!(
            fragment
                .body("aws_s3_bucket_intelligent_tiering_configuration.data")
                .is_none()
        );
    }

    #[test]
    fn refuses_contexts_it_cannot_name_or_wire() {
        let long_id = "a".repeat(50);
        let cases: &[(&str, StackContext<StorageSettings>)] = &[
            (
                "the bucket name would exceed 63 characters",
                tenant_context::<StoragePlugin>(&long_id, "10.0.0.0/16", INPUTS),
            ),
            (
                "the tenant key is missing",
                tenant_context::<StoragePlugin>("acme-corp", "10.0.0.0/16", &INPUTS[1..]),
            ),
        ];
        for (reason, context) in cases {
            assert!(
                matches!(tenant_fragment(context), Err(PluginError::InvalidContext(_))),
                "{reason}"
            );
        }
    }
}
