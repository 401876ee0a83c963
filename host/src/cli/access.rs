//! `tenant-host access`: synthesize in memory, then print the access matrix (who can do what to
//! which resource, and which statements decide) and every access intent with its verdict.

use super::EXIT_POLICY_ERRORS;
use super::run_args::RunArgs;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::ExitCode;
use tenant_host::access::{AccessReport, MatrixCell, statement_names};

#[derive(Debug, Args)]
pub struct AccessArgs {
    #[command(flatten)]
    run: RunArgs,
    /// `text` lists failing intents and every cell that is not certainly denied; `json` has all.
    #[arg(long, value_enum, default_value_t = AccessFormat::Text)]
    format: AccessFormat,
    /// Only this principal: its id (`stack:aws_iam_role.name`, `deployer`, `anonymous`,
    /// `account:other`) or the end of it (`aws_iam_role.lambda_execution`).
    #[arg(long, value_name = "P")]
    principal: Option<String>,
    /// Only cells and intents that involve this tenant.
    #[arg(long, value_name = "ID")]
    tenant: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum AccessFormat {
    Text,
    Json,
}

pub fn run(args: AccessArgs) -> anyhow::Result<ExitCode> {
    let options = tenant_host::RunOptions {
        every_intent_verdict: true,
        ..args.run.options()?
    };
    let outcome = tenant_host::run(&options)?;
    let report = &outcome.access;
    let failed = !report.findings().is_empty();
    let tenants: BTreeMap<&str, &str> = outcome
        .stacks
        .iter()
        .filter_map(|s| Some((s.name.as_str(), s.tenant.as_ref()?.id.as_str())))
        .collect();
    let tenant_of_stack = |stack: &str| tenants.get(stack).map(|id| (*id).to_owned());
    let wanted_principal = |id: &str| {
        args.principal
            .as_deref()
            .is_none_or(|wanted| id == wanted || id.ends_with(wanted))
    };
    let wanted_tenant = |tenants: &[Option<String>]| {
        args.tenant
            .as_deref()
            .is_none_or(|wanted| tenants.iter().any(|t| t.as_deref() == Some(wanted)))
    };
    let matrix = report.matrix(|principal, resource| {
        wanted_principal(&principal.id) && wanted_tenant(&[principal.tenant.clone(), resource.tenant.clone()])
    });
    let cells: Vec<&MatrixCell> = matrix.iter().collect();
    let intents: Vec<_> = report
        .intents
        .iter()
        .filter(|o| wanted_principal(o.principal.as_deref().unwrap_or(&o.intent.principal)))
        .filter(|o| wanted_tenant(&[tenant_of_stack(&o.intent.stack)]))
        .collect();
    let text = match args.format {
        AccessFormat::Json => tenant_host::output::render_json(&json_report(report, &intents, &cells)),
        AccessFormat::Text => text_report(report, &intents, &cells),
    };
    print!("{text}");
    Ok(if failed {
        ExitCode::from(EXIT_POLICY_ERRORS)
    } else {
        ExitCode::SUCCESS
    })
}

fn json_report(
    report: &AccessReport,
    intents: &[&tenant_access::intent::IntentOutcome],
    cells: &[&MatrixCell],
) -> Value {
    json!({
        "intents": intents.iter().map(|o| json!({
            "plugin": &*o.intent.plugin,
            "stack": &*o.intent.stack,
            "principal": o.principal.as_deref().unwrap_or(&o.intent.principal),
            "action": &*o.intent.action,
            "resource": o.resource,
            "expect": o.intent.expect.as_str(),
            "holds": o.holds,
            "because": &*o.intent.because,
            "verdict": o.evaluation.as_ref().map_or("unresolved", |e| e.verdict.as_str()),
            "statements": o.evaluation.as_ref().map(statement_names).unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "matrix": cells.iter().map(|c| json!({
            "principal": c.principal,
            "principal_tenant": c.principal_tenant,
            "resource": c.resource,
            "resource_tenant": c.resource_tenant,
            "action": c.action,
            "arn": c.arn,
            "verdict": c.verdict,
            "statements": c.statements,
            "violates_isolation": c.violates_isolation,
        })).collect::<Vec<_>>(),
        "notes": report.notes(),
    })
}

fn text_report(
    report: &AccessReport,
    intents: &[&tenant_access::intent::IntentOutcome],
    cells: &[&MatrixCell],
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let holding = intents.iter().filter(|o| o.holds).count();
    let _ = writeln!(out, "intents: {holding} of {} hold", intents.len());
    for outcome in intents.iter().filter(|o| !o.holds) {
        let _ = writeln!(
            out,
            "  FAILS  {} must {} {} on {} ({}): {}",
            outcome.principal.as_deref().unwrap_or(&outcome.intent.principal),
            outcome.intent.expect.as_str(),
            outcome.intent.action,
            outcome.resource,
            outcome
                .evaluation
                .as_ref()
                .map_or("unresolved", |e| e.verdict.as_str()),
            outcome.intent.because,
        );
    }
    let open: Vec<&&MatrixCell> = cells.iter().filter(|c| !c.verdict.ends_with("deny")).collect();
    let violations = cells.iter().filter(|c| c.violates_isolation).count();
    let _ = writeln!(
        out,
        "matrix: {} cells, {} not certainly denied, {violations} break tenant isolation",
        cells.len(),
        open.len()
    );
    for cell in open {
        let _ = writeln!(
            out,
            "  {:<8} {} {} {}{}",
            cell.verdict,
            cell.principal,
            cell.action,
            cell.arn,
            if cell.violates_isolation {
                "  <- breaks isolation"
            } else {
                ""
            }
        );
    }
    for note in report.notes() {
        let _ = writeln!(out, "note: {note}");
    }
    out
}
