//! The tenant stack's key: the key itself, its alias and the account lookup its policy needs.

use crate::policy::{
    KeyPolicyScope, contributed_statements, key_policy, tenant_dead_letter_queue_arn, tenant_log_group_arns,
};
use crate::settings::CryptoSettings;
use tenant_plugin_sdk::bundled::{ACCOUNT_ID, KMS_KEY_ARN, KMS_KEY_ID};
use tenant_plugin_sdk::naming::look_alike_tenant;
use tenant_plugin_sdk::prelude::*;

/// `alias/tenant-{id}-{suffix}`. It always starts with `alias/tenant-`, so it never falls into
/// the `alias/aws` namespace AWS reserves for its own keys.
pub const KEY_ALIAS: NamePattern =
    NamePattern::tenant("aws_kms_alias.name", "alias/tenant-{id}-{suffix}", 256);

/// Every physical name the plugin creates.
pub const NAMES: &[NamePattern] = &[KEY_ALIAS];

/// The tenant's part of its own stack.
pub fn tenant_fragment(context: &StackContext<CryptoSettings>) -> Result<Fragment, PluginError> {
    let tenant = context.tenant()?;
    let deletion_window = context.settings.deletion_window_days;
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
    let mut policy = key_policy(&scope).to_value();
    if let Some(statements) = policy["Statement"].as_array_mut() {
        statements.extend(contributed_statements(&context.contributions)?);
    }
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
            "policy": tenant_plugin_sdk::json_text(&policy),
            "tags": standard_tags(Some(&tenant.id), suffix, &key_name),
        }),
    );
    fragment.resource(
        "aws_kms_alias",
        "tenant",
        json!({"name": KEY_ALIAS.render(&tenant.id, suffix), "target_key_id": key.attr("key_id")}),
    );

    key_intents(&mut fragment, &scope, &key.attr("arn"));

    fragment.output(
        "kms_key_arn",
        json!(key.attr("arn")),
        "The ARN of the tenant's customer-managed KMS key.",
    );
    fragment.provide(&ACCOUNT_ID, account_id);
    fragment.provide(&KMS_KEY_ARN, key.attr("arn"));
    fragment.provide(&KMS_KEY_ID, key.attr("key_id"));
    Ok(fragment)
}

/// What the key policy must allow the services that encrypt the tenant's data for it, and what it
/// must refuse: the same services working for a tenant whose id begins with this one's (the key
/// policy names log groups and the queue exactly for this), another account, and anonymous callers.
fn key_intents(fragment: &mut Fragment, scope: &KeyPolicyScope<'_>, key_arn: &str) {
    let look_alike = KeyPolicyScope {
        tenant_id: &look_alike_tenant(scope.tenant_id),
        ..*scope
    };
    for group in tenant_log_group_arns(scope) {
        fragment.intent(AccessIntent::log_group_encryption(scope.region, key_arn, &group));
    }
    for group in tenant_log_group_arns(&look_alike) {
        fragment.intent(
            AccessIntent::log_group_encryption(scope.region, key_arn, &group)
                .denied()
                .because("CloudWatch Logs never uses the key for another tenant's log groups"),
        );
    }
    // EventBridge encrypts the dead letters of the tenant's events rule itself: the queue's
    // encryption context names the queue.
    let events_dead_letters = |queue: &str| {
        AccessIntent::allow("service:events.amazonaws.com", "kms:GenerateDataKey", key_arn)
            .context("kms:EncryptionContext:aws:sqs:arn", queue)
    };
    fragment.intent(
        events_dead_letters(&tenant_dead_letter_queue_arn(scope))
            .because("EventBridge encrypts the undeliverable events of the tenant's rule"),
    );
    fragment.intent(
        events_dead_letters(&tenant_dead_letter_queue_arn(&look_alike))
            .denied()
            .because("EventBridge never uses the key for another tenant's queue"),
    );
    for principal in ["account:other", "anonymous"] {
        fragment.intent(
            AccessIntent::deny(principal, "kms:Decrypt", key_arn)
                .because("nobody outside the tenant's account decrypts its data"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Crypto, rules};
    use tenant_plugin_sdk::ReceivedContribution;
    use tenant_plugin_sdk::bundled::TENANT_KEY_POLICY;
    use tenant_plugin_sdk::testing::{default_settings, settings_with, tenant_context, tenant_stack};

    fn acme() -> Fragment {
        tenant_fragment(&tenant_context::<Crypto>("acme-corp", "10.0.0.0/16", &[])).unwrap()
    }

    #[test]
    fn the_fragment_passes_the_plugins_own_rules() {
        let stack = tenant_stack("acme-corp", "10.0.0.0/16", acme().to_json());
        assert_eq!(
            rules::check_stack(&stack, &default_settings::<Crypto>()),
            Vec::new()
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
    fn contributed_statements_join_the_key_policy_and_face_the_rules() {
        let backup = json!({
            "Sid": "BackupVaultUse",
            "Effect": "Allow",
            "Principal": {"Service": "backup.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "backup.us-east-1.amazonaws.com"}},
        });
        let mut context = tenant_context::<Crypto>("acme-corp", "10.0.0.0/16", &[]);
        context.contributions.push(ReceivedContribution {
            contributor: "backup".into(),
            point: TENANT_KEY_POLICY.name.into(),
            body: backup.clone(),
        });
        let fragment = tenant_fragment(&context).unwrap();
        let policy: Value = serde_json::from_str(
            fragment.body("aws_kms_key.tenant").unwrap()["policy"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(policy["Statement"].as_array().unwrap().last(), Some(&backup));
        let stack = tenant_stack("acme-corp", "10.0.0.0/16", fragment.to_json());
        assert_eq!(
            rules::check_stack(&stack, &default_settings::<Crypto>()),
            Vec::new()
        );
    }

    #[test]
    fn rejects_unusable_contexts() {
        assert!(matches!(
            settings_with::<Crypto>(json!({"deletion-window-days": 31})),
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
