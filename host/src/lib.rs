//! tenant-host: isolated per-tenant AWS environments, synthesized as Terraform JSON by composing
//! WebAssembly policy plugins.
//!
//! The modules follow the data flow of one run:
//!
//! 1. [`config`] reads the fleet's TOML (or the built-in example);
//! 2. [`tenants`] validates it against what the loaded plugins [`declarations`] say (settings
//!    schema, name patterns; [`diagnostics`] points at the offending lines, [`names`] checks the
//!    length budget), resolves every plugin's settings once, asks the plugins to check them
//!    across fields, and gives each tenant its VPC block, recorded in the [`lock`] file;
//! 3. [`plugin`] loads the plugin components, checks their contract version, and calls them in
//!    a sandbox with no ambient authority and bounded time, memory and output;
//! 4. [`order`] orders plugins so that providers of values run before their consumers;
//! 5. the [`pipeline`] takes each stack in turn, on every core: [`synth`] asks every plugin for
//!    its fragment of the stack, [`compose`] merges the fragments, with backend and provider, into
//!    `cdk.tf.json`, [`check`] runs the host's [`guardrails`] and every plugin's rules over it, and
//!    the stack goes to its sink (for `synth`, the [`output`] folder being staged) before its
//!    document is dropped; what the fleet checks need is kept as the stack's record;
//! 6. [`check`] runs the fleet guardrails, the [`access`] model and every plugin's fleet rules over
//!    the records, and [`waivers`] marks the findings the configuration accepts;
//! 7. [`output`] swaps the staged folder in atomically, with each stack's [`digest`] in its
//!    manifest.
//!
//! [`run`] strings them together for the CLI and for benchmarks; [`report`] renders the findings
//! as text, JSON or SARIF. Around a run: the [`registry`] keeps the configuration and lock file in
//! S3 or a local file and changes them with conditional writes (`tenants add` and friends), and
//! [`rollout`] plans which stacks a deploy or the fleet rollout must apply, from the digests.

pub mod access;
pub mod bounded_read;
pub mod check;
pub mod compose;
pub mod config;
pub mod declarations;
pub mod diagnostics;
pub mod digest;
pub mod findings;
pub mod guardrails;
pub mod lock;
pub mod names;
pub mod order;
pub mod output;
pub mod pipeline;
pub mod plugin;
pub mod progress;
pub mod registry;
pub mod report;
pub mod result_limits;
pub mod rollout;
pub mod schema;
pub mod synth;
pub mod tenants;
pub mod waivers;

use std::path::PathBuf;

/// What a run needs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The folder holding the plugin components.
    pub plugins: PathBuf,
    /// The configuration file; `None` for the built-in example.
    pub config: Option<PathBuf>,
    /// A fleet registry URL (`s3://bucket/prefix`) to read the configuration and lock file
    /// from, instead of `config`.
    pub registry: Option<String>,
    /// The suffix from the flag or `ENVIRONMENT_SUFFIX`.
    pub suffix: Option<String>,
    /// The bounds of every plugin call.
    pub limits: plugin::Limits,
    /// How the plugins are compiled; `None`: by the fleet's size ([`plugin::CodeTier::for_fleet`]).
    pub code: Option<plugin::CodeTier>,
    /// A provider schema (`terraform providers schema -json`); `None` for the embedded AWS provider schema.
    pub schema: Option<PathBuf>,
    /// `--locked`, `--release` and `--tenant`.
    pub plan: tenants::PlanOptions,
    /// Keep every access intent's verdict in the outcome (`tenant-host access` shows them all);
    /// otherwise only the failing ones are kept, with counts. A fleet has dozens per tenant.
    pub every_intent_verdict: bool,
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// The loaded plugins, in dependency order.
    pub plugins: Vec<plugin::LoadedPlugin>,
    /// The validated fleet.
    pub fleet: tenants::Fleet,
    /// What is kept of each stack: central first, then tenants in configuration order.
    pub stacks: Vec<pipeline::StackRecord>,
    /// Every finding, sorted.
    pub findings: Vec<check::Finding>,
    /// Every stack's digest (see [`digest`]), by stack name.
    pub digests: std::collections::BTreeMap<String, String>,
    /// The lock file to write once the output is written.
    pub lock: lock::LockUpdate,
    /// The access model's verdicts.
    pub access: access::AccessReport,
    /// The largest input each plugin function received, by scope: what a plugin is given grows
    /// with the fleet only in the fleet and central scopes.
    pub largest_inputs: Vec<plugin::LargestInput>,
}

impl Outcome {
    /// Whether any finding is an error that no waiver accepts.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(check::Finding::is_blocking)
    }
}

