//! IAM policy documents as typed builders, rendered as the JSON string Terraform expects.

use serde_json::{Map, Value, json};

/// An IAM policy document (`Version: 2012-10-17`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyDocument {
    statements: Vec<Statement>,
}

impl PolicyDocument {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a statement.
    pub fn statement(mut self, statement: Statement) -> Self {
        self.statements.push(statement);
        self
    }

    /// The document as a JSON value.
    pub fn to_value(&self) -> Value {
        json!({
            "Version": "2012-10-17",
            "Statement": self.statements.iter().map(Statement::to_value).collect::<Vec<_>>(),
        })
    }

    /// The document as the JSON string a `policy` attribute holds.
    pub fn render(&self) -> String {
        self.to_value().to_string()
    }
}

/// One statement of a [`PolicyDocument`].
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: String,
    effect: &'static str,
    principal: Option<Value>,
    actions: Vec<String>,
    resources: Vec<String>,
    conditions: Map<String, Value>,
}

impl Statement {
    /// An `Allow` statement named `sid`.
    pub fn allow(sid: &str) -> Self {
        Self::with_effect(sid, "Allow")
    }

    /// A `Deny` statement named `sid`.
    pub fn deny(sid: &str) -> Self {
        Self::with_effect(sid, "Deny")
    }

    fn with_effect(sid: &str, effect: &'static str) -> Self {
        Self {
            sid: sid.into(),
            effect,
            principal: None,
            actions: Vec::new(),
            resources: Vec::new(),
            conditions: Map::new(),
        }
    }

    /// Adds actions, e.g. `["s3:GetObject"]`.
    pub fn actions<S: AsRef<str>>(mut self, actions: &[S]) -> Self {
        self.actions.extend(actions.iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Adds resource ARNs or references.
    pub fn resources<S: AsRef<str>>(mut self, resources: &[S]) -> Self {
        self.resources
            .extend(resources.iter().map(|r| r.as_ref().to_owned()));
        self
    }

    /// Sets the principal block, e.g. `json!({"Service": "lambda.amazonaws.com"})` or `json!("*")`.
    pub fn principal(mut self, principal: Value) -> Self {
        self.principal = Some(principal);
        self
    }

    /// Adds a condition: `operator` (e.g. `StringEquals`) on `key` with `value`.
    pub fn condition(mut self, operator: &str, key: &str, value: Value) -> Self {
        let entry = self
            .conditions
            .entry(operator.to_owned())
            .or_insert_with(|| json!({}));
        entry[key] = value;
        self
    }

    fn to_value(&self) -> Value {
        let mut statement = Map::new();
        statement.insert("Sid".into(), json!(self.sid));
        statement.insert("Effect".into(), json!(self.effect));
        if let Some(principal) = &self.principal {
            statement.insert("Principal".into(), principal.clone());
        }
        statement.insert("Action".into(), one_or_many(&self.actions));
        if !self.resources.is_empty() {
            statement.insert("Resource".into(), one_or_many(&self.resources));
        }
        if !self.conditions.is_empty() {
            statement.insert("Condition".into(), Value::Object(self.conditions.clone()));
        }
        Value::Object(statement)
    }
}

fn one_or_many(items: &[String]) -> Value {
    match items {
        [one] => json!(one),
        many => json!(many),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_scoped_statement() {
        let doc = PolicyDocument::new().statement(
            Statement::allow("ReadOwnTable")
                .actions(&["dynamodb:GetItem"])
                .resources(&["${aws_dynamodb_table.metadata.arn}"])
                .condition("StringEquals", "aws:PrincipalTag/TenantId", json!("acme-corp")),
        );
        let value: Value = serde_json::from_str(&doc.render()).unwrap();
        assert_eq!(value["Version"], "2012-10-17");
        let statement = &value["Statement"][0];
        assert_eq!(statement["Action"], "dynamodb:GetItem");
        assert_eq!(
            statement["Condition"]["StringEquals"]["aws:PrincipalTag/TenantId"],
            "acme-corp"
        );
        assert!(statement.get("Principal").is_none());
    }
}
