//! The plugin's fragments: the event bus and provisioning workflow of the central stack
//! ([`central`]) and each tenant's routing rule ([`tenant`]), with every physical name they
//! create.

pub mod central;
pub mod tenant;

use tenant_plugin_sdk::NamePattern;
use tenant_plugin_sdk::naming::{EVENT_BUS, TENANT_EVENTS_DLQ, TENANT_EVENTS_RULE};

/// Every physical name the plugin creates, in the central stack and in each tenant stack.
pub const NAMES: &[NamePattern] = &[
    EVENT_BUS,
    NamePattern::central(
        "aws_cloudwatch_event_rule.name",
        "saas-tenant-signup-{suffix}",
        64,
    ),
    NamePattern::central("aws_sqs_queue.name", "saas-tenant-signup-dlq-{suffix}", 80),
    NamePattern::central("aws_iam_role.name", "saas-tenant-signup-invoker-{suffix}", 64),
    NamePattern::central(
        "aws_iam_role_policy.name",
        "saas-tenant-signup-invoker-{suffix}",
        128,
    ),
    NamePattern::central(
        "aws_sfn_state_machine.name",
        "saas-tenant-provisioning-{suffix}",
        80,
    ),
    NamePattern::central(
        "aws_iam_role.name",
        "saas-tenant-provisioning-workflow-{suffix}",
        64,
    ),
    NamePattern::central(
        "aws_iam_role_policy.name",
        "saas-tenant-provisioning-workflow-{suffix}",
        128,
    ),
    NamePattern::central(
        "aws_cloudwatch_log_group.name",
        "/aws/vendedlogs/states/saas-tenant-provisioning-{suffix}",
        512,
    ),
    NamePattern::central(
        "aws_codebuild_project.name",
        "saas-tenant-provisioner-{suffix}",
        255,
    ),
    NamePattern::central("aws_iam_role.name", "saas-tenant-provisioner-{suffix}", 64),
    NamePattern::central(
        "aws_iam_role_policy.name",
        "saas-tenant-provisioner-{suffix}",
        128,
    ),
    NamePattern::central(
        "aws_cloudwatch_log_group.name",
        "/aws/codebuild/saas-tenant-provisioner-{suffix}",
        512,
    ),
    NamePattern::central("aws_kms_alias.name", "alias/saas-tenant-events-{suffix}", 256),
    TENANT_EVENTS_RULE,
    TENANT_EVENTS_DLQ,
];
