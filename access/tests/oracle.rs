//! Differential test: the evaluator against `@cloud-copilot/iam-simulate`, an evaluator nobody
//! here wrote, on every case of `cases.json` and on a few hundred seeded random policy/request
//! pairs over the operators both support.
//!
//! iam-simulate is AGPL, so it is a test oracle only: `just access-oracle` installs the pinned
//! lock file of `tests/access/oracle/` with `npm ci` outside the clone and runs this test with
//! `TENANT_ACCESS_ORACLE_NODE_PATH` pointing at it. Without that variable the test fails, which is
//! why it is ignored in a plain `cargo test`.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use support::{ACCOUNT, Scenario, document};
use tenant_access::evaluate;

/// Cases where the two evaluators disagree, each with the reason we keep our verdict.
const KNOWN_DIVERGENCES: &[(&str, &str)] = &[
    (
        "trust-missing",
        "every IAM role has a trust policy; given none, iam-simulate skips the trust requirement, \
         while this model (like AWS for sts:AssumeRole) requires the role's trust policy to allow",
    ),
    (
        "variable-old-version-literal",
        "AWS substitutes policy variables only in Version 2012-10-17 policies and treats them as \
         literal text otherwise (Policy variables: Version element); iam-simulate substitutes always",
    ),
    (
        "unknown-deny-without-allow",
        "a Terraform expression is this model's unknown; iam-simulate reads ${var.x} as a policy \
         variable. Either way nothing allows, so the request is denied",
    ),
];

fn simulation(scenario: &Scenario) -> Value {
    let request = scenario.request();
    let mut context = serde_json::Map::new();
    for (key, values) in request.full_context().entries() {
        let multi_valued = scenario
            .context
            .get(key)
            .is_some_and(|value| matches!(value, tenant_access::ContextValue::Many(_)));
        let value = match values {
            [one] if !multi_valued => json!(one),
            many => json!(many),
        };
        context.insert(key.to_owned(), value);
    }
    let principal = match scenario.principal.as_str() {
        "role" => match &scenario.role.session {
            Some(session) => {
                let arn = scenario.role_arn();
                let name = arn.rsplit('/').next().unwrap_or_default().to_owned();
                let account = tenant_access::request::arn_account(&arn).unwrap_or(ACCOUNT);
                format!("arn:aws:sts::{account}:assumed-role/{name}/{session}")
            }
            None => scenario.role_arn(),
        },
        "anonymous" => "anonymous".to_owned(),
        service => service.trim_start_matches("service:").to_owned(),
    };
    let named = |prefix: &str, policies: &[Value]| -> Value {
        policies
            .iter()
            .enumerate()
            .map(|(index, policy)| json!({"name": format!("{prefix}{index}"), "policy": document(policy)}))
            .collect()
    };
    let mut simulation = json!({
        "request": {
            "principal": principal,
            "action": scenario.action,
            "resource": {"resource": scenario.resource, "accountId": scenario.resource_account()},
            "contextVariables": context,
        },
        "identityPolicies": if scenario.principal == "role" { named("identity", &scenario.identity) } else { json!([]) },
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    });
    if let Some(boundary) = &scenario.boundary {
        simulation["permissionBoundaryPolicies"] = named("boundary", std::slice::from_ref(boundary));
    }
    if let Some(policy) = &scenario.resource_policy {
        simulation["resourcePolicy"] = document(policy);
    }
    if let Some(policy) = &scenario.endpoint_policy {
        simulation["vpcEndpointPolicies"] = named("endpoint", std::slice::from_ref(policy));
    }
    simulation
}

fn run_oracle(node_path: &Path, simulations: &[Value]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/access/oracle/simulate.cjs");
    let mut child = Command::new("node")
        .arg(&script)
        .env("NODE_PATH", node_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&serde_json::to_vec(simulations).expect("json"))
        .expect("write simulations");
    let output = child.wait_with_output().expect("oracle finishes");
    assert!(output.status.success(), "oracle failed: {}", output.status);
    serde_json::from_slice(&output.stdout).expect("oracle prints JSON")
}

fn oracle_verdict(answer: &Value) -> String {
    match answer["result"].as_str() {
        Some("Allowed") => "allowed".into(),
        Some("ExplicitlyDenied") => "explicit-deny".into(),
        Some("ImplicitlyDenied") => "implicit-deny".into(),
        _ => format!("oracle error: {answer}"),
    }
}

