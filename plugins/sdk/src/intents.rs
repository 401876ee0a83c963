//! Access intents: "principal P must (or must not) be able to do A on R, because ...". A plugin
//! states them in its fragments ([`Fragment::intent`](crate::Fragment::intent)); the host's
//! access checks judge them against every plugin's policies in the composed stack.
//!
//! ```
//! use tenant_plugin_sdk::AccessIntent;
//! let intent = AccessIntent::deny("account:other", "s3:GetObject", "${aws_s3_bucket.data.arn}/*")
//!     .because("another account never reads tenant data");
//! assert_eq!(intent.principal, "account:other");
//! ```

use serde_json::{Value, json};

/// Whether an access must be allowed or must be denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessExpectation {
    /// The access must be possible.
    Allow,
    /// The access must be impossible.
    Deny,
}

/// "principal must / must not be able to do action on resource, because ...".
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
        Self {
            principal: principal.to_owned(),
            action: action.to_owned(),
            resource: resource.to_owned(),
            expect,
            context: Vec::new(),
            because: String::new(),
        }
    }

    /// `principal` must be able to do `action` on `resource`.
    pub fn allow(principal: &str, action: &str, resource: &str) -> Self {
        Self::new(AccessExpectation::Allow, principal, action, resource)
    }

    /// `principal` must not be able to do `action` on `resource`.
    pub fn deny(principal: &str, action: &str, resource: &str) -> Self {
        Self::new(AccessExpectation::Deny, principal, action, resource)
    }

    /// Adds a request context key and value the access happens with.
    pub fn context(mut self, key: &str, value: &str) -> Self {
        self.context.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Why this must hold, one line.
    pub fn because(mut self, text: &str) -> Self {
        self.because = text.to_owned();
        self
    }

    /// The intent as JSON, the form golden files hold.
    pub fn to_json(&self) -> Value {
        json!({
            "principal": self.principal,
            "action": self.action,
            "resource": self.resource,
            "expect": match self.expect {
                AccessExpectation::Allow => "allow",
                AccessExpectation::Deny => "deny",
            },
            "context": self.context,
            "because": self.because,
        })
    }
}
