//! A tenant stack names nothing of another tenant.
//!
//! Names follow `tenant-{id}-{type}-{suffix}`, and ids may be prefixes of one another (`acme` and
//! `acme-corp`): `tenant-acme-corp-data-dev` could be acme's `corp-data` or acme-corp's `data`, so
//! a prefix test on the id cannot tell them apart, and a pattern such as `tenant-acme-*` reaches
//! both tenants. The rule therefore accepts a `tenant-…` mention only if it is the tenant itself
//! (`tenant-{id}`, the stack name) or exactly a name this stack gives one of its own resources
//! (under the tenant's prefix). Only words shaped like resource names count: ending in the stack's
//! environment suffix, or holding a wildcard; `tenant-api` in an asset path or a target id is a
//! word, not a tenant's resource.

use super::NO_FOREIGN_TENANT;
use std::collections::BTreeSet;
use tenant_plugin_sdk::BlockKind;
use tenant_plugin_sdk::prelude::*;

/// Attributes that name the resource they belong to.
const NAME_ATTRIBUTES: [&str; 5] = ["name", "name_prefix", "bucket", "bucket_prefix", "function_name"];
const MARKER: &str = "tenant-";

pub(super) fn check(stack: &StackDocument) -> Vec<Finding> {
    let Some(tenant) = &stack.tenant else {
        return Vec::new();
    };
    let own_prefix = format!("{MARKER}{}-", tenant.id);
    let mut own: BTreeSet<&str> = own_names(stack)
        .into_iter()
        .filter(|name| name.starts_with(&own_prefix))
        .collect();
    let designation = format!("{MARKER}{}", tenant.id);
    own.insert(&designation);
    own.insert(&stack.stack);

    // Stack names are `tenant-{id}-{suffix}`; a stack named otherwise gets every mention checked.
    let suffix_end = stack
        .stack
        .strip_prefix(&own_prefix)
        .map(|suffix| format!("-{suffix}"));
    let names_a_resource = |mention: &str| {
        mention.contains(['*', '?'])
            || suffix_end
                .as_ref()
                .is_none_or(|end| mention.ends_with(end.as_str()))
    };

    let mut findings = Vec::new();
    // The address is made only for a finding: most blocks mention no other tenant.
    let mut report = |address: &dyn Fn() -> String, value: &Value| {
        let mut strings = Vec::new();
        strings_in(value, &mut strings);
        let foreign: BTreeSet<&str> = strings
            .into_iter()
            .flat_map(mentions)
            .filter(|mention| names_a_resource(mention) && !own.contains(mention))
            .collect();
        if !foreign.is_empty() {
            let address = address();
            let listed: Vec<String> = foreign.iter().map(|m| format!("`{m}`")).collect();
            findings.push(NO_FOREIGN_TENANT.finding(address,
                format!(
                    "mentions {} which the stack of tenant `{}` does not own: another tenant's name or a pattern over several tenants",
                    listed.join(", "),
                    tenant.id
                ),
                "Refer to the tenant's own resources by reference or by the exact names this stack declares.",
            ));
        }
    };
    for block in stack.blocks() {
        report(&|| block.address(), block.body);
    }
    for (section, value) in stack.sections() {
        report(&|| section.to_owned(), value);
    }
    findings
}

/// The names the stack's resources give themselves (their name attributes and `Name` tags).
fn own_names(stack: &StackDocument) -> Vec<&str> {
    stack
        .blocks()
        .filter(|block| block.kind == BlockKind::Resource)
        .flat_map(|block| {
            let tags = ["tags", "tags_all"].map(|tags| &block.body[tags]["Name"]);
            NAME_ATTRIBUTES
                .iter()
                .map(|attribute| &block.body[*attribute])
                .chain(tags)
                .filter_map(Value::as_str)
        })
        .flat_map(mentions)
        .collect()
}

