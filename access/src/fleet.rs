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
use std::sync::Arc;

use serde_json::{Value, json};

use crate::evaluate::{Evaluation, Verdict, evaluate};
use crate::model::{PolicyRef, ResourceModel, StackModel, missing_policy};
use crate::policy::{Effect, Policy, PrincipalEntry, Statement};
use crate::request::{ContextValue, NamedPolicy, Principal, Request, Resource, Role, Tags};
use crate::texts::Texts;

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
    /// Every kind.
    pub const ALL: [ResourceKind; 7] = [
        ResourceKind::Bucket,
        ResourceKind::Table,
        ResourceKind::Key,
        ResourceKind::LogGroup,
        ResourceKind::Queue,
        ResourceKind::Function,
        ResourceKind::Role,
    ];

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

    pub(crate) fn supports_resource_tags(self) -> bool {
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
    /// Principals and resources by ARN.
    index: Index,
}

/// Lookups by ARN, so that a fleet of thousands of stacks is not scanned per request.
#[derive(Debug, Clone, PartialEq, Default)]
struct Index {
    /// Principal positions by the hash of their id, then position.
    by_id: Vec<(u64, usize)>,
    /// Role principal positions by the hash of their role ARN, then position.
    principals: Vec<(u64, usize)>,
    /// Resource positions by the hash of their ARN, then position (several, if stacks declare
    /// the same name).
    resources: Vec<(u64, usize)>,
    /// Resource positions by service, then by the resource component of their ARN (the text
    /// after the fifth colon), so that a pattern with a wildcard region or account still finds
    /// its few.
    by_service: Vec<usize>,
    /// Resources whose ARN has fewer than six components: any pattern may name them.
    irregular: Vec<usize>,
    /// The statements of large resource policies by the `aws:SourceArn` they require, by the
    /// resource's position.
    by_source: BTreeMap<usize, SourceIndex>,
}

/// A large resource policy's statements by the `aws:SourceArn` they require. A Lambda function
/// that every tenant's log group may invoke has one permission statement per tenant; a request
/// with a known source needs only those whose source may match it, so a fleet's intents about
/// that function do not cost the square of the fleet.
#[derive(Debug, Clone, PartialEq, Default)]
struct SourceIndex {
    /// Statements without such a requirement.
    always: Vec<usize>,
    /// Statements by the literal start of each `aws:SourceArn` value they accept.
    by_prefix: BTreeMap<String, Vec<usize>>,
}

impl SourceIndex {
    /// Policies with fewer statements are evaluated whole.
    const MIN_STATEMENTS: usize = 64;

    /// The index of a policy, if it is large and every statement has a `Sid` (a statement
    /// without one is reported by its position, which selecting statements would change).
    fn of(policy: &Policy) -> Option<SourceIndex> {
        if policy.statements.len() < Self::MIN_STATEMENTS || policy.statements.iter().any(|s| s.sid.is_none())
        {
            return None;
        }
        let mut index = SourceIndex::default();
        for (position, statement) in policy.statements.iter().enumerate() {
            // A plain positive operator on the key, with literal values: the statement applies
            // only to a source that starts with one of them.
            let required = statement.conditions.iter().find(|condition| {
                condition.key.eq_ignore_ascii_case("aws:SourceArn")
                    && matches!(
                        &*condition.operator,
                        "ArnLike" | "ArnEquals" | "StringLike" | "StringEquals"
                    )
                    && !condition.values.is_empty()
                    && condition.values.iter().all(|value| !value.contains("${"))
            });
            match required {
                Some(condition) => {
                    for value in condition.values.iter() {
                        let prefix = crate::pattern::literal_prefix(value).to_owned();
                        index.by_prefix.entry(prefix).or_default().push(position);
                    }
                }
                None => index.always.push(position),
            }
        }
        Some(index)
    }

    /// The statements a request from `source` may match, in policy order.
    fn select(&self, source: &str) -> Vec<usize> {
        let mut selected = self.always.clone();
        for (end, _) in source.char_indices().chain(std::iter::once((source.len(), ' '))) {
            selected.extend(self.by_prefix.get(&source[..end]).into_iter().flatten());
        }
        selected.sort_unstable();
        selected.dedup();
        selected
    }
}

