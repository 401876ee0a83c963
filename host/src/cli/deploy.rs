//! `tenant-host deploy`: drives `terraform` over a synthesized output folder: the central stack
//! first, then the tenant stacks in parallel, then destroys of removed tenants' stacks. Every
//! finished stack is recorded in the folder's state file at once, so an interrupted or failed
//! deploy resumes where it stopped.

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use tenant_host::rollout::{self, Action, DeployState, Scope, Step};

#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The output folder `synth` wrote.
    #[arg(long, value_name = "DIR", default_value = "cdktf.out")]
    out: PathBuf,
    /// How many stacks of one wave run `terraform` at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    parallelism: u16,
    /// Only stacks whose digest differs from the one last applied (see `plan-rollout`), and
    /// destroys of removed stacks.
    #[arg(long)]
    changed: bool,
    /// The terraform executable.
    #[arg(long, env = "TERRAFORM", value_name = "PATH", default_value = "terraform")]
    terraform: PathBuf,
}

pub fn run(args: DeployArgs) -> anyhow::Result<ExitCode> {
    let scope = if args.changed { Scope::Changed } else { Scope::All };
    // Canary phases are for the cloud rollout; a local deploy runs each wave at once.
    let steps = rollout::plan(&args.out, scope, 100)?;
    if steps.is_empty() {
        println!("nothing to deploy: every stack is applied at its digest");
        return Ok(ExitCode::SUCCESS);
    }
    let logs = args.out.join(tenant_host::output::DEPLOY_LOG_FOLDER);
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    let mut state = DeployState::read(&args.out)?;
    state.interrupted.get_or_insert_default();
    state.write(&args.out)?;
    let state = Mutex::new(state);
    let progress = progress_bar(steps.len());
    let mut failed: Vec<String> = Vec::new();
    let mut waves: Vec<&[Step]> = steps.chunk_by(|a, b| a.wave == b.wave).collect();
    for wave in waves.drain(..) {
        failed = run_wave(&args, wave, &state, &progress)?;
        if !failed.is_empty() {
            break;
        }
    }
    progress.finish_and_clear();
    let mut state = state
        .into_inner()
        .expect("no worker panicked while holding the state");
    if !failed.is_empty() {
        for failure in &failed {
            eprintln!("error: {failure}");
        }
        eprintln!(
            "deploy stopped after this wave; {} stacks are recorded as finished in {}; run deploy again to resume",
            state.interrupted.as_ref().map_or(0, |f| f.len()),
            args.out.join(tenant_host::output::DEPLOY_STATE_FILE).display()
        );
        return Ok(ExitCode::FAILURE);
    }
    state.interrupted = None;
    state.write(&args.out)?;
    let applied = steps.iter().filter(|s| s.action == Action::Apply).count();
    println!(
        "deployed {applied} stacks and destroyed {} in {}",
        steps.len() - applied,
        args.out.display()
    );
    for step in steps.iter().filter(|s| s.action == Action::Destroy) {
        println!(
            "destroyed `{}`: release its tenant's block with `tenant-host tenants release <id>` and drop the folder with `synth --prune-orphans`",
            step.stack
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on standard error, drawn only on a terminal.
fn progress_bar(len: usize) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len as u64), target);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {wide_msg}")
            .expect("a valid template"),
    );
    bar
}

/// Runs every step of one wave, `--parallelism` at a time; returns the failures.
fn run_wave(
    args: &DeployArgs,
    wave: &[Step],
    state: &Mutex<DeployState>,
    progress: &ProgressBar,
) -> anyhow::Result<Vec<String>> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let record_error = Mutex::new(None);
    let workers = usize::from(args.parallelism).min(wave.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(step) = wave.get(next.fetch_add(1, Ordering::SeqCst)) {
                    progress.set_message(format!("{} {}", verb(step.action), step.stack));
                    match run_step(args, step) {
                        Ok(()) => {
                            let mut state = state.lock().expect("state lock");
                            match step.action {
                                Action::Apply => {
                                    let digest = step.digest.clone().unwrap_or_default();
                                    state.applied.insert(step.stack.clone(), digest);
                                }
                                Action::Destroy => {
                                    state.applied.remove(&step.stack);
                                }
                            }
                            state
                                .interrupted
                                .get_or_insert_default()
                                .insert(step.stack.clone());
                            if let Err(e) = state.write(&args.out) {
                                record_error.lock().expect("error lock").get_or_insert(e);
                            }
                        }
                        Err(failure) => failures.lock().expect("failure lock").push(failure),
                    }
                    progress.inc(1);
                }
            });
        }
    });
    if let Some(error) = record_error.into_inner().expect("error lock") {
        return Err(error).context("a stack finished, but the deploy state could not be recorded");
    }
    Ok(failures.into_inner().expect("failure lock"))
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Apply => "applying",
        Action::Destroy => "destroying",
    }
}

/// `terraform init` and `apply` (or `destroy`) in the step's folder, output into its log file.
fn run_step(args: &DeployArgs, step: &Step) -> Result<(), String> {
    let folder = args.out.join(&step.working_directory);
    if !folder.is_dir() {
        return Err(format!(
            "stack `{}`: its folder {} is missing; synthesize again (a removed stack's folder is kept until --prune-orphans)",
            step.stack,
            folder.display()
        ));
    }
    let log_path = args
        .out
        .join(tenant_host::output::DEPLOY_LOG_FOLDER)
        .join(format!("{}.log", step.stack));
    let last = match step.action {
        Action::Apply => "apply",
        Action::Destroy => "destroy",
    };
    for command in [
        &["init", "-input=false"][..],
        &[last, "-auto-approve", "-input=false"],
    ] {
        terraform(&args.terraform, &folder, command, &log_path)
            .map_err(|why| format!("stack `{}`: terraform {}: {why}", step.stack, command[0]))?;
    }
    Ok(())
}

/// Runs one terraform command with `-chdir=folder`, appending its output to `log`.
fn terraform(terraform: &Path, folder: &Path, command: &[&str], log: &Path) -> Result<(), String> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("cannot open the log {}: {e}", log.display()))?;
    let errors = file
        .try_clone()
        .map_err(|e| format!("cannot open the log {}: {e}", log.display()))?;
    let status = Command::new(terraform)
        .arg(format!("-chdir={}", folder.display()))
        .args(command)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(errors)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", terraform.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{status}; its output is in {}", log.display()))
    }
}
