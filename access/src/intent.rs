//! Access intents: "principal must / must not be able to do action on resource, because …",
//! declared by plugins (contract 0.2) and by the host, checked against the fleet model.
//!
//! A "must allow" intent describes one request: context keys it does not give are absent. A
//! "must deny" intent covers every request: keys the caller chooses stay open, so the intent
//! holds only if the request is denied whatever they are. An unknown verdict never holds.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::evaluate::Evaluation;
use crate::fleet::{Fleet, FleetPrincipal, FleetResource, ResourceKind, StackInput, StackView};
use crate::model::{ResolvedIntent, resolve_intent};
use crate::request::Principal;
use crate::texts::Texts;

/// Whether the access must be allowed or must be denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Expectation {
    /// Must be allowed.
    Allow,
    /// Must be denied.
    Deny,
}

impl Expectation {
    /// `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Expectation::Allow => "allow",
            Expectation::Deny => "deny",
        }
    }
}

/// One intent, as declared in a stack. Its texts are shared ([`Texts`](crate::texts::Texts)):
/// a fleet keeps hundreds of thousands of intents until it is checked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Intent {
    /// Who declared it: a plugin name, or `host`.
    pub plugin: Arc<str>,
    /// The stack whose references the strings use.
    pub stack: Arc<str>,
    /// A role ARN expression (`${aws_iam_role.api.arn}`), or `service:<name>`, `deployer`,
    /// `provisioner`, `anonymous`, `account:other`.
    pub principal: Arc<str>,
    /// The IAM action.
    pub action: Arc<str>,
    /// The resource ARN expression.
    pub resource: Arc<str>,
    /// Allow or deny.
    pub expect: Expectation,
    /// Request context, `(key, value)`; values may be expressions. A boxed slice, not a `Vec`:
    /// hundreds of thousands of intents are kept until the fleet checks.
    pub context: Box<[(Arc<str>, Arc<str>)]>,
    /// Why it must hold.
    pub because: Arc<str>,
}

/// What an intent asserts once the references of its stack are resolved: two intents with one
/// claim are the same intent, whoever declared them and however they spelled it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Claim {
    /// The stack whose references were resolved.
    pub stack: String,
    /// The principal, resolved.
    pub principal: String,
    /// The IAM action.
    pub action: String,
    /// The resource ARN, resolved.
    pub resource: String,
    /// Allow or deny.
    pub expect: Expectation,
    /// The request context, values resolved; its order does not matter.
    pub context: BTreeSet<(String, String)>,
}

