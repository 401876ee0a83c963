//! The plugin template builds on its own, as a third party's crate would, and composes with the
//! bundled plugins without breaking any rule; `plugins new` writes the same crate under a new
//! name, which builds, tests and composes just as well.

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Runs `cargo <args>` for the crate of `manifest` into the guest target folder (without the
/// outer build's flags), and asserts it succeeds.
fn cargo_in_guest_target(manifest: &Path, args: &[&str]) {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(workspace())
        .args(args)
        .arg("--manifest-path")
        .arg(manifest)
        .env("CARGO_TARGET_DIR", guest_target())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .expect("run cargo");
    assert!(
        status.success(),
        "cargo {args:?} for {} failed",
        manifest.display()
    );
}

/// The guest target folder the bundled plugins build in.
fn guest_target() -> &'static Path {
    components()
        .ancestors()
        .nth(2)
        .expect("<target>/guests/wasm32-wasip2/plugin")
}

/// Builds the plugin crate of `manifest` for wasm32-wasip2 in its release profile and returns
/// its component.
fn build_component(manifest: &Path, locked: bool, library: &str) -> PathBuf {
    let mut args = vec!["build", "--quiet", "--release", "--target", "wasm32-wasip2"];
    if locked {
        args.push("--locked");
    }
    cargo_in_guest_target(manifest, &args);
    guest_target()
        .join("wasm32-wasip2")
        .join("release")
        .join(format!("{library}.wasm"))
}

/// Builds `templates/plugin` (its own workspace and lock file) into the guest target folder.
fn template_component() -> &'static PathBuf {
    static COMPONENT: OnceLock<PathBuf> = OnceLock::new();
    COMPONENT.get_or_init(|| {
        build_component(
            &workspace().join("templates/plugin/Cargo.toml"),
            true,
            "tenant_plugin_audit",
        )
    })
}

/// Synthesizes the example with the bundled plugins and `component` as `<name>.wasm`, asserts
/// success, and returns each tenant stack's document.
fn synthesize_beside_the_bundled_plugins(component: &Path, name: &str) -> Vec<(&'static str, Value)> {
    let plugins = product_plugin_dir();
    std::fs::copy(component, plugins.path().join(format!("{name}.wasm"))).unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = tenant_host(
        work.path(),
        &["synth", "--plugins", plugins.path().to_str().unwrap()],
    );
    assert_success(&output);
    ["acme-corp", "tech-startup", "retail-co"]
        .into_iter()
        .map(|tenant| {
            let path = work
                .path()
                .join(format!("cdktf.out/stacks/tenant-{tenant}-dev/cdk.tf.json"));
            (
                tenant,
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap(),
            )
        })
        .collect()
}

/// Covers: a third-party plugin built from the template loads beside the bundled ones, adds its
/// resources to every tenant stack, and passes every plugin's rules and the host's guardrails.
#[test]
fn the_template_plugin_composes_with_the_bundled_plugins() {
    for (tenant, doc) in synthesize_beside_the_bundled_plugins(template_component(), "audit") {
        assert_eq!(
            doc["resource"]["aws_s3_bucket"]["audit"]["bucket"],
            format!("tenant-{tenant}-audit-dev")
        );
        assert_eq!(
            doc["resource"]["aws_s3_bucket_server_side_encryption_configuration"]["audit"]["rule"][0]["apply_server_side_encryption_by_default"]
                [0]["kms_master_key_id"],
            "${aws_kms_key.tenant.arn}",
            "the template is wired to the crypto plugin's key"
        );
    }
    let work = tempfile::tempdir().unwrap();
    let inspect = tenant_host(
        work.path(),
        &["plugins", "inspect", template_component().to_str().unwrap()],
    );
    assert_success(&inspect);
    assert!(String::from_utf8_lossy(&inspect.stdout).contains("audit.bucket-present"));
}

/// Covers: `plugins new probe --dir X` writes a crate whose `cargo test` (unit, golden and
/// conformance tests) and wasm32-wasip2 release build succeed as generated, and whose component
/// synthesizes beside the bundled plugins under its own name.
#[test]
fn a_new_plugin_tests_builds_and_composes_as_generated() {
    let work = tempfile::tempdir().unwrap();
    let crate_dir = work.path().join("probe");
    let output = tenant_host(
        work.path(),
        &["plugins", "new", "probe", "--dir", crate_dir.to_str().unwrap()],
    );
    assert_success(&output);
    let manifest = crate_dir.join("Cargo.toml");
    for file in [
        "src/lib.rs",
        "src/settings.rs",
        "src/synth.rs",
        "src/rules.rs",
        "tests/golden/tenant-acme-corp.json",
    ] {
        assert!(crate_dir.join(file).is_file(), "{file} is generated");
    }
    cargo_in_guest_target(&manifest, &["test", "--quiet"]);
    let component = build_component(&manifest, false, "tenant_plugin_probe");
    for (tenant, doc) in synthesize_beside_the_bundled_plugins(&component, "probe") {
        assert_eq!(
            doc["resource"]["aws_s3_bucket"]["probe"]["bucket"],
            format!("tenant-{tenant}-probe-dev")
        );
    }
    let again = tenant_host(
        work.path(),
        &["plugins", "new", "probe", "--dir", crate_dir.to_str().unwrap()],
    );
    assert_eq!(again.status.code(), Some(1), "an occupied folder is refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}
