//! The evaluator against a table of cases, each citing the AWS behaviour it encodes.

mod support;

use support::Scenario;
use tenant_access::evaluate;

#[test]
fn every_case_gets_its_documented_verdict() {
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("cases.json")).expect("cases.json is JSON");
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    let mut failures = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for case in cases {
        let scenario = Scenario::from_value(case);
        assert!(
            names.insert(scenario.name.clone()),
            "duplicate case {}",
            scenario.name
        );
        assert!(
            !scenario.reason.is_empty(),
            "case {} has no reason",
            scenario.name
        );
        let verdict = evaluate(&scenario.request()).verdict.as_str();
        if verdict != scenario.expect {
            failures.push(format!(
                "{}: expected {}, got {verdict} ({})",
                scenario.name, scenario.expect, scenario.reason
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