/// Positions sorted by a text of what they point at (or by its hash, for exact lookups), so that
/// the index holds no copy of the texts: at 10,000 tenants the ARNs and ids copied into ordered
/// maps were 34 MB of the peak.
impl Index {
    fn of(fleet: &Fleet) -> Index {
        let (principals, resources) = (&fleet.principals, &fleet.resources);
        let by_hash = |texts: &mut dyn Iterator<Item = (usize, &str)>| {
            let mut hashed: Vec<(u64, usize)> = texts
                .map(|(position, text)| (text_hash(text), position))
                .collect();
            hashed.sort_unstable();
            hashed
        };
        let mut index = Index {
            by_id: by_hash(
                &mut principals
                    .iter()
                    .map(|principal| principal.id.as_str())
                    .enumerate(),
            ),
            principals: by_hash(&mut principals.iter().enumerate().filter_map(|(p, principal)| {
                match &principal.principal {
                    Principal::Role(role) => Some((p, role.arn.as_str())),
                    _ => None,
                }
            })),
            resources: by_hash(&mut resources.iter().map(|r| r.resource.arn.as_str()).enumerate()),
            ..Index::default()
        };
        for (position, resource) in resources.iter().enumerate() {
            if let Some(source_index) = resource
                .resource
                .policy
                .as_ref()
                .and_then(|p| SourceIndex::of(&p.policy))
            {
                index.by_source.insert(position, source_index);
            }
            match arn_components(&resource.resource.arn) {
                Some(_) => index.by_service.push(position),
                None => index.irregular.push(position),
            }
        }
        // Stable, so that resources with one ARN stay in fleet order; each ARN is split once.
        index
            .by_service
            .sort_by_cached_key(|&p| components(&resources[p]));
        index
    }

    /// The position of the first principal with this id.
    fn principal_with_id(&self, principals: &[FleetPrincipal], id: &str) -> Option<usize> {
        first_with(&self.by_id, id, |p| principals[p].id.as_str())
    }

    /// The position of the first role principal with this ARN.
    fn principal_with_arn(&self, principals: &[FleetPrincipal], arn: &str) -> Option<usize> {
        first_with(&self.principals, arn, |p| role_arn(&principals[p]))
    }

    /// The position of the first resource with this ARN.
    fn resource_with_arn(&self, resources: &[FleetResource], arn: &str) -> Option<usize> {
        first_with(&self.resources, arn, |p| resources[p].resource.arn.as_str())
    }

    /// The resources a `Resource` pattern may name, as an over-approximation: those of its
    /// service whose resource component starts with the pattern's literal start there, or that
    /// it points below (a bucket's objects). `None` when the pattern may name any resource: its
    /// service is a wildcard or an expression, or it is not an ARN pattern.
    fn named_by(&self, resources: &[FleetResource], pattern: &str) -> Option<Vec<usize>> {
        let (service, rest) = arn_components(pattern)?;
        let head = &pattern[..pattern.len() - rest.len()];
        // A wildcard partition, region or account only widens the search to the service, which
        // the index ignores anyway; an expression before the resource component may hide colons.
        if service.contains(['*', '?']) || head.contains('$') {
            return None;
        }
        let prefix = crate::pattern::literal_prefix(rest);
        let of_service = |from: &str| {
            let start = self
                .by_service
                .partition_point(|&p| components(&resources[p]) < (service, from));
            self.by_service[start..]
                .iter()
                .copied()
                .take_while(move |&p| components(&resources[p]).0 == service)
        };
        let mut named = self.irregular.clone();
        named.extend(of_service(prefix).take_while(|&p| components(&resources[p]).1.starts_with(prefix)));
        for (end, _) in prefix.char_indices().filter(|(_, c)| matches!(c, '/' | ':')) {
            let above = &prefix[..end];
            named.extend(of_service(above).take_while(|&p| components(&resources[p]).1 == above));
        }
        Some(named)
    }
}

/// The first position of `hashed` (sorted by hash, then position) whose text is `key`.
fn first_with<'a>(hashed: &[(u64, usize)], key: &str, text: impl Fn(usize) -> &'a str) -> Option<usize> {
    let hash = text_hash(key);
    let start = hashed.partition_point(|&(h, _)| h < hash);
    hashed[start..]
        .iter()
        .take_while(|&&(h, _)| h == hash)
        .map(|&(_, position)| position)
        .find(|&position| text(position) == key)
}

/// A hash of `text`: the index is built and searched in one process, so any fixed hasher does.
fn text_hash(text: &str) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// A role principal's ARN; empty for others, which the index of roles does not hold.
fn role_arn(principal: &FleetPrincipal) -> &str {
    match &principal.principal {
        Principal::Role(role) => &role.arn,
        _ => "",
    }
}

/// A resource's ARN split as [`arn_components`] splits it; every resource in the index of
/// services has six components.
fn components(resource: &FleetResource) -> (&str, &str) {
    arn_components(&resource.resource.arn).unwrap_or_default()
}

