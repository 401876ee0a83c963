//! Reports of a run's findings, for people and for CI: text grouped by stack, a JSON document
//! with a versioned schema (documented in `docs/policy.md`), and SARIF 2.1.0 for code-scanning
//! tools. Every format lists waived findings too, marked with the waiver's reason and day.
//!
//! Locations never point at what is not there: a stack finding points at the line of its resource
//! in `<out>/stacks/<stack>/cdk.tf.json` only when that file holds exactly what this run would
//! write (`check` writes nothing; a stale folder's line 220 may be another block), else it names
//! its stack and address alone; a fleet finding points at the configuration file.

use crate::Outcome;
use crate::compose::ComposedStack;
use crate::findings::{Finding, Severity, host_rules};
use crate::output::{OutputError, StackSink, render_json};
use crate::plugin::LoadedPlugin;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The version of the JSON report's schema; raised when a field changes meaning or goes away.
pub const JSON_REPORT_VERSION: u32 = 2;
/// The SARIF schema the SARIF report follows.
pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// One rule a run can report: the host's or a loaded plugin's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleEntry {
    /// The rule id.
    pub id: String,
    /// The severity of its findings unless a finding says otherwise.
    pub severity: Severity,
    /// What it demands.
    pub description: String,
    /// `host` or the plugin's name.
    pub owner: String,
}

/// Every rule of the host, then every rule of each plugin, in plugin order.
pub fn rules(plugins: &[LoadedPlugin]) -> Vec<RuleEntry> {
    let host = host_rules().map(|r| RuleEntry {
        id: r.id.into(),
        severity: r.severity,
        description: r.description.into(),
        owner: "host".into(),
    });
    let plugged = plugins.iter().flat_map(|p| {
        p.info.rules.iter().map(|r| RuleEntry {
            id: r.id.clone(),
            severity: r.severity.into(),
            description: r.description.clone(),
            owner: p.name().into(),
        })
    });
    host.chain(plugged).collect()
}

/// Where the files a report points at are.
#[derive(Debug, Clone, Copy)]
pub struct Places<'a> {
    /// The stack files that hold exactly what this run would write, with the line of each
    /// address.
    pub stacks: &'a CurrentStacks,
    /// The configuration file; `None` for the built-in example.
    pub config: Option<&'a Path>,
}

/// The stack files of an output folder that hold exactly what the run would write: `check`
/// writes nothing, so a finding points at a line of a stack file only when that file is current.
/// Collected as each stack passes the pipeline.
#[derive(Debug)]
pub struct CurrentStacks {
    out: PathBuf,
    lines: Mutex<BTreeMap<String, BTreeMap<String, usize>>>,
}

impl CurrentStacks {
    /// Compares each stack with its file under `out`.
    pub fn new(out: &Path) -> Self {
        Self {
            out: out.to_path_buf(),
            lines: Mutex::new(BTreeMap::new()),
        }
    }

    fn file(&self, stack: &str) -> PathBuf {
        self.out.join("stacks").join(stack).join("cdk.tf.json")
    }

    /// The stack's file, if it is current.
    fn current_file(&self, stack: &str) -> Option<String> {
        let lines = self.lines.lock().expect("no thread panics holding the lock");
        lines.contains_key(stack).then(|| path_text(&self.file(stack)))
    }

    /// The line of `address` in the stack's file (line 1 for the stack as a whole), if current.
    fn line_of(&self, stack: &str, address: &str) -> Option<usize> {
        let lines = self.lines.lock().expect("no thread panics holding the lock");
        lines
            .get(stack)
            .map(|addresses| addresses.get(address).copied().unwrap_or(1))
    }
}

