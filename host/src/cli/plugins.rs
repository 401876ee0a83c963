//! `tenant-host plugins list|inspect`: what plugins say about themselves, without a fleet.

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use std::path::PathBuf;
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
}

pub fn run(args: PluginsArgs) -> anyhow::Result<ExitCode> {
    let runtime = Runtime::new(plugin::Limits::default())
        .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly runtime: {e:#}"))?;
    match args.command {
        PluginsCommand::List { plugins } => {
            let loaded = plugin::load_plugins(&runtime, &plugins)?;
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
            let loaded = plugin::load_plugin(&runtime, &file)
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
        "settings": info.settings.iter().map(|s| json!({
            "name": s.name,
            "default": plugin.defaults[&s.name],
            "description": s.description,
        })).collect::<Vec<_>>(),
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
            .map(|s| format!("{} = {}: {}", s.name, plugin.defaults[&s.name], s.description))
            .collect(),
    );
    section(
        "rules",
        info.rules
            .iter()
            .map(|r| format!("{:<7} {}: {}", severity(r.severity), r.id, r.description))
            .collect(),
    );
    text
}
