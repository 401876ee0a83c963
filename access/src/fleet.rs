//! The fleet model: the principals and resources of composed Terraform JSON stacks, with every
//! policy that applies to them, ready for [`evaluate`].
//!
//! References such as `${aws_s3_bucket.data.arn}` are resolved to symbolic ARNs built from the
//! resource's literal name, the provider's region and a placeholder account ([`ACCOUNT`], which
//! `data.aws_caller_identity` also resolves to). What cannot be resolved stays a Terraform
//! expression, which the evaluator treats as unknown. Policies that cannot be parsed become a
//! policy that may allow and may deny everything, so they can never prove anything.
//!
//! Principals: every `aws_iam_role` (inline, attached customer and vendored AWS managed
//! policies, permissions boundary, tags, and the VPC endpoint policies of the VPC its Lambda
//! function runs in), the deployer (configured), anonymous, and a role of another account with
//! full access in its own account. Service principals are evaluated on demand.
//!
//! Resource tags are populated only for kinds whose actions support `aws:ResourceTag` (KMS keys,
//! SQS queues, log groups, Lambda functions, IAM roles): S3 object actions and DynamoDB item
//! actions do not carry it, and pretending they did would prove tag-based denies that AWS does
//! not enforce.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::evaluate::{Evaluation, Verdict, evaluate};
use crate::policy::Policy;
use crate::request::{ContextValue, NamedPolicy, Principal, Request, Resource, Role};

/// The placeholder id of the account every stack is deployed to.
pub const ACCOUNT: &str = "123456789012";
/// The id of "another account" in the model.
pub const OTHER_ACCOUNT: &str = "999999999999";
/// The region when a stack's provider names none.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Keys a signed caller chooses freely; unless a request names them, any value is possible.
pub const CALLER_CHOSEN_KEYS: &[&str] = &[
    "kms:EncryptionContext:",
    "kms:EncryptionContextKeys",
    "kms:ViaService",
    "kms:GrantIsForAWSResource",
    "dynamodb:LeadingKeys",
    "dynamodb:Attributes",
    "s3:prefix",
    "s3:x-amz-server-side-encryption",
    "aws:RequestTag/",
    "aws:TagKeys",
];

const MANAGED_POLICIES: &[(&str, &str)] = &[
    (
        "arn:aws:iam::aws:policy/AdministratorAccess",
        include_str!("../managed/AdministratorAccess.json"),
    ),
    (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        include_str!("../managed/AWSLambdaBasicExecutionRole.json"),
    ),
];

/// One composed stack as the fleet model reads it.
#[derive(Debug, Clone, Copy)]
pub struct StackInput<'a> {
    /// The stack's name.
    pub name: &'a str,
    /// The tenant id; `None` for the central stack.
    pub tenant: Option<&'a str>,
    /// The `cdk.tf.json` document.
    pub document: &'a Value,
}

/// What the fleet model needs beyond the stacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetOptions {
    /// The role that runs terraform; it has `AdministratorAccess` and no tags.
    pub deployer_role_arn: String,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            deployer_role_arn: format!("arn:aws:iam::{ACCOUNT}:role/terraform-deployer"),
        }
    }
}

/// The kind of a resource, which decides its data actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKind {
    /// `aws_s3_bucket`.
    Bucket,
    /// `aws_dynamodb_table`.
    Table,
    /// `aws_kms_key`.
    Key,
    /// `aws_cloudwatch_log_group`.
    LogGroup,
    /// `aws_sqs_queue`.
    Queue,
    /// `aws_lambda_function`.
    Function,
    /// `aws_iam_role` (its trust policy).
    Role,
}

impl ResourceKind {
    /// Whether the fleet invariant covers it: tenant data.
    pub fn holds_data(self) -> bool {
        !matches!(self, ResourceKind::Function | ResourceKind::Role)
    }

