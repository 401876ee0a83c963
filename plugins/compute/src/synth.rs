//! The tenant stack fragment: the API function, its DLQ, its own permissions and its URL.

use crate::deployment::{api_package, asset_path};
use crate::settings::ComputeSettings;
use tenant_plugin_sdk::bundled::{
    BUCKET_ARN, BUCKET_NAME, FUNCTION_ARN, FUNCTION_NAME, KMS_KEY_ARN, LAMBDA_ROLE_ARN, LAMBDA_ROLE_NAME,
    LAMBDA_SECURITY_GROUP_ID, LOG_GROUP_NAME, PRIVATE_SUBNET_IDS, TABLE_ARN, TABLE_NAME,
};
use tenant_plugin_sdk::naming::{API_DEAD_LETTER_QUEUE, API_FUNCTION, look_alike_tenant};
use tenant_plugin_sdk::package::PackageDigest;
use tenant_plugin_sdk::prelude::*;
use tenant_plugin_sdk::resources::dead_letter_queue;

/// The function's own inline policy on the execution role.
pub const RUNTIME_POLICY: NamePattern = NamePattern::tenant(
    "aws_iam_role_policy.name",
    "tenant-{id}-api-runtime-{suffix}",
    128,
);

/// Every physical name the plugin creates.
pub const NAMES: &[NamePattern] = &[API_FUNCTION, API_DEAD_LETTER_QUEUE, RUNTIME_POLICY];

