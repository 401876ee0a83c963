//! Merges the plugins' fragments for one stack into the `cdk.tf.json` document, with the
//! provider, the pinned provider version and the state backend every stack carries.

use crate::plugin::api;
use crate::tenants::{Fleet, Tenant};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The cdktf manifest and metadata version this output is compatible with.
pub const CDKTF_VERSION: &str = "0.20.0";
/// The AWS provider versions the output is valid for: the vendored schema is 6.25.0.
pub const AWS_PROVIDER_VERSION: &str = ">= 6.25.0, < 7.0.0";

/// One stack, composed from every plugin's fragment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComposedStack {
    /// The stack's name.
    pub name: String,
    /// The tenant; `None` for the central stack.
    pub tenant: Option<Tenant>,
    /// The `cdk.tf.json` document.
    pub document: Value,
    /// Files next to the document, by relative path.
    pub assets: BTreeMap<String, Vec<u8>>,
    /// Which plugin emitted each resource, data source and output address.
    pub origins: BTreeMap<String, String>,
    /// Each plugin's resolved settings for this stack, as JSON text.
    pub settings: BTreeMap<String, String>,
    /// Each plugin's access intents for this stack (0.1 plugins declare none).
    pub intents: BTreeMap<String, Vec<api::AccessIntent>>,
    /// What the loaded plugins' fleet checks need of this stack (the union of their
    /// `fleet-needs`), taken once, right after composing.
    pub summary: api::StackSummary,
}

// The bindings generate this type, so it cannot take `#[derive(Default)]`.
#[allow(clippy::derivable_impls)]
impl Default for api::StackSummary {
    fn default() -> Self {
        Self {
            stack: String::new(),
            tenant: None,
            blocks: Vec::new(),
            outputs: Vec::new(),
        }
    }
}

/// Why fragments could not be composed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// Two plugins emitted the same address.
    #[error("stack `{stack}`: `{address}` is emitted by both plugin `{first}` and plugin `{second}`")]
    DuplicateAddress {
        /// The stack.
        stack: String,
        /// The resource, data source or output address.
        address: String,
        /// The first plugin.
        first: String,
        /// The second plugin.
        second: String,
    },
    /// A plugin emitted something malformed.
    #[error("stack `{stack}`: plugin `{plugin}` emitted an invalid {what}: {reason}")]
    Malformed {
        /// The stack.
        stack: String,
        /// The plugin.
        plugin: String,
        /// What was malformed, e.g. ``body of `aws_vpc.tenant` ``.
        what: String,
        /// Why.
        reason: String,
    },
}

/// A Terraform identifier: letters, digits, `_` and `-`, not starting with a digit or `-`.
fn is_identifier(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A relative `/`-separated path of plain segments.
fn is_relative_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
        && path != "cdk.tf.json"
}

