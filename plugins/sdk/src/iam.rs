//! IAM policy documents: typed builders, rendered as the JSON string Terraform expects, the
//! statements several plugins put into KMS key policies, and readers for the statements of
//! composed policies, for check functions.

use serde::ser::{Serialize, SerializeMap, Serializer};
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
        serde_json::to_value(self).expect("a policy document is valid JSON")
    }

    /// The document as the JSON string a `policy` attribute holds. Written straight from the
    /// builder, not through a [`Value`]: building and dropping that tree was most of the 2.4 %
    /// of a 1,000-tenant `check` that rendering policies took.
    pub fn render(&self) -> String {
        crate::json_text(self)
    }
}

/// Keys in sorted order, as a [`Value`]'s map writes them, so both ways give the same text.
impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut document = serializer.serialize_map(Some(2))?;
        document.serialize_entry("Statement", &self.statements)?;
        document.serialize_entry("Version", "2012-10-17")?;
        document.end()
    }
}

/// One statement of a [`PolicyDocument`].
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: String,
    effect: &'static str,
    principal: Option<Value>,
    actions: Vec<String>,
    not_actions: Vec<String>,
    resources: Vec<String>,
    not_resources: Vec<String>,
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
            not_actions: Vec::new(),
            resources: Vec::new(),
            not_resources: Vec::new(),
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

    /// Adds `NotAction` entries: the statement covers every action but these.
    pub fn not_actions<S: AsRef<str>>(mut self, actions: &[S]) -> Self {
        self.not_actions
            .extend(actions.iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Adds `NotResource` entries: the statement covers every resource but these, e.g. a `Deny`
    /// of reads anywhere outside the tenant's own resources.
    pub fn not_resources<S: AsRef<str>>(mut self, resources: &[S]) -> Self {
        self.not_resources
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
}

/// Keys in sorted order, as a [`Value`]'s map writes them, so both ways give the same text.
impl Serialize for Statement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut statement = serializer.serialize_map(None)?;
        // `Action` is always written unless the statement is a `NotAction` one.
        if !self.actions.is_empty() || self.not_actions.is_empty() {
            statement.serialize_entry("Action", &OneOrMany(&self.actions))?;
        }
        if !self.conditions.is_empty() {
            statement.serialize_entry("Condition", &self.conditions)?;
        }
        statement.serialize_entry("Effect", self.effect)?;
        if !self.not_actions.is_empty() {
            statement.serialize_entry("NotAction", &OneOrMany(&self.not_actions))?;
        }
        if !self.not_resources.is_empty() {
            statement.serialize_entry("NotResource", &OneOrMany(&self.not_resources))?;
        }
        if let Some(principal) = &self.principal {
            statement.serialize_entry("Principal", principal)?;
        }
        if !self.resources.is_empty() {
            statement.serialize_entry("Resource", &OneOrMany(&self.resources))?;
        }
        statement.serialize_entry("Sid", &self.sid)?;
        statement.end()
    }
}

/// A list written as its only item when it has one, as IAM's own documents do.
struct OneOrMany<'a>(&'a [String]);

impl Serialize for OneOrMany<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [one] => one.serialize(serializer),
            many => many.serialize(serializer),
        }
    }
}

/// The actions CloudWatch Logs needs on a KMS key that encrypts a log group.
pub const LOGS_KEY_ACTIONS: [&str; 5] = [
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
];

/// The key policy statement AWS requires so a key stays manageable: the root of `account_id`
/// (an id or a reference to one) gets `kms:*` on the key, which delegates access decisions to
/// the account's IAM policies.
pub fn key_administration(sid: &str, account_id: &str) -> Statement {
    Statement::allow(sid)
        .principal(json!({"AWS": format!("arn:aws:iam::{account_id}:root")}))
        .actions(&["kms:*"])
        .resources(&["*"])
}

/// The key policy statement letting CloudWatch Logs of `region` use the key for exactly the log
/// groups `log_group_arns` (see [`crate::naming::log_group_arn`]): it is bound by the
/// `kms:EncryptionContext:aws:logs:arn` CloudWatch Logs passes.
pub fn logs_key_use<S: AsRef<str>>(sid: &str, region: &str, log_group_arns: &[S]) -> Statement {
    let arns: Vec<&str> = log_group_arns.iter().map(AsRef::as_ref).collect();
    Statement::allow(sid)
        .principal(json!({"Service": format!("logs.{region}.amazonaws.com")}))
        .actions(&LOGS_KEY_ACTIONS)
        .resources(&["*"])
        .condition("ArnEquals", "kms:EncryptionContext:aws:logs:arn", json!(arns))
}

/// The statements of a policy held as a JSON string; `Statement` may be one object or a list.
/// The error says why there are none to read (not JSON, e.g. an interpolated data source, or no
/// `Statement`).
pub fn policy_statements(policy: &str) -> Result<Vec<Value>, String> {
    let document: Value =
        serde_json::from_str(policy).map_err(|e| format!("the policy is not JSON ({e})"))?;
    // The statements are moved out of the parsed document, not copied.
    let statement = match document {
        Value::Object(mut fields) => fields.remove("Statement"),
        _ => None,
    };
    match statement {
        Some(Value::Array(statements)) => Ok(statements),
        Some(statement @ Value::Object(_)) => Ok(vec![statement]),
        _ => Err("the policy has no Statement".to_owned()),
    }
}

