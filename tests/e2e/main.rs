//! End-to-end tests: build the plugin components, run the real `tenant-host` binary, and check
//! what it writes. Golden files live in `tests/golden/`; refresh them with
//! `BLESS=1 cargo test -p tenant-host --test e2e` and review the diff.

mod config;
mod deploy;
mod hostile;
mod perf;
mod policy;
mod registry;
mod requirements;
mod support;
mod template;

use serde_json::Value;
use std::net::TcpListener;
use support::*;
use tenant_host::schema::{BlockKind, ProviderSchema, undeclared_references};
use tenant_plugin_sdk::testing::assert_golden_json;

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read JSON file")).expect("valid JSON")
}

/// Covers: the README's synth of the example fleet writes a cdktf folder whose manifest, stacks
/// and assets equal the reviewed golden files.
#[test]
fn example_synth_matches_the_golden_folder() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let output = tenant_host(
        work.path(),
        &["synth", "--plugins", plugins.path().to_str().unwrap()],
    );
    assert_success(&output);
    let out = work.path().join("cdktf.out");
    let golden = workspace().join("tests/golden/example");
    let mut manifest = read_json(&out.join("manifest.json"));
    // A digest covers the plugin components' bytes, which change with every plugin edit; the
    // digests are covered by the incremental-synthesis tests, the rest of the manifest here.
    for entry in manifest["stacks"].as_object_mut().unwrap().values_mut() {
        let digest = entry.as_object_mut().unwrap().remove("digest");
        assert!(
            digest
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|d| d.len() == 64),
            "every stack has a SHA-256 digest: {digest:?}"
        );
    }
    assert_golden_json(golden.join("manifest.json"), &manifest);
    let stacks: Vec<&String> = manifest["stacks"].as_object().unwrap().keys().collect();
    assert_eq!(
        stacks,
        [
            "central-dev",
            "tenant-acme-corp-dev",
            "tenant-retail-co-dev",
            "tenant-tech-startup-dev"
        ]
    );
    for stack in &stacks {
        let entry = &manifest["stacks"][stack.as_str()];
        let expected_dependencies: Vec<Value> = if stack.starts_with("tenant-") {
            vec!["central-dev".into()]
        } else {
            vec![]
        };
        assert_eq!(
            entry["dependencies"].as_array().unwrap(),
            &expected_dependencies,
            "{stack}"
        );
        let document = read_json(&out.join(entry["synthesizedStackPath"].as_str().unwrap()));
        assert_golden_json(golden.join(format!("stacks/{stack}/cdk.tf.json")), &document);
    }
    let assets: serde_json::Map<String, Value> = read_tree(&out)
        .into_iter()
        .filter(|(path, _)| path.contains("/assets/"))
        .map(|(path, bytes)| {
            (
                path,
                Value::String(tenant_plugin_sdk::package::sha256_hex(&bytes)),
            )
        })
        .collect();
    assert_golden_json(golden.join("assets.json"), &Value::Object(assets));
}

/// Covers: each tenant VPC gets its allocated block, the tenant stacks carry the three tags as
/// provider default tags, and each stack has its own S3 backend key.
#[test]
fn tenant_stacks_get_their_blocks_tags_and_backends() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    assert_success(&tenant_host(
        work.path(),
        &[
            "synth",
            "--plugins",
            plugins.path().to_str().unwrap(),
            "--environment-suffix",
            "pr7",
        ],
    ));
    for (tenant, cidr) in [
        ("acme-corp", "10.0.0.0/16"),
        ("tech-startup", "10.1.0.0/16"),
        ("retail-co", "10.2.0.0/16"),
    ] {
        let stack = format!("tenant-{tenant}-pr7");
        let doc = read_json(&work.path().join(format!("cdktf.out/stacks/{stack}/cdk.tf.json")));
        let vpcs = doc["resource"]["aws_vpc"].as_object().expect("a VPC per tenant");
        assert_eq!(vpcs.len(), 1, "{stack}");
        let vpc = vpcs.values().next().unwrap();
        assert_eq!(vpc["cidr_block"], cidr, "{stack}");
        assert_eq!(vpc["tags"]["Name"], format!("tenant-{tenant}-vpc-pr7"));
        let tags = &doc["provider"]["aws"][0]["default_tags"][0]["tags"];
        assert_eq!(tags["TenantId"], tenant);
        assert_eq!(tags["Environment"], "pr7");
        assert_eq!(tags["ManagedBy"], "CDKTF");
        assert_eq!(
            doc["terraform"]["backend"]["s3"]["key"],
            format!("pr7/{stack}.tfstate")
        );
        assert!(
            doc["terraform"]["required_providers"]["aws"]["version"]
                .as_str()
                .unwrap()
                .contains("6.25.0")
        );
    }
}

