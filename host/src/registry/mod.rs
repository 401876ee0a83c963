//! The fleet registry: where the configuration (`tenants.toml`) and its lock file
//! (`tenants.lock`) live, as the source of truth for automation. Two stores sit behind one
//! [`Store`] trait, so both are tested the same way: a local file with the lock file beside it
//! (the default), and S3 (`s3://bucket/prefix`, [`s3`]).
//!
//! Every write is conditional: on the version that was read (S3 `If-Match` on the ETag, or
//! `If-None-Match` when the object must not exist yet), and a precondition failure makes the
//! whole read-plan-write step start again from fresh reads. The lock file is the allocator and
//! is always written before the configuration, so concurrent signups never share a block: each
//! lock version extends the one it was planned from, and only one writer per version wins. A
//! tenant whose lock entry landed but whose configuration write lost the race finds its block
//! reserved on the next attempt (a reserved block of an unconfigured tenant is kept, as for a
//! removed tenant), so no update is lost either.
//!
//! Removal is two steps, because a block may be reused only once its VPC is gone:
//! [`Registry::remove_tenant`] drops the tenant from the configuration (its block stays reserved
//! in the lock file, as for any removed tenant), and [`Registry::release_tenant`] gives the
//! block back after `terraform destroy`.

mod edit;
mod local;
#[cfg(feature = "s3-registry")]
pub mod s3;

use crate::config::{ConfigError, ConfigFile};
use crate::declarations::PluginDeclaration;
use crate::diagnostics::Source;
use crate::lock::{Lock, LockError};
use crate::tenants::{self, CrossChecks, PlanOptions};
use std::path::PathBuf;
use std::time::Duration;
use tenant_plugin_sdk::cidr::Ipv4Block;
use tenant_plugin_sdk::naming::tenant_stack_name;

pub use edit::EditError;
pub use local::LocalStore;

/// The two documents of a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// `tenants.toml`.
    Config,
    /// `tenants.lock`.
    Lock,
}

impl Document {
    /// The document's file name in a registry.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Config => "tenants.toml",
            Self::Lock => "tenants.lock",
        }
    }
}

/// Which version of a document was read: the S3 ETag, or the content's SHA-256 for a local file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version(pub String);

/// A document's bytes and the version they were read at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The text.
    pub text: String,
    /// Its version, for the conditional write that replaces it.
    pub version: Version,
}

/// When a write may happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Only when the document does not exist yet (`If-None-Match: *`).
    Absent,
    /// Only when the document is still at this version (`If-Match`).
    Unchanged(Version),
}

/// What a conditional write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Written {
    /// The document was written.
    Written,
    /// The condition did not hold: someone else wrote in between; nothing was written.
    Conflict,
}

/// A place that holds the two documents and writes them only under a condition.
pub trait Store: std::fmt::Debug + Send + Sync {
    /// Where `document` lives, for messages (a path or an `s3://` URL).
    fn locate(&self, document: Document) -> String;
    /// The document and its version; `None` when it does not exist.
    fn read(&self, document: Document) -> Result<Option<Versioned>, RegistryError>;
    /// Writes the document when `condition` holds.
    fn write(&self, document: Document, text: &str, condition: &Condition) -> Result<Written, RegistryError>;
}

/// Why the registry could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The `--registry` value is not an `s3://bucket/prefix` URL.
    #[error("registry `{url}` is not usable: {reason}")]
    Url {
        /// The value given.
        url: String,
        /// Why.
        reason: String,
    },
    /// A local file could not be read or written.
    #[error("registry file {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// S3 refused or failed a request.
    #[error("registry {location}: {operation} failed: {source}")]
    S3 {
        /// The object's URL.
        location: String,
        /// `read` or `write`.
        operation: &'static str,
        /// The cause.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A document is not UTF-8 text.
    #[error("registry {location} is not UTF-8 text")]
    NotText {
        /// The document.
        location: String,
    },
    /// The registry holds no configuration yet.
    #[error(
        "registry {location} does not exist; create it with `tenant-host registry push --config FILE --registry URL`"
    )]
    Missing {
        /// Where the configuration was expected.
        location: String,
    },
    /// `registry push` would replace an existing configuration.
    #[error("registry {location} already exists; pass --replace to overwrite it")]
    Exists {
        /// The configuration's location.
        location: String,
    },
    /// The configuration, with the change applied, is not valid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The lock file is damaged.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The configuration's text could not be edited.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// `tenants add --cidr-block` names another block than the tenant already has.
    #[error("tenant `{id}` already has the block {recorded}, not {requested}; its block never changes")]
    BlockDiffers {
        /// The tenant.
        id: String,
        /// Its recorded block.
        recorded: Ipv4Block,
        /// The block asked for.
        requested: Ipv4Block,
    },
    /// Other writers kept winning.
    #[error(
        "gave up after {attempts} attempts: other writers changed the registry {location} every time; try again"
    )]
    Contention {
        /// How many read-plan-write attempts were made.
        attempts: u32,
        /// The configuration's location.
        location: String,
    },
}

