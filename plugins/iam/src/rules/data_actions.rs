//! Data actions in identity policies: never on every resource, and in tenant stacks only for
//! principals tagged with the tenant.

use super::{DATA_ACTIONS_SCOPED, PRINCIPAL_TAG_BOUND};
use crate::document::{PolicyKind, PolicySource};
use tenant_plugin_sdk::iam::{conditions_on, is_allow, one_or_many, policy_statements};
use tenant_plugin_sdk::prelude::*;

/// The services whose actions read or write tenant data.
const DATA_SERVICES: [&str; 4] = ["dynamodb", "kms", "logs", "s3"];

pub(super) fn check(stack: &StackDocument, policies: &[PolicySource<'_>]) -> Vec<Finding> {
    let tenant_id = stack.tenant.as_ref().map(|tenant| tenant.id.as_str());
    let mut findings = Vec::new();
    for source in policies
        .iter()
        .filter(|source| source.kind == PolicyKind::Identity)
    {
        let statements = match policy_statements(source.text) {
            Ok(statements) => statements,
            Err(problem) => {
                findings.push(DATA_ACTIONS_SCOPED.finding(source.address.clone(),
                    format!("an identity policy of `{}` cannot be verified: {problem}", source.address),
                    "Render the policy as a JSON document (PolicyDocument::render) rather than a Terraform expression.",
                ));
                continue;
            }
        };
        for (index, statement) in statements
            .iter()
            .enumerate()
            .filter(|(_, s)| is_allow(s) && grants_data_actions(s))
        {
            let label = statement["Sid"]
                .as_str()
                .map_or_else(|| format!("#{index}"), |sid| format!("`{sid}`"));
            if statement.get("NotResource").is_some() || one_or_many(statement.get("Resource")).contains(&"*")
            {
                findings.push(DATA_ACTIONS_SCOPED.finding(
                    source.address.clone(),
                    format!(
                        "statement {label} of `{}` allows data actions on every resource",
                        source.address
                    ),
                    "List the tenant's own table, bucket, key or log group ARNs as Resource.",
                ));
            }
            if let Some(tenant_id) = tenant_id.filter(|id| !requires_tenant_tag(statement, id)) {
                findings.push(PRINCIPAL_TAG_BOUND.finding(source.address.clone(),
                    format!(
                        "statement {label} of `{}` allows data actions without requiring aws:PrincipalTag/TenantId = {tenant_id}",
                        source.address
                    ),
                    "Add Condition StringEquals {\"aws:PrincipalTag/TenantId\": \"<tenant id>\"} to the statement.",
                ));
            }
        }
    }
    findings
}

/// Whether an Allow statement grants an action of a data service; `NotAction` grants all but a
/// few, so it counts.
fn grants_data_actions(statement: &Value) -> bool {
    statement.get("NotAction").is_some()
        || one_or_many(statement.get("Action"))
            .into_iter()
            .any(is_data_action)
}

/// Whether `action` (possibly a wildcard pattern) can match an action that reads or writes data
/// of a data service. `Describe*` and, except in S3, `List*` only reveal metadata; S3 listing
/// reveals object keys, so it counts, all but `ListAllMyBuckets`. The CloudWatch Logs actions
/// that set up vended log delivery (`*LogDelivery*`, `*ResourcePolicy*`) configure where services
/// send logs, read none, and AWS supports only `Resource: "*"` for them (Step Functions logging);
/// so does `kms:CreateKey`, which creates a key and touches no data.
fn is_data_action(action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    if action == "*" {
        return true;
    }
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    if !DATA_SERVICES.contains(&service) {
        return false;
    }
    let literal = name.split(['*', '?']).next().unwrap_or_default();
    let metadata = literal.starts_with("describe")
        || (literal.starts_with("list") && (service != "s3" || literal.starts_with("listallmybuckets")));
    let log_delivery_setup = service == "logs"
        && ["logdeliver", "resourcepolic"]
            .iter()
            .any(|part| literal.contains(part));
    // Creating a key reads and writes no data, and AWS takes only Resource "*" for it.
    let key_creation = service == "kms" && name == "createkey";
    !(metadata || log_delivery_setup || key_creation)
}

/// Whether the statement requires the principal's `TenantId` tag to be exactly `tenant_id`.
fn requires_tenant_tag(statement: &Value, tenant_id: &str) -> bool {
    conditions_on(statement, "aws:PrincipalTag/TenantId")
        .into_iter()
        .any(|(operator, value)| {
            operator.eq_ignore_ascii_case("StringEquals") && one_or_many(Some(value)) == [tenant_id]
        })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{addresses_found, complying_document, edited, policy};
    use super::*;

    const INLINE: &str = "/resource/aws_iam_role_policy/lambda_execution/policy";
    const POLICY: &str = "aws_iam_role_policy.lambda_execution";

    #[test]
    fn recognises_data_actions() {
        let cases = [
            ("*", true),
            ("s3:GetObject", true),
            ("S3:getobject", true),
            ("s3:List*", true),
            ("s3:ListAllMyBuckets", false),
            ("dynamodb:*", true),
            ("dynamodb:ListTables", false),
            ("logs:DescribeLogGroups", false),
            ("logs:GetLogEvents", true),
            ("logs:CreateLogDelivery", false),
            ("logs:PutResourcePolicy", false),
            ("logs:*", true),
            ("kms:Decrypt", true),
            ("kms:CreateKey", false),
            ("kms:Create*", true),
            ("ec2:DescribeVpcs", false),
            ("ec2:*", false),
        ];
        for (action, expected) in cases {
            assert_eq!(is_data_action(action), expected, "{action}");
        }
    }

    fn inline(statement: Value) -> Value {
        edited(INLINE, Some(policy(statement)))
    }

    #[test]
    fn data_actions_scoped() {
        let tag = json!({"StringEquals": {"aws:PrincipalTag/TenantId": "acme-corp"}});
        let cases: &[(&str, Value, &[&str])] = &[
            ("the synthesized policies", complying_document(), &[]),
            (
                "objects of every bucket",
                inline(
                    json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": tag}),
                ),
                &[POLICY],
            ),
            (
                "everything but one resource",
                inline(
                    json!({"Effect": "Allow", "Action": "kms:Decrypt", "NotResource": "x", "Condition": tag}),
                ),
                &[POLICY],
            ),
            (
                "every action except a few",
                inline(
                    json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": ["a", "*"], "Condition": tag}),
                ),
                &[POLICY],
            ),
            (
                "metadata on every resource is fine",
                inline(json!({"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"})),
                &[],
            ),
            (
                "a deny on every resource is fine",
                inline(json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})),
                &[],
            ),
            (
                "a managed policy too",
                edited(
                    "/resource/aws_iam_policy/lambda_boundary/policy",
                    Some(policy(
                        json!({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": tag}),
                    )),
                ),
                &["aws_iam_policy.lambda_boundary"],
            ),
            (
                "an inline policy of the role",
                edited(
                    "/resource/aws_iam_role/lambda_execution/inline_policy",
                    Some(
                        json!([{"name": "x", "policy": policy(json!({"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*", "Condition": tag}))}]),
                    ),
                ),
                &["aws_iam_role.lambda_execution"],
            ),
            (
                "an unverifiable policy",
                edited(INLINE, Some(json!("${data.aws_iam_policy_document.x.json}"))),
                &[POLICY],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(DATA_ACTIONS_SCOPED, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }

    #[test]
    fn principal_tag_bound() {
        let allow = |condition: Value| {
            inline(
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": condition}),
            )
        };
        let cases: &[(&str, Value, &[&str])] = &[
            ("the synthesized policies", complying_document(), &[]),
            (
                "no condition",
                inline(json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "b"})),
                &[POLICY],
            ),
            (
                "another tenant's tag",
                allow(json!({"StringEquals": {"aws:PrincipalTag/TenantId": "retail-co"}})),
                &[POLICY],
            ),
            (
                "untagged principals pass IfExists",
                allow(json!({"StringEqualsIfExists": {"aws:PrincipalTag/TenantId": "acme-corp"}})),
                &[POLICY],
            ),
            (
                "a pattern matching several tenants",
                allow(json!({"StringLike": {"aws:PrincipalTag/TenantId": "acme-*"}})),
                &[POLICY],
            ),
            (
                "either of two tenants",
                allow(json!({"StringEquals": {"aws:PrincipalTag/TenantId": ["acme-corp", "retail-co"]}})),
                &[POLICY],
            ),
            (
                "the tenant as a one-element list",
                allow(json!({"StringEquals": {"aws:principaltag/TenantId": ["acme-corp"]}})),
                &[],
            ),
            (
                "non-data actions need no tag",
                inline(json!({"Effect": "Allow", "Action": "ec2:DescribeVpcs", "Resource": "*"})),
                &[],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(PRINCIPAL_TAG_BOUND, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }

    #[test]
    fn central_stacks_need_no_tenant_tag() {
        let document =
            inline(json!({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "arn:aws:logs:x"}));
        let stack = tenant_plugin_sdk::testing::received("central-dev", None, &document);
        assert!(check(&stack, &crate::document::policies(&stack)).is_empty());
    }
}