/// Covers: every resource and data source of the example validates against the embedded AWS
/// provider schema, and every reference resolves inside its own stack.
#[test]
fn example_output_is_schema_valid() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    assert_success(&tenant_host(
        work.path(),
        &["synth", "--plugins", plugins.path().to_str().unwrap()],
    ));
    let schema = ProviderSchema::embedded().unwrap();
    let mut problems = Vec::new();
    let mut resources = 0;
    for (path, bytes) in read_tree(&work.path().join("cdktf.out")) {
        if !path.ends_with("cdk.tf.json") {
            continue;
        }
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        for (section, kind) in [("resource", BlockKind::Resource), ("data", BlockKind::Data)] {
            for (type_name, blocks) in doc[section].as_object().into_iter().flatten() {
                for (name, body) in blocks.as_object().unwrap() {
                    resources += 1;
                    problems.extend(
                        schema
                            .validate(kind, type_name, body)
                            .into_iter()
                            .map(|p| format!("{path}: {type_name}.{name}: {p}")),
                    );
                }
            }
        }
        problems.extend(
            undeclared_references(&doc)
                .into_iter()
                .map(|r| format!("{path}: undeclared {r}")),
        );
    }
    assert!(
        resources > 50,
        "the example should be substantial, found {resources} blocks"
    );
    assert!(problems.is_empty(), "schema problems:\n{}", problems.join("\n"));
}

/// Covers: the same inputs give byte-identical output, whatever the plugin files are called and
/// in whatever order the folder lists them.
#[test]
fn output_is_deterministic_and_independent_of_plugin_file_order() {
    let forward: Vec<(&str, String)> = PRODUCT_PLUGINS
        .iter()
        .enumerate()
        .map(|(i, p)| (*p, format!("{i}-{p}.wasm")))
        .collect();
    let reverse: Vec<(&str, String)> = PRODUCT_PLUGINS
        .iter()
        .rev()
        .enumerate()
        .map(|(i, p)| (*p, format!("{i}-{p}.wasm")))
        .collect();
    let first = plugin_dir(&forward);
    let second = plugin_dir(&reverse);
    let work = tempfile::tempdir().unwrap();
    assert_success(&tenant_host(
        work.path(),
        &[
            "synth",
            "--plugins",
            first.path().to_str().unwrap(),
            "--out",
            "one",
        ],
    ));
    assert_success(&tenant_host(
        work.path(),
        &[
            "synth",
            "--plugins",
            second.path().to_str().unwrap(),
            "--out",
            "two",
        ],
    ));
    assert_success(&tenant_host(
        work.path(),
        &[
            "synth",
            "--plugins",
            first.path().to_str().unwrap(),
            "--out",
            "three",
        ],
    ));
    let one = read_tree(&work.path().join("one"));
    assert!(one.len() > 4, "expected manifest, stacks and assets");
    assert!(
        one == read_tree(&work.path().join("two")),
        "plugin file order changed the output"
    );
    assert!(
        one == read_tree(&work.path().join("three")),
        "a second run changed the output"
    );
}

/// Covers: a failed run leaves the previous output untouched and no staging folder behind.
#[test]
fn a_failed_run_leaves_the_previous_output_untouched() {
    let work = tempfile::tempdir().unwrap();
    let good = product_plugin_dir();
    assert_success(&tenant_host(
        work.path(),
        &["synth", "--plugins", good.path().to_str().unwrap()],
    ));
    let before = read_tree(&work.path().join("cdktf.out"));
    let mut with_rogue: Vec<(&str, String)> = PRODUCT_PLUGINS
        .iter()
        .map(|p| (*p, format!("{p}.wasm")))
        .collect();
    with_rogue.push(("rogue", "rogue.wasm".into()));
    let failing = plugin_dir(&with_rogue);
    let config = rogue_config(work.path(), "error", 0);
    let output = synth_with_config(work.path(), failing.path(), &config, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("plugin `rogue` failed in `synthesize-tenant` for stack `tenant-acme-corp-dev`"),
        "{}",
        stderr(&output)
    );
    assert!(
        before == read_tree(&work.path().join("cdktf.out")),
        "the failed run changed the previous output"
    );
    let leftovers: Vec<String> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".tenant-host"))
        .collect();
    assert!(leftovers.is_empty(), "staging folders left behind: {leftovers:?}");
}

