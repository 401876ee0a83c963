//! What the fleet model keeps of one composed stack: its roles, resources, policies and intents,
//! resolved against the stack's own blocks and owned, so that the stack's document can be dropped
//! as soon as the stack is checked. [`Fleet::from_models`](crate::fleet::Fleet::from_models) joins
//! the models of every stack: a role may attach a policy declared in another stack, and a stack
//! may grant a function of another stack (`aws_lambda_permission`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::fleet::{ACCOUNT, FleetResource, ResourceKind, StackInput, StackView, unknown_policy};
use crate::intent::{Claim, Intent, derived_unclaimed};
use crate::policy::{Policy, Statement, parse_statement};
use crate::request::{NamedPolicy, Resource, Tags};
use crate::texts::Texts;

/// One stack, as the fleet model needs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackModel {
    /// The stack's name.
    pub(crate) name: String,
    /// The stack's tenant; `None` for the central stack.
    pub(crate) tenant: Option<String>,
    /// Customer managed policies (`aws_iam_policy`) by ARN.
    pub(crate) customer_policies: Vec<(String, NamedPolicy)>,
    /// The stack's `aws_lambda_permission`s.
    pub(crate) permissions: Vec<LambdaPermission>,
    /// Roles, in address order.
    pub(crate) roles: Vec<RoleModel>,
    /// Resources other than roles, in kind then address order.
    pub(crate) resources: Vec<ResourceModel>,
    /// Service roles of CodeBuild projects.
    pub(crate) provisioner_arns: Vec<String>,
    /// What could not be read.
    pub(crate) notes: Vec<String>,
    /// The intents declared for this stack, with references resolved.
    pub(crate) intents: Vec<ResolvedIntent>,
}

/// An intent with its references resolved in the stack that declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedIntent {
    /// The intent as declared.
    pub intent: Intent,
    /// The principal: a role ARN, or `service:…`, `deployer`, `provisioner`, …
    pub principal: Arc<str>,
    /// The resource ARN.
    pub resource: Arc<str>,
    /// The request context.
    pub context: Box<[(Arc<str>, Arc<str>)]>,
}

/// A policy a role refers to by ARN, looked up when the stacks are joined.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PolicyRef {
    /// A customer managed policy of some stack, or a vendored AWS managed policy.
    Arn(String),
    /// An attachment whose ARN the model cannot resolve.
    Unresolved(String),
}

/// A role before the stacks are joined.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RoleModel {
    pub(crate) id: String,
    pub(crate) arn: String,
    pub(crate) tenant: Option<String>,
    pub(crate) tags: Tags,
    pub(crate) inline: Vec<NamedPolicy>,
    pub(crate) attached: Vec<PolicyRef>,
    pub(crate) boundary: Option<PolicyRef>,
    pub(crate) endpoints: BTreeMap<String, NamedPolicy>,
    pub(crate) trust: Option<NamedPolicy>,
}

/// A resource before the stacks are joined: a function's policy comes from every stack's
/// permissions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResourceModel {
    pub(crate) resource: FleetResource,
    /// For a function: its name, which permissions may name instead of its ARN.
    pub(crate) function_name: Option<String>,
}

/// One `aws_lambda_permission`: the function it names and the statement Lambda adds for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LambdaPermission {
    /// The function name or ARN, resolved.
    pub(crate) target: String,
    /// The statement, without its Resource, parsed (its texts shared); what could not be parsed
    /// makes the function's policy unknown.
    pub(crate) statement: Result<Statement, String>,
}

