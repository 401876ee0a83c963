//! The `tenant-host` command line: parses flags, dispatches, prints errors with their causes and
//! maps them to documented exit codes.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tenant_host::check::{Finding, Severity};
use tenant_host::{Outcome, RunOptions, output, plugin};

/// Exit code of a run that found policy errors (nothing written).
const EXIT_POLICY_ERRORS: u8 = 2;
/// Exit code of any other failure: configuration, plugin loading or calls, I/O.
const EXIT_FAILURE: u8 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "tenant-host",
    version,
    about = "Synthesize isolated per-tenant AWS environments as Terraform JSON from WebAssembly policy plugins",
    long_about = "tenant-host loads WebAssembly policy plugins, asks each for its Terraform JSON fragment of the \
central stack and of every tenant stack, composes them, runs every plugin's policy checks over the result, \
and writes a cdktf-compatible folder that plain `terraform` plans and applies, stack by stack.\n\n\
Exit codes: 0 success; 1 failure (configuration, plugin, I/O); 2 policy errors found (nothing written)."
)]
struct Cli {
    /// Log what happens (-v: debug, -vv: trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Synthesize the central stack and every tenant stack into an output folder.
    #[command(after_long_help = "Examples:\n  \
tenant-host synth --plugins plugins/\n      the built-in example fleet (acme-corp, tech-startup, retail-co) into cdktf.out/\n  \
tenant-host synth --plugins plugins/ --config examples/tenants.toml --out build/stacks\n  \
ENVIRONMENT_SUFFIX=pr42 tenant-host synth --plugins plugins/\n\n\
Then, per stack: terraform -chdir=cdktf.out/stacks/<stack> init && terraform -chdir=... apply\n\
(the central stack first; tenant stacks in parallel).")]
    Synth(SynthArgs),
}

#[derive(Debug, Args)]
struct SynthArgs {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = match cli.verbose {
        0 => "warn",
        1 => "tenant_host=debug",
        _ => "tenant_host=trace,wasmtime=debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let result = match cli.command {
        Command::Synth(args) => synth(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn synth(args: SynthArgs) -> anyhow::Result<ExitCode> {
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
