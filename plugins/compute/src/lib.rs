//! The compute plugin: each tenant's API, a Python 3.12 Lambda function behind an IAM-authenticated
//! function URL.
//!
//! # What it contributes to a tenant stack
//! - `aws_lambda_function.api` (`tenant-{id}-api-{suffix}`): the handler in `handler/app.py`,
//!   embedded in the plugin and shipped as a deterministic, content-addressed zip asset
//!   (`assets/tenant-api/<sha256>.zip`) whose base64 SHA-256 is the function's `source_code_hash`.
//!   It runs in the tenant's two private subnets behind the tenant's Lambda security group, with
//!   256 MB, 60 s and 10 reserved concurrent executions by default, so one tenant cannot take
//!   capacity from another (the requirement's noisy-neighbour guard). Its environment (table,
//!   bucket, tenant id, key ARN) is encrypted with the tenant CMK, X-Ray tracing is active, and
//!   it logs JSON into the tenant's API log group, which the logging plugin owns and forwards.
//! - `aws_sqs_queue.api_dlq` (`tenant-{id}-api-dlq-{suffix}`): the dead-letter queue for failed
//!   asynchronous invocations, encrypted with the tenant CMK, keeping messages 14 days.
//! - `aws_iam_role_policy.api_runtime` on the execution role the iam plugin provides: the
//!   permissions only this function's configuration needs (sending to its DLQ through the tenant
//!   key, writing X-Ray traces), bound by `aws:PrincipalTag/TenantId` like every tenant policy.
//!   X-Ray's `PutTraceSegments` and `PutTelemetryRecords` support no resource-level permissions,
//!   so AWS requires `Resource: "*"` for them; they write trace data and read nothing.
//! - `aws_lambda_function_url.api` with `AWS_IAM` authorization: the tenant API endpoint
//!   (output `api_endpoint`); callers need SigV4 credentials allowed to invoke the URL.
//!
//! The handler serves only its own tenant: requests naming another tenant (path
//! `/tenants/{id}/...` or `x-tenant-id` header) get 403, on top of IAM keeping the role on the
//! tenant's own table and bucket.
//!
//! # Rules
//! `compute.lambda-limits` and `compute.lambda-in-vpc` check every function of a tenant stack (the
//! central stack has no VPC); `compute.lambda-dlq-encrypted`, `compute.function-url-iam-auth`
//! and `compute.lambda-tracing` check every stack.
mod deployment;
mod rules;
mod settings;
mod synth;
mod terraform;

use tenant_plugin_sdk::bundled::{
    BUCKET_ARN, BUCKET_NAME, FUNCTION_ARN, FUNCTION_NAME, KMS_KEY_ARN, LAMBDA_ROLE_ARN, LAMBDA_ROLE_NAME,
    LAMBDA_SECURITY_GROUP_ID, LOG_GROUP_NAME, PRIVATE_SUBNET_IDS, TABLE_ARN, TABLE_NAME,
};
use tenant_plugin_sdk::prelude::*;

/// The compute plugin.
#[derive(Debug)]
pub struct Compute;

impl Plugin for Compute {
    type Settings = settings::ComputeSettings;

    fn describe() -> PluginInfo {
        PluginInfo::new(
            "compute",
            env!("CARGO_PKG_VERSION"),
            "Each tenant's API: a VPC-bound Lambda with reserved concurrency behind an IAM-authenticated function URL.",
        )
        .requires(&[
            LAMBDA_ROLE_ARN,
            LAMBDA_ROLE_NAME,
            PRIVATE_SUBNET_IDS,
            LAMBDA_SECURITY_GROUP_ID,
            KMS_KEY_ARN,
            TABLE_NAME,
            TABLE_ARN,
            BUCKET_NAME,
            BUCKET_ARN,
            LOG_GROUP_NAME,
        ])
        .provides(&[FUNCTION_NAME, FUNCTION_ARN])
        .rules(rules::RULES)
        .names(synth::NAMES)
    }

    fn synthesize_tenant(context: &StackContext<Self::Settings>) -> Result<Fragment, PluginError> {
        synth::tenant(context)
    }

    fn check_stack(stack: &StackDocument, settings: &Self::Settings) -> Result<Vec<Finding>, PluginError> {
        Ok(rules::check_stack(stack, settings))
    }
}

export_plugin!(Compute);

tenant_plugin_sdk::conformance_tests!(
    Compute,
    golden = "tests/golden",
    tenant = synth::tests::acme_context
);
