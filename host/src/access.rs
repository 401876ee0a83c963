//! The access model over the composed fleet: builds the `tenant-access` fleet model from the
//! composed stacks, checks every access intent (the host's own and those plugins declare) and
//! the fleet invariant over every principal × resource pair, and turns what fails into findings
//! of `host.access-intent` and `host.cross-tenant-access`.
//!
//! The invariant: no principal bound to one tenant (declared in its stack, or tagged with its
//! `TenantId`) may perform a data action on another tenant's bucket, table, key, log groups or
//! queues, and no anonymous caller may perform any — proven, not sampled: an unknown verdict
//! fails it. Semantics and limits: `docs/access.md`.

use std::collections::BTreeMap;

use tenant_access::fleet::{
    ACCOUNT, Fleet as AccessFleet, FleetOptions, FleetPrincipal, FleetResource, MatrixEntry, StackInput,
};
use tenant_access::intent::{Expectation, Intent, IntentOutcome};
use tenant_access::model::{ResolvedIntent, StackModel};
use tenant_access::texts::Texts;

use crate::compose::ComposedStack;
use crate::config::AccessConfig;
use crate::findings::{ACCESS_INTENT, CROSS_TENANT_ACCESS, Finding, Severity};
use crate::pipeline::StackRecord;
use crate::plugin::api;
use crate::synth::parallel_map;

/// One cell of the access matrix, owned for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixCell {
    /// The principal's id.
    pub principal: String,
    /// The tenant it is bound to.
    pub principal_tenant: Option<String>,
    /// The resource's id, `stack:type.name`.
    pub resource: String,
    /// The resource's tenant.
    pub resource_tenant: Option<String>,
    /// The data action.
    pub action: String,
    /// The ARN it applies to.
    pub arn: String,
    /// `allowed`, `explicit-deny`, `implicit-deny` or `unknown`.
    pub verdict: &'static str,
    /// The statements that apply or may apply, `policy#sid`.
    pub statements: Vec<String>,
    /// Whether it breaks the fleet invariant.
    pub violates_isolation: bool,
}

/// What the access model found.
#[derive(Debug, Clone)]
pub struct AccessReport {
    /// The fleet model, for matrices on demand.
    pub fleet: AccessFleet,
    /// Intents with their verdicts, in order: the host's deployer intents, then each stack's
    /// (those the host derives from its resources that no plugin declared, then those its
    /// plugins declared). Every intent when the run asked for every verdict; else the failing.
    pub intents: Vec<IntentOutcome>,
    /// How many intents were checked.
    pub checked: usize,
    /// How many of them hold.
    pub held: usize,
    /// The cells of the matrix that break the fleet invariant.
    pub violations: Vec<MatrixCell>,
    /// Which plugin emitted each role, by `stack:address`, for blame.
    origins: BTreeMap<String, String>,
}

/// The deployer's ARN: configured, or an untagged `terraform-deployer` role of the account.
pub fn deployer_role_arn(config: &AccessConfig) -> String {
    config
        .deployer_role_arn
        .as_deref()
        .unwrap_or("arn:aws:iam::${account}:role/terraform-deployer")
        .replace("${account}", ACCOUNT)
}

/// What the access model keeps of one composed stack, with the intents the host derives from its
/// resources and those its plugins declared (contract 0.2; 0.1 plugins declare none); their texts
/// are shared through `texts` with every other stack's.
pub fn stack_model(stack: &ComposedStack, texts: &Texts) -> StackModel {
    let input = StackInput {
        name: &stack.name,
        tenant: stack.tenant.as_ref().map(|t| t.id.as_str()),
        document: &stack.document,
    };
    StackModel::extract(input, plugin_intents(stack, texts).collect(), texts)
}

/// How many intents [`analyse`] checks at a time: each batch's resolved intents are freed once
/// judged, so only verdicts that are kept stay.
const INTENT_BATCH: usize = 4096;

/// For how many resources the host's intents are made at a time (2–4 intents each).
const HOST_INTENT_RESOURCES: usize = 1024;

