//! Helpers for the end-to-end tests: building the plugin components once, scratch folders, and
//! running the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The product plugins, as `just plugins` builds them.
pub const PRODUCT_PLUGINS: &[&str] = &[
    "network", "crypto", "storage", "iam", "compute", "logging", "events",
];
/// Test fixtures built alongside.
const FIXTURE_PLUGINS: &[&str] = &["rogue", "future-contract", "backup"];

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ sits in the workspace")
        .to_path_buf()
}

/// Builds every plugin component (once per test run) with a nested cargo in the same guest
/// target folder and profile `just plugins` uses, and returns the folder holding the `.wasm` files.
pub fn components() -> &'static Path {
    static COMPONENTS: OnceLock<PathBuf> = OnceLock::new();
    COMPONENTS.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        // <target>/debug/deps/e2e-<hash>
        let target = exe
            .ancestors()
            .nth(3)
            .expect("test binary lives in <target>/<profile>/deps");
        let guest_target = target.join("guests");
        let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        command
            .current_dir(workspace())
            .args([
                "build",
                "--quiet",
                "--profile",
                "plugin",
                "--target",
                "wasm32-wasip2",
            ])
            .env("CARGO_TARGET_DIR", &guest_target)
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS");
        for plugin in PRODUCT_PLUGINS.iter().chain(FIXTURE_PLUGINS) {
            command.args(["-p", &format!("tenant-plugin-{plugin}")]);
        }
        let status = command
            .status()
            .expect("run cargo to build the plugin components");
        assert!(
            status.success(),
            "building the plugin components failed (is the wasm32-wasip2 target installed? `just setup`)"
        );
        guest_target.join("wasm32-wasip2").join("plugin")
    })
}

/// The component file of a plugin crate (`network`, `rogue`, ...).
pub fn component(plugin: &str) -> PathBuf {
    components().join(format!("tenant_plugin_{}.wasm", plugin.replace('-', "_")))
}

/// A scratch folder holding copies of the named plugins' components, under the given file names.
pub fn plugin_dir(plugins: &[(&str, impl AsRef<str>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("scratch folder");
    for (plugin, file_name) in plugins {
        std::fs::copy(component(plugin), dir.path().join(file_name.as_ref())).expect("copy component");
    }
    dir
}

/// A scratch folder with every product plugin, named `<plugin>.wasm`.
pub fn product_plugin_dir() -> tempfile::TempDir {
    let named: Vec<(&str, String)> = PRODUCT_PLUGINS
        .iter()
        .map(|p| (*p, format!("{p}.wasm")))
        .collect();
    plugin_dir(&named)
}

/// Runs `tenant-host` with `args` in `cwd`, without the caller's ENVIRONMENT_SUFFIX.
pub fn tenant_host(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tenant-host"))
        .current_dir(cwd)
        .args(args)
        .env_remove("ENVIRONMENT_SUFFIX")
        .output()
        .expect("run tenant-host")
}

/// The process's standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts a successful run, showing its standard error otherwise.
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "tenant-host failed ({}):\n{}",
        output.status,
        stderr(output)
    );
}

/// Every file below `root` with its bytes, by relative path: for byte-for-byte comparisons.
pub fn read_tree(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .expect("below root")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(relative, std::fs::read(&path).expect("read file"));
            }
        }
    }
    let mut files = std::collections::BTreeMap::new();
    walk(root, root, &mut files);
    files
}

/// A configuration for one tenant with the rogue plugin told how to misbehave.
pub fn rogue_config(dir: &Path, behaviour: &str, port: u16) -> PathBuf {
    let path = dir.join(format!("rogue-{behaviour}.toml"));
    let text = format!(
        "region = \"us-east-1\"\n[state-backend]\nbucket = \"tenant-host-state\"\nregion = \"us-east-1\"\n\
         [plugins.rogue]\nbehaviour = \"{behaviour}\"\nport = {port}\n[[tenants]]\nid = \"acme-corp\"\n"
    );
    std::fs::write(&path, text).expect("write config");
    path
}

/// Runs `tenant-host synth` with `plugins`, `config` and `extra` flags in `cwd`.
pub fn synth_with_config(cwd: &Path, plugins: &Path, config: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "synth",
        "--plugins",
        plugins.to_str().expect("UTF-8 path"),
        "--config",
        config.to_str().expect("UTF-8 path"),
    ];
    args.extend_from_slice(extra);
    tenant_host(cwd, &args)
}
