//! Reports of a run's findings, for people and for CI: text grouped by stack, a JSON document
//! with a versioned schema (documented in `docs/policy.md`), and SARIF 2.1.0 for code-scanning
//! tools. Every format lists waived findings too, marked with the waiver's reason and day.
//!
//! Locations point into the files `synth` writes (or would write): each stack finding at the line
//! of its resource in `<out>/stacks/<stack>/cdk.tf.json`, each fleet finding at the
//! configuration file (or `<out>/manifest.json` for the built-in example).

use crate::Outcome;
use crate::findings::{Finding, Severity, host_rules};
use crate::output::render_json;
use crate::plugin::LoadedPlugin;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// The version of the JSON report's schema; raised when a field changes meaning or goes away.
pub const JSON_REPORT_VERSION: u32 = 1;
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
    /// The output folder the stacks are, or would be, written to.
    pub out: &'a Path,
    /// The configuration file; `None` for the built-in example.
    pub config: Option<&'a Path>,
}

/// A file and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Location {
    file: String,
    line: usize,
}

/// Finds where each finding is, rendering each stack with a finding once.
struct Locator<'a> {
    outcome: &'a Outcome,
    places: Places<'a>,
    lines: BTreeMap<&'a str, BTreeMap<String, usize>>,
}

impl<'a> Locator<'a> {
    fn new(outcome: &'a Outcome, places: Places<'a>) -> Self {
        Self {
            outcome,
            places,
            lines: BTreeMap::new(),
        }
    }

    fn stack_file(&self, stack: &str) -> String {
        path_text(&self.places.out.join("stacks").join(stack).join("cdk.tf.json"))
    }

    fn locate(&mut self, finding: &Finding) -> Location {
        let Some(stack) = self
            .outcome
            .stacks
            .iter()
            .find(|s| Some(&s.name) == finding.stack.as_ref())
        else {
            let file = match self.places.config {
                Some(config) => path_text(config),
                None => path_text(&self.places.out.join("manifest.json")),
            };
            // A finding about a waiver points at the waiver's line in the configuration file.
            let waiver_line = self
                .places
                .config
                .and(self.outcome.fleet.waivers.line_of(finding));
            return Location {
                file,
                line: waiver_line.unwrap_or(1),
            };
        };
        let file = self.stack_file(&stack.name);
        let lines = self
            .lines
            .entry(&stack.name)
            .or_insert_with(|| address_lines(&render_json(&stack.document)));
        Location {
            file,
            line: lines.get(&finding.address).copied().unwrap_or(1),
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
    for finding in &outcome.findings {
        if let Some((_, group)) = groups.iter_mut().find(|(s, _)| *s == finding.stack.as_deref()) {
            group.push(finding);
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
    let mut locator = Locator::new(outcome, places);
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
                "  {level}[{}]{place} ({}:{}, from {})",
                finding.rule_id, location.file, location.line, finding.plugin
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
    let mut locator = Locator::new(outcome, places);
    let tenant_of = |stack: Option<&String>| {
        outcome
            .stacks
            .iter()
            .find(|s| Some(&s.name) == stack)
            .and_then(|s| s.tenant.as_ref())
            .map(|t| t.id.clone())
    };
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
    let mut locator = Locator::new(outcome, places);
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
            let mut result = json!({
                "ruleId": f.rule_id,
                "level": sarif_level(f.severity),
                "message": {"text": format!("{}: {}\nRemediation: {}", logical, f.message, f.remediation)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(&location.file)},
                        "region": {"startLine": location.line},
                    },
                    "logicalLocations": [{"fullyQualifiedName": logical, "kind": "resource"}],
                }],
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
