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

use crate::check::{Finding, HostRule, Severity};
use crate::compose::ComposedStack;
use crate::schema::{BlockKind, ProviderSchema};
use crate::tenants::{Fleet, Tenant};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashSet};
use tenant_plugin_sdk::cidr::Ipv4Block;

/// A tenant stack mentions nothing of another tenant of the fleet.
pub const FOREIGN_TENANT: &str = "host.foreign-tenant";
/// Every taggable resource carries the standard tags with the right values.
pub const TAGS: &str = "host.tags";
/// Every named tenant resource follows `tenant-{id}-{type}-{suffix}`.
pub const NAMING: &str = "host.naming";
/// No two stacks' VPC blocks overlap.
pub const CIDR_OVERLAP: &str = "host.cidr-overlap";
/// The fleet's VPCs fit the account's quota.
pub const QUOTA_VPCS: &str = "host.quota-vpcs";
/// The fleet's gateway endpoints fit the account's quota.
pub const QUOTA_GATEWAY_ENDPOINTS: &str = "host.quota-gateway-endpoints";
/// The fleet's reserved Lambda concurrency leaves the account's unreserved minimum.
pub const QUOTA_LAMBDA_CONCURRENCY: &str = "host.quota-lambda-concurrency";

/// The guardrail rules.
pub const RULES: &[HostRule] = &[
    HostRule {
        id: FOREIGN_TENANT,
        severity: Severity::Error,
        description: "A tenant stack names no other tenant of the fleet: no `tenant-{other}-…` name or ARN, no other tenant's id as a TenantId value, no address block inside another tenant's block.",
    },
    HostRule {
        id: TAGS,
        severity: Severity::Error,
        description: "Every taggable resource (one whose provider schema has `tags`) carries Environment = the suffix, ManagedBy = CDKTF and, in tenant stacks, TenantId = the tenant, after default tags and its own tags are merged.",
    },
    HostRule {
        id: NAMING,
        severity: Severity::Error,
        description: "Every literal name (`name`, `bucket`, `function_name`, tag `Name`) of a taggable resource in a tenant stack follows tenant-{id}-{type}-{suffix}.",
    },
    HostRule {
        id: CIDR_OVERLAP,
        severity: Severity::Error,
        description: "No VPC block (primary or associated) of one stack overlaps a VPC block of another stack.",
    },
    HostRule {
        id: QUOTA_VPCS,
        severity: Severity::Warning,
        description: "The fleet's VPCs fit the account's `VPCs per Region` quota ([quotas] vpcs-per-region, default 5).",
    },
    HostRule {
        id: QUOTA_GATEWAY_ENDPOINTS,
        severity: Severity::Warning,
        description: "The fleet's gateway VPC endpoints fit the `Gateway VPC endpoints per Region` quota ([quotas] gateway-endpoints-per-region, default 20).",
    },
    HostRule {
        id: QUOTA_LAMBDA_CONCURRENCY,
        severity: Severity::Warning,
        description: "Reserved Lambda concurrency leaves the unreserved minimum of the account's `Concurrent executions` ([quotas] lambda-concurrent-executions, default 1000; lambda-unreserved-minimum, default 100).",
    },
];

/// The per-stack guardrails over one composed stack.
pub fn check_stack(stack: &ComposedStack, fleet: &Fleet, schema: &ProviderSchema) -> Vec<Finding> {
    let mut findings = tags(stack, fleet, schema);
    if let Some(tenant) = &stack.tenant {
        findings.extend(naming(stack, tenant, fleet, schema));
        findings.extend(foreign_tenant(stack, tenant, fleet));
    }
    findings
}

/// The fleet guardrails over every composed stack.
pub fn check_fleet(stacks: &[ComposedStack], fleet: &Fleet) -> Vec<Finding> {
    let mut findings = cidr_overlap(stacks);
    findings.extend(quotas(stacks, fleet));
    findings
}

/// A finding of `rule`, with the rule's severity, blamed on whoever emitted `address`.
fn finding(
    rule: &str,
    stack: Option<&ComposedStack>,
    address: &str,
    message: String,
    remediation: String,
) -> Finding {
    let severity = RULES
        .iter()
        .find(|r| r.id == rule)
        .map(|r| r.severity)
        .expect("guardrail findings use declared rules");
    Finding {
        stack: stack.map(|s| s.name.clone()),
        severity,
        rule_id: rule.into(),
        address: address.into(),
        plugin: stack
            .and_then(|s| s.origins.get(address))
            .map_or_else(|| "host".to_owned(), Clone::clone),
        message,
        remediation,
        waived: None,
    }
}