/// Builds the stack document from `(plugin, fragment)` pairs, in plugin order.
pub fn compose(
    fleet: &Fleet,
    name: &str,
    tenant: Option<&Tenant>,
    fragments: Vec<(String, api::Fragment)>,
    settings: BTreeMap<String, String>,
    fleet_needs: &BTreeSet<&str>,
) -> Result<ComposedStack, ComposeError> {
    let mut sections: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    let mut outputs = Map::new();
    let mut assets = BTreeMap::new();
    let mut origins: BTreeMap<String, String> = BTreeMap::new();
    let mut intents: BTreeMap<String, Vec<api::AccessIntent>> = BTreeMap::new();
    let malformed = |plugin: &str, what: String, reason: String| ComposeError::Malformed {
        stack: name.into(),
        plugin: plugin.into(),
        what,
        reason,
    };
    let mut claim = |address: String, plugin: &str| match origins.get(&address) {
        Some(first) => Err(ComposeError::DuplicateAddress {
            stack: name.into(),
            address: address.clone(),
            first: first.clone(),
            second: plugin.into(),
        }),
        None => {
            origins.insert(address, plugin.into());
            Ok(())
        }
    };
    for (plugin, fragment) in fragments {
        if let Some(intent) = fragment
            .intents
            .iter()
            .find(|i| i.principal.is_empty() || i.action.is_empty() || i.resource.is_empty())
        {
            return Err(malformed(
                &plugin,
                format!("access intent `{}`", intent.because),
                "needs a principal, an action and a resource".into(),
            ));
        }
        if !fragment.intents.is_empty() {
            intents.insert(plugin.clone(), fragment.intents);
        }
        for block in fragment.blocks {
            let (section, address) = match block.kind {
                api::BlockKind::Resource => ("resource", format!("{}.{}", block.type_name, block.name)),
                api::BlockKind::Data => ("data", format!("data.{}.{}", block.type_name, block.name)),
            };
            if !is_identifier(&block.type_name) || !is_identifier(&block.name) {
                return Err(malformed(
                    &plugin,
                    format!("address `{address}`"),
                    "not a Terraform identifier".into(),
                ));
            }
            let body: Value = serde_json::from_str(&block.body)
                .map_err(|e| malformed(&plugin, format!("body of `{address}`"), e.to_string()))?;
            if !body.is_object() {
                return Err(malformed(
                    &plugin,
                    format!("body of `{address}`"),
                    "not a JSON object".into(),
                ));
            }
            claim(address, &plugin)?;
            let by_type = sections
                .entry(section)
                .or_default()
                .entry(block.type_name)
                .or_insert_with(|| json!({}));
            by_type[&block.name] = body;
        }
        for output in fragment.outputs {
            let address = format!("output.{}", output.name);
            if !is_identifier(&output.name) {
                return Err(malformed(
                    &plugin,
                    format!("output `{}`", output.name),
                    "not a Terraform identifier".into(),
                ));
            }
            let value: Value = serde_json::from_str(&output.value).map_err(|e| {
                malformed(
                    &plugin,
                    format!("value of output `{}`", output.name),
                    e.to_string(),
                )
            })?;
            claim(address, &plugin)?;
            let mut body = json!({"value": value, "description": output.description});
            if output.sensitive {
                body["sensitive"] = json!(true);
            }
            outputs.insert(output.name, body);
        }
        for asset in fragment.assets {
            if !is_relative_path(&asset.path) {
                return Err(malformed(
                    &plugin,
                    format!("asset path `{}`", asset.path),
                    "must be relative, `/`-separated, without `.` or `..` segments".into(),
                ));
            }
            claim(format!("asset {}", asset.path), &plugin)?;
            assets.insert(asset.path, asset.contents);
        }
    }
    let mut document = Map::new();
    document.insert(
        "//".into(),
        json!({"metadata": {"version": CDKTF_VERSION, "stackName": name, "backend": "s3"}}),
    );
    document.insert("terraform".into(), terraform_block(fleet, name));
    document.insert("provider".into(), provider_block(fleet, tenant));
    for (section, blocks) in sections {
        document.insert(section.into(), Value::Object(blocks));
    }
    if !outputs.is_empty() {
        document.insert("output".into(), Value::Object(outputs));
    }
    origins.retain(|address, _| !address.starts_with("asset "));
    let document = Value::Object(document);
    let summary = summarize(&document, name, tenant, fleet_needs);
    Ok(ComposedStack {
        name: name.into(),
        tenant: tenant.cloned(),
        document,
        assets,
        origins,
        settings,
        intents,
        summary,
    })
}

