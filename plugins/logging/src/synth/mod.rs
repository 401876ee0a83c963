//! The plugin's fragments: the central aggregation path ([`central`]) and each tenant's log
//! groups, flow logs and read policy ([`tenant`]), with every physical name they create.

pub mod central;
pub mod tenant;

use tenant_plugin_sdk::NamePattern;
use tenant_plugin_sdk::naming::{API_LOG_GROUP, CENTRAL_LOG_FORWARDER, CENTRAL_LOG_GROUP, FLOW_LOG_GROUP};

/// The role VPC Flow Logs delivers a tenant's flow logs with.
pub const FLOW_LOGS_ROLE: NamePattern =
    NamePattern::tenant("aws_iam_role.name", "tenant-{id}-flow-logs-role-{suffix}", 64);

/// Every physical name the plugin creates, in the central stack and in each tenant stack.
pub const NAMES: &[NamePattern] = &[
    CENTRAL_LOG_GROUP,
    NamePattern::central(
        "aws_cloudwatch_log_group.name",
        "/aws/lambda/saas-central-log-forwarder-{suffix}",
        512,
    ),
    NamePattern::central("aws_iam_policy.name", "saas-central-logs-read-{suffix}", 128),
    NamePattern::central(
        "aws_iam_role.name",
        "saas-central-log-forwarder-role-{suffix}",
        64,
    ),
    NamePattern::central(
        "aws_iam_role_policy.name",
        "saas-central-log-forwarder-permissions-{suffix}",
        128,
    ),
    NamePattern::central("aws_kms_alias.name", "alias/saas-central-logs-{suffix}", 256),
    CENTRAL_LOG_FORWARDER,
    NamePattern::central(
        "aws_sqs_queue.name",
        "saas-central-log-forwarder-dlq-{suffix}",
        80,
    ),
    API_LOG_GROUP,
    FLOW_LOG_GROUP,
    NamePattern::tenant(
        "aws_cloudwatch_log_subscription_filter.name",
        "tenant-{id}-api-logs-to-central-{suffix}",
        512,
    ),
    NamePattern::tenant("aws_iam_policy.name", "tenant-{id}-log-read-{suffix}", 128),
    FLOW_LOGS_ROLE,
    NamePattern::tenant(
        "aws_iam_role_policy.name",
        "tenant-{id}-flow-logs-delivery-{suffix}",
        128,
    ),
];
