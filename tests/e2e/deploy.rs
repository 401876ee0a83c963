//! Incremental synthesis and `deploy`, end to end. `terraform` is never run: a recording
//! stand-in (a shell script named `terraform`, first on PATH) appends its arguments and working
//! folder to a file and fails on request, since no provider can be downloaded here.

use crate::registry::{command, example_config};
use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The recording stand-in for terraform: one line per call, `<cwd>\t<args>`; exits 1 when its
/// arguments contain `$TERRAFORM_FAIL` (a stack name) and `apply`.
pub const STAND_IN: &str = r#"#!/bin/sh
printf '%s\t%s\n' "$PWD" "$*" >> "$TERRAFORM_RECORD"
case "$*" in
  *"${TERRAFORM_FAIL:-no stack fails}"*apply*) echo "stand-in: failing $* on request" >&2; exit 1 ;;
esac
echo "stand-in: $*"
"#;

/// A folder with the stand-in, and the file it records into.
pub struct StandIn {
    folder: tempfile::TempDir,
    /// The record.
    pub record: PathBuf,
}

impl StandIn {
    pub fn new() -> Self {
        let folder = tempfile::tempdir().unwrap();
        let script = folder.path().join("terraform");
        std::fs::write(&script, STAND_IN).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let record = folder.path().join("record.txt");
        Self { folder, record }
    }

    /// PATH with the stand-in first, and where it records.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let path = std::env::var("PATH").unwrap_or_default();
        vec![
            ("PATH", format!("{}:{path}", self.folder.path().display())),
            ("TERRAFORM_RECORD", self.record.display().to_string()),
        ]
    }

    /// The recorded calls as (stack folder name, terraform command), and forgets them.
    pub fn take(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(&self.record).unwrap_or_default();
        let _ = std::fs::remove_file(&self.record);
        text.lines()
            .map(|line| {
                let (_cwd, args) = line.split_once('\t').unwrap();
                let (chdir, rest) = args.split_once(' ').unwrap();
                let stack = Path::new(chdir.trim_start_matches("-chdir="))
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (stack, rest.to_owned())
            })
            .collect()
    }
}

fn digests(out: &Path) -> BTreeMap<String, String> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    manifest["stacks"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, entry)| (name.clone(), entry["digest"].as_str().unwrap().to_owned()))
        .collect()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Gives the last configured tenant (`retail-co` in the example) a compute setting.
fn change_retail_co(config: &Path) {
    let mut text = std::fs::read_to_string(config).unwrap();
    text.push_str("\n[tenants.settings.compute]\nmemory-mb = 512\n");
    std::fs::write(config, text).unwrap();
}

/// Covers: every stack's digest is in the manifest; changing one tenant's settings changes only
/// that stack's digest; `synth --changed` rewrites only that stack, lists it, and leaves every
/// other file byte-identical; with nothing changed it writes nothing new.
#[test]
fn changing_one_tenants_settings_changes_only_its_digest() {
    let work = tempfile::tempdir().unwrap();
    let plugins = product_plugin_dir();
    let config = example_config(work.path());
    let synth = |extra: &[&str]| synth_with_config(work.path(), plugins.path(), &config, extra);
    let out = work.path().join("cdktf.out");
    assert_success(&synth(&[]));
    let before = digests(&out);
    assert_eq!(before.len(), 4);
    let tree = read_tree(&out);

    let unchanged = synth(&["--changed"]);
    assert_success(&unchanged);
    assert!(
        stdout(&unchanged).contains("no stack changed"),
        "{}",
        stdout(&unchanged)
    );
    assert!(tree == read_tree(&out), "an unchanged fleet rewrote files");

    change_retail_co(&config);
    let changed = synth(&["--changed"]);
    assert_success(&changed);
    assert!(
        stdout(&changed).contains("1 stacks changed: tenant-retail-co-dev"),
        "{}",
        stdout(&changed)
    );
    let after = digests(&out);
    for (stack, digest) in &before {
        assert_eq!(
            after[stack] != *digest,
            stack == "tenant-retail-co-dev",
            "{stack}: only the changed tenant's digest moves"
        );
    }
    let retail = "stacks/tenant-retail-co-dev/cdk.tf.json";
    let new_tree = read_tree(&out);
    for (path, bytes) in &tree {
        if path == "manifest.json" || path == retail {
            continue;
        }
        assert!(new_tree.get(path) == Some(bytes), "{path} changed");
    }
    let document: Value = serde_json::from_slice(&new_tree[retail]).unwrap();
    let functions = document["resource"]["aws_lambda_function"].as_object().unwrap();
    assert!(
        functions.values().all(|f| f["memory_size"] == 512),
        "the setting reached the stack"
    );
}