/// Covers: a plugin cannot read files or list folders, see environment variables or arguments,
/// open a socket (even to a listener on loopback), or read the real clock.
#[test]
fn plugins_have_no_ambient_authority() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let plugins = plugin_dir(&[("rogue", "rogue.wasm")]);
    let work = tempfile::tempdir().unwrap();
    let config = rogue_config(work.path(), "probe", port);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tenant-host"))
        .current_dir(work.path())
        .args([
            "synth",
            "--plugins",
            plugins.path().to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .env("TENANT_HOST_SECRET", "must-not-leak")
        .output()
        .unwrap();
    assert_success(&output);
    let doc = read_json(
        &work
            .path()
            .join("cdktf.out/stacks/tenant-acme-corp-dev/cdk.tf.json"),
    );
    let probes = doc["output"].as_object().unwrap();
    for name in [
        "probe_file",
        "probe_dir",
        "probe_env",
        "probe_args",
        "probe_socket",
    ] {
        let result = probes[name]["value"].as_str().unwrap();
        assert!(result.starts_with("denied"), "{name}: {result}");
    }
    assert_eq!(probes["probe_clock"]["value"], "fixed: 0");
    assert!(
        listener.accept().is_err(),
        "the plugin reached the loopback listener"
    );
}

/// Covers: every kind of misbehaviour becomes one message naming plugin, stack and function,
/// with exit code 1 and no panic of the host.
#[test]
fn misbehaving_plugins_are_contained_and_named() {
    let plugins = plugin_dir(&[("rogue", "rogue.wasm")]);
    let work = tempfile::tempdir().unwrap();
    let cases = [
        (
            "loop",
            "did not return within 1s",
            "an endless loop hits the time bound",
        ),
        (
            "sleep",
            "plugins may not wait on a clock",
            "a wait, which blocks in the host beyond the epoch deadline's reach, traps",
        ),
        (
            "alloc",
            "exceeded the memory limit of 64 MiB",
            "a memory hog hits the memory cap",
        ),
        (
            "panic",
            "rogue plugin panicked on purpose",
            "a panic is reported with the plugin's own message",
        ),
        (
            "huge-output",
            "more than the limit of 1048576 bytes",
            "an oversized result hits the output cap",
        ),
        (
            "error",
            "returned an error: invalid settings: rogue refuses on purpose",
            "a typed error is passed on",
        ),
    ];
    for (behaviour, expected, reason) in cases {
        let config = rogue_config(work.path(), behaviour, 0);
        let limits = [
            "--plugin-timeout",
            "1",
            "--plugin-memory",
            "64",
            "--plugin-output",
            "1",
        ];
        let output = synth_with_config(work.path(), plugins.path(), &config, &limits);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{reason}: {text}");
        assert!(
            text.contains("plugin `rogue` failed in `synthesize-tenant` for stack `tenant-acme-corp-dev`"),
            "{reason}: {text}"
        );
        assert!(text.contains(expected), "{reason}: {text}");
        assert!(
            !text.contains("panicked at host"),
            "{reason}: the host panicked: {text}"
        );
    }
}

/// Covers: output that breaks the provider schema fails the run with exit code 2, blamed on the
/// plugin that emitted it, and nothing is written.
#[test]
fn schema_violations_fail_the_run_and_blame_the_plugin() {
    let plugins = plugin_dir(&[("rogue", "rogue.wasm")]);
    let work = tempfile::tempdir().unwrap();
    let config = rogue_config(work.path(), "bad-schema", 0);
    let output = synth_with_config(work.path(), plugins.path(), &config, &[]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("error[host.schema-valid] tenant-acme-corp-dev: aws_vpc.rogue"),
        "{text}"
    );
    assert!(text.contains("enable_dns_magic"), "{text}");
    assert!(!work.path().join("cdktf.out").exists());
}

/// Covers: the loader refuses what is not a compatible plugin, naming the file and the reason.
#[test]
fn the_loader_refuses_what_is_not_a_compatible_plugin() {
    let work = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, &str); 3] = [
        (
            "future.wasm",
            std::fs::read(component("future-contract")).unwrap(),
            "was built for contract tenant:plugin@0.3.0, but this host speaks tenant:plugin@0.1.0 and @0.2.0",
        ),
        (
            "core.wasm",
            b"\0asm\x01\0\0\0".to_vec(),
            "is a core WebAssembly module, not a component",
        ),
        ("notes.wasm", b"hello".to_vec(), "is not a WebAssembly file"),
    ];
    for (file, bytes, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(file), bytes).unwrap();
        let output = tenant_host(work.path(), &["synth", "--plugins", dir.path().to_str().unwrap()]);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{file}: {text}");
        assert!(text.contains(file) && text.contains(expected), "{file}: {text}");
    }
    let empty = tempfile::tempdir().unwrap();
    let output = tenant_host(
        work.path(),
        &["synth", "--plugins", empty.path().to_str().unwrap()],
    );
    assert!(
        stderr(&output).contains("no plugins (*.wasm files)"),
        "{}",
        stderr(&output)
    );
}

