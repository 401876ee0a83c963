//! The hostile-plugin corpus (issue 12): the `rogue` fixture plugin misbehaves as its `behaviour`
//! setting says, and hostile paths are handed to the CLI. Each case asserts the exit code, a
//! message naming the plugin, the stack and the function (or the path), that the previous output
//! stays byte-identical, and a generous time bound (the hangs took minutes before their fixes).
//! The sandbox cases that only need a message live in `main.rs`
//! (`plugins_have_no_ambient_authority`, `misbehaving_plugins_are_contained_and_named`).

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// A configuration of `tenants` tenants (`t01`, `t02`, ...) with the rogue plugin told how to
/// misbehave.
fn fleet_config(dir: &Path, behaviour: &str, tenants: usize) -> PathBuf {
    let path = dir.join(format!("{behaviour}-{tenants}.toml"));
    let mut text = format!(
        "region = \"us-east-1\"\n[state-backend]\nbucket = \"tenant-host-state\"\nregion = \"us-east-1\"\n\
         [plugins.rogue]\nbehaviour = \"{behaviour}\"\nport = 0\n"
    );
    for index in 1..=tenants {
        text.push_str(&format!("[[tenants]]\nid = \"t{index:02}\"\n"));
    }
    std::fs::write(&path, text).expect("write config");
    path
}

/// What a hostile run must come to.
struct Expect<'a> {
    exit: i32,
    /// Each must appear in standard error.
    messages: &'a [&'a str],
    within: Duration,
}

/// Runs `run` in a folder holding the output of a well-behaved run, and checks the exit code,
/// the messages, the time bound, that the host did not panic, and that the previous output is
/// byte-identical afterwards.
fn contained(run: impl FnOnce(&Path, &Path) -> Output, expect: Expect<'_>) {
    let plugins = plugin_dir(&[("rogue", "rogue.wasm")]);
    let work = tempfile::tempdir().unwrap();
    let good = fleet_config(work.path(), "ok", 1);
    assert_success(&synth_with_config(work.path(), plugins.path(), &good, &[]));
    let before = read_tree(&work.path().join("cdktf.out"));
    let started = Instant::now();
    let output = run(work.path(), plugins.path());
    let elapsed = started.elapsed();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(expect.exit), "{text}");
    for message in expect.messages {
        assert!(text.contains(message), "`{message}` missing from:\n{text}");
    }
    assert!(!text.contains("panicked at host"), "the host panicked: {text}");
    assert!(
        elapsed < expect.within,
        "took {elapsed:?}, more than {:?}",
        expect.within
    );
    assert!(
        before == read_tree(&work.path().join("cdktf.out")),
        "the previous output changed"
    );
}

/// A synth of `tenants` tenants with the rogue plugin behaving as `behaviour`, with `extra` flags.
fn rogue_synth(
    behaviour: &'static str,
    tenants: usize,
    extra: &'static [&'static str],
) -> impl FnOnce(&Path, &Path) -> Output {
    move |work, plugins| {
        let config = fleet_config(work, behaviour, tenants);
        synth_with_config(work, plugins, &config, extra)
    }
}

const SYNTH_T01: &str = "plugin `rogue` failed in `synthesize-tenant` for stack `tenant-t01-dev`";
const MINUTE: Duration = Duration::from_secs(60);

