//! IAM policy documents: parsed from JSON into statements the evaluator walks.
//!
//! Grammar: [IAM JSON policy elements](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html).

use serde_json::Value;

use crate::condition::Condition;

/// Why a policy document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The text is not JSON.
    #[error("policy is not JSON: {0}")]
    NotJson(#[from] serde_json::Error),
    /// The document is not an object with a `Statement`.
    #[error("policy has no Statement (it must be a JSON object with a Statement object or array)")]
    NoStatement,
    /// A statement is malformed.
    #[error("statement {index}{}: {problem}", sid.as_ref().map(|s| format!(" ({s})")).unwrap_or_default())]
    Statement {
        /// Position in the Statement array, from 0.
        index: usize,
        /// Its Sid, if it has one.
        sid: Option<String>,
        /// What is wrong.
        problem: String,
    },
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Effect {
    /// Grants when everything matches.
    Allow,
    /// Denies when everything matches, overriding any allow.
    Deny,
}

/// An `Action`/`NotAction` or `Resource`/`NotResource` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patterns {
    /// True for `NotAction`/`NotResource`: the statement applies to everything *not* listed.
    pub negated: bool,
    /// The listed patterns.
    pub values: Vec<String>,
}

/// One entry of a `Principal`/`NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: everyone, including anonymous callers.
    Everyone,
    /// `{"AWS": …}`: an account id, an account root ARN, a role, user or session ARN.
    Aws(String),
    /// `{"Service": …}`: an AWS service principal.
    Service(String),
    /// `{"Federated": …}` or `{"CanonicalUser": …}`: never matches the principals modelled here.
    Other(String),
}

/// A `Principal`/`NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principals {
    /// True for `NotPrincipal`.
    pub negated: bool,
    /// The listed principals.
    pub entries: Vec<PrincipalEntry>,
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The `Sid`, if present.
    pub sid: Option<String>,
    /// `Allow` or `Deny`.
    pub effect: Effect,
    /// `Action` or `NotAction`.
    pub actions: Patterns,
    /// `Resource` or `NotResource`; absent in trust policies, where it matches the role itself.
    pub resources: Option<Patterns>,
    /// `Principal` or `NotPrincipal`; absent in identity policies.
    pub principals: Option<Principals>,
    /// Every condition must hold (operators and keys are ANDed).
    pub conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `Version`; policy variables only work in `2012-10-17`.
    pub version: Option<String>,
    /// The statements in document order.
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Parses policy JSON text.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::from_value(&serde_json::from_str(text)?)
    }

    /// Parses an already decoded policy document.
    pub fn from_value(document: &Value) -> Result<Policy, PolicyError> {
        let version = document.get("Version").and_then(Value::as_str).map(str::to_owned);
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(item @ Value::Object(_)) => vec![item],
            _ => return Err(PolicyError::NoStatement),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, value)| parse_statement(index, value))
            .collect::<Result<_, _>>()?;
        Ok(Policy { version, statements })
    }

    /// A `2012-10-17` policy of `statements`, each on `resource` alone: how a Lambda function's
    /// policy is made of its permissions' statements (which name no resource). Parsed one
    /// statement at a time, so that no document of them all is built: at 10,000 tenants the
    /// central log forwarder's was 35 MB, held while the fleet was joined.
    pub fn on_resource<'a>(
        statements: impl IntoIterator<Item = &'a Value>,
        resource: &str,
    ) -> Result<Policy, PolicyError> {
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, value)| {
                let mut statement = parse_statement(index, value)?;
                statement.resources = Some(Patterns {
                    negated: false,
                    values: vec![resource.to_owned()],
                });
                Ok(statement)
            })
            .collect::<Result<_, PolicyError>>()?;
        Ok(Policy {
            version: Some("2012-10-17".to_owned()),
            statements,
        })
    }

    /// Whether policy variables are substituted (version `2012-10-17`).
    pub fn variables_enabled(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }
}

