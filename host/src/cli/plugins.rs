//! `tenant-host plugins list|inspect`: what plugins say about themselves, without a fleet;
//! `tenant-host plugins new`: a new out-of-tree plugin crate, written from the template.

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tenant_host::findings::Severity;
use tenant_host::order::stack_kind_name;
use tenant_host::plugin::{self, LoadedPlugin, Runtime, api};

#[derive(Debug, Args)]
pub struct PluginsArgs {
    #[command(subcommand)]
    command: PluginsCommand,
}

#[derive(Debug, Subcommand)]
enum PluginsCommand {
    /// One line per plugin of a folder: name, version, contract version, file and summary.
    List {
        /// Folder of plugin components (*.wasm, not recursive).
        #[arg(long, value_name = "DIR")]
        plugins: PathBuf,
    },
    /// Everything one plugin describes: provides, requires, settings and rules.
    Inspect {
        /// The plugin component.
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// A new plugin crate in the shape of templates/plugin (lib.rs shim, settings.rs, synth.rs,
    /// rules.rs, golden fragment) that builds on its own.
    New(NewArgs),
}

#[derive(Debug, Args)]
struct NewArgs {
    /// The plugin's name, kebab-case (`[a-z][a-z0-9]*`, parts joined by `-`), e.g. `backup`.
    name: String,
    /// The folder to create (it must not exist, or be empty); default: ./NAME.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The tenant-plugin-sdk to depend on by path; default: this checkout's plugins/sdk when it
    /// still exists, else the released version of this tenant-host.
    #[arg(long, value_name = "PATH")]
    sdk_path: Option<PathBuf>,
}

fn runtime() -> anyhow::Result<Runtime> {
    // Listing and checking plugins calls only `describe`: compile quickly.
    Runtime::new(plugin::Limits::default(), plugin::CodeTier::Quick)
        .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly runtime: {e:#}"))
}

pub fn run(args: PluginsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PluginsCommand::New(new) => scaffold(new)?,
        PluginsCommand::List { plugins } => {
            let loaded = plugin::load_plugins(&runtime()?, &plugins)?;
            for p in &loaded {
                println!(
                    "{} {} (contract {}) {}\n    {}",
                    p.info.name,
                    p.info.version,
                    p.info.contract_version,
                    p.file.display(),
                    p.info.summary
                );
            }
        }
        PluginsCommand::Inspect { file, json } => {
            let loaded = plugin::load_plugin(&runtime()?, &file)
                .with_context(|| format!("inspecting {}", file.display()))?;
            if json {
                print!("{}", tenant_host::output::render_json(&describe_json(&loaded)));
            } else {
                print!("{}", describe_text(&loaded));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn severity(severity: api::Severity) -> &'static str {
    Severity::from(severity).as_str()
}

fn values_json(values: &[api::ValueDeclaration]) -> Vec<Value> {
    values
        .iter()
        .map(|v| json!({"name": v.name, "stack": stack_kind_name(v.stack), "description": v.description}))
        .collect()
}

fn describe_json(plugin: &LoadedPlugin) -> Value {
    let info = &plugin.info;
    json!({
        "name": info.name,
        "version": info.version,
        "contract-version": info.contract_version,
        "summary": info.summary,
        "file": plugin.file.display().to_string(),
        "provides": values_json(&info.provides),
        "requires": values_json(&info.requires),
        "settings": plugin.declaration.settings.iter().map(|s| json!({
            "name": s.name,
            "type": s.kind.describe(),
            "default": s.default,
            "required": s.required,
            "minimum": s.minimum,
            "maximum": s.maximum,
            "max-length": s.max_length,
            "allowed": s.allowed,
            "description": s.description,
        })).collect::<Vec<_>>(),
        "name-patterns": info.name_patterns.iter().map(|n| json!({
            "resource-kind": n.resource_kind,
            "template": n.template,
            "max-length": n.max_length,
            "stack": stack_kind_name(n.stack),
        })).collect::<Vec<_>>(),
        "accepts": info.accepts.iter().map(|p| json!({
            "name": p.name,
            "stack": stack_kind_name(p.stack),
            "description": p.description,
        })).collect::<Vec<_>>(),
        "contributes-to": info.contributes_to,
        "fleet-needs": info.fleet_needs,
        "rules": info.rules.iter().map(|r| json!({
            "id": r.id,
            "severity": severity(r.severity),
            "description": r.description,
        })).collect::<Vec<_>>(),
    })
}

fn describe_text(plugin: &LoadedPlugin) -> String {
    let info = &plugin.info;
    let mut text = format!(
        "{} {} (contract {})\n  {}\n  file: {}\n",
        info.name,
        info.version,
        info.contract_version,
        info.summary,
        plugin.file.display()
    );
    let mut section = |title: &str, lines: Vec<String>| {
        text.push_str(&format!("{title}:\n"));
        if lines.is_empty() {
            text.push_str("  (none)\n");
        }
        for line in lines {
            text.push_str(&format!("  {line}\n"));
        }
    };
    let values = |values: &[api::ValueDeclaration]| -> Vec<String> {
        values
            .iter()
            .map(|v| {
                format!(
                    "{} ({} stacks): {}",
                    v.name,
                    stack_kind_name(v.stack),
                    v.description
                )
            })
            .collect()
    };
    section("provides", values(&info.provides));
    section("requires", values(&info.requires));
    section(
        "settings",
        info.settings
            .iter()
            .map(|s| match plugin.defaults.get(&s.name) {
                Some(default) => format!("{} = {default}: {}", s.name, s.description),
                None => format!("{} (required): {}", s.name, s.description),
            })
            .collect(),
    );
    section(
        "rules",
        info.rules
            .iter()
            .map(|r| format!("{:<7} {}: {}", severity(r.severity), r.id, r.description))
            .collect(),
    );
    section(
        "names",
        info.name_patterns
            .iter()
            .map(|n| {
                format!(
                    "{} = {} (at most {}, {} stacks)",
                    n.resource_kind,
                    n.template,
                    n.max_length,
                    stack_kind_name(n.stack)
                )
            })
            .collect(),
    );
    section(
        "extension points",
        info.accepts
            .iter()
            .map(|p| {
                format!(
                    "{} ({} stacks): {}",
                    p.name,
                    stack_kind_name(p.stack),
                    p.description
                )
            })
            .chain(info.contributes_to.iter().map(|p| format!("contributes to {p}")))
            .collect(),
    );
    section("fleet needs", info.fleet_needs.clone());
    text
}

/// The template's files, embedded so that what `plugins new` writes is the template (which the
/// end-to-end tests build), with the name substituted.
const TEMPLATE: &[(&str, &str)] = &[
    (".gitignore", include_str!("../../../templates/plugin/.gitignore")),
    ("Cargo.toml", include_str!("../../../templates/plugin/Cargo.toml")),
    ("Cargo.lock", include_str!("../../../templates/plugin/Cargo.lock")),
    ("src/lib.rs", include_str!("../../../templates/plugin/src/lib.rs")),
    (
        "src/settings.rs",
        include_str!("../../../templates/plugin/src/settings.rs"),
    ),
    (
        "src/synth.rs",
        include_str!("../../../templates/plugin/src/synth.rs"),
    ),
    (
        "src/rules.rs",
        include_str!("../../../templates/plugin/src/rules.rs"),
    ),
    (
        "tests/golden/tenant-acme-corp.json",
        include_str!("../../../templates/plugin/tests/golden/tenant-acme-corp.json"),
    ),
];

/// The template plugin's name, replaced by the new plugin's in every file.
const TEMPLATE_NAME: &str = "audit";
/// The template's SDK dependency (a path inside this repository), replaced by a usable one.
const TEMPLATE_SDK_DEPENDENCY: &str = r#"tenant-plugin-sdk = { path = "../../plugins/sdk" }"#;

/// A plugin name that makes a valid plugin name, crate name, Rust type and Terraform name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PluginName(String);

impl PluginName {
    fn parse(name: &str) -> anyhow::Result<Self> {
        let valid_part = |part: &str| {
            part.starts_with(|c: char| c.is_ascii_lowercase())
                && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        };
        anyhow::ensure!(
            name.len() <= 40 && name.split('-').all(valid_part),
            "`{name}` cannot name a plugin: use lowercase letters and digits, starting with a letter, in parts joined by single `-` (at most 40 characters), e.g. `backup` or `audit-trail`"
        );
        Ok(Self(name.to_owned()))
    }

    /// `AuditTrail` for `audit-trail`.
    fn type_name(&self) -> String {
        self.0
            .split('-')
            .map(|part| {
                let (first, rest) = part.split_at(1);
                first.to_ascii_uppercase() + rest
            })
            .collect()
    }

    /// `audit_trail` for `audit-trail`.
    fn snake_case(&self) -> String {
        self.0.replace('-', "_")
    }
}

/// One template file with the template's names replaced by `name`'s and the SDK dependency by
/// `sdk_dependency`.
fn render(text: &str, name: &PluginName, sdk_dependency: &str) -> String {
    let template_type = PluginName(TEMPLATE_NAME.to_owned()).type_name();
    text.replace(TEMPLATE_SDK_DEPENDENCY, sdk_dependency)
        .replace(
            &format!("tenant_plugin_{TEMPLATE_NAME}"),
            &format!("tenant_plugin_{}", name.snake_case()),
        )
        .replace(&template_type, &name.type_name())
        .replace(TEMPLATE_NAME, &name.0)
}

/// The dependency line of the new crate: the given SDK folder, else this checkout's SDK when the
/// binary runs where it was built, else the SDK released with this version of tenant-host.
fn sdk_dependency(sdk_path: Option<PathBuf>) -> anyhow::Result<String> {
    let checkout_sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk");
    let path = match sdk_path {
        Some(path) => Some(path),
        None => checkout_sdk.join("Cargo.toml").is_file().then_some(checkout_sdk),
    };
    Ok(match path {
        Some(path) => {
            let path = std::fs::canonicalize(&path)
                .with_context(|| format!("the SDK folder {} does not exist", path.display()))?;
            anyhow::ensure!(
                path.join("Cargo.toml").is_file(),
                "{} has no Cargo.toml; --sdk-path names the tenant-plugin-sdk folder (plugins/sdk of a tenant-host checkout)",
                path.display()
            );
            let path = toml::Value::String(path.display().to_string());
            format!("tenant-plugin-sdk = {{ path = {path} }}")
        }
        None => format!("tenant-plugin-sdk = \"{}\"", env!("CARGO_PKG_VERSION")),
    })
}

/// Writes the new plugin crate and says what to do next.
fn scaffold(args: NewArgs) -> anyhow::Result<()> {
    let name = PluginName::parse(&args.name)?;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&name.0));
    let occupied = std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some());
    anyhow::ensure!(
        !occupied,
        "{} is not empty; choose another folder with --dir",
        dir.display()
    );
    let sdk_dependency = sdk_dependency(args.sdk_path)?;
    for (file, text) in TEMPLATE {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, render(text, &name, &sdk_dependency))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "created plugin `{}` in {}\n  cargo test                                        # unit, golden and conformance tests\n  cargo build --release --target wasm32-wasip2      # target/wasm32-wasip2/release/tenant_plugin_{}.wasm\n  tenant-host plugins inspect <that file>           # what the host sees",
        name.0,
        dir.display(),
        name.snake_case()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_work_as_crate_type_and_terraform_names() {
        // (name, accepted, why)
        let cases = [
            ("backup", true, "one word"),
            ("audit-trail2", true, "parts with digits"),
            ("Backup", false, "uppercase would not be a crate name"),
            ("2fa", false, "a type name cannot start with a digit"),
            ("audit--trail", false, "an empty part"),
            ("audit-", false, "a trailing dash"),
            ("audit_trail", false, "underscores are not kebab-case"),
            ("", false, "empty"),
            (&"a".repeat(41), false, "too long for the names it goes into"),
        ];
        for (name, accepted, why) in cases {
            assert_eq!(PluginName::parse(name).is_ok(), accepted, "{name}: {why}");
        }
        let name = PluginName::parse("audit-trail").unwrap();
        assert_eq!(
            (name.type_name(), name.snake_case()),
            ("AuditTrail".into(), "audit_trail".into())
        );
    }

    #[test]
    fn rendering_leaves_nothing_of_the_template_name() {
        let name = PluginName::parse("backup-vault").unwrap();
        let dependency = r#"tenant-plugin-sdk = "9.9.9""#;
        let manifest = TEMPLATE.iter().find(|(file, _)| *file == "Cargo.toml").unwrap().1;
        assert!(
            manifest.contains(TEMPLATE_SDK_DEPENDENCY),
            "the template's SDK dependency is what `plugins new` replaces"
        );
        for (file, text) in TEMPLATE {
            let rendered = render(text, &name, dependency);
            assert!(
                !rendered.to_lowercase().contains("audit"),
                "{file} still names the template"
            );
            assert!(
                !rendered.contains("plugins/sdk"),
                "{file} keeps the repository path"
            );
        }
        let rendered = |file: &str| {
            render(
                TEMPLATE.iter().find(|(f, _)| *f == file).unwrap().1,
                &name,
                dependency,
            )
        };
        assert!(rendered("Cargo.toml").contains(r#"name = "tenant-plugin-backup-vault""#));
        assert!(rendered("Cargo.toml").contains(dependency));
        assert!(rendered("src/lib.rs").contains("pub struct BackupVault;"));
        assert!(rendered("src/rules.rs").contains(r#""backup-vault.bucket-present""#));
    }

    #[test]
    fn the_sdk_is_found_by_path_or_else_by_version() {
        let sdk = tempfile::tempdir().unwrap();
        std::fs::write(sdk.path().join("Cargo.toml"), "").unwrap();
        let given = sdk_dependency(Some(sdk.path().to_owned())).unwrap();
        assert!(given.starts_with("tenant-plugin-sdk = { path = "), "{given}");
        assert!(sdk_dependency(Some(sdk.path().join("missing"))).is_err());
        let empty = tempfile::tempdir().unwrap();
        assert!(
            sdk_dependency(Some(empty.path().to_owned())).is_err(),
            "a folder without Cargo.toml"
        );
        let checkout = sdk_dependency(None).unwrap();
        assert!(
            checkout.contains("plugins/sdk"),
            "run from this checkout: {checkout}"
        );
    }
}
