//! `tenant-host synth`: synthesize, check, and write the output folder.

use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tenant_host::findings::{Finding, Severity};
use tenant_host::output::{ManifestStack, Selection, Staging, Written};
use tenant_host::tenants::PlanOptions;
use tenant_host::{Outcome, lock::LockUpdate};

use super::EXIT_POLICY_ERRORS;
use super::progress::Bar;
use super::run_args::RunArgs;

#[derive(Debug, Args)]
pub struct SynthArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Output folder, replaced only when the whole run succeeded.
    #[arg(long, value_name = "DIR", default_value = "cdktf.out")]
    out: PathBuf,
    /// Fail instead of changing the lock file beside --config (for CI): every tenant must
    /// already have its block recorded there.
    #[arg(long, requires = "config")]
    locked: bool,
    /// Write only this tenant's stack (repeatable); every other stack's folder stays as it is.
    #[arg(long = "tenant", value_name = "ID")]
    tenants: Vec<String>,
    /// Rewrite only the stacks whose digest differs from the previous output's manifest, and
    /// list them; every other stack's folder stays as it is.
    #[arg(long, conflicts_with = "tenants")]
    changed: bool,
    /// Give the block of a removed tenant back to the pool (repeatable); only after its stack
    /// is destroyed, since a new tenant may then get the same block.
    #[arg(long, value_name = "ID", requires = "config")]
    release: Vec<String>,
    /// Drop the folders of stacks that are no longer configured, instead of keeping them; only
    /// after `terraform destroy` in each of them.
    #[arg(long)]
    prune_orphans: bool,
}

pub fn run(args: SynthArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut options = args.run.options()?;
    options.plan = PlanOptions {
        // A registry's blocks are allocated only by `tenants add`, under conditional writes.
        locked: args.locked || args.run.registry.is_some(),
        release: args.release.clone(),
        only: args.tenants.clone(),
    };
    let selection = if args.changed {
        Selection::Changed
    } else if args.tenants.is_empty() {
        Selection::All
    } else {
        Selection::Tenants(args.tenants.iter().cloned().collect())
    };
    // The folder is checked before any work: a folder tenant-host would not replace fails now.
    let staging =
        Staging::begin(&args.out, selection).with_context(|| format!("writing {}", args.out.display()))?;
    let outcome = tenant_host::run_with_progress(&options, &Bar::on_stderr(), &staging)?;
    print_findings(&outcome.findings);
    if outcome.has_errors() {
        eprintln!(
            "policy errors found: nothing written to {} and no lock file changed",
            args.out.display()
        );
        return Ok(ExitCode::from(EXIT_POLICY_ERRORS));
    }
    let stacks: Vec<ManifestStack<'_>> = outcome
        .stacks
        .iter()
        .map(|s| ManifestStack {
            name: &s.name,
            is_tenant: s.tenant.is_some(),
        })
        .collect();
    let written = staging
        .finish(&stacks, &outcome.findings, &outcome.digests, args.prune_orphans)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let lock_written = outcome
        .lock
        .write_if_changed()
        .context("the output was written, but the lock file was not; run synth again")?;
    if let Some(path) = lock_written {
        println!("recorded the tenants' blocks in {}; commit it", path.display());
    }
    if args.changed {
        match written.fresh.len() {
            0 => println!("no stack changed"),
            n => println!("{n} stacks changed: {}", written.fresh.join(", ")),
        }
    }
    print_orphans(&written, &args.out, args.prune_orphans, &outcome.lock);
    print_summary(&outcome, &written, &args.out, started.elapsed());
    Ok(ExitCode::SUCCESS)
}

/// Says which stacks are no longer configured and how to destroy them, and which blocks stay
/// reserved.
fn print_orphans(written: &Written, out: &Path, pruned: bool, lock: &LockUpdate) {
    for orphan in &written.orphans {
        let dir = out.join("stacks").join(orphan);
        if pruned {
            eprintln!(
                "warning: stack `{orphan}` is no longer configured; its folder {} was dropped (--prune-orphans)",
                dir.display()
            );
            continue;
        }
        eprintln!(
            "warning: stack `{orphan}` is no longer configured; its folder {dir} is kept and its resources still exist\n    \
             destroy them first: terraform -chdir={dir} init && terraform -chdir={dir} destroy\n    \
             then drop the folder with `tenant-host synth ... --prune-orphans`",
            dir = dir.display()
        );
    }
    for (id, block) in &lock.retired {
        eprintln!(
            "note: tenant `{id}` is no longer configured; its block {block} stays reserved in the lock file \
             until `tenant-host synth ... --release {id}` (after its stack is destroyed)"
        );
    }
}

fn print_findings(findings: &[Finding]) {
    for f in findings {
        let place = match (&f.stack, f.address.is_empty()) {
            (Some(stack), false) => format!("{stack}: {}", f.address),
            (Some(stack), true) => stack.clone(),
            (None, _) => "fleet".to_owned(),
        };
        eprintln!(
            "{}[{}] {place}: {}\n    remediation: {}\n    from plugin `{}`",
            f.severity.as_str(),
            f.rule_id,
            f.message,
            f.remediation,
            f.plugin
        );
        if let Some(waived) = &f.waived {
            eprintln!("    {waived}");
        }
    }
}

fn print_summary(outcome: &Outcome, written: &Written, out: &Path, elapsed: Duration) {
    let count = |s: Severity| outcome.findings.iter().filter(|f| f.severity == s).count();
    let resources: usize = outcome
        .stacks
        .iter()
        .filter(|s| written.kept.binary_search(&s.name).is_err())
        .map(|s| s.resources)
        .sum();
    let kept = match written.kept.len() {
        0 => String::new(),
        n => format!(" (kept the previous folders of {n} other stacks)"),
    };
    println!(
        "wrote {} stacks ({} resources){kept} from {} plugins to {} in {:.2?}: {} warnings, {} notes",
        outcome.stacks.len() - written.kept.len(),
        resources,
        outcome.plugins.len(),
        out.display(),
        elapsed,
        count(Severity::Warning),
        count(Severity::Info),
    );
}