/// Every `tenant-…` word in `text`: starting where no name character precedes, running over name
/// characters and wildcards.
fn mentions(text: &str) -> Vec<&str> {
    let is_name_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    // Searching for the marker's first letter (memchr) and then comparing is cheaper than
    // `match_indices(MARKER)`, which sets up a two-way searcher for every string checked.
    let first = char::from(MARKER.as_bytes()[0]);
    text.match_indices(first)
        .map(|(start, _)| start)
        .filter(|start| text[*start..].starts_with(MARKER))
        .filter(|start| {
            !text[..*start].ends_with(|c: char| is_name_char(c) || c == '_' || c.is_ascii_uppercase())
        })
        .map(|start| {
            let end = text[start..]
                .find(|c: char| !(is_name_char(c) || c == '*' || c == '?'))
                .map_or(text.len(), |n| start + n);
            &text[start..end]
        })
        .collect()
}

/// Appends every string in `value`, at any depth, to `found`.
fn strings_in<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::String(text) => found.push(text),
        Value::Array(items) => items.iter().for_each(|item| strings_in(item, found)),
        Value::Object(fields) => fields.values().for_each(|field| strings_in(field, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{addresses_found, complying_document, edited, policy};
    use super::*;

    #[test]
    fn finds_mentions_as_words() {
        let cases: &[(&str, &[&str])] = &[
            (
                "arn:aws:s3:::tenant-acme-corp-data-dev/*",
                &["tenant-acme-corp-data-dev"],
            ),
            ("alias/tenant-acme-corp-dev", &["tenant-acme-corp-dev"]),
            (
                "log-group:tenant-a-api-logs-dev:log-stream:*",
                &["tenant-a-api-logs-dev"],
            ),
            ("tenant-*", &["tenant-*"]),
            ("saas-tenant-events-dev", &[]),
            ("${aws_kms_key.tenant.arn}", &[]),
            ("multi_tenant-x", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(mentions(text), *expected, "{text}");
        }
    }

    #[test]
    fn no_foreign_tenant() {
        const POLICY: &str = "/resource/aws_iam_role_policy/lambda_execution/policy";
        let reads = |resource: &str| {
            Some(policy(
                json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}),
            ))
        };
        let cases: &[(&str, Value, &[&str])] = &[
            ("own names and references only", complying_document(), &[]),
            (
                "another tenant's bucket",
                edited(POLICY, reads("arn:aws:s3:::tenant-retail-co-data-dev/*")),
                &["aws_iam_role_policy.lambda_execution"],
            ),
            (
                "a tenant whose id extends this one's",
                edited(POLICY, reads("arn:aws:s3:::tenant-acme-corp-eu-data-dev/*")),
                &["aws_iam_role_policy.lambda_execution"],
            ),
            (
                "a pattern over this tenant and its extensions",
                edited(POLICY, reads("arn:aws:s3:::tenant-acme-corp-*")),
                &["aws_iam_role_policy.lambda_execution"],
            ),
            (
                "a pattern over every tenant",
                edited(POLICY, reads("arn:aws:s3:::tenant-*")),
                &["aws_iam_role_policy.lambda_execution"],
            ),
            (
                "words that are not resource names",
                edited(
                    "/resource/aws_lambda_function",
                    Some(
                        json!({"api": {"filename": "assets/tenant-api/1.zip", "description": "tenant-scoped"}}),
                    ),
                ),
                &[],
            ),
            (
                "this tenant's own bucket by name",
                edited(POLICY, reads("arn:aws:s3:::tenant-acme-corp-data-dev/*")),
                &[],
            ),
            (
                "a data source looking up another tenant's table",
                edited(
                    "/data/aws_dynamodb_table",
                    Some(json!({"other": {"name": "tenant-tech-startup-metadata-dev"}})),
                ),
                &["data.aws_dynamodb_table.other"],
            ),
            (
                "an output naming another tenant",
                edited("/output/peer", Some(json!({"value": "tenant-retail-co-dev"}))),
                &["output"],
            ),
            (
                "a resource named for another tenant does not make the name this tenant's",
                edited(
                    "/resource/aws_sqs_queue/q",
                    Some(json!({"name": "tenant-retail-co-queue-dev"})),
                ),
                &["aws_sqs_queue.q"],
            ),
        ];
        for (reason, document, expected) in cases {
            assert_eq!(
                addresses_found(NO_FOREIGN_TENANT, document.clone()),
                *expected,
                "{reason}"
            );
        }
    }
}