/// Covers: `--out` naming a folder that is not a tenant-host output (or whose manifest cannot be
/// read) is refused, and nothing in it is touched.
#[test]
fn a_folder_that_is_not_a_tenant_host_output_is_not_replaced() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let project = work.path().join("project");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(project.join("src/main.rs"), "fn main() {}\n").unwrap();
    let before = read_tree(&project);
    let output = tenant_host(
        work.path(),
        &[
            "synth",
            "--plugins",
            plugins.path().to_str().unwrap(),
            "--out",
            "project",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("not a tenant-host output"),
        "{}",
        stderr(&output)
    );
    assert!(before == read_tree(&project), "the folder was changed");

    let args = ["synth", "--plugins", plugins.path().to_str().unwrap()];
    assert_success(&tenant_host(work.path(), &args));
    std::fs::write(work.path().join("cdktf.out/manifest.json"), "{ truncated").unwrap();
    let before = read_tree(&work.path().join("cdktf.out"));
    let output = tenant_host(work.path(), &args);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("is not a manifest tenant-host can read"),
        "{}",
        stderr(&output)
    );
    assert!(
        before == read_tree(&work.path().join("cdktf.out")),
        "the output was changed"
    );
}

/// Covers: a usage error exits 1 (failure), not clap's 2, which means policy errors here; help
/// and version print to standard output and exit 0.
#[test]
fn usage_errors_fail_with_1_and_help_succeeds() {
    let work = tempfile::tempdir().unwrap();
    let output = tenant_host(work.path(), &["synth"]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("--plugins"), "{text}");
    let output = tenant_host(work.path(), &["no-such-command"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    for flag in ["--help", "--version"] {
        let output = tenant_host(work.path(), &[flag]);
        assert_eq!(output.status.code(), Some(0), "{flag}: {}", stderr(&output));
        assert!(!output.stdout.is_empty(), "{flag} prints to standard output");
    }
    let help = tenant_host(work.path(), &["--help"]);
    assert!(
        String::from_utf8_lossy(&help.stdout).contains("1 failure (usage,"),
        "the long help documents that usage errors exit 1"
    );
}

/// Covers: plugin limits that would overflow, panic or be finer than the 10 ms epoch tick are
/// refused before any plugin loads, with exit 1 and a message naming the flag.
#[test]
fn out_of_range_plugin_limits_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let plugins = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 8] = [
        ("--plugin-timeout", "1e20", "--plugin-timeout"),
        ("--plugin-timeout", "1e12", "at most"),
        ("--plugin-timeout", "0.001", "10 ms"),
        ("--plugin-timeout", "0", "--plugin-timeout"),
        ("--plugin-timeout", "NaN", "--plugin-timeout"),
        ("--plugin-memory", "0", "--plugin-memory"),
        ("--plugin-memory", "18446744073709551615", "--plugin-memory"),
        ("--plugin-output", "17592186044416", "--plugin-output"),
    ];
    for (flag, value, expected) in cases {
        let output = tenant_host(
            work.path(),
            &[
                "check",
                "--plugins",
                plugins.path().to_str().unwrap(),
                flag,
                value,
            ],
        );
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{flag} {value}: {text}");
        assert!(
            text.contains(flag) && text.contains(expected),
            "{flag} {value}: {text}"
        );
        assert!(!text.contains("panicked"), "{flag} {value}: {text}");
    }
}