impl StackModel {
    /// Reads one stack with its intents: those its plugins `declared` (moved into the model, not
    /// copied), after those the host derives from its blocks
    /// ([`Fleet::derived_intents`](crate::fleet::Fleet::derived_intents)), leaving out a derived
    /// intent that a declared one claims already. Each is resolved against the stack's blocks
    /// once, with its texts shared through `texts`.
    pub fn extract(input: StackInput<'_>, declared: Vec<Intent>, texts: &Texts) -> StackModel {
        let view = StackView::new(input, texts);
        let declared: Vec<ResolvedIntent> = declared
            .into_iter()
            .map(|intent| resolve_intent(&view, intent))
            .collect();
        let claimed: BTreeSet<Claim> = declared.iter().map(ResolvedIntent::claim).collect();
        // Collected from two lists of known length, so it keeps no spare room.
        let intents: Vec<ResolvedIntent> = derived_unclaimed(&view, &claimed)
            .into_iter()
            .chain(declared)
            .collect();
        let mut model = StackModel {
            name: input.name.to_owned(),
            tenant: input.tenant.map(str::to_owned),
            customer_policies: Vec::new(),
            permissions: Vec::new(),
            roles: Vec::new(),
            resources: Vec::new(),
            provisioner_arns: Vec::new(),
            notes: Vec::new(),
            intents,
        };
        for (name, body) in view.blocks("aws_iam_policy") {
            let label = format!("{}:aws_iam_policy.{name}", input.name);
            if let (Some(arn), Some(document)) = (
                view.attribute(&format!("aws_iam_policy.{name}.arn"), 0),
                body.get("policy"),
            ) {
                let policy = view.policy(label, document, &mut model.notes);
                model.customer_policies.push((arn, policy));
            }
        }
        model.collect_permissions(&view);
        model.add_roles(&view);
        model.add_resources(&view);
        for (_, project) in view.blocks("aws_codebuild_project") {
            model
                .provisioner_arns
                .extend(view.string(project, "service_role", 0));
        }
        model.shrink_to_fit();
        model
    }

    /// Gives back what the lists grew beyond their length: a model is kept until the fleet
    /// checks, for every stack of the fleet.
    fn shrink_to_fit(&mut self) {
        self.customer_policies.shrink_to_fit();
        self.permissions.shrink_to_fit();
        self.roles.shrink_to_fit();
        self.resources.shrink_to_fit();
        self.notes.shrink_to_fit();
    }

    /// Takes the stack's resolved intents out of the model, so that they can be judged from
    /// where they are instead of moved into the joined fleet's one list.
    pub fn take_intents(&mut self) -> Vec<ResolvedIntent> {
        std::mem::take(&mut self.intents)
    }

