//! The host's own guardrails: the isolation guarantees that must hold whatever plugins are
//! loaded, checked over the composed stacks with what only the host knows — the whole fleet, the
//! provider schema and the account's quotas.
//!
//! Plugins check what they emit (and may check more); these rules are the floor that a
//! third-party plugin set cannot lower. They are deliberately few: a rule lives here when the
//! host alone can judge it (another tenant's names and blocks are invisible to a tenant stack's
//! plugins; taggability comes from the provider schema; quotas from the configuration), or when
//! it is the fleet's contract (names, tags) rather than a plugin's design choice. Findings are
//! blamed on the plugin that emitted the offending block.

use crate::compose::ComposedStack;
use crate::config::Quotas;
use crate::findings::{
    CIDR_OVERLAP, FOREIGN_TENANT, Finding, HostRule, NAMING, QUOTA_GATEWAY_ENDPOINTS,
    QUOTA_LAMBDA_CONCURRENCY, QUOTA_VPCS, TAGS,
};
use crate::schema::{BlockKind, ProviderSchema};
use crate::tenants::{Fleet, Tenant};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashSet};
use tenant_plugin_sdk::cidr::{BlockMap, Ipv4Block};

/// The per-stack guardrails over one composed stack.
pub fn check_stack(stack: &ComposedStack, lookup: &FleetLookup<'_>, schema: &ProviderSchema) -> Vec<Finding> {
    let fleet = lookup.fleet;
    let mut findings = tags(stack, fleet, schema);
    if let Some(tenant) = &stack.tenant {
        findings.extend(naming(stack, tenant, fleet, schema));
        findings.extend(foreign_tenant(stack, tenant, lookup));
        findings.extend(policy_evasions(stack, tenant, fleet));
    }
    findings
}

/// What the per-stack guardrails look up in the whole fleet, indexed once per run, so that
/// checking one stack takes time independent of the fleet's size (checking every stack against
/// every tenant made 10,000 tenants quadratic).
#[derive(Debug)]
pub struct FleetLookup<'a> {
    /// The fleet.
    pub fleet: &'a Fleet,
    ids: TenantIds<'a>,
    /// Each block's tenants (one, unless blocks are configured twice), with their place in the
    /// configuration.
    by_block: BlockMap<(usize, &'a Tenant)>,
}

impl<'a> FleetLookup<'a> {
    /// Indexes `fleet`'s tenant ids and blocks.
    pub fn new(fleet: &'a Fleet) -> Self {
        let mut by_block = BlockMap::default();
        for (place, tenant) in fleet.tenants.iter().enumerate() {
            by_block.insert(tenant.cidr_block, (place, tenant));
        }
        Self {
            fleet,
            ids: TenantIds::new(fleet.tenants.iter().map(|t| t.id.as_str())),
            by_block,
        }
    }

    /// The tenants whose block contains `block`, in configuration order.
    fn tenants_containing(&self, block: &Ipv4Block) -> Vec<&'a Tenant> {
        let mut found: Vec<(usize, &Tenant)> =
            self.by_block.containing(block).map(|(_, found)| *found).collect();
        found.sort_by_key(|(place, _)| *place);
        found.into_iter().map(|(_, tenant)| tenant).collect()
    }
}

/// What the fleet guardrails need of one stack, taken once when it is composed, so that the
/// fleet is judged without keeping any stack's document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FleetFacts {
    /// The stack.
    stack: String,
    /// Whether it is a tenant stack.
    tenant: bool,
    /// Every VPC block: the block's address, the block, and the plugin that emitted it.
    networks: Vec<(String, Ipv4Block, String)>,
    /// What it uses of each quota the preflight checks, in the order of [`QUOTAS`].
    quota_use: [u64; 3],
}

impl FleetFacts {
    /// The facts of one composed stack.
    pub fn of(stack: &ComposedStack) -> FleetFacts {
        let networks = resources(&stack.document)
            .filter_map(|(type_name, name, body)| {
                if !matches!(type_name, "aws_vpc" | "aws_vpc_ipv4_cidr_block_association") {
                    return None;
                }
                let block = body.get("cidr_block")?.as_str()?.parse().ok()?;
                let address = format!("{type_name}.{name}");
                let plugin = stack
                    .origins
                    .get(&address)
                    .map_or("host", String::as_str)
                    .to_owned();
                Some((address, block, plugin))
            })
            .collect();
        FleetFacts {
            stack: stack.name.clone(),
            tenant: stack.tenant.is_some(),
            networks,
            quota_use: QUOTAS.map(|quota| (quota.measure)(&stack.document)),
        }
    }
}

/// The fleet guardrails over the facts of every stack.
pub fn check_fleet(facts: &[FleetFacts], fleet: &Fleet) -> Vec<Finding> {
    let mut findings = cidr_overlap(facts);
    findings.extend(quotas(facts, fleet));
    findings
}

/// A finding of `rule`, with the rule's severity, blamed on whoever emitted `address`.
fn finding(
    rule: &HostRule,
    stack: Option<&ComposedStack>,
    address: &str,
    message: String,
    remediation: String,
) -> Finding {
    let plugin = stack
        .and_then(|s| s.origins.get(address))
        .map_or_else(|| "host".to_owned(), Clone::clone);
    Finding::of_rule(
        rule,
        stack.map(|s| s.name.clone()),
        address,
        plugin,
        message,
        remediation,
    )
}

/// Every managed resource of a document: `(type, name, body)`.
pub(crate) fn resources(document: &Value) -> impl Iterator<Item = (&str, &str, &Value)> {
    document
        .get("resource")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .flat_map(|(type_name, blocks)| {
            blocks
                .as_object()
                .into_iter()
                .flatten()
                .map(move |(name, body)| (type_name.as_str(), name.as_str(), body))
        })
}