impl StackSink for CurrentStacks {
    fn accept(&self, stack: &ComposedStack, _digest: &str) -> Result<(), OutputError> {
        let file = self.file(&stack.name);
        // A missing or unreadable file is simply not current.
        let Ok(on_disk) = std::fs::read_to_string(&file) else {
            return Ok(());
        };
        let rendered = render_json(&stack.document);
        if on_disk == rendered {
            self.lines
                .lock()
                .expect("no thread panics holding the lock")
                .insert(stack.name.clone(), address_lines(&rendered));
        }
        Ok(())
    }
}

/// A file and a 1-based line, when the finding has a place in a file that exists as the run
/// sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Location {
    file: Option<String>,
    line: Option<usize>,
}

impl Location {
    /// `file:line`, `file`, or why there is none.
    fn describe(&self, stack: Option<&str>) -> String {
        match (&self.file, self.line, stack) {
            (Some(file), Some(line), _) => format!("{file}:{line}"),
            (Some(file), None, _) => file.clone(),
            (None, _, Some(_)) => "stack file not written or out of date: run synth to see it".to_owned(),
            (None, _, None) => "built-in example".to_owned(),
        }
    }
}

/// Finds where each finding is.
struct Locator<'a> {
    outcome: &'a Outcome,
    places: Places<'a>,
}

impl<'a> Locator<'a> {
    fn new(outcome: &'a Outcome, places: Places<'a>) -> Self {
        Self { outcome, places }
    }

    fn stack_file(&self, stack: &str) -> Option<String> {
        self.places.stacks.current_file(stack)
    }

    fn locate(&self, finding: &Finding) -> Location {
        match &finding.stack {
            Some(stack) => Location {
                file: self.stack_file(stack),
                line: self.places.stacks.line_of(stack, &finding.address),
            },
            // A finding about a waiver points at the waiver's line in the configuration file.
            None => Location {
                file: self.places.config.map(path_text),
                line: self
                    .places
                    .config
                    .and(self.outcome.fleet.waivers.line_of(finding)),
            },
        }
    }
}

/// A path with `/` separators, as reports show it.
fn path_text(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The line of every resource, data source and output in a rendered `cdk.tf.json` (two spaces
/// of indentation per level, as [`render_json`] writes it).
fn address_lines(text: &str) -> BTreeMap<String, usize> {
    let key = |line: &str| -> Option<String> {
        let rest = line.trim_start().strip_prefix('"')?;
        Some(rest[..rest.find('"')?].to_owned())
    };
    let mut addresses = BTreeMap::new();
    let (mut section, mut type_name) = (String::new(), String::new());
    for (index, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let Some(name) = key(line) else { continue };
        match (indent, section.as_str()) {
            (2, _) => section = name,
            (4, "resource" | "data") => type_name = name,
            (4, "output") => {
                addresses.insert(format!("output.{name}"), index + 1);
            }
            (6, "resource") => {
                addresses.insert(format!("{type_name}.{name}"), index + 1);
            }
            (6, "data") => {
                addresses.insert(format!("data.{type_name}.{name}"), index + 1);
            }
            _ => {}
        }
    }
    addresses
}

/// Counts of findings by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Summary {
    errors: usize,
    warnings: usize,
    info: usize,
    waived: usize,
    blocking: usize,
}

impl Summary {
    fn of(findings: &[Finding]) -> Self {
        let mut summary = Self::default();
        for finding in findings {
            match finding.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.info += 1,
            }
            summary.waived += usize::from(finding.waived.is_some());
            summary.blocking += usize::from(finding.is_blocking());
        }
        summary
    }
}

/// The findings grouped by stack, in stack order, with fleet findings last (`None`).
fn by_stack(outcome: &Outcome) -> Vec<(Option<&str>, Vec<&Finding>)> {
    let mut groups: Vec<(Option<&str>, Vec<&Finding>)> = outcome
        .stacks
        .iter()
        .map(|s| (Some(s.name.as_str()), Vec::new()))
        .collect();
    groups.push((None, Vec::new()));
    let position: BTreeMap<Option<&str>, usize> = groups
        .iter()
        .enumerate()
        .map(|(index, (stack, _))| (*stack, index))
        .collect();
    for finding in &outcome.findings {
        if let Some(&index) = position.get(&finding.stack.as_deref()) {
            groups[index].1.push(finding);
        }
    }
    groups.retain(|(_, group)| !group.is_empty());
    groups
}

