//! The policy engine end to end: `check`, its report formats, waivers and exit codes, the
//! isolation of plugins' findings from each other, and `plugins list|inspect`.

use crate::support::*;
use serde_json::Value;
use std::path::Path;

/// The example configuration with `waivers` appended.
fn example_with(dir: &Path, name: &str, waivers: &str) -> String {
    let path = dir.join(name);
    let example = std::fs::read_to_string(workspace().join("examples/tenants.toml")).unwrap();
    std::fs::write(&path, format!("{example}\n{waivers}")).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Runs `check` with `args` after the plugin folder and returns the exit code and the JSON report.
fn check_json(work: &Path, plugins: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let report = work.join("report.json");
    let mut all = vec![
        "check",
        "--plugins",
        plugins.to_str().unwrap(),
        "--format",
        "json",
        "--report",
        report.to_str().unwrap(),
    ];
    all.extend(args);
    let output = tenant_host(work, &all);
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no report ({e}); stderr:\n{}", stderr(&output)));
    (output.status.code(), serde_json::from_str(&text).unwrap())
}

fn findings_of<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

const ARCHIVE_RULE: &str = "storage.archive-tiers-unreachable";

/// Covers: `check` of the example fleet reports zero errors grouped by stack, exits 0 and writes
/// no stacks.
#[test]
fn check_of_the_example_has_no_errors_and_writes_nothing() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let output = tenant_host(
        work.path(),
        &["check", "--plugins", plugins.path().to_str().unwrap()],
    );
    assert_success(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("no policy errors: 0 errors"), "{text}");
    assert!(
        text.contains("tenant-acme-corp-dev\n  warning[storage.archive-tiers-unreachable] aws_s3_"),
        "grouped by stack: {text}"
    );
    // Nothing is written, so no finding points at a line of a file: the stale-file trap of
    // issue 8 (a line number into a folder another run wrote).
    assert!(
        !text.contains("cdk.tf.json"),
        "located in a file check never wrote: {text}"
    );
    assert!(
        text.contains("(stack file not written or out of date: run synth to see it, from storage)"),
        "{text}"
    );
    assert!(!text.contains("\x1b["), "no colours when not on a terminal");
    assert!(!work.path().join("cdktf.out").exists(), "check wrote stacks");
}

/// Covers: the JSON report's documented fields, every rule of host and plugins, and locations
/// that point at the resource's line in a `cdk.tf.json` only when that file holds exactly what
/// the run would write: none before `synth`, every one after it, none in a file changed since.
#[test]
fn json_report_lists_rules_findings_and_their_lines() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let (code, report) = check_json(work.path(), plugins.path(), &[]);
    assert_eq!(code, Some(0));
    assert_eq!(report["version"], 2);
    assert_eq!(report["passed"], true);
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(report["stacks"].as_array().unwrap().len(), 4);
    let rules: Vec<&str> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for rule in [
        "host.schema-valid",
        "host.foreign-tenant",
        "host.tags",
        "host.naming",
        "host.cidr-overlap",
        "host.quota-vpcs",
        "host.waiver-expired",
        "iam.no-foreign-tenant",
        "network.no-overlapping-cidrs",
    ] {
        assert!(rules.contains(&rule), "{rule} missing from {rules:?}");
    }
    let archive = findings_of(&report, ARCHIVE_RULE);
    assert_eq!(archive.len(), 3, "one per tenant: {archive:?}");
    assert!(
        archive.iter().all(|f| f["file"].is_null() && f["line"].is_null()),
        "nothing is written yet: {archive:?}"
    );
    assert_success(&tenant_host(
        work.path(),
        &["synth", "--plugins", plugins.path().to_str().unwrap()],
    ));
    let stale = work
        .path()
        .join("cdktf.out/stacks/tenant-retail-co-dev/cdk.tf.json");
    let (_, report) = check_json(work.path(), plugins.path(), &[]);
    for finding in findings_of(&report, ARCHIVE_RULE) {
        assert_eq!(finding["severity"], "warning");
        assert_eq!(finding["plugin"], "storage");
        assert!(finding["waived"].is_null());
        let file = work.path().join(finding["file"].as_str().unwrap());
        let text = std::fs::read_to_string(&file).unwrap();
        let line = text
            .lines()
            .nth(finding["line"].as_u64().unwrap() as usize - 1)
            .unwrap();
        let name = finding["address"].as_str().unwrap().rsplit('.').next().unwrap();
        assert_eq!(line, format!("      \"{name}\": {{"), "{}", file.display());
        assert_eq!(
            finding["stack"].as_str().unwrap(),
            format!("tenant-{}-dev", finding["tenant"].as_str().unwrap())
        );
    }
    let text = std::fs::read_to_string(&stale).unwrap();
    std::fs::write(&stale, format!("\n{text}")).unwrap();
    let (_, report) = check_json(work.path(), plugins.path(), &[]);
    for finding in findings_of(&report, ARCHIVE_RULE) {
        let located = !finding["file"].is_null() && !finding["line"].is_null();
        assert_eq!(
            located,
            finding["tenant"] != "retail-co",
            "only current files: {finding}"
        );
    }
}

