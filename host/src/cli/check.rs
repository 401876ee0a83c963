//! `tenant-host check`: synthesize and run every rule in memory, report, write no stacks.

use super::EXIT_POLICY_ERRORS;
use super::progress::Bar;
use super::run_args::{ReportArgs, RunArgs};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use tenant_host::report::CurrentStacks;

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    report: ReportArgs,
    /// The output folder `synth` writes; a finding points at a line of a stack file there only
    /// when that file holds exactly what this run would write.
    #[arg(long, value_name = "DIR", default_value = "cdktf.out")]
    out: PathBuf,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let current = CurrentStacks::new(&args.out);
    let outcome = tenant_host::run_with_progress(&args.run.options()?, &Bar::on_stderr(), &current)?;
    args.report
        .write(&outcome, &current, args.run.config.as_deref())?;
    Ok(if outcome.has_errors() {
        ExitCode::from(EXIT_POLICY_ERRORS)
    } else {
        ExitCode::SUCCESS
    })
}
