//! The configuration as a safe input: the corpus of bad configurations in `tests/config/`, each
//! with its exact diagnostics as a snapshot in `tests/config/snapshots/` (refresh with
//! `INSTA_UPDATE=always cargo test -p tenant-host --test e2e config::` and review the diff), the
//! lock file across runs, orphaned stacks, and `--tenant`.

use crate::support::*;
use std::path::{Path, PathBuf};
use tenant_host::config::ConfigFile;
use tenant_host::declarations::{NamePattern, PluginDeclaration, SettingSchema, SettingType, StackKind};
use tenant_host::diagnostics::Source;
use tenant_host::lock::Lock;
use tenant_host::tenants::{NoCrossChecks, PlanOptions, plan_fleet};

/// The declarations in `tests/config/plugins.json` (always) and the third-party ones named in
/// `with`, built natively: the configuration pass needs no WebAssembly.
fn corpus_declarations(with: &[String]) -> Vec<PluginDeclaration> {
    let text = std::fs::read_to_string(workspace().join("tests/config/plugins.json")).unwrap();
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    let third_party = fixture["third-party"].as_array().unwrap().iter();
    let chosen = third_party.filter(|p| with.iter().any(|w| p["name"] == w.as_str()));
    let all: Vec<&serde_json::Value> = fixture["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .chain(chosen)
        .collect();
    assert_eq!(
        all.len(),
        fixture["plugins"].as_array().unwrap().len() + with.len(),
        "unknown with= plugin"
    );
    all.into_iter()
        .map(|plugin| {
            let name = plugin["name"].as_str().unwrap();
            let settings = plugin["settings"].as_array().unwrap().iter().map(|s| {
                let kind = match s["type"].as_str().unwrap() {
                    "string" => SettingType::String,
                    "integer" => SettingType::Integer,
                    other => panic!("the fixture uses no `{other}` settings"),
                };
                SettingSchema {
                    description: s["description"].as_str().unwrap().into(),
                    minimum: s["minimum"].as_f64(),
                    maximum: s["maximum"].as_f64(),
                    allowed: s["allowed"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| a.as_str().unwrap().into())
                        .collect(),
                    ..SettingSchema::typed(s["name"].as_str().unwrap(), kind, Some(s["default"].clone()))
                }
            });
            let name_patterns = plugin["name-patterns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| NamePattern {
                    plugin: name.into(),
                    resource_kind: n["resource-kind"].as_str().unwrap().into(),
                    template: n["template"].as_str().unwrap().into(),
                    max_length: n["max-length"].as_u64().unwrap() as u32,
                    stack: StackKind::Tenant,
                });
            PluginDeclaration {
                name: name.into(),
                settings: settings.collect(),
                name_patterns: name_patterns.collect(),
            }
        })
        .collect()
}

/// The flags a corpus file asks for in its `# options:` line, and the third-party plugins it
/// loads (`with=<name>`).
fn corpus_options(text: &str) -> (Option<String>, PlanOptions, Vec<String>) {
    let mut suffix = None;
    let mut options = PlanOptions::default();
    let mut with = Vec::new();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("# options:"))
        .unwrap_or_default();
    for option in line.split_whitespace() {
        match option.split_once('=') {
            None if option == "locked" => options.locked = true,
            Some(("suffix", value)) => suffix = Some(value.to_owned()),
            Some(("release", id)) => options.release.push(id.to_owned()),
            Some(("tenant", id)) => options.only.push(id.to_owned()),
            Some(("with", plugin)) => with.push(plugin.to_owned()),
            _ => panic!("unknown corpus option `{option}`"),
        }
    }
    (suffix, options, with)
}