/// Covers: waivers that match (the finding stays, marked waived with its reason), that match
/// nothing (a warning at the waiver's line) and that expired (an error: exit 2, nothing written
/// by synth), and a malformed waiver (a configuration problem at its value).
#[test]
fn waivers_match_warn_when_unused_and_fail_when_expired() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let config = example_with(
        work.path(),
        "waived.toml",
        "[[waivers]]\nrule = \"storage.archive-tiers-unreachable\"\ntenant = \"acme-corp\"\naddress = \"aws_s3_*.data\"\n\
         reason = \"acme-corp deletes data after 90 days by contract\"\nexpires = \"2999-12-31\"\n\
         [[waivers]]\nrule = \"network.no-public-ingress\"\nreason = \"no longer needed\"\nexpires = \"2999-12-31\"\n",
    );
    let (code, report) = check_json(work.path(), plugins.path(), &["--config", &config]);
    assert_eq!(code, Some(0), "{report:#}");
    let archive = findings_of(&report, ARCHIVE_RULE);
    let waived: Vec<&str> = archive
        .iter()
        .filter(|f| !f["waived"].is_null())
        .map(|f| f["tenant"].as_str().unwrap())
        .collect();
    assert_eq!(waived, ["acme-corp"], "{archive:?}");
    let acme = archive.iter().find(|f| f["tenant"] == "acme-corp").unwrap();
    assert_eq!(
        acme["waived"]["reason"],
        "acme-corp deletes data after 90 days by contract"
    );
    assert_eq!(acme["waived"]["expires"], "2999-12-31");
    let unused = findings_of(&report, "host.waiver-unused");
    assert_eq!(unused.len(), 1, "{unused:?}");
    assert!(
        unused[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("waiver 2 (rule `network.no-public-ingress`) matches no finding"),
        "{unused:?}"
    );
    assert_eq!(unused[0]["severity"], "warning");
    // It points at its own `[[waivers]]` table: the second one in the file.
    let text = std::fs::read_to_string(&config).unwrap();
    let second_waiver_line = text
        .lines()
        .enumerate()
        .filter(|(_, line)| *line == "[[waivers]]")
        .nth(1)
        .map(|(index, _)| index + 1)
        .unwrap();
    assert_eq!(unused[0]["address"], "waivers[1]");
    assert_eq!(unused[0]["file"], config.as_str());
    assert_eq!(unused[0]["line"], second_waiver_line, "{unused:?}");

    let expired = example_with(
        work.path(),
        "expired.toml",
        "[[waivers]]\nrule = \"storage.archive-tiers-unreachable\"\nreason = \"accepted in 1999\"\nexpires = \"2000-01-01\"\n",
    );
    let (code, report) = check_json(work.path(), plugins.path(), &["--config", &expired]);
    assert_eq!(code, Some(2), "an expired waiver is a policy error");
    assert_eq!(report["passed"], false);
    let errors = findings_of(&report, "host.waiver-expired");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        findings_of(&report, ARCHIVE_RULE)
            .iter()
            .all(|f| f["waived"].is_null()),
        "an expired waiver waives nothing"
    );
    let synth = synth_with_config(work.path(), plugins.path(), Path::new(&expired), &[]);
    assert_eq!(synth.status.code(), Some(2), "{}", stderr(&synth));
    assert!(!work.path().join("cdktf.out").exists());

    let malformed = example_with(
        work.path(),
        "malformed.toml",
        "[[waivers]]\nrule = \"storage.destroyable\"\nreason = \"\"\nexpires = \"soon\"\n",
    );
    let output = tenant_host(
        work.path(),
        &[
            "check",
            "--plugins",
            plugins.path().to_str().unwrap(),
            "--config",
            &malformed,
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let reason_line = std::fs::read_to_string(&malformed).unwrap().lines().count() - 1;
    for needle in [
        "waiver 1 (rule `storage.destroyable`)",
        "`reason` is empty",
        "`expires` \"soon\"",
        &format!("malformed.toml:{reason_line}:10"),
    ] {
        assert!(stderr(&output).contains(needle), "{needle}: {}", stderr(&output));
    }
}

/// Covers: the SARIF report (rules, levels, locations, a waived finding as an accepted
/// suppression, fleet findings) validates against the vendored official SARIF 2.1.0 schema.
#[test]
fn sarif_report_validates_against_the_official_schema() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let config = example_with(
        work.path(),
        "fleet.toml",
        "[quotas]\nvpcs-per-region = 2\n\
         [[waivers]]\nrule = \"storage.archive-tiers-unreachable\"\ntenant = \"retail-co\"\n\
         reason = \"retail-co keeps no archive\"\nexpires = \"2999-12-31\"\n",
    );
    let sarif_path = work.path().join("tenant-host.sarif");
    let output = tenant_host(
        work.path(),
        &[
            "check",
            "--plugins",
            plugins.path().to_str().unwrap(),
            "--config",
            &config,
            "--format",
            "sarif",
            "--report",
            sarif_path.to_str().unwrap(),
        ],
    );
    assert_success(&output);
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&sarif_path).unwrap()).unwrap();
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().unwrap();
    let quota = results
        .iter()
        .find(|r| r["ruleId"] == "host.quota-vpcs")
        .expect("3 tenant VPCs exceed a quota of 2");
    assert_eq!(quota["level"], "warning");
    assert!(
        quota["message"]["text"]
            .as_str()
            .unwrap()
            .contains("it breaks at 3 tenants"),
        "{quota}"
    );
    assert!(
        quota["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("fleet.toml")
    );
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressions"][0]["status"], "accepted");
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(run["tool"]["driver"]["rules"][index]["id"], result["ruleId"]);
    }
    let validator = workspace().join("tests/fixtures/sarif/validate.py");
    let validation = std::process::Command::new("python3")
        .arg(&validator)
        .arg(&sarif_path)
        .output()
        .expect("run python3 (install the Python tools with `just setup-test`)");
    assert!(
        validation.status.success(),
        "the SARIF report does not validate (is `jsonschema` installed? `just setup-test`):\n{}",
        stderr(&validation)
    );
}