/// The service and the resource component (after the fifth colon) of an ARN or ARN pattern.
fn arn_components(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, _, _, rest) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    Some((service, rest))
}

/// One stack with its provider settings, resolving references against its own blocks.
pub(crate) struct StackView<'a> {
    pub(crate) input: StackInput<'a>,
    pub(crate) region: String,
    /// The provider's default tags, shared through `texts`.
    default_tags: Vec<(Arc<str>, Arc<str>)>,
    /// Where the texts of the stack's parsed policies are shared.
    texts: &'a Texts,
}

/// How deep references may chain (a name built from another reference, …).
const MAX_DEPTH: usize = 8;

impl<'a> StackView<'a> {
    pub(crate) fn new(input: StackInput<'a>, texts: &'a Texts) -> Self {
        let provider = input.document.pointer("/provider/aws/0");
        let region = provider
            .and_then(|p| p.get("region"))
            .and_then(Value::as_str)
            .unwrap_or(DEFAULT_REGION)
            .to_owned();
        let mut view = StackView {
            input,
            region,
            default_tags: Vec::new(),
            texts,
        };
        if let Some(Value::Object(tags)) = provider.and_then(|p| p.pointer("/default_tags/0/tags")) {
            view.default_tags = tags
                .iter()
                .filter_map(|(k, v)| {
                    v.as_str()
                        .map(|v| (texts.share(k), texts.share(&view.resolve(v))))
                })
                .collect();
        }
        view
    }

