//! Compiled plugin components, kept in the user's cache so that a run deserializes machine code
//! instead of compiling every plugin with Cranelift.
//!
//! A compiled component is stored as `<sha256 of the component>-<engine hash>.cwasm` in
//! `$XDG_CACHE_HOME/tenant-host/components` (or `~/.cache/...`). The engine hash is
//! [`Engine::precompile_compatibility_hash`]: it changes with the wasmtime version, the engine's
//! settings and the host CPU's features, so a file compiled for another engine is never looked up.
//! Files are written under a temporary name and renamed into place, so a file with a key's name
//! is always a complete artifact of [`Engine::precompile_component`].

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where compiled components are kept.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: PathBuf,
    engine_hash: String,
}

impl ComponentCache {
    /// The cache in the user's cache folder, or `None` when neither `XDG_CACHE_HOME` nor `HOME`
    /// says where that is (every run then compiles).
    pub fn in_user_cache(engine: &Engine) -> Option<Self> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(Self::at(base.join("tenant-host").join("components"), engine))
    }

    /// The cache in `dir`, for components compiled by `engine`.
    pub fn at(dir: PathBuf, engine: &Engine) -> Self {
        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            dir,
            engine_hash: hex(&hasher.0.finalize()[..8]),
        }
    }

    /// The file that holds the component whose SHA-256 (lowercase hex) is `digest`, compiled by
    /// this cache's engine.
    pub fn path_for(&self, digest: &str) -> PathBuf {
        self.dir.join(format!("{digest}-{}.cwasm", self.engine_hash))
    }

    /// `component` (whose SHA-256 is `digest`: the loader has it already) compiled: deserialized
    /// from the cache when it holds it, else compiled and stored (a failure to store is logged,
    /// not fatal: the run goes on with the compiled code).
    pub fn component(&self, engine: &Engine, component: &[u8], digest: &str) -> wasmtime::Result<Component> {
        if let Some(compiled) = self.cached(engine, digest) {
            return Ok(compiled);
        }
        let path = self.path_for(digest);
        let serialized = engine.precompile_component(component)?;
        if let Err(error) = store(&path, &serialized) {
            tracing::debug!("cannot cache {}: {error}", path.display());
        }
        deserialize_bytes(engine, &serialized)
    }

    /// The component whose SHA-256 is `digest` as the cache holds it compiled, if it holds a
    /// file this engine accepts.
    pub fn cached(&self, engine: &Engine, digest: &str) -> Option<Component> {
        let path = self.path_for(digest);
        if !path.is_file() {
            return None;
        }
        deserialize(engine, &path)
            // E.g. a file another wasmtime build wrote under a colliding engine hash: the caller
            // compiles and replaces it.
            .inspect_err(|error| tracing::debug!("recompiling {}: {error:#}", path.display()))
            .ok()
    }
}

/// Loads a file written by [`store`].
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: `deserialize_file` trusts that the file is the unaltered output of
    // `precompile_component` for a compatible engine, since it maps the file's machine code as
    // executable. The path is the key of the exact component bytes and this engine's
    // compatibility hash, it lies in the user's own cache folder (the same trust as the binary
    // and wasmtime's own cache), and files only get that name by an atomic rename after a
    // complete write. Wasmtime also checks the artifact's embedded version and engine settings
    // and refuses a mismatch with an error.
    unsafe { Component::deserialize_file(engine, path) }
}

/// Loads what this process serialized for `engine`: the output of `precompile_component`, or of
/// `serialize` on a component loaded into it.
#[allow(unsafe_code)]
fn deserialize_bytes(engine: &Engine, serialized: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: the bytes come straight from this process's own wasmtime for this engine, which is
    // exactly what `deserialize` requires.
    unsafe { Component::deserialize(engine, serialized) }
}

/// `component` serialized and deserialized again: the same machine code in modules of their own.
pub(crate) fn duplicate(engine: &Engine, component: &Component) -> wasmtime::Result<Component> {
    deserialize_bytes(engine, &component.serialize()?)
}

/// Writes `bytes` to `path` so that `path` never names a partial file.
fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache paths have a folder");
    std::fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut file, bytes)?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(2 * bytes.len()), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}

/// Feeds what [`Hash`] writes into SHA-256, so the engine hash is the same in every process
/// (the standard library's hashers promise no stable output).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        unreachable!("only finalized as SHA-256")
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::sha256_hex;

    /// `(component)`: the component binary header and nothing else.
    const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";
    /// The same with a custom section `a`: another component of the same behaviour.
    const NAMED_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00\x00\x02\x01a";

    fn engine() -> Engine {
        Engine::default()
    }

    #[test]
    fn a_component_is_compiled_once_then_loaded_from_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = ComponentCache::at(dir.path().to_owned(), &engine);
        let bytes = EMPTY_COMPONENT;
        let digest = sha256_hex(bytes);
        let path = cache.path_for(&digest);
        assert!(!path.exists());
        cache.component(&engine, bytes, &digest).unwrap();
        let written = std::fs::metadata(&path).unwrap().modified().unwrap();
        cache.component(&engine, bytes, &digest).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), written);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary files left"
        );
    }

    #[test]
    fn the_key_follows_the_component_bytes_and_the_engine_settings() {
        let dir = tempfile::tempdir().unwrap();
        let default = ComponentCache::at(dir.path().to_owned(), &engine());
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let other_engine = Engine::new(&config).unwrap();
        let other = ComponentCache::at(dir.path().to_owned(), &other_engine);
        let a = &sha256_hex(EMPTY_COMPONENT);
        let b = &sha256_hex(NAMED_COMPONENT);
        assert_ne!(default.path_for(a), default.path_for(b));
        assert_ne!(default.path_for(a), other.path_for(a));
        assert_eq!(
            default.path_for(a),
            ComponentCache::at(dir.path().to_owned(), &engine()).path_for(a)
        );
    }

    /// A second copy of a plugin runs in pooled slots of its own only if it is loaded apart from
    /// the first: the same code, in memory of its own.
    #[test]
    fn a_copy_is_the_same_code_loaded_apart() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = ComponentCache::at(dir.path().to_owned(), &engine);
        let digest = sha256_hex(EMPTY_COMPONENT);
        let compiled = cache.component(&engine, EMPTY_COMPONENT, &digest).unwrap();
        let from_the_cache = cache.cached(&engine, &digest).expect("the file just written");
        let in_memory = duplicate(&engine, &compiled).unwrap();
        for copy in [&from_the_cache, &in_memory] {
            assert_eq!(copy.serialize().unwrap(), compiled.serialize().unwrap());
            assert_ne!(copy.image_range(), compiled.image_range());
        }
        assert_ne!(from_the_cache.image_range(), in_memory.image_range());
        assert!(
            ComponentCache::at(dir.path().join("empty"), &engine)
                .cached(&engine, &digest)
                .is_none()
        );
    }

    #[test]
    fn a_damaged_file_is_recompiled_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine();
        let cache = ComponentCache::at(dir.path().to_owned(), &engine);
        let bytes = EMPTY_COMPONENT;
        let digest = sha256_hex(bytes);
        let path = cache.path_for(&digest);
        std::fs::write(&path, b"not an artifact").unwrap();
        cache.component(&engine, bytes, &digest).unwrap();
        assert!(Engine::detect_precompiled_file(&path).unwrap().is_some());
    }
}
