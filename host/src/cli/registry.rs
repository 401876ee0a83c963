//! `tenant-host registry push|pull`: move a fleet configuration and its lock file between local
//! files and a registry (`s3://bucket/prefix`).

use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tenant_host::registry::Registry;

#[derive(Debug, Args)]
pub struct RegistryArgs {
    #[command(subcommand)]
    command: RegistryCommand,
}

#[derive(Debug, Subcommand)]
enum RegistryCommand {
    /// Upload a configuration and the lock file beside it (if any) to a registry.
    Push {
        /// The configuration file; its lock file (`FILE` with extension `.lock`) goes with it.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
        /// The registry, `s3://bucket/prefix`.
        #[arg(long, value_name = "URL")]
        registry: String,
        /// Overwrite a configuration the registry already holds (only the version read just
        /// before: a change made in between fails the push instead of being lost).
        #[arg(long)]
        replace: bool,
    },
    /// Download a registry's configuration to a file, and its lock file beside it.
    Pull {
        /// The registry, `s3://bucket/prefix`.
        #[arg(long, value_name = "URL")]
        registry: String,
        /// Where to write the configuration; the lock file goes beside it.
        #[arg(long, value_name = "FILE")]
        config: PathBuf,
    },
}

pub fn run(args: RegistryArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        RegistryCommand::Push {
            config,
            registry,
            replace,
        } => {
            let text = std::fs::read_to_string(&config)
                .with_context(|| format!("cannot read the configuration {}", config.display()))?;
            let lock_path = config.with_extension("lock");
            let lock = match std::fs::read_to_string(&lock_path) {
                Ok(lock) => Some(lock),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", lock_path.display())),
            };
            let registry = Registry::open_url(&registry)?;
            registry.push(&text, lock.as_deref(), replace)?;
            println!(
                "pushed {}{} to {}",
                config.display(),
                if lock.is_some() { " and its lock file" } else { "" },
                registry.location()
            );
        }
        RegistryCommand::Pull { registry, config } => {
            let registry = Registry::open_url(&registry)?;
            let (text, lock) = registry.pull()?;
            write(&config, &text)?;
            if let Some(lock) = lock {
                write(&config.with_extension("lock"), &lock)?;
            }
            println!("pulled {} to {}", registry.location(), config.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
