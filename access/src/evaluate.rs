//! AWS's policy evaluation logic over one request.
//!
//! Follows [Policy evaluation logic](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
//! and [Determining whether a request is allowed or denied within an account](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html):
//!
//! 1. An explicit `Deny` in any applicable policy (identity, boundary, resource, VPC endpoint)
//!    denies the request.
//! 2. Within one account, an `Allow` from an identity policy **or** from the resource policy
//!    suffices, but identity allows and resource allows that name the role ARN are limited by
//!    the permissions boundary; a resource policy that names the role **session** ARN, or `*`
//!    (which includes the session), is not ([boundaries and resource-based policies](https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html#access_policies_boundaries-eval-logic)).
//!    A resource policy that names the account (`123456789012`, `…:root`) delegates to the
//!    account's identity policies.
//! 3. KMS keys and IAM role trust policies are the exception: the resource policy itself must
//!    allow, either naming the principal or delegating to the account, in which case the identity
//!    policy must allow too ([KMS key policies](https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam),
//!    [role trust](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html)).
//! 4. Across accounts both sides must allow: the caller's identity policies (within its boundary)
//!    and the resource policy ([cross-account evaluation](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html)).
//! 5. Service principals and anonymous callers have no identity policies: only a resource policy
//!    naming them (or `*`) can allow.
//! 6. A VPC endpoint policy never grants; when a request passes through an endpoint, the endpoint
//!    policy must allow it as well ([endpoint policies](https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html)).
//!
//! Every match is three-valued ([`Tri`]): with an unresolved value, the verdict is
//! [`Verdict::Unknown`] unless the outcome does not depend on it.

use std::ops::Not;

use crate::context::Context;
use crate::pattern::{matches, matches_arn};
use crate::policy::{Effect, Policy, PrincipalEntry, Principals, Statement};
use crate::request::{NamedPolicy, Principal, Request};
use crate::tri::Tri;

/// The outcome of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Some policy allows and no deny applies.
    Allowed,
    /// A `Deny` statement applies.
    ExplicitDeny,
    /// Nothing allows (whether or not a deny would also apply).
    ImplicitDeny,
    /// Depends on a value the model cannot resolve.
    Unknown,
}

impl Verdict {
    /// Whether the request is certainly denied.
    pub fn is_denied(self) -> bool {
        matches!(self, Verdict::ExplicitDeny | Verdict::ImplicitDeny)
    }

    /// The verdict as a short word for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::ExplicitDeny => "explicit-deny",
            Verdict::ImplicitDeny => "implicit-deny",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Which kind of policy a statement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PolicyKind {
    /// An identity-based policy of the principal.
    Identity,
    /// The principal's permissions boundary.
    Boundary,
    /// The resource's policy (bucket, key, queue, trust, Lambda permission, …).
    Resource,
    /// The VPC endpoint policy.
    Endpoint,
}

/// A statement that applies (or may apply) to the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    /// The policy's name.
    pub policy: String,
    /// Its kind.
    pub kind: PolicyKind,
    /// The statement's Sid, or its position `#n` when it has none.
    pub sid: String,
    /// Allow or Deny.
    pub effect: Effect,
    /// `True` when it certainly applies, `Unknown` when that depends on an unresolved value.
    pub certainty: Tri,
}

/// The verdict and the statements that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The outcome.
    pub verdict: Verdict,
    /// Every statement that applies or may apply, in evaluation order.
    pub statements: Vec<MatchedStatement>,
}

/// How a resource-policy statement names the principal; each route is three-valued.
#[derive(Debug, Clone, Copy)]
struct Routes {
    /// Names the role session ARN, or everyone: not limited by the boundary.
    session: Tri,
    /// Names the role ARN, or the service (for service principals and anonymous: everyone).
    direct: Tri,
    /// Names the principal's account: delegates to identity policies.
    account: Tri,
}

impl Routes {
    const NONE: Routes = Routes {
        session: Tri::False,
        direct: Tri::False,
        account: Tri::False,
    };

    fn any(self) -> Tri {
        self.session.or(self.direct).or(self.account)
    }

