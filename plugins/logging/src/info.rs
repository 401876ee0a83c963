//! What the plugin declares: values exchanged, rules, settings.

use crate::settings::RETENTION_DAYS;
use tenant_plugin_sdk::prelude::*;

pub const RETENTION_VALID: &str = "logging.retention-valid";
pub const RETENTION_MATCHES: &str = "logging.retention-matches";
pub const LOG_GROUPS_ENCRYPTED: &str = "logging.log-groups-encrypted";
pub const SUBSCRIPTION_FORWARDING: &str = "logging.subscription-forwarding";
pub const FLOW_LOGS_ENABLED: &str = "logging.flow-logs-enabled";

pub fn describe() -> PluginInfo {
    use StackKind::{Central, Tenant};
    PluginInfo::new(
        "logging",
        env!("CARGO_PKG_VERSION"),
        "Encrypted tenant log groups, VPC flow logs, tenant-bounded log reads, and forwarding into a central log group with tenant-prefixed streams.",
    )
    .requires(Tenant, "kms-key-arn", "The tenant CMK encrypting the tenant's log groups")
    .requires(Tenant, "account-id", "The AWS account id, for the flow log role's trust")
    .requires(Tenant, "vpc-id", "The tenant VPC whose traffic is logged")
    .provides(Tenant, "log-group-name", "The API function's log group")
    .provides(Tenant, "log-group-arn", "The API function's log group ARN")
    .provides(Central, "central-log-group-name", "The log group every tenant's events are forwarded to")
    .provides(Central, "central-log-group-arn", "Its ARN")
    .rule(
        RETENTION_VALID,
        Severity::Error,
        "Every log group sets retention_in_days to a value CloudWatch Logs accepts.",
    )
    .rule(RETENTION_MATCHES, Severity::Warning, "Every log group keeps events for the configured retention.")
    .rule(LOG_GROUPS_ENCRYPTED, Severity::Error, "Every log group is encrypted with a KMS key of its own stack.")
    .rule(
        SUBSCRIPTION_FORWARDING,
        Severity::Error,
        "Every tenant API log group has a subscription filter forwarding it to the central log group.",
    )
    .rule(FLOW_LOGS_ENABLED, Severity::Error, "Every VPC has a flow log.")
    .setting(RETENTION_DAYS, json!(30), "Days every log group keeps events; one of the values CloudWatch Logs accepts.")
}
