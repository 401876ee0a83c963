//! `tenant-host check`: synthesize and run every rule in memory, report, write no stacks.

use super::EXIT_POLICY_ERRORS;
use super::progress::Bar;
use super::run_args::{ReportArgs, RunArgs};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    report: ReportArgs,
    /// The output folder `synth` would write; report locations point into it.
    #[arg(long, value_name = "DIR", default_value = "cdktf.out")]
    out: PathBuf,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let outcome = tenant_host::run_with_progress(&args.run.options()?, &Bar::on_stderr())?;
    args.report
        .write(&outcome, &args.out, args.run.config.as_deref())?;
    Ok(if outcome.has_errors() {
        ExitCode::from(EXIT_POLICY_ERRORS)
    } else {
        ExitCode::SUCCESS
    })
}
