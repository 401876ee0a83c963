//! Runs every plugin for one stack, in provider order, and composes the results; the
//! [`pipeline`](crate::pipeline) runs the stacks, which are independent, in parallel.
//!
//! Within one stack there are two passes. First every plugin that declares `contributes-to` is
//! asked what it adds at other plugins' extension points; then every plugin synthesizes in
//! dependency order, and each owner of an extension point receives what was contributed to it.
//! Contributions are collected before any plugin synthesizes because a contributor usually
//! depends on the owner's values (the backup vault needs crypto's key), so the owner runs first.

use crate::compose::{ComposeError, ComposedStack, compose};
use crate::config::PluginSettings;
use crate::order::{OrderError, check_extension_points, order_plugins, stack_kind_name};
use crate::plugin::{CallError, CallFailure, Function, LoadedPlugin, Runtime, api};
use crate::tenants::{CrossChecks, Fleet, SettingProblem, SettingsCheck, Tenant};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Why synthesis failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The plugins cannot be ordered.
    #[error(transparent)]
    Order(#[from] OrderError),
    /// A plugin call failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// A plugin's provided values do not match its declaration.
    #[error("plugin `{plugin}` in stack `{stack}`: {problem}")]
    Provides {
        /// The plugin.
        plugin: String,
        /// The stack.
        stack: String,
        /// What is wrong.
        problem: String,
    },
    /// A required value was not provided by any plugin that ran before the requiring one.
    #[error(
        "plugin `{plugin}` in stack `{stack}` requires `{value}`, but no plugin that ran before it provided it"
    )]
    MissingInput {
        /// The requiring plugin.
        plugin: String,
        /// The stack.
        stack: String,
        /// The value.
        value: String,
    },
    /// A plugin contributed to an extension point it did not declare, or something unusable.
    #[error("plugin `{plugin}` in stack `{stack}`: {problem}")]
    Contribution {
        /// The contributing plugin.
        plugin: String,
        /// The stack.
        stack: String,
        /// What is wrong.
        problem: String,
    },
    /// Fragments could not be composed.
    #[error(transparent)]
    Compose(#[from] ComposeError),
    /// A checked stack could not be written.
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    /// The first failure of parallel work, which cancelled the rest.
    #[error("{first}\n(this failure stopped the run: {skipped} of {total} {work} skipped or interrupted)")]
    Stopped {
        /// The failure that stopped the run.
        first: Box<SynthError>,
        /// Items of work not started or interrupted because of it.
        skipped: usize,
        /// Items of work in all.
        total: usize,
        /// What an item is, plural: `stacks`, `stack checks`, `fleet checks`.
        work: &'static str,
    },
}

impl SynthError {
    /// Whether this is only the consequence of another failure's cancellation.
    fn is_cancellation(&self) -> bool {
        matches!(
            self,
            SynthError::Call(CallError {
                failure: CallFailure::Cancelled,
                ..
            })
        )
    }
}

/// Orders `plugins` in place so that providers come first.
pub fn sort_by_dependencies(plugins: &mut Vec<LoadedPlugin>) -> Result<(), OrderError> {
    let infos: Vec<&api::PluginInfo> = plugins.iter().map(|p| &p.info).collect();
    check_extension_points(&infos)?;
    let order = order_plugins(&infos)?;
    let mut slots: Vec<Option<LoadedPlugin>> = plugins.drain(..).map(Some).collect();
    plugins.extend(
        order
            .into_iter()
            .map(|i| slots[i].take().expect("each index appears once")),
    );
    Ok(())
}

/// The plugin's settings for a stack, resolved once by the plan: fleet-wide for the central
/// stack and fleet checks, the tenant's for its stack.
pub fn resolved_settings<'a>(
    plugin: &LoadedPlugin,
    fleet: &'a Fleet,
    tenant: Option<&'a Tenant>,
) -> &'a PluginSettings {
    let by_plugin = tenant.map_or(&fleet.plugin_settings, |t| &t.settings);
    by_plugin
        .get(plugin.name())
        .expect("the plan resolves the settings of every loaded plugin")
}

/// The loaded plugins' `validate-settings`, for the configuration pass, run side by side.
#[derive(Debug)]
pub struct PluginCrossChecks<'a> {
    /// The runtime to call them in.
    pub runtime: &'a Runtime,
    /// The loaded plugins.
    pub plugins: &'a [LoadedPlugin],
}