/// Runs the access model over the records of every stack, whose models it takes: the host's
/// deployer intents, each stack's intents, and the fleet invariant.
pub fn analyse(records: &mut [StackRecord], config: &AccessConfig, every_verdict: bool) -> AccessReport {
    let options = FleetOptions {
        deployer_role_arn: deployer_role_arn(config),
    };
    let started = std::time::Instant::now();
    let mut models: Vec<StackModel> = records
        .iter_mut()
        .map(|r| std::mem::take(&mut r.access))
        .collect();
    // The stacks' intents are judged from their own lists: moved into the fleet's one list, the
    // 610,000 of 10,000 tenants were held twice over while it grew (112 MB more at the peak).
    let stack_intents: Vec<Vec<ResolvedIntent>> = models.iter_mut().map(StackModel::take_intents).collect();
    let fleet = AccessFleet::from_models(models, &options);
    tracing::debug!(elapsed = ?started.elapsed(), principals = fleet.principals.len(), resources = fleet.resources.len(), "joined the access model");
    // The host's intents (several per resource, each with its own reason) are made for a part of
    // the resources at a time, and the stacks' intents taken a batch at a time: only the verdicts
    // kept outlive their batch.
    let mut stack_intents = stack_intents.into_iter().flatten();
    let host_batches =
        fleet
            .resources
            .chunks(HOST_INTENT_RESOURCES)
            .map(|resources| -> Vec<ResolvedIntent> {
                AccessFleet::host_intents_for(resources)
                    .into_iter()
                    .map(ResolvedIntent::literal)
                    .collect()
            });
    let stack_batches = std::iter::from_fn(|| {
        let batch: Vec<ResolvedIntent> = stack_intents.by_ref().take(INTENT_BATCH).collect();
        (!batch.is_empty()).then_some(batch)
    });
    let (mut kept, mut held, mut checked) = (Vec::new(), 0, 0);
    for batch in host_batches.chain(stack_batches) {
        checked += batch.len();
        let judged = parallel_map(&batch, |intent| {
            fleet.judge_resolved_intent(intent, every_verdict)
        });
        // What is not described held.
        held += judged
            .iter()
            .filter(|o| o.as_ref().is_none_or(|o| o.holds))
            .count();
        kept.extend(judged.into_iter().flatten());
    }
    tracing::debug!(elapsed = ?started.elapsed(), intents = checked, held, "checked the access intents");
    let search = fleet.isolation_search();
    let violations: Vec<MatrixCell> = parallel_map(&fleet.principals, |principal| {
        let cells: Vec<MatrixCell> = search
            .violations_of(principal)
            .iter()
            .map(MatrixCell::of)
            .collect();
        cells
    })
    .into_iter()
    .flatten()
    .collect();
    tracing::debug!(elapsed = ?started.elapsed(), violations = violations.len(), "searched for isolation violations");
    let origins = records
        .iter()
        .flat_map(|record| {
            record
                .role_origins
                .iter()
                .map(move |(address, plugin)| (format!("{}:{address}", record.name), plugin.clone()))
        })
        .collect();
    AccessReport {
        fleet,
        intents: kept,
        checked,
        held,
        violations,
        origins,
    }
}

impl MatrixCell {
    fn of(entry: &MatrixEntry<'_>) -> MatrixCell {
        MatrixCell {
            principal: entry.principal.id.clone(),
            principal_tenant: entry.principal.tenant.clone(),
            resource: entry.resource.id.clone(),
            resource_tenant: entry.resource.tenant.clone(),
            action: entry.action.to_owned(),
            verdict: entry.evaluation.verdict.as_str(),
            statements: statement_names(&entry.evaluation),
            violates_isolation: entry.violates_isolation(),
            arn: entry.arn.clone(),
        }
    }
}

/// The intents the plugins declared in one stack, in the model's terms.
fn plugin_intents<'a>(stack: &'a ComposedStack, texts: &'a Texts) -> impl Iterator<Item = Intent> + 'a {
    let stack_name = texts.share(&stack.name);
    stack.intents.iter().flat_map(move |(plugin, intents)| {
        let (plugin, stack_name) = (texts.share(plugin), stack_name.clone());
        intents.iter().map(move |intent| Intent {
            plugin: plugin.clone(),
            stack: stack_name.clone(),
            principal: texts.share(&intent.principal),
            action: texts.share(&intent.action),
            resource: texts.share(&intent.resource),
            expect: match intent.expect {
                api::AccessExpectation::Allow => Expectation::Allow,
                api::AccessExpectation::Deny => Expectation::Deny,
            },
            context: texts.share_pairs(intent.context.iter().map(|(key, value)| (&**key, &**value))),
            because: texts.share(&intent.because),
        })
    })
}

