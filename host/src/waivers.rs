//! Waivers: findings the fleet's owners accept, each for a stated reason and until a stated day.
//!
//! A waiver names a rule and, optionally, a tenant and an address pattern. A finding it matches
//! stays in every report, marked waived with the reason, and no longer fails the run. An expired
//! waiver waives nothing and is itself an error; a waiver that matches nothing is a warning, so
//! stale waivers do not pile up. Waivers live only in the configuration: a plugin sees documents,
//! never findings, so it cannot waive, suppress or alter another plugin's findings.
//!
//! Waivers are checked in the configuration pass ([`crate::tenants::plan_fleet`]): a malformed
//! one is a diagnostic at its value. A finding about a waiver has the waiver's path as its
//! address (`waivers[0]`), and [`Waivers::line_of`] gives the line reports point at.

use crate::config::{ConfigFile, WaiverConfig};
use crate::diagnostics::{Diagnostic, path_text};
use crate::findings::{Finding, HostRule, WAIVER_EXPIRED, WAIVER_UNUSED, Waived};
use crate::path;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};
use tenant_plugin_sdk::naming::tenant_stack_name;

/// A calendar day, as waivers write it: `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// The day, if it exists in the proleptic Gregorian calendar.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days_in_month)
            .contains(&day)
            .then_some(Self { year, month, day })
    }

    /// Today in UTC, from the system clock.
    pub fn today() -> Self {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self::from_days_since_epoch(seconds / 86_400)
    }

    /// The day `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    fn from_days_since_epoch(days: u64) -> Self {
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z % 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + u64::from(month <= 2)) as u16;
        Self { year, month, day }
    }
}

impl FromStr for Date {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("\"{text}\" is not a date written YYYY-MM-DD");
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(invalid());
        }
        let number = |range: std::ops::Range<usize>| -> Result<u16, String> {
            let part = &text[range];
            if part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().map_err(|_| invalid())
            } else {
                Err(invalid())
            }
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        Self::new(year, month as u8, day as u8)
            .ok_or_else(|| format!("\"{text}\" is not a day of the calendar"))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// One waiver, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Waiver {
    /// 1-based position in the configuration's `[[waivers]]`.
    number: usize,
    /// The 1-based line of its `[[waivers]]` table in the configuration, where reports point
    /// for the findings about it.
    line: usize,
    config: WaiverConfig,
    expires: Date,
}

impl Waiver {
    /// The waiver's path in the configuration, `waivers[0]`: the address of findings about it.
    fn address(&self) -> String {
        path_text(&path!["waivers", self.number - 1])
    }

    /// How the waiver reads in messages: `waiver 2 (rule `x`, tenant `y`, address `z`)`.
    fn label(&self) -> String {
        let mut parts = vec![format!("rule `{}`", self.config.rule)];
        if let Some(tenant) = &self.config.tenant {
            parts.push(format!("tenant `{tenant}`"));
        }
        if let Some(address) = &self.config.address {
            parts.push(format!("address `{address}`"));
        }
        format!("waiver {} ({})", self.number, parts.join(", "))
    }

