//! IAM policy documents: parsed from JSON into statements the evaluator walks.
//!
//! Grammar: [IAM JSON policy elements](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html).

use std::sync::Arc;

use serde_json::Value;

use crate::condition::Condition;
use crate::texts::Texts;

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
    pub values: Arc<[Arc<str>]>,
}

/// One entry of a `Principal`/`NotPrincipal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: everyone, including anonymous callers.
    Everyone,
    /// `{"AWS": …}`: an account id, an account root ARN, a role, user or session ARN.
    Aws(Arc<str>),
    /// `{"Service": …}`: an AWS service principal.
    Service(Arc<str>),
    /// `{"Federated": …}` or `{"CanonicalUser": …}`: never matches the principals modelled here.
    Other(Arc<str>),
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
    pub sid: Option<Arc<str>>,
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
    pub version: Option<Arc<str>>,
    /// The statements in document order.
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Parses policy JSON text.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse_sharing(text, &Texts::default())
    }

    /// Parses policy JSON text, sharing the texts policies repeat (actions, keys, ARNs) through
    /// `texts`.
    pub fn parse_sharing(text: &str, texts: &Texts) -> Result<Policy, PolicyError> {
        Policy::from_value_sharing(&serde_json::from_str(text)?, texts)
    }

    /// Parses an already decoded policy document.
    pub fn from_value(document: &Value) -> Result<Policy, PolicyError> {
        Policy::from_value_sharing(document, &Texts::default())
    }

    /// Parses an already decoded policy document, sharing repeated texts through `texts`.
    pub fn from_value_sharing(document: &Value, texts: &Texts) -> Result<Policy, PolicyError> {
        let version = document
            .get("Version")
            .and_then(Value::as_str)
            .map(|v| texts.share(v));
        let statements = match document.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(item @ Value::Object(_)) => vec![item],
            _ => return Err(PolicyError::NoStatement),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, value)| parse_statement(index, value, texts))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            version,
            statements: exact(statements),
        })
    }

    /// A `2012-10-17` policy of `statements`, each on `resource` alone: how a Lambda function's
    /// policy is made of its permissions' statements (which name no resource). Parsed one
    /// statement at a time, so that no document of them all is built: at 10,000 tenants the
    /// central log forwarder's was 35 MB, held while the fleet was joined.
    pub fn on_resource<'a>(
        statements: impl IntoIterator<Item = &'a Value>,
        resource: &str,
        texts: &Texts,
    ) -> Result<Policy, PolicyError> {
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, value)| parse_statement(index, value, texts))
            .collect::<Result<Vec<_>, PolicyError>>()?;
        Ok(Policy::of_statements_on(statements, resource, texts))
    }

    /// [`Policy::on_resource`] of statements already parsed.
    pub(crate) fn of_statements_on(
        statements: impl IntoIterator<Item = Statement>,
        resource: &str,
        texts: &Texts,
    ) -> Policy {
        let resource: Arc<[Arc<str>]> = Arc::from([texts.share(resource)]);
        let statements = statements
            .into_iter()
            .map(|mut statement| {
                statement.resources = Some(Patterns {
                    negated: false,
                    values: resource.clone(),
                });
                statement
            })
            .collect();
        Policy {
            version: Some(texts.share("2012-10-17")),
            statements: exact(statements),
        }
    }

    /// Whether policy variables are substituted (version `2012-10-17`).
    pub fn variables_enabled(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }
}

pub(crate) fn parse_statement(index: usize, value: &Value, texts: &Texts) -> Result<Statement, PolicyError> {
    let sid = value.get("Sid").and_then(Value::as_str);
    let fail = |problem: String| PolicyError::Statement {
        index,
        sid: sid.map(str::to_owned),
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
    let actions = patterns(value, "Action", "NotAction", texts)
        .map_err(&fail)?
        .ok_or_else(|| fail("has neither Action nor NotAction".into()))?;
    let resources = patterns(value, "Resource", "NotResource", texts).map_err(&fail)?;
    let principals = principals(value, texts).map_err(&fail)?;
    let conditions = match value.get("Condition") {
        None => Vec::new(),
        Some(block) => Condition::parse_block(block, texts).map_err(&fail)?,
    };
    Ok(Statement {
        sid: sid.map(|sid| texts.share(sid)),
        effect,
        actions,
        resources,
        principals,
        conditions,
    })
}

/// A string or a list of strings, shared through `texts` as a list and text by text.
fn string_list(value: &Value, texts: &Texts) -> Option<Arc<[Arc<str>]>> {
    shared_strings(value, texts).map(|list| texts.share_list(list))
}

/// A string or a list of strings, each shared through `texts`.
fn shared_strings(value: &Value, texts: &Texts) -> Option<Vec<Arc<str>>> {
    match value {
        Value::String(text) => Some(vec![texts.share(text)]),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(|text| texts.share(text)))
            .collect(),
        _ => None,
    }
}

