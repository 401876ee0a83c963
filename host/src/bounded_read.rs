//! Reads of files named on the command line or found beside them (configuration, lock, plugin
//! components, provider schema, the previous manifest), each bounded before a byte is read.
//!
//! A path may name a FIFO (whose open blocks until a writer comes, and whose reads never end), a
//! device such as `/dev/zero` (endless), or a sparse file of gigabytes. So every read here first
//! checks that the path is a regular file no larger than the caller's limit, opens it without
//! blocking, checks the opened file again (the path may have changed in between), and reads at
//! most `limit` bytes. Errors are `io::Error`s whose message says which check failed and what the
//! limit is; a missing file keeps its `NotFound` kind so callers can tell "absent" apart.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// The largest configuration file (`--config`) read: a fleet of thousands of tenants is well
/// under a megabyte.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;
/// The largest lock file read.
pub const MAX_LOCK_BYTES: u64 = 16 << 20;
/// The largest plugin component read; the bundled ones are a few megabytes.
pub const MAX_COMPONENT_BYTES: u64 = 64 << 20;
/// The largest provider schema (`--schema`) read; the full AWS schema is under 5 MB.
pub const MAX_SCHEMA_BYTES: u64 = 64 << 20;
/// The largest `manifest.json` of a previous output read.
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// What kind of file `metadata` describes, for messages.
fn kind(metadata: &Metadata) -> &'static str {
    let file_type = metadata.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Refuses what is not a regular file of at most `limit` bytes.
fn check(metadata: &Metadata, limit: u64) -> io::Result<()> {
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is {}; tenant-host reads only regular files here",
                kind(metadata)
            ),
        ));
    }
    if metadata.len() > limit {
        return Err(too_large(metadata.len(), limit));
    }
    Ok(())
}

fn too_large(size: u64, limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("it is {size} bytes, more than the limit of {limit} bytes"),
    )
}

/// Opens `path` for reading once it is known to be a regular file of at most `limit` bytes.
fn open(path: &Path, limit: u64) -> io::Result<File> {
    check(&std::fs::metadata(path)?, limit)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Should the path turn into a FIFO after the check, the open must not wait for a writer.
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(path)?;
    check(&file.metadata()?, limit)?;
    Ok(file)
}

/// Reads at most `limit` bytes of an open file, failing if there are more.
fn read_limited(file: File, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64, limit));
    }
    Ok(bytes)
}

/// The whole of the regular file `path`, refused without reading when it is larger than `limit`.
pub fn read(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    read_limited(open(path, limit)?, limit)
}

/// The whole of the regular file `path` as UTF-8 text, bounded like [`read`].
pub fn read_to_string(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read(path, limit)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

/// The first `count` bytes (fewer if the file is shorter) of the regular file `path`, which must
/// be at most `limit` bytes long: to check a header before reading the rest.
pub fn read_prefix(path: &Path, limit: u64, count: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path, limit)?.take(count).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        std::fs::write(&path, "region = 'x'\n").unwrap();
        assert_eq!(read_to_string(&path, 100).unwrap(), "region = 'x'\n");
        assert_eq!(read_prefix(&path, 100, 6).unwrap(), b"region");
        assert_eq!(read_prefix(&path, 100, 1000).unwrap(), b"region = 'x'\n");
        let missing = read(&dir.path().join("none"), 100).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse");
        // A sparse gigabyte: refused from its size, not by reading it.
        File::create(&path).unwrap().set_len(1 << 30).unwrap();
        let error = read(&path, 1 << 20).unwrap_err().to_string();
        assert_eq!(
            error,
            "it is 1073741824 bytes, more than the limit of 1048576 bytes"
        );
    }

    #[cfg(unix)]
    #[test]
    fn devices_fifos_and_folders_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("zero.wasm");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let error = read(&link, 1 << 20).unwrap_err().to_string();
        assert!(error.contains("it is a device"), "{error}");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        // With no writer, opening the FIFO would block forever.
        let error = read_to_string(&fifo, 1 << 20).unwrap_err().to_string();
        assert!(error.contains("it is a FIFO"), "{error}");
        let error = read_prefix(dir.path(), 1 << 20, 8).unwrap_err().to_string();
        assert!(error.contains("it is a folder"), "{error}");
    }
}