/// The blocks of the types and the outputs named in `needs` (`aws_vpc`, `output:<name>`), ordered
/// by type and name: what fleet checks see of a stack.
fn summarize(
    document: &Value,
    stack: &str,
    tenant: Option<&Tenant>,
    needs: &BTreeSet<&str>,
) -> api::StackSummary {
    let mut blocks = Vec::new();
    for (section, kind) in [
        ("resource", api::BlockKind::Resource),
        ("data", api::BlockKind::Data),
    ] {
        let Some(types) = document.get(section).and_then(Value::as_object) else {
            continue;
        };
        for (type_name, by_name) in types.iter().filter(|(t, _)| needs.contains(t.as_str())) {
            for (name, body) in by_name.as_object().into_iter().flatten() {
                blocks.push(api::Block {
                    kind,
                    type_name: type_name.clone(),
                    name: name.clone(),
                    body: tenant_plugin_sdk::json_text(body),
                });
            }
        }
    }
    let outputs = document
        .get("output")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(name, _)| needs.contains(format!("output:{name}").as_str()))
        .map(|(name, body)| api::Output {
            name: name.clone(),
            value: tenant_plugin_sdk::json_text(&body["value"]),
            description: body["description"].as_str().unwrap_or_default().into(),
            sensitive: body.get("sensitive") == Some(&Value::Bool(true)),
        })
        .collect();
    api::StackSummary {
        stack: stack.into(),
        tenant: tenant.map(crate::synth::wire_tenant),
        blocks,
        outputs,
    }
}

fn terraform_block(fleet: &Fleet, stack: &str) -> Value {
    let backend = &fleet.backend;
    json!({
        "required_providers": {"aws": {"source": "hashicorp/aws", "version": AWS_PROVIDER_VERSION}},
        "backend": {"s3": {
            "bucket": backend.bucket,
            "key": format!("{}{}/{stack}.tfstate", backend.key_prefix, fleet.suffix),
            "region": backend.region,
            "encrypt": true,
            "use_lockfile": true,
        }},
    })
}

fn provider_block(fleet: &Fleet, tenant: Option<&Tenant>) -> Value {
    let mut tags = json!({"Environment": fleet.suffix, "ManagedBy": "CDKTF"});
    if let Some(tenant) = tenant {
        tags["TenantId"] = json!(tenant.id);
    }
    json!({"aws": [{"region": fleet.region, "default_tags": [{"tags": tags}]}]})
}

