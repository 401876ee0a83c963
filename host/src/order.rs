//! Orders plugins so that every provider of a value runs before the plugins that require it, and
//! checks that values and extension points fit together: a required value has the shape its
//! provider gives, and every contribution goes to exactly one owner.

use crate::plugin::api::{PluginInfo, StackKind, ValueKind};
use std::collections::{BTreeMap, BTreeSet};

/// Why plugins cannot be ordered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// A required value has no provider.
    #[error("plugin `{plugin}` requires `{value}` in {stack} stacks, but no loaded plugin provides it")]
    MissingProvider {
        /// The requiring plugin.
        plugin: String,
        /// The value.
        value: String,
        /// `central` or `tenant`.
        stack: &'static str,
    },
    /// Two plugins provide one value.
    #[error("plugins `{first}` and `{second}` both provide `{value}` in {stack} stacks; remove one of them")]
    DuplicateProvider {
        /// The value.
        value: String,
        /// `central` or `tenant`.
        stack: &'static str,
        /// One provider.
        first: String,
        /// The other.
        second: String,
    },
    /// A plugin requires a value that it provides itself, for the same kind of stack.
    #[error(
        "plugin `{plugin}` both provides and requires `{value}` in {stack} stacks; a plugin cannot require its own value, so remove it from `requires`"
    )]
    SelfRequirement {
        /// The plugin.
        plugin: String,
        /// The value.
        value: String,
        /// `central` or `tenant`.
        stack: &'static str,
    },
    /// A value is required in another shape than its provider gives.
    #[error(
        "plugin `{plugin}` requires `{value}` as {wanted}, but plugin `{provider}` provides it as {given}"
    )]
    ValueKindMismatch {
        /// The requiring plugin.
        plugin: String,
        /// The value.
        value: String,
        /// The shape the requiring plugin declared.
        wanted: &'static str,
        /// The provider.
        provider: String,
        /// The shape the provider declared.
        given: &'static str,
    },
    /// Two plugins accept contributions at the same extension point.
    #[error("plugins `{first}` and `{second}` both own the extension point `{point}`; remove one of them")]
    DuplicateExtensionPoint {
        /// The point.
        point: String,
        /// One owner.
        first: String,
        /// The other.
        second: String,
    },
    /// A plugin contributes to an extension point no loaded plugin accepts.
    #[error(
        "plugin `{plugin}` contributes to the extension point `{point}`, but no loaded plugin accepts it"
    )]
    UnknownExtensionPoint {
        /// The contributing plugin.
        plugin: String,
        /// The point.
        point: String,
    },
    /// The requirements form a cycle.
    #[error("plugins {} require each other's values in a cycle", plugins.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "))]
    Cycle {
        /// The plugins on or behind the cycle.
        plugins: Vec<String>,
    },
}

/// The name of a stack kind in messages.
pub fn stack_kind_name(kind: StackKind) -> &'static str {
    match kind {
        StackKind::Central => "central",
        StackKind::Tenant => "tenant",
    }
}

fn value_kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Text => "text",
        ValueKind::TextList => "a text list",
    }
}

/// Checks that every extension point has one owner and every contribution goes to a known point.
pub fn check_extension_points(plugins: &[&PluginInfo]) -> Result<(), OrderError> {
    let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
    for plugin in plugins {
        for point in &plugin.accepts {
            if let Some(first) = owners.insert(&point.name, &plugin.name) {
                return Err(OrderError::DuplicateExtensionPoint {
                    point: point.name.clone(),
                    first: first.into(),
                    second: plugin.name.clone(),
                });
            }
        }
    }
    for plugin in plugins {
        if let Some(point) = plugin
            .contributes_to
            .iter()
            .find(|p| !owners.contains_key(p.as_str()))
        {
            return Err(OrderError::UnknownExtensionPoint {
                plugin: plugin.name.clone(),
                point: point.clone(),
            });
        }
    }
    Ok(())
}

