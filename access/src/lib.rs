//! AWS's IAM policy evaluation logic, pure and offline, for proving what a composed tenant fleet
//! allows and denies.
//!
//! The host builds a [`Request`] for every principal × action × resource it cares about (from the
//! composed Terraform JSON) and asks [`evaluate`] for a [`Verdict`]. The semantics follow AWS's
//! documentation, cited where each rule is implemented:
//!
//! - [Policy evaluation logic](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
//!   and [cross-account evaluation](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html):
//!   see [`evaluate`](mod@evaluate).
//! - [Condition operators](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html)
//!   and [multi-valued keys](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html):
//!   see [`condition`].
//! - [Wildcards and policy variables](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html):
//!   see [`pattern`].
//!
//! **Unknowns.** Policies in Terraform output contain expressions (`${aws_s3_bucket.x.arn}`,
//! `${format(…)}`) that the caller resolves where it can. Whatever remains is unknown, and every
//! match is three-valued ([`Tri`]): a verdict that depends on an unknown is
//! [`Verdict::Unknown`], which satisfies neither a "must allow" nor a "must deny".
//!
//! **Not modelled**: service control policies, resource control policies, session policies,
//! organizations (`aws:PrincipalOrgID`), ACLs, S3 Block Public Access, grants, and any state that
//! exists only at run time.

pub mod condition;
pub mod context;
pub mod evaluate;
pub mod fleet;
pub mod intent;
pub mod model;
pub mod pattern;
pub mod policy;
pub mod request;
pub mod texts;
pub mod tri;

pub use condition::Condition;
pub use context::Context;
pub use evaluate::{Evaluation, MatchedStatement, PolicyKind, Verdict, evaluate};
pub use policy::{Effect, Policy, PolicyError, Statement};
pub use request::{ContextValue, NamedPolicy, Principal, Request, Resource, Role, Tags};
pub use tri::Tri;