    fn matches(&self, finding: &Finding, tenant_of_stack: &BTreeMap<String, String>) -> bool {
        let tenant = finding
            .stack
            .as_ref()
            .and_then(|stack| tenant_of_stack.get(stack))
            .map(String::as_str);
        self.config.rule == finding.rule_id
            && self
                .config
                .tenant
                .as_deref()
                .is_none_or(|wanted| tenant == Some(wanted))
            && self
                .config
                .address
                .as_deref()
                .is_none_or(|pattern| glob_matches(pattern, &finding.address))
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The configured waivers, checked before any plugin runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Waivers {
    waivers: Vec<Waiver>,
    /// The configured tenant of each tenant stack name, to match waivers that name a tenant.
    tenant_of_stack: BTreeMap<String, String>,
}

impl Waivers {
    /// Checks every waiver of the configuration: a rule, a reason and a valid `expires` day are
    /// required. Returns every problem at once, each pointing at the offending value. `suffix`
    /// is the environment suffix the tenant stacks are named with.
    pub fn parse(file: &ConfigFile, suffix: &str) -> Result<Self, Vec<Diagnostic>> {
        let mut problems = Vec::new();
        let mut waivers = Vec::new();
        for (index, config) in file.config.waivers.iter().enumerate() {
            let number = index + 1;
            let at = format!("waiver {number} (rule `{}`)", config.rule);
            let value = |key: &str| file.spans.value(&path!["waivers", index, key]);
            let mut problem = |key: &str, label: &str, message: String, help: &str| {
                problems.push(
                    Diagnostic::error(format!("{at}: {message}"))
                        .at(value(key), label)
                        .help(help),
                );
            };
            if config.rule.trim().is_empty() {
                problem(
                    "rule",
                    "empty rule",
                    "`rule` is empty".into(),
                    "name the rule id the waiver accepts, e.g. `storage.archive-tiers-unreachable`",
                );
            }
            if config.reason.trim().is_empty() {
                problem(
                    "reason",
                    "empty reason",
                    "`reason` is empty".into(),
                    "say why the finding is acceptable, for whoever reviews it",
                );
            }
            if config.address.as_deref().is_some_and(str::is_empty) {
                problem(
                    "address",
                    "empty address",
                    "`address` is empty".into(),
                    "leave it out to match every address",
                );
            }
            match config.expires.parse::<Date>() {
                Ok(expires) => waivers.push(Waiver {
                    number,
                    line: file
                        .spans
                        .value(&path!["waivers", index])
                        .map_or(1, |span| file.source.line_of(span.start)),
                    config: config.clone(),
                    expires,
                }),
                Err(e) => problem(
                    "expires",
                    "not a day",
                    format!("`expires` {e}"),
                    "write the waiver's last day, e.g. 2026-06-30",
                ),
            }
        }
        if problems.is_empty() {
            let tenant_of_stack = file
                .config
                .tenants
                .iter()
                .map(|t| (tenant_stack_name(&t.id, suffix), t.id.clone()))
                .collect();
            Ok(Self {
                waivers,
                tenant_of_stack,
            })
        } else {
            Err(problems)
        }
    }

    /// The configuration line of the waiver that `finding`, one of the waivers' own findings,
    /// is about; `None` for any other finding.
    pub fn line_of(&self, finding: &Finding) -> Option<usize> {
        let about_a_waiver = [WAIVER_EXPIRED.id, WAIVER_UNUSED.id].contains(&finding.rule_id.as_str());
        if !about_a_waiver || finding.stack.is_some() {
            return None;
        }
        self.waivers
            .iter()
            .find(|waiver| waiver.address() == finding.address)
            .map(|waiver| waiver.line)
    }

    /// Marks the findings the waivers accept and adds the waivers' own findings: an error for
    /// each waiver past its day on `today`, a warning for each that matched nothing.
    /// `known_rules` are the rule ids of the host and the loaded plugins, named in the warning
    /// when a waiver's rule is not among them.
    pub fn apply(
        &self,
        mut findings: Vec<Finding>,
        known_rules: &BTreeSet<&str>,
        today: Date,
    ) -> Vec<Finding> {
        let (expired, live): (Vec<&Waiver>, Vec<&Waiver>) =
            self.waivers.iter().partition(|w| w.expires < today);
        let mut used = vec![false; live.len()];
        for finding in &mut findings {
            for (index, waiver) in live.iter().enumerate() {
                if waiver.matches(finding, &self.tenant_of_stack) {
                    used[index] = true;
                    finding.waived.get_or_insert_with(|| Waived {
                        reason: waiver.config.reason.clone(),
                        expires: waiver.expires.to_string(),
                    });
                }
            }
        }
        let finding = |rule: &HostRule, waiver: &Waiver, message: String, remediation: &str| {
            Finding::of_rule(rule, None, waiver.address(), "host", message, remediation)
        };
        for waiver in expired {
            findings.push(finding(
                &WAIVER_EXPIRED,
                waiver,
                format!(
                    "{} expired on {} (today is {today}), so the findings it accepted count again; its reason was: {}",
                    waiver.label(),
                    waiver.expires,
                    waiver.config.reason
                ),
                "Fix what the waiver accepted, or, if it is still acceptable, review the reason and move `expires` to a new day.",
            ));
        }
        for (waiver, _) in live.iter().zip(used).filter(|(_, used)| !used) {
            let mut why = Vec::new();
            if !known_rules.contains(waiver.config.rule.as_str()) {
                why.push(format!(
                    "no loaded plugin or host rule declares `{}`",
                    waiver.config.rule
                ));
            }
            if let Some(tenant) = &waiver.config.tenant
                && !self.tenant_of_stack.values().any(|id| id == tenant)
            {
                why.push(format!("the fleet has no tenant `{tenant}`"));
            }
            let why = if why.is_empty() {
                String::new()
            } else {
                format!(": {}", why.join("; "))
            };
            findings.push(finding(
                &WAIVER_UNUSED,
                waiver,
                format!("{} matches no finding{why}", waiver.label()),
                "Remove the waiver, or correct its rule, tenant or address pattern so that it matches the finding it is meant to accept.",
            ));
        }
        findings.sort();
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::{Report, Source};
    use crate::findings::Severity;

    fn waiver(rule: &str, tenant: Option<&str>, address: Option<&str>, expires: &str) -> WaiverConfig {
        WaiverConfig {
            rule: rule.into(),
            tenant: tenant.map(Into::into),
            address: address.map(Into::into),
            reason: "accepted by the security review of 2025-01-10".into(),
            expires: expires.into(),
        }
    }

    /// The built-in example with `waivers` appended, as `tenants.toml`.
    fn config_with(waivers: &[WaiverConfig]) -> ConfigFile {
        let mut text = crate::config::EXAMPLE.to_owned();
        for waiver in waivers {
            text.push_str(&format!("\n[[waivers]]\nrule = {:?}\n", waiver.rule));
            if let Some(tenant) = &waiver.tenant {
                text.push_str(&format!("tenant = {tenant:?}\n"));
            }
            if let Some(address) = &waiver.address {
                text.push_str(&format!("address = {address:?}\n"));
            }
            text.push_str(&format!(
                "reason = {:?}\nexpires = {:?}\n",
                waiver.reason, waiver.expires
            ));
        }
        let source = Source {
            origin: "tenants.toml".into(),
            text,
        };
        ConfigFile::parse(source, Some("tenants.toml".into())).unwrap()
    }

    fn parse(waivers: &[WaiverConfig]) -> Result<Waivers, Vec<Diagnostic>> {
        Waivers::parse(&config_with(waivers), "dev")
    }

    fn finding(stack: Option<&str>, rule: &str, severity: Severity, address: &str) -> Finding {
        Finding {
            stack: stack.map(Into::into),
            severity,
            rule_id: rule.into(),
            address: address.into(),
            plugin: "storage".into(),
            message: "m".into(),
            remediation: "r".into(),
            waived: None,
        }
    }

    fn findings() -> Vec<Finding> {
        vec![
            finding(
                Some("tenant-acme-corp-dev"),
                "storage.archive-tiers-unreachable",
                Severity::Warning,
                "aws_s3_bucket.data",
            ),
            finding(
                Some("tenant-retail-co-dev"),
                "storage.archive-tiers-unreachable",
                Severity::Warning,
                "aws_s3_bucket.data",
            ),
            finding(
                Some("tenant-retail-co-dev"),
                "storage.destroyable",
                Severity::Error,
                "aws_dynamodb_table.metadata",
            ),
        ]
    }

    const TODAY: &str = "2025-06-15";

    /// Applies `waivers` to [`findings`] on [`TODAY`]: the findings (rule, address, waived?) and
    /// the waivers' own findings (rule, message).
    /// `("stack:rule", waived?)` of each finding, and `(rule, message)` of each waiver finding.
    type Applied = (Vec<(String, bool)>, Vec<(String, String)>);

    fn run(waivers: &[WaiverConfig]) -> Applied {
        let known = BTreeSet::from(["storage.archive-tiers-unreachable", "storage.destroyable"]);
        let result = parse(waivers)
            .unwrap()
            .apply(findings(), &known, TODAY.parse().unwrap());
        let (own, others): (Vec<Finding>, Vec<Finding>) = result
            .into_iter()
            .partition(|f| f.rule_id.starts_with("host.waiver"));
        (
            others
                .into_iter()
                .map(|f| {
                    (
                        format!("{}:{}", f.stack.unwrap_or_default(), f.rule_id),
                        f.waived.is_some(),
                    )
                })
                .collect(),
            own.into_iter().map(|f| (f.rule_id, f.message)).collect(),
        )
    }

    #[test]
    fn waivers_match_by_rule_tenant_and_address() {
        // (why, waivers, the findings that end up waived)
        let acme_archive = "tenant-acme-corp-dev:storage.archive-tiers-unreachable";
        let retail_archive = "tenant-retail-co-dev:storage.archive-tiers-unreachable";
        let retail_destroyable = "tenant-retail-co-dev:storage.destroyable";
        let cases: Vec<(&str, Vec<WaiverConfig>, Vec<&str>)> = vec![
            (
                "a rule alone waives it in every stack",
                vec![waiver(
                    "storage.archive-tiers-unreachable",
                    None,
                    None,
                    "2025-12-31",
                )],
                vec![acme_archive, retail_archive],
            ),
            (
                "a tenant narrows it to that tenant's stack",
                vec![waiver(
                    "storage.archive-tiers-unreachable",
                    Some("retail-co"),
                    None,
                    "2025-12-31",
                )],
                vec![retail_archive],
            ),
            (
                "an address pattern narrows it to matching addresses",
                vec![waiver(
                    "storage.destroyable",
                    None,
                    Some("aws_dynamodb_table.*"),
                    "2025-12-31",
                )],
                vec![retail_destroyable],
            ),
            (
                "a waiver holds on its last day",
                vec![waiver("storage.destroyable", Some("retail-co"), None, TODAY)],
                vec![retail_destroyable],
            ),
        ];
        for (why, waivers, expected) in cases {
            let (results, own) = run(&waivers);
            let mut waived: Vec<&str> = results
                .iter()
                .filter(|(_, waived)| *waived)
                .map(|(key, _)| key.as_str())
                .collect();
            waived.sort();
            assert_eq!(waived, expected, "{why}: {results:?}");
            assert!(own.is_empty(), "{why}: {own:?}");
        }
    }

    #[test]
    fn a_waiver_matching_nothing_is_a_warning_naming_why() {
        let (results, own) = run(&[
            waiver("storage.destroyable", None, Some("aws_s3_bucket.*"), "2025-12-31"),
            waiver("storage.archive-tiers-unreachabel", None, None, "2025-12-31"),
            waiver("storage.destroyable", Some("no-such-tenant"), None, "2025-12-31"),
        ]);
        assert!(results.iter().all(|(_, waived)| !waived), "{results:?}");
        assert_eq!(own.len(), 3, "{own:?}");
        assert!(own.iter().all(|(rule, _)| rule == WAIVER_UNUSED.id));
        assert!(
            own[0].1.starts_with(
                "waiver 1 (rule `storage.destroyable`, address `aws_s3_bucket.*`) matches no finding"
            ),
            "{own:?}"
        );
        assert!(
            own[1]
                .1
                .contains("no loaded plugin or host rule declares `storage.archive-tiers-unreachabel`"),
            "{own:?}"
        );
        assert!(
            own[2].1.contains("the fleet has no tenant `no-such-tenant`"),
            "{own:?}"
        );
    }

    #[test]
    fn an_expired_waiver_is_an_error_and_waives_nothing() {
        let (results, own) = run(&[waiver("storage.destroyable", None, None, "2025-06-14")]);
        assert!(results.iter().all(|(_, waived)| !waived), "{results:?}");
        assert_eq!(own.len(), 1, "{own:?}");
        assert_eq!(own[0].0, WAIVER_EXPIRED.id);
        assert!(
            own[0].1.contains(
                "waiver 1 (rule `storage.destroyable`) expired on 2025-06-14 (today is 2025-06-15)"
            ),
            "{own:?}"
        );
    }

    #[test]
    fn a_waived_error_no_longer_blocks() {
        let waivers = parse(&[waiver("storage.destroyable", None, None, "2025-12-31")]).unwrap();
        let result = waivers.apply(findings(), &BTreeSet::new(), TODAY.parse().unwrap());
        let error = result
            .iter()
            .find(|f| f.rule_id == "storage.destroyable")
            .unwrap();
        assert_eq!(error.severity, Severity::Error, "the severity stays visible");
        assert!(!error.is_blocking());
        assert_eq!(
            error.waived.as_ref().map(|w| w.reason.as_str()),
            Some("accepted by the security review of 2025-01-10")
        );
    }

    #[test]
    fn malformed_waivers_are_all_reported() {
        let mut no_reason = waiver("storage.destroyable", None, None, "2025-12-31");
        no_reason.reason = "  ".into();
        let problems = parse(&[
            no_reason,
            waiver("storage.destroyable", None, None, "2025-02-30"),
            waiver("storage.destroyable", None, None, "31/12/2025"),
            waiver("", None, Some(""), "2025-12-31"),
        ])
        .unwrap_err();
        let expected = [
            "waiver 1 (rule `storage.destroyable`): `reason` is empty",
            "waiver 2 (rule `storage.destroyable`): `expires` \"2025-02-30\" is not a day of the calendar",
            "waiver 3 (rule `storage.destroyable`): `expires` \"31/12/2025\" is not a date written YYYY-MM-DD",
            "waiver 4 (rule ``): `rule` is empty",
            "waiver 4 (rule ``): `address` is empty",
        ];
        for needle in expected {
            assert!(
                problems.iter().any(|p| p.message.starts_with(needle)),
                "{needle}: {problems:?}"
            );
        }
    }

    #[test]
    fn a_malformed_waiver_points_at_its_value() {
        let config = config_with(&[
            waiver("storage.destroyable", None, None, "2025-12-31"),
            waiver("storage.destroyable", None, None, "31/12/2025"),
        ]);
        let expires_line = config
            .source
            .text
            .lines()
            .position(|l| l == "expires = \"31/12/2025\"")
            .unwrap()
            + 1;
        let report = Report {
            source: config.source.clone(),
            diagnostics: Waivers::parse(&config, "dev").unwrap_err(),
        };
        let text = report.to_string();
        assert!(
            text.contains(&format!("--> tenants.toml:{expires_line}:11")),
            "{text}"
        );
        assert!(text.contains("not a day"), "{text}");
    }

    #[test]
    fn findings_about_a_waiver_carry_its_address_and_line() {
        let config = config_with(&[
            waiver("storage.destroyable", None, None, "2025-06-14"),
            waiver("storage.no-such-rule", None, None, "2025-12-31"),
        ]);
        let header_lines: Vec<usize> = config
            .source
            .text
            .lines()
            .enumerate()
            .filter(|(_, line)| *line == "[[waivers]]")
            .map(|(index, _)| index + 1)
            .collect();
        let waivers = Waivers::parse(&config, "dev").unwrap();
        let result = waivers.apply(Vec::new(), &BTreeSet::new(), TODAY.parse().unwrap());
        let located: Vec<(&str, &str, Option<usize>)> = result
            .iter()
            .map(|f| (f.rule_id.as_str(), f.address.as_str(), waivers.line_of(f)))
            .collect();
        assert_eq!(
            located,
            [
                (WAIVER_EXPIRED.id, "waivers[0]", Some(header_lines[0])),
                (WAIVER_UNUSED.id, "waivers[1]", Some(header_lines[1])),
            ]
        );
        let mut other = result[0].clone();
        other.rule_id = "storage.destroyable".into();
        assert_eq!(
            waivers.line_of(&other),
            None,
            "only the waivers' own findings are located"
        );
    }

    #[test]
    fn dates_parse_order_and_come_from_the_clock() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert!(d("2024-12-31") < d("2025-01-01"));
        assert!(d("2025-01-09") < d("2025-01-10"));
        assert_eq!(d("2024-02-29").to_string(), "2024-02-29");
        assert!("2023-02-29".parse::<Date>().is_err(), "not a leap year");
        assert_eq!(Date::from_days_since_epoch(0), d("1970-01-01"));
        assert_eq!(Date::from_days_since_epoch(19_782), d("2024-02-29"));
        assert_eq!(Date::from_days_since_epoch(20_089), d("2025-01-01"));
        assert!(Date::today() > d("2025-01-01"));
    }

    #[test]
    fn globs_match_runs_of_characters() {
        let cases = [
            ("aws_s3_bucket.*", "aws_s3_bucket.data", true),
            ("aws_s3_bucket.*", "aws_s3_bucket_policy.data", false),
            ("*.data", "aws_s3_bucket.data", true),
            ("aws_*_bucket*.d*a", "aws_s3_bucket_policy.data", true),
            ("aws_vpc.tenant", "aws_vpc.tenant", true),
            ("aws_vpc.tenant", "aws_vpc.tenant2", false),
            ("*", "", true),
            ("a*a", "a", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(glob_matches(pattern, text), expected, "{pattern} ~ {text}");
        }
    }
}
