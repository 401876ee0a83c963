//! What a plugin declares about itself in `describe`: rules, exchanged values, physical names,
//! extension points and fleet needs. Each is a constant the plugin declares once and uses both in
//! [`PluginInfo`] and where it acts (findings, inputs, provided values, names), so the two cannot
//! drift and nothing is looked up by a string that could be misspelled.

use crate::types::{Severity, StackKind};

/// The version of the contract (`wit/tenant-plugin@0.2.0/plugin.wit`) this SDK implements;
/// reported by every plugin's `describe`.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// A policy rule the plugin enforces, declared as a constant:
///
/// ```
/// use tenant_plugin_sdk::Rule;
/// pub const BUCKET_VERSIONING: Rule =
///     Rule::error("storage.bucket-versioning-enabled", "Every S3 bucket has versioning Enabled.");
/// let finding = BUCKET_VERSIONING.finding("aws_s3_bucket.data", "versioning is off", "Enable it.");
/// assert_eq!(finding.rule_id, "storage.bucket-versioning-enabled");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// `<plugin>.<kebab-case-name>`.
    pub id: &'static str,
    /// The severity of its findings.
    pub severity: Severity,
    /// One line: what the rule demands.
    pub description: &'static str,
}

impl Rule {
    /// A rule whose findings fail the synthesis.
    pub const fn error(id: &'static str, description: &'static str) -> Self {
        Self {
            id,
            severity: Severity::Error,
            description,
        }
    }

    /// A rule whose findings are reported as warnings.
    pub const fn warning(id: &'static str, description: &'static str) -> Self {
        Self {
            id,
            severity: Severity::Warning,
            description,
        }
    }

    /// A rule whose findings are reported for information.
    pub const fn info(id: &'static str, description: &'static str) -> Self {
        Self {
            id,
            severity: Severity::Info,
            description,
        }
    }
}

/// A rule displays as its id, e.g. in test messages.
impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

/// The shape of a value exchanged between plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// One string.
    Text,
    /// A list of strings.
    TextList,
}

/// A value a plugin provides or requires, declared once as a constant and used by the provider
/// ([`Fragment::provide`](crate::Fragment::provide)) and every requirer
/// ([`StackContext::input`](crate::StackContext::input)). The values of the bundled plugins are in
/// [`bundled`](crate::bundled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueDeclaration {
    /// kebab-case name.
    pub name: &'static str,
    /// Where it is exchanged.
    pub stack: StackKind,
    /// Its shape; the provider must provide exactly this shape.
    pub kind: ValueKind,
    /// One line: what it is.
    pub description: &'static str,
}

impl ValueDeclaration {
    /// A value of one string.
    pub const fn text(stack: StackKind, name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            stack,
            kind: ValueKind::Text,
            description,
        }
    }

    /// A value that is a list of strings.
    pub const fn text_list(stack: StackKind, name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            stack,
            kind: ValueKind::TextList,
            description,
        }
    }
}

/// A physical name the plugin gives to a cloud resource, as a template over `{id}` (the tenant
/// id, tenant stacks only) and `{suffix}` (the environment suffix). The host budgets name lengths
/// across all loaded plugins from these declarations and rejects a tenant id that would make any
/// name longer than AWS accepts, before anything is synthesized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamePattern {
    /// The AWS resource type and attribute the name is written to, e.g. `aws_s3_bucket.bucket`.
    pub resource_kind: &'static str,
    /// The template, e.g. `tenant-{id}-data-{suffix}`.
    pub template: &'static str,
    /// The longest name AWS accepts for this kind.
    pub max_length: u32,
    /// The kind of stack the name is created in.
    pub stack: StackKind,
}

impl NamePattern {
    /// A name created in every tenant stack.
    pub const fn tenant(resource_kind: &'static str, template: &'static str, max_length: u32) -> Self {
        Self {
            resource_kind,
            template,
            max_length,
            stack: StackKind::Tenant,
        }
    }

    /// A name created in the central stack.
    pub const fn central(resource_kind: &'static str, template: &'static str, max_length: u32) -> Self {
        Self {
            resource_kind,
            template,
            max_length,
            stack: StackKind::Central,
        }
    }

    /// The name for tenant `tenant_id` (ignored by central templates) and `suffix`.
    pub fn render(&self, tenant_id: &str, suffix: &str) -> String {
        self.template
            .replace("{id}", tenant_id)
            .replace("{suffix}", suffix)
    }

    /// The name of a central-stack resource for `suffix`.
    pub fn render_central(&self, suffix: &str) -> String {
        debug_assert!(
            !self.template.contains("{id}"),
            "{} names a tenant resource",
            self.template
        );
        self.template.replace("{suffix}", suffix)
    }

