//! Roles trust AWS services only, and only on behalf of one account or resource: without
//! `aws:SourceAccount` / `aws:SourceArn` the service would assume the role for anyone's resource
//! (the confused deputy). The one other principal a role may trust is a role of the same stack,
//! named by its Terraform reference (`${aws_iam_role.<name>.arn}`): one role of this account,
//! which has no confused-deputy exposure (the provisioning build assuming the deployer role).

use super::TRUST_SCOPED;
use crate::document::{PolicyKind, PolicySource};
use tenant_plugin_sdk::iam::{conditions_on, is_allow, policy_statements};
use tenant_plugin_sdk::prelude::*;

const SOURCE_KEYS: [&str; 2] = ["aws:SourceAccount", "aws:SourceArn"];

pub(super) fn check(stack: &StackDocument, policies: &[PolicySource<'_>]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for role in stack.resources_of("aws_iam_role") {
        let address = role.address();
        let trust = policies
            .iter()
            .find(|p| p.kind == PolicyKind::Trust && p.address == address);
        let problem = match trust.map(|trust| policy_statements(trust.text)) {
            None => Some("has no assume_role_policy".to_owned()),
            Some(Err(problem)) => Some(format!("has a trust policy that cannot be verified: {problem}")),
            Some(Ok(statements)) => statements.iter().filter(|s| is_allow(s)).find_map(unscoped_trust),
        };
        if let Some(problem) = problem {
            findings.push(TRUST_SCOPED.finding(address.clone(),
                format!("`{address}` {problem}"),
                "Trust only {\"Service\": \"<service>.amazonaws.com\"} and add Condition StringEquals aws:SourceAccount (or ArnLike aws:SourceArn).",
            ));
        }
    }
    findings
}

/// Whether `value` is exactly a reference to the ARN of a role of the same stack.
fn is_sibling_role_reference(value: &Value) -> bool {
    value
        .as_str()
        .and_then(|text| text.strip_prefix("${aws_iam_role."))
        .and_then(|rest| rest.strip_suffix(".arn}"))
        .is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        })
}

/// What is wrong with one Allow statement of a trust policy, if anything.
fn unscoped_trust(statement: &Value) -> Option<String> {
    let principal = statement.get("Principal").and_then(Value::as_object);
    let only_sibling_role =
        principal.is_some_and(|p| p.len() == 1 && p.get("AWS").is_some_and(is_sibling_role_reference));
    if only_sibling_role && statement.get("NotPrincipal").is_none() {
        return None;
    }
    let only_services = principal.is_some_and(|p| p.contains_key("Service") && p.len() == 1);
    if !only_services || statement.get("NotPrincipal").is_some() {
        return Some(format!(
            "trusts {}, not only AWS service principals",
            statement.get("Principal").unwrap_or(&Value::Null)
        ));
    }
    let bound = SOURCE_KEYS
        .iter()
        .any(|key| !conditions_on(statement, key).is_empty());
    (!bound).then(|| "trusts a service without binding aws:SourceAccount or aws:SourceArn".to_owned())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{addresses_found, complying_document, edited, policy};
    use super::*;

    const TRUST: &str = "/resource/aws_iam_role/lambda_execution/assume_role_policy";
    const ROLE: &str = "aws_iam_role.lambda_execution";

    fn trusting(principal: Value, condition: Option<Value>) -> Value {
        let mut statement = json!({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"});
        if let Some(condition) = condition {
            statement["Condition"] = condition;
        }
        edited(TRUST, Some(policy(statement)))
    }

    #[test]
    fn trust_scoped() {
        let lambda = json!({"Service": "lambda.amazonaws.com"});
        let cases: &[(&str, Value, &[&str])] = &[
            ("the synthesized role", complying_document(), &[]),
            ("no source binding", trusting(lambda.clone(), None), &[ROLE]),
            (
                "an unrelated condition",
                trusting(
                    lambda.clone(),
                    Some(json!({"Bool": {"aws:SecureTransport": "true"}})),
                ),
                &[ROLE],
            ),
            (
                "bound by source ARN",
                trusting(
                    lambda.clone(),
                    Some(json!({"ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:1:function:f"}})),
                ),
                &[],
            ),
            (
                "an account root besides the service",
                trusting(
                    json!({"Service": "lambda.amazonaws.com", "AWS": "arn:aws:iam::1:root"}),
                    Some(json!({"StringEquals": {"aws:SourceAccount": "1"}})),
                ),
                &[ROLE],
            ),
            (
                "everyone",
                trusting(
                    json!("*"),
                    Some(json!({"StringEquals": {"aws:SourceAccount": "1"}})),
                ),
                &[ROLE],
            ),
            (
                "a role of the same stack",
                trusting(json!({"AWS": "${aws_iam_role.provisioner.arn}"}), None),
                &[],
            ),
            (
                "a role of another account",
                trusting(json!({"AWS": "arn:aws:iam::2:role/x"}), None),
                &[ROLE],
            ),
            (
                "a role reference with something appended",
                trusting(json!({"AWS": "${aws_iam_role.provisioner.arn}x"}), None),
                &[ROLE],
            ),
            ("no trust policy", edited(TRUST, None), &[ROLE]),
            (
                "a Terraform expression",
                edited(TRUST, Some(json!("${data.aws_iam_policy_document.t.json}"))),
                &[ROLE],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(TRUST_SCOPED, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }
}