    fn or(self, other: Routes) -> Routes {
        Routes {
            session: self.session.or(other.session),
            direct: self.direct.or(other.direct),
            account: self.account.or(other.account),
        }
    }

    fn and(self, condition: Tri) -> Routes {
        Routes {
            session: self.session.and(condition),
            direct: self.direct.and(condition),
            account: self.account.and(condition),
        }
    }
}

/// Accumulates allows and denies over the policies of one request.
struct Walk<'a> {
    request: &'a Request,
    context: Context,
    statements: Vec<MatchedStatement>,
}

impl Walk<'_> {
    /// Whether action, resource and conditions match (principal aside).
    fn applies(&self, policy: &Policy, statement: &Statement) -> Tri {
        let variables = policy.variables_enabled().then_some(&self.context);
        let action = {
            let listed = Tri::any(
                statement
                    .actions
                    .values
                    .iter()
                    .map(|pattern| matches(pattern, None, true, &self.request.action, true)),
            );
            if statement.actions.negated {
                listed.not()
            } else {
                listed
            }
        };
        // `False` decides the conjunction: most statements name other actions or resources.
        if action == Tri::False {
            return Tri::False;
        }
        let resource = match &statement.resources {
            None => Tri::True,
            Some(resources) => {
                let listed = Tri::any(
                    resources
                        .values
                        .iter()
                        .map(|pattern| matches_arn(pattern, variables, &self.request.resource.arn)),
                );
                if resources.negated { listed.not() } else { listed }
            }
        };
        if resource == Tri::False {
            return Tri::False;
        }
        let conditions = Tri::all(
            statement
                .conditions
                .iter()
                .map(|condition| condition.evaluate(&self.context, variables)),
        );
        action.and(resource).and(conditions)
    }

    fn record(&mut self, named: &NamedPolicy, kind: PolicyKind, index: usize, certainty: Tri) {
        if certainty.possible() {
            let statement = &named.policy.statements[index];
            self.statements.push(MatchedStatement {
                policy: named.name.clone(),
                kind,
                sid: statement
                    .sid
                    .as_deref()
                    .map_or_else(|| format!("#{index}"), str::to_owned),
                effect: statement.effect,
                certainty,
            });
        }
    }

    /// (deny, allow) of a policy without a Principal element: identity or boundary.
    fn identity_like(&mut self, named: &NamedPolicy, kind: PolicyKind) -> (Tri, Tri) {
        let (mut deny, mut allow) = (Tri::False, Tri::False);
        for (index, statement) in named.policy.statements.iter().enumerate() {
            let applies = self.applies(&named.policy, statement);
            self.record(named, kind, index, applies);
            match statement.effect {
                Effect::Deny => deny = deny.or(applies),
                Effect::Allow => allow = allow.or(applies),
            }
        }
        (deny, allow)
    }

    /// (deny, allow routes) of a policy with Principal elements: resource or endpoint.
    fn resource_like(&mut self, named: &NamedPolicy, kind: PolicyKind) -> (Tri, Routes) {
        let (mut deny, mut allow) = (Tri::False, Routes::NONE);
        for (index, statement) in named.policy.statements.iter().enumerate() {
            let routes = match &statement.principals {
                Some(principals) => principal_routes(principals, &self.request.principal),
                // A resource policy statement without Principal grants nothing.
                None => Routes::NONE,
            }
            .and(self.applies(&named.policy, statement));
            self.record(named, kind, index, routes.any());
            match statement.effect {
                Effect::Deny => deny = deny.or(routes.any()),
                Effect::Allow => allow = allow.or(routes),
            }
        }
        (deny, allow)
    }
}

/// How a Principal element names the requesting principal.
fn principal_routes(principals: &Principals, principal: &Principal) -> Routes {
    let named = principals
        .entries
        .iter()
        .map(|entry| entry_routes(entry, principal))
        .fold(Routes::NONE, Routes::or);
    if principals.negated {
        Routes {
            direct: named.any().not(),
            ..Routes::NONE
        }
    } else {
        named
    }
}