/// A small deterministic generator (splitmix64), so the pairs are the same on every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const ROLE_A: &str = "arn:aws:iam::111111111111:role/tenant-a-api";
const ROLE_OTHER_ACCOUNT: &str = "arn:aws:iam::222222222222:role/partner";

/// (action, resource, resource pattern, other resource pattern)
const TARGETS: &[(&str, &str, &str, &str)] = &[
    (
        "s3:GetObject",
        "arn:aws:s3:::tenant-a-data/k",
        "arn:aws:s3:::tenant-a-data/*",
        "arn:aws:s3:::tenant-b-data/*",
    ),
    (
        "s3:PutObject",
        "arn:aws:s3:::tenant-a-data/k",
        "arn:aws:s3:::tenant-?-data/*",
        "arn:aws:s3:::tenant-a-data",
    ),
    (
        "s3:ListBucket",
        "arn:aws:s3:::tenant-a-data",
        "arn:aws:s3:::tenant-a-data",
        "arn:aws:s3:::tenant-a-data/*",
    ),
    (
        "sqs:SendMessage",
        "arn:aws:sqs:us-east-1:111111111111:tenant-a-dlq",
        "arn:aws:sqs:us-east-1:*:tenant-a-*",
        "arn:aws:sqs:us-east-1:111111111111:tenant-b-dlq",
    ),
    (
        "kms:Decrypt",
        "arn:aws:kms:us-east-1:111111111111:key/ka",
        "arn:aws:kms:us-east-1:111111111111:key/ka",
        "arn:aws:kms:us-east-1:111111111111:key/kb",
    ),
    (
        "dynamodb:GetItem",
        "arn:aws:dynamodb:us-east-1:111111111111:table/tenant-a",
        "arn:aws:dynamodb:*:*:table/tenant-a",
        "arn:aws:dynamodb:us-east-1:111111111111:table/tenant-b",
    ),
];

fn condition(rng: &mut Seeded) -> Value {
    let tenant = *rng.pick(&["a", "b", "A"]);
    match rng.next() % 12 {
        0 => json!({"StringEquals": {"aws:PrincipalTag/TenantId": tenant}}),
        1 => json!({"StringNotEquals": {"aws:PrincipalTag/TenantId": tenant}}),
        2 => json!({"StringEqualsIgnoreCase": {"aws:PrincipalTag/TenantId": tenant}}),
        3 => json!({"StringLike": {"aws:PrincipalTag/TenantId": "?"}}),
        4 => json!({"Null": {"aws:PrincipalTag/TenantId": *rng.pick(&["true", "false"])}}),
        5 => json!({"Bool": {"aws:SecureTransport": *rng.pick(&["true", "false"])}}),
        6 => json!({"BoolIfExists": {"aws:SecureTransport": "false"}}),
        7 => json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/tenant-*"}}),
        8 => json!({"ArnNotEquals": {"aws:PrincipalArn": ROLE_A}}),
        9 => json!({"StringEquals": {"aws:PrincipalAccount": "111111111111"}}),
        10 => json!({"StringEquals": {"aws:ResourceTag/TenantId": tenant}}),
        _ => json!({"StringNotEqualsIfExists": {"aws:ResourceTag/TenantId": tenant}}),
    }
}

fn statement(rng: &mut Seeded, target: &(&str, &str, &str, &str), principal: Option<Value>) -> Value {
    let (action, _, pattern, other) = *target;
    let service = action.split(':').next().unwrap_or_default();
    let mut statement = json!({
        "Effect": if rng.chance(75) { "Allow" } else { "Deny" },
        "Action": match rng.next() % 5 {
            0 => json!(format!("{service}:*")),
            1 => json!("*"),
            2 => json!(action.to_ascii_lowercase()),
            3 => json!([format!("{service}:Describe*"), action]),
            _ => json!(action),
        },
        "Resource": match rng.next() % 4 {
            0 => json!("*"),
            1 => json!(other),
            _ => json!(pattern),
        },
    });
    if rng.chance(60) {
        let mut block = serde_json::Map::new();
        for _ in 0..=(rng.next() % 2) {
            if let Value::Object(operator) = condition(rng) {
                block.extend(operator);
            }
        }
        statement["Condition"] = Value::Object(block);
    }
    if let Some(principal) = principal {
        statement["Principal"] = principal;
    }
    statement
}

