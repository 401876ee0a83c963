//! Configured settings against what each loaded plugin declares: known plugins and keys, values
//! within the declared schema, required settings given.

use super::{Checker, list_or_none};
use crate::declarations::PluginDeclaration;
use crate::diagnostics::{Diagnostic, Segment};
use crate::path;
use std::ops::Range;

impl Checker<'_> {
    /// Where setting `key` of `plugin` was configured: in the tenant's table, else fleet-wide,
    /// else the plugin's table or the tenant; with a label for the diagnostic.
    pub(super) fn setting_position(
        &self,
        plugin: &str,
        tenant: Option<usize>,
        key: &str,
    ) -> (Option<Range<usize>>, String) {
        if let Some(index) = tenant
            && let Some(span) = self.value(&path!["tenants", index, "settings", plugin, key])
        {
            return (Some(span), format!("`{key}`"));
        }
        if let Some(span) = self.value(&path!["plugins", plugin, key]) {
            return (Some(span), format!("`{key}`"));
        }
        if let Some(span) = self.key(&path!["plugins", plugin]) {
            return (Some(span), format!("`{key}` is the default here"));
        }
        let span = tenant.and_then(|index| self.value(&path!["tenants", index, "id"]));
        (span, format!("`{key}` is the plugin's default"))
    }

    /// Checks that settings name loaded plugins and declared settings, that every value fits
    /// the setting's declared schema, and that required settings are given fleet-wide.
    pub(super) fn settings(&mut self, plugins: &[PluginDeclaration]) {
        let config = &self.file.config;
        let fleet_wide = config
            .plugins
            .iter()
            .map(|(plugin, table)| (path!["plugins", plugin].to_vec(), plugin, table));
        let per_tenant = config.tenants.iter().enumerate().flat_map(|(index, tenant)| {
            tenant.settings.iter().map(move |(plugin, table)| {
                (
                    path!["tenants", index, "settings", plugin].to_vec(),
                    plugin,
                    table,
                )
            })
        });
        let layers: Vec<_> = fleet_wide.chain(per_tenant).collect();
        let loaded: Vec<&str> = plugins.iter().map(|p| p.name.as_str()).collect();
        for (at, plugin, table) in layers {
            let Some(declared) = plugins.iter().find(|p| p.name == *plugin) else {
                let problem =
                    Diagnostic::error(format!("settings for plugin `{plugin}`, which is not loaded"))
                        .at(self.key(&at), "no such plugin")
                        .note(format!("loaded plugins: {}", list_or_none(&loaded)))
                        .help("fix the plugin's name, or add its component to the --plugins folder");
                self.problems.push(problem);
                continue;
            };
            for (key, value) in table {
                let mut setting = at.clone();
                setting.push(Segment::from(key));
                let Some(schema) = declared.settings.iter().find(|s| s.name == *key) else {
                    let known: Vec<&str> = declared.settings.iter().map(|s| s.name.as_str()).collect();
                    let problem = Diagnostic::error(format!("plugin `{plugin}` has no setting `{key}`"))
                        .at(self.key(&setting), "not declared by the plugin")
                        .note(format!("its settings: {}", list_or_none(&known)))
                        .help("fix the setting's name, or remove it");
                    self.problems.push(problem);
                    continue;
                };
                let json = serde_json::to_value(value).expect("TOML values convert to JSON");
                let size = json.to_string().len();
                if size > crate::result_limits::MAX_SETTING_BYTES {
                    let problem = Diagnostic::error(format!(
                        "setting `{key}` of plugin `{plugin}` is {size} bytes, more than the limit of {} bytes",
                        crate::result_limits::MAX_SETTING_BYTES
                    ))
                    .at(self.key(&setting), "too large")
                    .help("settings configure a plugin; keep data out of them");
                    self.problems.push(problem);
                } else if let Some(why) = schema.problem(&json) {
                    let (why, label) = if schema.has_type(&json) {
                        (why, "not allowed")
                    } else {
                        let found = toml_type(value);
                        (format!("{why}, not {found}"), found)
                    };
                    let mut problem =
                        Diagnostic::error(format!("setting `{key}` of plugin `{plugin}` {why}"))
                            .at(self.value(&setting), label);
                    if !schema.description.is_empty() {
                        problem = problem.note(format!("`{key}`: {}", schema.description));
                    }
                    let help = match &schema.default {
                        Some(default) => {
                            format!("write {}, like the default {default}", schema.kind.describe())
                        }
                        None => format!("write {}", schema.kind.describe()),
                    };
                    self.problems.push(problem.help(help));
                }
            }
        }
        for plugin in plugins {
            let table = config.plugins.get(&plugin.name);
            for setting in plugin.settings.iter().filter(|s| s.required) {
                if table.is_some_and(|t| t.contains_key(&setting.name)) {
                    continue;
                }
                let span = table.and_then(|_| self.key(&path!["plugins", &plugin.name]));
                let problem = Diagnostic::error(format!(
                    "plugin `{}` requires setting `{}`, which the configuration does not give",
                    plugin.name, setting.name
                ))
                .at(span, "missing here")
                .note(format!("`{}`: {}", setting.name, setting.description))
                .help(format!(
                    "add `{} = ...` ({}) to `[plugins.{}]`",
                    setting.name,
                    setting.kind.describe(),
                    plugin.name
                ));
                self.problems.push(problem);
            }
        }
    }
}

/// The type of a configured value, in the words of `SettingType::describe`.
fn toml_type(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::String(_) => "a string",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
        toml::Value::Datetime(_) => "a datetime",
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{file, logging_plan_error};

    #[test]
    fn settings_are_checked_against_the_declared_schema() {
        let config = file(
            "[plugins.logging]\nretention-days = \"30\"\nretention = 1\n[plugins.loging]\nx = 1\n[[tenants]]\nid = \"a\"\n[tenants.settings.logging]\nretention-days = 0\n",
        );
        let error = logging_plan_error(&config);
        for needle in [
            "plugin `logging` has no setting `retention`",
            "setting `retention-days` of plugin `logging` must be an integer, not a string",
            "tenants.toml:6:18",
            "setting `retention-days` of plugin `logging` must be at least 1, not 0",
            "tenants.toml:13:18",
            "plugin `logging` requires setting `archive-bucket`, which the configuration does not give",
            "settings for plugin `loging`, which is not loaded",
        ] {
            assert!(error.contains(needle), "{needle}: {error}");
        }
    }
}
