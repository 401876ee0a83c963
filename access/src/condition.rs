//! Condition operators and their semantics over single- and multi-valued keys.
//!
//! - [Condition operators](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
//!   several keys under one operator, and several operators in one block, are ANDed; several
//!   values for one key are ORed (for a negated operator: the request value matches none of them).
//! - A key the request does not carry makes a positive operator false and a negated one
//!   (`StringNotEquals`, `ArnNotLike`, …) true; `…IfExists` makes any operator true
//!   ([IfExists](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists)).
//! - `Null: "true"` holds when the key is absent, `"false"` when present.
//! - [`ForAllValues:`](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html)
//!   holds when every request value matches (and when the key is absent or empty);
//!   `ForAnyValue:` when at least one does (never when the key is absent).
//! - Operators outside this list evaluate to [`Tri::Unknown`], so they can never prove a deny.
//! - A key the caller chooses ([`crate::Request::caller_chosen`]) and the request leaves open
//!   may have any value or none: every condition on it is [`Tri::Unknown`].

use std::ops::Not;
use std::sync::Arc;

use serde_json::Value;

use crate::context::Context;
use crate::pattern::{is_unresolved, matches, matches_arn};
use crate::policy::exact;
use crate::texts::Texts;
use crate::tri::Tri;

/// How request values of a multi-valued key are quantified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    Single,
    ForAllValues,
    ForAnyValue,
}

/// The comparison an operator makes, before negation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    String { ignore_case: bool, wildcards: bool },
    Numeric(NumericOp),
    Bool,
    Arn,
    Null,
    Unsupported,
}

/// The relation a `Numeric*` operator tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumericOp {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl NumericOp {
    fn holds(self, value: f64, policy_value: f64) -> bool {
        match self {
            NumericOp::Equal => value == policy_value,
            NumericOp::Less => value < policy_value,
            NumericOp::LessOrEqual => value <= policy_value,
            NumericOp::Greater => value > policy_value,
            NumericOp::GreaterOrEqual => value >= policy_value,
        }
    }
}

/// One key test of a `Condition` block: `"StringEquals": {"aws:PrincipalTag/TenantId": "a"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator as written, e.g. `ForAllValues:StringEquals`.
    pub operator: Arc<str>,
    /// The condition key.
    pub key: Arc<str>,
    /// The policy's values for the key.
    pub values: Arc<[Arc<str>]>,
    qualifier: SetQualifier,
    comparison: Comparison,
    negated: bool,
    if_exists: bool,
}

fn comparison(base: &str) -> (Comparison, bool) {
    let string = |ignore_case, wildcards| Comparison::String {
        ignore_case,
        wildcards,
    };
    match base {
        "StringEquals" => (string(false, false), false),
        "StringNotEquals" => (string(false, false), true),
        "StringEqualsIgnoreCase" => (string(true, false), false),
        "StringNotEqualsIgnoreCase" => (string(true, false), true),
        "StringLike" => (string(false, true), false),
        "StringNotLike" => (string(false, true), true),
        "NumericEquals" => (Comparison::Numeric(NumericOp::Equal), false),
        "NumericNotEquals" => (Comparison::Numeric(NumericOp::Equal), true),
        "NumericLessThan" => (Comparison::Numeric(NumericOp::Less), false),
        "NumericLessThanEquals" => (Comparison::Numeric(NumericOp::LessOrEqual), false),
        "NumericGreaterThan" => (Comparison::Numeric(NumericOp::Greater), false),
        "NumericGreaterThanEquals" => (Comparison::Numeric(NumericOp::GreaterOrEqual), false),
        "Bool" => (Comparison::Bool, false),
        "ArnEquals" | "ArnLike" => (Comparison::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Comparison::Arn, true),
        "Null" => (Comparison::Null, false),
        _ => (Comparison::Unsupported, false),
    }
}

