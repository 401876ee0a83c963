//! What the plugin declares: values exchanged, rules, settings.

use crate::settings::{MEMORY_MB, RESERVED_CONCURRENCY, TIMEOUT_SECONDS};
use tenant_plugin_sdk::prelude::*;

pub const LAMBDA_LIMITS: &str = "compute.lambda-limits";
pub const LAMBDA_IN_VPC: &str = "compute.lambda-in-vpc";
pub const LAMBDA_DLQ_ENCRYPTED: &str = "compute.lambda-dlq-encrypted";
pub const FUNCTION_URL_IAM_AUTH: &str = "compute.function-url-iam-auth";
pub const LAMBDA_TRACING: &str = "compute.lambda-tracing";

pub fn describe() -> PluginInfo {
    use StackKind::Tenant;
    PluginInfo::new(
        "compute",
        env!("CARGO_PKG_VERSION"),
        "Each tenant's API: a VPC-bound Lambda with reserved concurrency behind an IAM-authenticated function URL.",
    )
    .requires(Tenant, "lambda-role-arn", "The API function's execution role")
    .requires(Tenant, "lambda-role-name", "Its name, for the function's own inline policy")
    .requires(Tenant, "private-subnet-ids", "JSON array of the tenant's private subnet ids")
    .requires(Tenant, "lambda-security-group-id", "The tenant's Lambda security group")
    .requires(Tenant, "kms-key-arn", "The tenant CMK: environment and DLQ encryption")
    .requires(Tenant, "table-name", "The tenant's DynamoDB table")
    .requires(Tenant, "bucket-name", "The tenant's S3 bucket")
    .requires(Tenant, "log-group-name", "The log group the function writes to")
    .provides(Tenant, "function-name", "The tenant API function's name")
    .provides(Tenant, "function-arn", "The tenant API function's ARN")
    .rule(
        LAMBDA_LIMITS,
        Severity::Error,
        "Every Lambda function of a tenant stack has reserved concurrency > 0 and the configured memory and timeout.",
    )
    .rule(LAMBDA_IN_VPC, Severity::Error, "Every Lambda function of a tenant stack runs in VPC subnets with security groups.")
    .rule(
        LAMBDA_DLQ_ENCRYPTED,
        Severity::Error,
        "Every Lambda function has a dead-letter queue encrypted with a KMS key of its own stack.",
    )
    .rule(FUNCTION_URL_IAM_AUTH, Severity::Error, "Every Lambda function URL requires AWS_IAM authorization.")
    .rule(LAMBDA_TRACING, Severity::Warning, "Every Lambda function has active X-Ray tracing.")
    .setting(MEMORY_MB, json!(256), "Memory of the tenant API function in MB (128-10240).")
    .setting(TIMEOUT_SECONDS, json!(60), "Timeout of the tenant API function in seconds (1-900).")
    .setting(
        RESERVED_CONCURRENCY,
        json!(10),
        "Concurrent executions reserved for (and capping) each tenant's API function (1-1000).",
    )
}