/// Covers: every rule of the configuration (syntax, unknown keys, types, tenant ids, the length
/// budget, reserved names, suffix, regions, pool, explicit blocks, exhaustion, the lock file,
/// --locked, --release, --tenant, plugin settings against their declared schema, the name
/// budget of a third-party plugin's declared names, malformed waivers) reports exactly the
/// snapshotted diagnostics, with file, line and column, and every error of a file at once. The
/// plugins' declarations are native (`tests/config/plugins.json`): no WebAssembly is built or
/// run.
#[test]
fn every_bad_configuration_gets_its_exact_diagnostics() {
    let corpus = workspace().join("tests/config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .expect("tests/config")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus has {} configurations", files.len());
    for file in &files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let origin = format!("tests/config/{name}.toml");
        let text = std::fs::read_to_string(file).unwrap();
        let (suffix, options, with) = corpus_options(&text);
        let declared = corpus_declarations(&with);
        let lock_file = corpus.join(format!("{name}.lock"));
        let result = ConfigFile::parse(
            Source {
                origin: origin.clone(),
                text,
            },
            Some(origin.into()),
        )
        .and_then(|config| {
            let lock = match std::fs::read_to_string(&lock_file) {
                Ok(text) => Some(Lock::parse(Source {
                    origin: format!("tests/config/{name}.lock"),
                    text,
                })?),
                Err(_) => None,
            };
            plan_fleet(
                &config,
                suffix.as_deref(),
                lock.as_ref(),
                &declared,
                &NoCrossChecks,
                &options,
            )
        });
        let message = match result {
            Ok(_) => panic!("{name}: expected diagnostics, but the configuration was accepted"),
            Err(error) => error.to_string(),
        };
        insta::with_settings!({
            snapshot_path => corpus.join("snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, message);
        });
    }
}

fn synth(work: &Path, plugins: &Path, extra: &[&str]) -> std::process::Output {
    synth_with_config(work, plugins, Path::new("tenants.toml"), extra)
}

fn write_config(work: &Path, tenants: &[&str], extra: &str) {
    let text = std::fs::read_to_string(workspace().join("examples/tenants.toml")).unwrap();
    let head = &text[..text.find("[[tenants]]").expect("the example lists tenants")];
    let listed: String = tenants
        .iter()
        .map(|id| format!("[[tenants]]\nid = \"{id}\"\n\n"))
        .collect();
    std::fs::write(work.join("tenants.toml"), format!("{head}{extra}\n{listed}")).unwrap();
}

fn stack_files(out: &Path, stack: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    read_tree(&out.join("stacks").join(stack))
}

/// Covers: removing a tenant and re-synthesizing leaves the other tenants' files byte-identical,
/// reports the removed tenant's stack as orphaned with how to destroy it, keeps its folder and
/// its block; `--prune-orphans` and `--release` then drop them explicitly.
#[test]
fn a_removed_tenant_is_reported_and_its_stack_kept() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("cdktf.out");
    write_config(work.path(), &["acme-corp", "tech-startup", "retail-co"], "");
    assert_success(&synth(work.path(), plugins.path(), &[]));
    let lock = std::fs::read_to_string(work.path().join("tenants.lock")).unwrap();
    assert!(
        lock.contains(
            "acme-corp = \"10.0.0.0/16\"\nretail-co = \"10.2.0.0/16\"\ntech-startup = \"10.1.0.0/16\""
        ),
        "{lock}"
    );
    let before = read_tree(&out);

    write_config(work.path(), &["acme-corp", "tech-startup"], "");
    let output = synth(work.path(), plugins.path(), &[]);
    assert_success(&output);
    let text = stderr(&output);
    assert!(
        text.contains("stack `tenant-retail-co-dev` is no longer configured")
            && text.contains("terraform -chdir=cdktf.out/stacks/tenant-retail-co-dev destroy")
            && text.contains("--release retail-co"),
        "{text}"
    );
    for stack in [
        "tenant-acme-corp-dev",
        "tenant-tech-startup-dev",
        "tenant-retail-co-dev",
    ] {
        let prefix = format!("stacks/{stack}/");
        let old: Vec<_> = before.iter().filter(|(p, _)| p.starts_with(&prefix)).collect();
        let new = stack_files(&out, stack);
        assert!(!old.is_empty());
        assert!(
            old.iter()
                .all(|(path, bytes)| new.get(&path[prefix.len()..]) == Some(*bytes)),
            "{stack} changed"
        );
    }
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(
        !manifest.contains("tenant-retail-co-dev"),
        "an orphan is not deployed: {manifest}"
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("tenants.lock")).unwrap(),
        lock
    );

    let output = synth(
        work.path(),
        plugins.path(),
        &["--prune-orphans", "--release", "retail-co"],
    );
    assert_success(&output);
    assert!(!out.join("stacks/tenant-retail-co-dev").exists());
    let lock = std::fs::read_to_string(work.path().join("tenants.lock")).unwrap();
    assert!(!lock.contains("retail-co"), "{lock}");
}