/// Covers: what `terraform init` leaves in a stack folder (the provider lock and `.terraform/`)
/// survives a new synth, so `terraform -chdir=<stack>` keeps working with the same providers.
#[test]
fn terraform_working_files_survive_a_new_synth() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let args = ["synth", "--plugins", plugins.path().to_str().unwrap()];
    assert_success(&tenant_host(work.path(), &args));
    let stack = work.path().join("cdktf.out/stacks/tenant-acme-corp-dev");
    std::fs::write(stack.join(".terraform.lock.hcl"), "# provider lock\n").unwrap();
    std::fs::create_dir_all(stack.join(".terraform/providers")).unwrap();
    std::fs::write(stack.join(".terraform/providers/marker"), "cached").unwrap();
    assert_success(&tenant_host(work.path(), &args));
    assert_eq!(
        std::fs::read_to_string(stack.join(".terraform.lock.hcl")).unwrap(),
        "# provider lock\n"
    );
    assert_eq!(
        std::fs::read_to_string(stack.join(".terraform/providers/marker")).unwrap(),
        "cached"
    );
    assert!(stack.join("cdk.tf.json").is_file());
}

/// Covers issue 9 item 6: a third plugin that gives a tenant-tagged role without a boundary read
/// access to every log group passes every pattern rule, but the access model refuses it, naming
/// the role and another tenant's log group.
#[test]
fn a_role_reading_every_tenants_logs_fails_check() {
    let work = tempfile::tempdir().unwrap();
    let mut with_rogue: Vec<(&str, String)> = PRODUCT_PLUGINS
        .iter()
        .map(|p| (*p, format!("{p}.wasm")))
        .collect();
    with_rogue.push(("rogue", "rogue.wasm".into()));
    let plugins = plugin_dir(&with_rogue);
    let config = work.path().join("greedy.toml");
    std::fs::write(
        &config,
        "region = \"us-east-1\"\n[state-backend]\nbucket = \"tenant-host-state\"\nregion = \"us-east-1\"\n\
         [plugins.rogue]\nbehaviour = \"greedy-logs\"\n[[tenants]]\nid = \"acme-corp\"\n[[tenants]]\nid = \"retail-co\"\n",
    )
    .unwrap();
    let output = tenant_host(
        work.path(),
        &[
            "check",
            "--plugins",
            plugins.path().to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{text}{}", stderr(&output));
    assert!(
        text.lines()
            .any(|line| line.contains("error[host.cross-tenant-access] aws_iam_role.greedy")),
        "{text}"
    );
    assert!(
        text.contains("`tenant-acme-corp-dev:aws_iam_role.greedy` is not proven denied on another tenant's `tenant-retail-co-dev:aws_cloudwatch_log_group.api`"),
        "{text}"
    );
}

/// Covers issue 9's access intents through the loaded components: on the example, `access`
/// exits 0 with every intent holding; each bundled plugin owning access-governed resources
/// declares intents under its own name, and the host adds only the deployer's (its derived
/// intents repeat no claim a plugin declared).
#[test]
fn the_example_access_intents_are_declared_by_their_plugins_and_hold() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let output = tenant_host(
        work.path(),
        &[
            "access",
            "--plugins",
            plugins.path().to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_success(&output);
    let report: Value = serde_json::from_slice(&output.stdout).expect("access JSON");
    let intents = report["intents"].as_array().expect("intents");
    let failing: Vec<&Value> = intents.iter().filter(|i| i["holds"] != true).collect();
    assert!(failing.is_empty(), "{failing:#?}");
    let by_plugin = |plugin: &str| intents.iter().filter(|i| i["plugin"] == plugin).count();
    for plugin in ["compute", "storage", "crypto", "iam", "logging", "events"] {
        assert!(by_plugin(plugin) >= 3, "{plugin} declares {}", by_plugin(plugin));
    }
    let declared = intents.iter().filter(|i| i["plugin"] != "host").count();
    assert!(declared >= 20, "{declared}");
    assert!(
        intents
            .iter()
            .filter(|i| i["plugin"] == "host")
            .all(|i| i["principal"] == "deployer"),
        "no derived intent repeats a declared claim"
    );
}
