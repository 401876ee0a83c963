//! Runs every plugin's rules over the composed stacks and the fleet, after composition, so a rule
//! sees what every plugin emitted. Plugins only see documents, never each other's findings, so
//! none can suppress or alter another's.

use crate::compose::ComposedStack;
use crate::guardrails;
use crate::plugin::{CallError, CallFailure, Function, LoadedPlugin, Runtime, api};
use crate::progress::{Phase, Progress};
use crate::schema::{self, ProviderSchema};
use crate::synth::{SynthError, parallel_map, resolved_settings, wire_tenant};
use crate::tenants::Fleet;
use serde_json::Value;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Fails the run.
    Error,
    /// Reported.
    Warning,
    /// Reported for information.
    Info,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

impl From<api::Severity> for Severity {
    fn from(severity: api::Severity) -> Self {
        match severity {
            api::Severity::Error => Self::Error,
            api::Severity::Warning => Self::Warning,
            api::Severity::Info => Self::Info,
        }
    }
}

/// One finding, attributed to the plugin whose rule produced it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// The stack, or `None` for a fleet finding.
    pub stack: Option<String>,
    /// The severity.
    pub severity: Severity,
    /// The rule.
    pub rule_id: String,
    /// The resource address, or empty.
    pub address: String,
    /// The plugin that owns the rule.
    pub plugin: String,
    /// What is wrong.
    pub message: String,
    /// What to change.
    pub remediation: String,
    /// The waiver that accepts this finding, if one does; a waived finding stays in every report.
    pub waived: Option<Waived>,
}

impl Finding {
    /// Whether the finding fails the run: an error that no waiver accepts.
    pub fn is_blocking(&self) -> bool {
        self.severity == Severity::Error && self.waived.is_none()
    }
}

/// Why and until when a finding is accepted, copied from the waiver that matched it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Waived {
    /// The waiver's reason.
    pub reason: String,
    /// The waiver's last day, `YYYY-MM-DD`.
    pub expires: String,
}

impl std::fmt::Display for Waived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "waived until {}: {}", self.expires, self.reason)
    }
}

/// A rule the host enforces itself, whatever plugins are loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostRule {
    /// The rule id, `host.<kebab-case-name>`.
    pub id: &'static str,
    /// The severity of its findings.
    pub severity: Severity,
    /// What the rule demands, in one line.
    pub description: &'static str,
}

/// The host's schema rules. Findings of these rules are blamed on the plugin that emitted the
/// offending block.
pub const SCHEMA_RULES: &[HostRule] = &[
    HostRule {
        id: SCHEMA_RULE,
        severity: Severity::Error,
        description: "Every resource and data source validates against the AWS provider schema.",
    },
    HostRule {
        id: REFERENCE_RULE,
        severity: Severity::Error,
        description: "Every string is a well-formed Terraform template (closed, nested at most 32 deep, at most 1 MiB), and every ${...} reference names something declared in the same stack.",
    },
];

/// Every rule of the host: what must hold whatever plugins are loaded.
pub fn host_rules() -> impl Iterator<Item = &'static HostRule> {
    SCHEMA_RULES
        .iter()
        .chain(guardrails::RULES)
        .chain(crate::access::RULES)
        .chain(crate::waivers::RULES)
}
const SCHEMA_RULE: &str = "host.schema-valid";
const REFERENCE_RULE: &str = "host.references-resolve";

/// The AWS provider schema subset vendored for the resource types the bundled plugins use
/// (provenance in `tests/fixtures/aws-provider-schema/PROVENANCE.md`).
pub const BUNDLED_SCHEMA: &str =
    include_str!("../../tests/fixtures/aws-provider-schema/aws-6.25.0.subset.json");

/// Validates every block of `stack` against `schema` and resolves every reference; problems are
/// findings of the host rules, blamed on the plugin that emitted the block.
pub fn check_against_schema(schema: &ProviderSchema, stack: &ComposedStack) -> Vec<Finding> {
    let finding =
        |rule_id: &str, address: String, plugin: &str, message: String, remediation: &str| Finding {
            stack: Some(stack.name.clone()),
            severity: Severity::Error,
            rule_id: rule_id.into(),
            address,
            plugin: plugin.into(),
            message,
            remediation: remediation.into(),
            waived: None,
        };
    let origin = |address: &str| stack.origins.get(address).map_or("host", String::as_str);
    let mut findings = Vec::new();
    for (section, kind, prefix) in [
        ("resource", schema::BlockKind::Resource, ""),
        ("data", schema::BlockKind::Data, "data."),
    ] {
        let Some(types) = stack.document.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (type_name, blocks) in types {
            for (name, body) in blocks.as_object().into_iter().flatten() {
                let address = format!("{prefix}{type_name}.{name}");
                for problem in schema.validate(kind, type_name, body) {
                    let plugin = origin(&address);
                    findings.push(finding(
                        SCHEMA_RULE,
                        address.clone(),
                        plugin,
                        format!("{problem}"),
                        "Fix the plugin's output to match the provider schema, or pass --schema with the output of `terraform providers schema -json` if the type is missing from the bundled subset.",
                    ));
                }
            }
        }
    }
    for block in schema::check_references(&stack.document) {
        let plugin = origin(&block.address);
        for reference in block.undeclared {
            findings.push(finding(
                REFERENCE_RULE,
                block.address.clone(),
                plugin,
                format!("`{reference}` is referenced but not declared in this stack"),
                "Declare the block in the stack (tenant stacks reach the central stack only by names or data sources), or require the value from the plugin that provides it.",
            ));
        }
        for problem in block.problems {
            findings.push(finding(
                REFERENCE_RULE,
                block.address.clone(),
                plugin,
                format!(
                    "the string at {} is not a valid Terraform template: {}",
                    problem.pointer, problem.error
                ),
                "Close every `${`, `%{` and quoted string in the template, and nest templates less deeply; write a literal `${` as `$${`.",
            ));
        }
    }
    findings
}