/// A JSON value that is an object, or an array whose first element is one (Terraform JSON
/// writes blocks either way).
fn first_object(value: &Value) -> Option<&Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        Value::Array(items) => items.first().and_then(Value::as_object),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Tags

/// The tags a resource of this stack must carry, with their values.
fn required_tags<'a>(fleet: &'a Fleet, tenant: Option<&'a Tenant>) -> Vec<(&'static str, &'a str)> {
    let mut tags = vec![("Environment", fleet.suffix.as_str()), ("ManagedBy", "CDKTF")];
    if let Some(tenant) = tenant {
        tags.push(("TenantId", tenant.id.as_str()));
    }
    tags
}

/// The `default_tags` of the AWS provider configuration a resource uses: the one whose alias
/// its `provider` names (`aws.<alias>`), or the one without alias.
fn default_tags<'a>(document: &'a Value, body: &Value) -> Option<&'a Map<String, Value>> {
    let alias = body
        .get("provider")
        .and_then(Value::as_str)
        .and_then(|p| p.strip_prefix("aws."));
    let configs: Vec<&Map<String, Value>> = match document.get("provider")?.get("aws")? {
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        Value::Object(map) => vec![map],
        _ => return None,
    };
    let config = configs
        .into_iter()
        .find(|c| c.get("alias").and_then(Value::as_str) == alias)?;
    first_object(config.get("default_tags")?)?
        .get("tags")
        .and_then(Value::as_object)
}

/// Whether resources of this type carry tags: what the schema says, and yes for a type the schema
/// does not know. An unknown type is `host.schema-valid`'s finding; should that be waived, the
/// tag and naming rules still judge the resource (provider default tags make a compliant one
/// pass).
fn taggable(schema: &ProviderSchema, type_name: &str) -> bool {
    !schema.has_resource(type_name) || schema.has_attribute(BlockKind::Resource, type_name, "tags")
}

