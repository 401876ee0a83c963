//! Runs every plugin's rules over the composed stacks and the fleet, after composition, so a rule
//! sees what every plugin emitted. Plugins only see documents, never each other's findings, so
//! none can suppress or alter another's.

use crate::compose::ComposedStack;
use crate::plugin::{CallError, CallFailure, Function, LoadedPlugin, Runtime, api};
use crate::synth::{parallel_map, resolve_settings, wire_tenant, SynthError};
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
}

/// Runs `check-stack` of every plugin on every stack, then `check-fleet` of every plugin.
/// Findings come back sorted by stack, severity, rule and address.
pub fn run_checks(
    runtime: &Runtime,
    plugins: &[LoadedPlugin],
    fleet: &Fleet,
    stacks: &[ComposedStack],
) -> Result<Vec<Finding>, SynthError> {
    let documents: Vec<api::StackDocument> = stacks
        .iter()
        .map(|s| api::StackDocument {
            stack: s.name.clone(),
            tenant: s.tenant.as_ref().map(wire_tenant),
            document: s.document.to_string(),
        })
        .collect();
    let per_stack = parallel_map(&documents, |document| -> Result<Vec<Finding>, SynthError> {
        let stack = stacks.iter().find(|s| s.name == document.stack).expect("documents mirror stacks");
        let mut findings = Vec::new();
        for plugin in plugins {
            let settings = &stack.settings[plugin.name()];
            let raw = plugin.check_stack(runtime, document, settings)?;
            findings.extend(attribute(plugin, Some(&stack.name), raw, Function::CheckStack)?);
        }
        Ok(findings)
    });
    let mut findings = Vec::new();
    for result in per_stack {
        findings.extend(result?);
    }
    for plugin in plugins {
        let settings = Value::Object(resolve_settings(plugin, fleet, None)?).to_string();
        let raw = plugin.check_fleet(runtime, &documents, &settings)?;
        findings.extend(attribute(plugin, None, raw, Function::CheckFleet)?);
    }
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
                return Err(SynthError::Call(CallError {
                    plugin: plugin.name().into(),
                    stack: stack.map_or_else(|| "the fleet".into(), |s| format!("stack `{s}`")),
                    function,
                    failure: CallFailure::Contract(format!("reported rule `{}`, which it does not declare", f.rule_id)),
                }));
            }
            Ok(Finding {
                stack: stack.map(str::to_owned),
                severity: f.severity.into(),
                rule_id: f.rule_id,
                address: f.address,
                plugin: plugin.name().into(),
                message: f.message,
                remediation: f.remediation,
            })
        })
        .collect()
}
