//! Gateway endpoints of a tenant VPC reach only the stack's own buckets and tables.
//!
//! A gateway endpoint without a policy allows every principal in the VPC to reach every bucket or
//! table of the region, including other tenants'. Its policy is the network-level half of the
//! isolation: whatever identity policies say, traffic through the endpoint can only touch the
//! resources this stack declares.

use super::ENDPOINT_POLICIES_SCOPED;
use crate::document::referenced_resource;
use tenant_plugin_sdk::TerraformBlock;
use tenant_plugin_sdk::document::is_reference_to;
use tenant_plugin_sdk::iam::{one_or_many, policy_statements};
use tenant_plugin_sdk::prelude::*;

/// The resource types a gateway endpoint serves.
const DATA_STORE_TYPES: [&str; 2] = ["aws_s3_bucket", "aws_dynamodb_table"];

pub(super) fn check(stack: &StackDocument) -> Vec<Finding> {
    if stack.tenant.is_none() {
        return Vec::new();
    }
    let mut findings = Vec::new();
    let gateways = stack.resources_of("aws_vpc_endpoint").filter(|endpoint| {
        matches!(
            endpoint.body.get("vpc_endpoint_type").and_then(Value::as_str),
            None | Some("Gateway")
        )
    });
    for endpoint in gateways {
        let address = endpoint.address();
        let mut policies: Vec<(String, &str)> = Vec::new();
        if let Some(policy) = endpoint.body.get("policy").and_then(Value::as_str) {
            policies.push((address.clone(), policy));
        }
        for attached in stack.resources_of("aws_vpc_endpoint_policy") {
            let attaches_here = attached
                .body
                .get("vpc_endpoint_id")
                .and_then(Value::as_str)
                .is_some_and(|id| is_reference_to(id, &address));
            if let (true, Some(policy)) = (attaches_here, attached.body.get("policy").and_then(Value::as_str))
            {
                policies.push((attached.address(), policy));
            }
        }
        if policies.is_empty() {
            findings.push(ENDPOINT_POLICIES_SCOPED.finding(address.clone(),
                format!("gateway endpoint `{address}` has no policy, so it reaches every bucket or table of the region"),
                "Attach an aws_vpc_endpoint_policy allowing only the stack's own bucket or table ARNs.",
            ));
        }
        for (policy_address, policy) in policies {
            if let Some(problem) = scope_problem(stack, policy) {
                findings.push(ENDPOINT_POLICIES_SCOPED.finding(policy_address,
                    format!("the policy of gateway endpoint `{address}` {problem}"),
                    "List only references to the stack's aws_s3_bucket / aws_dynamodb_table ARNs (optionally followed by /*, /index/*, /stream/*) in every Allow statement.",
                ));
            }
        }
    }
    findings
}

/// What makes `policy` reach beyond the stack's data stores, if anything.
fn scope_problem(stack: &StackDocument, policy: &str) -> Option<String> {
    let statements = match policy_statements(policy) {
        Ok(statements) => statements,
        Err(problem) => return Some(format!("cannot be verified: {problem}")),
    };
    let mut foreign = Vec::new();
    for statement in statements
        .iter()
        .filter(|statement| statement["Effect"] == "Allow")
    {
        if statement.get("NotResource").is_some() {
            return Some("allows NotResource, which reaches everything not listed".to_owned());
        }
        let resources = one_or_many(statement.get("Resource"));
        if resources.is_empty() {
            return Some("has an Allow statement without Resource".to_owned());
        }
        foreign.extend(
            resources
                .into_iter()
                .filter(|resource| !is_stack_data_store(stack, resource)),
        );
    }
    (!foreign.is_empty()).then(|| {
        format!(
            "allows resources outside the stack's buckets and tables: {}",
            foreign.join(", ")
        )
    })
}

fn is_stack_data_store(stack: &StackDocument, resource: &str) -> bool {
    DATA_STORE_TYPES.iter().any(|type_name| {
        referenced_resource(resource, type_name).is_some_and(|(name, rest)| {
            (rest.is_empty() || rest.starts_with('/'))
                && stack
                    .resources_of(type_name)
                    .any(|store: TerraformBlock| store.name == name)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{addresses_found, complying_document, edited};
    use super::*;

    const S3_POLICY: &str = "/resource/aws_vpc_endpoint_policy/storage_s3/policy";

    fn allow(resources: Value) -> Value {
        json!(json!({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": resources}]}).to_string())
    }

    #[test]
    fn endpoint_policies_scoped() {
        let cases: &[(&str, Value, &[&str])] = &[
            ("the synthesized policies", complying_document(), &[]),
            (
                "every resource",
                edited(S3_POLICY, Some(allow(json!("*")))),
                &["aws_vpc_endpoint_policy.storage_s3"],
            ),
            (
                "another tenant's bucket by name",
                edited(
                    S3_POLICY,
                    Some(allow(json!([
                        "${aws_s3_bucket.data.arn}",
                        "arn:aws:s3:::tenant-retail-co-data-dev/*"
                    ]))),
                ),
                &["aws_vpc_endpoint_policy.storage_s3"],
            ),
            (
                "a bucket the stack does not declare",
                edited(S3_POLICY, Some(allow(json!("${aws_s3_bucket.elsewhere.arn}/*")))),
                &["aws_vpc_endpoint_policy.storage_s3"],
            ),
            (
                "NotResource",
                edited(
                    S3_POLICY,
                    Some(json!(
                        json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "NotResource": "x"}})
                            .to_string()
                    )),
                ),
                &["aws_vpc_endpoint_policy.storage_s3"],
            ),
            (
                "a Terraform expression instead of a JSON document",
                edited(S3_POLICY, Some(json!("${data.aws_iam_policy_document.s3.json}"))),
                &["aws_vpc_endpoint_policy.storage_s3"],
            ),
            (
                "a broad Deny does not widen anything",
                edited(
                    S3_POLICY,
                    Some(json!(
                        json!({"Statement": [
                            {"Effect": "Allow", "Action": "s3:*", "Resource": "${aws_s3_bucket.data.arn}/*"},
                            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}
                        ]})
                        .to_string()
                    )),
                ),
                &[],
            ),
            (
                "no policy for the DynamoDB endpoint",
                edited("/resource/aws_vpc_endpoint_policy/storage_dynamodb", None),
                &["aws_vpc_endpoint.dynamodb"],
            ),
            (
                "an interface endpoint is out of scope",
                edited(
                    "/resource/aws_vpc_endpoint/logs",
                    Some(
                        json!({"vpc_endpoint_type": "Interface", "service_name": "com.amazonaws.us-east-1.logs"}),
                    ),
                ),
                &[],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(ENDPOINT_POLICIES_SCOPED, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }

    #[test]
    fn the_central_stack_is_not_checked() {
        let document = edited("/resource/aws_vpc_endpoint_policy", None);
        let stack = tenant_plugin_sdk::testing::received("central-dev", None, &document);
        assert!(check(&stack).is_empty());
    }
}
