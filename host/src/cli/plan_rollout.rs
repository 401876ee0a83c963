//! `tenant-host plan-rollout`: the stacks of an output folder that a rollout must apply (their
//! digest differs from the one `deploy` recorded) or destroy (applied once, no longer in the
//! manifest), in dependency order.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use tenant_host::rollout::{self, Action, Phase, Scope};

#[derive(Debug, Args)]
pub struct PlanRolloutArgs {
    /// The output folder `synth` wrote.
    #[arg(long, value_name = "DIR", default_value = "cdktf.out")]
    out: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    format: PlanFormat,
    /// After the single canary stack, this percentage of the other tenant stacks (rounded up)
    /// forms the second phase of the fleet rollout; the rest the third.
    #[arg(long, value_name = "PERCENT", default_value_t = 10, value_parser = clap::value_parser!(u8).range(0..=100))]
    canary_percent: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PlanFormat {
    /// One step per line: wave, action, stack.
    Text,
    /// A JSON array of `{stack, action, wave, digest, working_directory, tenant, phase}`: the
    /// item list the rollout state machine's Distributed Map reads from S3.
    Json,
}

pub fn run(args: PlanRolloutArgs) -> anyhow::Result<ExitCode> {
    let steps = rollout::plan(&args.out, Scope::Changed, args.canary_percent)?;
    match args.format {
        PlanFormat::Json => print!(
            "{}",
            tenant_host::output::render_json(&serde_json::to_value(&steps)?)
        ),
        PlanFormat::Text if steps.is_empty() => {
            println!("nothing to roll out: every stack is applied at its digest")
        }
        PlanFormat::Text => {
            for step in &steps {
                let action = match step.action {
                    Action::Apply => "apply",
                    Action::Destroy => "destroy",
                };
                let phase = match step.phase {
                    Some(Phase::Canary) => "\tcanary",
                    Some(Phase::Percentage) => "\tpercentage",
                    Some(Phase::Rest) => "\trest",
                    None => "",
                };
                println!("{}\t{action}\t{}{phase}", step.wave, step.stack);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