    /// The resource type the name is written to: `aws_s3_bucket` of `aws_s3_bucket.bucket`.
    pub fn resource_type(&self) -> &'static str {
        self.resource_kind
            .split_once('.')
            .map_or(self.resource_kind, |(type_name, _)| type_name)
    }

    /// The attribute the name is written to: `bucket` of `aws_s3_bucket.bucket`.
    pub fn attribute(&self) -> &'static str {
        self.resource_kind
            .split_once('.')
            .map_or("name", |(_, attribute)| attribute)
    }
}

/// A place in a plugin's output that later plugins may add to, e.g. the crypto plugin's
/// `tenant-key-policy`. The owner lists it in [`PluginInfo::accepts`], contributors in
/// [`PluginInfo::contributes_to`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensionPoint {
    /// kebab-case name, unique among the loaded plugins' extension points.
    pub name: &'static str,
    /// The kind of stack the point exists in.
    pub stack: StackKind,
    /// What a contribution's body must be and what the owner does with it.
    pub description: &'static str,
}

/// What `describe` returns, apart from the settings (which come from the plugin's
/// [`SettingsSchema`](crate::SettingsSchema)). Build it with [`PluginInfo::new`] and the chained
/// adders.
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
    /// Every physical name the plugin creates.
    pub name_patterns: Vec<NamePattern>,
    /// Extension points the plugin owns.
    pub accepts: Vec<ExtensionPoint>,
    /// Extension points of other plugins this plugin contributes to.
    pub contributes_to: Vec<ExtensionPoint>,
    /// What `check_fleet` needs of every stack: resource types and `output:<name>`.
    pub fleet_needs: Vec<String>,
}

impl PluginInfo {
    /// A plugin with nothing provided, required, enforced or named yet.
    pub fn new(name: &str, version: &str, summary: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            contract_version: CONTRACT_VERSION.to_owned(),
            summary: summary.to_owned(),
            provides: Vec::new(),
            requires: Vec::new(),
            rules: Vec::new(),
            name_patterns: Vec::new(),
            accepts: Vec::new(),
            contributes_to: Vec::new(),
            fleet_needs: Vec::new(),
        }
    }

    /// Declares values this plugin provides.
    pub fn provides(mut self, values: &[ValueDeclaration]) -> Self {
        self.provides.extend_from_slice(values);
        self
    }

    /// Declares values this plugin requires.
    pub fn requires(mut self, values: &[ValueDeclaration]) -> Self {
        self.requires.extend_from_slice(values);
        self
    }

    /// Declares rules.
    pub fn rules(mut self, rules: &[Rule]) -> Self {
        self.rules.extend_from_slice(rules);
        self
    }

    /// Declares physical names the plugin creates.
    pub fn names(mut self, patterns: &[NamePattern]) -> Self {
        self.name_patterns.extend_from_slice(patterns);
        self
    }

    /// Declares an extension point this plugin owns.
    pub fn accepts(mut self, point: ExtensionPoint) -> Self {
        self.accepts.push(point);
        self
    }

    /// Declares that this plugin contributes to another plugin's extension point.
    pub fn contributes_to(mut self, point: ExtensionPoint) -> Self {
        self.contributes_to.push(point);
        self
    }

    /// Declares the resource types whose blocks `check_fleet` needs from every stack.
    pub fn fleet_needs_resources(mut self, type_names: &[&str]) -> Self {
        self.fleet_needs
            .extend(type_names.iter().map(|t| (*t).to_owned()));
        self
    }

    /// Declares a stack output `check_fleet` needs from every stack.
    pub fn fleet_needs_output(mut self, output: &str) -> Self {
        self.fleet_needs.push(format!("output:{output}"));
        self
    }

    /// Whether `rule_id` is one of the declared rules.
    pub fn declares_rule(&self, rule_id: &str) -> bool {
        self.rules.iter().any(|rule| rule.id == rule_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAULT: NamePattern = NamePattern::tenant("aws_backup_vault.name", "tenant-{id}-vault-{suffix}", 50);

    #[test]
    fn name_patterns_render_and_split_their_kind() {
        assert_eq!(VAULT.render("acme-corp", "dev"), "tenant-acme-corp-vault-dev");
        assert_eq!(
            (VAULT.resource_type(), VAULT.attribute()),
            ("aws_backup_vault", "name")
        );
    }

    #[test]
    fn fleet_needs_name_outputs_by_prefix() {
        let info = PluginInfo::new("p", "0.1.0", "P.")
            .fleet_needs_resources(&["aws_vpc"])
            .fleet_needs_output("vpc_id");
        assert_eq!(info.fleet_needs, ["aws_vpc", "output:vpc_id"]);
    }

    #[test]
    fn contract_version_matches_the_wit_package() {
        let wit = include_str!("../../../wit/tenant-plugin@0.2.0/plugin.wit");
        let package = wit
            .lines()
            .find(|l| l.starts_with("package "))
            .expect("the WIT names its package");
        assert_eq!(package, format!("package tenant:plugin@{CONTRACT_VERSION};"));
    }
}
