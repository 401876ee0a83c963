//! What the crypto plugin declares: the values it provides, its rules and its settings.

use crate::rules;
use crate::settings::DELETION_WINDOW_DAYS;
use tenant_plugin_sdk::prelude::*;

/// The plugin's self-description, also the source of the [`Rule`]s its findings cite.
pub fn plugin_info() -> PluginInfo {
    PluginInfo::new(
        "crypto",
        env!("CARGO_PKG_VERSION"),
        "One customer-managed KMS key per tenant, usable only by that tenant's principals and its own log groups; checks that tenant data is encrypted with it.",
    )
    .provides(StackKind::Tenant, "account-id", "The AWS account id (data.aws_caller_identity.crypto).")
    .provides(StackKind::Tenant, "kms-key-arn", "The ARN of the tenant's customer-managed key.")
    .provides(StackKind::Tenant, "kms-key-id", "The key id of the tenant's customer-managed key.")
    .rule(rules::KEY_ROTATION_ENABLED, Severity::Error, "Every KMS key has automatic rotation enabled.")
    .rule(
        rules::DELETION_WINDOW_IN_RANGE,
        Severity::Error,
        "Every KMS key's deletion window is a literal number of days KMS accepts (7 to 30).",
    )
    .rule(
        rules::SHORT_DELETION_WINDOW,
        Severity::Warning,
        "No KMS key's deletion window (30 days when unset) is longer than the configured `deletion-window-days`, so stacks are destroyed promptly.",
    )
    .rule(
        rules::NO_UNBOUND_WILDCARD_PRINCIPAL,
        Severity::Error,
        "No key policy allows a wildcard principal unless a condition binds it to an account, organization or principal ARN.",
    )
    .rule(
        rules::DATA_ENCRYPTED_WITH_TENANT_KEY,
        Severity::Error,
        "In a tenant stack every S3 bucket, DynamoDB table, log group, SQS queue and Lambda function is encrypted with a KMS key declared in that stack.",
    )
    .setting(
        DELETION_WINDOW_DAYS,
        json!(7),
        "Days KMS waits before deleting a destroyed tenant key (7 to 30); longer windows are reported.",
    )
}