fn parse_statement(index: usize, value: &Value) -> Result<Statement, PolicyError> {
    let sid = value.get("Sid").and_then(Value::as_str).map(str::to_owned);
    let fail = |problem: String| PolicyError::Statement {
        index,
        sid: sid.clone(),
        problem,
    };
    if !value.is_object() {
        return Err(fail("is not a JSON object".into()));
    }
    let effect = match value.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        other => return Err(fail(format!("Effect must be Allow or Deny, got {other:?}"))),
    };
    let actions = patterns(value, "Action", "NotAction")
        .map_err(&fail)?
        .ok_or_else(|| fail("has neither Action nor NotAction".into()))?;
    let resources = patterns(value, "Resource", "NotResource").map_err(&fail)?;
    let principals = principals(value).map_err(&fail)?;
    let conditions = match value.get("Condition") {
        None => Vec::new(),
        Some(block) => Condition::parse_block(block).map_err(&fail)?,
    };
    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
        principals,
        conditions,
    })
}

/// A string or a list of strings.
pub(crate) fn string_list(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(text) => Some(vec![text.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

fn patterns(statement: &Value, positive: &str, negative: &str) -> Result<Option<Patterns>, String> {
    let found = |name: &str, negated: bool| {
        statement.get(name).map(|value| {
            string_list(value)
                .map(|values| Patterns { negated, values })
                .ok_or_else(|| format!("{name} must be a string or a list of strings"))
        })
    };
    match (found(positive, false), found(negative, true)) {
        (Some(_), Some(_)) => Err(format!("has both {positive} and {negative}")),
        (Some(found), None) | (None, Some(found)) => found.map(Some),
        (None, None) => Ok(None),
    }
}

fn principals(statement: &Value) -> Result<Option<Principals>, String> {
    let (value, negated) = match (statement.get("Principal"), statement.get("NotPrincipal")) {
        (Some(_), Some(_)) => return Err("has both Principal and NotPrincipal".into()),
        (Some(value), None) => (value, false),
        (None, Some(value)) => (value, true),
        (None, None) => return Ok(None),
    };
    let entries = match value {
        Value::String(text) if text == "*" => vec![PrincipalEntry::Everyone],
        Value::Object(map) => {
            let mut entries = Vec::new();
            for (kind, values) in map {
                let values = string_list(values)
                    .ok_or_else(|| format!("Principal {kind} must be a string or a list"))?;
                entries.extend(values.into_iter().map(|value| match kind.as_str() {
                    "AWS" if value == "*" => PrincipalEntry::Everyone,
                    "AWS" => PrincipalEntry::Aws(value),
                    "Service" => PrincipalEntry::Service(value),
                    _ => PrincipalEntry::Other(value),
                }));
            }
            entries
        }
        _ => return Err("Principal must be \"*\" or an object".into()),
    };
    Ok(Some(Principals { negated, entries }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A function's policy made statement by statement is the policy of the document Lambda
    /// keeps: the permissions' statements, each with the function as its `Resource`.
    #[test]
    fn a_policy_on_one_resource_is_the_document_with_that_resource() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:forwarder";
        let statements = [
            json!({"Sid": "a", "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
                   "Action": "lambda:InvokeFunction",
                   "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:logs:us-east-1:123456789012:log-group:a:*"}}}),
            json!({"Sid": "b", "Effect": "Allow", "Principal": "*", "Action": ["lambda:InvokeFunctionUrl"]}),
        ];
        let document = json!({"Version": "2012-10-17", "Statement": statements.iter().map(|s| {
            let mut s = s.clone();
            s["Resource"] = json!(arn);
            s
        }).collect::<Vec<_>>()});
        assert_eq!(
            Policy::on_resource(&statements, arn).unwrap(),
            Policy::from_value(&document).unwrap()
        );
        let broken = [
            statements[0].clone(),
            json!({"Sid": "c", "Effect": "Maybe", "Action": "x:Y"}),
        ];
        let error = Policy::on_resource(&broken, arn).unwrap_err().to_string();
        assert!(error.contains("1") && error.contains("Allow or Deny"), "{error}");
    }
}
