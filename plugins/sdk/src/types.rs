//! Plain Rust mirrors of the contract's records, so plugin logic never touches generated code.

use crate::declarations::{Rule, ValueDeclaration, ValueKind};
use std::fmt;

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

/// The kind of stack a value, a name or an extension point belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StackKind {
    /// The shared central stack.
    Central,
    /// A tenant's stack.
    Tenant,
}

/// A tenant of the fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// The tenant id, `[a-z0-9-]`.
    pub id: String,
    /// The VPC's IPv4 block, e.g. `10.1.0.0/16`.
    pub cidr_block: String,
}

/// A value exchanged between plugins: text, or a list of texts (never JSON inside a string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangedValue {
    /// One string, usually a Terraform reference such as `${aws_kms_key.tenant.arn}`.
    Text(String),
    /// A list of strings, e.g. the ids of the private subnets.
    TextList(Vec<String>),
}

impl ExchangedValue {
    /// The shape of this value.
    pub fn kind(&self) -> ValueKind {
        match self {
            Self::Text(_) => ValueKind::Text,
            Self::TextList(_) => ValueKind::TextList,
        }
    }

    /// The value as JSON: a string or an array of strings (the form golden files hold).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Text(text) => serde_json::Value::from(text.as_str()),
            Self::TextList(list) => serde_json::Value::from(list.clone()),
        }
    }
}

impl From<String> for ExchangedValue {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for ExchangedValue {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<Vec<String>> for ExchangedValue {
    fn from(list: Vec<String>) -> Self {
        Self::TextList(list)
    }
}

impl From<&[&str]> for ExchangedValue {
    fn from(list: &[&str]) -> Self {
        Self::TextList(list.iter().map(|item| (*item).to_owned()).collect())
    }
}

/// What another plugin added at one of this plugin's extension points.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedContribution {
    /// The plugin that contributed it.
    pub contributor: String,
    /// The extension point's name.
    pub point: String,
    /// The contributed JSON value.
    pub body: serde_json::Value,
}

/// Something a plugin adds at another plugin's extension point (see
/// [`Plugin::contribute`](crate::Plugin::contribute)).
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// The extension point's name.
    pub point: String,
    /// A JSON value of the shape the extension point's description demands.
    pub body: serde_json::Value,
}

impl Contribution {
    /// A contribution of `body` to `point`.
    pub fn new(point: &crate::ExtensionPoint, body: serde_json::Value) -> Self {
        Self {
            point: point.name.to_owned(),
            body,
        }
    }
}

/// Everything a plugin knows while it synthesizes a fragment, with its settings already parsed
/// into the plugin's own type `S`.
#[derive(Debug, Clone, PartialEq)]
pub struct StackContext<S> {
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
    /// The plugin's settings: defaults overlaid with configuration, checked against the schema.
    pub settings: S,
    /// The required values, by name.
    pub inputs: Vec<(String, ExchangedValue)>,
    /// The contributions to the extension points this plugin accepts.
    pub contributions: Vec<ReceivedContribution>,
}

impl<S> StackContext<S> {
    /// The tenant of a tenant stack, or an error for the central stack.
    pub fn tenant(&self) -> Result<&Tenant, PluginError> {
        self.tenant
            .as_ref()
            .ok_or_else(|| PluginError::InvalidContext(format!("stack `{}` has no tenant", self.stack)))
    }

    fn input_value(&self, value: &ValueDeclaration) -> Result<&ExchangedValue, PluginError> {
        self.inputs
            .iter()
            .find(|(name, _)| name == value.name)
            .map(|(_, provided)| provided)
            .ok_or_else(|| PluginError::InvalidContext(format!("input `{}` was not provided", value.name)))
    }

    /// The text of a required input, or an error naming it.
    pub fn input(&self, value: &ValueDeclaration) -> Result<&str, PluginError> {
        match self.input_value(value)? {
            ExchangedValue::Text(text) => Ok(text),
            ExchangedValue::TextList(_) => Err(PluginError::InvalidContext(format!(
                "input `{}` is a text list; it is declared as text",
                value.name
            ))),
        }
    }

    /// The list of texts of a required input, or an error naming it.
    pub fn input_list(&self, value: &ValueDeclaration) -> Result<&[String], PluginError> {
        match self.input_value(value)? {
            ExchangedValue::TextList(list) => Ok(list),
            ExchangedValue::Text(_) => Err(PluginError::InvalidContext(format!(
                "input `{}` is text; it is declared as a text list",
                value.name
            ))),
        }
    }

    /// The context with the input `value` set to `provided` (replacing an earlier one): how
    /// tests feed what other plugins would provide.
    pub fn with_input(mut self, value: &ValueDeclaration, provided: impl Into<ExchangedValue>) -> Self {
        self.inputs.retain(|(name, _)| name != value.name);
        self.inputs.push((value.name.to_owned(), provided.into()));
        self
    }
}

/// Why a plugin could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// A setting has an unusable value.
    InvalidSettings(String),
    /// The stack context is unusable.
    InvalidContext(String),
    /// A contribution to one of the plugin's extension points is not acceptable; the text names
    /// the contributor and says why.
    InvalidContribution(String),
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
            Self::InvalidContribution(m) => write!(f, "invalid contribution: {m}"),
            Self::InvalidDocument(m) => write!(f, "invalid document: {m}"),
            Self::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for PluginError {}

/// One violation or observation found by a rule. Make one with [`Rule::finding`].
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

impl Rule {
    /// A finding of this rule, with its severity, at `address`.
    pub fn finding(
        &self,
        address: impl Into<String>,
        message: impl Into<String>,
        remediation: impl Into<String>,
    ) -> Finding {
        Finding {
            rule_id: self.id.to_owned(),
            severity: self.severity,
            address: address.into(),
            message: message.into(),
            remediation: remediation.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declarations::ValueDeclaration;

    const WARNED: Rule = Rule::warning("p.warned", "Warned.");
    const TEXT: ValueDeclaration = ValueDeclaration::text(StackKind::Tenant, "text", "A text.");
    const LIST: ValueDeclaration = ValueDeclaration::text_list(StackKind::Tenant, "list", "A list.");

    #[test]
    fn findings_take_the_rules_id_and_severity() {
        let finding = WARNED.finding("aws_vpc.a", "message", "remediation");
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
    fn inputs_are_read_in_their_declared_shape() {
        let context = StackContext {
            stack: "s".into(),
            tenant: None,
            fleet: Vec::new(),
            environment_suffix: "dev".into(),
            region: "us-east-1".into(),
            settings: (),
            inputs: Vec::new(),
            contributions: Vec::new(),
        }
        .with_input(&TEXT, "a")
        .with_input(&LIST, &["b", "c"][..])
        .with_input(&TEXT, "d");
        assert_eq!(context.input(&TEXT), Ok("d"));
        assert_eq!(context.input_list(&LIST).unwrap(), ["b", "c"]);
        assert!(
            context
                .input(&LIST)
                .unwrap_err()
                .to_string()
                .contains("text list")
        );
        assert!(context.input_list(&TEXT).is_err());
        assert!(context.tenant().is_err());
    }
}
