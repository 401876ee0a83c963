//! Finding the policies of a composed stack and reading their statements.

use tenant_plugin_sdk::prelude::*;
use tenant_plugin_sdk::{BlockKind, TerraformBlock};

/// Resource types whose `policy` is an identity policy (it has no `Principal`).
const IDENTITY_POLICY_TYPES: [&str; 4] = [
    "aws_iam_policy",
    "aws_iam_role_policy",
    "aws_iam_user_policy",
    "aws_iam_group_policy",
];
/// Attributes holding a resource policy, across resource types.
const RESOURCE_POLICY_ATTRIBUTES: [&str; 3] = ["policy", "policy_document", "access_policies"];

/// What a policy governs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// What a principal may do.
    Identity,
    /// Who may assume a role.
    Trust,
    /// Who may use a resource.
    Resource,
}

/// One policy document held by a block of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySource<'a> {
    pub address: String,
    pub kind: PolicyKind,
    pub text: &'a str,
}

/// Every policy in the stack's resources.
pub fn policies(stack: &StackDocument) -> Vec<PolicySource<'_>> {
    let mut found = Vec::new();
    for block in stack.blocks().filter(|block| block.kind == BlockKind::Resource) {
        let mut candidates: Vec<(PolicyKind, Option<&Value>)> = Vec::new();
        if IDENTITY_POLICY_TYPES.contains(&block.type_name) {
            candidates.push((PolicyKind::Identity, block.body.get("policy")));
        } else if block.type_name == "aws_iam_role" {
            candidates.push((PolicyKind::Trust, block.body.get("assume_role_policy")));
            candidates.extend(
                inline_policies(&block)
                    .into_iter()
                    .map(|inline| (PolicyKind::Identity, inline.get("policy"))),
            );
        } else {
            candidates.extend(
                RESOURCE_POLICY_ATTRIBUTES
                    .iter()
                    .map(|attribute| (PolicyKind::Resource, block.body.get(*attribute))),
            );
        }
        for (kind, text) in candidates {
            if let Some(text) = text.and_then(Value::as_str) {
                found.push(PolicySource {
                    address: block.address(),
                    kind,
                    text,
                });
            }
        }
    }
    found
}

fn inline_policies<'a>(role: &TerraformBlock<'a>) -> Vec<&'a Value> {
    match role.body.get("inline_policy") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    }
}

/// The statements of a policy held as a JSON string; `Statement` may be one object or a list.
pub fn policy_statements(policy: &str) -> Result<Vec<Value>, String> {
    let document: Value =
        serde_json::from_str(policy).map_err(|e| format!("the policy is not JSON ({e})"))?;
    match document.get("Statement") {
        Some(Value::Array(statements)) => Ok(statements.clone()),
        Some(statement @ Value::Object(_)) => Ok(vec![statement.clone()]),
        _ => Err("the policy has no Statement".to_owned()),
    }
}

/// A policy element that is one string or a list of strings (`Action`, `Resource`, a condition
/// value, a principal list).
pub fn one_or_many(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

pub fn is_allow(statement: &Value) -> bool {
    statement["Effect"] == "Allow"
}

/// The condition entries of `statement` on `key` (keys are case-insensitive in IAM), as
/// `(operator, value)`.
pub fn conditions_on<'s>(statement: &'s Value, key: &str) -> Vec<(&'s str, &'s Value)> {
    let Some(operators) = statement.get("Condition").and_then(Value::as_object) else {
        return Vec::new();
    };
    operators
        .iter()
        .flat_map(|(operator, entries)| {
            entries
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(entry_key, _)| entry_key.eq_ignore_ascii_case(key))
                .map(move |(_, value)| (operator.as_str(), value))
        })
        .collect()
}

/// Whether the statement has any condition at all.
pub fn has_condition(statement: &Value) -> bool {
    statement
        .get("Condition")
        .and_then(Value::as_object)
        .is_some_and(|operators| {
            operators
                .values()
                .any(|entries| entries.as_object().is_some_and(|e| !e.is_empty()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_policies_by_what_they_govern() {
        let stack = StackDocument {
            stack: "s".into(),
            tenant: None,
            document: json!({
                "resource": {
                    "aws_iam_role": {"r": {"assume_role_policy": "{}", "inline_policy": [{"name": "i", "policy": "{}"}]}},
                    "aws_iam_role_policy": {"p": {"policy": "{}"}},
                    "aws_s3_bucket_policy": {"b": {"policy": "{}"}},
                    "aws_cloudwatch_log_resource_policy": {"l": {"policy_document": "{}"}},
                },
                "data": {"aws_iam_policy_document": {"d": {"statement": []}}},
            }),
        };
        let found: Vec<_> = policies(&stack)
            .into_iter()
            .map(|p| (p.address, p.kind))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "aws_cloudwatch_log_resource_policy.l".to_owned(),
                    PolicyKind::Resource
                ),
                ("aws_iam_role.r".to_owned(), PolicyKind::Trust),
                ("aws_iam_role.r".to_owned(), PolicyKind::Identity),
                ("aws_iam_role_policy.p".to_owned(), PolicyKind::Identity),
                ("aws_s3_bucket_policy.b".to_owned(), PolicyKind::Resource),
            ]
        );
    }

    #[test]
    fn condition_keys_match_case_insensitively() {
        let statement = json!({"Condition": {"StringEquals": {"AWS:SourceAccount": "1"}, "Bool": {}}});
        assert_eq!(
            conditions_on(&statement, "aws:SourceAccount"),
            [("StringEquals", &json!("1"))]
        );
        assert!(has_condition(&statement));
        assert!(!has_condition(&json!({"Condition": {"Bool": {}}})));
    }
}
