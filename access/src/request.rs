//! What is asked: a principal performs an action on a resource, with a request context.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::context::Context;
use crate::policy::Policy;

/// A policy together with the name findings use for it (`aws_iam_role_policy.api`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPolicy {
    /// Where the policy comes from, for reports.
    pub name: String,
    /// The parsed policy, shared by every role that attaches it.
    pub policy: Arc<Policy>,
}

/// Tags of a role or resource, sorted by key, in one shared list: a role's serve both its
/// principal and its trust policy's resource, and a resource's every request made on it. A list
/// of shared texts, because a fleet holds tens of thousands (in a map of its own, each took
/// 890 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Arc<[(Arc<str>, Arc<str>)]>);

impl Tags {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|at| &*self.0[at].1)
    }

    /// Every tag, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(key, value)| (&**key, &**value))
    }
}

impl FromIterator<(Arc<str>, Arc<str>)> for Tags {
    /// Tags from `(key, value)` pairs; of pairs with one key the last wins.
    fn from_iter<I: IntoIterator<Item = (Arc<str>, Arc<str>)>>(pairs: I) -> Self {
        let by_key: BTreeMap<Arc<str>, Arc<str>> = pairs.into_iter().collect();
        Tags(by_key.into_iter().collect())
    }
}

impl From<BTreeMap<String, String>> for Tags {
    fn from(tags: BTreeMap<String, String>) -> Self {
        tags.into_iter()
            .map(|(key, value)| (Arc::from(key), Arc::from(value)))
            .collect()
    }
}

/// An IAM role acting through a session, with what limits it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Role {
    /// `arn:aws:iam::<account>:role/<path/><name>`.
    pub arn: String,
    /// The session name (`arn:aws:sts::<account>:assumed-role/<name>/<session>`), if known.
    pub session_name: Option<String>,
    /// Tags on the role (`aws:PrincipalTag/*`).
    pub tags: Tags,
    /// Session tags; they override role tags with the same key
    /// ([session tags](https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html)).
    pub session_tags: BTreeMap<String, String>,
    /// Identity-based policies: inline and attached managed policies.
    pub identity_policies: Vec<NamedPolicy>,
    /// The permissions boundary, if any.
    pub boundary: Option<NamedPolicy>,
}

impl Role {
    /// The account id from the role ARN (the fifth component).
    pub fn account(&self) -> &str {
        arn_account(&self.arn).unwrap_or("")
    }

    /// The role's name without its path.
    pub fn name(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }

    /// The session ARN, when the session name is known.
    pub fn session_arn(&self) -> Option<String> {
        self.session_name.as_ref().map(|session| {
            format!(
                "arn:aws:sts::{}:assumed-role/{}/{session}",
                self.account(),
                self.name()
            )
        })
    }

    /// Effective principal tags: role tags overridden by session tags.
    pub fn principal_tags(&self) -> BTreeMap<&str, &str> {
        let mut tags: BTreeMap<&str, &str> = self.tags.iter().collect();
        for (key, value) in &self.session_tags {
            tags.insert(key, value);
        }
        tags
    }
}

/// Who makes the request.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// A session of an IAM role.
    Role(Arc<Role>),
    /// An AWS service acting on its own behalf, e.g. `logs.us-east-1.amazonaws.com`.
    Service(String),
    /// An unsigned request.
    Anonymous,
}

/// The resource the action is performed on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resource {
    /// The resource ARN.
    pub arn: String,
    /// The account that owns the resource.
    pub account: String,
    /// Tags on the resource (`aws:ResourceTag/*`).
    pub tags: Tags,
    /// Its resource-based policy (bucket, key, queue, trust policy, Lambda permissions, …).
    pub policy: Option<NamedPolicy>,
}

/// A context value in a request: one string or a list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ContextValue {
    /// A single-valued key.
    One(String),
    /// A multi-valued key (`aws:TagKeys`, `dynamodb:LeadingKeys`, …).
    Many(Vec<String>),
}

impl ContextValue {
    /// The values as a list.
    pub fn into_values(self) -> Vec<String> {
        match self {
            ContextValue::One(value) => vec![value],
            ContextValue::Many(values) => values,
        }
    }
}

/// One request to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Who asks.
    pub principal: Principal,
    /// The IAM action, `service:Action`.
    pub action: String,
    /// On what.
    pub resource: Resource,
    /// Context keys the request carries beyond those derived from principal and resource.
    pub context: BTreeMap<String, ContextValue>,
    /// The VPC endpoint policy the request passes through, if any.
    pub endpoint_policy: Option<NamedPolicy>,
    /// Prefixes of keys the caller picks freely (`kms:EncryptionContext:`, `dynamodb:LeadingKeys`,
    /// …): absent from `context`, they may take any value, so conditions on them are unknown.
    pub caller_chosen: Vec<String>,
}

impl Request {
    /// The full request context: explicit keys, then the global keys AWS derives from the
    /// principal and the resource
    /// ([global keys](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)).
    pub fn full_context(&self) -> Context {
        let mut context = Context::default();
        context.caller_chosen(&self.caller_chosen);
        for (key, value) in &self.context {
            context.set(key, value.clone().into_values());
        }
        match &self.principal {
            Principal::Role(role) => {
                context.set_default("aws:PrincipalArn", vec![role.arn.clone()]);
                context.set_default("aws:PrincipalAccount", vec![role.account().to_owned()]);
                context.set_default("aws:PrincipalType", vec!["AssumedRole".to_owned()]);
                context.set_default("aws:PrincipalIsAWSService", vec!["false".to_owned()]);
                for (key, value) in role.principal_tags() {
                    context.set_default(&format!("aws:PrincipalTag/{key}"), vec![value.to_owned()]);
                }
            }
            Principal::Service(name) => {
                context.set_default("aws:PrincipalServiceName", vec![name.clone()]);
                context.set_default("aws:PrincipalIsAWSService", vec!["true".to_owned()]);
            }
            Principal::Anonymous => {}
        }
        for (key, value) in self.resource.tags.iter() {
            context.set_default(&format!("aws:ResourceTag/{key}"), vec![value.to_owned()]);
        }
        context
    }
}

/// The account component of an ARN, if it has one.
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|account| !account.is_empty())
}
