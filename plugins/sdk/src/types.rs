//! Plain Rust mirrors of the contract's records, so plugin logic never touches generated code.

use std::fmt;

/// The version of `wit/tenant-plugin@0.1.0/plugin.wit` this SDK implements; reported by every plugin's `describe`.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// How serious a finding is. `Error` fails the synthesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Fails the synthesis.
    Error,
    /// Reported; does not fail.
    Warning,
    /// Reported for information.
    Info,
}

/// A policy rule the plugin enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `<plugin>.<kebab-case-name>`.
    pub id: String,
    /// The severity of its findings.
    pub severity: Severity,
    /// One line: what the rule demands.
    pub description: String,
}

/// A setting the plugin accepts, with its default (whose JSON type is the setting's type).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// kebab-case key.
    pub name: String,
    /// One line: what it changes.
    pub description: String,
    /// The default value.
    pub default_value: serde_json::Value,
}

/// The kind of stack a value is exchanged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StackKind {
    /// The shared central stack.
    Central,
    /// A tenant's stack.
    Tenant,
}

/// A value a plugin provides or requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueDeclaration {
    /// kebab-case name.
    pub name: String,
    /// Where it is exchanged.
    pub stack: StackKind,
    /// One line: what it is.
    pub description: String,
}

/// What `describe` returns. Build it with [`PluginInfo::new`] and the chained adders.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginInfo {
    /// Unique plugin name.
    pub name: String,
    /// The plugin's version.
    pub version: String,
    /// Always [`CONTRACT_VERSION`] for plugins built with this SDK.
    pub contract_version: String,
    /// One line: what the plugin contributes.
    pub summary: String,
    /// Values provided.
    pub provides: Vec<ValueDeclaration>,
    /// Values required.
    pub requires: Vec<ValueDeclaration>,
    /// Rules enforced.
    pub rules: Vec<Rule>,
    /// Settings accepted.
    pub settings: Vec<Setting>,
}

impl PluginInfo {
    /// A plugin with nothing provided, required, enforced or configurable yet.
    pub fn new(name: &str, version: &str, summary: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            contract_version: CONTRACT_VERSION.to_owned(),
            summary: summary.to_owned(),
            provides: Vec::new(),
            requires: Vec::new(),
            rules: Vec::new(),
            settings: Vec::new(),
        }
    }

    /// Declares a value this plugin provides in stacks of `stack` kind.
    pub fn provides(mut self, stack: StackKind, name: &str, description: &str) -> Self {
        self.provides.push(ValueDeclaration {
            name: name.into(),
            stack,
            description: description.into(),
        });
        self
    }

    /// Declares a value this plugin requires in stacks of `stack` kind.
    pub fn requires(mut self, stack: StackKind, name: &str, description: &str) -> Self {
        self.requires.push(ValueDeclaration {
            name: name.into(),
            stack,
            description: description.into(),
        });
        self
    }

    /// Declares a rule.
    pub fn rule(mut self, id: &str, severity: Severity, description: &str) -> Self {
        self.rules.push(Rule {
            id: id.into(),
            severity,
            description: description.into(),
        });
        self
    }

    /// Declares a setting and its default.
    pub fn setting(mut self, name: &str, default_value: serde_json::Value, description: &str) -> Self {
        self.settings.push(Setting {
            name: name.into(),
            description: description.into(),
            default_value,
        });
        self
    }

    /// The declared rule with this id. Panics on an undeclared id: that is a bug in the plugin,
    /// caught by its own unit tests.
    pub fn find_rule(&self, id: &str) -> &Rule {
        self.rules
            .iter()
            .find(|rule| rule.id == id)
            .unwrap_or_else(|| panic!("rule `{id}` is not declared by plugin `{}`", self.name))
    }

    /// A finding of the declared rule `rule_id` (see [`PluginInfo::find_rule`], which panics on an
    /// undeclared id) at `address`.
    pub fn finding(
        &self,
        rule_id: &str,
        address: impl Into<String>,
        message: impl Into<String>,
        remediation: impl Into<String>,
    ) -> Finding {
        Finding::new(self.find_rule(rule_id), address, message, remediation)
    }
}

/// A tenant of the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant id, `[a-z0-9-]`.
    pub id: String,
    /// The VPC's IPv4 block, e.g. `10.1.0.0/16`.
    pub cidr_block: String,
}