impl CrossChecks for PluginCrossChecks<'_> {
    fn check(&self, requests: &[SettingsCheck<'_>]) -> Vec<Result<Vec<SettingProblem>, String>> {
        parallel_map(requests, |request| {
            let plugin = self
                .plugins
                .iter()
                .find(|p| p.name() == request.plugin)
                .expect("the plan asks only about loaded plugins");
            let tenant = request.tenant.map(|(id, block)| api::Tenant {
                id: id.into(),
                cidr_block: block.to_string(),
            });
            let settings = tenant_plugin_sdk::json_text(request.settings);
            let problems = plugin
                .validate_settings(self.runtime, &settings, tenant.as_ref())
                .map_err(|e| e.to_string())?;
            Ok(problems
                .into_iter()
                .map(|p| SettingProblem {
                    key: p.key,
                    message: p.message,
                })
                .collect())
        })
    }
}

/// The wire form of a tenant.
pub fn wire_tenant(tenant: &Tenant) -> api::Tenant {
    api::Tenant {
        id: tenant.id.clone(),
        cidr_block: tenant.cidr_block.to_string(),
    }
}

/// Synthesizes and composes one stack; `plugins` must be in dependency order.
pub(crate) fn synthesize_stack(
    runtime: &Runtime,
    plugins: &[LoadedPlugin],
    fleet: &Fleet,
    name: &str,
    tenant: Option<&Tenant>,
    fleet_needs: &BTreeSet<&str>,
) -> Result<ComposedStack, SynthError> {
    let (kind, function) = match tenant {
        Some(_) => (api::StackKind::Tenant, Function::SynthesizeTenant),
        None => (api::StackKind::Central, Function::SynthesizeCentral),
    };
    let fleet_view = match tenant {
        Some(_) => Vec::new(),
        None => fleet.tenants.iter().map(wire_tenant).collect(),
    };
    let settings_by_plugin: BTreeMap<String, String> = plugins
        .iter()
        .map(|p| {
            (
                p.name().to_owned(),
                tenant_plugin_sdk::json_text(resolved_settings(p, fleet, tenant)),
            )
        })
        .collect();
    let context_of = |plugin: &LoadedPlugin| api::StackContext {
        stack: name.into(),
        tenant: tenant.map(wire_tenant),
        fleet: fleet_view.clone(),
        environment_suffix: fleet.suffix.clone(),
        region: fleet.region.clone(),
        settings: settings_by_plugin[plugin.name()].clone(),
        inputs: Vec::new(),
        contributions: Vec::new(),
    };
    let mut received = collect_contributions(runtime, plugins, name, kind, &context_of)?;
    let mut provided: BTreeMap<String, api::Value> = BTreeMap::new();
    let mut fragments = Vec::new();
    for plugin in plugins {
        let mut context = context_of(plugin);
        context.inputs = stack_inputs(&plugin.info, name, kind, &provided)?;
        context.contributions = plugin
            .info
            .accepts
            .iter()
            .filter(|point| point.stack == kind)
            .flat_map(|point| received.remove(&point.name).unwrap_or_default())
            .collect();
        let fragment = plugin.synthesize(runtime, function, &context)?;
        record_provided(plugin, name, kind, &fragment, &mut provided)?;
        fragments.push((plugin.name().to_owned(), fragment));
    }
    if let Some((point, contributions)) = received.into_iter().next() {
        return Err(SynthError::Contribution {
            plugin: contributions[0].contributor.clone(),
            stack: name.into(),
            problem: format!(
                "contributed to `{point}`, which its owner does not accept in {} stacks",
                stack_kind_name(kind)
            ),
        });
    }
    Ok(compose(
        fleet,
        name,
        tenant,
        fragments,
        settings_by_plugin,
        fleet_needs,
    )?)
}

