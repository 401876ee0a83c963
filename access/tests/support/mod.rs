//! The scenario format shared by the case table and the differential test: one request with
//! the policies it meets, written as JSON with defaults so each case shows only what it is about.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use tenant_access::{ContextValue, NamedPolicy, Policy, Principal, Request, Resource, Role};

/// The account of the default role and resource.
pub const ACCOUNT: &str = "111111111111";

/// Fields a scenario may carry; anything else is a typo in the case file.
const FIELDS: &[&str] = &[
    "name",
    "reason",
    "expect",
    "principal",
    "role",
    "identity",
    "boundary",
    "action",
    "resource",
    "resource_account",
    "resource_tags",
    "resource_policy",
    "endpoint_policy",
    "context",
    "caller_chosen",
];

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub arn: Option<String>,
    pub session: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub session_tags: BTreeMap<String, String>,
}

/// One request and the policies it meets.
#[derive(Debug, Deserialize)]
pub struct Scenario {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub expect: String,
    /// `role` (default), `service:<name>` or `anonymous`.
    #[serde(default = "role_kind")]
    pub principal: String,
    #[serde(default)]
    pub role: RoleSpec,
    #[serde(default)]
    pub identity: Vec<Value>,
    pub boundary: Option<Value>,
    pub action: String,
    #[serde(default = "default_resource")]
    pub resource: String,
    pub resource_account: Option<String>,
    #[serde(default)]
    pub resource_tags: BTreeMap<String, String>,
    pub resource_policy: Option<Value>,
    pub endpoint_policy: Option<Value>,
    #[serde(default)]
    pub context: BTreeMap<String, ContextValue>,
    #[serde(default)]
    pub caller_chosen: Vec<String>,
}

fn role_kind() -> String {
    "role".into()
}

fn default_resource() -> String {
    "arn:aws:s3:::bucket/key".into()
}

/// A policy document; a bare array is shorthand for its `Statement` with version 2012-10-17.
pub fn document(value: &Value) -> Value {
    match value {
        Value::Array(_) => json!({"Version": "2012-10-17", "Statement": value}),
        other => other.clone(),
    }
}

fn named(name: &str, value: &Value) -> NamedPolicy {
    NamedPolicy {
        name: name.to_owned(),
        policy: std::sync::Arc::new(
            Policy::from_value(&document(value)).unwrap_or_else(|error| panic!("policy {name}: {error}")),
        ),
    }
}

impl Scenario {
    /// Reads a scenario, refusing unknown fields.
    pub fn from_value(value: Value) -> Scenario {
        if let Some(object) = value.as_object() {
            for key in object.keys() {
                assert!(FIELDS.contains(&key.as_str()), "unknown field {key} in {value}");
            }
        }
        serde_json::from_value(value.clone()).unwrap_or_else(|error| panic!("{error}: {value}"))
    }

    pub fn role_arn(&self) -> String {
        self.role
            .arn
            .clone()
            .unwrap_or_else(|| format!("arn:aws:iam::{ACCOUNT}:role/app"))
    }

    pub fn resource_account(&self) -> String {
        self.resource_account.clone().unwrap_or_else(|| {
            tenant_access::request::arn_account(&self.resource)
                .unwrap_or(ACCOUNT)
                .to_owned()
        })
    }

    pub fn request(&self) -> Request {
        let principal = match self.principal.as_str() {
            "role" => Principal::Role(std::sync::Arc::new(Role {
                arn: self.role_arn(),
                session_name: self.role.session.clone(),
                tags: self.role.tags.clone().into(),
                session_tags: self.role.session_tags.clone(),
                identity_policies: self
                    .identity
                    .iter()
                    .enumerate()
                    .map(|(index, policy)| named(&format!("identity{index}"), policy))
                    .collect(),
                boundary: self.boundary.as_ref().map(|policy| named("boundary", policy)),
            })),
            "anonymous" => Principal::Anonymous,
            other => Principal::Service(
                other
                    .strip_prefix("service:")
                    .unwrap_or_else(|| panic!("principal {other}"))
                    .to_owned(),
            ),
        };
        Request {
            principal,
            action: self.action.clone(),
            resource: Resource {
                arn: self.resource.clone(),
                account: self.resource_account(),
                tags: self.resource_tags.clone().into(),
                policy: self
                    .resource_policy
                    .as_ref()
                    .map(|policy| named("resource", policy)),
            },
            context: self.context.clone(),
            endpoint_policy: self
                .endpoint_policy
                .as_ref()
                .map(|policy| named("endpoint", policy)),
            caller_chosen: self.caller_chosen.clone(),
        }
    }
}