/// The most read-plan-write attempts of one change: enough for dozens of simultaneous writers,
/// each attempt losing only to a writer that made progress.
const MAX_ATTEMPTS: u32 = 100;

/// The configuration and lock file as read from a registry.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The parsed configuration; its origin is the registry location.
    pub config: ConfigFile,
    /// Its version.
    pub config_version: Version,
    /// The lock file, when there is one.
    pub lock: Option<Lock>,
    /// Its version.
    pub lock_version: Option<Version>,
}

/// What a changed configuration is validated against: the same plugin declarations and
/// cross-checks `synth` validates it with.
#[derive(Clone, Copy)]
pub struct Validation<'a> {
    /// The suffix from the flag or `ENVIRONMENT_SUFFIX`, which wins over the file's.
    pub suffix: Option<&'a str>,
    /// What the loaded plugins declare.
    pub plugins: &'a [PluginDeclaration],
    /// The plugins' own checks of their settings.
    pub cross_checks: &'a dyn CrossChecks,
}

impl std::fmt::Debug for Validation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validation")
            .field("suffix", &self.suffix)
            .field("plugins", &self.plugins.len())
            .finish_non_exhaustive()
    }
}

impl Validation<'_> {
    fn plan(
        &self,
        file: &ConfigFile,
        lock: Option<&Lock>,
        options: &PlanOptions,
    ) -> Result<tenants::Plan, ConfigError> {
        tenants::plan_fleet(file, self.suffix, lock, self.plugins, self.cross_checks, options)
    }
}

/// What `tenants add` found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// The tenant was added with this block.
    New(Ipv4Block),
    /// The tenant was already configured with this block; nothing changed.
    Present(Ipv4Block),
}

/// What `tenants remove` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// The removed tenant's stack, to be destroyed before its block is released.
    pub stack: String,
    /// Its block, reserved until released.
    pub reserved: Option<Ipv4Block>,
}

/// A tenant as `tenants list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Listed {
    /// The tenant id.
    pub id: String,
    /// Its block, when one is recorded.
    pub cidr_block: Option<String>,
    /// `active` (configured) or `retired` (removed; block reserved until released).
    pub status: &'static str,
}

/// A fleet registry: a store and the changes made through it.
#[derive(Debug)]
pub struct Registry {
    store: Box<dyn Store>,
}

impl Registry {
    /// A registry in `store`.
    pub fn new(store: Box<dyn Store>) -> Self {
        Self { store }
    }

    /// The registry at `url` (`s3://bucket/prefix`).
    #[cfg(feature = "s3-registry")]
    pub fn open_url(url: &str) -> Result<Self, RegistryError> {
        Ok(Self::new(Box::new(s3::S3Store::open(url)?)))
    }

    /// The registry at `url`: not in a build without the `s3-registry` feature.
    #[cfg(not(feature = "s3-registry"))]
    pub fn open_url(url: &str) -> Result<Self, RegistryError> {
        Err(RegistryError::Url {
            url: url.into(),
            reason: "this tenant-host was built without S3 registries (cargo feature `s3-registry`, which `just synth` leaves out to build sooner); build it with `cargo build -p tenant-host`".into(),
        })
    }

    /// The local registry of the configuration file `path` (the lock file beside it).
    pub fn open_file(path: impl Into<PathBuf>) -> Self {
        Self::new(Box::new(LocalStore::new(path.into())))
    }

    /// Where the configuration lives.
    pub fn location(&self) -> String {
        self.store.locate(Document::Config)
    }

    /// Reads and parses both documents.
    pub fn snapshot(&self) -> Result<Snapshot, RegistryError> {
        let config = self
            .store
            .read(Document::Config)?
            .ok_or_else(|| RegistryError::Missing {
                location: self.store.locate(Document::Config),
            })?;
        let lock = self.store.read(Document::Lock)?;
        let parsed_lock = match &lock {
            Some(lock) => Some(Lock::parse(Source {
                origin: self.store.locate(Document::Lock),
                text: lock.text.clone(),
            })?),
            None => None,
        };
        let file = ConfigFile::parse(
            Source {
                origin: self.store.locate(Document::Config),
                text: config.text,
            },
            None,
        )?;
        Ok(Snapshot {
            config: file,
            config_version: config.version,
            lock: parsed_lock,
            lock_version: lock.map(|l| l.version),
        })
    }

