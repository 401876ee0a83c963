//! The fleet-scale machinery: compiled components cached per user, and progress reporting.

use crate::support::*;
use std::process::Command;
use std::sync::Mutex;
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
        registry: None,
        suffix: None,
        limits: Default::default(),
        schema: None,
        plan: Default::default(),
        every_intent_verdict: false,
    };
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