/// Covers: `deploy` applies the central stack before any tenant stack, records every finished
/// stack; `plan-rollout` and `deploy --changed` then cover only changed stacks; a failed apply
/// stops the deploy and a second run resumes it; a removed tenant's stack is destroyed last.
#[test]
fn deploy_applies_in_order_resumes_and_destroys_removed_stacks() {
    let work = tempfile::tempdir().unwrap();
    let plugins = product_plugin_dir();
    let config = example_config(work.path());
    let stand_in = StandIn::new();
    let env = stand_in.env();
    let run = |args: &[&str], extra_env: &[(&'static str, String)]| {
        let mut all = env.clone();
        all.extend_from_slice(extra_env);
        command(work.path(), &all, args).output().unwrap()
    };
    let synth = |extra: &[&str]| synth_with_config(work.path(), plugins.path(), &config, extra);
    assert_success(&synth(&[]));

    let plan = run(&["plan-rollout", "--format", "json"], &[]);
    assert_success(&plan);
    let steps: Value = serde_json::from_slice(&plan.stdout).unwrap();
    let planned: Vec<(&str, &str, u64)> = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap(),
                s["action"].as_str().unwrap(),
                s["wave"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        planned,
        [
            ("central-dev", "apply", 0),
            ("tenant-acme-corp-dev", "apply", 1),
            ("tenant-retail-co-dev", "apply", 1),
            ("tenant-tech-startup-dev", "apply", 1)
        ]
    );

    // A first deploy in which one tenant's apply fails: the others finish, the deploy fails.
    let failing = run(
        &["deploy", "--parallelism", "2"],
        &[("TERRAFORM_FAIL", "tenant-tech-startup-dev".into())],
    );
    assert_eq!(failing.status.code(), Some(1), "{}", stderr(&failing));
    assert!(
        stderr(&failing).contains("stack `tenant-tech-startup-dev`: terraform apply"),
        "{}",
        stderr(&failing)
    );
    let calls = stand_in.take();
    let central_apply = calls
        .iter()
        .position(|c| *c == ("central-dev".into(), "apply -auto-approve -input=false".into()));
    let first_tenant = calls.iter().position(|(stack, _)| stack.starts_with("tenant-"));
    assert!(
        central_apply.unwrap() < first_tenant.unwrap(),
        "central first: {calls:?}"
    );
    assert_eq!(calls.len(), 8, "init and apply of four stacks: {calls:?}");

    let resumed = run(&["deploy"], &[]);
    assert_success(&resumed);
    assert_eq!(
        stand_in.take(),
        [
            (
                "tenant-tech-startup-dev".to_owned(),
                "init -input=false".to_owned()
            ),
            (
                "tenant-tech-startup-dev".to_owned(),
                "apply -auto-approve -input=false".to_owned()
            )
        ],
        "the resumed deploy runs only what had not finished"
    );
    let nothing = run(&["deploy", "--changed"], &[]);
    assert_success(&nothing);
    assert!(stdout(&nothing).contains("nothing to deploy"));
    assert!(stand_in.take().is_empty());

    change_retail_co(&config);
    assert_success(&synth(&["--changed"]));
    let plan = run(&["plan-rollout"], &[]);
    assert_eq!(stdout(&plan), "1\tapply\ttenant-retail-co-dev\tcanary\n");
    assert_success(&run(&["deploy", "--changed"], &[]));
    let calls = stand_in.take();
    assert!(
        calls.iter().all(|(stack, _)| stack == "tenant-retail-co-dev"),
        "{calls:?}"
    );
    assert_eq!(calls.len(), 2);

    let p = plugins.path().to_str().unwrap();
    let c = config.to_str().unwrap();
    assert_success(&tenant_host(
        work.path(),
        &["tenants", "remove", "tech-startup", "--plugins", p, "--config", c],
    ));
    assert_success(&synth(&[]));
    let plan = run(&["plan-rollout"], &[]);
    // The central stack's inputs include the fleet, so it is applied again first; the removed
    // tenant's stack is destroyed last.
    assert_eq!(
        stdout(&plan),
        "0\tapply\tcentral-dev\n2\tdestroy\ttenant-tech-startup-dev\n"
    );
    let destroyed = run(&["deploy", "--changed"], &[]);
    assert_success(&destroyed);
    assert!(stdout(&destroyed).contains("destroyed `tenant-tech-startup-dev`"));
    assert_eq!(
        stand_in.take(),
        [
            ("central-dev".to_owned(), "init -input=false".to_owned()),
            (
                "central-dev".to_owned(),
                "apply -auto-approve -input=false".to_owned()
            ),
            (
                "tenant-tech-startup-dev".to_owned(),
                "init -input=false".to_owned()
            ),
            (
                "tenant-tech-startup-dev".to_owned(),
                "destroy -auto-approve -input=false".to_owned()
            )
        ]
    );
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(work.path().join("cdktf.out/deploy-state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["interrupted"], Value::Null);
    let applied: Vec<&String> = state["applied"].as_object().unwrap().keys().collect();
    assert_eq!(
        applied,
        ["central-dev", "tenant-acme-corp-dev", "tenant-retail-co-dev"]
    );
}

/// Covers: every Step Functions state machine of the example's central stack (the provisioning
/// workflow and the fleet rollout with its Distributed Maps) passes `statelint`, the Amazon States
/// Language validator from requirements-dev.txt; and a broken definition fails it, so the check
/// can fail.
#[test]
fn every_state_machine_passes_the_asl_validator() {
    let work = tempfile::tempdir().unwrap();
    let plugins = product_plugin_dir();
    assert_success(&tenant_host(
        work.path(),
        &["synth", "--plugins", plugins.path().to_str().unwrap()],
    ));
    let central: Value = serde_json::from_slice(
        &std::fs::read(work.path().join("cdktf.out/stacks/central-dev/cdk.tf.json")).unwrap(),
    )
    .unwrap();
    let machines = central["resource"]["aws_sfn_state_machine"].as_object().unwrap();
    assert!(
        machines.contains_key("rollout") && machines.contains_key("provisioning"),
        "{:?}",
        machines.keys()
    );
    let rollout: Value = serde_json::from_str(machines["rollout"]["definition"].as_str().unwrap()).unwrap();
    for phase in ["Canary", "Percentage", "Rest"] {
        assert_eq!(
            rollout["States"][phase]["ItemProcessor"]["ProcessorConfig"]["Mode"],
            "DISTRIBUTED"
        );
    }
    let statelint = |name: &str, definition: &str| {
        let file = work.path().join(format!("{name}.asl.json"));
        std::fs::write(&file, definition).unwrap();
        std::process::Command::new("statelint")
            .arg(&file)
            .output()
            .expect("run statelint: install the test tools with `./dev setup` (requirements-dev.txt)")
    };
    for (name, machine) in machines {
        let output = statelint(name, machine["definition"].as_str().unwrap());
        assert!(
            output.status.success(),
            "{name}: {}{}",
            stdout(&output),
            stderr(&output)
        );
    }
    let mut broken = rollout.clone();
    broken["States"]["Canary"]["Next"] = "NoSuchState".into();
    assert!(
        !statelint("broken", &broken.to_string()).status.success(),
        "statelint accepts a broken definition"
    );
}
