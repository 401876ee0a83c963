//! The access intents the bundled plugins declare, judged over the example fleet composed from
//! their pure functions: all hold, every plugin owning access-governed resources declares some,
//! the host derives none of them again, and undoing what makes an intent hold makes it fail.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use tenant_access::fleet::Fleet;
use tenant_access::intent::Expectation;
use tenant_bundled_fleet::{ComposedStack, declared_intents, example_stacks, inputs, judge};

/// `(plugin, expectation, action)` of every declared intent that does not hold.
fn failing(stacks: &[ComposedStack]) -> BTreeSet<(String, &'static str, String)> {
    judge(stacks)
        .into_iter()
        .filter(|outcome| !outcome.holds)
        .map(|outcome| {
            let intent = outcome.intent;
            (
                intent.plugin.to_string(),
                intent.expect.as_str(),
                intent.action.to_string(),
            )
        })
        .collect()
}

#[test]
fn every_declared_intent_holds_over_the_example_fleet() {
    let outcomes = judge(&example_stacks());
    let failing: Vec<_> = outcomes.iter().filter(|outcome| !outcome.holds).collect();
    assert!(failing.is_empty(), "{failing:#?}");
}

#[test]
fn every_plugin_owning_access_governed_resources_declares_both_kinds() {
    let mut kinds: BTreeMap<String, BTreeSet<Expectation>> = BTreeMap::new();
    for intent in declared_intents(&example_stacks()) {
        kinds
            .entry(intent.plugin.to_string())
            .or_default()
            .insert(intent.expect);
    }
    let both = BTreeSet::from([Expectation::Allow, Expectation::Deny]);
    for plugin in ["compute", "crypto", "events", "logging"] {
        assert_eq!(kinds.get(plugin), Some(&both), "{plugin}");
    }
    // Storage's bucket policy and iam's role only take access away: what they grant, compute's
    // intents prove. Network creates no resource an IAM policy governs (its endpoints' policies
    // are storage's).
    for plugin in ["storage", "iam"] {
        assert_eq!(
            kinds.get(plugin),
            Some(&BTreeSet::from([Expectation::Deny])),
            "{plugin}"
        );
    }
    assert_eq!(kinds.get("network"), None);
}

#[test]
fn the_host_derives_nothing_the_bundled_plugins_declared() {
    let stacks = example_stacks();
    let declared = declared_intents(&stacks);
    let left = Fleet::derived_intents(&inputs(&stacks), &declared);
    assert!(left.is_empty(), "{left:#?}");
    assert!(!Fleet::derived_intents(&inputs(&stacks), &[]).is_empty());
}

/// `stacks` with the policy JSON text at `pointer` of stack `stack` edited by `edit`.
fn with_policy(
    mut stacks: Vec<ComposedStack>,
    stack: &str,
    pointer: &str,
    edit: impl FnOnce(&mut Vec<Value>),
) -> Vec<ComposedStack> {
    let document = &mut stacks
        .iter_mut()
        .find(|s| s.name == stack)
        .unwrap_or_else(|| panic!("stack {stack}"))
        .document;
    let text = document
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("policy at {pointer}"));
    let mut policy: Value = serde_json::from_str(text).expect("policy JSON");
    edit(policy["Statement"].as_array_mut().expect("statements"));
    *document.pointer_mut(pointer).expect("policy") = Value::String(policy.to_string());
    stacks
}

/// Removes the statement `sid`.
fn without(sid: &'static str) -> impl FnOnce(&mut Vec<Value>) {
    move |statements| {
        let before = statements.len();
        statements.retain(|statement| statement["Sid"] != sid);
        assert_eq!(statements.len(), before - 1, "{sid} is there to remove");
    }
}

/// Applies `edit` to the statement `sid`.
fn changing(sid: &'static str, edit: impl FnOnce(&mut Value)) -> impl FnOnce(&mut Vec<Value>) {
    move |statements| {
        edit(
            statements
                .iter_mut()
                .find(|statement| statement["Sid"] == sid)
                .unwrap_or_else(|| panic!("{sid}")),
        );
    }
}

const ACME: &str = "tenant-acme-corp-dev";
const CENTRAL: &str = "central-dev";

