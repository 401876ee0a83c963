//! Conversions between `tenant:plugin@0.1.0` and the host's model (the 0.2 types).
//!
//! Upward (what a 0.1 plugin returns) nothing is lost: a 0.1 setting's type is its default's JSON
//! type, with no range, enum or pattern; provided values are text; a fragment has no intents.
//! Downward (what a 0.1 plugin is given) a text-list input is JSON array text, which is how 0.1
//! plugins exchanged lists.

use super::bindings::{api, v0_1::api as old};

/// A 0.1 description in the host's model, or why its settings cannot be typed.
pub(crate) fn plugin_info(info: old::PluginInfo) -> Result<api::PluginInfo, String> {
    let settings = info
        .settings
        .into_iter()
        .map(|s| {
            let default: serde_json::Value = serde_json::from_str(&s.default_value)
                .map_err(|e| format!("the default of setting `{}` is not JSON: {e}", s.name))?;
            let kind = crate::declarations::SettingType::of_default(&default)
                .map_err(|what| format!("the default of setting `{}` is {what}", s.name))?;
            Ok(api::Setting {
                name: s.name,
                description: s.description,
                kind: setting_type(kind),
                default_value: Some(s.default_value),
                required: false,
                minimum: None,
                maximum: None,
                max_length: None,
                allowed: Vec::new(),
                pattern: None,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(api::PluginInfo {
        name: info.name,
        version: info.version,
        contract_version: info.contract_version,
        summary: info.summary,
        provides: info.provides.into_iter().map(declaration).collect(),
        requires: info.requires.into_iter().map(declaration).collect(),
        rules: info
            .rules
            .into_iter()
            .map(|r| api::Rule {
                id: r.id,
                severity: severity(r.severity),
                description: r.description,
            })
            .collect(),
        settings,
        name_patterns: Vec::new(),
        accepts: Vec::new(),
        contributes_to: Vec::new(),
        fleet_needs: Vec::new(),
    })
}

fn setting_type(kind: crate::declarations::SettingType) -> api::SettingType {
    use crate::declarations::SettingType as T;
    match kind {
        T::String => api::SettingType::String,
        T::Integer => api::SettingType::Integer,
        T::Number => api::SettingType::Number,
        T::Boolean => api::SettingType::Boolean,
        T::StringList => api::SettingType::StringList,
        T::Object => api::SettingType::Object,
    }
}

fn declaration(d: old::ValueDeclaration) -> api::ValueDeclaration {
    api::ValueDeclaration {
        name: d.name,
        stack: stack_kind(d.stack),
        kind: api::ValueKind::Text,
        description: d.description,
    }
}

fn stack_kind(kind: old::StackKind) -> api::StackKind {
    match kind {
        old::StackKind::Central => api::StackKind::Central,
        old::StackKind::Tenant => api::StackKind::Tenant,
    }
}

fn severity(severity: old::Severity) -> api::Severity {
    match severity {
        old::Severity::Error => api::Severity::Error,
        old::Severity::Warning => api::Severity::Warning,
        old::Severity::Info => api::Severity::Info,
    }
}

/// A 0.1 fragment in the host's model: text values, no intents.
pub(crate) fn fragment(fragment: old::Fragment) -> api::Fragment {
    api::Fragment {
        blocks: fragment
            .blocks
            .into_iter()
            .map(|b| api::Block {
                kind: match b.kind {
                    old::BlockKind::Resource => api::BlockKind::Resource,
                    old::BlockKind::Data => api::BlockKind::Data,
                },
                type_name: b.type_name,
                name: b.name,
                body: b.body,
            })
            .collect(),
        outputs: fragment
            .outputs
            .into_iter()
            .map(|o| api::Output {
                name: o.name,
                value: o.value,
                description: o.description,
                sensitive: o.sensitive,
            })
            .collect(),
        provides: fragment
            .provides
            .into_iter()
            .map(|v| api::NamedValue {
                name: v.name,
                value: api::Value::Text(v.value),
            })
            .collect(),
        assets: fragment
            .assets
            .into_iter()
            .map(|a| api::Asset {
                path: a.path,
                contents: a.contents,
            })
            .collect(),
        intents: Vec::new(),
    }
}

/// 0.1 findings in the host's model.
pub(crate) fn findings(findings: Vec<old::Finding>) -> Vec<api::Finding> {
    findings
        .into_iter()
        .map(|f| api::Finding {
            rule_id: f.rule_id,
            severity: severity(f.severity),
            address: f.address,
            message: f.message,
            remediation: f.remediation,
        })
        .collect()
}

/// A 0.1 plugin error in the host's model.
pub(crate) fn error(error: old::PluginError) -> api::PluginError {
    match error {
        old::PluginError::InvalidSettings(m) => api::PluginError::InvalidSettings(m),
        old::PluginError::InvalidContext(m) => api::PluginError::InvalidContext(m),
        old::PluginError::InvalidDocument(m) => api::PluginError::InvalidDocument(m),
        old::PluginError::Internal(m) => api::PluginError::Internal(m),
    }
}

/// A tenant as 0.1 sees it.
pub(crate) fn tenant(tenant: &api::Tenant) -> old::Tenant {
    old::Tenant {
        id: tenant.id.clone(),
        cidr_block: tenant.cidr_block.clone(),
    }
}

/// A stack context as 0.1 sees it: no contributions, list values as JSON array text.
pub(crate) fn stack_context(context: &api::StackContext) -> old::StackContext {
    old::StackContext {
        stack: context.stack.clone(),
        tenant: context.tenant.as_ref().map(tenant),
        fleet: context.fleet.iter().map(tenant).collect(),
        environment_suffix: context.environment_suffix.clone(),
        region: context.region.clone(),
        settings: context.settings.clone(),
        inputs: context
            .inputs
            .iter()
            .map(|input| old::NamedValue {
                name: input.name.clone(),
                value: match &input.value {
                    api::Value::Text(text) => text.clone(),
                    api::Value::TextList(list) => serde_json::to_string(list).expect("strings serialize"),
                },
            })
            .collect(),
    }
}

/// A stack document as 0.1 sees it.
pub(crate) fn stack_document(document: &api::StackDocument) -> old::StackDocument {
    old::StackDocument {
        stack: document.stack.clone(),
        tenant: document.tenant.as_ref().map(tenant),
        document: document.document.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_description_gets_types_from_its_defaults_and_text_values() {
        let info = old::PluginInfo {
            name: "backup".into(),
            version: "0.1.0".into(),
            contract_version: "0.1.0".into(),
            summary: String::new(),
            provides: vec![old::ValueDeclaration {
                name: "vault-arn".into(),
                stack: old::StackKind::Tenant,
                description: String::new(),
            }],
            requires: vec![],
            rules: vec![],
            settings: vec![old::Setting {
                name: "retention-days".into(),
                description: String::new(),
                default_value: "35".into(),
            }],
        };
        let info = plugin_info(info).unwrap();
        assert_eq!(info.settings[0].kind, api::SettingType::Integer);
        assert_eq!(info.settings[0].default_value.as_deref(), Some("35"));
        assert_eq!(info.provides[0].kind, api::ValueKind::Text);
        assert!(info.name_patterns.is_empty() && info.fleet_needs.is_empty());
    }

    #[test]
    fn a_list_input_reaches_a_legacy_plugin_as_json_array_text() {
        let context = api::StackContext {
            stack: "tenant-a-dev".into(),
            tenant: None,
            fleet: vec![],
            environment_suffix: "dev".into(),
            region: "us-east-1".into(),
            settings: "{}".into(),
            inputs: vec![api::NamedValue {
                name: "subnet-ids".into(),
                value: api::Value::TextList(vec!["${aws_subnet.a.id}".into(), "${aws_subnet.b.id}".into()]),
            }],
            contributions: vec![],
        };
        let old = stack_context(&context);
        assert_eq!(
            old.inputs[0].value,
            r#"["${aws_subnet.a.id}","${aws_subnet.b.id}"]"#
        );
    }
}
