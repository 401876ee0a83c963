//! `tenant-host tenants add|remove|release|list`: change the fleet in a registry (or a local
//! configuration file) with conditional writes, validated as `synth` validates it.

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use tenant_host::plugin::{self, CodeTier, Limits, Runtime};
use tenant_host::registry::{Added, Registry, Validation};
use tenant_host::synth::PluginCrossChecks;

#[derive(Debug, Args)]
pub struct TenantsArgs {
    #[command(subcommand)]
    command: TenantsCommand,
}

/// Where the fleet lives.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct Target {
    /// A fleet registry, `s3://bucket/prefix`.
    #[arg(long, value_name = "URL")]
    registry: Option<String>,
    /// A local configuration file (its lock file beside it).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl Target {
    fn open(&self) -> anyhow::Result<Registry> {
        Ok(match (&self.registry, &self.config) {
            (Some(url), _) => Registry::open_url(url)?,
            (None, Some(path)) => Registry::open_file(path),
            (None, None) => unreachable!("clap requires --registry or --config"),
        })
    }
}

/// What a change is validated against: the plugins synth would load, and the suffix.
#[derive(Debug, Args)]
struct ValidationArgs {
    /// Folder of plugin components: the changed configuration is validated against them, as
    /// `synth` validates it (names, settings, blocks).
    #[arg(long, value_name = "DIR")]
    plugins: PathBuf,
    /// Suffix of every name; overrides the configuration.
    #[arg(long, env = "ENVIRONMENT_SUFFIX", value_name = "SUFFIX")]
    environment_suffix: Option<String>,
}

#[derive(Debug, Subcommand)]
enum TenantsCommand {
    /// Add a tenant with the next free block (or --cidr-block); safe to run concurrently.
    Add {
        /// The tenant id.
        id: String,
        /// An explicit VPC block instead of the next free one.
        #[arg(long, value_name = "BLOCK")]
        cidr_block: Option<String>,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        validation: ValidationArgs,
    },
    /// Remove a tenant from the configuration; its block stays reserved until `tenants release`
    /// (after `terraform destroy` of its stack).
    Remove {
        /// The tenant id.
        id: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        validation: ValidationArgs,
    },
    /// Give a removed tenant's block back to the pool: only after its stack is destroyed.
    Release {
        /// The tenant id.
        id: String,
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        validation: ValidationArgs,
    },
    /// List the tenants with their blocks: active, or retired (removed, block reserved).
    List {
        #[command(flatten)]
        target: Target,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    /// One tenant per line: id, block, status.
    Text,
    /// A JSON array of `{id, cidr_block, status}`.
    Json,
}

pub fn run(args: TenantsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TenantsCommand::Add {
            id,
            cidr_block,
            target,
            validation,
        } => {
            let registry = target.open()?;
            let added = validation.with(|v| Ok(registry.add_tenant(&id, cidr_block.as_deref(), v)?))?;
            match added {
                Added::New(block) => println!(
                    "added tenant `{id}` with block {block} to {}",
                    registry.location()
                ),
                Added::Present(block) => {
                    println!(
                        "tenant `{id}` is already in {} with block {block}",
                        registry.location()
                    )
                }
            }
        }
        TenantsCommand::Remove {
            id,
            target,
            validation,
        } => {
            let registry = target.open()?;
            let removed = validation.with(|v| Ok(registry.remove_tenant(&id, v)?))?;
            println!("removed tenant `{id}` from {}", registry.location());
            if let Some(block) = removed.reserved {
                println!(
                    "its block {block} stays reserved: destroy stack `{}` (terraform destroy), then run \
                     `tenant-host tenants release {id}`",
                    removed.stack
                );
            }
        }
        TenantsCommand::Release {
            id,
            target,
            validation,
        } => {
            let registry = target.open()?;
            let block = validation.with(|v| Ok(registry.release_tenant(&id, v)?))?;
            println!(
                "released block {block} of tenant `{id}` in {}",
                registry.location()
            );
        }
        TenantsCommand::List { target, format } => {
            let listed = target.open()?.list()?;
            match format {
                ListFormat::Json => println!("{}", serde_json::to_string_pretty(&listed)?),
                ListFormat::Text => {
                    for tenant in listed {
                        println!(
                            "{}\t{}\t{}",
                            tenant.id,
                            tenant.cidr_block.as_deref().unwrap_or("-"),
                            tenant.status
                        );
                    }
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl ValidationArgs {
    /// Loads the plugins and runs `change` with what synth would validate the configuration by.
    fn with<T>(&self, change: impl FnOnce(Validation<'_>) -> anyhow::Result<T>) -> anyhow::Result<T> {
        // Validating settings is a few short calls per tenant: compile quickly.
        let runtime = Runtime::new(Limits::default(), CodeTier::Quick)
            .map_err(|e| anyhow::anyhow!("cannot start the WebAssembly runtime: {e:#}"))?;
        let mut plugins = plugin::load_plugins(&runtime, &self.plugins)
            .with_context(|| format!("loading the plugins in {}", self.plugins.display()))?;
        tenant_host::synth::sort_by_dependencies(&mut plugins)
            .with_context(|| format!("ordering the plugins in {}", self.plugins.display()))?;
        let declarations = tenant_host::plugin_declarations(&plugins);
        let cross_checks = PluginCrossChecks {
            runtime: &runtime,
            plugins: &plugins,
        };
        change(Validation {
            suffix: self.environment_suffix.as_deref(),
            plugins: &declarations,
            cross_checks: &cross_checks,
        })
    }
}