/// Returns the indices of `plugins` in an order where providers come first; among plugins free
/// to run, the one with the smaller name goes first, so the order is deterministic.
pub fn order_plugins(plugins: &[&PluginInfo]) -> Result<Vec<usize>, OrderError> {
    let mut providers: BTreeMap<(&str, &'static str), usize> = BTreeMap::new();
    for (index, plugin) in plugins.iter().enumerate() {
        for value in &plugin.provides {
            let key = (value.name.as_str(), stack_kind_name(value.stack));
            if let Some(&first) = providers.get(&key) {
                return Err(OrderError::DuplicateProvider {
                    value: value.name.clone(),
                    stack: key.1,
                    first: plugins[first].name.clone(),
                    second: plugin.name.clone(),
                });
            }
            providers.insert(key, index);
        }
    }
    let mut depends_on: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); plugins.len()];
    for (index, plugin) in plugins.iter().enumerate() {
        for value in &plugin.requires {
            let stack = stack_kind_name(value.stack);
            let provider =
                providers
                    .get(&(value.name.as_str(), stack))
                    .ok_or_else(|| OrderError::MissingProvider {
                        plugin: plugin.name.clone(),
                        value: value.name.clone(),
                        stack,
                    })?;
            if *provider == index {
                return Err(OrderError::SelfRequirement {
                    plugin: plugin.name.clone(),
                    value: value.name.clone(),
                    stack,
                });
            }
            let given = plugins[*provider]
                .provides
                .iter()
                .find(|p| p.name == value.name && p.stack == value.stack)
                .map_or(value.kind, |p| p.kind);
            if given != value.kind {
                return Err(OrderError::ValueKindMismatch {
                    plugin: plugin.name.clone(),
                    value: value.name.clone(),
                    wanted: value_kind_name(value.kind),
                    provider: plugins[*provider].name.clone(),
                    given: value_kind_name(given),
                });
            }
            depends_on[index].insert(*provider);
        }
    }
    let mut done = BTreeSet::new();
    let mut order = Vec::new();
    while order.len() < plugins.len() {
        let next = (0..plugins.len())
            .filter(|i| !done.contains(i) && depends_on[*i].is_subset(&done))
            .min_by_key(|i| &plugins[*i].name);
        let Some(next) = next else {
            let mut stuck: Vec<String> = (0..plugins.len())
                .filter(|i| !done.contains(i))
                .map(|i| plugins[i].name.clone())
                .collect();
            stuck.sort();
            return Err(OrderError::Cycle { plugins: stuck });
        };
        done.insert(next);
        order.push(next);
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::api::{ExtensionPoint, ValueDeclaration};

    fn plugin(name: &str, provides: &[&str], requires: &[&str]) -> PluginInfo {
        let declare = |names: &[&str]| {
            names
                .iter()
                .map(|n| ValueDeclaration {
                    name: (*n).into(),
                    stack: StackKind::Tenant,
                    kind: ValueKind::Text,
                    description: String::new(),
                })
                .collect()
        };
        PluginInfo {
            provides: declare(provides),
            requires: declare(requires),
            ..crate::plugin::bare_info(name)
        }
    }

    fn names(plugins: &[PluginInfo]) -> Result<Vec<String>, OrderError> {
        let refs: Vec<&PluginInfo> = plugins.iter().collect();
        Ok(order_plugins(&refs)?
            .into_iter()
            .map(|i| plugins[i].name.clone())
            .collect())
    }

    #[test]
    fn providers_run_first_and_ties_break_by_name() {
        let plugins = [
            plugin("compute", &[], &["key"]),
            plugin("crypto", &["key"], &[]),
            plugin("audit", &[], &[]),
        ];
        assert_eq!(names(&plugins).unwrap(), ["audit", "crypto", "compute"]);
    }

    #[test]
    fn ordering_errors_name_the_plugins() {
        let missing = [plugin("compute", &[], &["key"])];
        assert!(matches!(names(&missing), Err(OrderError::MissingProvider { .. })));
        let duplicate = [plugin("a", &["key"], &[]), plugin("b", &["key"], &[])];
        let error = names(&duplicate).unwrap_err().to_string();
        assert!(error.contains("`a` and `b` both provide `key`"), "{error}");
        let cycle = [
            plugin("a", &["x"], &["y"]),
            plugin("b", &["y"], &["x"]),
            plugin("c", &[], &[]),
        ];
        assert_eq!(
            names(&cycle).unwrap_err(),
            OrderError::Cycle {
                plugins: vec!["a".into(), "b".into()]
            }
        );
    }

    #[test]
    fn a_plugin_requiring_its_own_value_is_an_error() {
        let plugins = [plugin("other", &[], &[]), plugin("loop", &["key"], &["key"])];
        let error = names(&plugins).unwrap_err();
        assert_eq!(
            error,
            OrderError::SelfRequirement {
                plugin: "loop".into(),
                value: "key".into(),
                stack: "tenant",
            }
        );
        let message = error.to_string();
        assert!(
            message.contains("plugin `loop` both provides and requires `key` in tenant stacks"),
            "{message}"
        );
    }

    #[test]
    fn providing_for_one_stack_kind_and_requiring_for_the_other_is_no_self_requirement() {
        let mut both = plugin("both", &["key"], &[]);
        both.requires = vec![ValueDeclaration {
            name: "key".into(),
            stack: StackKind::Central,
            kind: ValueKind::Text,
            description: String::new(),
        }];
        let mut central = plugin("central", &[], &[]);
        central.provides = vec![ValueDeclaration {
            name: "key".into(),
            stack: StackKind::Central,
            kind: ValueKind::Text,
            description: String::new(),
        }];
        assert_eq!(names(&[both, central]).unwrap(), ["central", "both"]);
    }

    #[test]
    fn a_value_required_in_another_shape_is_refused() {
        let mut network = plugin("network", &["subnet-ids"], &[]);
        network.provides[0].kind = ValueKind::TextList;
        let compute = plugin("compute", &[], &["subnet-ids"]);
        let error = names(&[network, compute]).unwrap_err().to_string();
        assert_eq!(
            error,
            "plugin `compute` requires `subnet-ids` as text, but plugin `network` provides it as a text list"
        );
    }

    #[test]
    fn every_contribution_needs_exactly_one_owner() {
        let point = |name: &str| ExtensionPoint {
            name: name.into(),
            stack: StackKind::Tenant,
            description: String::new(),
        };
        let crypto = PluginInfo {
            accepts: vec![point("tenant-key-policy")],
            ..plugin("crypto", &[], &[])
        };
        let backup = PluginInfo {
            contributes_to: vec!["tenant-key-policy".into()],
            ..plugin("backup", &[], &[])
        };
        assert_eq!(check_extension_points(&[&crypto, &backup]), Ok(()));
        assert_eq!(
            check_extension_points(&[&backup]).unwrap_err().to_string(),
            "plugin `backup` contributes to the extension point `tenant-key-policy`, but no loaded plugin accepts it"
        );
        let rival = PluginInfo {
            accepts: vec![point("tenant-key-policy")],
            ..plugin("rival", &[], &[])
        };
        assert!(matches!(
            check_extension_points(&[&crypto, &rival]),
            Err(OrderError::DuplicateExtensionPoint { .. })
        ));
    }
}
