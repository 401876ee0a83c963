//! The findings layer: what every check produces ([`Finding`], [`Severity`], [`Waived`]) and the
//! rules the host enforces itself ([`HostRule`], one constant per rule, and the registry
//! [`HOST_RULES`]).
//!
//! The schema and reference checks ([`crate::check`]), the guardrails, the waivers, the reports
//! and the output all depend on this module and it depends on none of them, so none of them
//! imports another for a type. A host finding is made from its rule constant
//! ([`Finding::of_rule`]), which carries the id and the severity: there is no look-up by string
//! that a typo could make fail at run time.

use crate::plugin::api;

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

/// One finding, attributed to the plugin whose rule produced it (or that emitted the block a
/// host rule judged).
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
    /// A finding of the host rule `rule`, with the rule's id and severity.
    pub fn of_rule(
        rule: &HostRule,
        stack: Option<String>,
        address: impl Into<String>,
        plugin: impl Into<String>,
        message: String,
        remediation: impl Into<String>,
    ) -> Self {
        Self {
            stack,
            severity: rule.severity,
            rule_id: rule.id.into(),
            address: address.into(),
            plugin: plugin.into(),
            message,
            remediation: remediation.into(),
            waived: None,
        }
    }

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

/// Every block validates against the provider schema.
pub const SCHEMA_VALID: HostRule = HostRule {
    id: "host.schema-valid",
    severity: Severity::Error,
    description: "Every resource and data source validates against the AWS provider schema.",
};
/// Every string is a well-formed template and every reference resolves in its stack.
pub const REFERENCES_RESOLVE: HostRule = HostRule {
    id: "host.references-resolve",
    severity: Severity::Error,
    description: "Every string is a well-formed Terraform template (closed, nested at most 32 deep, at most 1 MiB), and every ${...} reference names something declared in the same stack.",
};
/// A tenant stack mentions nothing of another tenant of the fleet.
pub const FOREIGN_TENANT: HostRule = HostRule {
    id: "host.foreign-tenant",
    severity: Severity::Error,
    description: "A tenant stack names no other tenant of the fleet: no `tenant-{other}-…` name or ARN, no other tenant's id as a TenantId value, no address block inside another tenant's block, and its policies call no Terraform function and grant no wildcard over data services that reaches other tenants.",
};
/// Every taggable resource carries the standard tags with the right values.
pub const TAGS: HostRule = HostRule {
    id: "host.tags",
    severity: Severity::Error,
    description: "Every taggable resource (one whose provider schema has `tags`, or whose type the schema does not know) carries Environment = the suffix, ManagedBy = CDKTF and, in tenant stacks, TenantId = the tenant, after default tags and its own tags are merged.",
};
/// Every named tenant resource follows `tenant-{id}-{type}-{suffix}`.
pub const NAMING: HostRule = HostRule {
    id: "host.naming",
    severity: Severity::Error,
    description: "Every literal name (`name`, `bucket`, `function_name`, tag `Name`) of a taggable resource in a tenant stack follows tenant-{id}-{type}-{suffix}.",
};
/// No two stacks' VPC blocks overlap.
pub const CIDR_OVERLAP: HostRule = HostRule {
    id: "host.cidr-overlap",
    severity: Severity::Error,
    description: "No VPC block (primary or associated) of one stack overlaps a VPC block of another stack.",
};
/// The fleet's VPCs fit the account's quota.
pub const QUOTA_VPCS: HostRule = HostRule {
    id: "host.quota-vpcs",
    severity: Severity::Warning,
    description: "The fleet's VPCs fit the account's `VPCs per Region` quota ([quotas] vpcs-per-region, default 5).",
};
/// The fleet's gateway endpoints fit the account's quota.
pub const QUOTA_GATEWAY_ENDPOINTS: HostRule = HostRule {
    id: "host.quota-gateway-endpoints",
    severity: Severity::Warning,
    description: "The fleet's gateway VPC endpoints fit the `Gateway VPC endpoints per Region` quota ([quotas] gateway-endpoints-per-region, default 20).",
};
/// The fleet's reserved Lambda concurrency leaves the account's unreserved minimum.
pub const QUOTA_LAMBDA_CONCURRENCY: HostRule = HostRule {
    id: "host.quota-lambda-concurrency",
    severity: Severity::Warning,
    description: "Reserved Lambda concurrency leaves the unreserved minimum of the account's `Concurrent executions` ([quotas] lambda-concurrent-executions, default 1000; lambda-unreserved-minimum, default 100).",
};
/// A waiver past its `expires` day.
pub const WAIVER_EXPIRED: HostRule = HostRule {
    id: "host.waiver-expired",
    severity: Severity::Error,
    description: "No waiver in the configuration is past its `expires` day; an expired waiver waives nothing.",
};
/// A waiver that matches no finding.
pub const WAIVER_UNUSED: HostRule = HostRule {
    id: "host.waiver-unused",
    severity: Severity::Warning,
    description: "Every waiver in the configuration matches at least one finding.",
};

/// Every access intent holds (the access model, `crate::access`).
pub const ACCESS_INTENT: HostRule = HostRule {
    id: "host.access-intent",
    severity: Severity::Error,
    description: "Every access intent holds in AWS's policy evaluation logic over the composed fleet: what must be allowed is allowed, what must be denied is denied for every request (an unknown verdict does not hold).",
};
/// No principal of one tenant reaches another tenant's data; nothing is anonymous.
pub const CROSS_TENANT_ACCESS: HostRule = HostRule {
    id: "host.cross-tenant-access",
    severity: Severity::Error,
    description: "No principal bound to one tenant can perform a data action on another tenant's bucket, table, key, log groups or queues, and no anonymous caller any, over every principal × resource pair (an unknown verdict is a violation).",
};

/// The registry: every rule of the host, what must hold whatever plugins are loaded.
pub const HOST_RULES: &[HostRule] = &[
    SCHEMA_VALID,
    REFERENCES_RESOLVE,
    FOREIGN_TENANT,
    TAGS,
    NAMING,
    CIDR_OVERLAP,
    QUOTA_VPCS,
    QUOTA_GATEWAY_ENDPOINTS,
    QUOTA_LAMBDA_CONCURRENCY,
    WAIVER_EXPIRED,
    WAIVER_UNUSED,
    ACCESS_INTENT,
    CROSS_TENANT_ACCESS,
];

/// Every rule of the host, in registry order.
pub fn host_rules() -> impl Iterator<Item = &'static HostRule> {
    HOST_RULES.iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_kebab_case() {
        let mut ids: Vec<&str> = HOST_RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), HOST_RULES.len(), "a rule id is registered twice");
        for id in ids {
            let name = id.strip_prefix("host.").expect("host rules start with `host.`");
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{id}");
        }
    }
}