/// Runs the schema checks, the host guardrails and `check-stack` of every plugin on every stack,
/// then the fleet guardrails and `check-fleet` of every plugin. Findings come back sorted by
/// stack, severity, rule and address.
pub fn run_checks(
    runtime: &Runtime,
    plugins: &[LoadedPlugin],
    fleet: &Fleet,
    stacks: &[ComposedStack],
    schema: &ProviderSchema,
    progress: &dyn Progress,
) -> Result<Vec<Finding>, SynthError> {
    let documents: Vec<api::StackDocument> = stacks
        .iter()
        .map(|s| api::StackDocument {
            stack: s.name.clone(),
            tenant: s.tenant.as_ref().map(wire_tenant),
            document: s.document.to_string(),
        })
        .collect();
    let started = std::time::Instant::now();
    let pairs: Vec<(&ComposedStack, &api::StackDocument)> = stacks.iter().zip(&documents).collect();
    progress.begin(Phase::CheckStacks, pairs.len());
    let per_stack = parallel_map(&pairs, |(stack, document)| -> Result<Vec<Finding>, SynthError> {
        let mut findings = check_against_schema(schema, stack);
        findings.extend(guardrails::check_stack(stack, fleet, schema));
        for plugin in plugins {
            let settings = &stack.settings[plugin.name()];
            let raw = plugin.check_stack(runtime, document, settings)?;
            findings.extend(attribute(plugin, Some(&stack.name), raw, Function::CheckStack)?);
        }
        progress.step();
        Ok(findings)
    });
    tracing::debug!(elapsed = ?started.elapsed(), "checked every stack");
    let mut findings = guardrails::check_fleet(stacks, fleet);
    findings.extend(crate::access::analyse(stacks, &fleet.access).findings());
    tracing::debug!(elapsed = ?started.elapsed(), "checked the fleet's access model");
    for result in per_stack {
        findings.extend(result?);
    }
    tracing::debug!(elapsed = ?started.elapsed(), "checked the fleet with host rules");
    // A 0.2 plugin's fleet check gets each stack's summary restricted to what it declared it
    // needs (nothing at all without `fleet-needs`); these run side by side. A 0.1 plugin still
    // gets every document and holds its own parsed copy of them all, so those run one at a time:
    // the peak is one copy of the fleet, not one per core.
    progress.begin(Phase::CheckFleet, plugins.len());
    let fleet_check = |plugin: &&LoadedPlugin| -> Result<Vec<Finding>, SynthError> {
        let settings = Value::Object(resolved_settings(plugin, fleet, None).clone()).to_string();
        let summaries = crate::compose::fleet_summaries(stacks, &plugin.info.fleet_needs);
        let documents: &[api::StackDocument] = if plugin.wants_documents() { &documents } else { &[] };
        let raw = plugin.check_fleet(runtime, &summaries, documents, &settings)?;
        let found = attribute(plugin, None, raw, Function::CheckFleet);
        progress.step();
        found
    };
    let (legacy, current): (Vec<&LoadedPlugin>, Vec<&LoadedPlugin>) =
        plugins.iter().partition(|p| p.wants_documents());
    let per_plugin = parallel_map(&current, fleet_check);
    for result in per_plugin.into_iter().chain(legacy.iter().map(fleet_check)) {
        findings.extend(result?);
    }
    tracing::debug!(elapsed = ?started.elapsed(), "checked the fleet with every plugin");
    findings.sort();
    Ok(findings)
}

/// Attributes findings to `plugin`, refusing a rule id it did not declare.
fn attribute(
    plugin: &LoadedPlugin,
    stack: Option<&str>,
    raw: Vec<api::Finding>,
    function: Function,
) -> Result<Vec<Finding>, SynthError> {
    raw.into_iter()
        .map(|f| {
            if !plugin.info.rules.iter().any(|r| r.id == f.rule_id) {
                return Err(SynthError::Call(CallError::after_call(
                    plugin.name(),
                    &stack.map_or_else(|| "the fleet".into(), |s| format!("stack `{s}`")),
                    function,
                    CallFailure::Contract(format!(
                        "reported rule `{}`, which it does not declare",
                        f.rule_id
                    )),
                )));
            }
            Ok(Finding {
                stack: stack.map(str::to_owned),
                severity: f.severity.into(),
                rule_id: f.rule_id,
                address: f.address,
                plugin: plugin.name().into(),
                message: f.message,
                remediation: f.remediation,
                waived: None,
            })
        })
        .collect()
}
