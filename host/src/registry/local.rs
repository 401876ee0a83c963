//! The local registry: the configuration file and the lock file beside it. A write holds an
//! exclusive lock on their folder while it compares the file's current content with the version
//! that was read, so local writers get the same compare-and-swap as S3's conditional writes.

use super::{Condition, Document, RegistryError, Store, Version, Versioned, Written};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The configuration file at `config` and its lock file (`tenants.toml` → `tenants.lock`).
#[derive(Debug, Clone)]
pub struct LocalStore {
    config: PathBuf,
}

impl LocalStore {
    /// The registry of the configuration file `config`.
    pub fn new(config: PathBuf) -> Self {
        Self { config }
    }

    fn path(&self, document: Document) -> PathBuf {
        match document {
            Document::Config => self.config.clone(),
            Document::Lock => self.config.with_extension("lock"),
        }
    }

    fn folder(&self) -> &Path {
        match self.config.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }
}

fn version_of(bytes: &[u8]) -> Version {
    Version(format!("{:x}", Sha256::digest(bytes)))
}

fn read_file(path: &Path) -> Result<Option<Versioned>, RegistryError> {
    let error = |source| RegistryError::File {
        path: path.into(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let version = version_of(&bytes);
            let text = String::from_utf8(bytes).map_err(|_| RegistryError::NotText {
                location: path.display().to_string(),
            })?;
            Ok(Some(Versioned { text, version }))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(error(e)),
    }
}

impl Store for LocalStore {
    fn locate(&self, document: Document) -> String {
        self.path(document).display().to_string()
    }

    fn read(&self, document: Document) -> Result<Option<Versioned>, RegistryError> {
        read_file(&self.path(document))
    }

    fn write(&self, document: Document, text: &str, condition: &Condition) -> Result<Written, RegistryError> {
        let path = self.path(document);
        let folder = self.folder();
        let error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| RegistryError::File { path, source }
        };
        // Every writer of this registry takes the same exclusive lock, so the comparison and the
        // rename below happen as one step.
        let guard = std::fs::File::open(folder).map_err(error(folder))?;
        guard.lock().map_err(error(folder))?;
        let current = read_file(&path)?;
        let holds = match (condition, &current) {
            (Condition::Absent, None) => true,
            (Condition::Unchanged(expected), Some(current)) => *expected == current.version,
            _ => false,
        };
        if !holds {
            return Ok(Written::Conflict);
        }
        let mut file = tempfile::Builder::new()
            .prefix(".tenant-host-registry-")
            .tempfile_in(folder)
            .map_err(error(folder))?;
        file.write_all(text.as_bytes()).map_err(error(&path))?;
        file.as_file().sync_all().map_err(error(&path))?;
        file.persist(&path).map_err(|e| error(&path)(e.error))?;
        drop(guard);
        Ok(Written::Written)
    }
}
