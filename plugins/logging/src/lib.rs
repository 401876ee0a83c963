//! The logging plugin: every tenant's log groups, their flow logs, tenant-bounded read access, and
//! the central aggregation path into one log group with tenant-prefixed streams.
//!
//! # Tenant stacks
//! - `aws_cloudwatch_log_group.api` (`tenant-{id}-api-logs-{suffix}`), which the API function
//!   writes to (provided as `log-group-name`/`log-group-arn`), and `aws_cloudwatch_log_group.flow`
//!   (`tenant-{id}-flow-logs-{suffix}`) for the VPC's flow logs: retention 30 days (setting
//!   `retention-days`), encrypted with the tenant CMK.
//! - `aws_flow_log.vpc`: all traffic of the tenant VPC, delivered by the role
//!   `tenant-{id}-flow-logs-role-{suffix}`, which only `vpc-flow-logs.amazonaws.com` acting for
//!   this account can assume and which can write only to the flow log group.
//! - `aws_cloudwatch_log_subscription_filter.api_to_central`: every API log event goes to the
//!   central forwarder, found by name with `data.aws_lambda_function.central_log_forwarder`
//!   (tenant stacks reach the central stack only by name), so the central stack must be applied
//!   first.
//! - `aws_iam_policy.log_read` (`tenant-{id}-log-read-{suffix}`, output `log_read_policy_arn`):
//!   read access to the tenant's two log groups for principals tagged `TenantId = {id}`, plus an
//!   explicit deny of log reads on everything else, so attaching it can never add a cross-tenant
//!   read, whatever else the principal holds. Logs Insights is left out on purpose:
//!   `GetQueryResults` cannot be limited to log groups, so the deny covers it too.
//!
//! # Central stack: why a forwarder Lambda
//! A subscription filter can deliver to a Lambda function, a Kinesis data stream or a Firehose
//! stream, never to another log group. Firehose cannot deliver to CloudWatch Logs, and a Kinesis
//! stream would still need a consumer to write the events back. Only a Lambda can put each
//! event into the central log group under a stream of our choosing, so the forwarder
//! (`saas-central-log-forwarder-{suffix}`, source in `forwarder/forwarder.py`, shipped as the
//! deterministic asset `assets/log-forwarder/<sha256>.zip`) writes every event of
//! `tenant-{id}-...-logs-{suffix}` to `/aws/saas/central-logs-{suffix}` under the stream
//! `{id}/{source stream}`. The tenant is derived from the source group's name and must be one
//! of the fleet's tenants; other groups are skipped and logged.
//!
//! The central stack holds the central log group and the forwarder's own group, encrypted with
//! `aws_kms_key.central_logs` (rotated; the account administers it, CloudWatch Logs may use it
//! for these two groups only); the forwarder with reserved concurrency, X-Ray, and an encrypted
//! DLQ; its role, which can write only to those two groups; the permission for
//! `logs.amazonaws.com` to invoke it for `tenant-*` log groups of this account; and the managed
//! policy `saas-central-logs-read-{suffix}` (output `central_logs_read_policy_arn`) granting read
//! of the central log group only. Attach it to your platform operator role: no other policy this
//! project creates grants reads of the central group (account administrators with wildcard
//! rights aside).
//!
//! The central key is shared by every tenant's forwarded events, because keys per tenant would need
//! the central stack to list the tenants. It is the operators' alone: the plugin declares that no
//! tenant's API or flow-log role can decrypt with it or read the central group, and
//! `logging.central-key-private` refuses a key policy granting it to anyone but the account and
//! AWS services.
//!
//! # Rules
//! `logging.retention-valid`, `logging.retention-matches`, `logging.log-groups-encrypted` and
//! `logging.flow-logs-enabled` check every stack; `logging.subscription-forwarding` checks the
//! API log groups of tenant stacks; `logging.central-key-private` the key of the central group.
mod access;
mod deployment;
mod rules;
mod settings;
mod synth;

use tenant_plugin_sdk::bundled::{
    ACCOUNT_ID, CENTRAL_LOG_GROUP_ARN, CENTRAL_LOG_GROUP_NAME, KMS_KEY_ARN, LOG_GROUP_ARN, LOG_GROUP_NAME,
    VPC_ID,
};
use tenant_plugin_sdk::prelude::*;

/// The logging plugin.
#[derive(Debug)]
pub struct Logging;

impl Plugin for Logging {
    type Settings = settings::LoggingSettings;

    fn describe() -> PluginInfo {
        PluginInfo::new(
            "logging",
            env!("CARGO_PKG_VERSION"),
            "Encrypted tenant log groups, VPC flow logs, tenant-bounded log reads, and forwarding into a central log group with tenant-prefixed streams.",
        )
        .requires(&[KMS_KEY_ARN, ACCOUNT_ID, VPC_ID])
        .provides(&[LOG_GROUP_NAME, LOG_GROUP_ARN, CENTRAL_LOG_GROUP_NAME, CENTRAL_LOG_GROUP_ARN])
        .rules(rules::RULES)
        .names(synth::NAMES)
    }

    fn synthesize_central(context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        synth::central::synthesize(context)
    }

    fn synthesize_tenant(context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        synth::tenant::synthesize(context)
    }

    fn check_stack(stack: &StackDocument, settings: &Self::Settings) -> Result<Vec<Finding>, PluginError> {
        Ok(rules::check_stack(stack, settings))
    }
}

export_plugin!(Logging);

tenant_plugin_sdk::conformance_tests!(
    Logging,
    golden = "tests/golden",
    tenant = synth::tenant::tests::acme_context
);
