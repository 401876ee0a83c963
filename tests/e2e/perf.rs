//! The fleet-scale machinery: compiled components cached per user, and progress reporting.

use crate::support::*;
use std::process::Command;
use std::sync::Mutex;
use tenant_host::progress::{Phase, Progress};

/// Covers: a run with an empty cache compiles every plugin once into the user's cache
/// (`$XDG_CACHE_HOME/tenant-host/components`), and the next run, which loads them from there,
/// writes the same output.
#[test]
fn compiled_components_are_cached_per_user_and_reused() {
    let plugins = product_plugin_dir();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let synth = |out: &str| {
        let output = Command::new(env!("CARGO_BIN_EXE_tenant-host"))
            .current_dir(work.path())
            .args(["synth", "--plugins", plugins.path().to_str().unwrap(), "--out", out])
            .env_remove("ENVIRONMENT_SUFFIX")
            .env("XDG_CACHE_HOME", &cache)
            .output()
            .expect("run tenant-host");
        assert_success(&output);
        read_tree(&work.path().join(out))
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
    let first = synth("first");
    let cached = compiled();
    assert_eq!(cached.len(), PRODUCT_PLUGINS.len(), "{cached:?}");
    assert!(cached.iter().all(|name| name.ends_with(".cwasm")), "{cached:?}");
    let second = synth("second");
    assert_eq!(compiled(), cached, "the second run compiles nothing new");
    assert_eq!(first, second);
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
    let options = tenant_host::RunOptions {
        plugins: plugins.path().to_owned(),
        config: None,
        suffix: None,
        limits: Default::default(),
        schema: None,
        plan: Default::default(),
    };
    let recorded = Recorded::default();
    let outcome = tenant_host::run_with_progress(&options, &recorded).unwrap();
    let (stacks, plugins) = (outcome.stacks.len(), outcome.plugins.len());
    assert_eq!((stacks, plugins), (4, PRODUCT_PLUGINS.len()));
    assert_eq!(
        recorded.0.into_inner().unwrap(),
        [
            (Phase::Synthesize, stacks, stacks),
            (Phase::CheckStacks, stacks, stacks),
            (Phase::CheckFleet, plugins, plugins),
        ]
    );
}