/// Covers: a plugin cannot suppress or alter another plugin's findings — adding a plugin that
/// reports findings of its own leaves every other plugin's findings exactly as they were.
#[test]
fn a_plugin_cannot_suppress_or_alter_another_plugins_findings() {
    let product = product_plugin_dir();
    let mut named: Vec<(&str, String)> = PRODUCT_PLUGINS
        .iter()
        .map(|p| (*p, format!("{p}.wasm")))
        .collect();
    named.push(("rogue", "rogue.wasm".into()));
    let with_rogue = plugin_dir(&named);
    let work = tempfile::tempdir().unwrap();
    let (_, alone) = check_json(work.path(), product.path(), &[]);
    let (_, beside) = check_json(work.path(), with_rogue.path(), &[]);
    // Lines move when the rogue plugin adds outputs; everything else must stay as it was.
    let others = |report: &Value| -> Vec<Value> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["plugin"] != "rogue")
            .map(|f| {
                let mut f = f.clone();
                f["line"] = Value::Null;
                f
            })
            .collect()
    };
    assert!(!others(&alone).is_empty());
    assert_eq!(others(&alone), others(&beside));
    assert_eq!(findings_of(&beside, "rogue.always").len(), 4, "one per stack");
}

/// Covers: `plugins list` names every plugin with its versions (the bundled ones are on contract
/// 0.2); `plugins inspect` shows provides, requires, settings with defaults, and rules with
/// severities, as text or JSON.
#[test]
fn plugins_list_and_inspect_describe_plugins() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let output = tenant_host(
        work.path(),
        &["plugins", "list", "--plugins", plugins.path().to_str().unwrap()],
    );
    assert_success(&output);
    let list = String::from_utf8_lossy(&output.stdout);
    for plugin in PRODUCT_PLUGINS {
        assert!(
            list.contains(&format!("{plugin} 0.1.0 (contract 0.2.0)")),
            "{plugin}: {list}"
        );
    }
    let network = plugins.path().join("network.wasm");
    let output = tenant_host(work.path(), &["plugins", "inspect", network.to_str().unwrap()]);
    assert_success(&output);
    let text = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "network 0.1.0 (contract 0.2.0)",
        "provides:\n",
        "requires:\n",
        "settings:\n  ",
        "rules:\n",
        "error   network.no-public-ingress: ",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    let output = tenant_host(
        work.path(),
        &["plugins", "inspect", network.to_str().unwrap(), "--json"],
    );
    assert_success(&output);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["name"], "network");
    assert_eq!(json["contract-version"], "0.2.0");
    assert!(
        json["settings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !s["default"].is_null())
    );
    assert!(
        json["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "network.no-overlapping-cidrs")
    );
    let missing = tenant_host(work.path(), &["plugins", "inspect", "nope.wasm"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("nope.wasm"), "{}", stderr(&missing));
}