    /// Adds tenant `id` (with an explicit block, or the lowest free one), validated exactly as
    /// synth validates the configuration, against the loaded `plugins`.
    pub fn add_tenant(
        &self,
        id: &str,
        cidr_block: Option<&str>,
        validation: Validation<'_>,
    ) -> Result<Added, RegistryError> {
        self.change(|snapshot| {
            let file = &snapshot.config;
            if file.config.tenants.iter().any(|t| t.id == id)
                && let Some(block) = snapshot.lock.as_ref().and_then(|l| l.blocks.get(id))
            {
                if let Some(requested) = cidr_block.and_then(|b| b.parse::<Ipv4Block>().ok())
                    && requested != *block
                {
                    return Err(RegistryError::BlockDiffers {
                        id: id.into(),
                        recorded: *block,
                        requested,
                    });
                }
                return Ok(Change::none(Added::Present(*block)));
            }
            let text = if file.config.tenants.iter().any(|t| t.id == id) {
                file.source.text.clone()
            } else {
                edit::add_tenant(&file.source.text, id, cidr_block)?
            };
            let edited = reparse(file, text, &format!("with tenant `{id}` added"))?;
            let plan = validation.plan(&edited, snapshot.lock.as_ref(), &PlanOptions::default())?;
            let block = plan.lock.blocks[id];
            Ok(Change {
                lock: plan.lock_changed.then_some(plan.lock),
                config: Some(edited.source.text),
                result: Added::New(block),
            })
        })
    }

    /// Drops tenant `id` from the configuration; its block stays reserved in the lock file until
    /// [`Registry::release_tenant`].
    pub fn remove_tenant(&self, id: &str, validation: Validation<'_>) -> Result<Removed, RegistryError> {
        self.change(|snapshot| {
            let file = &snapshot.config;
            let text = edit::remove_tenant(&file.source.text, id)?;
            let edited = reparse(file, text, &format!("with tenant `{id}` removed"))?;
            let plan = validation.plan(&edited, snapshot.lock.as_ref(), &PlanOptions::default())?;
            Ok(Change {
                lock: plan.lock_changed.then_some(plan.lock.clone()),
                config: Some(edited.source.text),
                result: Removed {
                    stack: tenant_stack_name(id, &plan.fleet.suffix),
                    reserved: plan.lock.blocks.get(id).copied(),
                },
            })
        })
    }

    /// Gives the block of the removed tenant `id` back to the pool: only after its stack is
    /// destroyed, since the next new tenant may get the same block.
    pub fn release_tenant(&self, id: &str, validation: Validation<'_>) -> Result<Ipv4Block, RegistryError> {
        self.change(|snapshot| {
            let released = snapshot.lock.as_ref().and_then(|l| l.blocks.get(id)).copied();
            let options = PlanOptions {
                release: vec![id.to_owned()],
                ..PlanOptions::default()
            };
            // The same check as `synth --release`: the tenant must be removed and recorded.
            let plan = validation.plan(&snapshot.config, snapshot.lock.as_ref(), &options)?;
            Ok(Change {
                lock: Some(plan.lock),
                config: None,
                result: released.expect("plan_fleet refuses to release a tenant without a block"),
            })
        })
    }

    /// Every tenant, configured or retired, in configuration order, then the retired by id.
    pub fn list(&self) -> Result<Vec<Listed>, RegistryError> {
        let snapshot = self.snapshot()?;
        let lock = snapshot.lock.unwrap_or_default();
        let configured = &snapshot.config.config.tenants;
        let mut listed: Vec<Listed> = configured
            .iter()
            .map(|t| Listed {
                id: t.id.clone(),
                cidr_block: lock.blocks.get(&t.id).map(ToString::to_string),
                status: "active",
            })
            .collect();
        listed.extend(
            lock.blocks
                .iter()
                .filter(|(id, _)| !configured.iter().any(|t| &t.id == *id))
                .map(|(id, block)| Listed {
                    id: id.clone(),
                    cidr_block: Some(block.to_string()),
                    status: "retired",
                }),
        );
        Ok(listed)
    }

