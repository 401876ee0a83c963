//! Access intents: what a plugin's resources must allow and must deny, declared next to the
//! policies that implement them, so that tenant-host can prove them with AWS's policy evaluation
//! logic over the composed fleet (contract 0.2 carries them as `access-intent`).
//!
//! ```
//! use tenant_plugin_sdk::prelude::*;
//!
//! let mut fragment = Fragment::default();
//! fragment.intent(
//!     AccessIntent::allow("${aws_iam_role.api.arn}", "s3:GetObject", "${aws_s3_bucket.data.arn}/*")
//!         .because("the API reads its tenant's objects"),
//! );
//! fragment.intent(
//!     AccessIntent::deny("anonymous", "s3:GetObject", "${aws_s3_bucket.data.arn}/*")
//!         .because("tenant data is never public"),
//! );
//! assert_eq!(fragment.intents.len(), 2);
//! ```

/// Whether an access must be allowed or must be denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessExpectation {
    /// The access must be allowed.
    Allow,
    /// The access must be denied, for every request context.
    Deny,
}

/// "principal must / must not be able to do action on resource, because …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessIntent {
    /// A Terraform expression for a role ARN (`${aws_iam_role.api.arn}`), or one of
    /// `service:<name>.amazonaws.com`, `deployer`, `provisioner`, `anonymous`, `account:other`.
    pub principal: String,
    /// An IAM action, e.g. `s3:GetObject`.
    pub action: String,
    /// The resource ARN as a Terraform expression, e.g. `${aws_s3_bucket.data.arn}/*`.
    pub resource: String,
    /// Allow or deny.
    pub expect: AccessExpectation,
    /// Request context the access happens with, e.g. `("kms:ViaService", "logs.us-east-1.amazonaws.com")`.
    pub context: Vec<(String, String)>,
    /// Why this must hold, one line.
    pub because: String,
}

impl AccessIntent {
    fn new(expect: AccessExpectation, principal: &str, action: &str, resource: &str) -> Self {
        AccessIntent {
            principal: principal.into(),
            action: action.into(),
            resource: resource.into(),
            expect,
            context: Vec::new(),
            because: String::new(),
        }
    }

    /// `principal` must be able to do `action` on `resource`.
    pub fn allow(principal: &str, action: &str, resource: &str) -> Self {
        Self::new(AccessExpectation::Allow, principal, action, resource)
    }

    /// `principal` must not be able to do `action` on `resource`, whatever the request context.
    pub fn deny(principal: &str, action: &str, resource: &str) -> Self {
        Self::new(AccessExpectation::Deny, principal, action, resource)
    }

    /// Adds a request context key the access happens with.
    #[must_use]
    pub fn context(mut self, key: &str, value: &str) -> Self {
        self.context.push((key.into(), value.into()));
        self
    }

    /// Says why the intent must hold.
    #[must_use]
    pub fn because(mut self, text: &str) -> Self {
        self.because = text.into();
        self
    }
}