/// The address of a failing intent's finding: the principal's block when the intent's stack
/// declares it (its policies are what to change), else the block the resource expression names,
/// else the principal as the intent writes it (`deployer`, `service:logs.amazonaws.com`).
fn intent_address(outcome: &IntentOutcome) -> String {
    let intent = &outcome.intent;
    let own_principal = outcome.principal.as_ref().ok().and_then(|id| {
        id.strip_prefix(&*intent.stack)
            .and_then(|rest| rest.strip_prefix(':'))
    });
    own_principal
        .map(str::to_owned)
        .or_else(|| referenced_block(&intent.resource))
        .unwrap_or_else(|| intent.principal.to_string())
}

/// The block the first reference of a Terraform template names: `${aws_s3_bucket.data.arn}/*`
/// gives `aws_s3_bucket.data`, `${data.aws_region.current.name}` gives
/// `data.aws_region.current`; `None` for a literal, a function call or a variable.
fn referenced_block(template: &str) -> Option<String> {
    let expression = &template[template.find("${")? + 2..];
    let reference = expression
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
        .next()?;
    let mut parts = reference.split('.');
    let kind = match parts.next()? {
        "data" => format!("data.{}", parts.next()?),
        "var" | "local" | "module" | "each" | "count" | "path" | "self" | "terraform" => return None,
        kind => kind.to_owned(),
    };
    let name = parts.next().filter(|name| !name.is_empty())?;
    Some(format!("{kind}.{name}"))
}

/// `policy#sid` of every statement that applies or may apply (`?` when only possibly).
pub fn statement_names(evaluation: &tenant_access::Evaluation) -> Vec<String> {
    evaluation
        .statements
        .iter()
        .map(|s| {
            let maybe = if s.certainty == tenant_access::Tri::True {
                ""
            } else {
                "?"
            };
            format!("{}#{}{maybe}", s.policy, s.sid)
        })
        .collect()
}

impl AccessReport {
    /// The matrix over the principals and resources `wanted` picks: every data action of each
    /// resource, evaluated. The whole fleet's matrix grows with its square; pick.
    pub fn matrix(&self, wanted: impl Fn(&FleetPrincipal, &FleetResource) -> bool) -> Vec<MatrixCell> {
        self.fleet
            .matrix_where(wanted)
            .iter()
            .map(MatrixCell::of)
            .collect()
    }

    /// What the model could not read.
    pub fn notes(&self) -> &[String] {
        &self.fleet.notes
    }

