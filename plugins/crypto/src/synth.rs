//! The tenant stack's key: the key itself, its alias and the account lookup its policy needs.

use crate::policy::{KeyPolicyScope, key_policy};
use crate::settings::deletion_window_days;
use tenant_plugin_sdk::prelude::*;

/// The tenant's part of its own stack.
pub fn tenant_fragment(context: &StackContext) -> Result<Fragment, PluginError> {
    let tenant = context.tenant()?;
    let deletion_window = deletion_window_days(&context.settings)?;
    let suffix = context.environment_suffix.as_str();
    let mut fragment = Fragment::default();

    let caller = fragment.data("aws_caller_identity", "crypto", json!({}));
    let account_id = caller.attr("account_id");
    let scope = KeyPolicyScope {
        tenant_id: &tenant.id,
        suffix,
        region: &context.region,
        account_id: &account_id,
    };
    let key_name = resource_name(&tenant.id, "key", suffix);
    let key = fragment.resource(
        "aws_kms_key",
        "tenant",
        json!({
            "description": format!(
                "Customer-managed key of tenant {} ({suffix}): encrypts its bucket, table, log groups, queues and function settings",
                tenant.id
            ),
            "key_usage": "ENCRYPT_DECRYPT",
            "customer_master_key_spec": "SYMMETRIC_DEFAULT",
            "enable_key_rotation": true,
            "deletion_window_in_days": deletion_window,
            "policy": key_policy(&scope).render(),
            "tags": standard_tags(Some(&tenant.id), suffix, &key_name),
        }),
    );
    fragment.resource(
        "aws_kms_alias",
        "tenant",
        json!({"name": alias_name(&tenant.id, suffix), "target_key_id": key.attr("key_id")}),
    );

    fragment.output(
        "kms_key_arn",
        json!(key.attr("arn")),
        "The ARN of the tenant's customer-managed KMS key.",
    );
    fragment.provide("account-id", account_id);
    fragment.provide("kms-key-arn", key.attr("arn"));
    fragment.provide("kms-key-id", key.attr("key_id"));
    Ok(fragment)
}

/// `alias/tenant-{id}-{suffix}`. It always starts with `alias/tenant-`, so it never falls into
/// the `alias/aws` namespace AWS reserves for its own keys.
fn alias_name(tenant_id: &str, suffix: &str) -> String {
    format!("alias/tenant-{tenant_id}-{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Crypto, rules};
    use tenant_plugin_sdk::testing::{assert_golden_json, default_settings, tenant_context, tenant_stack};

    fn acme() -> Fragment {
        tenant_fragment(&tenant_context::<Crypto>("acme-corp", "10.0.0.0/16", &[])).unwrap()
    }

    #[test]
    fn acme_corp_matches_the_golden_file() {
        assert_golden_json(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/tenant-acme-corp.json"),
            &acme().to_json(),
        );
    }

    #[test]
    fn the_fragment_passes_the_plugins_own_rules() {
        let stack = tenant_stack("acme-corp", "10.0.0.0/16", acme().to_json());
        assert_eq!(
            rules::check_stack(&stack, &default_settings::<Crypto>()),
            Ok(Vec::new())
        );
    }

    #[test]
    fn the_key_is_rotated_and_short_lived_and_the_alias_follows_the_convention() {
        let fragment = acme();
        let key = fragment.body("aws_kms_key.tenant").unwrap();
        assert_eq!(key["enable_key_rotation"], true);
        assert_eq!(key["deletion_window_in_days"], 7);
        assert!(key["description"].as_str().unwrap().contains("acme-corp"));
        let alias = fragment.body("aws_kms_alias.tenant").unwrap();
        assert_eq!(alias["name"], "alias/tenant-acme-corp-dev");
        assert_eq!(alias["target_key_id"], "${aws_kms_key.tenant.key_id}");
    }

    #[test]
    fn provides_every_declared_value_once() {
        let provided: Vec<_> = acme().provides.into_iter().map(|(name, _)| name).collect();
        let declared: Vec<_> = Crypto::describe().provides.into_iter().map(|d| d.name).collect();
        assert_eq!(provided, declared);
    }

    #[test]
    fn rejects_unusable_contexts() {
        let mut long_window = tenant_context::<Crypto>("acme-corp", "10.0.0.0/16", &[]);
        long_window.settings["deletion-window-days"] = json!(31);
        assert!(matches!(
            tenant_fragment(&long_window),
            Err(PluginError::InvalidSettings(_))
        ));
        let mut central = tenant_context::<Crypto>("acme-corp", "10.0.0.0/16", &[]);
        central.tenant = None;
        assert!(matches!(
            tenant_fragment(&central),
            Err(PluginError::InvalidContext(_))
        ));
    }
}
