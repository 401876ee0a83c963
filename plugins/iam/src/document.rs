//! Finding the policies of a composed stack; their statements are read with the SDK's
//! `tenant_plugin_sdk::iam` readers.

use tenant_plugin_sdk::BlockKind;
use tenant_plugin_sdk::document::nested_blocks;
use tenant_plugin_sdk::prelude::*;

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
                nested_blocks(block.body, "inline_policy")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_policies_by_what_they_govern() {
        let stack = tenant_plugin_sdk::testing::received(
            "s",
            None,
            &json!({
                "resource": {
                    "aws_iam_role": {"r": {"assume_role_policy": "{}", "inline_policy": [{"name": "i", "policy": "{}"}]}},
                    "aws_iam_role_policy": {"p": {"policy": "{}"}},
                    "aws_s3_bucket_policy": {"b": {"policy": "{}"}},
                    "aws_cloudwatch_log_resource_policy": {"l": {"policy_document": "{}"}},
                },
                "data": {"aws_iam_policy_document": {"d": {"statement": []}}},
            }),
        );
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
}
