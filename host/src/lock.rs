//! The lock file (`tenants.lock` beside `tenants.toml`): the VPC block of every tenant, allocated
//! once and then never changed, so that adding, removing or reordering tenants never renumbers a
//! live VPC. A removed tenant keeps its block here until it is released explicitly.
//!
//! The file is written atomically (a temporary file beside it, renamed over it) and only by a
//! run whose synthesis succeeded; `--locked` turns any change into an error instead.

use crate::diagnostics::{Diagnostic, Report, Source, parse_toml};
use crate::path;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use tenant_plugin_sdk::cidr::{BlockMap, Ipv4Block};

/// The format version this host reads and writes.
const VERSION: u32 = 1;

/// Why the lock file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The file exists but could not be read.
    #[error("lock file: cannot read {}; check its permissions", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a lock file of this version.
    #[error("lock file: {0}")]
    Invalid(Report),
    /// The file could not be written.
    #[error("lock file: cannot write {}; the previous lock file is unchanged", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The recorded block of every tenant that ever had one and was not released.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    /// Tenant id to block.
    pub blocks: BTreeMap<String, Ipv4Block>,
}

/// The lock a run ends with, to be written once the output is written.
#[derive(Debug, Clone, PartialEq)]
pub struct LockUpdate {
    /// The lock file; `None` for the built-in example, which has none.
    pub path: Option<PathBuf>,
    /// The lock after this run.
    pub lock: Lock,
    /// Whether it differs from the file.
    pub changed: bool,
    /// Tenants no longer configured whose blocks stay reserved.
    pub retired: Vec<(String, Ipv4Block)>,
}

impl LockUpdate {
    /// Writes the lock file when it changed; returns the path written.
    pub fn write_if_changed(&self) -> Result<Option<&Path>, LockError> {
        match &self.path {
            Some(path) if self.changed => {
                self.lock.write(path)?;
                Ok(Some(path))
            }
            _ => Ok(None),
        }
    }
}

#[derive(Debug, Deserialize)]
struct LockFile {
    version: u32,
    #[serde(default)]
    blocks: BTreeMap<String, String>,
}

impl Lock {
    /// Reads the lock file at `path`; `None` when there is none yet.
    pub fn read(path: &Path) -> Result<Option<Self>, LockError> {
        let text = match crate::bounded_read::read_to_string(path, crate::bounded_read::MAX_LOCK_BYTES) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(LockError::Read {
                    path: path.into(),
                    source,
                });
            }
        };
        Self::parse(Source {
            origin: path.display().to_string(),
            text,
        })
        .map(Some)
    }

    /// Parses the text of a lock file.
    pub fn parse(source: Source) -> Result<Self, LockError> {
        let (file, spans) = parse_toml::<LockFile>(&source).map_err(LockError::Invalid)?;
        let mut diagnostics = Vec::new();
        if file.version != VERSION {
            diagnostics.push(
                Diagnostic::error(format!(
                    "lock file version {} is not the version {VERSION} this tenant-host reads",
                    file.version
                ))
                .at(spans.value(&path!["version"]), "unsupported version")
                .help("use the tenant-host release that wrote it"),
            );
        }
        let mut blocks: BTreeMap<String, Ipv4Block> = BTreeMap::new();
        let mut taken = BlockMap::default();
        for (id, text) in &file.blocks {
            let span = spans.value(&path!["blocks", id]);
            match text.parse::<Ipv4Block>() {
                Err(e) => diagnostics.push(
                    Diagnostic::error(format!("the block of tenant `{id}` is not a CIDR block: {e}"))
                        .at(span, "not a block")
                        .help("restore the lock file from version control; blocks are never edited by hand"),
                ),
                Ok(block) => match first_overlap(&taken, &block) {
                    Some((owner, other)) => diagnostics.push(
                        Diagnostic::error(format!(
                            "the block {block} of tenant `{id}` overlaps {other} of tenant `{owner}`"
                        ))
                        .at(span, "overlaps")
                        .also(spans.value(&path!["blocks", owner]), "this block")
                        .help("restore the lock file from version control; blocks are never edited by hand"),
                    ),
                    None => {
                        taken.insert(block, id.clone());
                        blocks.insert(id.clone(), block);
                    }
                },
            }
        }
        if diagnostics.is_empty() {
            Ok(Self { blocks })
        } else {
            Err(LockError::Invalid(Report { source, diagnostics }))
        }
    }

    /// Its blocks, indexed by block.
    pub fn taken(&self) -> BlockMap<String> {
        let mut taken = BlockMap::default();
        for (id, block) in &self.blocks {
            taken.insert(*block, id.clone());
        }
        taken
    }

    /// The file's text: sorted by tenant id, so that it does not depend on configuration order.
    pub fn render(&self) -> String {
        let mut text = format!(
            "# Written by tenant-host: the VPC block of every tenant, allocated once. Commit this file.\n\
             # A removed tenant keeps its block until `tenant-host synth --release <id>`; see\n\
             # docs/configuration.md.\n\
             version = {VERSION}\n\n[blocks]\n"
        );
        for (id, block) in &self.blocks {
            text.push_str(&format!("{id} = \"{block}\"\n"));
        }
        text
    }

    /// Writes the file atomically: a failed or interrupted write leaves the previous file intact.
    pub fn write(&self, path: &Path) -> Result<(), LockError> {
        let error = |source| LockError::Write {
            path: path.into(),
            source,
        };
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut file = tempfile::Builder::new()
            .prefix(".tenant-host-lock-")
            .tempfile_in(folder)
            .map_err(error)?;
        file.write_all(self.render().as_bytes()).map_err(error)?;
        file.as_file().sync_all().map_err(error)?;
        file.persist(path).map_err(|e| error(e.error))?;
        Ok(())
    }
}

/// The block among `taken` that `block` overlaps, of the tenant first in id order: what scanning
/// a lock's blocks in order would find, without scanning them.
pub fn first_overlap<'a>(taken: &'a BlockMap<String>, block: &Ipv4Block) -> Option<(&'a String, Ipv4Block)> {
    taken
        .overlapping(block)
        .map(|(other, owner)| (owner, other))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(entries: &[(&str, &str)]) -> Lock {
        Lock {
            blocks: entries
                .iter()
                .map(|(id, block)| (id.to_string(), block.parse().unwrap()))
                .collect(),
        }
    }

    #[test]
    fn a_lock_round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tenants.lock");
        assert_eq!(Lock::read(&path).unwrap(), None);
        let original = lock(&[("b", "10.1.0.0/16"), ("a", "10.0.0.0/16")]);
        original.write(&path).unwrap();
        assert_eq!(Lock::read(&path).unwrap(), Some(original.clone()));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with("[blocks]\na = \"10.0.0.0/16\"\nb = \"10.1.0.0/16\"\n"),
            "{text}"
        );
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn a_damaged_lock_names_every_problem() {
        let source = Source {
            origin: "tenants.lock".into(),
            text: "version = 2\n[blocks]\na = \"10.0.0.0/16\"\nb = \"10.0.1.0/24\"\nc = \"nope\"\n".into(),
        };
        let LockError::Invalid(report) = Lock::parse(source).unwrap_err() else {
            panic!("expected a damaged lock")
        };
        let text = report.to_string();
        assert_eq!(report.diagnostics.len(), 3, "{text}");
        assert!(text.contains("tenants.lock:1:11"), "{text}");
        assert!(text.contains("overlaps 10.0.0.0/16 of tenant `a`"), "{text}");
        assert!(text.contains("tenants.lock:5:5"), "{text}");
    }
}