impl Condition {
    /// Parses a statement's `Condition` block.
    pub(crate) fn parse_block(block: &Value, texts: &Texts) -> Result<Vec<Condition>, String> {
        let operators = block
            .as_object()
            .ok_or("Condition must be an object of operators")?;
        let mut conditions = Vec::new();
        for (operator, keys) in operators {
            let keys = keys
                .as_object()
                .ok_or_else(|| format!("Condition {operator} must be an object of keys"))?;
            let (qualifier, rest) = if let Some(rest) = operator.strip_prefix("ForAllValues:") {
                (SetQualifier::ForAllValues, rest)
            } else if let Some(rest) = operator.strip_prefix("ForAnyValue:") {
                (SetQualifier::ForAnyValue, rest)
            } else {
                (SetQualifier::Single, operator.as_str())
            };
            let (base, if_exists) = match rest.strip_suffix("IfExists") {
                Some(base) if base != "Null" => (base, true),
                _ => (rest, false),
            };
            let (comparison, negated) = comparison(base);
            let operator_text = texts.share(operator);
            for (key, values) in keys {
                let values = scalar_list(values, texts).ok_or_else(|| {
                    format!("Condition {operator} {key} must be a scalar or a list of scalars")
                })?;
                conditions.push(Condition {
                    operator: operator_text.clone(),
                    key: texts.share(key),
                    values,
                    qualifier,
                    comparison,
                    negated,
                    if_exists,
                });
            }
        }
        Ok(exact(conditions))
    }

    /// Whether the condition holds for a request context. `variables` is the context for
    /// policy-variable substitution, `None` in pre-2012 policies.
    pub fn evaluate(&self, context: &Context, variables: Option<&Context>) -> Tri {
        let request = context.get(&self.key).filter(|values| !values.is_empty());
        match self.comparison {
            Comparison::Unsupported => return Tri::Unknown,
            _ if context.is_free(&self.key) => return Tri::Unknown,
            Comparison::Null => {
                let absent = request.is_none();
                return Tri::any(
                    self.values
                        .iter()
                        .map(|value| match value.to_ascii_lowercase().as_str() {
                            "true" => absent.into(),
                            "false" => (!absent).into(),
                            _ => Tri::False,
                        }),
                );
            }
            _ => {}
        }
        let Some(request) = request else {
            return match self.qualifier {
                SetQualifier::ForAllValues => Tri::True,
                SetQualifier::ForAnyValue => Tri::False,
                SetQualifier::Single => (self.if_exists || self.negated).into(),
            };
        };
        let matches_any_policy_value = |value: &String| {
            Tri::any(
                self.values
                    .iter()
                    .map(|policy_value| self.compare(value, policy_value, variables)),
            )
        };
        let per_value = |value: &String| {
            let matched = matches_any_policy_value(value);
            if self.negated { matched.not() } else { matched }
        };
        match self.qualifier {
            SetQualifier::Single if self.negated => {
                Tri::any(request.iter().map(matches_any_policy_value)).not()
            }
            SetQualifier::Single | SetQualifier::ForAnyValue => Tri::any(request.iter().map(per_value)),
            SetQualifier::ForAllValues => Tri::all(request.iter().map(per_value)),
        }
    }

    /// The positive comparison of one request value with one policy value.
    fn compare(&self, value: &str, policy_value: &str, variables: Option<&Context>) -> Tri {
        match self.comparison {
            Comparison::String {
                ignore_case,
                wildcards,
            } => matches(policy_value, variables, wildcards, value, ignore_case),
            Comparison::Arn => matches_arn(policy_value, variables, value),
            Comparison::Bool => {
                if is_unresolved(value) || is_unresolved(policy_value) {
                    Tri::Unknown
                } else {
                    value.eq_ignore_ascii_case(policy_value).into()
                }
            }
            Comparison::Numeric(relation) => {
                if is_unresolved(value) || is_unresolved(policy_value) {
                    return Tri::Unknown;
                }
                match (value.trim().parse::<f64>(), policy_value.trim().parse::<f64>()) {
                    (Ok(value), Ok(policy_value)) => relation.holds(value, policy_value).into(),
                    _ => Tri::False,
                }
            }
            Comparison::Null | Comparison::Unsupported => Tri::Unknown,
        }
    }
}

/// Condition values: a scalar or a list of scalars (strings, booleans, numbers), shared through
/// `texts` as a list and text by text.
fn scalar_list(value: &Value, texts: &Texts) -> Option<Arc<[Arc<str>]>> {
    let scalar = |value: &Value| match value {
        Value::String(text) => Some(texts.share(text)),
        Value::Bool(flag) => Some(texts.share(&flag.to_string())),
        Value::Number(number) => Some(texts.share(&number.to_string())),
        _ => None,
    };
    let list = match value {
        Value::Array(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>()?,
        other => vec![scalar(other)?],
    };
    Some(texts.share_list(list))
}