/// Every managed resource of a document: `(type, name, body)`.
fn resources(document: &Value) -> impl Iterator<Item = (&str, &str, &Value)> {
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

fn tags(stack: &ComposedStack, fleet: &Fleet, schema: &ProviderSchema) -> Vec<Finding> {
    let required = required_tags(fleet, stack.tenant.as_ref());
    let mut findings = Vec::new();
    for (type_name, name, body) in resources(&stack.document) {
        if !schema.has_attribute(BlockKind::Resource, type_name, "tags") {
            continue;
        }
        let address = format!("{type_name}.{name}");
        let mut effective = default_tags(&stack.document, body).cloned().unwrap_or_default();
        match body.get("tags") {
            None | Some(Value::Null) => {}
            Some(Value::Object(own)) => effective.extend(own.clone()),
            Some(other) => {
                findings.push(finding(
                    TAGS,
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
                TAGS,
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
        if !schema.has_attribute(BlockKind::Resource, type_name, "tags") {
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
                NAMING,
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

/// The fleet's tenant ids, with the length of the longest.
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

fn foreign_tenant(stack: &ComposedStack, tenant: &Tenant, fleet: &Fleet) -> Vec<Finding> {
    let ids = TenantIds::new(fleet.tenants.iter().map(|t| t.id.as_str()));
    let others: Vec<&Tenant> = fleet.tenants.iter().filter(|t| t.id != tenant.id).collect();
    let mut places: Vec<(String, &Value)> = Vec::new();
    for (section, value) in stack.document.as_object().into_iter().flatten() {
        match section.as_str() {
            "resource" | "data" => {
                let prefix = if section == "data" { "data." } else { "" };
                for (type_name, blocks) in value.as_object().into_iter().flatten() {
                    for (name, body) in blocks.as_object().into_iter().flatten() {
                        places.push((format!("{prefix}{type_name}.{name}"), body));
                    }
                }
            }
            "output" => places.extend(
                value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, body)| (format!("output.{name}"), body)),
            ),
            _ => places.push((section.clone(), value)),
        }
    }
    let mut findings = Vec::new();
    for (address, body) in places {
        let mut mentions = BTreeSet::new();
        visit_strings(body, None, &mut |key, text| {
            for id in named_tenants(text, &ids)
                .into_iter()
                .filter(|id| *id != tenant.id)
            {
                mentions.insert(format!("\"{text}\" names tenant `{id}`"));
            }
            // IAM condition keys are case-insensitive; a pattern value admits whoever matches it.
            if let Some(key) = key.filter(|k| k.to_ascii_lowercase().ends_with("tenantid")) {
                if others.iter().any(|o| o.id == text) {
                    mentions.insert(format!("{key} is tenant `{text}`"));
                } else if text.contains(['*', '?']) {
                    mentions.insert(format!("{key} matches any tenant with the pattern `{text}`"));
                }
            }
            if let Ok(block) = text.parse::<Ipv4Block>() {
                for other in others.iter().filter(|o| o.cidr_block.contains(&block)) {
                    mentions.insert(format!(
                        "{block} lies in the block {} of tenant `{}`",
                        other.cidr_block, other.id
                    ));
                }
            }
        });
        if !mentions.is_empty() {
            findings.push(finding(
                FOREIGN_TENANT,
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
// Overlapping blocks

fn cidr_overlap(stacks: &[ComposedStack]) -> Vec<Finding> {
    let blocks: Vec<(&ComposedStack, String, Ipv4Block)> = stacks
        .iter()
        .flat_map(|stack| {
            resources(&stack.document).filter_map(move |(type_name, name, body)| {
                if !matches!(type_name, "aws_vpc" | "aws_vpc_ipv4_cidr_block_association") {
                    return None;
                }
                let block = body.get("cidr_block")?.as_str()?.parse().ok()?;
                Some((stack, format!("{type_name}.{name}"), block))
            })
        })
        .collect();
    let mut findings = Vec::new();
    for (index, (first_stack, first_address, first)) in blocks.iter().enumerate() {
        for (second_stack, second_address, second) in &blocks[index + 1..] {
            if first_stack.name != second_stack.name && first.overlaps(second) {
                findings.push(finding(
                    CIDR_OVERLAP,
                    Some(second_stack),
                    second_address,
                    format!(
                        "{second} overlaps {first} of {first_address} in stack `{}`, so the two networks cannot be told apart",
                        first_stack.name
                    ),
                    "Give every VPC a block of its own: leave tenant blocks to the host's allocation from [addressing] pool, and keep other VPCs outside that pool.".into(),
                ));
            }
        }
    }
    findings
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
    fn measure(stacks: &[ComposedStack], measure: impl Fn(&Value) -> u64) -> Self {
        let mut demand = Demand {
            central: 0,
            per_tenant: 0,
            total: 0,
        };
        for stack in stacks {
            let used = measure(&stack.document);
            demand.total += used;
            match stack.tenant {
                Some(_) => demand.per_tenant = demand.per_tenant.max(used),
                None => demand.central += used,
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
    rule: &'static str,
    /// The quota's name in Service Quotas, with its code.
    name: &'static str,
    /// What is counted, plural.
    unit: &'static str,
    /// The key in the configuration's `[quotas]`.
    config_key: &'static str,
    /// What the fleet may use.
    limit: u64,
    measure: fn(&Value) -> u64,
}

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

fn quotas(stacks: &[ComposedStack], fleet: &Fleet) -> Vec<Finding> {
    let q = &fleet.quotas;
    let checks = [
        Quota {
            rule: QUOTA_VPCS,
            name: "Amazon VPC `VPCs per Region` (L-F678F1CE)",
            unit: "VPCs",
            config_key: "vpcs-per-region",
            limit: q.vpcs_per_region.into(),
            measure: count_vpcs,
        },
        Quota {
            rule: QUOTA_GATEWAY_ENDPOINTS,
            name: "Amazon VPC `Gateway VPC endpoints per Region` (L-1B52E74A)",
            unit: "gateway endpoints",
            config_key: "gateway-endpoints-per-region",
            limit: q.gateway_endpoints_per_region.into(),
            measure: count_gateway_endpoints,
        },
        Quota {
            rule: QUOTA_LAMBDA_CONCURRENCY,
            name: "AWS Lambda `Concurrent executions` (L-B99A9384)",
            unit: "reserved concurrent executions",
            config_key: "lambda-concurrent-executions",
            limit: u64::from(q.lambda_concurrent_executions)
                .saturating_sub(q.lambda_unreserved_minimum.into()),
            measure: reserved_concurrency,
        },
    ];
    let tenants = fleet.tenants.len();
    checks
        .iter()
        .filter_map(|quota| {
            let demand = Demand::measure(stacks, quota.measure);
            if demand.total <= quota.limit {
                return None;
            }
            let breaks = demand
                .breaks_at(quota.limit)
                .map_or_else(String::new, |n| format!("; it breaks at {n} tenants"));
            Some(finding(
                quota.rule,
                None,
                "",
                format!(
                    "the fleet of {tenants} tenants needs {} {} in {} ({} central, up to {} per tenant), but may use {}{breaks}",
                    demand.total, quota.unit, fleet.region, demand.central, demand.per_tenant, quota.limit
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
                settings: BTreeMap::new(),
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
            plugin_settings: BTreeMap::new(),
            tenants,
            quotas,
            waivers: Vec::new(),
            access: Default::default(),
        };
        (fleet, stacks)
    }

    fn run_guardrails(fleet: &Fleet, stacks: &[ComposedStack]) -> Vec<Finding> {
        let schema = ProviderSchema::from_json(crate::check::BUNDLED_SCHEMA).unwrap();
        let mut findings = check_fleet(stacks, fleet);
        for stack in stacks {
            findings.extend(check_stack(stack, fleet, &schema));
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
        for rule in RULES {
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

    /// The issue-12 text: `tenant-` + `a-` × n, after n short mentions, so that both a long word
    /// and many mentions grow with n.
    fn hostile_text(n: usize) -> String {
        format!("{}tenant-{}", " tenant-a-b-c-d".repeat(n), "a-".repeat(n))
    }

    #[test]
    fn naming_tenants_takes_time_linear_in_the_text() {
        let ids = TenantIds::new(["acme", "acme-corp", "retail-co"]);
        // The fastest of a few runs, so that a busy machine does not decide the ratio.
        let fastest = |n: usize| {
            let text = hostile_text(n);
            (0..5)
                .map(|_| {
                    let started = std::time::Instant::now();
                    std::hint::black_box(named_tenants(std::hint::black_box(&text), &ids));
                    started.elapsed()
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
}
