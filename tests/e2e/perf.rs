//! The fleet-scale machinery: compiled components cached per user, and progress reporting.

use crate::support::*;
use std::process::Command;
use std::sync::Mutex;
use tenant_host::plugin::{Function, Scope};
use tenant_host::progress::{Phase, Progress};

/// Covers: a run with an empty cache compiles each plugin once into the user's cache
/// (`$XDG_CACHE_HOME/tenant-host/components`), and the next run loads it from there and sees the
/// same plugin. (One plugin: compiling in a test's dev build is slow.)
#[test]
fn compiled_components_are_cached_per_user_and_reused() {
    let plugins = plugin_dir(&[("crypto", "crypto.wasm")]);
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let list = || {
        let output = Command::new(env!("CARGO_BIN_EXE_tenant-host"))
            .current_dir(work.path())
            .args(["plugins", "list", "--plugins", plugins.path().to_str().unwrap()])
            .env("XDG_CACHE_HOME", &cache)
            .output()
            .expect("run tenant-host");
        assert_success(&output);
        output.stdout
    };
    let compiled = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(cache.join("tenant-host/components"))
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    assert!(compiled().is_empty());
    let first = list();
    let cached = compiled();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert!(cached[0].ends_with(".cwasm"), "{cached:?}");
    let file = cache.join("tenant-host/components").join(&cached[0]);
    let written = std::fs::metadata(&file).unwrap().modified().unwrap();
    let second = list();
    assert_eq!(compiled(), cached, "the second run compiles nothing new");
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        written,
        "nor rewrites the file"
    );
    assert_eq!(String::from_utf8_lossy(&first), String::from_utf8_lossy(&second));
    assert!(String::from_utf8_lossy(&first).contains("crypto"));
}