/// A policy element that is one string or a list of strings (`Action`, `Resource`, a condition
/// value, a principal list); anything else gives none.
pub fn one_or_many(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether a statement's `Effect` is `Allow`.
pub fn is_allow(statement: &Value) -> bool {
    statement["Effect"] == "Allow"
}

/// The condition entries of `statement` on `key` (keys are case-insensitive in IAM), as
/// `(operator, value)`.
pub fn conditions_on<'s>(statement: &'s Value, key: &str) -> Vec<(&'s str, &'s Value)> {
    let Some(operators) = statement.get("Condition").and_then(Value::as_object) else {
        return Vec::new();
    };
    operators
        .iter()
        .flat_map(|(operator, entries)| {
            entries
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(entry_key, _)| entry_key.eq_ignore_ascii_case(key))
                .map(move |(_, value)| (operator.as_str(), value))
        })
        .collect()
}

/// Whether the statement has any condition at all (an operator with no entries is none).
pub fn has_condition(statement: &Value) -> bool {
    statement
        .get("Condition")
        .and_then(Value::as_object)
        .is_some_and(|operators| {
            operators
                .values()
                .any(|entries| entries.as_object().is_some_and(|e| !e.is_empty()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rendered text is what stack digests and golden files see: keys sorted, a list of one
    /// written as its item, `Action` omitted only beside `NotAction`.
    #[test]
    fn renders_every_key_sorted() {
        let doc = PolicyDocument::new()
            .statement(
                Statement::deny("DenyOthers")
                    .not_actions(&["s3:GetObject"])
                    .not_resources(&["arn:aws:s3:::a", "arn:aws:s3:::b"])
                    .principal(json!("*"))
                    .condition("StringNotEquals", "aws:PrincipalTag/TenantId", json!("acme-corp")),
            )
            .statement(Statement::allow("Read").actions(&["s3:GetObject", "s3:ListBucket"]));
        assert_eq!(
            doc.render(),
            concat!(
                r#"{"Statement":[{"Condition":{"StringNotEquals":{"aws:PrincipalTag/TenantId":"acme-corp"}},"#,
                r#""Effect":"Deny","NotAction":"s3:GetObject","NotResource":["arn:aws:s3:::a","arn:aws:s3:::b"],"#,
                r#""Principal":"*","Sid":"DenyOthers"},"#,
                r#"{"Action":["s3:GetObject","s3:ListBucket"],"Effect":"Allow","Sid":"Read"}],"Version":"2012-10-17"}"#
            )
        );
        assert_eq!(
            doc.to_value(),
            serde_json::from_str::<Value>(&doc.render()).unwrap()
        );
    }

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

    #[test]
    fn renders_not_actions_and_not_resources() {
        let statement = |s: Statement| PolicyDocument::new().statement(s).to_value()["Statement"][0].clone();
        let deny = statement(
            Statement::deny("DenyElsewhere")
                .actions(&["logs:GetLogEvents", "logs:FilterLogEvents"])
                .not_resources(&["a", "a:*"]),
        );
        assert_eq!(
            deny,
            json!({"Sid": "DenyElsewhere", "Effect": "Deny", "Action": ["logs:GetLogEvents", "logs:FilterLogEvents"], "NotResource": ["a", "a:*"]})
        );
        let all_but = statement(
            Statement::allow("AllBut")
                .not_actions(&["iam:*"])
                .resources(&["*"]),
        );
        assert_eq!(
            all_but,
            json!({"Sid": "AllBut", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
        );
        assert_eq!(statement(Statement::allow("Bare"))["Action"], json!([]));
    }

    #[test]
    fn builds_the_shared_key_policy_statements() {
        let document = PolicyDocument::new()
            .statement(key_administration(
                "Admin",
                "${data.aws_caller_identity.x.account_id}",
            ))
            .statement(logs_key_use("Logs", "us-east-1", &["arn:one"]))
            .to_value();
        assert_eq!(
            document["Statement"][0],
            json!({"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::${data.aws_caller_identity.x.account_id}:root"}, "Action": "kms:*", "Resource": "*"})
        );
        let logs = &document["Statement"][1];
        assert_eq!(
            logs["Principal"],
            json!({"Service": "logs.us-east-1.amazonaws.com"})
        );
        assert_eq!(logs["Action"], json!(LOGS_KEY_ACTIONS));
        assert_eq!(
            logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"],
            json!(["arn:one"]),
            "the ARNs stay a list, also when there is one"
        );
    }

    #[test]
    fn reads_single_and_listed_statements() {
        assert_eq!(
            policy_statements(r#"{"Statement": {"Effect": "Allow"}}"#)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(policy_statements(r#"{"Statement": [{}, {}]}"#).unwrap().len(), 2);
        assert!(policy_statements("${data.aws_iam_policy_document.x.json}").is_err());
        assert!(policy_statements("{}").is_err());
    }

    #[test]
    fn reads_statement_elements() {
        let statement = json!({
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": ["a", 1, "b"],
            "Condition": {"StringEquals": {"AWS:SourceAccount": "1"}, "Bool": {}},
        });
        assert!(is_allow(&statement));
        assert!(!is_allow(&json!({"Effect": "Deny"})));
        assert_eq!(one_or_many(statement.get("Action")), ["s3:GetObject"]);
        assert_eq!(one_or_many(statement.get("Resource")), ["a", "b"]);
        assert!(one_or_many(statement.get("Principal")).is_empty());
        assert_eq!(
            conditions_on(&statement, "aws:SourceAccount"),
            [("StringEquals", &json!("1"))]
        );
        assert!(has_condition(&statement));
        assert!(!has_condition(&json!({"Condition": {"Bool": {}}})));
    }
}