fn tags(stack: &ComposedStack, fleet: &Fleet, schema: &ProviderSchema) -> Vec<Finding> {
    let required = required_tags(fleet, stack.tenant.as_ref());
    let mut findings = Vec::new();
    for (type_name, name, body) in resources(&stack.document) {
        if !taggable(schema, type_name) {
            continue;
        }
        let address = format!("{type_name}.{name}");
        let mut effective = default_tags(&stack.document, body).cloned().unwrap_or_default();
        match body.get("tags") {
            None | Some(Value::Null) => {}
            Some(Value::Object(own)) => effective.extend(own.clone()),
            Some(other) => {
                findings.push(finding(
                    &TAGS,
                    Some(stack),
                    &address,
                    format!("`tags` is {other}, not a literal map, so its tag values cannot be verified"),
                    "Write `tags` as a literal map, or leave it out and rely on the provider's default tags."
                        .into(),
                ));
                continue;
            }
        }
        let problems: Vec<String> = required
            .iter()
            .filter_map(|(key, expected)| match effective.get(*key) {
                Some(Value::String(value)) if value == expected => None,
                Some(value) => Some(format!("`{key}` is {value}, not \"{expected}\"")),
                None => Some(format!("`{key}` is missing (expected \"{expected}\")")),
            })
            .collect();
        if !problems.is_empty() {
            findings.push(finding(
                &TAGS,
                Some(stack),
                &address,
                format!("is taggable but its tags are wrong: {}", problems.join("; ")),
                format!(
                    "Do not override the provider's default tags; the resource must carry {}.",
                    required
                        .iter()
                        .map(|(k, v)| format!("{k} = \"{v}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    findings
}

// ---------------------------------------------------------------------------------------------
// Naming

/// The attributes that carry a resource's own name.
const NAME_ATTRIBUTES: [&str; 3] = ["name", "bucket", "function_name"];

/// Whether `name` is `tenant-{id}-{type}-{suffix}` with a non-empty `[a-z0-9-]` type.
fn follows_convention(name: &str, tenant_id: &str, suffix: &str) -> bool {
    name.strip_prefix(&format!("tenant-{tenant_id}-"))
        .and_then(|rest| rest.strip_suffix(&format!("-{suffix}")))
        .is_some_and(|kind| {
            !kind.is_empty()
                && !kind.starts_with('-')
                && !kind.ends_with('-')
                && kind
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn naming(stack: &ComposedStack, tenant: &Tenant, fleet: &Fleet, schema: &ProviderSchema) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (type_name, name, body) in resources(&stack.document) {
        if !taggable(schema, type_name) {
            continue;
        }
        let tag_name = body.get("tags").and_then(|t| t.get("Name"));
        let names = NAME_ATTRIBUTES
            .iter()
            .map(|attribute| (format!("`{attribute}`"), body.get(*attribute)))
            .chain([("tag `Name`".to_owned(), tag_name)]);
        let problems: Vec<String> = names
            .filter_map(|(what, value)| Some((what, value?.as_str()?)))
            .filter(|(_, value)| {
                !value.contains("${") && !follows_convention(value, &tenant.id, &fleet.suffix)
            })
            .map(|(what, value)| format!("{what} is \"{value}\""))
            .collect();
        if !problems.is_empty() {
            findings.push(finding(
                &NAMING,
                Some(stack),
                &format!("{type_name}.{name}"),
                format!(
                    "{}, which does not follow tenant-{{id}}-{{type}}-{{suffix}}",
                    problems.join(" and ")
                ),
                format!(
                    "Name it tenant-{}-<type>-{}, where <type> says what the resource is (e.g. `data`, `api-logs`).",
                    tenant.id, fleet.suffix
                ),
            ));
        }
    }
    findings
}

// ---------------------------------------------------------------------------------------------
// Foreign tenants

/// Visits every string in `value` with the key of the object that holds it (or holds the array
/// that holds it), descending into strings that hold JSON documents (`jsonencode`d policies).
fn visit_strings(value: &Value, key: Option<&str>, visit: &mut impl FnMut(Option<&str>, &str)) {
    match value {
        // Only a string that starts like a JSON document is parsed as one.
        Value::String(text) => match text.trim_start().starts_with(['{', '[']) {
            true => match serde_json::from_str::<Value>(text) {
                Ok(inner) => visit_strings(&inner, key, visit),
                Err(_) => visit(key, text),
            },
            false => visit(key, text),
        },
        Value::Array(items) => items.iter().for_each(|item| visit_strings(item, key, visit)),
        Value::Object(fields) => fields
            .iter()
            .for_each(|(k, v)| visit_strings(v, Some(k.as_str()), visit)),
        _ => {}
    }
}

/// Whether `text` ends with `suffix` (lower-case ASCII), whatever the case of `text`: keys such
/// as IAM condition keys are case-insensitive.
fn ends_with_ignoring_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len()
        && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// The fleet's tenant ids, with the length of the longest.
#[derive(Debug)]
struct TenantIds<'a> {
    ids: HashSet<&'a str>,
    longest: usize,
}

impl<'a> TenantIds<'a> {
    fn new(ids: impl IntoIterator<Item = &'a str>) -> Self {
        let ids: HashSet<&str> = ids.into_iter().collect();
        let longest = ids.iter().map(|id| id.len()).max().unwrap_or(0);
        Self { ids, longest }
    }
}

/// The tenants of the fleet a `tenant-…` word in `text` names. Where ids are prefixes of one
/// another (`acme`, `acme-corp`), the longest id that fits is the one named.
///
/// Linear in `text`: an id ends at a hyphen or where the word ends, and no id is longer than the
/// fleet's longest, so each mention is looked at only that far.
fn named_tenants<'a>(text: &str, ids: &TenantIds<'a>) -> Vec<&'a str> {
    const MARKER: &str = "tenant-";
    let is_word_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let is_id_byte = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-';
    text.match_indices(MARKER)
        .filter(|(start, _)| !text[..*start].ends_with(is_word_char))
        .filter_map(|(start, _)| {
            let rest = &text[start + MARKER.len()..];
            // The id and the byte after it, at most.
            let window = &rest.as_bytes()[..rest.len().min(ids.longest + 1)];
            let word_end = window.iter().position(|b| !is_id_byte(b));
            let word_len = word_end.unwrap_or(window.len());
            // A word cut off by the window goes on beyond every id, so it is no id itself.
            let whole_word = word_end.is_some() || window.len() == rest.len();
            (0..=word_len)
                .rev()
                .filter(|&end| match window.get(end) {
                    _ if end == word_len => whole_word,
                    Some(b'-') => true,
                    _ => false,
                })
                // Every candidate end lies in the ASCII word, so slicing there is safe.
                .find_map(|end| ids.ids.get(&rest[..end]).copied())
        })
        .collect()
}

fn foreign_tenant(stack: &ComposedStack, tenant: &Tenant, lookup: &FleetLookup<'_>) -> Vec<Finding> {
    let ids = &lookup.ids;
    // Each place as its address's parts: the address is written only for a finding.
    let mut places: Vec<([&str; 3], &Value)> = Vec::new();
    for (section, value) in stack.document.as_object().into_iter().flatten() {
        match section.as_str() {
            "resource" | "data" => {
                let prefix = if section == "data" { "data." } else { "" };
                for (type_name, blocks) in value.as_object().into_iter().flatten() {
                    for (name, body) in blocks.as_object().into_iter().flatten() {
                        places.push(([prefix, type_name, name], body));
                    }
                }
            }
            "output" => places.extend(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, body)| (["output", "", name], body)),
            ),
            _ => places.push(([section, "", ""], value)),
        }
    }
    let mut findings = Vec::new();
    for ([prefix, type_name, name], body) in places {
        let mut mentions = BTreeSet::new();
        visit_strings(body, None, &mut |key, text| {
            for id in named_tenants(text, ids).into_iter().filter(|id| *id != tenant.id) {
                mentions.insert(format!("\"{text}\" names tenant `{id}`"));
            }
            // IAM condition keys are case-insensitive; a pattern value admits whoever matches it.
            if let Some(key) = key.filter(|k| ends_with_ignoring_case(k, "tenantid")) {
                if text != tenant.id && ids.ids.contains(text) {
                    mentions.insert(format!("{key} is tenant `{text}`"));
                } else if text.contains(['*', '?']) {
                    mentions.insert(format!("{key} matches any tenant with the pattern `{text}`"));
                }
            }
            // Only a text that starts with a digit can be a block: most are names and ARNs.
            let block = text
                .starts_with(|c: char| c.is_ascii_digit())
                .then(|| text.parse::<Ipv4Block>());
            if let Some(Ok(block)) = block {
                let containing = lookup.tenants_containing(&block);
                for other in containing.iter().filter(|o| o.id != tenant.id) {
                    mentions.insert(format!(
                        "{block} lies in the block {} of tenant `{}`",
                        other.cidr_block, other.id
                    ));
                }
            }
        });
        if !mentions.is_empty() {
            let address = match (prefix, type_name, name) {
                (section, "", "") => section.to_owned(),
                ("output", "", name) => format!("output.{name}"),
                (prefix, type_name, name) => format!("{prefix}{type_name}.{name}"),
            };
            findings.push(finding(
                &FOREIGN_TENANT,
                Some(stack),
                &address,
                format!(
                    "the stack of tenant `{}` reaches another tenant: {}",
                    tenant.id,
                    mentions.into_iter().collect::<Vec<_>>().join("; ")
                ),
                format!(
                    "Refer only to tenant `{}`'s own resources, id and block {}; cross-tenant access must be impossible.",
                    tenant.id, tenant.cidr_block
                ),
            ));
        }
    }
    findings
}

// ---------------------------------------------------------------------------------------------
// Policies the foreign-tenant guardrail cannot read

/// Services whose resources hold or guard a tenant's data: an account-wide wildcard on them in a
/// tenant stack's policy reaches every tenant.
const DATA_SERVICES: &[&str] = &[
    "s3",
    "dynamodb",
    "logs",
    "kms",
    "sqs",
    "sns",
    "secretsmanager",
    "ssm",
    "lambda",
    "events",
    "states",
    "*",
];

/// Resource types whose policy's `"Resource": "*"` means the resource itself (a key policy).
const SELF_SCOPED_POLICIES: &[&str] = &["aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key"];

/// The name part of a literal data-service ARN (the bucket, table, log group, key, queue...),
/// or `None` for other ARNs. `"*"` alone is treated as an ARN of every service.
fn data_resource_name(resource: &str) -> Option<&str> {
    if resource == "*" {
        return Some("*");
    }
    let mut parts = resource.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service), Some(_region), Some(_account), Some(rest)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if !DATA_SERVICES.contains(&service) {
        return None;
    }
    let typed = |prefix: &str| rest.strip_prefix(prefix);
    let name = match service {
        "dynamodb" => typed("table/")?.split('/').next(),
        "logs" => typed("log-group:")?.split(':').next(),
        "kms" => rest.split_once('/').map(|(_, name)| name),
        "secretsmanager" => typed("secret:")?.split(':').next(),
        "ssm" => typed("parameter")?.split(':').next(),
        "lambda" => typed("function:")?.split(':').next(),
        "events" => rest.split_once('/').map(|(_, name)| name),
        "states" => typed("stateMachine:")?.split(':').next(),
        // s3 (`bucket/key`), sqs and sns (the name), `*`
        _ => rest.split('/').next(),
    };
    Some(name.unwrap_or(rest))
}

/// Why a wildcard resource name reaches beyond `tenant`, or `None` when it stays inside the
/// tenant's own names (`tenant-{id}-…*`, where no other tenant's names begin the same way).
fn wildcard_reach(name: &str, tenant: &Tenant, fleet: &Fleet) -> Option<String> {
    let first_wildcard = name.find(['*', '?'])?;
    let literal = &name[..first_wildcard];
    let own = format!("tenant-{}-", tenant.id);
    if !literal.starts_with(&own) {
        return Some("matches every tenant's resources".to_owned());
    }
    fleet
        .tenants
        .iter()
        .filter(|other| other.id != tenant.id)
        .find(|other| format!("tenant-{}-", other.id).starts_with(literal))
        .map(|other| format!("also matches the resources of tenant `{}`", other.id))
}

/// What a tenant stack's policy document does that the guardrail cannot verify: strings that
/// call Terraform functions (their value is only known at plan time) and, in `Allow`
/// statements, wildcards over data services that reach other tenants.
fn policy_problems(
    document: &Value,
    self_scoped: bool,
    tenant: &Tenant,
    fleet: &Fleet,
    problems: &mut BTreeSet<String>,
) {
    visit_strings(
        document,
        None,
        &mut |_, text| match crate::schema::called_functions(text) {
            Ok(functions) if !functions.is_empty() => {
                problems.insert(format!(
                    "\"{text}\" calls {}, which the guardrail cannot evaluate",
                    functions
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            // Malformed templates are host.references-resolve's findings.
            Ok(_) | Err(_) => {}
        },
    );
    let statements = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    for statement in statements {
        if statement.get("Effect").and_then(Value::as_str) == Some("Deny") {
            continue; // a Deny can only take access away
        }
        let resources = match statement.get("Resource") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let actions: Vec<&str> = match statement.get("Action") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let on_data = |action: &&str| {
            let service = action.split(':').next().unwrap_or_default();
            DATA_SERVICES.contains(&service)
        };
        for resource in resources {
            // `"*"` is every resource of the statement's services: a wildcard over data only
            // when an action is on a data service, and never in a key's own policy.
            if resource == "*" && (self_scoped || !actions.iter().any(on_data)) {
                continue;
            }
            if let Some(reach) =
                data_resource_name(resource).and_then(|name| wildcard_reach(name, tenant, fleet))
            {
                problems.insert(format!("`{resource}` {reach}"));
            }
        }
    }
}

/// `host.foreign-tenant` for what a name check cannot see: policy documents (attributes named
/// `…policy`, `policy_document`, and `aws_iam_policy_document` data sources) whose strings call
/// Terraform functions, or whose `Allow` statements grant on data services with a wildcard that
/// reaches other tenants (`arn:aws:s3:::*`, `arn:aws:dynamodb:*:*:table/*`, `"*"` with `s3:`
/// actions...).
fn policy_evasions(stack: &ComposedStack, tenant: &Tenant, fleet: &Fleet) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut report = |address: &dyn Fn() -> String, problems: BTreeSet<String>| {
        if problems.is_empty() {
            return;
        }
        findings.push(finding(
            &FOREIGN_TENANT,
            Some(stack),
            &address(),
            format!(
                "a policy of tenant `{}` cannot be shown to stay inside the tenant: {}",
                tenant.id,
                problems.into_iter().collect::<Vec<_>>().join("; ")
            ),
            format!(
                "Write policies as literal JSON naming tenant `{}`'s own resources (`${{aws_s3_bucket.x.arn}}/*`), without Terraform functions and without wildcards over other tenants' names.",
                tenant.id
            ),
        ));
    };
    for (type_name, name, body) in resources(&stack.document) {
        let mut problems = BTreeSet::new();
        let self_scoped = SELF_SCOPED_POLICIES.contains(&type_name);
        policy_attributes(body, &mut |text| match serde_json::from_str::<Value>(text) {
            Ok(document @ Value::Object(_)) => {
                policy_problems(&document, self_scoped, tenant, fleet, &mut problems)
            }
            _ => policy_problems(
                &Value::String(text.to_owned()),
                self_scoped,
                tenant,
                fleet,
                &mut problems,
            ),
        });
        report(&|| format!("{type_name}.{name}"), problems);
    }
    let documents = stack
        .document
        .get("data")
        .and_then(|d| d.get("aws_iam_policy_document"))
        .and_then(Value::as_object);
    for (name, body) in documents.into_iter().flatten() {
        let mut problems = BTreeSet::new();
        // The data source's HCL shape, read as the JSON statements it renders.
        let statements: Vec<Value> = match body.get("statement") {
            Some(Value::Array(items)) => items.clone(),
            Some(one @ Value::Object(_)) => vec![one.clone()],
            _ => Vec::new(),
        };
        let rendered: Vec<Value> = statements
            .iter()
            .map(|statement| {
                serde_json::json!({
                    "Effect": if statement.get("effect").and_then(Value::as_str) == Some("Deny") { "Deny" } else { "Allow" },
                    "Action": statement.get("actions").cloned().unwrap_or(Value::Null),
                    "Resource": statement.get("resources").cloned().unwrap_or(Value::Null),
                    // Everything as written, for the function check.
                    "Written": statement,
                })
            })
            .collect();
        policy_problems(
            &serde_json::json!({"Statement": rendered}),
            false,
            tenant,
            fleet,
            &mut problems,
        );
        report(&|| format!("data.aws_iam_policy_document.{name}"), problems);
    }
    findings
}

/// Calls `visit` with every string under a key naming a policy (`policy`, `assume_role_policy`,
/// `policy_document`, ...) at any depth of a body.
fn policy_attributes(value: &Value, visit: &mut impl FnMut(&str)) {
    match value {
        Value::Object(fields) => {
            for (key, item) in fields {
                match item {
                    Value::String(text)
                        if ends_with_ignoring_case(key, "policy")
                            || ends_with_ignoring_case(key, "policy_document") =>
                    {
                        visit(text)
                    }
                    _ => policy_attributes(item, visit),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| policy_attributes(item, visit)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Overlapping blocks

/// Every pair of VPC blocks of different stacks that overlap, blamed on the later one. Blocks are
/// swept in address order, so the cost grows with the fleet and the overlaps, not with the
/// fleet's square.
fn cidr_overlap(facts: &[FleetFacts]) -> Vec<Finding> {
    let blocks: Vec<(&FleetFacts, &(String, Ipv4Block, String))> = facts
        .iter()
        .flat_map(|stack| stack.networks.iter().map(move |network| (stack, network)))
        .collect();
    let span = |block: &Ipv4Block| {
        let start = u32::from(block.network());
        let size = 1_u64 << (32 - u32::from(block.prefix()));
        (u64::from(start), u64::from(start) + size - 1)
    };
    let mut by_start: Vec<usize> = (0..blocks.len()).collect();
    by_start.sort_by_key(|&index| (span(&blocks[index].1.1).0, index));
    let mut pairs = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for index in by_start {
        let (start, _) = span(&blocks[index].1.1);
        open.retain(|&earlier| span(&blocks[earlier].1.1).1 >= start);
        pairs.extend(
            open.iter()
                .map(|&earlier| (earlier.min(index), earlier.max(index))),
        );
        open.push(index);
    }
    pairs.sort_unstable();
    pairs
        .into_iter()
        .filter(|&(first, second)| blocks[first].0.stack != blocks[second].0.stack)
        .map(|(first, second)| {
            let (first_stack, (first_address, first, _)) = blocks[first];
            let (second_stack, (second_address, second, plugin)) = blocks[second];
            Finding::of_rule(
                &CIDR_OVERLAP,
                Some(second_stack.stack.clone()),
                second_address,
                plugin,
                format!(
                    "{second} overlaps {first} of {first_address} in stack `{}`, so the two networks cannot be told apart",
                    first_stack.stack
                ),
                "Give every VPC a block of its own: leave tenant blocks to the host's allocation from [addressing] pool, and keep other VPCs outside that pool.",
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Quotas

/// How much of a quota the central stack and the tenant stacks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Demand {
    central: u64,
    /// The most any one tenant stack uses.
    per_tenant: u64,
    total: u64,
}

impl Demand {
    fn measure(facts: &[FleetFacts], quota: usize) -> Self {
        let mut demand = Demand {
            central: 0,
            per_tenant: 0,
            total: 0,
        };
        for stack in facts {
            let used = stack.quota_use[quota];
            demand.total += used;
            if stack.tenant {
                demand.per_tenant = demand.per_tenant.max(used);
            } else {
                demand.central += used;
            }
        }
        demand
    }

    /// The smallest tenant count at which the demand exceeds `limit`.
    fn breaks_at(&self, limit: u64) -> Option<u64> {
        match limit.checked_sub(self.central) {
            None => Some(0),
            Some(_) if self.per_tenant == 0 => None,
            Some(room) => Some(room / self.per_tenant + 1),
        }
    }
}

/// One quota of the account, as the preflight checks it.
struct Quota {
    rule: &'static HostRule,
    /// The quota's name in Service Quotas, with its code.
    name: &'static str,
    /// What is counted, plural.
    unit: &'static str,
    /// The key in the configuration's `[quotas]`.
    config_key: &'static str,
    /// What the fleet may use, from the configured quotas.
    limit: fn(&Quotas) -> u64,
    /// What one stack uses.
    measure: fn(&Value) -> u64,
}

/// The quotas the preflight checks.
const QUOTAS: [Quota; 3] = [
    Quota {
        rule: &QUOTA_VPCS,
        name: "Amazon VPC `VPCs per Region` (L-F678F1CE)",
        unit: "VPCs",
        config_key: "vpcs-per-region",
        limit: |q| q.vpcs_per_region.into(),
        measure: count_vpcs,
    },
    Quota {
        rule: &QUOTA_GATEWAY_ENDPOINTS,
        name: "Amazon VPC `Gateway VPC endpoints per Region` (L-1B52E74A)",
        unit: "gateway endpoints",
        config_key: "gateway-endpoints-per-region",
        limit: |q| q.gateway_endpoints_per_region.into(),
        measure: count_gateway_endpoints,
    },
    Quota {
        rule: &QUOTA_LAMBDA_CONCURRENCY,
        name: "AWS Lambda `Concurrent executions` (L-B99A9384)",
        unit: "reserved concurrent executions",
        config_key: "lambda-concurrent-executions",
        limit: |q| {
            u64::from(q.lambda_concurrent_executions).saturating_sub(q.lambda_unreserved_minimum.into())
        },
        measure: reserved_concurrency,
    },
];

fn count_vpcs(document: &Value) -> u64 {
    resources(document).filter(|(t, _, _)| *t == "aws_vpc").count() as u64
}

fn count_gateway_endpoints(document: &Value) -> u64 {
    resources(document)
        .filter(|(t, _, body)| {
            *t == "aws_vpc_endpoint"
                && body
                    .get("vpc_endpoint_type")
                    .and_then(Value::as_str)
                    .is_none_or(|kind| kind == "Gateway")
        })
        .count() as u64
}

fn reserved_concurrency(document: &Value) -> u64 {
    resources(document)
        .filter(|(t, _, _)| *t == "aws_lambda_function")
        .filter_map(|(_, _, body)| body.get("reserved_concurrent_executions")?.as_u64())
        .sum()
}

fn quotas(facts: &[FleetFacts], fleet: &Fleet) -> Vec<Finding> {
    let tenants = fleet.tenants.len();
    QUOTAS
        .iter()
        .enumerate()
        .filter_map(|(index, quota)| {
            let limit = (quota.limit)(&fleet.quotas);
            let demand = Demand::measure(facts, index);
            if demand.total <= limit {
                return None;
            }
            let breaks = demand
                .breaks_at(limit)
                .map_or_else(String::new, |n| format!("; it breaks at {n} tenants"));
            Some(finding(
                quota.rule,
                None,
                // The configuration key to raise names what the finding is about.
                &format!("quotas.{}", quota.config_key),
                format!(
                    "the fleet of {tenants} tenants needs {} {} in {} ({} central, up to {} per tenant), but may use {}{breaks}",
                    demand.total, quota.unit, fleet.region, demand.central, demand.per_tenant, limit
                ),
                format!(
                    "Ask AWS to raise {} in {} (Service Quotas console) so that it covers {} {}, then set `{}` under [quotas] in the configuration to the new value.",
                    quota.name, fleet.region, demand.total, quota.unit, quota.config_key
                ),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Quotas, StateBackend};
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use tenant_plugin_sdk::naming::{central_stack_name, tenant_stack_name};
    use tenant_plugin_sdk::testing::assert_golden_json;

    /// `tests/fixtures/policy/`: one `<rule>.json` per guardrail holding a fleet that violates
    /// the rule and one that complies, and `<rule>.findings.json` with the rule's golden findings
    /// for each (refresh with `BLESS=1`).
    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/policy")
    }

    /// Builds the fleet and composed stacks a fixture case describes.
    fn load_case(case: &Value) -> (Fleet, Vec<ComposedStack>) {
        let suffix = case["suffix"].as_str().unwrap_or("dev").to_owned();
        let tenants: Vec<Tenant> = case["tenants"]
            .as_object()
            .expect("a case lists its tenants as {id: block}")
            .iter()
            .map(|(id, block)| Tenant {
                id: id.clone(),
                cidr_block: block.as_str().unwrap().parse().unwrap(),
                settings: Default::default(),
            })
            .collect();
        let quotas: Quotas = case.get("quotas").map_or_else(Quotas::default, |q| {
            serde_json::from_value(q.clone()).expect("[quotas] keys")
        });
        let stacks = case["stacks"]
            .as_array()
            .expect("a case lists its stacks")
            .iter()
            .map(|stack| {
                let tenant = stack["tenant"].as_str().map(|id| {
                    tenants
                        .iter()
                        .find(|t| t.id == id)
                        .expect("a listed tenant")
                        .clone()
                });
                let document = stack["document"].clone();
                let origins = resources(&document)
                    .map(|(t, n, _)| (format!("{t}.{n}"), "fixture".to_owned()))
                    .collect();
                ComposedStack {
                    name: tenant.as_ref().map_or_else(
                        || central_stack_name(&suffix),
                        |t| tenant_stack_name(&t.id, &suffix),
                    ),
                    tenant,
                    document,
                    assets: BTreeMap::new(),
                    origins,
                    ..ComposedStack::default()
                }
            })
            .collect();
        let fleet = Fleet {
            suffix,
            region: "us-east-1".into(),
            backend: StateBackend {
                bucket: "state".into(),
                region: "us-east-1".into(),
                key_prefix: String::new(),
            },
            plugin_settings: Default::default(),
            tenants,
            quotas,
            waivers: Default::default(),
            access: Default::default(),
        };
        (fleet, stacks)
    }

    fn run_guardrails(fleet: &Fleet, stacks: &[ComposedStack]) -> Vec<Finding> {
        static SCHEMA: std::sync::OnceLock<ProviderSchema> = std::sync::OnceLock::new();
        let schema = SCHEMA.get_or_init(|| ProviderSchema::embedded().unwrap());
        let facts: Vec<FleetFacts> = stacks.iter().map(FleetFacts::of).collect();
        let mut findings = check_fleet(&facts, fleet);
        for stack in stacks {
            findings.extend(check_stack(stack, &FleetLookup::new(fleet), schema));
        }
        findings.sort();
        findings
    }

    fn as_json(findings: &[&Finding]) -> Value {
        findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "stack": f.stack,
                    "severity": f.severity.as_str(),
                    "address": f.address,
                    "plugin": f.plugin,
                    "message": f.message,
                    "remediation": f.remediation,
                })
            })
            .collect()
    }

    #[test]
    fn every_guardrail_has_a_violating_and_a_complying_fixture() {
        let guardrails = [
            FOREIGN_TENANT,
            TAGS,
            NAMING,
            CIDR_OVERLAP,
            QUOTA_VPCS,
            QUOTA_GATEWAY_ENDPOINTS,
            QUOTA_LAMBDA_CONCURRENCY,
        ];
        for rule in guardrails {
            let path = fixtures().join(format!("{}.json", rule.id));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let fixture: Value = serde_json::from_str(&text).unwrap();
            let mut golden = serde_json::Map::new();
            for case in ["violates", "complies"] {
                let (fleet, stacks) = load_case(&fixture[case]);
                let all = run_guardrails(&fleet, &stacks);
                let own: Vec<&Finding> = all.iter().filter(|f| f.rule_id == rule.id).collect();
                assert_eq!(
                    own.is_empty(),
                    case == "complies",
                    "{}: the `{case}` case ({}) gives {own:#?}",
                    rule.id,
                    fixture[case]["reason"]
                );
                if case == "complies" {
                    assert!(
                        all.is_empty(),
                        "{}: the complying case breaks other guardrails: {all:#?}",
                        rule.id
                    );
                }
                assert!(own.iter().all(|f| f.severity == rule.severity), "{}", rule.id);
                assert!(
                    own.iter().all(|f| !f.address.is_empty()),
                    "{}: every finding names the block or configuration key it is about: {own:#?}",
                    rule.id
                );
                golden.insert(case.into(), as_json(&own));
            }
            assert_golden_json(
                fixtures().join(format!("{}.findings.json", rule.id)),
                &Value::Object(golden),
            );
        }
    }

    #[test]
    fn names_follow_the_convention() {
        let cases = [
            ("tenant-acme-corp-data-dev", true, "a plain name"),
            ("tenant-acme-corp-api-logs-dev", true, "a type of two words"),
            ("tenant-acme-corp-dev", false, "no type"),
            ("tenant-acme-corp-data-prod", false, "another suffix"),
            ("tenant-acme-corp-Data-dev", false, "upper case"),
            ("acme-corp-data-dev", false, "no tenant- prefix"),
            ("tenant-acme-corp--dev", false, "an empty type between hyphens"),
        ];
        for (name, expected, reason) in cases {
            assert_eq!(
                follows_convention(name, "acme-corp", "dev"),
                expected,
                "{reason}: {name}"
            );
        }
    }

    #[test]
    fn the_longest_tenant_id_is_the_one_named() {
        let ids = TenantIds::new(["acme", "acme-corp", "retail-co"]);
        let cases: [(&str, &[&str], &str); 5] = [
            (
                "tenant-acme-corp-data-dev",
                &["acme-corp"],
                "acme is a prefix of acme-corp",
            ),
            ("tenant-acme-data-dev", &["acme"], "the short id"),
            (
                "arn:aws:s3:::tenant-retail-co-data-dev/*",
                &["retail-co"],
                "inside an ARN",
            ),
            ("saas-tenant-events-dev", &[], "`tenant-` inside another word"),
            (
                "tenant-acmex-data-dev",
                &[],
                "an id that only starts like a tenant's",
            ),
        ];
        for (text, expected, reason) in cases {
            assert_eq!(named_tenants(text, &ids), expected, "{reason}");
        }
    }

    /// (reason, resource type, policy text, expected problem or "" when it complies).
    #[test]
    fn policies_the_guardrail_cannot_read_are_refused() {
        let allow = |action: &str, resource: &str| {
            serde_json::json!({"Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]})
                .to_string()
        };
        let cases: Vec<(&str, &str, String, &str)> = vec![
            (
                "format() builds another tenant's bucket name",
                "aws_iam_policy",
                allow(
                    "s3:GetObject",
                    "arn:aws:s3:::${format(\"tenant-%s-data-dev\", \"retail-co\")}/*",
                ),
                "calls `format`, which the guardrail cannot evaluate",
            ),
            (
                "join() builds a name",
                "aws_iam_role_policy",
                allow(
                    "s3:GetObject",
                    "arn:aws:s3:::${join(\"-\", [\"tenant\", \"retail\", \"co\"])}/*",
                ),
                "calls `join`",
            ),
            (
                "every bucket",
                "aws_iam_policy",
                allow("s3:GetObject", "arn:aws:s3:::*"),
                "`arn:aws:s3:::*` matches every tenant's resources",
            ),
            (
                "every table in every region",
                "aws_iam_policy",
                allow("dynamodb:GetItem", "arn:aws:dynamodb:*:*:table/*"),
                "matches every tenant's resources",
            ),
            (
                "every log group",
                "aws_iam_policy",
                allow("logs:GetLogEvents", "arn:aws:logs:us-east-1:1:log-group:*"),
                "matches every tenant's resources",
            ),
            (
                "every key, by `*` in an identity policy",
                "aws_iam_policy",
                allow("kms:Decrypt", "*"),
                "`*` matches every tenant's resources",
            ),
            (
                "a prefix that also matches acme-corp's names",
                "aws_iam_policy",
                allow("s3:GetObject", "arn:aws:s3:::tenant-acme-*"),
                "also matches the resources of tenant `acme-corp`",
            ),
            (
                "own bucket, by reference",
                "aws_iam_policy",
                allow("s3:GetObject", "${aws_s3_bucket.data.arn}/*"),
                "",
            ),
            (
                "own bucket's objects, literally",
                "aws_iam_policy",
                allow("s3:GetObject", "arn:aws:s3:::tenant-acme-data-dev/*"),
                "",
            ),
            (
                "`*` for a service without resource-level permissions",
                "aws_iam_policy",
                allow("xray:PutTraceSegments", "*"),
                "",
            ),
            (
                "`*` in a key's own policy is the key",
                "aws_kms_key",
                allow("kms:*", "*"),
                "",
            ),
            (
                "a Deny may use wildcards",
                "aws_iam_policy",
                serde_json::json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]})
                    .to_string(),
                "",
            ),
        ];
        for (reason, type_name, policy, expected) in cases {
            let case = serde_json::json!({
                "tenants": {"acme": "10.1.0.0/16", "acme-corp": "10.0.0.0/16", "retail-co": "10.2.0.0/16"},
                "stacks": [{"tenant": "acme", "document": {"resource": {type_name: {"p": {"policy": policy}}}}}]
            });
            let (fleet, stacks) = load_case(&case);
            let tenant = stacks[0].tenant.as_ref().unwrap();
            let findings = policy_evasions(&stacks[0], tenant, &fleet);
            if expected.is_empty() {
                assert!(findings.is_empty(), "{reason}: {findings:#?}");
            } else {
                assert_eq!(findings.len(), 1, "{reason}: {findings:#?}");
                assert_eq!(findings[0].address, format!("{type_name}.p"), "{reason}");
                assert_eq!(findings[0].plugin, "fixture", "{reason}: blamed on the emitter");
                assert!(
                    findings[0].message.contains(expected),
                    "{reason}: {}",
                    findings[0].message
                );
            }
        }
        let data = serde_json::json!({
            "tenants": {"acme": "10.1.0.0/16", "retail-co": "10.2.0.0/16"},
            "stacks": [{"tenant": "acme", "document": {"data": {"aws_iam_policy_document": {"d": {
                "statement": [{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::*"]}]
            }}}}}]
        });
        let (fleet, stacks) = load_case(&data);
        let findings = policy_evasions(&stacks[0], stacks[0].tenant.as_ref().unwrap(), &fleet);
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].address, "data.aws_iam_policy_document.d");
    }

    /// Issue 8: with `host.schema-valid` waived for a type the schema does not know, the tag and
    /// naming rules still see it.
    #[test]
    fn types_unknown_to_the_schema_are_still_tagged_and_named() {
        let case = serde_json::json!({
            "tenants": {"acme": "10.1.0.0/16"},
            "stacks": [{"tenant": "acme", "document": {"resource": {"thirdparty_vault": {"v": {
                "name": "backup-vault", "tags": {"TenantId": "other"}
            }}}}}]
        });
        let (fleet, stacks) = load_case(&case);
        let rules: Vec<String> = run_guardrails(&fleet, &stacks)
            .into_iter()
            .map(|f| format!("{} {}", f.rule_id, f.address))
            .collect();
        assert_eq!(
            rules,
            ["host.naming thirdparty_vault.v", "host.tags thirdparty_vault.v"]
        );
    }

    /// The issue-12 text: `tenant-` + `a-` × n, after n short mentions, so that both a long word
    /// and many mentions grow with n.
    fn hostile_text(n: usize) -> String {
        format!("{}tenant-{}", " tenant-a-b-c-d".repeat(n), "a-".repeat(n))
    }

    #[test]
    fn naming_tenants_takes_time_linear_in_the_text() {
        let ids = TenantIds::new(["acme", "acme-corp", "retail-co"]);
        // The thread's CPU time where the platform has it, so that other processes on a busy
        // machine do not count; the fastest of a few runs in any case.
        let now = || {
            #[cfg(target_os = "linux")]
            {
                let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
                std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
            }
            #[cfg(not(target_os = "linux"))]
            {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("after 1970")
            }
        };
        let fastest = |n: usize| {
            let text = hostile_text(n);
            (0..5)
                .map(|_| {
                    let started = now();
                    std::hint::black_box(named_tenants(std::hint::black_box(&text), &ids));
                    now().saturating_sub(started)
                })
                .min()
                .expect("five runs")
        };
        let (small, large) = (fastest(2_000), fastest(20_000));
        // Ten times the input may take ten times as long; 3x slack for timer noise. A quadratic
        // scan takes about 100x.
        assert!(
            large <= small * 30,
            "10x the text took {:.1}x as long ({small:?} -> {large:?})",
            large.as_secs_f64() / small.as_secs_f64()
        );
    }

    #[test]
    fn a_quota_breaks_at_the_first_tenant_beyond_it() {
        let demand = |central, per_tenant| Demand {
            central,
            per_tenant,
            total: 0,
        };
        assert_eq!(demand(0, 1).breaks_at(5), Some(6), "one VPC per tenant, quota 5");
        assert_eq!(demand(1, 2).breaks_at(20), Some(10), "19 left for 2 each");
        assert_eq!(
            demand(6, 1).breaks_at(5),
            Some(0),
            "the central stack alone exceeds it"
        );
        assert_eq!(demand(1, 0).breaks_at(5), None, "tenants use none");
    }

    #[test]
    fn the_lookup_finds_every_tenant_whose_block_contains_a_block() {
        let mut fleet = Fleet::example("dev");
        // acme-corp 10.0.0.0/16, tech-startup 10.1.0.0/16, retail-co 10.2.0.0/16; make retail-co
        // overlap acme-corp, as a broken configuration could, to see both found in order.
        fleet.tenants[2].cidr_block = "10.0.0.0/8".parse().unwrap();
        let lookup = FleetLookup::new(&fleet);
        let ids = |block: &str| -> Vec<&str> {
            let found = lookup.tenants_containing(&block.parse().unwrap());
            found.into_iter().map(|t| t.id.as_str()).collect()
        };
        assert_eq!(ids("10.0.4.0/24"), ["acme-corp", "retail-co"]);
        assert_eq!(ids("10.1.0.0/16"), ["tech-startup", "retail-co"]);
        assert_eq!(ids("10.0.0.0/8"), ["retail-co"]);
        assert!(ids("192.168.0.0/24").is_empty());
        assert!(ids("10.0.0.0/7").is_empty(), "a wider block lies in none of them");
    }
}