fn generated(count: usize) -> Vec<Value> {
    let mut rng = Seeded(0x007e_4a47);
    (0..count)
        .map(|index| {
            let target = rng.pick(TARGETS);
            let role = if rng.chance(85) { ROLE_A } else { ROLE_OTHER_ACCOUNT };
            let mut scenario = json!({
                "name": format!("generated-{index}"),
                "action": target.0,
                "resource": target.1,
                "resource_account": ACCOUNT,
                "role": {"arn": role},
                "identity": [(0..=(rng.next() % 2)).map(|_| statement(&mut rng, target, None)).collect::<Vec<_>>()],
            });
            if rng.chance(70) {
                scenario["role"]["tags"] = json!({"TenantId": *rng.pick(&["a", "b"])});
            }
            if rng.chance(50) {
                scenario["resource_tags"] = json!({"TenantId": *rng.pick(&["a", "b"])});
            }
            if rng.chance(70) {
                scenario["context"] = json!({"aws:SecureTransport": *rng.pick(&["true", "false"])});
            }
            if rng.chance(30) {
                scenario["boundary"] = json!([statement(&mut rng, target, None)]);
            }
            if target.0.starts_with("kms:") || rng.chance(50) {
                let principal = match rng.next() % 4 {
                    0 => json!("*"),
                    1 => json!({"AWS": role}),
                    2 => json!({"AWS": format!("arn:aws:iam::{}:root", tenant_access::request::arn_account(role).unwrap_or(ACCOUNT))}),
                    _ => json!({"AWS": "arn:aws:iam::111111111111:role/someone-else"}),
                };
                let statements: Vec<Value> = (0..=(rng.next() % 2))
                    .map(|_| statement(&mut rng, target, Some(principal.clone())))
                    .collect();
                scenario["resource_policy"] = json!(statements);
            }
            scenario
        })
        .collect()
}

#[test]
#[ignore = "needs the npm oracle: run `just access-oracle`"]
fn agrees_with_iam_simulate() {
    let node_path = std::env::var_os("TENANT_ACCESS_ORACLE_NODE_PATH").expect(
        "TENANT_ACCESS_ORACLE_NODE_PATH must point at the oracle's node_modules (just access-oracle)",
    );
    let cases: Vec<Value> = serde_json::from_str(include_str!("cases.json")).expect("cases.json is JSON");
    let scenarios: Vec<Scenario> = cases
        .into_iter()
        .chain(generated(400))
        .map(Scenario::from_value)
        // The oracle has no unknowns: those cases exercise only this model's extension.
        .filter(|scenario| scenario.expect != "unknown")
        .collect();
    let simulations: Vec<Value> = scenarios.iter().map(simulation).collect();
    let answers = run_oracle(Path::new(&node_path), &simulations);
    assert_eq!(answers.len(), scenarios.len());
    let mut disagreements = Vec::new();
    let mut verdicts = std::collections::BTreeMap::new();
    for ((scenario, answer), simulation) in scenarios.iter().zip(&answers).zip(&simulations) {
        // AWS leaves out keys an action does not support; iam-simulate knows which (from the
        // service authorization reference), this crate trusts its caller: compare without them.
        let ignored: Vec<String> = answer["ignoredContextKeys"]
            .as_array()
            .map(|keys| {
                keys.iter()
                    .filter_map(|key| key.as_str().map(str::to_ascii_lowercase))
                    .collect()
            })
            .unwrap_or_default();
        let mut request = scenario.request();
        // Caller-chosen keys, like unknowns, extend AWS's logic for proofs over all requests;
        // the oracle evaluates one fully specified request.
        request.caller_chosen.clear();
        request
            .context
            .retain(|key, _| !ignored.contains(&key.to_ascii_lowercase()));
        request.resource.tags = request
            .resource
            .tags
            .iter()
            .filter(|(key, _)| !ignored.contains(&format!("aws:resourcetag/{}", key.to_ascii_lowercase())))
            .map(|(key, value)| (key.into(), value.into()))
            .collect();
        let ours = evaluate(&request).verdict.as_str();
        let theirs = oracle_verdict(answer);
        let known = KNOWN_DIVERGENCES.iter().any(|(name, _)| *name == scenario.name);
        if (ours == theirs) == known {
            disagreements.push(format!(
                "{}: ours {ours}, iam-simulate {theirs}{} [{}]\n  {simulation}",
                scenario.name,
                if known {
                    " (listed as a known divergence but they agree)"
                } else {
                    ""
                },
                scenario.reason,
            ));
        }
        *verdicts.entry(theirs).or_insert(0_usize) += 1;
    }
    eprintln!(
        "compared {} scenarios with iam-simulate: {verdicts:?}",
        scenarios.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