    /// Findings: one per failing intent, one per principal and foreign resource it reaches.
    pub fn findings(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        for outcome in self.intents.iter().filter(|o| !o.holds) {
            let intent = &outcome.intent;
            let verdict = match (&outcome.principal, &outcome.evaluation) {
                (Err(why), _) => why.clone(),
                (Ok(_), Some(evaluation)) => {
                    let statements = statement_names(evaluation);
                    format!(
                        "verdict {}{}",
                        evaluation.verdict.as_str(),
                        if statements.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", statements.join(", "))
                        }
                    )
                }
                (Ok(_), None) => "not evaluated".to_owned(),
            };
            findings.push(Finding {
                stack: Some(intent.stack.to_string()),
                severity: Severity::Error,
                rule_id: ACCESS_INTENT.id.to_owned(),
                address: intent_address(outcome),
                plugin: intent.plugin.to_string(),
                message: format!(
                    "`{}` must be {} `{}` on `{}`, but is not: {verdict}. Because: {}",
                    outcome.principal.as_deref().unwrap_or(&intent.principal),
                    if intent.expect == Expectation::Allow { "allowed" } else { "denied" },
                    intent.action,
                    outcome.resource,
                    intent.because
                ),
                remediation: "Change the policies so the intent holds (see `tenant-host access --principal ... --format json` for the statements involved), or waive this finding with a reason.".to_owned(),
                waived: None,
            });
        }
        let mut reaches: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
        for cell in &self.violations {
            reaches
                .entry((&cell.principal, &cell.resource))
                .or_default()
                .push(format!("{} ({})", cell.action, cell.verdict));
        }
        for ((principal, resource), actions) in reaches {
            let (stack, address) = match principal.split_once(':') {
                Some((stack, address)) if stack != "account" => (Some(stack.to_owned()), address.to_owned()),
                _ => match resource.split_once(':') {
                    Some((stack, address)) => (Some(stack.to_owned()), address.to_owned()),
                    None => (None, (*resource).to_owned()),
                },
            };
            let plugin = self
                .origins
                .get(principal)
                .cloned()
                .unwrap_or_else(|| "host".to_owned());
            findings.push(Finding {
                stack,
                severity: Severity::Error,
                rule_id: CROSS_TENANT_ACCESS.id.to_owned(),
                address,
                plugin,
                message: format!(
                    "`{principal}` is not proven denied on another tenant's `{resource}`: {}",
                    actions.join(", ")
                ),
                remediation: "Scope the principal's policies (and boundary) to its own tenant's resources by ARN, without wildcards across tenants or computed ARNs the model cannot resolve.".to_owned(),
                waived: None,
            });
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(principal: Result<&str, &str>, intent_principal: &str, resource: &str) -> IntentOutcome {
        IntentOutcome {
            intent: Intent {
                plugin: "storage".into(),
                stack: "tenant-a-dev".into(),
                principal: intent_principal.into(),
                action: "s3:GetObject".into(),
                resource: resource.into(),
                expect: Expectation::Allow,
                context: Box::default(),
                because: "the API reads its objects".into(),
            },
            principal: principal.map(str::to_owned).map_err(str::to_owned),
            resource: "arn:aws:s3:::tenant-a-data-dev/*".into(),
            evaluation: None,
            holds: false,
        }
    }

    #[test]
    fn every_access_finding_names_a_block() {
        // (why, outcome, the finding's address)
        let cases = [
            (
                "the principal is a role of the intent's stack",
                failing(
                    Ok("tenant-a-dev:aws_iam_role.api"),
                    "${aws_iam_role.api.arn}",
                    "${aws_s3_bucket.data.arn}/*",
                ),
                "aws_iam_role.api",
            ),
            (
                "the deployer is no block: the resource's",
                failing(Ok("deployer"), "deployer", "${aws_s3_bucket.data.arn}/*"),
                "aws_s3_bucket.data",
            ),
            (
                "a role of another stack: the resource's",
                failing(
                    Ok("central-dev:aws_iam_role.forwarder"),
                    "arn:x",
                    "${data.aws_s3_bucket.shared.arn}",
                ),
                "data.aws_s3_bucket.shared",
            ),
            (
                "an unresolved principal and a literal resource: the principal as written",
                failing(
                    Err("not a role of the fleet"),
                    "service:logs.amazonaws.com",
                    "arn:aws:s3:::b",
                ),
                "service:logs.amazonaws.com",
            ),
        ];
        for (why, outcome, address) in cases {
            let report = AccessReport {
                fleet: AccessFleet::default(),
                checked: 1,
                held: 0,
                intents: vec![outcome],
                violations: Vec::new(),
                origins: BTreeMap::new(),
            };
            let findings = report.findings();
            assert_eq!(findings.len(), 1, "{why}");
            assert_eq!(findings[0].address, address, "{why}");
        }
    }

    #[test]
    fn cross_tenant_findings_of_another_account_name_the_resource() {
        let cell = MatrixCell {
            principal: "account:other".into(),
            principal_tenant: None,
            resource: "tenant-a-dev:aws_s3_bucket.data".into(),
            resource_tenant: Some("a".into()),
            action: "s3:GetObject".into(),
            arn: "arn:aws:s3:::tenant-a-data-dev/*".into(),
            verdict: "unknown",
            statements: Vec::new(),
            violates_isolation: true,
        };
        let report = AccessReport {
            fleet: AccessFleet::default(),
            checked: 0,
            held: 0,
            intents: Vec::new(),
            violations: vec![cell],
            origins: BTreeMap::new(),
        };
        let findings = report.findings();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].stack.as_deref(), Some("tenant-a-dev"));
        assert_eq!(findings[0].address, "aws_s3_bucket.data");
    }

    #[test]
    fn references_name_their_block() {
        for (template, block) in [
            ("${aws_s3_bucket.data.arn}/*", Some("aws_s3_bucket.data")),
            (
                "arn:${data.aws_partition.current.partition}:s3:::x",
                Some("data.aws_partition.current"),
            ),
            ("${format(\"%s\", aws_s3_bucket.data.arn)}", None),
            ("${var.bucket}", None),
            ("arn:aws:s3:::literal", None),
        ] {
            assert_eq!(referenced_block(template).as_deref(), block, "{template}");
        }
    }
}