/// `list` without spare capacity. Parsed policies are kept until the fleet checks, and a list
/// collected through `Option` or `Result` (which cannot tell its length in advance) or grown by
/// pushing holds up to twice its length: at 1,000 tenants the conditions alone held 9.7 MB.
pub(crate) fn exact<T>(mut list: Vec<T>) -> Vec<T> {
    list.shrink_to_fit();
    list
}

fn patterns(
    statement: &Value,
    positive: &str,
    negative: &str,
    texts: &Texts,
) -> Result<Option<Patterns>, String> {
    let found = |name: &str, negated: bool| {
        statement.get(name).map(|value| {
            string_list(value, texts)
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

fn principals(statement: &Value, texts: &Texts) -> Result<Option<Principals>, String> {
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
                let values = shared_strings(values, texts)
                    .ok_or_else(|| format!("Principal {kind} must be a string or a list"))?;
                entries.extend(values.into_iter().map(|value| match kind.as_str() {
                    "AWS" if &*value == "*" => PrincipalEntry::Everyone,
                    "AWS" => PrincipalEntry::Aws(value),
                    "Service" => PrincipalEntry::Service(value),
                    _ => PrincipalEntry::Other(value),
                }));
            }
            exact(entries)
        }
        _ => return Err("Principal must be \"*\" or an object".into()),
    };
    Ok(Some(Principals { negated, entries }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Policies parsed with one `Texts` keep one copy of each text they repeat, and no list
    /// keeps room it does not use: a fleet's parsed policies are held until its fleet checks.
    #[test]
    fn parsed_policies_share_their_texts_and_keep_no_spare_room() {
        let texts = Texts::default();
        let document = |tenant: &str| {
            json!({"Version": "2012-10-17", "Statement": [{
                "Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": format!("arn:aws:s3:::tenant-{tenant}-data"),
                "Condition": {"StringEquals": {"aws:PrincipalTag/TenantId": tenant}}
            }]})
        };
        let a = Policy::from_value_sharing(&document("a"), &texts).unwrap();
        let b = Policy::from_value_sharing(&document("b"), &texts).unwrap();
        let (a, b) = (&a.statements[0], &b.statements[0]);
        // Equal lists are one list; the texts of unequal ones are still shared.
        assert!(Arc::ptr_eq(&a.actions.values, &b.actions.values));
        assert!(!Arc::ptr_eq(
            &a.resources.as_ref().unwrap().values,
            &b.resources.as_ref().unwrap().values
        ));
        assert!(Arc::ptr_eq(a.sid.as_ref().unwrap(), b.sid.as_ref().unwrap()));
        assert!(Arc::ptr_eq(&a.conditions[0].key, &b.conditions[0].key));
        assert!(Arc::ptr_eq(&a.conditions[0].operator, &b.conditions[0].operator));
        assert!(!Arc::ptr_eq(
            &a.conditions[0].values[0],
            &b.conditions[0].values[0]
        ));
        assert_eq!(a.conditions.capacity(), a.conditions.len());
    }

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
            Policy::on_resource(&statements, arn, &Texts::default()).unwrap(),
            Policy::from_value(&document).unwrap()
        );
        let broken = [
            statements[0].clone(),
            json!({"Sid": "c", "Effect": "Maybe", "Action": "x:Y"}),
        ];
        let error = Policy::on_resource(&broken, arn, &Texts::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("1") && error.contains("Allow or Deny"), "{error}");
    }
}
