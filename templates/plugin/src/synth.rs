//! The tenant stack's audit bucket and what makes it compliant: versioning, the tenant key, no
//! public access, and expiry after `retention-days`.

use crate::settings::AuditSettings;
use tenant_plugin_sdk::bundled::KMS_KEY_ARN;
use tenant_plugin_sdk::prelude::*;

/// The audit bucket; S3 accepts bucket names of at most 63 characters, and the host budgets the
/// tenant id so that every loaded plugin's names fit.
pub const BUCKET: NamePattern = NamePattern::tenant("aws_s3_bucket.bucket", "tenant-{id}-audit-{suffix}", 63);

/// Every physical name the plugin creates.
pub const NAMES: &[NamePattern] = &[BUCKET];

/// The plugin's part of one tenant stack.
pub fn tenant_fragment(context: &StackContext<AuditSettings>) -> Result<Fragment, PluginError> {
    let tenant = context.tenant()?;
    let suffix = &context.environment_suffix;
    let key_arn = context.input(&KMS_KEY_ARN)?;
    let retention_days = context.settings.retention_days;
    let name = BUCKET.render(&tenant.id, suffix);
    let tags = standard_tags(Some(&tenant.id), suffix, &name);
    let mut fragment = Fragment::default();
    let bucket = fragment.resource(
        "aws_s3_bucket",
        "audit",
        json!({"bucket": name, "force_destroy": true, "tags": tags}),
    );
    let bucket_id = bucket.attr("id");
    fragment.resource(
        "aws_s3_bucket_versioning",
        "audit",
        json!({"bucket": bucket_id, "versioning_configuration": [{"status": "Enabled"}]}),
    );
    fragment.resource(
        "aws_s3_bucket_server_side_encryption_configuration",
        "audit",
        json!({"bucket": bucket_id, "rule": [{
            "apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": key_arn}],
            "bucket_key_enabled": true,
        }]}),
    );
    fragment.resource(
        "aws_s3_bucket_public_access_block",
        "audit",
        json!({
            "bucket": bucket_id,
            "block_public_acls": true,
            "block_public_policy": true,
            "ignore_public_acls": true,
            "restrict_public_buckets": true,
        }),
    );
    fragment.resource(
        "aws_s3_bucket_lifecycle_configuration",
        "audit",
        json!({"bucket": bucket_id, "rule": [{
            "id": "expire-audit-records",
            "status": "Enabled",
            "filter": [{"prefix": ""}],
            "expiration": [{"days": retention_days}],
            "noncurrent_version_expiration": [{"noncurrent_days": retention_days}],
        }]}),
    );
    fragment.output(
        "audit_bucket_name",
        json!(bucket.attr("bucket")),
        "The tenant's audit bucket.",
    );
    Ok(fragment)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Audit;
    use tenant_plugin_sdk::testing::{settings_with, tenant_context};

    /// What the crypto plugin provides, as the host would pass it.
    const INPUTS: &[(&str, &str)] = &[("kms-key-arn", "${aws_kms_key.tenant.arn}")];

    /// The acme-corp tenant stack's context, for these tests and the conformance tests.
    pub(crate) fn acme_context() -> StackContext<AuditSettings> {
        tenant_context::<Audit>("acme-corp", "10.0.0.0/16", INPUTS)
    }

    #[test]
    fn the_bucket_is_named_tagged_and_encrypted_with_the_tenant_key() {
        let fragment = tenant_fragment(&acme_context()).unwrap();
        let bucket = fragment.body("aws_s3_bucket.audit").unwrap();
        assert_eq!(bucket["bucket"], "tenant-acme-corp-audit-dev");
        assert_eq!(bucket["tags"]["TenantId"], "acme-corp");
        let encryption = fragment
            .body("aws_s3_bucket_server_side_encryption_configuration.audit")
            .unwrap();
        assert_eq!(
            encryption["rule"][0]["apply_server_side_encryption_by_default"][0]["kms_master_key_id"],
            "${aws_kms_key.tenant.arn}"
        );
    }

    #[test]
    fn the_configured_retention_expires_objects() {
        let mut context = acme_context();
        context.settings = settings_with::<Audit>(json!({"retention-days": 30})).unwrap();
        let fragment = tenant_fragment(&context).unwrap();
        let lifecycle = fragment
            .body("aws_s3_bucket_lifecycle_configuration.audit")
            .unwrap();
        assert_eq!(lifecycle["rule"][0]["expiration"][0]["days"], 30);
    }

    #[test]
    fn a_stack_without_the_tenant_key_is_refused() {
        let mut context = acme_context();
        context.inputs.clear();
        let error = tenant_fragment(&context).unwrap_err();
        assert!(error.to_string().contains("kms-key-arn"), "{error}");
    }
}
