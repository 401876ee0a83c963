//! Resource policies never allow everyone unconditionally. A `*` principal is how gateway
//! endpoint policies and some bucket policies must be written, so it is allowed only together
//! with a condition that binds it (an account, an organization, a source).

use super::NO_WILDCARD_PRINCIPAL;
use crate::document::{PolicyKind, PolicySource};
use tenant_plugin_sdk::iam::{has_condition, is_allow, one_or_many, policy_statements};
use tenant_plugin_sdk::prelude::*;

/// What binds a Lambda permission granted to `*`.
const LAMBDA_PERMISSION_BINDINGS: [&str; 3] = ["source_arn", "source_account", "principal_org_id"];

pub(super) fn check(stack: &StackDocument, policies: &[PolicySource<'_>]) -> Vec<Finding> {
    let remediation = "Name the principal, or add a Condition binding it (aws:PrincipalAccount, aws:SourceArn, aws:PrincipalOrgID…).";
    let mut findings = Vec::new();
    // Trust policies are resource policies of roles; their parse errors are iam.trust-scoped's.
    for source in policies
        .iter()
        .filter(|source| source.kind != PolicyKind::Identity)
    {
        let statements = match policy_statements(source.text) {
            Ok(statements) => statements,
            Err(_) if source.kind == PolicyKind::Trust => continue,
            Err(problem) => {
                findings.push(NO_WILDCARD_PRINCIPAL.finding(source.address.clone(),
                    format!("a resource policy of `{}` cannot be verified: {problem}", source.address),
                    "Render the policy as a JSON document (PolicyDocument::render) rather than a Terraform expression.",
                ));
                continue;
            }
        };
        let open = statements
            .iter()
            .filter(|s| is_allow(s) && names_everyone(s) && !has_condition(s))
            .count();
        if open > 0 {
            findings.push(NO_WILDCARD_PRINCIPAL.finding(
                source.address.clone(),
                format!(
                    "`{}` has {open} Allow statement(s) for principal \"*\" without a condition",
                    source.address
                ),
                remediation,
            ));
        }
    }
    for permission in stack.resources_of("aws_lambda_permission") {
        let bound = LAMBDA_PERMISSION_BINDINGS
            .iter()
            .any(|binding| permission.body.get(*binding).is_some());
        if permission.body["principal"] == "*" && !bound {
            findings.push(NO_WILDCARD_PRINCIPAL.finding(
                permission.address(),
                format!("`{}` lets anyone invoke the function", permission.address()),
                "Name the invoking service and set source_arn or source_account.",
            ));
        }
    }
    findings
}

/// Whether a statement applies to every principal: `"*"`, `{"AWS": "*"}`, or `NotPrincipal`
/// (everyone but those listed).
fn names_everyone(statement: &Value) -> bool {
    statement.get("NotPrincipal").is_some()
        || match statement.get("Principal") {
            Some(Value::String(principal)) => principal == "*",
            Some(Value::Object(kinds)) => kinds.values().any(|ids| one_or_many(Some(ids)).contains(&"*")),
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{addresses_found, complying_document, edited, policy};
    use super::*;

    const BUCKET_POLICY: &str = "/resource/aws_s3_bucket_policy/data/policy";

    fn allowing(principal: Value, condition: Option<Value>) -> Value {
        let mut statement =
            json!({"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "x"});
        if let Some(condition) = condition {
            statement["Condition"] = condition;
        }
        edited(BUCKET_POLICY, Some(policy(statement)))
    }

    #[test]
    fn no_wildcard_principal() {
        let account = json!({"StringEquals": {"aws:PrincipalAccount": "1"}});
        let bucket_policy: &[&str] = &["aws_s3_bucket_policy.data"];
        let cases: &[(&str, Value, &[&str])] = &[
            ("a bucket policy that only denies", complying_document(), &[]),
            ("everyone", allowing(json!("*"), None), bucket_policy),
            (
                "every AWS principal",
                allowing(json!({"AWS": ["arn:aws:iam::1:root", "*"]}), None),
                bucket_policy,
            ),
            (
                "an empty condition binds nothing",
                allowing(json!("*"), Some(json!({"StringEquals": {}}))),
                bucket_policy,
            ),
            (
                "everyone of one account",
                allowing(json!("*"), Some(account.clone())),
                &[],
            ),
            (
                "a named principal",
                allowing(json!({"AWS": "arn:aws:iam::1:role/r"}), None),
                &[],
            ),
            (
                "an endpoint policy",
                edited(
                    "/resource/aws_vpc_endpoint_policy",
                    Some(
                        json!({"s3": {"vpc_endpoint_id": "e", "policy": policy(json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}))}}),
                    ),
                ),
                &["aws_vpc_endpoint_policy.s3"],
            ),
            (
                "a key policy bound to its account",
                edited(
                    "/resource/aws_kms_key",
                    Some(
                        json!({"tenant": {"policy": policy(json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*", "Condition": account}))}}),
                    ),
                ),
                &[],
            ),
            (
                "a queue policy given as an expression",
                edited(
                    "/resource/aws_sqs_queue_policy",
                    Some(json!({"q": {"queue_url": "u", "policy": "${data.x.json}"}})),
                ),
                &["aws_sqs_queue_policy.q"],
            ),
            (
                "a public Lambda permission",
                edited(
                    "/resource/aws_lambda_permission",
                    Some(
                        json!({"open": {"function_name": "f", "action": "lambda:InvokeFunction", "principal": "*"}}),
                    ),
                ),
                &["aws_lambda_permission.open"],
            ),
            (
                "a Lambda permission bound to its source",
                edited(
                    "/resource/aws_lambda_permission",
                    Some(
                        json!({"events": {"function_name": "f", "action": "lambda:InvokeFunction", "principal": "*", "source_arn": "arn"}}),
                    ),
                ),
                &[],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(NO_WILDCARD_PRINCIPAL, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }
}