/// Why a run failed before it could report findings.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    /// The provider schema could not be read or parsed.
    #[error("provider schema {path}: {message}")]
    Schema {
        /// The file, or `bundled`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The runtime could not start.
    #[error("cannot start the WebAssembly runtime: {0:#}")]
    Runtime(wasmtime::Error),
    /// A plugin could not be loaded.
    #[error(transparent)]
    Load(#[from] plugin::LoadError),
    /// Synthesis or checks failed.
    #[error(transparent)]
    Synth(#[from] synth::SynthError),
    /// The fleet registry could not be read.
    #[error(transparent)]
    Registry(#[from] registry::RegistryError),
}

/// Loads configuration and plugins, synthesizes every stack and runs every check, keeping no
/// stack's document.
pub fn run(options: &RunOptions) -> Result<Outcome, Error> {
    run_with_progress(options, &progress::Silent, &output::Discard)
}

/// [`run`], telling `progress` how far each phase has got and handing every checked stack to
/// `sink`.
pub fn run_with_progress(
    options: &RunOptions,
    progress: &dyn progress::Progress,
    sink: &dyn output::StackSink,
) -> Result<Outcome, Error> {
    let (config, previous_lock) = match (&options.registry, &options.config) {
        (Some(url), _) => {
            let snapshot = registry::Registry::open_url(url)?.snapshot()?;
            (snapshot.config, snapshot.lock)
        }
        (None, Some(path)) => {
            let config = config::ConfigFile::load(path)?;
            let lock = match config.lock_path() {
                Some(lock_path) => lock::Lock::read(&lock_path).map_err(config::ConfigError::from)?,
                None => None,
            };
            (config, lock)
        }
        (None, None) => (config::ConfigFile::example(), None),
    };
    // A registry's configuration has no path, so no lock file is written back beside it: its
    // blocks change only through `tenants add` and `tenants release`.
    let lock_path = config.lock_path();
    let started = std::time::Instant::now();
    let tier = options
        .code
        .unwrap_or_else(|| plugin::CodeTier::for_fleet(config.config.tenants.len()));
    let runtime = plugin::Runtime::new(options.limits, tier).map_err(Error::Runtime)?;
    // The provider schema loads while the plugins do (a `--schema` file is parsed whole, which
    // takes a while); a broken schema is still reported before a broken plugin.
    let (schema, plugins) = std::thread::scope(|scope| {
        let schema = scope.spawn(|| load_schema(options.schema.as_deref()));
        let plugins = plugin::load_plugins(&runtime, &options.plugins);
        (schema.join().expect("loading the schema does not panic"), plugins)
    });
    let schema = schema?;
    let mut plugins = plugins?;
    tracing::debug!(elapsed = ?started.elapsed(), count = plugins.len(), "loaded the provider schema and plugins");
    synth::sort_by_dependencies(&mut plugins).map_err(synth::SynthError::from)?;
    let declared = plugin_declarations(&plugins);
    let plan = tenants::plan_fleet(
        &config,
        options.suffix.as_deref(),
        previous_lock.as_ref(),
        &declared,
        &synth::PluginCrossChecks {
            runtime: &runtime,
            plugins: &plugins,
        },
        &options.plan,
    )?;
    let fleet = plan.fleet;
    tracing::debug!(order = ?plugins.iter().map(|p| p.name()).collect::<Vec<_>>(), "plugin order");
    let digests = digest::stack_digests(&plugins, &fleet);
    let (mut stacks, mut findings) = pipeline::Pipeline {
        runtime: &runtime,
        plugins: &plugins,
        fleet: &fleet,
        schema: &schema,
        digests: &digests,
        sink,
    }
    .run(progress)?;
    tracing::debug!(elapsed = ?started.elapsed(), stacks = stacks.len(), "synthesized and checked every stack");
    let (fleet_findings, access) = check::check_fleet(
        &runtime,
        &plugins,
        &fleet,
        &mut stacks,
        options.every_intent_verdict,
        progress,
    )?;
    findings.extend(fleet_findings);
    findings.sort();
    let known_rules = check::host_rules()
        .map(|r| r.id)
        .chain(
            plugins
                .iter()
                .flat_map(|p| p.info.rules.iter().map(|r| r.id.as_str())),
        )
        .collect();
    let findings = fleet
        .waivers
        .apply(findings, &known_rules, waivers::Date::today());
    tracing::debug!(elapsed = ?started.elapsed(), findings = findings.len(), "checked");
    let largest_inputs: Vec<plugin::LargestInput> = plugins
        .iter()
        .flat_map(plugin::LoadedPlugin::largest_inputs)
        .collect();
    for input in &largest_inputs {
        tracing::debug!(
            plugin = input.plugin,
            function = %input.function,
            scope = %input.scope,
            bytes = input.bytes,
            "largest input"
        );
    }
    Ok(Outcome {
        plugins,
        fleet,
        stacks,
        findings,
        digests,
        lock: lock::LockUpdate {
            path: lock_path,
            lock: plan.lock,
            changed: plan.lock_changed,
            retired: plan.retired,
        },
        access,
        largest_inputs,
    })
}

/// What the loaded plugins declare, for validating a configuration against them.
pub fn plugin_declarations(plugins: &[plugin::LoadedPlugin]) -> Vec<declarations::PluginDeclaration> {
    plugins.iter().map(|p| p.declaration.clone()).collect()
}

/// The provider schema from `path`, or the embedded AWS provider schema.
fn load_schema(path: Option<&std::path::Path>) -> Result<schema::ProviderSchema, Error> {
    let (label, text) = match path {
        Some(path) => {
            let text = bounded_read::read_to_string(path, bounded_read::MAX_SCHEMA_BYTES).map_err(|e| {
                Error::Schema {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }
            })?;
            (path.display().to_string(), text)
        }
        None => {
            return schema::ProviderSchema::embedded().map_err(|e| Error::Schema {
                path: schema::EMBEDDED_LABEL.to_owned(),
                message: e.to_string(),
            });
        }
    };
    schema::ProviderSchema::from_json(&text).map_err(|e| Error::Schema {
        path: label,
        message: e.to_string(),
    })
}
