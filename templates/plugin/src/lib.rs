//! A template plugin: one audit bucket per tenant, encrypted with the tenant's key, and a rule
//! that every tenant stack has one.
//!
//! It shows the shape every plugin takes: `describe` declares what the plugin needs and enforces,
//! the synthesis and the rule are plain functions unit-tested natively, and `export_plugin!` turns
//! the type into a component when built with `cargo build --release --target wasm32-wasip2`.
//! The bucket is complete on purpose: the host runs every loaded plugin's rules and its own
//! guardrails over every stack, so a bucket without versioning, the tenant key or a public access
//! block would fail the storage and crypto plugins' rules.

use tenant_plugin_sdk::prelude::*;

/// The plugin.
#[derive(Debug)]
pub struct Audit;

const BUCKET_PRESENT: &str = "audit.bucket-present";

impl Plugin for Audit {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            "audit",
            env!("CARGO_PKG_VERSION"),
            "Adds an audit bucket per tenant, encrypted with the tenant key.",
        )
        .requires(
            StackKind::Tenant,
            "kms-key-arn",
            "The tenant key, to encrypt the audit bucket.",
        )
        .setting("retention-days", json!(365), "Days audit objects are kept.")
        .rule(
            BUCKET_PRESENT,
            Severity::Error,
            "Every tenant stack has an audit bucket.",
        )
    }

    fn synthesize_tenant(context: &StackContext) -> Result<Fragment, PluginError> {
        audit_bucket(context)
    }

    fn check_stack(stack: &StackDocument, _settings: &Value) -> Result<Vec<Finding>, PluginError> {
        Ok(check_bucket_present(stack))
    }
}

/// The audit bucket and what makes it compliant: versioning, the tenant key, no public access,
/// and expiry after `retention-days`.
pub fn audit_bucket(context: &StackContext) -> Result<Fragment, PluginError> {
    let tenant = context.tenant()?;
    let suffix = &context.environment_suffix;
    let key_arn = context.input("kms-key-arn")?;
    let retention_days = context.setting_u64("retention-days")?;
    if retention_days == 0 {
        return Err(PluginError::InvalidSettings(
            "retention-days must be at least 1".into(),
        ));
    }
    let name = resource_name(&tenant.id, "audit", suffix);
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

/// One finding for a tenant stack without an audit bucket.
pub fn check_bucket_present(stack: &StackDocument) -> Vec<Finding> {
    let Some(tenant) = &stack.tenant else {
        return Vec::new();
    };
    let has_bucket = stack
        .resources_of("aws_s3_bucket")
        .any(|bucket| bucket.name == "audit");
    if has_bucket {
        return Vec::new();
    }
    let info = Audit::describe();
    vec![Finding::new(
        info.find_rule(BUCKET_PRESENT),
        "",
        format!("tenant `{}` has no audit bucket", tenant.id),
        "Load the audit plugin for this fleet.",
    )]
}

export_plugin!(Audit);

#[cfg(test)]
mod tests {
    use super::*;
    use tenant_plugin_sdk::testing::{tenant_context, tenant_stack};

    const INPUTS: &[(&str, &str)] = &[("kms-key-arn", "${aws_kms_key.tenant.arn}")];

    #[test]
    fn the_bucket_is_named_tagged_and_encrypted_with_the_tenant_key() {
        let fragment = audit_bucket(&tenant_context::<Audit>("acme-corp", "10.0.0.0/16", INPUTS)).unwrap();
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
    fn a_zero_retention_is_refused() {
        let mut context = tenant_context::<Audit>("acme-corp", "10.0.0.0/16", INPUTS);
        context.settings["retention-days"] = json!(0);
        assert!(matches!(
            audit_bucket(&context),
            Err(PluginError::InvalidSettings(_))
        ));
    }

    #[test]
    fn the_rule_finds_a_stack_without_the_bucket() {
        let cases = [
            (json!({}), 1, "a tenant stack without the bucket"),
            (
                json!({"resource": {"aws_s3_bucket": {"audit": {}}}}),
                0,
                "a tenant stack with it",
            ),
        ];
        for (document, expected, reason) in cases {
            let stack = tenant_stack("acme-corp", "10.0.0.0/16", document);
            assert_eq!(check_bucket_present(&stack).len(), expected, "{reason}");
        }
    }
}