#[test]
fn undoing_what_makes_an_intent_hold_makes_it_fail() {
    let forwarder_policy = "/resource/aws_iam_role_policy/log_forwarder/policy";
    let bucket_policy = "/resource/aws_s3_bucket_policy/data/policy";
    let role_policy = "/resource/aws_iam_role_policy/lambda_execution/policy";
    let boundary = "/resource/aws_iam_policy/lambda_boundary/policy";
    let acme_wildcard_logs =
        "arn:aws:logs:us-east-1:${data.aws_caller_identity.crypto.account_id}:log-group:tenant-acme-corp*";
    let tenant_key = "/resource/aws_kms_key/tenant/policy";
    let central_key = "/resource/aws_kms_key/central_logs/policy";
    let tagged_for_acme = json!({
        "Sid": "TenantUse", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
        "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/TenantId": "acme-corp"}},
    });
    type Case = (
        &'static str,
        Vec<ComposedStack>,
        &'static [(&'static str, &'static str, &'static str)],
    );
    let cases: Vec<Case> = vec![
        (
            // Issue 9 item 1: Lambda decrypts the environment with the role's own credentials.
            "the forwarder's role may use its key only through SQS",
            with_policy(
                example_stacks(),
                CENTRAL,
                forwarder_policy,
                without("DecryptOwnEnvironment"),
            ),
            &[("logging", "allow", "kms:Decrypt")],
        ),
        (
            // https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html#transit
            "the bucket accepts requests without TLS",
            with_policy(
                example_stacks(),
                ACME,
                bucket_policy,
                without("DenyInsecureTransport"),
            ),
            &[("storage", "deny", "s3:GetObject")],
        ),
        (
            "the bucket accepts uploads naming another key",
            with_policy(example_stacks(), ACME, bucket_policy, without("DenyOtherKmsKeys")),
            &[("storage", "deny", "s3:PutObject")],
        ),
        (
            // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
            "the role's item grant forgets the partition key",
            with_policy(
                example_stacks(),
                ACME,
                role_policy,
                changing("TenantTableItems", |statement| {
                    statement.as_object_mut().expect("statement").remove("Condition");
                }),
            ),
            &[("compute", "deny", "dynamodb:GetItem")],
        ),
        (
            // The grant and the boundary both: either alone still confines the role.
            "the role's log grant and its ceiling end in a wildcard after the tenant's name",
            with_policy(
                with_policy(
                    example_stacks(),
                    ACME,
                    role_policy,
                    changing("TenantLogStreams", |statement| {
                        statement["Resource"] = json!(acme_wildcard_logs)
                    }),
                ),
                ACME,
                boundary,
                changing("CeilingTenantLogs", |statement| {
                    statement["Resource"] = json!(acme_wildcard_logs)
                }),
            ),
            &[("iam", "deny", "logs:PutLogEvents")],
        ),
        (
            // https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
            "the tenant key admits log groups by a prefix",
            with_policy(
                example_stacks(),
                ACME,
                tenant_key,
                changing("AllowCloudWatchLogsForTenantLogGroups", |statement| {
                    statement["Condition"] = json!({"ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:${data.aws_caller_identity.crypto.account_id}:log-group:tenant-acme-corp-*",
                    }});
                }),
            ),
            &[("crypto", "deny", "kms:GenerateDataKey")],
        ),
        (
            "the central key is granted to a tenant's principals",
            with_policy(example_stacks(), CENTRAL, central_key, |statements| {
                statements.push(tagged_for_acme);
            }),
            &[("logging", "deny", "kms:Decrypt")],
        ),
    ];
    assert!(failing(&example_stacks()).is_empty());
    for (reason, stacks, expected) in cases {
        let expected: BTreeSet<(String, &str, String)> = expected
            .iter()
            .map(|(plugin, expect, action)| ((*plugin).to_owned(), *expect, (*action).to_owned()))
            .collect();
        assert_eq!(failing(&stacks), expected, "{reason}");
    }
}

#[test]
fn a_tenant_rule_without_its_source_lets_look_alike_rules_invoke_the_api() {
    // https://docs.aws.amazon.com/lambda/latest/dg/permissions-function-services.html
    let mut stacks = example_stacks();
    let acme = stacks.iter_mut().find(|s| s.name == ACME).expect("acme");
    acme.document["resource"]["aws_lambda_permission"]["tenant_events"]
        .as_object_mut()
        .expect("permission")
        .remove("source_arn");
    assert_eq!(
        failing(&stacks),
        BTreeSet::from([("events".to_owned(), "deny", "lambda:InvokeFunction".to_owned())])
    );
}