/// Covers: reordering and adding tenants never changes a recorded block; `--locked` fails
/// without touching the output or the lock file when a tenant has no block, and passes when
/// nothing would change.
#[test]
fn the_lock_file_keeps_blocks_and_locked_refuses_changes() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    write_config(work.path(), &["acme-corp", "tech-startup"], "");
    assert_success(&synth(work.path(), plugins.path(), &[]));
    let lock_path = work.path().join("tenants.lock");
    let before = read_tree(&work.path().join("cdktf.out"));
    let lock = std::fs::read_to_string(&lock_path).unwrap();

    write_config(work.path(), &["new-co", "tech-startup", "acme-corp"], "");
    let output = synth(work.path(), plugins.path(), &["--locked"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("tenant `new-co` has no block in tenants.lock, and --locked forbids allocating one")
            && text.contains("tenants.toml:"),
        "{text}"
    );
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), lock);
    assert!(before == read_tree(&work.path().join("cdktf.out")));

    assert_success(&synth(work.path(), plugins.path(), &[]));
    let lock = std::fs::read_to_string(&lock_path).unwrap();
    assert!(
        lock.contains(
            "acme-corp = \"10.0.0.0/16\"\nnew-co = \"10.2.0.0/16\"\ntech-startup = \"10.1.0.0/16\""
        ),
        "{lock}"
    );
    let vpc =
        std::fs::read_to_string(work.path().join("cdktf.out/stacks/tenant-new-co-dev/cdk.tf.json")).unwrap();
    assert!(vpc.contains("\"cidr_block\": \"10.2.0.0/16\""));
    assert_success(&synth(work.path(), plugins.path(), &["--locked"]));
}

/// Covers: `--tenant` rewrites only the named tenant's stack; the central stack and the other
/// tenants' folders and manifest entries stay byte-identical even though the configuration
/// changed for them too.
#[test]
fn tenant_flag_writes_only_the_named_tenants() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("cdktf.out");
    write_config(work.path(), &["acme-corp", "tech-startup", "retail-co"], "");
    assert_success(&synth(work.path(), plugins.path(), &[]));
    let before = read_tree(&out);

    write_config(
        work.path(),
        &["acme-corp", "tech-startup", "retail-co"],
        "[plugins.logging]\nretention-days = 90\n",
    );
    let output = synth(work.path(), plugins.path(), &["--tenant", "acme-corp"]);
    assert_success(&output);
    let after = read_tree(&out);
    let changed: Vec<&String> = after
        .iter()
        .filter(|(path, bytes)| before.get(*path) != Some(*bytes))
        .map(|(path, _)| path)
        .collect();
    assert!(!changed.is_empty());
    assert!(
        changed
            .iter()
            .all(|p| p.starts_with("stacks/tenant-acme-corp-dev/") || *p == "manifest.json"),
        "{changed:?}"
    );
    assert_eq!(before.len(), after.len());

    let output = synth(work.path(), plugins.path(), &["--tenant", "nobody"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--tenant `nobody` is not a tenant of tenants.toml"));
}

/// Covers: a tenant removed (its stack kept as an orphan, outside the manifest) and configured
/// again is back in the manifest and written fresh, even by a run limited to another tenant.
#[test]
fn a_tenant_configured_again_returns_to_the_manifest() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("cdktf.out");
    write_config(work.path(), &["acme-corp", "tech-startup", "retail-co"], "");
    assert_success(&synth(work.path(), plugins.path(), &[]));
    write_config(work.path(), &["acme-corp", "tech-startup"], "");
    assert_success(&synth(work.path(), plugins.path(), &[]));
    let manifest = |out: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
    };
    assert!(
        manifest(&out)["stacks"].get("tenant-retail-co-dev").is_none(),
        "an orphan is outside the manifest"
    );

    write_config(work.path(), &["acme-corp", "tech-startup", "retail-co"], "");
    let output = synth(work.path(), plugins.path(), &["--tenant", "acme-corp"]);
    assert_success(&output);
    assert!(
        manifest(&out)["stacks"].get("tenant-retail-co-dev").is_some(),
        "the configured stack is back in the manifest"
    );
    assert!(out.join("stacks/tenant-retail-co-dev/cdk.tf.json").is_file());
}