    /// The data actions of this kind, each with the ARN it applies to.
    pub fn data_actions(self, arn: &str) -> Vec<(&'static str, String)> {
        let on = |actions: &[&'static str], arn: String| {
            actions
                .iter()
                .map(move |action| (*action, arn.clone()))
                .collect::<Vec<_>>()
        };
        match self {
            ResourceKind::Bucket => {
                let mut actions = on(
                    &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    format!("{arn}/*"),
                );
                actions.extend(on(&["s3:ListBucket"], arn.to_owned()));
                actions
            }
            ResourceKind::Table => on(
                &[
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                ],
                arn.to_owned(),
            ),
            ResourceKind::Key => on(
                &["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                arn.to_owned(),
            ),
            ResourceKind::LogGroup => {
                let mut actions = on(&["logs:FilterLogEvents"], arn.to_owned());
                actions.extend(on(
                    &["logs:GetLogEvents", "logs:PutLogEvents"],
                    format!("{arn}:log-stream:any"),
                ));
                actions
            }
            ResourceKind::Queue => on(&["sqs:SendMessage", "sqs:ReceiveMessage"], arn.to_owned()),
            ResourceKind::Function => on(&["lambda:InvokeFunction"], arn.to_owned()),
            ResourceKind::Role => on(&["sts:AssumeRole"], arn.to_owned()),
        }
    }

    fn supports_resource_tags(self) -> bool {
        !matches!(self, ResourceKind::Bucket | ResourceKind::Table)
    }
}

/// A resource of the fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetResource {
    /// `stack:type.name`.
    pub id: String,
    /// The stack that declares it.
    pub stack: String,
    /// The tenant of that stack.
    pub tenant: Option<String>,
    /// Its kind.
    pub kind: ResourceKind,
    /// ARN, account, tags and resource policy.
    pub resource: Resource,
}

/// A principal of the fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetPrincipal {
    /// `stack:aws_iam_role.name`, or `deployer`, `anonymous`, `account:other`.
    pub id: String,
    /// The stack that declares it, if any.
    pub stack: Option<String>,
    /// The tenant it is bound to: its stack's tenant, or its `TenantId` tag.
    pub tenant: Option<String>,
    /// The principal with its policies.
    pub principal: Principal,
    /// VPC endpoint policies its requests pass through, by service prefix (`s3`, `dynamodb`).
    pub endpoints: BTreeMap<String, NamedPolicy>,
}

/// Every principal and resource of a fleet.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fleet {
    /// Principals, in stack order then address order; then deployer, another account, anonymous.
    pub principals: Vec<FleetPrincipal>,
    /// Resources, in stack order then address order.
    pub resources: Vec<FleetResource>,
    /// What the model could not read (unparsable policies, unknown managed policies).
    pub notes: Vec<String>,
    /// Service roles of CodeBuild projects: the provisioning job.
    pub provisioner_arns: Vec<String>,
    /// Every stack's `aws_lambda_permission`, by the function it grants.
    permissions: Vec<LambdaPermission>,
}

/// One `aws_lambda_permission`: the function it names and the statement Lambda adds for it.
#[derive(Debug, Clone, PartialEq)]
struct LambdaPermission {
    /// The function name or ARN, resolved.
    target: String,
    /// The statement, without its Resource.
    statement: Value,
}

/// One stack with its provider settings, resolving references against its own blocks.
pub(crate) struct StackView<'a> {
    pub(crate) input: StackInput<'a>,
    pub(crate) region: String,
    default_tags: BTreeMap<String, String>,
}

/// How deep references may chain (a name built from another reference, …).
const MAX_DEPTH: usize = 8;

