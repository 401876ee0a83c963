//! The tenant stack fragment: the API function, its DLQ, its own permissions and its URL.

use crate::deployment::{api_package, asset_path};
use crate::settings::ComputeSettings;
use tenant_plugin_sdk::naming::{api_dead_letter_queue_name, api_function_name};
use tenant_plugin_sdk::package::sha256_base64;
use tenant_plugin_sdk::prelude::*;
use tenant_plugin_sdk::resources::dead_letter_queue;

pub fn tenant(context: &StackContext) -> Result<Fragment, PluginError> {
    let tenant = context.tenant()?;
    let settings = ComputeSettings::from_json(&context.settings)?;
    let (id, suffix) = (tenant.id.as_str(), context.environment_suffix.as_str());
    let key_arn = context.input("kms-key-arn")?;
    let subnet_ids = subnet_ids(context.input("private-subnet-ids")?)?;
    let own_tenant =
        |statement: Statement| statement.condition("StringEquals", "aws:PrincipalTag/TenantId", json!(id));
    let mut fragment = Fragment::default();

    // Failed asynchronous invocations stay in the DLQ for SQS's maximum, 14 days.
    let dlq_name = api_dead_letter_queue_name(id, suffix);
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
            "name": resource_name(id, "api-runtime", suffix),
            "role": context.input("lambda-role-name")?,
            "policy": runtime_policy.render(),
        }),
    );

    let package = api_package();
    let source_code_hash = sha256_base64(&package);
    let filename = fragment.asset(&asset_path(&package), package);
    let function_name = api_function_name(id, suffix);
    let function = fragment.resource(
        "aws_lambda_function",
        "api",
        json!({
            "function_name": function_name,
            "description": format!("API of tenant {id}: its records and objects"),
            "role": context.input("lambda-role-arn")?,
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
                "TABLE_NAME": context.input("table-name")?,
                "BUCKET_NAME": context.input("bucket-name")?,
                // Objects are written naming the tenant key; S3 would otherwise pick aws/s3.
                "KMS_KEY_ARN": key_arn,
            }}],
            "vpc_config": [{
                "subnet_ids": subnet_ids,
                "security_group_ids": [context.input("lambda-security-group-id")?],
            }],
            "tracing_config": [{"mode": "Active"}],
            "dead_letter_config": [{"target_arn": dlq.attr("arn")}],
            "logging_config": [{"log_format": "JSON", "log_group": context.input("log-group-name")?}],
            // Lambda refuses a DLQ the role cannot send to, so the grant must exist first.
            "depends_on": [runtime_policy.address()],
            "tags": standard_tags(Some(id), suffix, &function_name),
        }),
    );

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
    fragment.provide("function-name", function.attr("function_name"));
    fragment.provide("function-arn", function.attr("arn"));
    Ok(fragment)
}

/// The `private-subnet-ids` input: a JSON array of subnet id references.
fn subnet_ids(text: &str) -> Result<Vec<String>, PluginError> {
    match serde_json::from_str::<Vec<String>>(text) {
        Ok(ids) if !ids.is_empty() => Ok(ids),
        _ => Err(PluginError::InvalidContext(format!(
            "input `private-subnet-ids` must be a non-empty JSON array of strings, not `{text}`"
        ))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Compute;
    use tenant_plugin_sdk::testing::{
        assert_golden_json, assert_reproducible_package, central_context, tenant_context,
    };

    pub(crate) const INPUTS: &[(&str, &str)] = &[
        ("lambda-role-arn", "${aws_iam_role.lambda_execution.arn}"),
        ("lambda-role-name", "${aws_iam_role.lambda_execution.name}"),
        (
            "private-subnet-ids",
            r#"["${aws_subnet.private_a.id}","${aws_subnet.private_b.id}"]"#,
        ),
        ("lambda-security-group-id", "${aws_security_group.lambda.id}"),
        ("kms-key-arn", "${aws_kms_key.tenant.arn}"),
        ("table-name", "${aws_dynamodb_table.metadata.name}"),
        ("bucket-name", "${aws_s3_bucket.data.id}"),
        ("log-group-name", "${aws_cloudwatch_log_group.api.name}"),
    ];

    pub(crate) fn acme() -> Fragment {
        tenant(&tenant_context::<Compute>("acme-corp", "10.0.0.0/16", INPUTS)).unwrap()
    }

    #[test]
    fn acme_corp_matches_the_golden_file() {
        assert_golden_json(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/tenant-acme-corp.json"),
            &acme().to_json(),
        );
    }

    #[test]
    fn the_package_is_reproducible_and_pinned_by_its_hash() {
        assert_reproducible_package(&acme(), &acme(), "assets/tenant-api", "aws_lambda_function.api");
    }

    #[test]
    fn configured_sizing_reaches_the_function() {
        let mut context = tenant_context::<Compute>("acme-corp", "10.0.0.0/16", INPUTS);
        context.settings = json!({"memory-mb": 512, "timeout-seconds": 30, "reserved-concurrency": 3});
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
        let mut bad_subnets = tenant_context::<Compute>("acme-corp", "10.0.0.0/16", INPUTS);
        bad_subnets
            .inputs
            .retain(|(name, _)| name != "private-subnet-ids");
        bad_subnets
            .inputs
            .push(("private-subnet-ids".into(), "[]".into()));
        let mut missing_role = tenant_context::<Compute>("acme-corp", "10.0.0.0/16", INPUTS);
        missing_role.inputs.retain(|(name, _)| name != "lambda-role-arn");
        let mut bad_memory = tenant_context::<Compute>("acme-corp", "10.0.0.0/16", INPUTS);
        bad_memory.settings["memory-mb"] = json!(1);
        let cases = [
            (
                central_context::<Compute>(INPUTS),
                "has no tenant",
                "the central stack has no tenant API",
            ),
            (bad_subnets, "private-subnet-ids", "no subnets to run in"),
            (missing_role, "lambda-role-arn", "a missing input"),
            (bad_memory, "memory-mb", "an invalid setting"),
        ];
        for (context, expected, reason) in cases {
            let error = tenant(&context).expect_err(reason);
            assert!(error.to_string().contains(expected), "{reason}: {error}");
        }
    }
}