/// One test per behaviour: `name: behaviour, tenants, flags => exit, [messages], within seconds`.
macro_rules! hostile_plugins {
    ($($(#[doc = $doc:literal])+ $name:ident: $behaviour:literal, $tenants:literal, $extra:expr
        => $exit:literal, $messages:expr, $within:expr;)+) => {
        $(
            $(#[doc = $doc])+
            #[test]
            fn $name() {
                contained(
                    rogue_synth($behaviour, $tenants, $extra),
                    Expect { exit: $exit, messages: $messages, within: $within },
                );
            }
        )+
    };
}

hostile_plugins! {
    /// Item 1: `${"` nested 30,000 deep crashed the recursive template scanner (exit 134).
    deep_template_nesting_is_a_finding_not_a_crash: "deep-template", 1, &[]
        => 2, &["error[host.references-resolve] tenant-t01-dev: aws_sqs_queue.deep",
                "templates nest more than 32 levels deep", "from plugin `rogue`"], MINUTE;
    /// Item 3: a 200 KB `${${${…` was written as Terraform with exit 0.
    unterminated_templates_are_refused: "unterminated", 1, &[]
        => 2, &["error[host.references-resolve] tenant-t01-dev: aws_sqs_queue.open",
                "/resource/aws_sqs_queue/open/name", "is never closed", "from plugin `rogue`"], MINUTE;
    /// Item 4: a resource named only through `format(...)` passed every check.
    function_built_policy_resources_are_refused: "format-policy", 1, &[]
        => 2, &["error[host.foreign-tenant] tenant-t01-dev: aws_iam_policy.reach",
                "calls `format`, which the guardrail cannot evaluate", "from plugin `rogue`"], MINUTE;
    /// Item 4: `arn:aws:s3:::*` in a tenant's policy passed every check.
    account_wide_wildcards_are_refused: "wildcard-policy", 1, &[]
        => 2, &["error[host.foreign-tenant] tenant-t01-dev: aws_iam_policy.reach",
                "`arn:aws:s3:::*` matches every tenant's resources", "from plugin `rogue`"], MINUTE;
    /// Item 5: 200,000 resources made an innocent plugin fail later; now the emitter fails.
    too_many_blocks_fail_the_emitter: "many-blocks", 1, &[]
        => 1, &[SYNTH_T01, "returned 200000 blocks in one fragment, more than 1000"], MINUTE;
    /// Item 5: one body over 256 KiB fails the emitter.
    a_huge_body_fails_the_emitter: "huge-body", 1, &[]
        => 1, &[SYNTH_T01, "for `aws_sqs_queue.huge`, more than 262144"], MINUTE;
    /// Item 5: 20,000 findings from one check fail the reporting plugin.
    too_many_findings_fail_the_reporter: "many-findings", 1, &[]
        => 1, &["plugin `rogue` failed in `check-stack` for stack `",
                "reported 20000 findings, more than 10000"], MINUTE;
    /// Item 6: 40 looping tenants ran to 40 timeouts (20 s on two cores); the first one stops the run.
    the_first_failure_cancels_the_rest: "loop", 40, &["--plugin-timeout", "1"]
        => 1, &["plugin `rogue` failed in `synthesize-tenant` for stack `tenant-t",
                "did not return within 1s", "skipped or interrupted"], Duration::from_secs(12);
    /// Already held: an endless loop hits the time bound. (One tenant runs the quick code tier,
    /// 40 tenants above the optimized one: the time bound holds in both.)
    a_loop_hits_the_time_bound: "loop", 1, &["--plugin-timeout", "1"]
        => 1, &[SYNTH_T01, "did not return within 1s"], MINUTE;
    /// Already held: waiting on a clock traps.
    a_wait_traps: "sleep", 1, &[]
        => 1, &[SYNTH_T01, "plugins may not wait on a clock"], MINUTE;
    /// Already held: a memory hog hits the memory cap.
    a_memory_hog_hits_the_cap: "alloc", 1, &["--plugin-memory", "64"]
        => 1, &[SYNTH_T01, "exceeded the memory limit of 64 MiB"], MINUTE;
    /// The same in the optimized code tier, which one tenant would not pick.
    a_memory_hog_hits_the_cap_in_optimized_code: "alloc", 1, &["--plugin-memory", "64", "--plugin-code", "optimized"]
        => 1, &[SYNTH_T01, "exceeded the memory limit of 64 MiB"], MINUTE;
    /// An SDK plugin starts with its 8 MiB allocation arena: a smaller limit fails at load, named.
    a_limit_below_the_sdk_arena_fails_at_load: "ok", 1, &["--plugin-memory", "8"]
        => 1, &["failed in `describe`", "exceeded the memory limit of 8 MiB (it asked for 9 MiB)"], MINUTE;
    /// Already held: a panic is reported with the plugin's message.
    a_panic_is_contained: "panic", 1, &[]
        => 1, &[SYNTH_T01, "rogue plugin panicked on purpose"], MINUTE;
    /// Already held: an oversized result hits the output cap.
    oversized_output_hits_the_cap: "huge-output", 1, &["--plugin-output", "1"]
        => 1, &[SYNTH_T01, "more than the limit of 1048576 bytes"], MINUTE;
    /// Already held: a body that is not a JSON object is refused, naming plugin and stack.
    a_body_that_is_not_an_object_is_refused: "not-an-object", 1, &[]
        => 1, &["stack `tenant-t01-dev`: plugin `rogue` emitted an invalid body of `aws_sqs_queue.list`"], MINUTE;
    /// Already held: the same address twice is refused.
    duplicate_addresses_are_refused: "duplicate", 1, &[]
        => 1, &["`aws_sqs_queue.twice` is emitted by both plugin `rogue` and plugin `rogue`"], MINUTE;
    /// Already held: output that breaks the provider schema fails the run.
    schema_violations_are_findings: "bad-schema", 1, &[]
        => 2, &["error[host.schema-valid] tenant-t01-dev: aws_vpc.rogue", "enable_dns_magic", "from plugin `rogue`"], MINUTE;
}

/// Item 2: a `tenant-a-a-…` word of 200 KB took the foreign-tenant guardrail minutes
/// (quadratic); now the run finishes, well inside the bound.
#[test]
fn a_long_tenant_word_is_checked_in_linear_time() {
    let plugins = plugin_dir(&[("rogue", "rogue.wasm")]);
    let work = tempfile::tempdir().unwrap();
    let config = fleet_config(work.path(), "long-tenant-word", 1);
    let started = Instant::now();
    let output = synth_with_config(work.path(), plugins.path(), &config, &[]);
    assert_success(&output);
    assert!(started.elapsed() < MINUTE, "took {:?}", started.elapsed());
}

/// The loader: a component of a newer contract, a core module, and a 3 GB sparse `.wasm` file
/// (read whole before its header was checked) are refused, naming the file.
#[test]
fn the_loader_refuses_hostile_files_without_reading_them_whole() {
    for (file, expected) in [
        ("future.wasm", "was built for contract tenant:plugin@0.3.0"),
        ("core.wasm", "is a core WebAssembly module, not a component"),
        (
            "sparse.wasm",
            "it is 3221225472 bytes, more than the limit of 67108864 bytes",
        ),
    ] {
        contained(
            |work, _| {
                let dir = work.join("hostile-plugins");
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join(file);
                match file {
                    "future.wasm" => {
                        std::fs::copy(component("future-contract"), &path).unwrap();
                    }
                    "core.wasm" => std::fs::write(&path, b"\0asm\x01\0\0\0").unwrap(),
                    _ => std::fs::File::create(&path).unwrap().set_len(3 << 30).unwrap(),
                }
                let output = tenant_host(work, &["synth", "--plugins", dir.to_str().unwrap()]);
                std::fs::remove_dir_all(&dir).unwrap();
                output
            },
            Expect {
                exit: 1,
                messages: &[file, expected],
                within: MINUTE,
            },
        );
    }
}

/// Item 8: `--config` naming a FIFO (whose open blocked) or `/dev/zero` (read without end), and
/// `plugins inspect` of a link to `/dev/zero` or of a FIFO, are refused at once, saying why.
#[cfg(unix)]
#[test]
fn special_files_are_refused_before_reading() {
    let make = |work: &Path| {
        let fifo = work.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let zero = work.join("zero.wasm");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        (fifo, zero)
    };
    let cases: [(&str, &[&str]); 4] = [
        (
            "config-fifo",
            &[
                "--config",
                "it is a FIFO (named pipe); tenant-host reads only regular files here",
            ],
        ),
        ("config-zero", &["--config", "it is a device"]),
        (
            "inspect-fifo",
            &["cannot read plugin", "it is a FIFO (named pipe)"],
        ),
        (
            "inspect-zero",
            &["cannot read plugin", "zero.wasm", "it is a device"],
        ),
    ];
    for (case, messages) in cases {
        contained(
            |work, plugins| {
                let (fifo, zero) = make(work);
                let plugins = plugins.to_str().unwrap();
                let output = match case {
                    "config-fifo" => tenant_host(
                        work,
                        &["synth", "--plugins", plugins, "--config", fifo.to_str().unwrap()],
                    ),
                    "config-zero" => {
                        tenant_host(work, &["synth", "--plugins", plugins, "--config", "/dev/zero"])
                    }
                    "inspect-fifo" => tenant_host(work, &["plugins", "inspect", fifo.to_str().unwrap()]),
                    _ => tenant_host(work, &["plugins", "inspect", zero.to_str().unwrap()]),
                };
                std::fs::remove_file(fifo).unwrap();
                std::fs::remove_file(zero).unwrap();
                output
            },
            Expect {
                exit: 1,
                messages,
                within: MINUTE,
            },
        );
    }
}

/// Item 9: a setting value of 2 MB is a configuration diagnostic with its position, before any
/// plugin runs (it used to surface as a plugin's memory failure).
#[test]
fn an_oversized_setting_is_refused_with_its_position() {
    contained(
        |work, plugins| {
            let config = work.join("huge-setting.toml");
            let text = format!(
                "region = \"us-east-1\"\n[state-backend]\nbucket = \"tenant-host-state\"\nregion = \"us-east-1\"\n\
                 [plugins.rogue]\nbehaviour = \"{}\"\n[[tenants]]\nid = \"t01\"\n",
                "x".repeat(2 << 20)
            );
            std::fs::write(&config, text).unwrap();
            synth_with_config(work, plugins, &config, &[])
        },
        Expect {
            exit: 1,
            messages: &[
                "setting `behaviour` of plugin `rogue` is 2097154 bytes, more than the limit of 65536 bytes",
                "huge-setting.toml:6:1",
            ],
            within: MINUTE,
        },
    );
}

/// Item 7: a symlinked `--out` and a folder whose `manifest.json` lacks the tenant-host marker
/// (`{"stacks": {}}` in someone's project) are refused, and nothing in them is touched.
#[cfg(unix)]
#[test]
fn output_folders_tenant_host_did_not_write_are_never_replaced() {
    for case in ["symlink", "foreign-manifest"] {
        contained(
            |work, plugins| {
                let config = fleet_config(work, "ok", 1);
                let out = match case {
                    "symlink" => {
                        let link = work.join("linked.out");
                        std::os::unix::fs::symlink(work.join("cdktf.out"), &link).unwrap();
                        link
                    }
                    _ => {
                        let project = work.join("project");
                        std::fs::create_dir_all(&project).unwrap();
                        std::fs::write(project.join("manifest.json"), r#"{"stacks": {}}"#).unwrap();
                        std::fs::create_dir_all(project.join("stacks/mine")).unwrap();
                        std::fs::write(project.join("stacks/mine/notes.txt"), "mine").unwrap();
                        project
                    }
                };
                let before = read_tree(&out);
                let output = synth_with_config(work, plugins, &config, &["--out", out.to_str().unwrap()]);
                assert!(before == read_tree(&out), "{case}: the folder changed");
                output
            },
            Expect {
                exit: 1,
                messages: &[match case {
                    "symlink" => "it is a symbolic link",
                    _ => "marker",
                }],
                within: MINUTE,
            },
        );
    }
}