impl<'a> StackView<'a> {
    pub(crate) fn new(input: StackInput<'a>) -> Self {
        let provider = input.document.pointer("/provider/aws/0");
        let region = provider
            .and_then(|p| p.get("region"))
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_REGION)
            .to_owned();
        let mut view = StackView {
            input,
            region,
            default_tags: BTreeMap::new(),
        };
        if let Some(Value::Object(tags)) = provider.and_then(|p| p.pointer("/default_tags/0/tags")) {
            view.default_tags = tags
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), view.resolve(v))))
                .collect();
        }
        view
    }

    pub(crate) fn blocks(&self, type_name: &str) -> impl Iterator<Item = (&'a str, &'a Value)> + use<'a> {
        self.input
            .document
            .pointer(&format!("/resource/{type_name}"))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, body)| (name.as_str(), body))
    }

    pub(crate) fn resolve(&self, text: &str) -> String {
        self.resolve_at(text, 0)
    }

    /// Replaces every resolvable `${reference}`; `$${` is Terraform's escape for a literal `${`.
    fn resolve_at(&self, text: &str, depth: usize) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let escaped = start > 0 && rest.as_bytes()[start - 1] == b'$';
            if escaped {
                out.push_str(&rest[..start - 1]);
                out.push_str("${");
                rest = &rest[start + 2..];
                continue;
            }
            out.push_str(&rest[..start]);
            let Some(end) = closing_brace(&rest[start + 2..]) else {
                out.push_str(&rest[start..]);
                return out;
            };
            let inner = &rest[start + 2..start + 2 + end];
            match self.attribute(inner, depth) {
                Some(value) => out.push_str(&value),
                None => out.push_str(&rest[start..start + 3 + end]),
            }
            rest = &rest[start + 3 + end..];
        }
        out.push_str(rest);
        out
    }

    /// A body attribute as a resolved string.
    pub(crate) fn string(&self, body: &Value, attribute: &str, depth: usize) -> Option<String> {
        body.get(attribute)
            .and_then(Value::as_str)
            .map(|text| self.resolve_at(text, depth + 1))
            .filter(|text| !text.contains("${"))
    }

    /// The value of `type.name.attribute` or `data.type.name.attribute`, when the model can
    /// build it.
    fn attribute(&self, reference: &str, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        let parts: Vec<&str> = reference.split('.').collect();
        let (region, account) = (self.region.as_str(), ACCOUNT);
        match parts.as_slice() {
            ["data", "aws_caller_identity", _, "account_id"] => Some(account.to_owned()),
            ["data", "aws_region", _, "name" | "region"] => Some(region.to_owned()),
            ["data", "aws_partition", _, "partition"] => Some("aws".to_owned()),
            ["data", "aws_lambda_function", name, attribute] => {
                let body = self
                    .input
                    .document
                    .pointer(&format!("/data/aws_lambda_function/{name}"))?;
                let function = self.string(body, "function_name", depth)?;
                match *attribute {
                    "arn" => Some(format!("arn:aws:lambda:{region}:{account}:function:{function}")),
                    "function_name" => Some(function),
                    _ => None,
                }
            }
            [type_name, name, attribute] => {
                let body = self
                    .input
                    .document
                    .pointer(&format!("/resource/{type_name}/{name}"))?;
                let literal = |key: &str| self.string(body, key, depth);
                let stack = self.input.name;
                match (*type_name, *attribute) {
                    ("aws_s3_bucket", "arn") => Some(format!("arn:aws:s3:::{}", literal("bucket")?)),
                    ("aws_s3_bucket", "id" | "bucket") => literal("bucket"),
                    ("aws_kms_key", "arn") => {
                        Some(format!("arn:aws:kms:{region}:{account}:key/{stack}.{name}"))
                    }
                    ("aws_kms_key", "id" | "key_id") => Some(format!("{stack}.{name}")),
                    ("aws_kms_alias", "arn") => {
                        Some(format!("arn:aws:kms:{region}:{account}:{}", literal("name")?))
                    }
                    ("aws_kms_alias", "name" | "id") => literal("name"),
                    ("aws_sqs_queue", "arn") => {
                        Some(format!("arn:aws:sqs:{region}:{account}:{}", literal("name")?))
                    }
                    ("aws_sqs_queue", "id" | "url") => Some(format!(
                        "https://sqs.{region}.amazonaws.com/{account}/{}",
                        literal("name")?
                    )),
                    ("aws_sqs_queue", "name") => literal("name"),
                    ("aws_dynamodb_table", "arn") => Some(format!(
                        "arn:aws:dynamodb:{region}:{account}:table/{}",
                        literal("name")?
                    )),
                    ("aws_dynamodb_table", "name" | "id") => literal("name"),
                    ("aws_cloudwatch_log_group", "arn") => Some(format!(
                        "arn:aws:logs:{region}:{account}:log-group:{}",
                        literal("name")?
                    )),
                    ("aws_cloudwatch_log_group", "name" | "id") => literal("name"),
                    ("aws_iam_role", "arn") => Some(format!(
                        "arn:aws:iam::{account}:role/{}{}",
                        literal("path").unwrap_or_default().trim_start_matches('/'),
                        literal("name")?
                    )),
                    ("aws_iam_role", "name" | "id") => literal("name"),
                    ("aws_iam_policy", "arn" | "id") => Some(format!(
                        "arn:aws:iam::{account}:policy/{}{}",
                        literal("path").unwrap_or_default().trim_start_matches('/'),
                        literal("name")?
                    )),
                    ("aws_iam_policy", "name") => literal("name"),
                    ("aws_iam_role_policy", "role") => literal("role"),
                    ("aws_iam_role_policy", "name") => literal("name"),
                    ("aws_lambda_function", "arn") => Some(format!(
                        "arn:aws:lambda:{region}:{account}:function:{}",
                        literal("function_name")?
                    )),
                    ("aws_lambda_function", "function_name" | "id") => literal("function_name"),
                    ("aws_cloudwatch_event_bus", "arn") => Some(format!(
                        "arn:aws:events:{region}:{account}:event-bus/{}",
                        literal("name")?
                    )),
                    ("aws_cloudwatch_event_bus", "name" | "id") => literal("name"),
                    ("aws_cloudwatch_event_rule", "arn") => {
                        let rule = literal("name")?;
                        Some(match literal("event_bus_name").filter(|bus| bus != "default") {
                            Some(bus) => format!("arn:aws:events:{region}:{account}:rule/{bus}/{rule}"),
                            None => format!("arn:aws:events:{region}:{account}:rule/{rule}"),
                        })
                    }
                    ("aws_cloudwatch_event_rule", "name") => literal("name"),
                    ("aws_sfn_state_machine", "arn" | "id") => Some(format!(
                        "arn:aws:states:{region}:{account}:stateMachine:{}",
                        literal("name")?
                    )),
                    ("aws_codebuild_project", "arn") => Some(format!(
                        "arn:aws:codebuild:{region}:{account}:project/{}",
                        literal("name")?
                    )),
                    ("aws_vpc", "id") => Some(format!("vpc-{stack}.{name}")),
                    ("aws_vpc_endpoint", "id") => Some(format!("vpce-{stack}.{name}")),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn tags(&self, body: &Value) -> BTreeMap<String, String> {
        let mut tags = self.default_tags.clone();
        if let Some(Value::Object(own)) = body.get("tags") {
            for (key, value) in own {
                if let Some(value) = value.as_str() {
                    tags.insert(key.clone(), self.resolve(value));
                }
            }
        }
        tags
    }

    /// A policy attribute (JSON text or object), resolved and parsed.
    fn policy(&self, name: String, document: &Value, notes: &mut Vec<String>) -> NamedPolicy {
        let text = match document {
            Value::String(text) => self.resolve(text),
            other => self.resolve(&other.to_string()),
        };
        match Policy::parse(&text) {
            Ok(policy) => NamedPolicy { name, policy },
            Err(error) => {
                notes.push(format!(
                    "{name}: policy not modelled ({error}); every verdict it touches is unknown"
                ));
                unknown_policy(name)
            }
        }
    }
}

/// The end of `${…}` starting after the `${`, counting nested braces.
fn closing_brace(text: &str) -> Option<usize> {
    let mut depth = 0_usize;
    for (index, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(index),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// A policy the model cannot read: it may allow and may deny anything.
fn unknown_policy(name: String) -> NamedPolicy {
    let statement = |effect: &str| json!({"Effect": effect, "Principal": "*", "Action": "*", "Resource": "${unmodelled}"});
    let document = json!({"Version": "2012-10-17", "Statement": [statement("Allow"), statement("Deny")]});
    NamedPolicy {
        name,
        policy: Policy::from_value(&document).unwrap_or_else(|_| unreachable!("a fixed valid policy")),
    }
}

fn managed_policy(arn: &str) -> Option<NamedPolicy> {
    MANAGED_POLICIES
        .iter()
        .find(|(known, _)| *known == arn)
        .map(|(_, text)| NamedPolicy {
            name: arn.to_owned(),
            policy: Policy::parse(text).unwrap_or_else(|_| unreachable!("vendored policies parse")),
        })
}

impl Fleet {
    /// Builds the model of composed stacks.
    pub fn from_stacks(stacks: &[StackInput<'_>], options: &FleetOptions) -> Fleet {
        let views: Vec<StackView<'_>> = stacks.iter().map(|s| StackView::new(*s)).collect();
        let mut fleet = Fleet::default();
        let mut customer_policies = BTreeMap::new();
        for view in &views {
            for (name, body) in view.blocks("aws_iam_policy") {
                let label = format!("{}:aws_iam_policy.{name}", view.input.name);
                if let (Some(arn), Some(document)) = (
                    view.attribute(&format!("aws_iam_policy.{name}.arn"), 0),
                    body.get("policy"),
                ) {
                    let policy = view.policy(label, document, &mut fleet.notes);
                    customer_policies.insert(arn, policy);
                }
            }
        }
        let lookup = |arn: &str, notes: &mut Vec<String>, by: &str| {
            customer_policies.get(arn).cloned().or_else(|| managed_policy(arn)).unwrap_or_else(|| {
                notes.push(format!("{by}: policy {arn} is not in the fleet or the vendored managed subset; modelled as unknown"));
                unknown_policy(arn.to_owned())
            })
        };
        for view in &views {
            fleet.collect_permissions(view);
        }
        for view in &views {
            fleet.add_roles(view, &lookup);
            fleet.add_resources(view);
            for (_, project) in view.blocks("aws_codebuild_project") {
                fleet
                    .provisioner_arns
                    .extend(view.string(project, "service_role", 0));
            }
        }
        let admin = managed_policy("arn:aws:iam::aws:policy/AdministratorAccess")
            .into_iter()
            .collect::<Vec<_>>();
        for (id, arn) in [
            ("deployer", options.deployer_role_arn.clone()),
            (
                "account:other",
                format!("arn:aws:iam::{OTHER_ACCOUNT}:role/other-account-admin"),
            ),
        ] {
            fleet.principals.push(FleetPrincipal {
                id: id.to_owned(),
                stack: None,
                tenant: None,
                principal: Principal::Role(Box::new(Role {
                    arn,
                    identity_policies: admin.clone(),
                    ..Role::default()
                })),
                endpoints: BTreeMap::new(),
            });
        }
        fleet.principals.push(FleetPrincipal {
            id: "anonymous".to_owned(),
            stack: None,
            tenant: None,
            principal: Principal::Anonymous,
            endpoints: BTreeMap::new(),
        });
        fleet
    }

    fn add_roles(
        &mut self,
        view: &StackView<'_>,
        lookup: &dyn Fn(&str, &mut Vec<String>, &str) -> NamedPolicy,
    ) {
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
            let mut identity = Vec::new();
            for (policy_name, policy_body) in view.blocks("aws_iam_role_policy") {
                if names_role(view.string(policy_body, "role", 0))
                    && let Some(document) = policy_body.get("policy")
                {
                    identity.push(view.policy(
                        format!("{stack}:aws_iam_role_policy.{policy_name}"),
                        document,
                        &mut self.notes,
                    ));
                }
            }
            for inline in body
                .get("inline_policy")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(document) = inline.get("policy") {
                    let label = format!(
                        "{id}.inline_policy.{}",
                        inline.get("name").and_then(Value::as_str).unwrap_or("?")
                    );
                    identity.push(view.policy(label, document, &mut self.notes));
                }
            }
            for (_, attachment) in view.blocks("aws_iam_role_policy_attachment") {
                if names_role(view.string(attachment, "role", 0)) {
                    match view.string(attachment, "policy_arn", 0) {
                        Some(policy_arn) => identity.push(lookup(&policy_arn, &mut self.notes, &id)),
                        None => identity.push(unknown_policy(format!(
                            "{id}: attachment with an unresolved policy_arn"
                        ))),
                    }
                }
            }
            for managed in body
                .get("managed_policy_arns")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(policy_arn) = managed.as_str() {
                    identity.push(lookup(&view.resolve(policy_arn), &mut self.notes, &id));
                }
            }
            let boundary = body
                .get("permissions_boundary")
                .and_then(Value::as_str)
                .map(|text| {
                    let policy_arn = view.resolve(text);
                    lookup(&policy_arn, &mut self.notes, &id)
                });
            let tags = view.tags(body);
            let tenant = view
                .input
                .tenant
                .map(str::to_owned)
                .or_else(|| tags.get("TenantId").cloned());
            let runs_in_vpc = view.blocks("aws_lambda_function").any(|(_, function)| {
                view.string(function, "role", 0).as_deref() == Some(arn.as_str())
                    && function
                        .get("vpc_config")
                        .is_some_and(|config| config.as_array().is_none_or(|c| !c.is_empty()))
            });
            if let Some(trust) = body.get("assume_role_policy") {
                let policy = view.policy(format!("{id}.assume_role_policy"), trust, &mut self.notes);
                self.resources.push(FleetResource {
                    id: id.clone(),
                    stack: stack.to_owned(),
                    tenant: view.input.tenant.map(str::to_owned),
                    kind: ResourceKind::Role,
                    resource: Resource {
                        arn: arn.clone(),
                        account: ACCOUNT.to_owned(),
                        tags: tags.clone(),
                        policy: Some(policy),
                    },
                });
            }
            self.principals.push(FleetPrincipal {
                id,
                stack: Some(stack.to_owned()),
                tenant,
                principal: Principal::Role(Box::new(Role {
                    arn,
                    tags,
                    identity_policies: identity,
                    boundary,
                    ..Role::default()
                })),
                endpoints: if runs_in_vpc {
                    endpoints.clone()
                } else {
                    BTreeMap::new()
                },
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
                    BTreeMap::new()
                };
                self.resources.push(FleetResource {
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
                });
            }
        }
    }

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
                    policy: Policy::from_value(&json!({"Version": "2012-10-17", "Statement": [{
                        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
                        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
                        "Action": "kms:*", "Resource": "*"}]}))
                    .unwrap_or_else(|_| unreachable!("a fixed valid policy")),
                },
            }),
            ResourceKind::Function => {
                let function = view.attribute(&format!("aws_lambda_function.{name}.function_name"), 0);
                self.lambda_permissions(stack, name, function, arn)
            }
            ResourceKind::LogGroup | ResourceKind::Role => None,
        }
    }

    /// The function's resource policy, as Lambda builds it from the `aws_lambda_permission`s of
    /// every stack (a tenant stack may grant a central function).
    fn lambda_permissions(
        &mut self,
        stack: &str,
        name: &str,
        function: Option<String>,
        arn: &str,
    ) -> Option<NamedPolicy> {
        let statements: Vec<Value> = self
            .permissions
            .iter()
            .filter(|permission| Some(&permission.target) == function.as_ref() || permission.target == arn)
            .map(|permission| {
                let mut statement = permission.statement.clone();
                statement["Resource"] = json!(arn);
                statement
            })
            .collect();
        if statements.is_empty() {
            return None;
        }
        let document = json!({"Version": "2012-10-17", "Statement": statements});
        match Policy::from_value(&document) {
            Ok(policy) => Some(NamedPolicy {
                name: format!("{stack}:aws_lambda_function.{name} (permissions)"),
                policy,
            }),
            Err(error) => {
                self.notes.push(format!(
                    "{stack}:aws_lambda_function.{name}: permissions not modelled ({error})"
                ));
                Some(unknown_policy(format!("{stack}:aws_lambda_function.{name}")))
            }
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
            self.permissions.push(LambdaPermission {
                target,
                statement: json!({
                    "Sid": field("statement_id").unwrap_or_else(|| format!("{}:aws_lambda_permission.{permission_name}", view.input.name)),
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": field("action").unwrap_or_else(|| "lambda:InvokeFunction".into()),
                    "Condition": condition,
                }),
            });
        }
    }

    /// The principal with this id.
    pub fn principal(&self, id: &str) -> Option<&FleetPrincipal> {
        self.principals.iter().find(|p| p.id == id)
    }

    /// The provisioning job: the role a CodeBuild project of the fleet runs as.
    pub fn provisioner(&self) -> Option<&FleetPrincipal> {
        self.provisioner_arns
            .iter()
            .find_map(|arn| self.principal_by_arn(arn))
    }

    /// The role principal with this ARN.
    pub fn principal_by_arn(&self, arn: &str) -> Option<&FleetPrincipal> {
        self.principals
            .iter()
            .find(|p| matches!(&p.principal, Principal::Role(role) if role.arn == arn))
    }

    /// The resource an ARN belongs to: equal to its ARN or below it (`bucket/key`,
    /// `log-group:x:log-stream:y`, `table/t/index/i`).
    pub fn resource_for(&self, arn: &str) -> Option<&FleetResource> {
        self.resources.iter().find(|r| {
            arn == r.resource.arn
                || arn
                    .strip_prefix(r.resource.arn.as_str())
                    .is_some_and(|rest| rest.starts_with('/') || rest.starts_with(':'))
        })
    }

    /// Builds the request `principal` makes for `action` on `arn` (owned by `owner`, if the fleet
    /// has it), with `context` on top of the defaults: TLS, the caller's account for service
    /// principals, and caller-chosen keys left open for signed callers.
    pub fn request(
        &self,
        principal: &Principal,
        endpoints: &BTreeMap<String, NamedPolicy>,
        action: &str,
        arn: &str,
        owner: Option<&FleetResource>,
        context: &[(String, String)],
    ) -> Request {
        let mut resource = owner.map(|r| r.resource.clone()).unwrap_or_else(|| Resource {
            arn: arn.to_owned(),
            account: crate::request::arn_account(arn).unwrap_or(ACCOUNT).to_owned(),
            ..Resource::default()
        });
        resource.arn = arn.to_owned();
        let mut request_context = BTreeMap::new();
        request_context.insert("aws:SecureTransport".to_owned(), ContextValue::One("true".into()));
        if matches!(principal, Principal::Service(_)) {
            request_context.insert("aws:SourceAccount".to_owned(), ContextValue::One(ACCOUNT.into()));
        }
        for (key, value) in context {
            request_context.insert(key.clone(), ContextValue::One(value.clone()));
        }
        let service = action.split(':').next().unwrap_or_default();
        Request {
            principal: principal.clone(),
            action: action.to_owned(),
            resource,
            context: request_context,
            endpoint_policy: endpoints.get(service).cloned(),
            caller_chosen: match principal {
                Principal::Role(_) => CALLER_CHOSEN_KEYS.iter().map(|k| (*k).to_owned()).collect(),
                Principal::Service(_) | Principal::Anonymous => Vec::new(),
            },
        }
    }

    /// Evaluates what `principal` may do with `action` on `arn`, over every value of the keys
    /// the caller chooses and `context` does not fix: allowed only if allowed for all of them.
    pub fn evaluate(
        &self,
        principal: &FleetPrincipal,
        action: &str,
        arn: &str,
        context: &[(String, String)],
    ) -> Evaluation {
        let owner = self.resource_for(arn);
        evaluate(&self.request(
            &principal.principal,
            &principal.endpoints,
            action,
            arn,
            owner,
            context,
        ))
    }

    /// Evaluates exactly the request described: keys `context` does not give are absent.
    pub fn evaluate_exact(
        &self,
        principal: &FleetPrincipal,
        action: &str,
        arn: &str,
        context: &[(String, String)],
    ) -> Evaluation {
        let owner = self.resource_for(arn);
        let mut request = self.request(
            &principal.principal,
            &principal.endpoints,
            action,
            arn,
            owner,
            context,
        );
        request.caller_chosen.clear();
        evaluate(&request)
    }

    /// Every (principal, resource, action) of the fleet with its evaluation: the access matrix.
    pub fn matrix(&self) -> Vec<MatrixEntry<'_>> {
        let mut entries = Vec::new();
        for principal in &self.principals {
            for resource in &self.resources {
                for (action, arn) in resource.kind.data_actions(&resource.resource.arn) {
                    let evaluation = self.evaluate(principal, action, &arn, &[]);
                    entries.push(MatrixEntry {
                        principal,
                        resource,
                        action,
                        arn,
                        evaluation,
                    });
                }
            }
        }
        entries
    }
}

