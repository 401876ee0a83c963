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

    /// The same access, which must be denied instead: how a plugin states that what it grants
    /// stops exactly where it should (the same service, for another tenant's resource).
    pub fn denied(mut self) -> Self {
        self.expect = AccessExpectation::Deny;
        self
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

    /// Lambda decrypts a function's environment with the execution role's own credentials,
    /// naming the function in the encryption context
    /// ([Lambda: securing environment variables](https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html)):
    /// without this, every invocation fails with `KMSAccessDeniedException`.
    pub fn environment_decryption(role_arn: &str, key_arn: &str, function_name: &str) -> Self {
        Self::allow(role_arn, "kms:Decrypt", key_arn)
            .context("kms:EncryptionContext:LambdaFunctionName", function_name)
            .because(&format!(
                "Lambda decrypts the environment of {function_name} with its execution role's credentials"
            ))
    }

    /// Lambda sends the events an asynchronous invocation failed on to the function's
    /// dead-letter queue with the execution role's credentials
    /// ([Lambda: dead-letter queues](https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html#invocation-dlq)).
    pub fn dead_letter_delivery(role_arn: &str, queue_arn: &str, function_name: &str) -> Self {
        Self::allow(role_arn, "sqs:SendMessage", queue_arn).because(&format!(
            "{function_name} sends the events it failed on to its dead-letter queue"
        ))
    }

    /// A message sent to a queue encrypted with a customer managed key makes SQS generate a data
    /// key for the sender, through SQS and with the queue's ARN as encryption context
    /// ([SQS key management](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html)).
    pub fn queue_encryption(sender: &str, key_arn: &str, queue_arn: &str, region: &str) -> Self {
        Self::allow(sender, "kms:GenerateDataKey", key_arn)
            .context("kms:ViaService", &format!("sqs.{region}.amazonaws.com"))
            .context("kms:EncryptionContext:aws:sqs:arn", queue_arn)
            .because("sending to an SSE-KMS queue encrypts the message with the queue's key, through SQS")
    }

    /// CloudWatch Logs of `region` encrypts the log group `group_arn` with the key, passing the
    /// group's ARN as encryption context
    /// ([Encrypt log data with KMS](https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)).
    pub fn log_group_encryption(region: &str, key_arn: &str, group_arn: &str) -> Self {
        Self::allow(
            &format!("service:logs.{region}.amazonaws.com"),
            "kms:GenerateDataKey",
            key_arn,
        )
        .context("kms:EncryptionContext:aws:logs:arn", group_arn)
        .because("CloudWatch Logs encrypts the log group's events with its key")
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
