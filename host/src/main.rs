//! The `tenant-host` command line: parses flags, dispatches, prints errors with their causes and
//! maps them to documented exit codes.

mod cli;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// Every stack allocates and frees many small values (JSON, access policies) on every core at
// once. With glibc's malloc, allocation took 16 % of a 1,000-tenant check; with mimalloc's
// per-thread heaps 10,000 tenants check in 55 s instead of 84 s (2 cores, same peak memory).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` of mimalloc 3 (`mimalloc.h` of libmimalloc-sys 0.1.49, pinned in
/// Cargo.lock), which its Rust bindings do not name; a test checks it is the purge delay.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Gives memory that frees up back to the OS after 1 ms instead of mimalloc 3's 1 s. A fleet run
/// frees every stack's documents while the access model grows: at 10,000 tenants the default
/// delay kept about 40 MiB more at the peak (579–586 against 542–543 MiB; 10 ms: 554, 100 ms:
/// 563), at 3,000 tenants 202–205 against 189–192 MiB, for the same CPU time.
#[allow(unsafe_code)]
fn purge_freed_memory_soon() {
    // SAFETY: `mi_option_set` only stores the value; it is not thread safe, and it runs first in
    // `main`, before any other thread exists.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1) };
}

/// Exit code of a run that found policy errors (nothing written).
pub(crate) const EXIT_POLICY_ERRORS: u8 = 2;
/// Exit code of any other failure: usage, configuration, plugin loading or calls, I/O.
const EXIT_FAILURE: u8 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "tenant-host",
    version,
    about = "Synthesize isolated per-tenant AWS environments as Terraform JSON from WebAssembly policy plugins",
    long_about = "tenant-host loads WebAssembly policy plugins, asks each for its Terraform JSON fragment of the \
central stack and of every tenant stack, composes them, runs every plugin's policy checks over the result, \
and writes a cdktf-compatible folder that plain `terraform` plans and applies, stack by stack.\n\n\
Exit codes: 0 success; 1 failure (usage, configuration, plugin, I/O); 2 policy errors that no waiver accepts \
(synth writes nothing; an expired waiver is such an error)."
)]
struct Cli {
    /// Log what happens (-v: debug, -vv: trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Synthesize the central stack and every tenant stack into an output folder.
    #[command(after_long_help = "Examples:\n  \
tenant-host synth --plugins plugins/\n      the built-in example fleet (acme-corp, tech-startup, retail-co) into cdktf.out/\n  \
tenant-host synth --plugins plugins/ --config examples/tenants.toml --out build/stacks\n  \
ENVIRONMENT_SUFFIX=pr42 tenant-host synth --plugins plugins/\n\n\
Then, per stack: terraform -chdir=cdktf.out/stacks/<stack> init && terraform -chdir=... apply\n\
(the central stack first; tenant stacks in parallel).")]
    Synth(cli::synth::SynthArgs),
    /// Synthesize and run every rule in memory, report the findings, write no stacks.
    #[command(after_long_help = "Examples:\n  \
tenant-host check --plugins plugins/\n      every finding of the example fleet, grouped by stack\n  \
tenant-host check --plugins plugins/ --config fleet.toml --format sarif --report tenant-host.sarif\n      \
SARIF 2.1.0 for code scanning (e.g. github/codeql-action/upload-sarif)\n  \
tenant-host check --plugins plugins/ --format json | jq '.findings[] | select(.severity == \"error\")'\n\n\
Exit codes: 0 no policy errors; 1 failure; 2 policy errors that no waiver accepts.")]
    Check(cli::check::CheckArgs),
    /// Print who can do what to which resource, and every access intent with its verdict.
    #[command(after_long_help = "Examples:\n  \
tenant-host access --plugins plugins/\n      failing intents and every cell not certainly denied\n  \
tenant-host access --plugins plugins/ --format json --tenant acme-corp\n  \
tenant-host access --plugins plugins/ --principal aws_iam_role.lambda_execution\n\n\
Exit codes: 0 every intent holds and tenants are isolated; 1 failure; 2 an intent fails or isolation is broken.")]
    Access(cli::access::AccessArgs),
    /// List plugins or inspect one: name, version, contract, provides/requires, settings, rules.
    Plugins(cli::plugins::PluginsArgs),
    /// Push a fleet configuration and its lock file to a registry (s3://bucket/prefix), or pull them.
    Registry(cli::registry::RegistryArgs),
    /// Add, remove, release or list tenants in a registry or configuration, with conditional writes.
    Tenants(cli::tenants::TenantsArgs),
    /// List the stacks of an output folder a rollout must apply or destroy, in dependency order.
    PlanRollout(cli::plan_rollout::PlanRolloutArgs),
    /// Run terraform over an output folder: central first, tenants in parallel, removed stacks destroyed last.
    Deploy(cli::deploy::DeployArgs),
}

fn main() -> ExitCode {
    purge_freed_memory_soon();
    // Transparent huge pages make every fresh page of mimalloc's arenas a zeroed 2 MiB one, and
    // purged memory comes back that way again: the example's peak RSS was 88 MiB with them and
    // 55 MiB without, 1,000 tenants 205 against 182 MiB, at the same speed. Best effort: a kernel
    // that refuses changes only memory use.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap would exit 2, which here means policy errors: help and version succeed, and a
            // usage error is a failure like any other.
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(EXIT_FAILURE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let filter = match cli.verbose {
        0 => "warn",
        1 => "tenant_host=debug",
        _ => "tenant_host=trace,wasmtime=debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let result = match cli.command {
        Command::Synth(args) => cli::synth::run(args),
        Command::Check(args) => cli::check::run(args),
        Command::Access(args) => cli::access::run(args),
        Command::Plugins(args) => cli::plugins::run(args),
        Command::Registry(args) => cli::registry::run(args),
        Command::Tenants(args) => cli::tenants::run(args),
        Command::PlanRollout(args) => cli::plan_rollout::run(args),
        Command::Deploy(args) => cli::deploy::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    /// The option index is mimalloc's purge delay: it has the purge delay's default (1,000 ms in
    /// mimalloc 3's `options.c`) before it is set, and the set value after.
    #[test]
    #[allow(unsafe_code)]
    fn the_purge_delay_option_is_mimallocs() {
        // SAFETY: reading an option loads a value; no other test in this binary touches options.
        let default = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(default, 1000);
        super::purge_freed_memory_soon();
        // SAFETY: as above.
        let set = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(set, 1);
    }
}