/// One cell of the access matrix.
#[derive(Debug, Clone)]
pub struct MatrixEntry<'a> {
    /// Who.
    pub principal: &'a FleetPrincipal,
    /// On what.
    pub resource: &'a FleetResource,
    /// The data action.
    pub action: &'static str,
    /// The ARN the action applies to (the bucket's objects, a log stream, …).
    pub arn: String,
    /// The verdict and the statements behind it.
    pub evaluation: Evaluation,
}

impl MatrixEntry<'_> {
    /// Whether this cell breaks the fleet invariant: a principal bound to one tenant that is not
    /// certainly denied a data action on another tenant's resource, or an anonymous caller not
    /// certainly denied anything.
    pub fn violates_isolation(&self) -> bool {
        let denied = self.evaluation.verdict.is_denied();
        if matches!(self.principal.principal, Principal::Anonymous) {
            return !denied;
        }
        match (&self.principal.tenant, &self.resource.tenant) {
            (Some(own), Some(other)) => own != other && self.resource.kind.holds_data() && !denied,
            _ => false,
        }
    }
}

/// Whether a verdict satisfies an expectation.
pub fn holds(expect_allow: bool, verdict: Verdict) -> bool {
    if expect_allow {
        verdict == Verdict::Allowed
    } else {
        verdict.is_denied()
    }
}