/// The contribute pass of one stack: what every plugin that contributes to a point of this kind
/// of stack adds at each extension point, in plugin order and then in the order each plugin
/// returned them.
fn collect_contributions(
    runtime: &Runtime,
    plugins: &[LoadedPlugin],
    stack: &str,
    kind: api::StackKind,
    context_of: &dyn Fn(&LoadedPlugin) -> api::StackContext,
) -> Result<BTreeMap<String, Vec<api::ReceivedContribution>>, SynthError> {
    let points_here: BTreeSet<&str> = plugins
        .iter()
        .flat_map(|p| &p.info.accepts)
        .filter(|point| point.stack == kind)
        .map(|point| point.name.as_str())
        .collect();
    let contributes_here = |plugin: &&LoadedPlugin| {
        plugin
            .info
            .contributes_to
            .iter()
            .any(|p| points_here.contains(p.as_str()))
    };
    let mut received: BTreeMap<String, Vec<api::ReceivedContribution>> = BTreeMap::new();
    for plugin in plugins.iter().filter(contributes_here) {
        for contribution in plugin.contribute(runtime, &context_of(plugin))? {
            let problem = if !plugin.info.contributes_to.contains(&contribution.point) {
                Some(format!(
                    "contributed to `{}`, which it does not list in `contributes-to`",
                    contribution.point
                ))
            } else {
                serde_json::from_str::<Value>(&contribution.body)
                    .err()
                    .map(|e| format!("its contribution to `{}` is not JSON: {e}", contribution.point))
            };
            if let Some(problem) = problem {
                return Err(SynthError::Contribution {
                    plugin: plugin.name().into(),
                    stack: stack.into(),
                    problem,
                });
            }
            received
                .entry(contribution.point.clone())
                .or_default()
                .push(api::ReceivedContribution {
                    contributor: plugin.name().into(),
                    contribution,
                });
        }
    }
    Ok(received)
}

/// The values `info` requires in this kind of stack, taken from what the plugins that ran before
/// it provided; a value nobody provided yet is an error, not a panic.
fn stack_inputs(
    info: &api::PluginInfo,
    stack: &str,
    kind: api::StackKind,
    provided: &BTreeMap<String, api::Value>,
) -> Result<Vec<api::NamedValue>, SynthError> {
    info.requires
        .iter()
        .filter(|r| r.stack == kind)
        .map(|r| {
            let value = provided.get(&r.name).ok_or_else(|| SynthError::MissingInput {
                plugin: info.name.clone(),
                stack: stack.into(),
                value: r.name.clone(),
            })?;
            Ok(api::NamedValue {
                name: r.name.clone(),
                value: value.clone(),
            })
        })
        .collect()
}

/// Checks that a fragment provides exactly the values its plugin declared for this kind of stack,
/// and records them for the plugins that follow.
fn record_provided(
    plugin: &LoadedPlugin,
    stack: &str,
    kind: api::StackKind,
    fragment: &api::Fragment,
    provided: &mut BTreeMap<String, api::Value>,
) -> Result<(), SynthError> {
    let problem = |problem: String| SynthError::Provides {
        plugin: plugin.name().into(),
        stack: stack.into(),
        problem,
    };
    let declared: Vec<&api::ValueDeclaration> =
        plugin.info.provides.iter().filter(|d| d.stack == kind).collect();
    for value in &fragment.provides {
        let Some(declaration) = declared.iter().find(|d| d.name == value.name) else {
            return Err(problem(format!(
                "provides `{}`, which it does not declare for {} stacks",
                value.name,
                stack_kind_name(kind)
            )));
        };
        let shape_matches = matches!(
            (&value.value, declaration.kind),
            (api::Value::Text(_), api::ValueKind::Text) | (api::Value::TextList(_), api::ValueKind::TextList)
        );
        if !shape_matches {
            return Err(problem(format!(
                "provides `{}` in another shape than it declares",
                value.name
            )));
        }
        if provided.insert(value.name.clone(), value.value.clone()).is_some() {
            return Err(problem(format!("provides `{}` twice", value.name)));
        }
    }
    if let Some(missing) = declared
        .iter()
        .map(|d| &d.name)
        .find(|name| !provided.contains_key(*name))
    {
        return Err(problem(format!(
            "declares that it provides `{missing}` but did not provide it"
        )));
    }
    Ok(())
}

