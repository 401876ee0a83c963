//! The flags of every command that synthesizes: which plugins, which fleet, which schema, and
//! the bounds of each plugin call; and the flags that choose a report.

use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tenant_host::report::{self, CurrentStacks, Places};
use tenant_host::{Outcome, RunOptions, plugin};

/// What a synthesizing command runs with.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Folder of plugin components (*.wasm, not recursive).
    #[arg(long, value_name = "DIR")]
    pub plugins: PathBuf,
    /// Fleet configuration (TOML); without it, the built-in example of three tenants.
    #[arg(long, value_name = "FILE", conflicts_with = "registry")]
    pub config: Option<PathBuf>,
    /// Fleet registry (`s3://bucket/prefix`) holding the configuration and its lock file; every
    /// tenant must already have its block there (`tenant-host tenants add`).
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Suffix of every name (tenant-{id}-{type}-{suffix}); overrides the configuration.
    #[arg(long, env = "ENVIRONMENT_SUFFIX", value_name = "SUFFIX")]
    pub environment_suffix: Option<String>,
    /// AWS provider schema (`terraform providers schema -json` output) to validate against,
    /// instead of the embedded schema of the AWS provider 6.25.0.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Wall time one plugin call may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub plugin_timeout: f64,
    /// Memory one plugin instance may use, in MiB. A plugin built with the SDK starts with 9 MiB
    /// (its allocation arena), so it needs at least that.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub plugin_memory: usize,
    /// Bytes one plugin call may return, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub plugin_output: usize,
    /// How the plugins are compiled to machine code: `quick` compiles in half the time, and its
    /// code runs up to a third slower; `optimized` the other way round. Compiled code is cached,
    /// per kind. Default: quick for fleets of up to 10 tenants, optimized for larger ones.
    #[arg(long, value_name = "quick|optimized")]
    pub plugin_code: Option<plugin::CodeTier>,
}

/// The shortest plugin timeout: call time is measured in epoch ticks of 10 ms.
const MIN_TIMEOUT_SECS: f64 = 0.01;
/// The longest plugin timeout (about 31 years): longer ones would overflow the epoch deadline.
const MAX_TIMEOUT_SECS: f64 = 1e9;

impl RunArgs {
    /// The validated options of a run.
    pub fn options(&self) -> anyhow::Result<RunOptions> {
        Ok(RunOptions {
            plugins: self.plugins.clone(),
            config: self.config.clone(),
            registry: self.registry.clone(),
            suffix: self.environment_suffix.clone(),
            schema: self.schema.clone(),
            every_intent_verdict: false,
            limits: plugin::Limits {
                call_timeout: call_timeout(self.plugin_timeout)?,
                memory_bytes: mebibytes("--plugin-memory", self.plugin_memory)?,
                output_bytes: mebibytes("--plugin-output", self.plugin_output)?,
            },
            code: self.plugin_code,
            plan: tenant_host::tenants::PlanOptions::default(),
        })
    }
}

/// The `--plugin-timeout` in seconds as a duration: positive, no finer than one epoch tick, and
/// small enough to count in ticks.
fn call_timeout(seconds: f64) -> anyhow::Result<Duration> {
    anyhow::ensure!(
        seconds.is_finite() && seconds > 0.0,
        "--plugin-timeout must be a positive number of seconds, not {seconds}"
    );
    anyhow::ensure!(
        seconds >= MIN_TIMEOUT_SECS,
        "--plugin-timeout must be at least {MIN_TIMEOUT_SECS} seconds, not {seconds}: plugin call time is measured in 10 ms ticks"
    );
    anyhow::ensure!(
        seconds <= MAX_TIMEOUT_SECS,
        "--plugin-timeout must be at most {MAX_TIMEOUT_SECS} seconds, not {seconds}"
    );
    Duration::try_from_secs_f64(seconds)
        .map_err(|e| anyhow::anyhow!("--plugin-timeout {seconds} is not a usable duration: {e}"))
}

/// A size flag in MiB as bytes: at least 1 MiB, and no more than the address space holds.
fn mebibytes(flag: &str, mib: usize) -> anyhow::Result<usize> {
    anyhow::ensure!(mib >= 1, "{flag} must be at least 1 MiB, not {mib}");
    mib.checked_mul(1 << 20)
        .ok_or_else(|| anyhow::anyhow!("{flag} {mib} MiB is more bytes than this machine can address"))
}

/// The format of a findings report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Grouped by stack, coloured on a terminal.
    Text,
    /// One JSON document (schema in docs/policy.md).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
}

/// How findings are reported.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

impl ReportArgs {
    /// Renders the outcome's findings and writes them where the flags say.
    pub fn write(
        &self,
        outcome: &Outcome,
        stacks: &CurrentStacks,
        config: Option<&Path>,
    ) -> anyhow::Result<()> {
        let places = Places { stacks, config };
        let text = match self.format {
            Format::Text => {
                let colour = self.report.is_none()
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
                report::render_text(outcome, places, colour)
            }
            Format::Json => tenant_host::output::render_json(&report::render_json_report(outcome, places)),
            Format::Sarif => tenant_host::output::render_json(&report::render_sarif(outcome, places)),
        };
        match &self.report {
            Some(file) => std::fs::write(file, text).map_err(|e| {
                anyhow::anyhow!(
                    "cannot write the report to {}: {e}; check that its folder exists and is writable",
                    file.display()
                )
            }),
            None => {
                print!("{text}");
                Ok(())
            }
        }
    }
}