/// `intents`, each resolved against its stack among `stacks` (left as written when its stack is
/// not among them). One view per stack, however many intents it has.
pub fn resolve_intents(stacks: &[StackInput<'_>], intents: &[Intent]) -> Vec<ResolvedIntent> {
    let texts = Texts::default();
    let views: BTreeMap<&str, StackView<'_>> = stacks
        .iter()
        .map(|s| (s.name, StackView::new(*s, &texts)))
        .collect();
    intents
        .iter()
        .map(|intent| match views.get(&*intent.stack) {
            Some(view) => resolve_intent(view, intent.clone()),
            None => ResolvedIntent::literal(intent.clone()),
        })
        .collect()
}

impl ResolvedIntent {
    /// What the intent asserts, however it was spelled.
    pub fn claim(&self) -> Claim {
        Claim {
            stack: self.intent.stack.to_string(),
            principal: self.principal.to_string(),
            action: self.intent.action.to_ascii_lowercase(),
            resource: self.resource.to_string(),
            expect: self.intent.expect,
            context: self
                .context
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
        }
    }
}

/// An intent with its verdict.
#[derive(Debug, Clone)]
pub struct IntentOutcome {
    /// The intent.
    pub intent: Intent,
    /// The principal's id in the fleet, or why it could not be resolved.
    pub principal: Result<String, String>,
    /// The resource ARN after resolving references.
    pub resource: String,
    /// The evaluation, when the principal resolved.
    pub evaluation: Option<Evaluation>,
    /// Whether the intent holds.
    pub holds: bool,
}

impl Fleet {
    /// Checks `intents` declared in `stacks` (the stacks this fleet was built from).
    pub fn check_intents(&self, stacks: &[StackInput<'_>], intents: &[Intent]) -> Vec<IntentOutcome> {
        self.check_resolved_intents(&resolve_intents(stacks, intents))
    }

    /// Checks intents whose references are resolved already.
    pub fn check_resolved_intents(&self, intents: &[ResolvedIntent]) -> Vec<IntentOutcome> {
        intents
            .iter()
            .map(|intent| self.check_resolved_intent(intent))
            .collect()
    }

    /// Checks one intent whose references are resolved already.
    pub fn check_resolved_intent(&self, resolved: &ResolvedIntent) -> IntentOutcome {
        self.judge_resolved_intent(resolved, true)
            .expect("kept whether it holds or not")
    }

    /// Checks one intent whose references are resolved already, and describes the outcome only
    /// when the intent fails or `keep_holding` asks for it too: a fleet judges hundreds of
    /// thousands of intents and keeps the few that fail.
    pub fn judge_resolved_intent(
        &self,
        resolved: &ResolvedIntent,
        keep_holding: bool,
    ) -> Option<IntentOutcome> {
        let intent = &resolved.intent;
        let (resource, context) = (&resolved.resource, &resolved.context);
        let principal = self.intent_principal(&resolved.principal);
        let evaluation = principal.as_ref().ok().map(|principal| match intent.expect {
            Expectation::Allow => self.evaluate_exact(principal, &intent.action, resource, context),
            Expectation::Deny => self.evaluate(principal, &intent.action, resource, context),
        });
        let holds = evaluation
            .as_ref()
            .is_some_and(|e| crate::fleet::holds(intent.expect == Expectation::Allow, e.verdict));
        (keep_holding || !holds).then(|| IntentOutcome {
            intent: intent.clone(),
            principal: principal.map(|p| p.id.clone()),
            resource: resource.to_string(),
            evaluation,
            holds,
        })
    }

    /// The intent's principal: a service principal is made up, a role or the deployer borrowed
    /// from the fleet.
    fn intent_principal(&self, principal: &str) -> Result<Cow<'_, FleetPrincipal>, String> {
        if let Some(service) = principal.strip_prefix("service:") {
            return Ok(Cow::Owned(FleetPrincipal {
                id: principal.to_owned(),
                stack: None,
                tenant: None,
                principal: Principal::Service(service.to_owned()),
                endpoints: Default::default(),
            }));
        }
        let found = match principal {
            "deployer" | "anonymous" | "account:other" => self.principal(principal),
            "provisioner" => self.provisioner(),
            arn => self.principal_by_arn(arn),
        };
        found
            .map(Cow::Borrowed)
            .ok_or_else(|| format!("principal `{principal}` is not a role of the fleet"))
    }

    /// Intents that follow from what the stacks declare, whatever plugin emitted it: each Lambda
    /// function's role can decrypt its environment key and send to its dead-letter queue;
    /// EventBridge can invoke each rule's targets and write their dead-letter queues; CloudWatch
    /// Logs can use each log group's key; a log subscription can invoke its destination.
    ///
    /// A safety net for plugins that declare none: a derived intent whose [`Claim`] one of the
    /// `declared` intents already makes is left out, so every claim is judged (and counted) once,
    /// as the declaring plugin's.
    pub fn derived_intents(stacks: &[StackInput<'_>], declared: &[Intent]) -> Vec<Intent> {
        let claimed: BTreeSet<Claim> = resolve_intents(stacks, declared)
            .iter()
            .map(ResolvedIntent::claim)
            .collect();
        let texts = Texts::default();
        stacks
            .iter()
            .flat_map(|stack| derived_unclaimed(&StackView::new(*stack, &texts), &claimed))
            .map(|resolved| resolved.intent)
            .collect()
    }

    /// The host's own intents: the deployer can manage every resource of every stack, and empty a
    /// versioned bucket (what `terraform destroy` with `force_destroy` does).
    pub fn host_intents(&self) -> Vec<Intent> {
        Self::host_intents_for(&self.resources)
    }

    /// The host's intents about `resources` alone, so that a fleet's (several per resource, each
    /// with its own reason) can be made and judged a part at a time.
    pub fn host_intents_for(resources: &[FleetResource]) -> Vec<Intent> {
        let mut intents = Vec::new();
        for resource in resources {
            let arn = &resource.resource.arn;
            let manage: &[(&str, String)] = &match resource.kind {
                ResourceKind::Bucket => vec![
                    ("s3:PutBucketPolicy", arn.clone()),
                    ("s3:ListBucketVersions", arn.clone()),
                    ("s3:DeleteObjectVersion", format!("{arn}/*")),
                    ("s3:DeleteBucket", arn.clone()),
                ],
                ResourceKind::Key => vec![
                    ("kms:PutKeyPolicy", arn.clone()),
                    ("kms:ScheduleKeyDeletion", arn.clone()),
                ],
                ResourceKind::Table => vec![("dynamodb:DeleteTable", arn.clone())],
                ResourceKind::LogGroup => vec![("logs:DeleteLogGroup", arn.clone())],
                ResourceKind::Queue => vec![("sqs:DeleteQueue", arn.clone())],
                ResourceKind::Function => vec![("lambda:DeleteFunction", arn.clone())],
                ResourceKind::Role => vec![("iam:DeleteRole", arn.clone())],
            };
            for (action, target) in manage {
                intents.push(Intent {
                    plugin: "host".into(),
                    stack: resource.stack.as_str().into(),
                    principal: "deployer".into(),
                    action: (*action).into(),
                    resource: target.as_str().into(),
                    expect: Expectation::Allow,
                    context: Box::default(),
                    because: format!(
                        "the deployer must create, update and destroy {} (terraform destroy empties a versioned bucket first)",
                        resource.id
                    ).into(),
                });
            }
        }
        intents
    }
}

/// The host's intents about the stack of `view` (see [`Fleet::derived_intents`]), resolved in it,
/// but for those whose claim is `claimed` already.
pub(crate) fn derived_unclaimed(view: &StackView<'_>, claimed: &BTreeSet<Claim>) -> Vec<ResolvedIntent> {
    let mut derived = Vec::new();
    derive_intents(view, &mut derived);
    derived
        .into_iter()
        .map(|intent| resolve_intent(view, intent))
        .filter(|resolved| !claimed.contains(&resolved.claim()))
        .collect()
}

/// The intents that follow from what the stack of `view` declares, with their references
/// unresolved and their texts shared through the view's.
fn derive_intents(view: &StackView<'_>, intents: &mut Vec<Intent>) {
    let texts = view.texts();
    let (plugin, stack) = (texts.share("host"), texts.share(view.input.name));
    let mut push =
        |principal: &str, action: &str, resource: &str, context: &[(&str, &str)], because: String| {
            intents.push(Intent {
                plugin: plugin.clone(),
                stack: stack.clone(),
                principal: texts.share(principal),
                action: texts.share(action),
                resource: texts.share(resource),
                expect: Expectation::Allow,
                context: texts.share_pairs(context.iter().copied()),
                because: texts.share(&because),
            });
        };
    fn text<'v>(body: &'v serde_json::Value, pointer: &str) -> Option<&'v str> {
        body.pointer(pointer).and_then(serde_json::Value::as_str)
    }
    for (name, function) in view.blocks("aws_lambda_function") {
        let (Some(role), Some(function_name)) =
            (text(function, "/role"), view.string(function, "function_name", 0))
        else {
            continue;
        };
        if let Some(key) = text(function, "/kms_key_arn") {
            push(
                role,
                "kms:Decrypt",
                key,
                &[("kms:EncryptionContext:LambdaFunctionName", &function_name)],
                format!(
                    "Lambda decrypts the environment of aws_lambda_function.{name} with its execution role's credentials"
                ),
            );
        }
        if let Some(queue) = text(function, "/dead_letter_config/0/target_arn") {
            push(
                role,
                "sqs:SendMessage",
                queue,
                &[],
                format!("aws_lambda_function.{name} sends failed events to its dead-letter queue"),
            );
        }
    }
    for (name, target) in view.blocks("aws_cloudwatch_event_target") {
        let Some(rule) = text(target, "/rule").map(|rule| rule.replace(".name}", ".arn}")) else {
            continue;
        };
        let source = [("aws:SourceArn", rule.as_str())];
        if let Some(arn) = text(target, "/arn") {
            match text(target, "/role_arn") {
                Some(role) => push(
                    role,
                    "states:StartExecution",
                    arn,
                    &[],
                    format!("aws_cloudwatch_event_target.{name} starts its target with its role"),
                ),
                None => push(
                    "service:events.amazonaws.com",
                    "lambda:InvokeFunction",
                    arn,
                    &source,
                    format!("EventBridge invokes the target of aws_cloudwatch_event_target.{name}"),
                ),
            }
        }
        if let Some(queue) = text(target, "/dead_letter_config/0/arn") {
            push(
                "service:events.amazonaws.com",
                "sqs:SendMessage",
                queue,
                &source,
                format!(
                    "EventBridge writes undeliverable events of aws_cloudwatch_event_target.{name} to its dead-letter queue"
                ),
            );
        }
    }
    for (name, group) in view.blocks("aws_cloudwatch_log_group") {
        if let Some(key) = text(group, "/kms_key_id") {
            let group_arn = format!("${{aws_cloudwatch_log_group.{name}.arn}}");
            push(
                &format!("service:logs.{}.amazonaws.com", view.region),
                "kms:GenerateDataKey",
                key,
                &[("kms:EncryptionContext:aws:logs:arn", &group_arn)],
                format!("CloudWatch Logs encrypts aws_cloudwatch_log_group.{name} with its key"),
            );
        }
    }
    for (name, filter) in view.blocks("aws_cloudwatch_log_subscription_filter") {
        if let (Some(destination), Some(group)) = (
            text(filter, "/destination_arn"),
            view.string(filter, "log_group_name", 0),
        ) {
            let source = format!(
                "arn:aws:logs:{}:{}:log-group:{group}:*",
                view.region,
                crate::fleet::ACCOUNT
            );
            push(
                "service:logs.amazonaws.com",
                "lambda:InvokeFunction",
                destination,
                &[("aws:SourceArn", &source)],
                format!("aws_cloudwatch_log_subscription_filter.{name} delivers to its destination"),
            );
        }
    }
}
