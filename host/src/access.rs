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

use tenant_access::fleet::{ACCOUNT, Fleet as AccessFleet, FleetOptions, StackInput};
use tenant_access::intent::{Expectation, Intent, IntentOutcome};

use crate::compose::ComposedStack;
use crate::config::AccessConfig;
use crate::findings::{ACCESS_INTENT, CROSS_TENANT_ACCESS, Finding, Severity};
use crate::plugin::api;

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
    /// Every intent with its verdict: the host's (deployer, then those derived from the resources
    /// that no plugin declared), then the plugins'.
    pub intents: Vec<IntentOutcome>,
    /// Every principal × resource × data action.
    pub matrix: Vec<MatrixCell>,
    /// What the model could not read.
    pub notes: Vec<String>,
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

/// Runs the access model over composed stacks: the host's intents, then those the plugins declared
/// in each stack (contract 0.2; 0.1 plugins declare none).
pub fn analyse(stacks: &[ComposedStack], config: &AccessConfig) -> AccessReport {
    let inputs: Vec<StackInput<'_>> = stacks
        .iter()
        .map(|stack| StackInput {
            name: &stack.name,
            tenant: stack.tenant.as_ref().map(|t| t.id.as_str()),
            document: &stack.document,
        })
        .collect();
    let options = FleetOptions {
        deployer_role_arn: deployer_role_arn(config),
    };
    let fleet = AccessFleet::from_stacks(&inputs, &options);
    let declared: Vec<Intent> = stacks.iter().flat_map(plugin_intents).collect();
    let mut intents = fleet.host_intents();
    intents.extend(fleet.derived_intents(&inputs, &declared));
    intents.extend(declared);
    let intents = fleet.check_intents(&inputs, &intents);
    let matrix = fleet
        .matrix()
        .into_iter()
        .map(|entry| MatrixCell {
            principal: entry.principal.id.clone(),
            principal_tenant: entry.principal.tenant.clone(),
            resource: entry.resource.id.clone(),
            resource_tenant: entry.resource.tenant.clone(),
            action: entry.action.to_owned(),
            verdict: entry.evaluation.verdict.as_str(),
            statements: statement_names(&entry.evaluation),
            violates_isolation: entry.violates_isolation(),
            arn: entry.arn,
        })
        .collect();
    let origins = stacks
        .iter()
        .flat_map(|stack| {
            stack
                .origins
                .iter()
                .map(move |(address, plugin)| (format!("{}:{address}", stack.name), plugin.clone()))
        })
        .collect();
    AccessReport {
        intents,
        matrix,
        notes: fleet.notes,
        origins,
    }
}

/// The intents the plugins declared in one stack, in the model's terms.
fn plugin_intents(stack: &ComposedStack) -> impl Iterator<Item = Intent> + '_ {
    stack.intents.iter().flat_map(move |(plugin, intents)| {
        intents.iter().map(move |intent| Intent {
            plugin: plugin.clone(),
            stack: stack.name.clone(),
            principal: intent.principal.clone(),
            action: intent.action.clone(),
            resource: intent.resource.clone(),
            expect: match intent.expect {
                api::AccessExpectation::Allow => Expectation::Allow,
                api::AccessExpectation::Deny => Expectation::Deny,
            },
            context: intent.context.clone(),
            because: intent.because.clone(),
        })
    })
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
                stack: Some(intent.stack.clone()),
                severity: Severity::Error,
                rule_id: ACCESS_INTENT.id.to_owned(),
                address: String::new(),
                plugin: intent.plugin.clone(),
                message: format!(
                    "`{}` must be {} `{}` on `{}`, but is not: {verdict}. Because: {}",
                    outcome.principal.as_ref().unwrap_or(&intent.principal),
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
        for cell in self.matrix.iter().filter(|c| c.violates_isolation) {
            reaches
                .entry((&cell.principal, &cell.resource))
                .or_default()
                .push(format!("{} ({})", cell.action, cell.verdict));
        }
        for ((principal, resource), actions) in reaches {
            let (stack, address) = match principal.split_once(':') {
                Some((stack, address)) if stack != "account" => (Some(stack.to_owned()), address.to_owned()),
                _ => (
                    resource.split_once(':').map(|(stack, _)| stack.to_owned()),
                    String::new(),
                ),
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
