//! The plugin template builds on its own, as a third party's crate would, and composes with the
//! bundled plugins without breaking any rule.

use crate::support::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Builds `templates/plugin` (its own workspace and lock file) into the guest target folder.
fn template_component() -> &'static PathBuf {
    static COMPONENT: OnceLock<PathBuf> = OnceLock::new();
    COMPONENT.get_or_init(|| {
        let release = components();
        let guest_target = release
            .ancestors()
            .nth(2)
            .expect("<target>/guests/wasm32-wasip2/release");
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(workspace())
            .args([
                "build",
                "--quiet",
                "--release",
                "--locked",
                "--target",
                "wasm32-wasip2",
            ])
            .args(["--manifest-path", "templates/plugin/Cargo.toml"])
            .env("CARGO_TARGET_DIR", guest_target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("run cargo to build the plugin template");
        assert!(status.success(), "building templates/plugin failed");
        release.join("tenant_plugin_audit.wasm")
    })
}

/// Covers: a third-party plugin built from the template loads beside the bundled ones, adds its
/// resources to every tenant stack, and passes every plugin's rules and the host's guardrails.
#[test]
fn the_template_plugin_composes_with_the_bundled_plugins() {
    let plugins = product_plugin_dir();
    std::fs::copy(template_component(), plugins.path().join("audit.wasm")).unwrap();
    let work = tempfile::tempdir().unwrap();
    let output = tenant_host(
        work.path(),
        &["synth", "--plugins", plugins.path().to_str().unwrap()],
    );
    assert_success(&output);
    for tenant in ["acme-corp", "tech-startup", "retail-co"] {
        let path = work
            .path()
            .join(format!("cdktf.out/stacks/tenant-{tenant}-dev/cdk.tf.json"));
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
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
    let inspect = tenant_host(
        work.path(),
        &["plugins", "inspect", template_component().to_str().unwrap()],
    );
    assert_success(&inspect);
    assert!(String::from_utf8_lossy(&inspect.stdout).contains("audit.bucket-present"));
}
