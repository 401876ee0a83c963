//! The plugin's checks over composed stacks.

use crate::settings::ComputeSettings;
use crate::terraform::{is_key_of_stack, resolve};
use tenant_plugin_sdk::document::nested_block;
use tenant_plugin_sdk::prelude::*;

pub const LAMBDA_LIMITS: Rule = Rule::error(
    "compute.lambda-limits",
    "Every Lambda function of a tenant stack has reserved concurrency > 0 and the configured memory and timeout.",
);
pub const LAMBDA_IN_VPC: Rule = Rule::error(
    "compute.lambda-in-vpc",
    "Every Lambda function of a tenant stack runs in VPC subnets with security groups.",
);
pub const LAMBDA_DLQ_ENCRYPTED: Rule = Rule::error(
    "compute.lambda-dlq-encrypted",
    "Every Lambda function has a dead-letter queue encrypted with a KMS key of its own stack.",
);
pub const FUNCTION_URL_IAM_AUTH: Rule = Rule::error(
    "compute.function-url-iam-auth",
    "Every Lambda function URL requires AWS_IAM authorization.",
);
pub const LAMBDA_TRACING: Rule = Rule::warning(
    "compute.lambda-tracing",
    "Every Lambda function has active X-Ray tracing.",
);

/// Every rule, as `describe` declares them.
pub const RULES: &[Rule] = &[
    LAMBDA_LIMITS,
    LAMBDA_IN_VPC,
    LAMBDA_DLQ_ENCRYPTED,
    FUNCTION_URL_IAM_AUTH,
    LAMBDA_TRACING,
];

pub fn check_stack(stack: &StackDocument, settings: &ComputeSettings) -> Vec<Finding> {
    // Sizing and VPC placement are tenant guarantees; the central stack has no VPC to run in.
    let tenant_sizing = stack.tenant.is_some().then_some(settings);
    let mut findings = Vec::new();
    let mut report = |rule: Rule, address: String, message: String, remediation: &str| {
        findings.push(rule.finding(address, message, remediation));
    };
    for function in stack.resources_of("aws_lambda_function") {
        let address = function.address();
        if let Some(sizing) = tenant_sizing {
            for problem in limit_problems(function.body, sizing) {
                report(
                    LAMBDA_LIMITS,
                    address.clone(),
                    problem,
                    "Size the function with the compute settings and reserve concurrency for it.",
                );
            }
            if !runs_in_vpc(function.body) {
                report(
                    LAMBDA_IN_VPC,
                    address.clone(),
                    format!("{address} has no vpc_config with subnet_ids and security_group_ids"),
                    "Add vpc_config with the tenant's private subnets and Lambda security group.",
                );
            }
        }
        if let Some(problem) = dlq_problem(stack, function.body) {
            report(
                LAMBDA_DLQ_ENCRYPTED,
                address.clone(),
                format!("{address}: {problem}"),
                "Set dead_letter_config.target_arn to a queue or topic of this stack whose kms_master_key_id is a key of this stack.",
            );
        }
        let tracing = nested_block(function.body, "tracing_config")
            .and_then(|t| t.get("mode"))
            .and_then(Value::as_str);
        if tracing != Some("Active") {
            report(
                LAMBDA_TRACING,
                address.clone(),
                format!(
                    "{address} has tracing mode {}",
                    tracing.unwrap_or("unset (PassThrough)")
                ),
                "Set tracing_config.mode to Active.",
            );
        }
    }
    for url in stack.resources_of("aws_lambda_function_url") {
        let authorization = url.body.get("authorization_type").and_then(Value::as_str);
        if authorization != Some("AWS_IAM") {
            let address = url.address();
            report(
                FUNCTION_URL_IAM_AUTH,
                address.clone(),
                format!(
                    "{address} has authorization_type {}",
                    authorization.unwrap_or("unset")
                ),
                "Set authorization_type to AWS_IAM so only signed, authorized callers reach the function.",
            );
        }
    }
    findings
}

