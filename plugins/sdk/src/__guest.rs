//! The wasm32-only glue between the generated bindings of `tenant:plugin@0.2.0` and the
//! [`Plugin`](crate::Plugin) trait. Plugin authors never name anything here;
//! [`export_plugin!`](crate::export_plugin) does.

// Generated bindings need `unsafe` for the canonical ABI.
#[doc(hidden)]
#[allow(unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        // `wit` links to wit/tenant-plugin@0.2.0, so the packaged crate carries the contract.
        path: "wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "tenant_plugin_sdk::__guest::bindings",
        runtime_path: "tenant_plugin_sdk::__guest::wit_bindgen::rt",
    });
}

pub use bindings::exports::tenant::plugin::plugin_api as wit;
pub use wit::Guest;
pub use wit_bindgen;

use crate::log::Level;
use crate::settings::{self, SettingsSchema};
use crate::{
    BlockKind, Contribution, ExchangedValue, Finding, Fragment, Plugin, PluginError, ReceivedContribution,
    Severity, StackContext, StackDocument, StackKind, Tenant, ValueKind,
};
use bindings::tenant::plugin::host;
use serde_json::{Map, Value};

pub fn log(level: Level, message: &str) {
    let level = match level {
        Level::Error => host::LogLevel::Error,
        Level::Warning => host::LogLevel::Warning,
        Level::Info => host::LogLevel::Info,
        Level::Debug => host::LogLevel::Debug,
    };
    host::log(level, message);
}

fn stack_kind(kind: StackKind) -> wit::StackKind {
    match kind {
        StackKind::Central => wit::StackKind::Central,
        StackKind::Tenant => wit::StackKind::Tenant,
    }
}

pub fn describe<P: Plugin>() -> wit::PluginInfo {
    let info = P::describe();
    let declarations = |list: Vec<crate::ValueDeclaration>| {
        list.into_iter()
            .map(|d| wit::ValueDeclaration {
                name: d.name.to_owned(),
                stack: stack_kind(d.stack),
                kind: match d.kind {
                    ValueKind::Text => wit::ValueKind::Text,
                    ValueKind::TextList => wit::ValueKind::TextList,
                },
                description: d.description.to_owned(),
            })
            .collect()
    };
    let extension_point = |point: crate::ExtensionPoint| wit::ExtensionPoint {
        name: point.name.to_owned(),
        stack: stack_kind(point.stack),
        description: point.description.to_owned(),
    };
    wit::PluginInfo {
        name: info.name,
        version: info.version,
        contract_version: info.contract_version,
        summary: info.summary,
        provides: declarations(info.provides),
        requires: declarations(info.requires),
        rules: info
            .rules
            .into_iter()
            .map(|r| wit::Rule {
                id: r.id.to_owned(),
                severity: severity(r.severity),
                description: r.description.to_owned(),
            })
            .collect(),
        settings: P::Settings::schema().into_iter().map(setting).collect(),
        name_patterns: info
            .name_patterns
            .into_iter()
            .map(|p| wit::NamePattern {
                resource_kind: p.resource_kind.to_owned(),
                template: p.template.to_owned(),
                max_length: p.max_length,
                stack: stack_kind(p.stack),
            })
            .collect(),
        accepts: info.accepts.into_iter().map(extension_point).collect(),
        contributes_to: info
            .contributes_to
            .into_iter()
            .map(|p| p.name.to_owned())
            .collect(),
        fleet_needs: info.fleet_needs,
    }
}

fn setting(s: crate::Setting) -> wit::Setting {
    wit::Setting {
        name: s.name,
        description: s.description,
        kind: match s.kind {
            crate::SettingType::String => wit::SettingType::String,
            crate::SettingType::Integer => wit::SettingType::Integer,
            crate::SettingType::Number => wit::SettingType::Number,
            crate::SettingType::Boolean => wit::SettingType::Boolean,
            crate::SettingType::StringList => wit::SettingType::StringList,
            crate::SettingType::Object => wit::SettingType::Object,
        },
        default_value: s.default_value.map(|v| v.to_string()),
        required: s.required,
        minimum: s.minimum,
        maximum: s.maximum,
        max_length: s.max_length,
        allowed: s.allowed,
        pattern: s.pattern,
    }
}

