//! `tenant-host synth`: synthesize, check, and write the output folder.

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tenant_host::check::{Finding, Severity};
use tenant_host::{Outcome, RunOptions, output, plugin};

use super::EXIT_POLICY_ERRORS;

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Folder of plugin components (*.wasm, not recursive).
    #[arg(long, value_name = "DIR")]
    plugins: PathBuf,
    /// Fleet configuration (TOML); without it, the built-in example of three tenants.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output folder, replaced only when the whole run succeeded.
    #[arg(long, value_name = "DIR", default_value = "cdktf.out")]
    out: PathBuf,
    /// Suffix of every name (tenant-{id}-{type}-{suffix}); overrides the configuration.
    #[arg(long, env = "ENVIRONMENT_SUFFIX", value_name = "SUFFIX")]
    environment_suffix: Option<String>,
    /// AWS provider schema (`terraform providers schema -json` output) to validate against,
    /// instead of the bundled subset covering the bundled plugins' resource types.
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Wall time one plugin call may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    plugin_timeout: f64,
    /// Memory one plugin instance may use, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    plugin_memory: usize,
    /// Bytes one plugin call may return, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    plugin_output: usize,
}

pub fn run(args: SynthArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    anyhow::ensure!(
        args.plugin_timeout.is_finite() && args.plugin_timeout > 0.0,
        "--plugin-timeout must be a positive number of seconds"
    );
    let options = RunOptions {
        plugins: args.plugins,
        config: args.config,
        suffix: args.environment_suffix,
        schema: args.schema,
        limits: plugin::Limits {
            call_timeout: Duration::from_secs_f64(args.plugin_timeout),
            memory_bytes: args.plugin_memory << 20,
            output_bytes: args.plugin_output << 20,
        },
    };
    let outcome = tenant_host::run(&options)?;
    print_findings(&outcome.findings);
    if outcome.has_errors() {
        eprintln!("policy errors found: nothing written to {}", args.out.display());
        return Ok(ExitCode::from(EXIT_POLICY_ERRORS));
    }
    output::write_output(&args.out, &outcome.stacks, &outcome.findings)
        .with_context(|| format!("writing {}", args.out.display()))?;
    print_summary(&outcome, &args.out, started.elapsed());
    Ok(ExitCode::SUCCESS)
}

fn print_findings(findings: &[Finding]) {
    for f in findings {
        let place = match (&f.stack, f.address.is_empty()) {
            (Some(stack), false) => format!("{stack}: {}", f.address),
            (Some(stack), true) => stack.clone(),
            (None, _) => "fleet".to_owned(),
        };
        eprintln!(
            "{}[{}] {place}: {}\n    remediation: {}",
            f.severity.as_str(),
            f.rule_id,
            f.message,
            f.remediation
        );
    }
}

fn print_summary(outcome: &Outcome, out: &std::path::Path, elapsed: Duration) {
    let count = |s: Severity| outcome.findings.iter().filter(|f| f.severity == s).count();
    let resources: usize = outcome
        .stacks
        .iter()
        .map(|s| {
            s.document["resource"].as_object().map_or(0, |r| {
                r.values().filter_map(|v| v.as_object()).map(|m| m.len()).sum()
            })
        })
        .sum();
    println!(
        "wrote {} stacks ({} resources) from {} plugins to {} in {:.2?}: {} warnings, {} notes",
        outcome.stacks.len(),
        resources,
        outcome.plugins.len(),
        out.display(),
        elapsed,
        count(Severity::Warning),
        count(Severity::Info),
    );
}