fn limit_problems(function: &Value, sizing: &ComputeSettings) -> Vec<String> {
    let mut problems = Vec::new();
    let reserved = function
        .get("reserved_concurrent_executions")
        .and_then(Value::as_i64);
    if reserved.is_none_or(|n| n <= 0) {
        problems.push(format!(
            "reserved_concurrent_executions is {}; it must be above 0 so the tenant cannot exhaust, or be starved of, account concurrency",
            reserved.map_or("unset".to_owned(), |n| n.to_string())
        ));
    }
    for (attribute, expected) in [
        ("memory_size", sizing.memory_mb),
        ("timeout", sizing.timeout_seconds),
    ] {
        let actual = function.get(attribute).and_then(Value::as_u64);
        if actual != Some(expected) {
            let actual = actual.map_or("unset".to_owned(), |n| n.to_string());
            problems.push(format!(
                "{attribute} is {actual}, the configured value is {expected}"
            ));
        }
    }
    problems
}

fn runs_in_vpc(function: &Value) -> bool {
    let non_empty = |list: Option<&Value>| {
        list.and_then(Value::as_array)
            .is_some_and(|items| !items.is_empty())
    };
    nested_block(function, "vpc_config")
        .is_some_and(|vpc| non_empty(vpc.get("subnet_ids")) && non_empty(vpc.get("security_group_ids")))
}

