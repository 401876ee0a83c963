//! Waivers: findings the fleet's owners accept, each for a stated reason and until a stated day.
//!
//! A waiver names a rule and, optionally, a tenant and an address pattern. A finding it matches
//! stays in every report, marked waived with the reason, and no longer fails the run. An expired
//! waiver waives nothing and is itself an error; a waiver that matches nothing is a warning, so
//! stale waivers do not pile up. Waivers live only in the configuration: a plugin sees documents,
//! never findings, so it cannot waive, suppress or alter another plugin's findings.

use crate::config::WaiverConfig;
use crate::findings::{Finding, HostRule, WAIVER_EXPIRED, WAIVER_UNUSED, Waived};
use crate::tenants::Fleet;
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

/// Why the configured waivers cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", problems.join("\n"))]
pub struct WaiverError {
    /// Every problem, one line each, naming the waiver.
    pub problems: Vec<String>,
}

/// One waiver, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Waiver {
    /// 1-based position in the configuration's `[[waivers]]`.
    number: usize,
    config: WaiverConfig,
    expires: Date,
}

impl Waiver {
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

    fn matches(&self, finding: &Finding, tenant_of_stack: &BTreeMap<String, &str>) -> bool {
        let tenant = finding
            .stack
            .as_ref()
            .and_then(|stack| tenant_of_stack.get(stack).copied());
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
}

impl Waivers {
    /// Checks every waiver: a rule, a reason and a valid `expires` day are required. Reports
    /// every problem at once.
    pub fn parse(configs: &[WaiverConfig]) -> Result<Self, WaiverError> {
        let mut problems = Vec::new();
        let mut waivers = Vec::new();
        for (index, config) in configs.iter().enumerate() {
            let number = index + 1;
            let at = format!("waiver {number} (rule `{}`) in [[waivers]]", config.rule);
            if config.rule.trim().is_empty() {
                problems.push(format!(
                    "{at}: `rule` is empty; name the rule id the waiver accepts"
                ));
            }
            if config.reason.trim().is_empty() {
                problems.push(format!(
                    "{at}: `reason` is empty; say why the finding is acceptable, for whoever reviews it"
                ));
            }
            if config.address.as_deref().is_some_and(str::is_empty) {
                problems.push(format!(
                    "{at}: `address` is empty; leave it out to match every address"
                ));
            }
            match config.expires.parse::<Date>() {
                Ok(expires) => waivers.push(Waiver {
                    number,
                    config: config.clone(),
                    expires,
                }),
                Err(e) => problems.push(format!(
                    "{at}: `expires` {e}; write the waiver's last day, e.g. 2026-06-30"
                )),
            }
        }
        if problems.is_empty() {
            Ok(Self { waivers })
        } else {
            Err(WaiverError { problems })
        }
    }

    /// Marks the findings the waivers accept and adds the waivers' own findings: an error for
    /// each waiver past its day on `today`, a warning for each that matched nothing.
    /// `known_rules` are the rule ids of the host and the loaded plugins, named in the warning
    /// when a waiver's rule is not among them.
    pub fn apply(
        &self,
        mut findings: Vec<Finding>,
        fleet: &Fleet,
        known_rules: &BTreeSet<&str>,
        today: Date,
    ) -> Vec<Finding> {
        let tenant_of_stack: BTreeMap<String, &str> = fleet
            .tenants
            .iter()
            .map(|t| (tenant_stack_name(&t.id, &fleet.suffix), t.id.as_str()))
            .collect();
        let (expired, live): (Vec<&Waiver>, Vec<&Waiver>) =
            self.waivers.iter().partition(|w| w.expires < today);
        let mut used = vec![false; live.len()];
        for finding in &mut findings {
            for (index, waiver) in live.iter().enumerate() {
                if waiver.matches(finding, &tenant_of_stack) {
                    used[index] = true;
                    finding.waived.get_or_insert_with(|| Waived {
                        reason: waiver.config.reason.clone(),
                        expires: waiver.expires.to_string(),
                    });
                }
            }
        }
        let finding = |rule: &HostRule, message: String, remediation: &str| {
            Finding::of_rule(rule, None, "", "host", message, remediation)
        };
        for waiver in expired {
            findings.push(finding(
                &WAIVER_EXPIRED,
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
                && !fleet.tenants.iter().any(|t| &t.id == tenant)
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
        let fleet = Fleet::example("dev");
        let known = BTreeSet::from(["storage.archive-tiers-unreachable", "storage.destroyable"]);
        let result =
            Waivers::parse(waivers)
                .unwrap()
                .apply(findings(), &fleet, &known, TODAY.parse().unwrap());
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
        let fleet = Fleet::example("dev");
        let waivers = Waivers::parse(&[waiver("storage.destroyable", None, None, "2025-12-31")]).unwrap();
        let result = waivers.apply(findings(), &fleet, &BTreeSet::new(), TODAY.parse().unwrap());
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
        let error = Waivers::parse(&[
            no_reason,
            waiver("storage.destroyable", None, None, "2025-02-30"),
            waiver("storage.destroyable", None, None, "31/12/2025"),
            waiver("", None, Some(""), "2025-12-31"),
        ])
        .unwrap_err();
        let expected = [
            "waiver 1 (rule `storage.destroyable`) in [[waivers]]: `reason` is empty",
            "waiver 2 (rule `storage.destroyable`) in [[waivers]]: `expires` \"2025-02-30\" is not a day of the calendar",
            "waiver 3 (rule `storage.destroyable`) in [[waivers]]: `expires` \"31/12/2025\" is not a date written YYYY-MM-DD",
            "waiver 4 (rule ``) in [[waivers]]: `rule` is empty",
            "waiver 4 (rule ``) in [[waivers]]: `address` is empty",
        ];
        for needle in expected {
            assert!(
                error.problems.iter().any(|p| p.starts_with(needle)),
                "{needle}: {error}"
            );
        }
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