pub fn validate_settings<P: Plugin>(
    settings: String,
    tenant: Option<wit::Tenant>,
) -> Vec<wit::SettingProblem> {
    let tenant = tenant.map(self::tenant);
    let problems = match parse_json(&settings, "settings") {
        Ok(settings) => settings::problems::<P::Settings>(&settings, tenant.as_ref()),
        Err(error) => vec![crate::SettingProblem::new("", error.to_string())],
    };
    problems
        .into_iter()
        .map(|p| wit::SettingProblem {
            key: p.key,
            message: p.message,
        })
        .collect()
}

/// Leaves `value` unfreed. The host drops the whole instance when a call returns (every call gets
/// a fresh one), so freeing what a call built is wasted work: walking the parsed stack documents
/// and the fragments' JSON trees to free them was 1.5 % of a 1,000-tenant `check`'s CPU time, and
/// the SDK's allocator takes nothing back but the latest block anyway.
fn discard<T>(value: T) {
    std::mem::forget(value);
}

pub fn contribute<P: Plugin>(context: wit::StackContext) -> Result<Vec<wit::Contribution>, wit::PluginError> {
    let context = stack_context::<P>(context).map_err(plugin_error)?;
    let contributions = P::contribute(&context).map_err(plugin_error);
    discard(context);
    Ok(contributions?.into_iter().map(contribution).collect())
}

pub fn synthesize_central<P: Plugin>(context: wit::StackContext) -> Result<wit::Fragment, wit::PluginError> {
    let context = stack_context::<P>(context).map_err(plugin_error)?;
    let synthesized = P::synthesize_central(&context);
    discard(context);
    synthesized.map(fragment).map_err(plugin_error)
}

pub fn synthesize_tenant<P: Plugin>(context: wit::StackContext) -> Result<wit::Fragment, wit::PluginError> {
    let context = stack_context::<P>(context).map_err(plugin_error)?;
    let synthesized = P::synthesize_tenant(&context);
    discard(context);
    synthesized.map(fragment).map_err(plugin_error)
}

pub fn check_stack<P: Plugin>(
    stack: wit::StackDocument,
    settings: String,
) -> Result<Vec<wit::Finding>, wit::PluginError> {
    let stack = StackDocument::received(stack.stack, stack.tenant.map(tenant), stack.document);
    let settings = typed_settings::<P>(&settings).map_err(plugin_error)?;
    let checked = P::check_stack(&stack, &settings);
    discard(stack);
    checked.map(findings).map_err(plugin_error)
}

pub fn check_fleet<P: Plugin>(
    summaries: Vec<wit::StackSummary>,
    settings: String,
) -> Result<Vec<wit::Finding>, wit::PluginError> {
    let summaries = summaries
        .into_iter()
        .map(summary_document)
        .collect::<Result<Vec<_>, _>>()
        .map_err(plugin_error)?;
    let settings = typed_settings::<P>(&settings).map_err(plugin_error)?;
    P::check_fleet(&summaries, &settings)
        .map(findings)
        .map_err(plugin_error)
}

fn parse_json(text: &str, what: &str) -> Result<Value, PluginError> {
    serde_json::from_str(text).map_err(|e| PluginError::InvalidContext(format!("{what} is not JSON: {e}")))
}

fn typed_settings<P: Plugin>(text: &str) -> Result<P::Settings, PluginError> {
    settings::parse(&parse_json(text, "settings")?)
}

fn tenant(t: wit::Tenant) -> Tenant {
    Tenant {
        id: t.id,
        cidr_block: t.cidr_block,
    }
}

fn exchanged_value(value: wit::Value) -> ExchangedValue {
    match value {
        wit::Value::Text(text) => ExchangedValue::Text(text),
        wit::Value::TextList(list) => ExchangedValue::TextList(list),
    }
}

fn stack_context<P: Plugin>(c: wit::StackContext) -> Result<StackContext<P::Settings>, PluginError> {
    let contributions = c
        .contributions
        .into_iter()
        .map(|received| {
            Ok(ReceivedContribution {
                body: parse_json(&received.contribution.body, "contribution").map_err(|_| {
                    PluginError::InvalidContribution(format!(
                        "the contribution of `{}` to `{}` is not JSON",
                        received.contributor, received.contribution.point
                    ))
                })?,
                contributor: received.contributor,
                point: received.contribution.point,
            })
        })
        .collect::<Result<_, PluginError>>()?;
    Ok(StackContext {
        settings: typed_settings::<P>(&c.settings)?,
        stack: c.stack,
        tenant: c.tenant.map(tenant),
        fleet: c.fleet.into_iter().map(tenant).collect(),
        environment_suffix: c.environment_suffix,
        region: c.region,
        inputs: c
            .inputs
            .into_iter()
            .map(|v| (v.name, exchanged_value(v.value)))
            .collect(),
        contributions,
    })
}