/// Everything a plugin knows while it synthesizes a fragment.
#[derive(Debug, Clone, PartialEq)]
pub struct StackContext {
    /// The stack's name.
    pub stack: String,
    /// The tenant; `None` for the central stack.
    pub tenant: Option<Tenant>,
    /// The fleet; empty in tenant stacks.
    pub fleet: Vec<Tenant>,
    /// The environment suffix.
    pub environment_suffix: String,
    /// The AWS region.
    pub region: String,
    /// The plugin's settings: defaults overlaid with configuration.
    pub settings: serde_json::Value,
    /// The required values, by name.
    pub inputs: Vec<(String, String)>,
}

impl StackContext {
    /// The tenant of a tenant stack, or an error for the central stack.
    pub fn tenant(&self) -> Result<&Tenant, PluginError> {
        self.tenant
            .as_ref()
            .ok_or_else(|| PluginError::InvalidContext(format!("stack `{}` has no tenant", self.stack)))
    }

    /// The value of a required input, or an error naming it.
    pub fn input(&self, name: &str) -> Result<&str, PluginError> {
        self.inputs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .ok_or_else(|| PluginError::InvalidContext(format!("input `{name}` was not provided")))
    }

    /// A setting's value, or an error naming it.
    pub fn setting(&self, name: &str) -> Result<&serde_json::Value, PluginError> {
        self.settings
            .get(name)
            .ok_or_else(|| PluginError::InvalidSettings(format!("setting `{name}` is missing")))
    }

    /// A setting that must be a non-negative integer.
    pub fn setting_u64(&self, name: &str) -> Result<u64, PluginError> {
        self.setting(name)?.as_u64().ok_or_else(|| {
            PluginError::InvalidSettings(format!("setting `{name}` must be a non-negative integer"))
        })
    }

    /// A setting that must be a string.
    pub fn setting_str(&self, name: &str) -> Result<&str, PluginError> {
        self.setting(name)?
            .as_str()
            .ok_or_else(|| PluginError::InvalidSettings(format!("setting `{name}` must be a string")))
    }

    /// A setting that must be a boolean.
    pub fn setting_bool(&self, name: &str) -> Result<bool, PluginError> {
        self.setting(name)?
            .as_bool()
            .ok_or_else(|| PluginError::InvalidSettings(format!("setting `{name}` must be a boolean")))
    }
}

/// Why a plugin could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// A setting has an unusable value.
    InvalidSettings(String),
    /// The stack context is unusable.
    InvalidContext(String),
    /// A document given to a check is not what the plugin expects.
    InvalidDocument(String),
    /// A bug in the plugin.
    Internal(String),
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidSettings(m) => write!(f, "invalid settings: {m}"),
            Self::InvalidContext(m) => write!(f, "invalid context: {m}"),
            Self::InvalidDocument(m) => write!(f, "invalid document: {m}"),
            Self::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for PluginError {}

/// One violation or observation found by a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule's id.
    pub rule_id: String,
    /// The severity.
    pub severity: Severity,
    /// The Terraform address, or empty for the stack as a whole.
    pub address: String,
    /// What is wrong.
    pub message: String,
    /// What to change.
    pub remediation: String,
}

impl Finding {
    /// A finding of `rule`, with the rule's severity.
    pub fn new(
        rule: &Rule,
        address: impl Into<String>,
        message: impl Into<String>,
        remediation: impl Into<String>,
    ) -> Self {
        Self {
            rule_id: rule.id.clone(),
            severity: rule.severity,
            address: address.into(),
            message: message.into(),
            remediation: remediation.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_take_the_declared_rules_severity() {
        let info = PluginInfo::new("p", "0.1.0", "Checks.").rule("p.warned", Severity::Warning, "Warned.");
        let finding = info.finding("p.warned", "aws_vpc.a", "message", "remediation");
        assert_eq!(
            (
                finding.rule_id.as_str(),
                finding.severity,
                finding.address.as_str()
            ),
            ("p.warned", Severity::Warning, "aws_vpc.a")
        );
    }

    #[test]
    fn contract_version_matches_the_wit_package() {
        let wit = include_str!("../../../wit/tenant-plugin@0.1.0/plugin.wit");
        let package = wit
            .lines()
            .find(|l| l.starts_with("package "))
            .expect("the WIT names its package");
        assert_eq!(package, format!("package tenant:plugin@{CONTRACT_VERSION};"));
    }
}