fn entry_routes(entry: &PrincipalEntry, principal: &Principal) -> Routes {
    let direct = |direct| Routes {
        direct,
        ..Routes::NONE
    };
    let unresolved = |value: &str| crate::pattern::is_unresolved(value);
    match (entry, principal) {
        // "*" names every principal, the role session included, so like a grant to the session
        // ARN it is not limited by the boundary.
        (PrincipalEntry::Everyone, Principal::Role(_)) => Routes {
            session: Tri::True,
            ..Routes::NONE
        },
        (PrincipalEntry::Everyone, _) => direct(Tri::True),
        (PrincipalEntry::Service(name), Principal::Service(service)) => {
            if unresolved(name) {
                direct(Tri::Unknown)
            } else {
                direct((**name == **service).into())
            }
        }
        (PrincipalEntry::Aws(value), Principal::Role(role)) => {
            if unresolved(value) || unresolved(&role.arn) {
                return Routes {
                    session: Tri::False,
                    direct: Tri::Unknown,
                    account: Tri::Unknown,
                };
            }
            let account = role.account();
            let value: &str = value;
            let names_account = value == account || value == format!("arn:aws:iam::{account}:root");
            Routes {
                session: (role.session_arn().as_deref() == Some(value)).into(),
                direct: (value == role.arn).into(),
                account: names_account.into(),
            }
        }
        _ => Routes::NONE,
    }
}

/// Whether the resource policy must itself allow (KMS key policies, role trust policies).
fn resource_policy_required(action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    action.starts_with("kms:") || action.starts_with("sts:assumerole")
}

/// Evaluates one request.
pub fn evaluate(request: &Request) -> Evaluation {
    let mut walk = Walk {
        request,
        context: request.full_context(),
        statements: Vec::new(),
    };
    let (resource_deny, resource_allow) = match &request.resource.policy {
        Some(policy) => walk.resource_like(policy, PolicyKind::Resource),
        None => (Tri::False, Routes::NONE),
    };
    let (endpoint_deny, endpoint_allow) = match (&request.endpoint_policy, &request.principal) {
        (Some(policy), Principal::Role(_) | Principal::Anonymous) => {
            let (deny, routes) = walk.resource_like(policy, PolicyKind::Endpoint);
            (deny, routes.any())
        }
        _ => (Tri::False, Tri::True),
    };
    let (deny, allow) = match &request.principal {
        Principal::Service(_) | Principal::Anonymous => {
            (resource_deny.or(endpoint_deny), resource_allow.any())
        }
        Principal::Role(role) => {
            let (mut identity_deny, mut identity_allow) = (Tri::False, Tri::False);
            for policy in &role.identity_policies {
                let (deny, allow) = walk.identity_like(policy, PolicyKind::Identity);
                identity_deny = identity_deny.or(deny);
                identity_allow = identity_allow.or(allow);
            }
            let (boundary_deny, boundary_allow) = match &role.boundary {
                Some(boundary) => walk.identity_like(boundary, PolicyKind::Boundary),
                None => (Tri::False, Tri::True),
            };
            let same_account = if crate::pattern::is_unresolved(&request.resource.account)
                || crate::pattern::is_unresolved(role.account())
            {
                Tri::Unknown
            } else {
                Tri::from(request.resource.account == role.account())
            };
            let within_account = if resource_policy_required(&request.action) {
                resource_allow
                    .session
                    .or(resource_allow.direct.and(boundary_allow))
                    .or(resource_allow.account.and(identity_allow).and(boundary_allow))
            } else {
                resource_allow
                    .session
                    .or(identity_allow.or(resource_allow.direct).and(boundary_allow))
            };
            let across_accounts = identity_allow.and(boundary_allow).and(resource_allow.any());
            let allow = same_account
                .and(within_account)
                .or(same_account.not().and(across_accounts));
            (
                identity_deny
                    .or(boundary_deny)
                    .or(resource_deny)
                    .or(endpoint_deny),
                allow,
            )
        }
    };
    let allow = allow.and(endpoint_allow);
    let verdict = match (deny, allow) {
        (Tri::True, _) => Verdict::ExplicitDeny,
        (_, Tri::False) => Verdict::ImplicitDeny,
        (Tri::False, Tri::True) => Verdict::Allowed,
        _ => Verdict::Unknown,
    };
    Evaluation {
        verdict,
        statements: walk.statements,
    }
}