/// Why the function's dead letters are not kept encrypted under a key of this stack, if they are not.
fn dlq_problem(stack: &StackDocument, function: &Value) -> Option<String> {
    let Some(target) = nested_block(function, "dead_letter_config")
        .and_then(|d| d.get("target_arn"))
        .and_then(Value::as_str)
    else {
        return Some("no dead_letter_config".to_owned());
    };
    match resolve(stack, target) {
        Some(("aws_sqs_queue" | "aws_sns_topic", queue))
            if is_key_of_stack(stack, queue.get("kms_master_key_id")) =>
        {
            None
        }
        Some(("aws_sqs_queue" | "aws_sns_topic", _)) => Some(format!(
            "the dead-letter target {target} is not encrypted with a KMS key of this stack"
        )),
        _ => Some(format!(
            "the dead-letter target {target} is not a queue or topic of this stack"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Compute;
    use tenant_plugin_sdk::Tenant;
    use tenant_plugin_sdk::testing::default_settings;

    fn complying_function() -> Value {
        json!({
            "function_name": "tenant-acme-corp-api-dev",
            "memory_size": 256,
            "timeout": 60,
            "reserved_concurrent_executions": 10,
            "vpc_config": [{"subnet_ids": ["${aws_subnet.a.id}"], "security_group_ids": ["${aws_security_group.lambda.id}"]}],
            "dead_letter_config": [{"target_arn": "${aws_sqs_queue.api_dlq.arn}"}],
            "tracing_config": [{"mode": "Active"}],
        })
    }

    fn document(function: Value, queue: Value, url_auth: &str) -> Value {
        json!({"resource": {
            "aws_kms_key": {"tenant": {}},
            "aws_sqs_queue": {"api_dlq": queue},
            "aws_lambda_function": {"api": function},
            "aws_lambda_function_url": {"api": {"authorization_type": url_auth}},
        }})
    }

    fn findings(tenant: bool, document: Value) -> Vec<(String, String)> {
        let stack = tenant_plugin_sdk::testing::received(
            "s",
            tenant.then(|| Tenant {
                id: "acme-corp".into(),
                cidr_block: "10.0.0.0/16".into(),
            }),
            &document,
        );
        check_stack(&stack, &default_settings::<Compute>())
            .into_iter()
            .map(|f| (f.rule_id, f.address))
            .collect()
    }

    fn with(mut body: Value, key: &str, value: Value) -> Value {
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value;
        }
        body
    }

    /// One document to check: the function and its DLQ differ from the complying ones.
    struct Case {
        reason: &'static str,
        tenant: bool,
        function: Value,
        queue: Value,
        url_auth: &'static str,
        expected: &'static [(Rule, &'static str)],
    }

    const FUNCTION: &str = "aws_lambda_function.api";

    fn case(reason: &'static str, function: Value, expected: &'static [(Rule, &'static str)]) -> Case {
        let queue = json!({"kms_master_key_id": "${aws_kms_key.tenant.arn}"});
        Case {
            reason,
            tenant: true,
            function,
            queue,
            url_auth: "AWS_IAM",
            expected,
        }
    }

    #[test]
    fn each_rule_flags_what_it_guards() {
        let f = complying_function;
        let cases = [
            case("the plugin's own function complies", f(), &[]),
            case(
                "no reserved concurrency",
                with(f(), "reserved_concurrent_executions", Value::Null),
                &[(LAMBDA_LIMITS, FUNCTION)],
            ),
            case(
                "-1 means unreserved",
                with(f(), "reserved_concurrent_executions", json!(-1)),
                &[(LAMBDA_LIMITS, FUNCTION)],
            ),
            case(
                "memory and timeout both differ from the settings",
                with(with(f(), "memory_size", json!(1024)), "timeout", Value::Null),
                &[(LAMBDA_LIMITS, FUNCTION), (LAMBDA_LIMITS, FUNCTION)],
            ),
            case(
                "no VPC",
                with(f(), "vpc_config", Value::Null),
                &[(LAMBDA_IN_VPC, FUNCTION)],
            ),
            case(
                "a VPC without security groups",
                with(
                    f(),
                    "vpc_config",
                    json!([{"subnet_ids": ["s"], "security_group_ids": []}]),
                ),
                &[(LAMBDA_IN_VPC, FUNCTION)],
            ),
            Case {
                tenant: false,
                ..case(
                    "sizing and VPC are not demanded in the central stack",
                    with(with(f(), "vpc_config", Value::Null), "memory_size", json!(128)),
                    &[],
                )
            },
            case(
                "no DLQ",
                with(f(), "dead_letter_config", Value::Null),
                &[(LAMBDA_DLQ_ENCRYPTED, FUNCTION)],
            ),
            Case {
                queue: json!({"sqs_managed_sse_enabled": true}),
                ..case(
                    "a DLQ with SQS-managed encryption only",
                    f(),
                    &[(LAMBDA_DLQ_ENCRYPTED, FUNCTION)],
                )
            },
            Case {
                queue: json!({"kms_master_key_id": "alias/aws/sqs"}),
                ..case(
                    "a DLQ under the AWS managed key",
                    f(),
                    &[(LAMBDA_DLQ_ENCRYPTED, FUNCTION)],
                )
            },
            case(
                "a DLQ outside the stack",
                with(
                    f(),
                    "dead_letter_config",
                    json!([{"target_arn": "arn:aws:sqs:us-east-1:1:elsewhere"}]),
                ),
                &[(LAMBDA_DLQ_ENCRYPTED, FUNCTION)],
            ),
            case(
                "tracing off",
                with(f(), "tracing_config", json!([{"mode": "PassThrough"}])),
                &[(LAMBDA_TRACING, FUNCTION)],
            ),
            Case {
                url_auth: "NONE",
                ..case(
                    "a public function URL",
                    f(),
                    &[(FUNCTION_URL_IAM_AUTH, "aws_lambda_function_url.api")],
                )
            },
        ];
        for Case {
            reason,
            tenant,
            function,
            queue,
            url_auth,
            expected,
        } in cases
        {
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(rule, address)| (rule.id.to_owned(), (*address).to_owned()))
                .collect();
            assert_eq!(
                findings(tenant, document(function, queue, url_auth)),
                expected,
                "{reason}"
            );
        }
    }

    #[test]
    fn the_synthesized_fragment_complies() {
        let mut document = crate::synth::tests::acme().to_json();
        // Stand-ins for the key the crypto plugin adds to the composed stack.
        document["resource"]["aws_kms_key"] = json!({"tenant": {}});
        assert_eq!(findings(true, document), vec![]);
    }

    #[test]
    fn warnings_carry_the_rule_severity() {
        let stack = tenant_plugin_sdk::testing::received(
            "s",
            None,
            &document(
                with(complying_function(), "tracing_config", Value::Null),
                json!({}),
                "AWS_IAM",
            ),
        );
        let findings = check_stack(&stack, &default_settings::<Compute>());
        let tracing = findings.iter().find(|f| f.rule_id == LAMBDA_TRACING.id).unwrap();
        assert_eq!(tracing.severity, Severity::Warning);
        assert!(tracing.message.contains("unset"));
    }
}