/// Every stack's summary narrowed to `needs`; empty when a plugin needs nothing.
pub fn fleet_summaries<'a>(
    summaries: impl Iterator<Item = &'a api::StackSummary>,
    needs: &[String],
) -> Vec<api::StackSummary> {
    if needs.is_empty() {
        return Vec::new();
    }
    let output_needed = |name: &str| needs.iter().any(|n| n.strip_prefix("output:") == Some(name));
    summaries
        .map(|summary| api::StackSummary {
            stack: summary.stack.clone(),
            tenant: summary.tenant.clone(),
            blocks: summary
                .blocks
                .iter()
                .filter(|b| needs.contains(&b.type_name))
                .cloned()
                .collect(),
            outputs: summary
                .outputs
                .iter()
                .filter(|o| output_needed(&o.name))
                .cloned()
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(type_name: &str, name: &str, body: &str) -> api::Block {
        api::Block {
            kind: api::BlockKind::Resource,
            type_name: type_name.into(),
            name: name.into(),
            body: body.into(),
        }
    }

    fn fragment(blocks: Vec<api::Block>) -> api::Fragment {
        api::Fragment {
            blocks,
            outputs: vec![],
            provides: vec![],
            assets: vec![],
            intents: vec![],
        }
    }

    #[test]
    fn merges_fragments_and_adds_backend_and_provider() {
        let fleet = Fleet::example("dev");
        let tenant = &fleet.tenants[0];
        let stack = compose(
            &fleet,
            "tenant-acme-corp-dev",
            Some(tenant),
            vec![
                (
                    "network".into(),
                    fragment(vec![block(
                        "aws_vpc",
                        "tenant",
                        "{\"cidr_block\":\"10.0.0.0/16\"}",
                    )]),
                ),
                (
                    "crypto".into(),
                    fragment(vec![block("aws_kms_key", "tenant", "{}")]),
                ),
            ],
            BTreeMap::new(),
            &BTreeSet::from(["aws_vpc"]),
        )
        .unwrap();
        assert_eq!(
            stack.summary.blocks.len(),
            1,
            "only the needed type is summarized"
        );
        assert_eq!(stack.summary.blocks[0].name, "tenant");
        let doc = &stack.document;
        assert_eq!(doc["resource"]["aws_vpc"]["tenant"]["cidr_block"], "10.0.0.0/16");
        assert_eq!(
            doc["terraform"]["backend"]["s3"]["key"],
            "dev/tenant-acme-corp-dev.tfstate"
        );
        assert_eq!(doc["terraform"]["backend"]["s3"]["use_lockfile"], true);
        assert_eq!(
            doc["provider"]["aws"][0]["default_tags"][0]["tags"]["TenantId"],
            "acme-corp"
        );
        assert_eq!(stack.origins["aws_kms_key.tenant"], "crypto");
    }

    #[test]
    fn rejects_what_plugins_must_not_emit() {
        let fleet = Fleet::example("dev");
        let run = |fragments: Vec<(String, api::Fragment)>| {
            compose(
                &fleet,
                "central-dev",
                None,
                fragments,
                BTreeMap::new(),
                &BTreeSet::new(),
            )
            .unwrap_err()
            .to_string()
        };
        let twice = run(vec![
            ("a".into(), fragment(vec![block("aws_vpc", "x", "{}")])),
            ("b".into(), fragment(vec![block("aws_vpc", "x", "{}")])),
        ]);
        assert!(
            twice.contains("`aws_vpc.x` is emitted by both plugin `a` and plugin `b`"),
            "{twice}"
        );
        let not_json = run(vec![("a".into(), fragment(vec![block("aws_vpc", "x", "{")]))]);
        assert!(
            not_json.contains("plugin `a` emitted an invalid body of `aws_vpc.x`"),
            "{not_json}"
        );
        let not_object = run(vec![("a".into(), fragment(vec![block("aws_vpc", "x", "[]")]))]);
        assert!(not_object.contains("not a JSON object"), "{not_object}");
        let bad_name = run(vec![("a".into(), fragment(vec![block("aws_vpc", "x.y", "{}")]))]);
        assert!(bad_name.contains("not a Terraform identifier"), "{bad_name}");
        let mut escaping = fragment(vec![]);
        escaping.assets.push(api::Asset {
            path: "../etc/passwd".into(),
            contents: vec![],
        });
        assert!(run(vec![("a".into(), escaping)]).contains("asset path `../etc/passwd`"));
    }

    #[test]
    fn a_fleet_check_sees_only_what_it_declared_it_needs() {
        let fleet = Fleet::example("dev");
        let needs = BTreeSet::from(["aws_vpc", "output:vpc_id"]);
        let mut network = fragment(vec![
            block("aws_vpc", "tenant", "{\"cidr_block\":\"10.0.0.0/16\"}"),
            block("aws_subnet", "a", "{}"),
        ]);
        network.outputs.push(api::Output {
            name: "vpc_id".into(),
            value: "\"${aws_vpc.tenant.id}\"".into(),
            description: "The VPC.".into(),
            sensitive: false,
        });
        let stacks: Vec<ComposedStack> = fleet
            .tenants
            .iter()
            .map(|tenant| {
                let name = format!("tenant-{}-dev", tenant.id);
                let fragments = vec![("network".to_owned(), network.clone())];
                compose(&fleet, &name, Some(tenant), fragments, BTreeMap::new(), &needs).unwrap()
            })
            .collect();
        assert!(
            fleet_summaries(stacks.iter().map(|s| &s.summary), &[]).is_empty(),
            "no needs, no data at all"
        );
        let vpcs = fleet_summaries(stacks.iter().map(|s| &s.summary), &["aws_vpc".to_owned()]);
        assert_eq!(vpcs.len(), 3);
        assert!(vpcs.iter().all(|s| s.blocks.len() == 1 && s.outputs.is_empty()));
        assert_eq!(vpcs[0].blocks[0].body, "{\"cidr_block\":\"10.0.0.0/16\"}");
        assert_eq!(vpcs[0].tenant.as_ref().unwrap().id, "acme-corp");
        let outputs = fleet_summaries(stacks.iter().map(|s| &s.summary), &["output:vpc_id".to_owned()]);
        assert!(
            outputs
                .iter()
                .all(|s| s.blocks.is_empty() && s.outputs[0].value == "\"${aws_vpc.tenant.id}\"")
        );
    }
}