/// The text report: findings grouped by stack, then a summary line. With `colour`, severities
/// and headings carry ANSI colours and waived findings are dimmed.
pub fn render_text(outcome: &Outcome, places: Places<'_>, colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let locator = Locator::new(outcome, places);
    let mut text = String::new();
    for (stack, findings) in by_stack(outcome) {
        text.push_str(&paint("1", stack.unwrap_or("fleet")));
        text.push('\n');
        for finding in findings {
            let level = match finding.severity {
                Severity::Error => paint("31;1", "error"),
                Severity::Warning => paint("33;1", "warning"),
                Severity::Info => paint("36", "info"),
            };
            let place = if finding.address.is_empty() {
                String::new()
            } else {
                format!(" {}", finding.address)
            };
            let location = locator.locate(finding);
            let head = format!(
                "  {level}[{}]{place} ({}, from {})",
                finding.rule_id,
                location.describe(finding.stack.as_deref()),
                finding.plugin
            );
            let mut body = format!(
                "{head}\n    {}\n    fix: {}\n",
                finding.message, finding.remediation
            );
            if let Some(waived) = &finding.waived {
                body.push_str(&format!("    {waived}\n"));
                body = paint("2", &body);
            }
            text.push_str(&body);
        }
    }
    let s = Summary::of(&outcome.findings);
    let verdict = if s.blocking > 0 {
        paint("31;1", "policy errors: synth writes nothing")
    } else {
        paint("32", "no policy errors")
    };
    text.push_str(&format!(
        "{verdict}: {} errors, {} warnings, {} notes ({} waived) in {} stacks from {} plugins\n",
        s.errors,
        s.warnings,
        s.info,
        s.waived,
        outcome.stacks.len(),
        outcome.plugins.len()
    ));
    text
}

/// The JSON report (schema version [`JSON_REPORT_VERSION`], documented in `docs/policy.md`).
pub fn render_json_report(outcome: &Outcome, places: Places<'_>) -> Value {
    let locator = Locator::new(outcome, places);
    let tenants: BTreeMap<&str, &str> = outcome
        .stacks
        .iter()
        .filter_map(|s| Some((s.name.as_str(), s.tenant.as_ref()?.id.as_str())))
        .collect();
    let tenant_of = |stack: Option<&String>| stack.and_then(|s| tenants.get(s.as_str()).copied());
    let findings: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| {
            let location = locator.locate(f);
            json!({
                "rule": f.rule_id,
                "severity": f.severity.as_str(),
                "stack": f.stack,
                "tenant": tenant_of(f.stack.as_ref()),
                "address": f.address,
                "plugin": f.plugin,
                "message": f.message,
                "remediation": f.remediation,
                "file": location.file,
                "line": location.line,
                "waived": f.waived.as_ref().map(|w| json!({"reason": w.reason, "expires": w.expires})),
            })
        })
        .collect();
    let s = Summary::of(&outcome.findings);
    json!({
        "version": JSON_REPORT_VERSION,
        "tool": {"name": "tenant-host", "version": env!("CARGO_PKG_VERSION")},
        "passed": s.blocking == 0,
        "summary": {
            "errors": s.errors,
            "warnings": s.warnings,
            "info": s.info,
            "waived": s.waived,
            "blocking": s.blocking,
        },
        "stacks": outcome.stacks.iter().map(|s| json!({
            "name": s.name,
            "tenant": s.tenant.as_ref().map(|t| &t.id),
            "file": locator.stack_file(&s.name),
        })).collect::<Vec<_>>(),
        "rules": rules(&outcome.plugins).iter().map(|r| json!({
            "id": r.id,
            "severity": r.severity.as_str(),
            "owner": r.owner,
            "description": r.description,
        })).collect::<Vec<_>>(),
        "findings": findings,
    })
}

