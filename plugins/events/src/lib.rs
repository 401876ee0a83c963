//! The events plugin: the platform's event bus, the signup-driven provisioning workflow, and
//! the routing of each tenant's events to that tenant alone.
//!
//! # Central stack
//!
//! A custom EventBridge bus, `saas-tenant-events-{suffix}`, carries the tenant lifecycle. The
//! signup service puts `{"source": "saas.tenant", "detail-type": "Tenant Signup", "detail":
//! {"tenant_id": ...}}` on it; the rule `saas-tenant-signup-{suffix}` starts the Step Functions
//! workflow `saas-tenant-provisioning-{suffix}` with `{"tenant_id": ...}`. The workflow follows
//! the provisioning job of the AWS SaaS Builder Toolkit: it runs the CodeBuild project
//! `saas-tenant-provisioner-{suffix}` and waits for it, and announces the result back on the bus
//! (source `saas.provisioning`, detail-type `Tenant Provisioned` or `Tenant Provisioning
//! Failed`), so the signup service and operators learn the outcome from the same bus. The build
//! runs `tenant-host synth --tenant <id>` and `terraform init`/`apply` in the tenant's stack
//! folder ([`workflow`] holds the definition and the buildspec).
//!
//! Every hop is guarded: the signup target retries per the `max-event-age-seconds` and
//! `max-retry-attempts` settings and dead-letters into an SQS queue that only EventBridge, for
//! that rule, may write to; the workflow retries a throttled build start and, once, a failed
//! build (a fresh `terraform apply` mostly fails on eventual consistency), and catches the rest.
//! The workflow logs every execution and traces with X-Ray. The queue and both log groups are
//! encrypted with a key of this plugin, `aws_kms_key.events` (rotated, 7-day deletion window),
//! which also encrypts the CodeBuild project. Each service role trusts its service only on behalf
//! of this account (`aws:SourceAccount`) and reaches only its neighbour in the chain.
//!
//! ## The build role is the deploy role's launcher, not an administrator
//!
//! Creating a tenant takes rights over VPCs, IAM, KMS, Lambda, S3 and DynamoDB; granting them to
//! a role any signup event can set to work would make one malformed event a path to the whole
//! account. So the CodeBuild role holds only what running Terraform needs: its log stream, the
//! events key, the Terraform state (`s3:ListBucket` on the bucket, object read/write/delete for
//! state and lock files; bucket per `state-bucket-name`), and `sts:AssumeRole` on one deploy role
//! (`deploy-role-arn`). The build points the tenant stack's AWS provider at that role through a
//! Terraform override file and tags the session `TenantId=<id>` (the role may allow only that
//! tag key), so the deploy role, which the platform team owns outside these stacks and can
//! bound with a permissions boundary, can pin each session to one tenant's resources with
//! `aws:PrincipalTag/TenantId`. The backend keeps the build's own credentials. The tenant id is
//! checked against `[a-z0-9-]+` before the build uses it.
//!
//! In production the build checks out the platform's configuration repository
//! (`config-repository`, an HTTPS URL on CodeCommit, GitHub, Bitbucket or GitLab); the default,
//! empty, means `NO_SOURCE`: the build image (`build-image`) then carries `tenant-host`, its
//! configuration and plugins. The buildspec stays inline either way, so pushing to the repository
//! does not change what the build role runs.
//!
//! # Tenant stacks
//!
//! The rule `tenant-{id}-events-{suffix}` on the central bus (known by name: a tenant stack
//! reaches the central stack only by names) matches `saas.*` events whose `detail.tenant_id` is
//! this tenant, and delivers them to the tenant's API function with the same retry policy and a
//! dead-letter queue `tenant-{id}-events-dlq-{suffix}` encrypted with the tenant key. The
//! function's `aws_lambda_permission` admits EventBridge for that rule only. Because the bus
//! belongs to the central stack, the central stack must be applied before tenant stacks.
//!
//! # Rules
//!
//! [`rules`] checks every composed stack: event targets have a retry policy and a dead-letter
//! queue, EventBridge invoke permissions name their rule, tenant-stack rules pin
//! `detail.tenant_id` to their tenant, and SQS queues use a customer managed key.
//!
//! This file only wires the modules to the plugin contract.

mod delivery;
pub mod rules;
pub mod settings;
mod synth;
pub mod workflow;

use tenant_plugin_sdk::bundled::{ACCOUNT_ID, FUNCTION_ARN, FUNCTION_NAME, KMS_KEY_ARN};
use tenant_plugin_sdk::prelude::*;

/// The events plugin.
#[derive(Debug)]
pub struct Events;

impl Plugin for Events {
    type Settings = settings::EventsSettings;

    fn describe() -> PluginInfo {
        PluginInfo::new(
            "events",
            env!("CARGO_PKG_VERSION"),
            "Tenant event bus and signup-driven provisioning workflow (central); per-tenant event routing to the tenant API (tenant stacks).",
        )
        .requires(&[FUNCTION_ARN, FUNCTION_NAME, KMS_KEY_ARN, ACCOUNT_ID])
        .rules(rules::RULES)
        .names(synth::NAMES)
    }

    fn synthesize_central(context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        synth::central::fragment(context)
    }

    fn synthesize_tenant(context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        synth::tenant::fragment(context)
    }

    fn check_stack(stack: &StackDocument, _settings: &Self::Settings) -> Result<Vec<Finding>, PluginError> {
        Ok(rules::check_stack(stack))
    }
}

export_plugin!(Events);

tenant_plugin_sdk::conformance_tests!(
    Events,
    golden = "tests/golden",
    tenant = synth::tenant::tests::acme_context
);