/// A summary as a stack document holding only its blocks and outputs, in Terraform JSON layout,
/// so fleet rules read summaries with the same helpers as whole stacks.
fn summary_document(s: wit::StackSummary) -> Result<StackDocument, PluginError> {
    let invalid =
        |what: &str| PluginError::InvalidDocument(format!("stack `{}`: {what} is not JSON", s.stack));
    let mut sections: Map<String, Value> = Map::new();
    for block in &s.blocks {
        let section = match block.kind {
            wit::BlockKind::Resource => "resource",
            wit::BlockKind::Data => "data",
        };
        let body = serde_json::from_str(&block.body).map_err(|_| invalid(&block.name))?;
        sections
            .entry(section)
            .or_insert_with(|| Value::Object(Map::new()))[&block.type_name][&block.name] = body;
    }
    for output in &s.outputs {
        let value: Value = serde_json::from_str(&output.value).map_err(|_| invalid(&output.name))?;
        sections
            .entry("output")
            .or_insert_with(|| Value::Object(Map::new()))[&output.name] = serde_json::json!({"value": value});
    }
    Ok(StackDocument::new(
        s.stack,
        s.tenant.map(tenant),
        Value::Object(sections),
    ))
}

fn severity(s: Severity) -> wit::Severity {
    match s {
        Severity::Error => wit::Severity::Error,
        Severity::Warning => wit::Severity::Warning,
        Severity::Info => wit::Severity::Info,
    }
}

fn contribution(c: Contribution) -> wit::Contribution {
    wit::Contribution {
        point: c.point,
        body: crate::json_text(&c.body),
    }
}

fn fragment(f: Fragment) -> wit::Fragment {
    wit::Fragment {
        blocks: f
            .blocks
            .into_iter()
            .map(|b| {
                let body = crate::json_text(&b.body);
                discard(b.body);
                wit::Block {
                    kind: match b.kind {
                        BlockKind::Resource => wit::BlockKind::Resource,
                        BlockKind::Data => wit::BlockKind::Data,
                    },
                    type_name: b.type_name,
                    name: b.name,
                    body,
                }
            })
            .collect(),
        outputs: f
            .outputs
            .into_iter()
            .map(|o| wit::Output {
                name: o.name,
                value: crate::json_text(&o.value),
                description: o.description,
                sensitive: o.sensitive,
            })
            .collect(),
        provides: f
            .provides
            .into_iter()
            .map(|(name, value)| wit::NamedValue {
                name,
                value: match value {
                    ExchangedValue::Text(text) => wit::Value::Text(text),
                    ExchangedValue::TextList(list) => wit::Value::TextList(list),
                },
            })
            .collect(),
        assets: f
            .assets
            .into_iter()
            .map(|a| wit::Asset {
                path: a.path,
                contents: a.contents,
            })
            .collect(),
        intents: f
            .intents
            .into_iter()
            .map(|i| wit::AccessIntent {
                principal: i.principal,
                action: i.action,
                resource: i.resource,
                expect: match i.expect {
                    crate::AccessExpectation::Allow => wit::AccessExpectation::Allow,
                    crate::AccessExpectation::Deny => wit::AccessExpectation::Deny,
                },
                context: i.context,
                because: i.because,
            })
            .collect(),
    }
}

fn findings(list: Vec<Finding>) -> Vec<wit::Finding> {
    list.into_iter()
        .map(|f| wit::Finding {
            rule_id: f.rule_id,
            severity: severity(f.severity),
            address: f.address,
            message: f.message,
            remediation: f.remediation,
        })
        .collect()
}

fn plugin_error(e: PluginError) -> wit::PluginError {
    match e {
        PluginError::InvalidSettings(m) => wit::PluginError::InvalidSettings(m),
        PluginError::InvalidContext(m) => wit::PluginError::InvalidContext(m),
        PluginError::InvalidContribution(m) => wit::PluginError::InvalidContribution(m),
        PluginError::InvalidDocument(m) => wit::PluginError::InvalidDocument(m),
        PluginError::Internal(m) => wit::PluginError::Internal(m),
    }
}