pub fn tenant(context: &StackContext<ComputeSettings>) -> Result<Fragment, PluginError> {
    let tenant = context.tenant()?;
    let settings = &context.settings;
    let (id, suffix) = (tenant.id.as_str(), context.environment_suffix.as_str());
    let key_arn = context.input(&KMS_KEY_ARN)?;
    let subnet_ids = context.input_list(&PRIVATE_SUBNET_IDS)?;
    if subnet_ids.is_empty() {
        return Err(PluginError::InvalidContext(format!(
            "input `{}` is empty: the function needs subnets to run in",
            PRIVATE_SUBNET_IDS.name
        )));
    }
    let own_tenant =
        |statement: Statement| statement.condition("StringEquals", "aws:PrincipalTag/TenantId", json!(id));
    let mut fragment = Fragment::default();

    // Failed asynchronous invocations stay in the DLQ for SQS's maximum, 14 days.
    let dlq_name = API_DEAD_LETTER_QUEUE.render(id, suffix);
    let dlq = fragment.resource(
        "aws_sqs_queue",
        "api_dlq",
        dead_letter_queue(&dlq_name, key_arn, standard_tags(Some(id), suffix, &dlq_name)),
    );

    let runtime_policy = PolicyDocument::new()
        .statement(own_tenant(
            Statement::allow("SendToDeadLetterQueue")
                .actions(&["sqs:SendMessage"])
                .resources(&[dlq.attr("arn")]),
        ))
        .statement(own_tenant(
            // The DLQ is SSE-KMS: sending to it encrypts with the tenant key, through SQS only.
            Statement::allow("EncryptDeadLetters")
                .actions(&["kms:GenerateDataKey", "kms:Decrypt"])
                .resources(&[key_arn])
                .condition(
                    "StringEquals",
                    "kms:ViaService",
                    json!(format!("sqs.{}.amazonaws.com", context.region)),
                ),
        ))
        .statement(own_tenant(
            // X-Ray has no resource-level permissions: AWS only accepts `*` here.
            Statement::allow("WriteTraces")
                .actions(&["xray:PutTraceSegments", "xray:PutTelemetryRecords"])
                .resources(&["*"]),
        ));
    let runtime_policy = fragment.resource(
        "aws_iam_role_policy",
        "api_runtime",
        json!({
            "name": RUNTIME_POLICY.render(id, suffix),
            "role": context.input(&LAMBDA_ROLE_NAME)?,
            "policy": runtime_policy.render(),
        }),
    );

    let package = api_package();
    let digest = PackageDigest::of(&package);
    let source_code_hash = digest.base64;
    let filename = fragment.asset(&asset_path(&digest.hex), package);
    let function_name = API_FUNCTION.render(id, suffix);
    let function = fragment.resource(
        "aws_lambda_function",
        "api",
        json!({
            "function_name": function_name,
            "description": format!("API of tenant {id}: its records and objects"),
            "role": context.input(&LAMBDA_ROLE_ARN)?,
            "runtime": "python3.12",
            "handler": "app.handler",
            // Graviton: cheaper per GB-second, and the handler is pure Python.
            "architectures": ["arm64"],
            "memory_size": settings.memory_mb,
            "timeout": settings.timeout_seconds,
            "reserved_concurrent_executions": settings.reserved_concurrency,
            "filename": filename,
            "source_code_hash": source_code_hash,
            "kms_key_arn": key_arn,
            "environment": [{"variables": {
                "TENANT_ID": id,
                "TABLE_NAME": context.input(&TABLE_NAME)?,
                "BUCKET_NAME": context.input(&BUCKET_NAME)?,
                // Objects are written naming the tenant key; S3 would otherwise pick aws/s3.
                "KMS_KEY_ARN": key_arn,
            }}],
            "vpc_config": [{
                "subnet_ids": subnet_ids,
                "security_group_ids": [context.input(&LAMBDA_SECURITY_GROUP_ID)?],
            }],
            "tracing_config": [{"mode": "Active"}],
            "dead_letter_config": [{"target_arn": dlq.attr("arn")}],
            "logging_config": [{"log_format": "JSON", "log_group": context.input(&LOG_GROUP_NAME)?}],
            // Lambda refuses a DLQ the role cannot send to, so the grant must exist first.
            "depends_on": [runtime_policy.address()],
            "tags": standard_tags(Some(id), suffix, &function_name),
        }),
    );

    let role_arn = context.input(&LAMBDA_ROLE_ARN)?;
    let dlq_arn = dlq.attr("arn");
    for intent in [
        AccessIntent::environment_decryption(role_arn, key_arn, &function_name),
        AccessIntent::dead_letter_delivery(role_arn, &dlq_arn, &function_name),
        AccessIntent::queue_encryption(role_arn, key_arn, &dlq_arn, &context.region),
    ] {
        fragment.intent(intent);
    }
    data_access_intents(&mut fragment, context, role_arn)?;

    let url = fragment.resource(
        "aws_lambda_function_url",
        "api",
        json!({"function_name": function.attr("function_name"), "authorization_type": "AWS_IAM"}),
    );

    fragment.output(
        "api_endpoint",
        json!(url.attr("function_url")),
        "The tenant API endpoint (SigV4-signed requests only).",
    );
    fragment.output(
        "function_arn",
        json!(function.attr("arn")),
        "The tenant API function's ARN.",
    );
    fragment.provide(&FUNCTION_NAME, function.attr("function_name"));
    fragment.provide(&FUNCTION_ARN, function.attr("arn"));
    Ok(fragment)
}