    /// Where the stack's parsed policies share their texts.
    pub(crate) fn texts(&self) -> &'a Texts {
        self.texts
    }

    pub(crate) fn blocks(&self, type_name: &str) -> impl Iterator<Item = (&'a str, &'a Value)> + use<'a> {
        self.input
            .document
            .get("resource")
            .and_then(|resources| resources.get(type_name))
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
    pub(crate) fn attribute(&self, reference: &str, depth: usize) -> Option<String> {
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
                    .get("data")?
                    .get("aws_lambda_function")?
                    .get(*name)?;
                let function = self.string(body, "function_name", depth)?;
                match *attribute {
                    "arn" => Some(format!("arn:aws:lambda:{region}:{account}:function:{function}")),
                    "function_name" => Some(function),
                    _ => None,
                }
            }
            [type_name, name, attribute] => {
                let body = self.input.document.get("resource")?.get(*type_name)?.get(*name)?;
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

    pub(crate) fn tags(&self, body: &Value) -> Tags {
        let own = body.get("tags").and_then(Value::as_object).into_iter().flatten();
        self.default_tags
            .iter()
            .cloned()
            .chain(own.filter_map(|(key, value)| {
                let value = value.as_str()?;
                Some((self.texts.share(key), self.texts.share(&self.resolve(value))))
            }))
            .collect()
    }

    /// A policy attribute (JSON text or object), resolved and parsed.
    pub(crate) fn policy(&self, name: String, document: &Value, notes: &mut Vec<String>) -> NamedPolicy {
        let text = match document {
            Value::String(text) => self.resolve(text),
            other => self.resolve(&other.to_string()),
        };
        match Policy::parse_sharing(&text, self.texts) {
            Ok(policy) => NamedPolicy {
                name,
                policy: Arc::new(policy),
            },
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
pub(crate) fn unknown_policy(name: String) -> NamedPolicy {
    let statement = |effect: &str| json!({"Effect": effect, "Principal": "*", "Action": "*", "Resource": "${unmodelled}"});
    let document = json!({"Version": "2012-10-17", "Statement": [statement("Allow"), statement("Deny")]});
    NamedPolicy {
        name,
        policy: Arc::new(
            Policy::from_value(&document).unwrap_or_else(|_| unreachable!("a fixed valid policy")),
        ),
    }
}

/// Every stack's Lambda permission statements by the function name or ARN they name, each with
/// its place among all permissions (so a function's policy lists them in stack order).
type PermissionsByTarget = BTreeMap<String, Vec<(usize, Result<Statement, String>)>>;

/// A function's resource policy, as Lambda builds it from the `aws_lambda_permission`s that name
/// it (by name or ARN), in any stack: a tenant stack may grant a central function.
fn function_policy(
    function: &FleetResource,
    name: Option<&str>,
    permissions: &PermissionsByTarget,
    texts: &Texts,
    notes: &mut Vec<String>,
) -> Option<NamedPolicy> {
    let arn = &function.resource.arn;
    let mut granted: Vec<&(usize, Result<Statement, String>)> = name
        .filter(|name| *name != arn)
        .and_then(|name| permissions.get(name))
        .into_iter()
        .chain(permissions.get(arn))
        .flatten()
        .collect();
    granted.sort_by_key(|(place, _)| *place);
    if granted.is_empty() {
        return None;
    }
    let label = format!("{} (permissions)", function.id);
    match granted
        .into_iter()
        .map(|(_, statement)| statement.clone())
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(statements) => Some(NamedPolicy {
            name: label,
            policy: Arc::new(Policy::of_statements_on(statements, arn, texts)),
        }),
        Err(error) => {
            notes.push(format!("{}: permissions not modelled ({error})", function.id));
            Some(unknown_policy(function.id.clone()))
        }
    }
}

impl Fleet {
    /// Builds the model of composed stacks, with no declared intents.
    pub fn from_stacks(stacks: &[StackInput<'_>], options: &FleetOptions) -> Fleet {
        Fleet::from_models(
            stacks
                .iter()
                .map(|stack| StackModel::extract(*stack, Vec::new(), &Texts::default()))
                .collect(),
            options,
        )
    }

    /// Joins the models of every stack: attached policies are looked up by ARN across stacks
    /// (then in the vendored AWS managed subset), and each function's resource policy gathers the
    /// permissions of every stack. The models' intents are not part of the fleet: take them first
    /// ([`StackModel::take_intents`]) to judge them against it.
    pub fn from_models(mut models: Vec<StackModel>, options: &FleetOptions) -> Fleet {
        let mut fleet = Fleet::default();
        let mut customer_policies: BTreeMap<String, NamedPolicy> = BTreeMap::new();
        // Each statement keeps its place among all permissions, so a function's policy lists
        // them in stack order whichever way they name it. Policies and statements are moved out
        // of the models, not copied: at 10,000 tenants the copies were 70 MB more at the peak.
        let mut permissions = PermissionsByTarget::new();
        // The functions' policies repeat their permissions' actions, principals and keys.
        let texts = Texts::default();
        let mut place = 0;
        for model in &mut models {
            customer_policies.extend(std::mem::take(&mut model.customer_policies));
            for permission in std::mem::take(&mut model.permissions) {
                place += 1;
                permissions
                    .entry(permission.target)
                    .or_default()
                    .push((place, permission.statement));
            }
        }
        let managed: BTreeMap<&str, NamedPolicy> = MANAGED_POLICIES
            .iter()
            .map(|(arn, text)| {
                let policy = Policy::parse(text).unwrap_or_else(|_| unreachable!("vendored policies parse"));
                (
                    *arn,
                    NamedPolicy {
                        name: (*arn).to_owned(),
                        policy: Arc::new(policy),
                    },
                )
            })
            .collect();
        // At their final size from the start: grown by doubling, the two lists held up to twice
        // what they needed while the fleet was joined (4.7 MB at 1,000 tenants).
        fleet
            .principals
            .reserve_exact(models.iter().map(|m| m.roles.len()).sum::<usize>() + 3);
        fleet.resources.reserve_exact(
            models
                .iter()
                .map(|m| m.resources.len() + m.roles.iter().filter(|r| r.trust.is_some()).count())
                .sum(),
        );
        for model in models {
            let mut notes = model.notes;
            let mut lookup = |reference: &PolicyRef, by: &str| -> NamedPolicy {
                match reference {
                    PolicyRef::Arn(arn) => customer_policies
                        .get(arn)
                        .or_else(|| managed.get(arn.as_str()))
                        .cloned()
                        .unwrap_or_else(|| missing_policy(arn, by, &mut notes)),
                    PolicyRef::Unresolved(label) => unknown_policy(label.clone()),
                }
            };
            for role in model.roles {
                let mut identity: Vec<NamedPolicy> = role.inline;
                identity.extend(role.attached.iter().map(|reference| lookup(reference, &role.id)));
                let boundary = role
                    .boundary
                    .as_ref()
                    .map(|reference| lookup(reference, &role.id));
                if let Some(trust) = role.trust {
                    fleet.resources.push(FleetResource {
                        id: role.id.clone(),
                        stack: model.name.clone(),
                        tenant: model.tenant.clone(),
                        kind: ResourceKind::Role,
                        resource: Resource {
                            arn: role.arn.clone(),
                            account: ACCOUNT.to_owned(),
                            tags: role.tags.clone(),
                            policy: Some(trust),
                        },
                    });
                }
                fleet.principals.push(FleetPrincipal {
                    id: role.id,
                    stack: Some(model.name.clone()),
                    tenant: role.tenant,
                    principal: Principal::Role(Arc::new(Role {
                        arn: role.arn,
                        tags: role.tags,
                        identity_policies: identity,
                        boundary,
                        ..Role::default()
                    })),
                    endpoints: role.endpoints,
                });
            }
            for ResourceModel {
                mut resource,
                function_name,
            } in model.resources
            {
                if resource.kind == ResourceKind::Function {
                    resource.resource.policy = function_policy(
                        &resource,
                        function_name.as_deref(),
                        &permissions,
                        &texts,
                        &mut notes,
                    );
                }
                fleet.resources.push(resource);
            }
            fleet.provisioner_arns.extend(model.provisioner_arns);
            fleet.notes.extend(notes);
        }
        let admin: Vec<NamedPolicy> = managed
            .get("arn:aws:iam::aws:policy/AdministratorAccess")
            .cloned()
            .into_iter()
            .collect();
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
                principal: Principal::Role(Arc::new(Role {
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
        fleet.index = Index::of(&fleet);
        fleet
    }

    /// The principal with this id.
    pub fn principal(&self, id: &str) -> Option<&FleetPrincipal> {
        self.index
            .principal_with_id(&self.principals, id)
            .map(|position| &self.principals[position])
    }

    /// The provisioning job: the role a CodeBuild project of the fleet runs as.
    pub fn provisioner(&self) -> Option<&FleetPrincipal> {
        self.provisioner_arns
            .iter()
            .find_map(|arn| self.principal_by_arn(arn))
    }

    /// The role principal with this ARN.
    pub fn principal_by_arn(&self, arn: &str) -> Option<&FleetPrincipal> {
        self.index
            .principal_with_arn(&self.principals, arn)
            .map(|position| &self.principals[position])
    }

    /// The resource an ARN belongs to: equal to its ARN or below it (`bucket/key`,
    /// `log-group:x:log-stream:y`, `table/t/index/i`); the nearest, if resources nest.
    pub fn resource_for(&self, arn: &str) -> Option<&FleetResource> {
        self.position_for(arn).map(|position| &self.resources[position])
    }

    /// The position of [`resource_for`](Fleet::resource_for)'s resource.
    fn position_for(&self, arn: &str) -> Option<usize> {
        let above: Vec<&str> = arn
            .char_indices()
            .filter(|(_, c)| matches!(c, '/' | ':'))
            .map(|(end, _)| &arn[..end])
            .collect();
        std::iter::once(arn)
            .chain(above.into_iter().rev())
            .find_map(|candidate| self.index.resource_with_arn(&self.resources, candidate))
    }

    /// The owner's resource policy for a request with `context`: only the statements whose
    /// `aws:SourceArn` may match the request's, when the policy is large and the source known.
    /// The others cannot apply, so the verdict and the statements reported are the same.
    fn policy_for_request(&self, position: usize, context: &[(Arc<str>, Arc<str>)]) -> Option<NamedPolicy> {
        let policy = self.resources[position].resource.policy.as_ref()?;
        let mut sources = context
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case("aws:SourceArn"))
            .map(|(_, value)| &**value);
        let (Some(index), Some(source), None) = (
            self.index.by_source.get(&position),
            sources.next(),
            sources.next(),
        ) else {
            return Some(policy.clone());
        };
        if crate::pattern::is_unresolved(source) {
            return Some(policy.clone());
        }
        let statements = index
            .select(source)
            .into_iter()
            .map(|position| policy.policy.statements[position].clone())
            .collect();
        Some(NamedPolicy {
            name: policy.name.clone(),
            policy: Arc::new(Policy {
                version: policy.policy.version.clone(),
                statements,
            }),
        })
    }

    /// Builds the request `principal` makes for `action` on `arn` (on the resource of the fleet
    /// it belongs to, if any), with `context` on top of the defaults: TLS, the caller's account
    /// for service principals, and caller-chosen keys left open for signed callers.
    pub fn request(
        &self,
        principal: &Principal,
        endpoints: &BTreeMap<String, NamedPolicy>,
        action: &str,
        arn: &str,
        context: &[(Arc<str>, Arc<str>)],
    ) -> Request {
        let resource = match self.position_for(arn) {
            Some(position) => {
                let owner = &self.resources[position].resource;
                Resource {
                    arn: arn.to_owned(),
                    account: owner.account.clone(),
                    tags: owner.tags.clone(),
                    policy: self.policy_for_request(position, context),
                }
            }
            None => Resource {
                arn: arn.to_owned(),
                account: crate::request::arn_account(arn).unwrap_or(ACCOUNT).to_owned(),
                ..Resource::default()
            },
        };
        let mut request_context = BTreeMap::new();
        request_context.insert("aws:SecureTransport".to_owned(), ContextValue::One("true".into()));
        if matches!(principal, Principal::Service(_)) {
            request_context.insert("aws:SourceAccount".to_owned(), ContextValue::One(ACCOUNT.into()));
        }
        for (key, value) in context {
            request_context.insert(key.to_string(), ContextValue::One(value.to_string()));
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
        context: &[(Arc<str>, Arc<str>)],
    ) -> Evaluation {
        evaluate(&self.request(&principal.principal, &principal.endpoints, action, arn, context))
    }

    /// Evaluates exactly the request described: keys `context` does not give are absent.
    pub fn evaluate_exact(
        &self,
        principal: &FleetPrincipal,
        action: &str,
        arn: &str,
        context: &[(Arc<str>, Arc<str>)],
    ) -> Evaluation {
        let mut request = self.request(&principal.principal, &principal.endpoints, action, arn, context);
        request.caller_chosen.clear();
        evaluate(&request)
    }

    /// Every (principal, resource, action) of the fleet with its evaluation: the access matrix.
    pub fn matrix(&self) -> Vec<MatrixEntry<'_>> {
        self.matrix_where(|_, _| true)
    }

    /// The access matrix over the principal and resource pairs `wanted` picks.
    pub fn matrix_where(
        &self,
        wanted: impl Fn(&FleetPrincipal, &FleetResource) -> bool,
    ) -> Vec<MatrixEntry<'_>> {
        let mut entries = Vec::new();
        for principal in &self.principals {
            for resource in self
                .resources
                .iter()
                .filter(|resource| wanted(principal, resource))
            {
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

/// How a resource policy's Allow statements may name principals, for finding who it can reach.
#[derive(Debug, Default)]
struct Grantees<'a> {
    /// Role ARNs named exactly.
    named: Vec<&'a str>,
    /// Names everyone (`*`), uses `NotPrincipal`, or names an unresolved expression, without a
    /// condition that narrows it: any principal may be reached, anonymous callers included.
    open: bool,
    /// Names everyone, but only under `StringEquals` on `aws:PrincipalTag/<key>`: only
    /// principals with that tag value may be reached, as `(lower-case key, value)`.
    tagged: Vec<(String, &'a str)>,
}

impl<'a> Grantees<'a> {
    fn of(policy: &'a NamedPolicy) -> Grantees<'a> {
        let mut grantees = Grantees::default();
        let statements = policy
            .policy
            .statements
            .iter()
            .filter(|s| s.effect == Effect::Allow);
        for statement in statements {
            let Some(principals) = &statement.principals else {
                continue;
            };
            let mut reaches_anyone = principals.negated;
            for entry in &principals.entries {
                match entry {
                    PrincipalEntry::Everyone => reaches_anyone = true,
                    PrincipalEntry::Aws(value) if crate::pattern::is_unresolved(value) => {
                        reaches_anyone = true
                    }
                    // An account (or its root) only delegates to identity policies, which the
                    // identity side of the search covers.
                    PrincipalEntry::Aws(value) if value.len() == 12 || value.ends_with(":root") => {}
                    PrincipalEntry::Aws(value) => grantees.named.push(value),
                    PrincipalEntry::Service(_) | PrincipalEntry::Other(_) => {}
                }
            }
            if !reaches_anyone {
                continue;
            }
            match required_principal_tag(statement) {
                Some((key, values)) => grantees
                    .tagged
                    .extend(values.iter().map(|value| (key.clone(), &**value))),
                None => grantees.open = true,
            }
        }
        grantees
    }
}

/// The principal tag a statement requires, when one of its conditions is a plain `StringEquals`
/// on `aws:PrincipalTag/<key>` with literal values: a request whose principal lacks the tag or
/// carries another value fails it
/// ([condition operators](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String)).
/// Condition key names are case-insensitive, so the key is lower-cased.
fn required_principal_tag(statement: &Statement) -> Option<(String, &[Arc<str>])> {
    statement.conditions.iter().find_map(|condition| {
        let key = condition.key.to_ascii_lowercase();
        let tag = key.strip_prefix("aws:principaltag/")?;
        let literal = condition.values.iter().all(|value| !value.contains("${"));
        (&*condition.operator == "StringEquals" && literal && !condition.values.is_empty())
            .then(|| (tag.to_owned(), &*condition.values))
    })
}

impl Fleet {
    /// The cells of the access matrix that break the fleet invariant (see
    /// [`MatrixEntry::violates_isolation`]), found without evaluating every principal against
    /// every resource. A request is allowed only if some Allow statement applies
    /// ([policy evaluation logic](https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)),
    /// so a tenant-bound role is evaluated only on the resources an Allow statement of its
    /// identity policies may name (by the literal start of its `Resource` patterns) and on those
    /// whose resource policy may name it (by ARN, or anyone with a principal tag it carries, or
    /// anyone at all); anonymous callers only on resources whose policy may name anyone without
    /// requiring a principal tag. Every other cell is denied: no Allow can apply. A test checks the result
    /// against the full [`matrix`](Fleet::matrix).
    pub fn isolation_violations(&self) -> Vec<MatrixEntry<'_>> {
        let search = self.isolation_search();
        self.principals
            .iter()
            .flat_map(|principal| search.violations_of(principal))
            .collect()
    }

    /// The index [`isolation_violations`](Fleet::isolation_violations) searches with, for callers
    /// that spread the principals over threads.
    pub fn isolation_search(&self) -> IsolationSearch<'_> {
        let mut search = IsolationSearch {
            fleet: self,
            open: Vec::new(),
            granted_to: BTreeMap::new(),
            granted_to_tag: BTreeMap::new(),
        };
        for (position, resource) in self.resources.iter().enumerate() {
            let Some(policy) = &resource.resource.policy else {
                continue;
            };
            let grantees = Grantees::of(policy);
            if grantees.open {
                search.open.push(position);
            }
            for arn in grantees.named {
                search.granted_to.entry(arn).or_default().push(position);
            }
            for tag in grantees.tagged {
                search.granted_to_tag.entry(tag).or_default().push(position);
            }
        }
        search
    }

    /// The resources of the kinds an Allow statement of the role's identity policies may act on
    /// that its `Resource` patterns may name ([`Index::named_by`]). `NotResource`, or a pattern
    /// with a wildcard service, reaches every resource of those kinds.
    fn identity_reach(&self, role: &Role) -> Vec<usize> {
        let mut reach = Vec::new();
        let allows = role
            .identity_policies
            .iter()
            .flat_map(|policy| &policy.policy.statements)
            .filter(|statement| statement.effect == Effect::Allow);
        for statement in allows {
            // A statement whose actions match no data action of a kind cannot allow one on it:
            // `ec2:CreateNetworkInterface` on `*` reaches no bucket.
            let kinds: Vec<ResourceKind> = ResourceKind::ALL
                .into_iter()
                .filter(|kind| may_match_data_action(statement, *kind))
                .collect();
            if kinds.is_empty() {
                continue;
            }
            let of_kind = |position: &usize| kinds.contains(&self.resources[*position].kind);
            // `None`: `NotResource`, or a pattern that may name anything.
            let named: Option<Vec<usize>> = match &statement.resources {
                Some(resources) if !resources.negated => resources
                    .values
                    .iter()
                    .map(|pattern| self.index.named_by(&self.resources, pattern))
                    .collect::<Option<Vec<_>>>()
                    .map(|named| named.concat()),
                _ => None,
            };
            match named {
                Some(positions) => reach.extend(positions.into_iter().filter(of_kind)),
                None => reach.extend((0..self.resources.len()).filter(of_kind)),
            }
        }
        reach
    }
}

/// Whether a statement's `Action` (or `NotAction`) may match a data action of `kind`.
fn may_match_data_action(statement: &Statement, kind: ResourceKind) -> bool {
    if statement.actions.negated {
        return true;
    }
    kind.data_actions("").iter().any(|(action, _)| {
        statement.actions.values.iter().any(|pattern| {
            crate::pattern::compile(pattern, None, true)
                .matches(action, true)
                .possible()
        })
    })
}

/// Which resources each principal may reach through resource policies, for the isolation search.
#[derive(Debug)]
pub struct IsolationSearch<'a> {
    fleet: &'a Fleet,
    /// Resources whose policy may admit anyone.
    open: Vec<usize>,
    /// Resources whose policy names a role ARN, by that ARN.
    granted_to: BTreeMap<&'a str, Vec<usize>>,
    /// Resources whose policy admits anyone with a principal tag, by `(lower-case key, value)`.
    granted_to_tag: BTreeMap<(String, &'a str), Vec<usize>>,
}

impl<'a> IsolationSearch<'a> {
    /// The cells of `principal`'s row of the matrix that break the fleet invariant.
    pub fn violations_of(&self, principal: &'a FleetPrincipal) -> Vec<MatrixEntry<'a>> {
        let fleet = self.fleet;
        let candidates: Vec<usize> = match &principal.principal {
            Principal::Anonymous => self.open.clone(),
            Principal::Role(role) if principal.tenant.is_some() => {
                let mut candidates = fleet.identity_reach(role);
                candidates.extend(&self.open);
                candidates.extend(self.granted_to.get(role.arn.as_str()).into_iter().flatten());
                for (key, value) in role.principal_tags() {
                    let tag = (key.to_ascii_lowercase(), value);
                    candidates.extend(self.granted_to_tag.get(&tag).into_iter().flatten());
                }
                candidates.sort_unstable();
                candidates.dedup();
                candidates
            }
            // Only tenant-bound and anonymous principals are bound by the invariant.
            Principal::Role(_) | Principal::Service(_) => return Vec::new(),
        };
        let mut entries = Vec::new();
        // Only a verdict that is not a certain deny matters, and only on a cell the invariant
        // binds: a tenant's own resources are never evaluated.
        let bound = candidates
            .into_iter()
            .map(|position| &fleet.resources[position])
            .filter(|resource| MatrixEntry::binds(principal, resource));
        for resource in bound {
            for (action, arn) in resource.kind.data_actions(&resource.resource.arn) {
                let entry = MatrixEntry {
                    principal,
                    resource,
                    action,
                    evaluation: fleet.evaluate(principal, action, &arn, &[]),
                    arn,
                };
                if entry.violates_isolation() {
                    entries.push(entry);
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
        Self::binds(self.principal, self.resource) && !self.evaluation.verdict.is_denied()
    }

    /// Whether the invariant binds `principal` on `resource` at all: an anonymous caller on
    /// anything, a tenant-bound principal on another tenant's data.
    fn binds(principal: &FleetPrincipal, resource: &FleetResource) -> bool {
        if matches!(principal.principal, Principal::Anonymous) {
            return true;
        }
        match (&principal.tenant, &resource.tenant) {
            (Some(own), Some(other)) => own != other && resource.kind.holds_data(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A resource's tags are the provider's default tags overridden by its own, resolved, with
    /// every text shared: equal tags on two resources are one copy.
    #[test]
    fn resource_tags_override_the_default_tags_and_share_their_texts() {
        let document = serde_json::json!({
            "provider": {"aws": [{"default_tags": [{"tags": {"TenantId": "acme", "Environment": "dev"}}]}]},
            "resource": {"aws_sqs_queue": {"q": {"name": "tenant-acme-q"}}}
        });
        let texts = Texts::default();
        let view = StackView::new(
            StackInput {
                name: "tenant-acme",
                tenant: Some("acme"),
                document: &document,
            },
            &texts,
        );
        let first = view
            .tags(&serde_json::json!({"tags": {"Environment": "prod", "Name": "${aws_sqs_queue.q.name}"}}));
        let second = view.tags(&serde_json::json!({"tags": {"Name": "tenant-acme-q"}}));
        assert_eq!(
            first.iter().collect::<Vec<_>>(),
            [
                ("Environment", "prod"),
                ("Name", "tenant-acme-q"),
                ("TenantId", "acme")
            ]
        );
        assert_eq!((first.get("TenantId"), first.get("Owner")), (Some("acme"), None));
        assert_eq!(second.get("Environment"), Some("dev"));
        let name = |tags: &Tags| tags.get("Name").expect("named").as_ptr();
        assert_eq!(name(&first), name(&second));
    }

    /// Exact lookups find the first position with the text, among equal texts and among texts
    /// whose hashes are equal (forced here by giving other texts the hash of `b`).
    #[test]
    fn exact_lookups_find_the_first_position_with_the_text() {
        let texts = ["b", "a", "b", "c"];
        let mut hashed: Vec<(u64, usize)> =
            texts.iter().enumerate().map(|(p, t)| (text_hash(t), p)).collect();
        hashed.sort_unstable();
        let text = |p: usize| texts[p];
        assert_eq!(first_with(&hashed, "b", text), Some(0));
        assert_eq!(first_with(&hashed, "c", text), Some(3));
        assert_eq!(first_with(&hashed, "d", text), None);
        // Positions 1 ("a") and 3 ("c") share the hash of "b" here: they are passed over.
        let colliding = [(text_hash("b"), 1), (text_hash("b"), 2), (text_hash("b"), 3)];
        assert_eq!(first_with(&colliding, "b", text), Some(2));
        assert_eq!(first_with(&colliding[..1], "b", text), None);
    }
}
