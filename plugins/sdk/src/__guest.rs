//! The wasm32-only glue between the generated bindings and the [`Plugin`](crate::Plugin) trait.
//! Plugin authors never name anything here; [`export_plugin!`](crate::export_plugin) does.

// Generated bindings need `unsafe` for the canonical ABI.
#[doc(hidden)]
#[allow(unsafe_code)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/tenant-plugin@0.1.0",
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

use crate::{
    BlockKind, Finding, Fragment, Plugin, PluginError, PluginInfo, Severity, StackContext, StackDocument,
    StackKind, Tenant,
};

pub fn describe<P: Plugin>() -> wit::PluginInfo {
    let info: PluginInfo = P::describe();
    let declarations = |list: Vec<crate::ValueDeclaration>| {
        list.into_iter()
            .map(|d| wit::ValueDeclaration {
                name: d.name,
                stack: match d.stack {
                    StackKind::Central => wit::StackKind::Central,
                    StackKind::Tenant => wit::StackKind::Tenant,
                },
                description: d.description,
            })
            .collect()
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
                id: r.id,
                severity: severity(r.severity),
                description: r.description,
            })
            .collect(),
        settings: info
            .settings
            .into_iter()
            .map(|s| wit::Setting {
                name: s.name,
                description: s.description,
                default_value: s.default_value.to_string(),
            })
            .collect(),
    }
}

pub fn synthesize_central<P: Plugin>(context: wit::StackContext) -> Result<wit::Fragment, wit::PluginError> {
    let context = stack_context(context)?;
    P::synthesize_central(&context)
        .map(fragment)
        .map_err(plugin_error)
}

pub fn synthesize_tenant<P: Plugin>(context: wit::StackContext) -> Result<wit::Fragment, wit::PluginError> {
    let context = stack_context(context)?;
    P::synthesize_tenant(&context).map(fragment).map_err(plugin_error)
}

pub fn check_stack<P: Plugin>(
    stack: wit::StackDocument,
    settings: String,
) -> Result<Vec<wit::Finding>, wit::PluginError> {
    let stack = stack_document(stack)?;
    let settings = parse_json(&settings, "settings")?;
    P::check_stack(&stack, &settings)
        .map(findings)
        .map_err(plugin_error)
}

pub fn check_fleet<P: Plugin>(
    stacks: Vec<wit::StackDocument>,
    settings: String,
) -> Result<Vec<wit::Finding>, wit::PluginError> {
    let stacks = stacks
        .into_iter()
        .map(stack_document)
        .collect::<Result<Vec<_>, _>>()?;
    let settings = parse_json(&settings, "settings")?;
    P::check_fleet(&stacks, &settings)
        .map(findings)
        .map_err(plugin_error)
}

fn parse_json(text: &str, what: &str) -> Result<serde_json::Value, wit::PluginError> {
    serde_json::from_str(text)
        .map_err(|e| wit::PluginError::InvalidContext(format!("{what} is not JSON: {e}")))
}

fn tenant(t: wit::Tenant) -> Tenant {
    Tenant {
        id: t.id,
        cidr_block: t.cidr_block,
    }
}

fn stack_context(c: wit::StackContext) -> Result<StackContext, wit::PluginError> {
    Ok(StackContext {
        settings: parse_json(&c.settings, "settings")?,
        stack: c.stack,
        tenant: c.tenant.map(tenant),
        fleet: c.fleet.into_iter().map(tenant).collect(),
        environment_suffix: c.environment_suffix,
        region: c.region,
        inputs: c.inputs.into_iter().map(|v| (v.name, v.value)).collect(),
    })
}

fn stack_document(d: wit::StackDocument) -> Result<StackDocument, wit::PluginError> {
    Ok(StackDocument {
        document: parse_json(&d.document, "stack document")
            .map_err(|_| wit::PluginError::InvalidDocument(format!("stack `{}` is not JSON", d.stack)))?,
        stack: d.stack,
        tenant: d.tenant.map(tenant),
    })
}

fn severity(s: Severity) -> wit::Severity {
    match s {
        Severity::Error => wit::Severity::Error,
        Severity::Warning => wit::Severity::Warning,
        Severity::Info => wit::Severity::Info,
    }
}

fn fragment(f: Fragment) -> wit::Fragment {
    wit::Fragment {
        blocks: f
            .blocks
            .into_iter()
            .map(|b| wit::Block {
                kind: match b.kind {
                    BlockKind::Resource => wit::BlockKind::Resource,
                    BlockKind::Data => wit::BlockKind::Data,
                },
                type_name: b.type_name,
                name: b.name,
                body: b.body.to_string(),
            })
            .collect(),
        outputs: f
            .outputs
            .into_iter()
            .map(|o| wit::Output {
                name: o.name,
                value: o.value.to_string(),
                description: o.description,
                sensitive: o.sensitive,
            })
            .collect(),
        provides: f
            .provides
            .into_iter()
            .map(|(name, value)| wit::NamedValue { name, value })
            .collect(),
        assets: f
            .assets
            .into_iter()
            .map(|a| wit::Asset {
                path: a.path,
                contents: a.contents,
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
        PluginError::InvalidDocument(m) => wit::PluginError::InvalidDocument(m),
        PluginError::Internal(m) => wit::PluginError::Internal(m),
    }
}
