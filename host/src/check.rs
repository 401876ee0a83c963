//! Runs every plugin's rules over the composed stacks and the fleet, after composition, so a rule
//! sees what every plugin emitted. Plugins only see documents, never each other's findings, so
//! none can suppress or alter another's.

use crate::access::AccessReport;
use crate::compose::ComposedStack;
use crate::findings::{REFERENCES_RESOLVE, SCHEMA_VALID};
use crate::guardrails;
use crate::guardrails::FleetFacts;
use crate::pipeline::StackRecord;
use crate::plugin::{CallError, CallFailure, Function, LoadedPlugin, Runtime, api};
use crate::progress::{Phase, Progress};
use crate::schema::{self, ProviderSchema};
use crate::synth::{SynthError, parallel_try_map, resolved_settings};
use crate::tenants::Fleet;
use serde_json::Value;

// The finding types moved to the findings layer; re-exported for callers that still name them here.
pub use crate::findings::{Finding, HostRule, Severity, Waived, host_rules};

/// Validates every block of `stack` against `schema` and resolves every reference; problems are
/// findings of the host rules, blamed on the plugin that emitted the block.
pub fn check_against_schema(schema: &ProviderSchema, stack: &ComposedStack) -> Vec<Finding> {
    let finding = |rule: &HostRule, address: String, plugin: &str, message: String, remediation: &str| {
        Finding::of_rule(
            rule,
            Some(stack.name.clone()),
            address,
            plugin,
            message,
            remediation,
        )
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
                        &SCHEMA_VALID,
                        address.clone(),
                        plugin,
                        format!("{problem}"),
                        "Fix the plugin's output to match the provider schema, or pass --schema with the output of `terraform providers schema -json` if the type is missing from the embedded AWS provider schema (hashicorp/aws 6.25.0).",
                    ));
                }
            }
        }
    }
    for block in schema::check_references(&stack.document) {
        let plugin = origin(&block.address);
        for reference in block.undeclared {
            findings.push(finding(
                &REFERENCES_RESOLVE,
                block.address.clone(),
                plugin,
                format!("`{reference}` is referenced but not declared in this stack"),
                "Declare the block in the stack (tenant stacks reach the central stack only by names or data sources), or require the value from the plugin that provides it.",
            ));
        }
        for problem in block.problems {
            findings.push(finding(
                &REFERENCES_RESOLVE,
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

/// Runs the schema checks, the host guardrails and `check-stack` of every plugin on one stack;
/// `document` is the stack's document as plugins receive it.
pub fn check_stack(
    runtime: &Runtime,
    plugins: &[LoadedPlugin],
    lookup: &guardrails::FleetLookup<'_>,
    schema: &ProviderSchema,
    stack: &ComposedStack,
    document: &api::StackDocument,
) -> Result<Vec<Finding>, SynthError> {
    let mut findings = check_against_schema(schema, stack);
    findings.extend(guardrails::check_stack(stack, lookup, schema));
    for plugin in plugins {
        let settings = &stack.settings[plugin.name()];
        let raw = plugin.check_stack(runtime, document, settings)?;
        findings.extend(attribute(plugin, Some(&stack.name), raw, Function::CheckStack)?);
    }
    Ok(findings)
}

/// Runs the host's fleet guardrails, the access model and `check-fleet` of every plugin over the
/// records of every stack. Returns the findings, unsorted, and the access model's report.
pub fn check_fleet(
    runtime: &Runtime,
    plugins: &[LoadedPlugin],
    fleet: &Fleet,
    records: &mut [StackRecord],
    every_intent_verdict: bool,
    progress: &dyn Progress,
) -> Result<(Vec<Finding>, AccessReport), SynthError> {
    let started = std::time::Instant::now();
    // The fleet checks are the last to need each record's facts and access model: they take them.
    let facts: Vec<FleetFacts> = records.iter_mut().map(|r| std::mem::take(&mut r.facts)).collect();
    let mut findings = guardrails::check_fleet(&facts, fleet);
    tracing::debug!(elapsed = ?started.elapsed(), "checked the fleet with host rules");
    let access = crate::access::analyse(records, &fleet.access, every_intent_verdict);
    findings.extend(access.findings());
    tracing::debug!(elapsed = ?started.elapsed(), "checked the fleet's access model");
    // A 0.2 plugin's fleet check gets each stack's summary restricted to what it declared it
    // needs (nothing at all without `fleet-needs`); these run side by side. A 0.1 plugin still
    // gets every document and holds its own parsed copy of them all, so those run one at a time:
    // the peak is one copy of the fleet, not one per core.
    let documents: Vec<api::StackDocument> = records.iter_mut().filter_map(|r| r.document.take()).collect();
    progress.begin(Phase::CheckFleet, plugins.len());
    let fleet_check = |plugin: &&LoadedPlugin| -> Result<Vec<Finding>, SynthError> {
        let settings = tenant_plugin_sdk::json_text(resolved_settings(plugin, fleet, None));
        let summaries =
            crate::compose::fleet_summaries(records.iter().map(|r| &r.summary), &plugin.info.fleet_needs);
        let documents: &[api::StackDocument] = if plugin.wants_documents() { &documents } else { &[] };
        let raw = plugin.check_fleet(runtime, &summaries, documents, &settings)?;
        let found = attribute(plugin, None, raw, Function::CheckFleet);
        progress.step();
        found
    };
    let (legacy, current): (Vec<&LoadedPlugin>, Vec<&LoadedPlugin>) =
        plugins.iter().partition(|p| p.wants_documents());
    findings.extend(
        parallel_try_map(runtime, &current, "fleet checks", fleet_check)?
            .into_iter()
            .flatten(),
    );
    for plugin in &legacy {
        findings.extend(fleet_check(plugin)?);
    }
    tracing::debug!(elapsed = ?started.elapsed(), "checked the fleet with every plugin");
    Ok((findings, access))
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