/// The SARIF level of a severity.
fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A SARIF artifact URI for a path: relative paths as they are, absolute ones as `file://`.
fn artifact_uri(path: &str) -> String {
    if path.starts_with('/') {
        format!("file://{path}")
    } else {
        path.to_owned()
    }
}

/// The SARIF 2.1.0 log: one run of tenant-host with every rule, and one result per finding,
/// located at its resource; waived findings carry an accepted external suppression.
pub fn render_sarif(outcome: &Outcome, places: Places<'_>) -> Value {
    let rules = rules(&outcome.plugins);
    let locator = Locator::new(outcome, places);
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| {
            let location = locator.locate(f);
            let logical = match (&f.stack, f.address.is_empty()) {
                (Some(stack), false) => format!("{stack}/{}", f.address),
                (Some(stack), true) => stack.clone(),
                (None, _) => "fleet".into(),
            };
            let mut place = json!({"logicalLocations": [{"fullyQualifiedName": logical, "kind": "resource"}]});
            if let Some(file) = &location.file {
                place["physicalLocation"] = json!({"artifactLocation": {"uri": artifact_uri(file)}});
                if let Some(line) = location.line {
                    place["physicalLocation"]["region"] = json!({"startLine": line});
                }
            }
            let mut result = json!({
                "ruleId": f.rule_id,
                "level": sarif_level(f.severity),
                "message": {"text": format!("{}: {}\nRemediation: {}", logical, f.message, f.remediation)},
                "locations": [place],
                "partialFingerprints": {
                    "tenantHostFinding/v1": format!("{}|{}|{}", f.rule_id, f.stack.as_deref().unwrap_or("fleet"), f.address),
                },
                "properties": {"plugin": f.plugin, "remediation": f.remediation},
            });
            if let Some(index) = rules.iter().position(|r| r.id == f.rule_id) {
                result["ruleIndex"] = json!(index);
            }
            if let Some(waived) = &f.waived {
                result["suppressions"] = json!([{
                    "kind": "external",
                    "status": "accepted",
                    "justification": waived.reason,
                    "properties": {"expires": waived.expires},
                }]);
            }
            result
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tenant-host",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|r| json!({
                    "id": r.id,
                    "shortDescription": {"text": r.description},
                    "defaultConfiguration": {"level": sarif_level(r.severity)},
                    "properties": {"owner": r.owner},
                })).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_found_on_their_lines() {
        let document = json!({
            "data": {"aws_region": {"current": {}}},
            "output": {"bucket": {"value": "x"}},
            "provider": {"aws": [{"region": "us-east-1"}]},
            "resource": {
                "aws_s3_bucket": {"data": {"bucket": "b", "tags": {"Name": "b"}}},
                "aws_vpc": {"tenant": {"cidr_block": "10.0.0.0/16"}},
            },
        });
        let text = render_json(&document);
        let lines = address_lines(&text);
        let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
        assert_eq!(lines["data.aws_region.current"], line_of("\"current\""));
        assert_eq!(lines["output.bucket"], line_of("\"bucket\": {"));
        assert_eq!(lines["aws_s3_bucket.data"], line_of("      \"data\": {"));
        assert_eq!(lines["aws_vpc.tenant"], line_of("\"tenant\""));
        assert_eq!(lines.len(), 4, "{lines:?}");
    }

    #[test]
    fn absolute_paths_become_file_uris() {
        assert_eq!(
            artifact_uri("cdktf.out/stacks/x/cdk.tf.json"),
            "cdktf.out/stacks/x/cdk.tf.json"
        );
        assert_eq!(
            artifact_uri("/tmp/out/manifest.json"),
            "file:///tmp/out/manifest.json"
        );
    }
}