    /// The stack's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn add_roles(&mut self, view: &StackView<'_>) {
        let stack = view.input.name;
        let endpoints = self.endpoint_policies(view);
        for (name, body) in view.blocks("aws_iam_role") {
            let id = format!("{stack}:aws_iam_role.{name}");
            let Some(arn) = view.attribute(&format!("aws_iam_role.{name}.arn"), 0) else {
                self.notes
                    .push(format!("{id}: role name is not a literal; role not modelled"));
                continue;
            };
            let role_name = view
                .attribute(&format!("aws_iam_role.{name}.name"), 0)
                .unwrap_or_default();
            let names_role = |value: Option<String>| value.is_some_and(|v| v == role_name || v == arn);
            let mut inline = Vec::new();
            for (policy_name, policy_body) in view.blocks("aws_iam_role_policy") {
                if names_role(view.string(policy_body, "role", 0))
                    && let Some(document) = policy_body.get("policy")
                {
                    inline.push(view.policy(
                        format!("{stack}:aws_iam_role_policy.{policy_name}"),
                        document,
                        &mut self.notes,
                    ));
                }
            }
            for policy in body
                .get("inline_policy")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(document) = policy.get("policy") {
                    let label = format!(
                        "{id}.inline_policy.{}",
                        policy.get("name").and_then(Value::as_str).unwrap_or("?")
                    );
                    inline.push(view.policy(label, document, &mut self.notes));
                }
            }
            let mut attached = Vec::new();
            for (_, attachment) in view.blocks("aws_iam_role_policy_attachment") {
                if names_role(view.string(attachment, "role", 0)) {
                    attached.push(match view.string(attachment, "policy_arn", 0) {
                        Some(policy_arn) => PolicyRef::Arn(policy_arn),
                        None => {
                            PolicyRef::Unresolved(format!("{id}: attachment with an unresolved policy_arn"))
                        }
                    });
                }
            }
            attached.extend(
                body.get("managed_policy_arns")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|policy_arn| PolicyRef::Arn(view.resolve(policy_arn))),
            );
            let boundary = body
                .get("permissions_boundary")
                .and_then(Value::as_str)
                .map(|text| PolicyRef::Arn(view.resolve(text)));
            let tags = view.tags(body);
            let tenant = view
                .input
                .tenant
                .map(str::to_owned)
                .or_else(|| tags.get("TenantId").map(str::to_owned));
            let runs_in_vpc = view.blocks("aws_lambda_function").any(|(_, function)| {
                view.string(function, "role", 0).as_deref() == Some(arn.as_str())
                    && function
                        .get("vpc_config")
                        .is_some_and(|config| config.as_array().is_none_or(|c| !c.is_empty()))
            });
            let trust = body
                .get("assume_role_policy")
                .map(|trust| view.policy(format!("{id}.assume_role_policy"), trust, &mut self.notes));
            self.roles.push(RoleModel {
                id,
                arn,
                tenant,
                tags,
                inline,
                attached,
                boundary,
                endpoints: if runs_in_vpc {
                    endpoints.clone()
                } else {
                    BTreeMap::new()
                },
                trust,
            });
        }
    }

    /// The stack's VPC endpoint policies by service prefix.
    fn endpoint_policies(&mut self, view: &StackView<'_>) -> BTreeMap<String, NamedPolicy> {
        let mut endpoints = BTreeMap::new();
        for (name, body) in view.blocks("aws_vpc_endpoint") {
            let Some(service) = view
                .string(body, "service_name", 0)
                .and_then(|service| service.rsplit('.').next().map(str::to_owned))
            else {
                continue;
            };
            let endpoint_id = view.attribute(&format!("aws_vpc_endpoint.{name}.id"), 0);
            let label = format!("{}:aws_vpc_endpoint.{name}", view.input.name);
            let mut policy = body
                .get("policy")
                .map(|document| view.policy(label.clone(), document, &mut self.notes));
            for (policy_name, policy_body) in view.blocks("aws_vpc_endpoint_policy") {
                if view.string(policy_body, "vpc_endpoint_id", 0) == endpoint_id
                    && let Some(document) = policy_body.get("policy")
                {
                    let label = format!("{}:aws_vpc_endpoint_policy.{policy_name}", view.input.name);
                    policy = Some(view.policy(label, document, &mut self.notes));
                }
            }
            if let Some(policy) = policy {
                endpoints.insert(service, policy);
            }
        }
        endpoints
    }

    fn add_resources(&mut self, view: &StackView<'_>) {
        let stack = view.input.name;
        let kinds = [
            ("aws_s3_bucket", ResourceKind::Bucket),
            ("aws_dynamodb_table", ResourceKind::Table),
            ("aws_kms_key", ResourceKind::Key),
            ("aws_cloudwatch_log_group", ResourceKind::LogGroup),
            ("aws_sqs_queue", ResourceKind::Queue),
            ("aws_lambda_function", ResourceKind::Function),
        ];
        for (type_name, kind) in kinds {
            for (name, body) in view.blocks(type_name) {
                let id = format!("{stack}:{type_name}.{name}");
                let Some(arn) = view.attribute(&format!("{type_name}.{name}.arn"), 0) else {
                    self.notes
                        .push(format!("{id}: name is not a literal; resource not modelled"));
                    continue;
                };
                let policy = self.resource_policy(view, kind, name, body, &arn);
                let tags = if kind.supports_resource_tags() {
                    view.tags(body)
                } else {
                    Tags::default()
                };
                let function_name = (kind == ResourceKind::Function)
                    .then(|| view.attribute(&format!("aws_lambda_function.{name}.function_name"), 0))
                    .flatten();
                self.resources.push(ResourceModel {
                    resource: FleetResource {
                        id,
                        stack: stack.to_owned(),
                        tenant: view.input.tenant.map(str::to_owned),
                        kind,
                        resource: Resource {
                            arn,
                            account: ACCOUNT.to_owned(),
                            tags,
                            policy,
                        },
                    },
                    function_name,
                });
            }
        }
    }

    /// The resource policy a stack declares for a resource; a function's comes from the
    /// permissions of every stack, when the stacks are joined.
    fn resource_policy(
        &mut self,
        view: &StackView<'_>,
        kind: ResourceKind,
        name: &str,
        body: &Value,
        arn: &str,
    ) -> Option<NamedPolicy> {
        let stack = view.input.name;
        let attached = |type_name: &str, attribute: &str, own: Option<String>| {
            view.blocks(type_name)
                .find(|(_, policy)| {
                    let target = view.string(policy, attribute, 0);
                    target.is_some() && (target == own || target.as_deref() == Some(arn))
                })
                .map(|(policy_name, policy)| (format!("{stack}:{type_name}.{policy_name}"), policy))
        };
        match kind {
            ResourceKind::Bucket => {
                let own = view.attribute(&format!("aws_s3_bucket.{name}.id"), 0);
                let (label, policy) = attached("aws_s3_bucket_policy", "bucket", own)?;
                Some(view.policy(label, policy.get("policy")?, &mut self.notes))
            }
            ResourceKind::Queue => {
                let own = view.attribute(&format!("aws_sqs_queue.{name}.url"), 0);
                match attached("aws_sqs_queue_policy", "queue_url", own) {
                    Some((label, policy)) => Some(view.policy(label, policy.get("policy")?, &mut self.notes)),
                    None => body.get("policy").map(|document| {
                        view.policy(
                            format!("{stack}:aws_sqs_queue.{name}.policy"),
                            document,
                            &mut self.notes,
                        )
                    }),
                }
            }
            ResourceKind::Table => {
                let (label, policy) = attached("aws_dynamodb_resource_policy", "resource_arn", None)?;
                Some(view.policy(label, policy.get("policy")?, &mut self.notes))
            }
            ResourceKind::Key => Some(match body.get("policy") {
                Some(document) => view.policy(
                    format!("{stack}:aws_kms_key.{name}.policy"),
                    document,
                    &mut self.notes,
                ),
                // The default key policy: the account may use IAM policies for the key.
                None => NamedPolicy {
                    name: format!("{stack}:aws_kms_key.{name} (default key policy)"),
                    policy: Arc::new(
                        Policy::from_value(&json!({"Version": "2012-10-17", "Statement": [{
                            "Sid": "Enable IAM User Permissions", "Effect": "Allow",
                            "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                            "Action": "kms:*", "Resource": "*"}]}))
                        .unwrap_or_else(|_| unreachable!("a fixed valid policy")),
                    ),
                },
            }),
            ResourceKind::Function | ResourceKind::LogGroup | ResourceKind::Role => None,
        }
    }

    /// The `aws_lambda_permission`s of a stack, as statements of their function's policy.
    fn collect_permissions(&mut self, view: &StackView<'_>) {
        for (permission_name, permission) in view.blocks("aws_lambda_permission") {
            let field = |key: &str| {
                permission
                    .get(key)
                    .and_then(Value::as_str)
                    .map(|text| view.resolve(text))
            };
            let Some(target) = field("function_name") else {
                continue;
            };
            let principal = field("principal").unwrap_or_default();
            let principal = if principal.ends_with(".amazonaws.com") {
                json!({"Service": principal})
            } else {
                json!({"AWS": principal})
            };
            let mut condition = serde_json::Map::new();
            if let Some(source_arn) = field("source_arn") {
                condition.insert("ArnLike".into(), json!({"AWS:SourceArn": source_arn}));
            }
            if let Some(source_account) = field("source_account") {
                condition.insert(
                    "StringEquals".into(),
                    json!({"AWS:SourceAccount": source_account}),
                );
            }
            let statement = json!({
                "Sid": field("statement_id").unwrap_or_else(|| format!("{}:aws_lambda_permission.{permission_name}", view.input.name)),
                "Effect": "Allow",
                "Principal": principal,
                "Action": field("action").unwrap_or_else(|| "lambda:InvokeFunction".into()),
                "Condition": condition,
            });
            self.permissions.push(LambdaPermission {
                target,
                statement: parse_statement(0, &statement, view.texts()).map_err(|error| error.to_string()),
            });
        }
    }
}

impl ResolvedIntent {
    /// An intent whose strings need no resolving: ARNs and principal names.
    pub fn literal(intent: Intent) -> ResolvedIntent {
        ResolvedIntent {
            principal: intent.principal.clone(),
            resource: intent.resource.clone(),
            context: intent.context.clone(),
            intent,
        }
    }
}

/// Resolves an intent's references in the stack that declares it.
pub(crate) fn resolve_intent(view: &StackView<'_>, intent: Intent) -> ResolvedIntent {
    let texts = view.texts();
    ResolvedIntent {
        principal: texts.share(&view.resolve(&intent.principal)),
        resource: texts.share(&view.resolve(&intent.resource)),
        context: intent
            .context
            .iter()
            .map(|(key, value)| (key.clone(), texts.share(&view.resolve(value))))
            .collect(),
        intent,
    }
}

/// A policy that stands for one the model could not find.
pub(crate) fn missing_policy(arn: &str, by: &str, notes: &mut Vec<String>) -> NamedPolicy {
    notes.push(format!(
        "{by}: policy {arn} is not in the fleet or the vendored managed subset; modelled as unknown"
    ));
    unknown_policy(arn.to_owned())
}