/// Maps `items` with the fallible `f` like [`parallel_map`], but the first failure stops the
/// rest: items not started yet are skipped, and `runtime` is cancelled so that running plugin
/// calls are interrupted within one epoch tick. The error is the first failure in item order that
/// is not a cancellation, with how many of the `work` items were skipped or interrupted.
pub fn parallel_try_map<T: Sync, R: Send>(
    runtime: &Runtime,
    items: &[T],
    work: &'static str,
    f: impl Fn(&T) -> Result<R, SynthError> + Sync,
) -> Result<Vec<R>, SynthError> {
    let failed = std::sync::atomic::AtomicBool::new(false);
    let results = parallel_map(items, |item| {
        if failed.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        let result = f(item);
        if result.is_err() && !failed.swap(true, std::sync::atomic::Ordering::Relaxed) {
            runtime.cancel();
        }
        Some(result)
    });
    let mut done = Vec::with_capacity(items.len());
    let mut first: Option<SynthError> = None;
    let mut cancellation: Option<SynthError> = None;
    let mut skipped = 0;
    for result in results {
        match result {
            Some(Ok(value)) => done.push(value),
            Some(Err(error)) if error.is_cancellation() => {
                skipped += 1;
                cancellation.get_or_insert(error);
            }
            Some(Err(error)) => {
                first.get_or_insert(error);
            }
            None => skipped += 1,
        }
    }
    match first.or(cancellation) {
        None => Ok(done),
        Some(first) if skipped == 0 => Err(first),
        Some(first) => Err(SynthError::Stopped {
            first: Box::new(first),
            skipped,
            total: items.len(),
            work,
        }),
    }
}

/// Maps `items` with `f` on up to as many threads as the machine has cores, keeping the order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("synthesis threads do not panic"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_map_keeps_order() {
        let items: Vec<u32> = (0..103).collect();
        assert_eq!(
            parallel_map(&items, |x| x * 2),
            items.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
        assert!(parallel_map(&Vec::<u32>::new(), |x| *x).is_empty());
    }

    #[test]
    fn the_first_failure_stops_the_rest_and_says_how_much() {
        let runtime = Runtime::new(crate::plugin::Limits::default(), crate::plugin::CodeTier::Quick).unwrap();
        let items: Vec<usize> = (0..200).collect();
        let started = std::sync::atomic::AtomicUsize::new(0);
        let error = parallel_try_map(&runtime, &items, "stacks", |&i| {
            started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if i == 3 {
                return Err(SynthError::MissingInput {
                    plugin: "p".into(),
                    stack: format!("s{i}"),
                    value: "v".into(),
                });
            }
            // The other items take a while, so that the failure comes before most start.
            std::thread::sleep(std::time::Duration::from_millis(2));
            Ok(i)
        })
        .unwrap_err();
        let ran = started.load(std::sync::atomic::Ordering::Relaxed);
        let SynthError::Stopped {
            first,
            skipped,
            total,
            work,
        } = &error
        else {
            panic!("not stopped: {error}");
        };
        assert!(first.to_string().contains("in stack `s3`"), "{first}");
        assert_eq!((*total, *work), (200, "stacks"));
        assert_eq!(*skipped, 200 - ran, "every item not started is counted");
        assert!(ran < 150, "{ran} of 200 items ran after the failure");
        assert!(error.to_string().contains("skipped or interrupted"), "{error}");
        let all = parallel_try_map(&runtime, &items, "stacks", |&i| Ok(i)).unwrap();
        assert_eq!(all, items);
    }

    fn requiring(name: &str, values: &[(&str, api::StackKind)]) -> api::PluginInfo {
        api::PluginInfo {
            requires: values
                .iter()
                .map(|(value, stack)| api::ValueDeclaration {
                    name: (*value).into(),
                    stack: *stack,
                    kind: api::ValueKind::Text,
                    description: String::new(),
                })
                .collect(),
            ..crate::plugin::bare_info(name)
        }
    }

    #[test]
    fn inputs_are_the_provided_values_of_this_kind_of_stack() {
        let info = requiring(
            "compute",
            &[("key", api::StackKind::Tenant), ("bus", api::StackKind::Central)],
        );
        let provided = BTreeMap::from([("key".to_owned(), api::Value::Text("arn:key".to_owned()))]);
        let inputs = stack_inputs(&info, "tenant-a-dev", api::StackKind::Tenant, &provided).unwrap();
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs[0].name, "key");
        assert!(matches!(&inputs[0].value, api::Value::Text(arn) if arn == "arn:key"));
    }

    #[test]
    fn an_input_nobody_provided_yet_is_an_error_not_a_panic() {
        let info = requiring("loop", &[("key", api::StackKind::Tenant)]);
        let error = stack_inputs(&info, "tenant-a-dev", api::StackKind::Tenant, &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "plugin `loop` in stack `tenant-a-dev` requires `key`, but no plugin that ran before it provided it"
        );
    }
}