/// Covers: plugin code compiled in either tier synthesizes the same bytes; each tier keeps its own
/// compiled code in the cache; a run over the example (3 tenants) compiles quickly by default.
#[test]
fn both_code_tiers_synthesize_the_same_stacks() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let synth = |out: &str, code: Option<&str>| {
        let mut args = vec![
            "synth",
            "--plugins",
            plugins.path().to_str().unwrap(),
            "--out",
            out,
        ];
        args.extend(code.iter().flat_map(|kind| ["--plugin-code", kind]));
        let output = Command::new(env!("CARGO_BIN_EXE_tenant-host"))
            .current_dir(work.path())
            .args(&args)
            .env("XDG_CACHE_HOME", &cache)
            .env_remove("ENVIRONMENT_SUFFIX")
            .output()
            .expect("run tenant-host");
        assert_success(&output);
        read_tree(&work.path().join(out))
    };
    let compiled = || -> std::collections::BTreeSet<String> {
        std::fs::read_dir(cache.join("tenant-host/components"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let by_default = synth("default", None);
    let default_code = compiled();
    assert_eq!(default_code.len(), PRODUCT_PLUGINS.len(), "{default_code:?}");
    let quick = synth("quick", Some("quick"));
    assert_eq!(
        compiled(),
        default_code,
        "the example's default is the quick tier"
    );
    let optimized = synth("optimized", Some("optimized"));
    assert_eq!(
        compiled().difference(&default_code).count(),
        PRODUCT_PLUGINS.len(),
        "the optimized tier compiles and caches its own code"
    );
    assert!(!by_default.is_empty());
    assert!(
        quick == by_default,
        "the quick tier's output differs from the default run's"
    );
    assert!(optimized == quick, "the tiers' outputs differ");
}

/// A run of the plugins in `plugins` over `config` (`None`: the example) with default limits.
fn run_options(plugins: &std::path::Path, config: Option<std::path::PathBuf>) -> tenant_host::RunOptions {
    tenant_host::RunOptions {
        plugins: plugins.to_owned(),
        config,
        registry: None,
        suffix: None,
        limits: Default::default(),
        code: None,
        schema: None,
        plan: Default::default(),
        every_intent_verdict: false,
    }
}

/// Records what a run reports.
#[derive(Default)]
struct Recorded(Mutex<Vec<(Phase, usize, usize)>>);

impl Progress for Recorded {
    fn begin(&self, phase: Phase, total: usize) {
        self.0.lock().unwrap().push((phase, total, 0));
    }

    fn step(&self) {
        self.0.lock().unwrap().last_mut().expect("a phase began").2 += 1;
    }
}

/// Covers: every phase reports its size before it starts and one step per stack (or, for the
/// fleet checks, per plugin), from however many threads do the work.
#[test]
fn a_run_reports_each_phase_and_every_step() {
    let plugins = product_plugin_dir();
    let options = run_options(plugins.path(), None);
    let recorded = Recorded::default();
    let outcome = tenant_host::run_with_progress(&options, &recorded, &tenant_host::output::Discard).unwrap();
    let (stacks, plugins) = (outcome.stacks.len(), outcome.plugins.len());
    assert_eq!((stacks, plugins), (4, PRODUCT_PLUGINS.len()));
    assert_eq!(
        recorded.0.into_inner().unwrap(),
        [
            (Phase::Stacks, stacks, stacks),
            (Phase::CheckFleet, plugins, plugins),
        ]
    );
}

/// A fleet of `tenants` tenants `t-10`, `t-11`, … with blocks `10.10.0.0/16`, `10.11.0.0/16`, …:
/// every id and block has the same length, so any tenant's inputs have the same size in any fleet.
fn fleet_of(dir: &std::path::Path, tenants: usize) -> std::path::PathBuf {
    let mut config = String::from(
        "region = \"us-east-1\"\n[state-backend]\nbucket = \"tenant-host-state\"\nregion = \"us-east-1\"\n",
    );
    for index in 10..10 + tenants {
        config.push_str(&format!(
            "[[tenants]]\nid = \"t-{index}\"\ncidr-block = \"10.{index}.0.0/16\"\n"
        ));
    }
    let path = dir.join(format!("fleet-{tenants}.toml"));
    std::fs::write(&path, config).unwrap();
    path
}

/// Covers: what the host gives each plugin grows with the fleet only where the contract or the
/// plugin says it does. Going from 3 to 40 tenants, with the bundled plugins:
/// - no input about one tenant (its settings, its stack's context and document) grows by a byte;
/// - `synthesize-central` grows by exactly the fleet's tenant list (`stack-context.fleet`);
/// - `check-stack` of the central stack does not grow: its document names no tenant (tenants are
///   told apart by tags and name patterns);
/// - `check-fleet` of a plugin without `fleet-needs` does not grow (it gets no summaries); with
///   them, by at most 1 KiB per tenant.
#[test]
fn plugin_inputs_grow_with_the_fleet_only_where_declared() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let largest = |tenants: usize| {
        let options = run_options(plugins.path(), Some(fleet_of(work.path(), tenants)));
        let outcome = tenant_host::run_with_progress(
            &options,
            &tenant_host::progress::Silent,
            &tenant_host::output::Discard,
        )
        .unwrap();
        let needs: std::collections::BTreeMap<String, bool> = outcome
            .plugins
            .iter()
            .map(|p| (p.name().to_owned(), !p.info.fleet_needs.is_empty()))
            .collect();
        let sizes: std::collections::BTreeMap<_, _> = outcome
            .largest_inputs
            .into_iter()
            .map(|input| ((input.plugin, input.function, input.scope), input.bytes))
            .collect();
        (sizes, needs)
    };
    let (small, needs) = largest(3);
    let (large, _) = largest(40);
    let added = 37;
    assert_eq!(small.keys().collect::<Vec<_>>(), large.keys().collect::<Vec<_>>());
    assert_eq!(small.len(), 7 * PRODUCT_PLUGINS.len(), "{small:#?}");
    let tenant_list_entry = "t-10".len() + "10.10.0.0/16".len();
    for ((plugin, function, scope), &before) in &small {
        let after = large[&(plugin.clone(), *function, *scope)];
        let what = format!("{plugin} {function} ({scope}): {before} -> {after} bytes");
        match (function, scope) {
            (_, Scope::Tenant | Scope::Plugin) => assert_eq!(after, before, "{what}"),
            (Function::SynthesizeCentral, Scope::Central) => {
                assert_eq!(after, before + added * tenant_list_entry, "{what}")
            }
            (Function::CheckStack, Scope::Central) => assert_eq!(after, before, "{what}"),
            (Function::CheckFleet, Scope::Fleet) if needs[plugin] => {
                assert!(after > before && after <= before + added * 1024, "{what}")
            }
            (Function::CheckFleet, Scope::Fleet) => assert_eq!(after, before, "{what}"),
            _ => panic!("unexpected input: {what}"),
        }
    }
}

/// Covers: without a cache folder (neither `XDG_CACHE_HOME` nor `HOME`), plugins are compiled in
/// every run and the copy of each plugin's code for tenant calls is made in memory; a fleet of two
/// passes its checks. (Two plugins: compiling in a test's dev build is slow.)
#[test]
fn without_a_cache_folder_plugins_are_compiled_and_copied_in_memory() {
    let plugins = plugin_dir(&[("network", "network.wasm"), ("crypto", "crypto.wasm")]);
    let work = tempfile::tempdir().unwrap();
    let config = fleet_of(work.path(), 2);
    let output = Command::new(env!("CARGO_BIN_EXE_tenant-host"))
        .current_dir(work.path())
        .args(["check", "--plugins", plugins.path().to_str().unwrap()])
        .arg("--config")
        .arg(&config)
        .env_remove("XDG_CACHE_HOME")
        .env_remove("HOME")
        .env_remove("ENVIRONMENT_SUFFIX")
        .output()
        .expect("run tenant-host");
    assert_success(&output);
    assert!(!work.path().join(".cache").exists());
}

/// Covers: a plugin's calls about one tenant run in a copy of its code of their own, so they never
/// reuse a pooled memory slot that a call about the plugin, the central stack or the fleet used.
/// Those calls write more of their memory (their inputs grow with the fleet), a slot keeps what was
/// written resident, and every later call in that slot would reset it all again. The pool gives a
/// slot back to the module that used it last, so calls that run in one module share one set of
/// slots: the count of warm slots tells whether two calls ran in the same module.
#[test]
fn tenant_calls_never_reuse_the_slots_of_wider_calls() {
    use tenant_host::plugin::{CodeTier, Limits, Runtime, api, load_plugin};
    let plugins = plugin_dir(&[("network", "network.wasm")]);
    let runtime = Runtime::new(Limits::default(), CodeTier::Quick).unwrap();
    let plugin = load_plugin(&runtime, &plugins.path().join("network.wasm")).unwrap();
    let warm = || {
        runtime
            .engine()
            .pooling_allocator_metrics()
            .expect("plugins run in the pooling allocator")
            .unused_warm_memories()
    };
    let per_module = warm();
    assert!(per_module > 0, "`describe` ran in a pooled slot");
    let tenant = api::Tenant {
        id: "acme".into(),
        cidr_block: "10.0.0.0/16".into(),
    };
    plugin.validate_settings(&runtime, "{}", None).unwrap();
    assert_eq!(
        warm(),
        per_module,
        "the fleet-wide settings are checked where `describe` ran"
    );
    plugin.validate_settings(&runtime, "{}", Some(&tenant)).unwrap();
    assert_eq!(
        warm(),
        2 * per_module,
        "a tenant's settings are checked in slots of their own"
    );
    plugin.validate_settings(&runtime, "{}", None).unwrap();
    plugin.validate_settings(&runtime, "{}", Some(&tenant)).unwrap();
    assert_eq!(
        warm(),
        2 * per_module,
        "each kind of call goes back to its own slots"
    );
}