/// Covers: the binary reports every problem of a bad file with file, line, column and the
/// offending line, exits 1, and writes neither output nor lock file.
#[test]
fn a_bad_configuration_is_reported_with_its_lines_and_nothing_written() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(
        workspace().join("tests/config/many-errors.toml"),
        work.path().join("tenants.toml"),
    )
    .unwrap();
    let output = synth(work.path(), plugins.path(), &[]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    for expected in [
        "error: configuration: tenants.toml: 5 problems",
        "--> tenants.toml:13:6",
        "13 | id = \"Acme\"",
        "tenant id `retail-co` is listed twice",
        "tenant id `the-longest-tenant-name-anyone-has-ever-seen` is too long",
        "setting `retention-days` of plugin `logging` must be an integer, not a string",
        "cidr-block 172.16.0.0/16 of tenant `outside` is outside the pool 10.0.0.0/8",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }
    assert!(!work.path().join("cdktf.out").exists());
    assert!(!work.path().join("tenants.lock").exists());
}

/// Covers: every physical name the bundled plugins emit (in the example's central and tenant
/// stacks) matches a `name-pattern` its resource kind declares, so the length budget, which is
/// computed from the declarations, cannot silently miss a name.
#[test]
fn emitted_names_match_the_declared_name_patterns() {
    let plugins = product_plugin_dir();
    let runtime = tenant_host::plugin::Runtime::new(
        tenant_host::plugin::Limits::default(),
        tenant_host::plugin::CodeTier::Quick,
    )
    .unwrap();
    let loaded =
        tenant_host::plugin::load_plugins(&runtime, plugins.path()).expect("the product plugins load");
    let patterns: Vec<&NamePattern> = loaded.iter().flat_map(|p| &p.declaration.name_patterns).collect();
    let work = tempfile::tempdir().unwrap();
    assert_success(&tenant_host(
        work.path(),
        &["synth", "--plugins", plugins.path().to_str().unwrap()],
    ));
    let mut undeclared = std::collections::BTreeSet::new();
    let mut checked = 0;
    for (path, bytes) in read_tree(&work.path().join("cdktf.out")) {
        if !path.ends_with("cdk.tf.json") {
            continue;
        }
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        for (resource, blocks) in doc["resource"].as_object().into_iter().flatten() {
            for body in blocks.as_object().unwrap().values() {
                for attribute in ["name", "bucket", "function_name", "name_prefix"] {
                    let Some(name) = body[attribute].as_str().filter(|n| !n.contains("${")) else {
                        continue;
                    };
                    let kind = format!("{resource}.{attribute}");
                    checked += 1;
                    if !patterns
                        .iter()
                        .any(|p| p.resource_kind == kind && p.matches(name, "dev"))
                    {
                        undeclared.insert(format!("{kind} = {name}"));
                    }
                }
            }
        }
    }
    assert!(checked > 20, "the example emits names ({checked} checked)");
    assert!(
        undeclared.is_empty(),
        "names emitted but matching no declared name pattern:\n{}",
        undeclared.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// Covers: a prebuilt third-party component built against contract 0.1 (the template of that
/// time, with a resource type outside the bundled schema subset) loads and synthesizes beside the
/// bundled plugins with exit 0, its block in every tenant stack.
#[test]
fn a_prebuilt_contract_0_1_component_synthesizes_beside_the_bundled_plugins() {
    let plugins = product_plugin_dir();
    let fixtures = workspace().join("tests/fixtures/components");
    std::fs::copy(
        fixtures.join("legacy-0.1-backup.wasm"),
        plugins.path().join("backup.wasm"),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    // No `--schema`: the embedded full provider schema knows `aws_backup_vault`.
    let output = tenant_host(
        work.path(),
        &["synth", "--plugins", plugins.path().to_str().unwrap()],
    );
    assert_success(&output);
    let stack = work
        .path()
        .join("cdktf.out/stacks/tenant-acme-corp-dev/cdk.tf.json");
    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(stack).unwrap()).unwrap();
    let vault = &document["resource"]["aws_backup_vault"]["tenant"];
    assert_eq!(vault["name"], "tenant-acme-corp-backup-dev");
    assert_eq!(
        vault["kms_key_arn"], "${aws_kms_key.tenant.arn}",
        "typed inputs reach a 0.1 plugin as text"
    );
}

/// The product plugins and the contract 0.2 `backup` fixture in one folder.
fn plugins_with_backup() -> tempfile::TempDir {
    let plugins = product_plugin_dir();
    std::fs::copy(component("backup"), plugins.path().join("backup.wasm")).unwrap();
    plugins
}

/// Covers: a contract 0.2 plugin's contribution reaches the owner of the extension point (crypto
/// appends it to the tenant key's policy and its rules accept the result), its access intents are
/// recorded per plugin per stack, and its `host.log` messages are shown with `-v`.
#[test]
fn a_contract_0_2_plugin_contributes_states_intents_and_logs() {
    let plugins = plugins_with_backup();
    let work = tempfile::tempdir().unwrap();
    let output = tenant_host(
        work.path(),
        &["-v", "synth", "--plugins", plugins.path().to_str().unwrap()],
    );
    assert_success(&output);
    assert!(
        stderr(&output).contains("vault tenant-acme-corp-backup-vault-dev keeps recovery points 35 days"),
        "{}",
        stderr(&output)
    );
    let stack = work
        .path()
        .join("cdktf.out/stacks/tenant-acme-corp-dev/cdk.tf.json");
    let document: serde_json::Value = serde_json::from_slice(&std::fs::read(stack).unwrap()).unwrap();
    let policy: serde_json::Value = serde_json::from_str(
        document["resource"]["aws_kms_key"]["tenant"]["policy"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let contributed = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "BackupVaultUse")
        .expect("the contributed statement is in the key policy");
    assert_eq!(contributed["Principal"]["Service"], "backup.amazonaws.com");

    let outcome = tenant_host::run(&tenant_host::RunOptions {
        plugins: plugins.path().into(),
        config: None,
        registry: None,
        suffix: Some("dev".into()),
        limits: tenant_host::plugin::Limits::default(),
        code: None,
        schema: None,
        plan: PlanOptions::default(),
        every_intent_verdict: true,
    })
    .expect("the run succeeds");
    for stack in &outcome.stacks {
        let intents: Vec<_> = outcome
            .access
            .intents
            .iter()
            .filter(|o| &*o.intent.plugin == "backup" && *o.intent.stack == *stack.name)
            .map(|o| &o.intent)
            .collect();
        match &stack.tenant {
            Some(_) => {
                let intent = intents
                    .first()
                    .expect("every tenant stack records backup's intent");
                assert_eq!(
                    (&*intent.principal, &*intent.action, &*intent.resource),
                    (
                        "service:backup.amazonaws.com",
                        "kms:Decrypt",
                        "${aws_kms_key.tenant.arn}"
                    )
                );
            }
            None => assert!(intents.is_empty(), "backup states nothing for the central stack"),
        }
    }
}

/// Covers: with a contract 0.2 plugin loaded, a tenant id that makes its declared vault name 56
/// characters (AWS allows 50) and a setting out of its declared range fail in the configuration
/// pass, naming the plugin, the name and the setting's position; nothing is synthesized.
#[test]
fn a_third_party_name_and_setting_range_fail_in_the_configuration_pass() {
    let plugins = plugins_with_backup();
    let work = tempfile::tempdir().unwrap();
    write_config(
        work.path(),
        &["acme-corp", "a-thirty-two-character-tenant-id"],
        "[plugins.backup]\nretention-days = 0\n",
    );
    let output = synth(work.path(), plugins.path(), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    for needle in [
        "tenant id `a-thirty-two-character-tenant-id` is too long: the aws_backup_vault.name `tenant-a-thirty-two-character-tenant-id-backup-vault-dev` (plugin `backup`) would be 56 characters, 6 over AWS's limit of 50",
        "shorten the id to at most 26 characters",
        "setting `retention-days` of plugin `backup` must be at least 1, not 0",
        "--> tenants.toml:",
    ] {
        assert!(text.contains(needle), "{needle}:\n{text}");
    }
    assert!(!text.contains("synthesize"), "no plugin synthesized: {text}");
    assert!(!work.path().join("cdktf.out").exists());
}

/// Covers (issue 12, item 9): an explicit tenant block that passes the host's own /16–/28 check
/// but is too small for network's subnets is refused in the configuration pass, through network's
/// `validate-settings`, with the position of the `cidr-block` — not later inside `network`'s
/// synthesis. Nothing is written.
#[test]
fn a_tenant_block_too_small_for_the_network_layout_fails_in_the_configuration_pass() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    write_config(work.path(), &["acme-corp"], "");
    let config = work.path().join("tenants.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}[[tenants]]\nid = \"tech-startup\"\ncidr-block = \"10.9.0.0/24\"\n"),
    )
    .unwrap();
    let output = synth(work.path(), plugins.path(), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stderr(&output);
    for needle in [
        "tenant `tech-startup`: 10.9.0.0/24 is too small for two private subnets",
        "--> tenants.toml:",
        "10.9.0.0/24",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    assert!(
        !text.contains("synthesize-tenant"),
        "no plugin synthesized: {text}"
    );
    assert!(!work.path().join("cdktf.out").exists(), "nothing is written");
}