    /// Uploads a configuration and its lock file; refuses to replace an existing configuration
    /// unless `replace`, and then only the version just read (a concurrent change fails the push
    /// instead of being lost).
    pub fn push(&self, config: &str, lock: Option<&str>, replace: bool) -> Result<(), RegistryError> {
        let location = self.store.locate(Document::Config);
        ConfigFile::parse(
            Source {
                origin: location.clone(),
                text: config.to_owned(),
            },
            None,
        )?;
        if let Some(lock) = lock {
            Lock::parse(Source {
                origin: self.store.locate(Document::Lock),
                text: lock.to_owned(),
            })?;
        }
        let current_config = self.store.read(Document::Config)?;
        if current_config.is_some() && !replace {
            return Err(RegistryError::Exists { location });
        }
        let current_lock = self.store.read(Document::Lock)?;
        let conflict = || RegistryError::Contention {
            attempts: 1,
            location: location.clone(),
        };
        if let Some(lock) = lock
            && self
                .store
                .write(Document::Lock, lock, &condition(current_lock.as_ref()))?
                == Written::Conflict
        {
            return Err(conflict());
        }
        if self
            .store
            .write(Document::Config, config, &condition(current_config.as_ref()))?
            == Written::Conflict
        {
            return Err(conflict());
        }
        Ok(())
    }

    /// The configuration's text and the lock file's, if any.
    pub fn pull(&self) -> Result<(String, Option<String>), RegistryError> {
        let config = self
            .store
            .read(Document::Config)?
            .ok_or_else(|| RegistryError::Missing {
                location: self.store.locate(Document::Config),
            })?;
        let lock = self.store.read(Document::Lock)?;
        Ok((config.text, lock.map(|l| l.text)))
    }

    /// Runs `plan` on fresh reads and writes what it returns (the lock file first, then the
    /// configuration, each conditional on the version read), until both writes hold.
    fn change<T>(
        &self,
        plan: impl Fn(&Snapshot) -> Result<Change<T>, RegistryError>,
    ) -> Result<T, RegistryError> {
        for attempt in 1..=MAX_ATTEMPTS {
            let snapshot = self.snapshot()?;
            let change = plan(&snapshot)?;
            if let Some(lock) = &change.lock {
                let condition = match &snapshot.lock_version {
                    Some(version) => Condition::Unchanged(version.clone()),
                    None => Condition::Absent,
                };
                if self.store.write(Document::Lock, &lock.render(), &condition)? == Written::Conflict {
                    back_off(attempt);
                    continue;
                }
            }
            if let Some(config) = change
                .config
                .as_deref()
                .filter(|c| *c != snapshot.config.source.text)
                && self.store.write(
                    Document::Config,
                    config,
                    &Condition::Unchanged(snapshot.config_version.clone()),
                )? == Written::Conflict
            {
                back_off(attempt);
                continue;
            }
            tracing::debug!(attempt, "registry change committed");
            return Ok(change.result);
        }
        Err(RegistryError::Contention {
            attempts: MAX_ATTEMPTS,
            location: self.location(),
        })
    }
}

/// What one attempt of a change writes, and what it reports once written.
struct Change<T> {
    lock: Option<Lock>,
    config: Option<String>,
    result: T,
}

impl<T> Change<T> {
    fn none(result: T) -> Self {
        Self {
            lock: None,
            config: None,
            result,
        }
    }
}

/// The write condition that replaces exactly `current`.
fn condition(current: Option<&Versioned>) -> Condition {
    match current {
        Some(current) => Condition::Unchanged(current.version.clone()),
        None => Condition::Absent,
    }
}

/// The configuration `file` with its text replaced, named so that diagnostics say what changed.
fn reparse(file: &ConfigFile, text: String, change: &str) -> Result<ConfigFile, ConfigError> {
    ConfigFile::parse(
        Source {
            origin: format!("{} ({change})", file.source.origin),
            text,
        },
        file.path.clone(),
    )
}

/// Waits a random while that grows with the attempt, so that writers who lost together do not
/// retry together.
fn back_off(attempt: u32) {
    use rand::{RngExt, SeedableRng};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seed = u64::from(std::process::id()) << 32 ^ u64::from(now.subsec_nanos()) ^ u64::from(attempt);
    let ceiling_ms = 10 * u64::from(attempt.min(20));
    let wait = rand::rngs::StdRng::seed_from_u64(seed).random_range(1..=ceiling_ms);
    std::thread::sleep(Duration::from_millis(wait));
}