/// What the handler (`handler/app.py`) does with the tenant's data, through the grants of the
/// iam plugin and the policies of storage and crypto: rows under the tenant's partition key
/// (`GetItem`, `PutItem`, `Query`) and objects written naming the tenant key. What it must never
/// reach is another tenant's rows, even should the table hold them, nor every row at once.
fn data_access_intents(
    fragment: &mut Fragment,
    context: &StackContext<ComputeSettings>,
    role_arn: &str,
) -> Result<(), PluginError> {
    let id = context.tenant()?.id.as_str();
    let key_arn = context.input(&KMS_KEY_ARN)?;
    let table_arn = context.input(&TABLE_ARN)?;
    let objects = format!("{}/*", context.input(&BUCKET_ARN)?);
    for action in ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"] {
        fragment.intent(
            AccessIntent::allow(role_arn, action, table_arn)
                .context("dynamodb:LeadingKeys", id)
                .because("the API reads and writes the tenant's rows, under its partition key"),
        );
    }
    fragment.intent(
        AccessIntent::allow(role_arn, "s3:GetObject", &objects).because("the API reads the tenant's objects"),
    );
    fragment.intent(
        AccessIntent::allow(role_arn, "s3:PutObject", &objects)
            .context("s3:x-amz-server-side-encryption", "aws:kms")
            .context("s3:x-amz-server-side-encryption-aws-kms-key-id", key_arn)
            .because("the API writes the tenant's objects, naming the tenant key"),
    );
    // S3 asks KMS for the object's data key with the caller's credentials.
    fragment.intent(
        AccessIntent::allow(role_arn, "kms:GenerateDataKey", key_arn)
            .context("kms:ViaService", &format!("s3.{}.amazonaws.com", context.region))
            .because("S3 encrypts the API's objects with the tenant key on the role's behalf"),
    );
    fragment.intent(
        AccessIntent::deny(role_arn, "dynamodb:GetItem", table_arn)
            .context("dynamodb:LeadingKeys", &look_alike_tenant(id))
            .because("rows under another tenant's partition key stay out of reach, even in this table"),
    );
    fragment.intent(
        AccessIntent::deny(role_arn, "dynamodb:Scan", table_arn).because(
            "a Scan names no partition key, so it would read every row whatever tenant it belongs to",
        ),
    );
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Compute;
    use tenant_plugin_sdk::testing::{
        assert_reproducible_package, central_context, settings_with, tenant_context,
    };

    pub(crate) const INPUTS: &[(&str, &str)] = &[
        ("lambda-role-arn", "${aws_iam_role.lambda_execution.arn}"),
        ("lambda-role-name", "${aws_iam_role.lambda_execution.name}"),
        ("lambda-security-group-id", "${aws_security_group.lambda.id}"),
        ("kms-key-arn", "${aws_kms_key.tenant.arn}"),
        ("table-name", "${aws_dynamodb_table.metadata.name}"),
        ("table-arn", "${aws_dynamodb_table.metadata.arn}"),
        ("bucket-name", "${aws_s3_bucket.data.id}"),
        ("bucket-arn", "${aws_s3_bucket.data.arn}"),
        ("log-group-name", "${aws_cloudwatch_log_group.api.name}"),
    ];

    const SUBNET_IDS: &[&str] = &["${aws_subnet.private_a.id}", "${aws_subnet.private_b.id}"];

    /// The acme-corp context with what the other bundled plugins provide.
    pub(crate) fn acme_context() -> StackContext<ComputeSettings> {
        tenant_context::<Compute>("acme-corp", "10.0.0.0/16", INPUTS)
            .with_input(&PRIVATE_SUBNET_IDS, SUBNET_IDS)
    }

    pub(crate) fn acme() -> Fragment {
        tenant(&acme_context()).unwrap()
    }

    #[test]
    fn the_package_is_reproducible_and_pinned_by_its_hash() {
        assert_reproducible_package(&acme(), &acme(), "assets/tenant-api", "aws_lambda_function.api");
    }

    #[test]
    fn configured_sizing_reaches_the_function() {
        let mut context = acme_context();
        context.settings = settings_with::<Compute>(
            json!({"memory-mb": 512, "timeout-seconds": 30, "reserved-concurrency": 3}),
        )
        .unwrap();
        let function = tenant(&context)
            .unwrap()
            .body("aws_lambda_function.api")
            .unwrap()
            .clone();
        assert_eq!(
            (function["memory_size"].clone(), function["timeout"].clone()),
            (json!(512), json!(30))
        );
        assert_eq!(function["reserved_concurrent_executions"], 3);
    }

    #[test]
    fn unusable_contexts_are_refused() {
        let no_subnets = acme_context().with_input(&PRIVATE_SUBNET_IDS, Vec::new());
        let text_subnets = acme_context().with_input(&PRIVATE_SUBNET_IDS, SUBNET_IDS[0]);
        let mut missing_role = acme_context();
        missing_role.inputs.retain(|(name, _)| name != "lambda-role-arn");
        let cases = [
            (
                central_context::<Compute>(INPUTS),
                "has no tenant",
                "the central stack has no tenant API",
            ),
            (no_subnets, "private-subnet-ids", "no subnets to run in"),
            (
                text_subnets,
                "private-subnet-ids",
                "the subnets as text, not a list",
            ),
            (missing_role, "lambda-role-arn", "a missing input"),
        ];
        for (context, expected, reason) in cases {
            let error = tenant(&context).expect_err(reason);
            assert!(error.to_string().contains(expected), "{reason}: {error}");
        }
    }
}
