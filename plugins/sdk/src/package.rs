//! Deterministic deployment packages: a zip archive whose bytes depend only on its files, and the
//! digests Terraform and Lambda expect.

use sha2::{Digest, Sha256};

/// A zip archive of `files` (`(path, contents)`), stored uncompressed, in the given order, with a
/// fixed timestamp (1980-01-01) and fixed permissions, so identical inputs give identical bytes.
pub fn deterministic_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    const DOS_TIME: u16 = 0;
    const DOS_DATE: u16 = (1 << 5) | 1; // 1980-01-01
    let mut archive = Vec::new();
    let mut central = Vec::new();
    for (path, contents) in files {
        let offset = archive.len() as u32;
        let crc = crc32fast::hash(contents);
        let size = contents.len() as u32;
        let name = path.as_bytes();
        // Local file header.
        archive.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        archive.extend_from_slice(&20u16.to_le_bytes()); // version needed
        archive.extend_from_slice(&0u16.to_le_bytes()); // flags
        archive.extend_from_slice(&0u16.to_le_bytes()); // method: stored
        archive.extend_from_slice(&DOS_TIME.to_le_bytes());
        archive.extend_from_slice(&DOS_DATE.to_le_bytes());
        archive.extend_from_slice(&crc.to_le_bytes());
        archive.extend_from_slice(&size.to_le_bytes());
        archive.extend_from_slice(&size.to_le_bytes());
        archive.extend_from_slice(&(name.len() as u16).to_le_bytes());
        archive.extend_from_slice(&0u16.to_le_bytes()); // extra length
        archive.extend_from_slice(name);
        archive.extend_from_slice(contents);
        // Central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&0x031eu16.to_le_bytes()); // made by: unix, 3.0
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&DOS_TIME.to_le_bytes());
        central.extend_from_slice(&DOS_DATE.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
        central.extend_from_slice(&(0o100644u32 << 16).to_le_bytes()); // rw-r--r--
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let central_offset = archive.len() as u32;
    archive.extend_from_slice(&central);
    archive.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    archive.extend_from_slice(&[0; 4]); // disk numbers
    archive.extend_from_slice(&(files.len() as u16).to_le_bytes());
    archive.extend_from_slice(&(files.len() as u16).to_le_bytes());
    archive.extend_from_slice(&(central.len() as u32).to_le_bytes());
    archive.extend_from_slice(&central_offset.to_le_bytes());
    archive.extend_from_slice(&0u16.to_le_bytes());
    archive
}

/// A deployment package's SHA-256 in the two forms a stack uses, hashed once: a plugin that
/// writes a package per stack needs both, and hashing was most of such a plugin's synthesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageDigest {
    /// Lowercase hex: for content-addressed asset paths.
    pub hex: String,
    /// Base64: what Lambda's `source_code_hash` compares.
    pub base64: String,
}

impl PackageDigest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        let digest = Sha256::digest(bytes);
        PackageDigest {
            hex: format!("{digest:x}"),
            base64: base64(&digest),
        }
    }
}

/// The lowercase hex SHA-256 of `bytes`: for content-addressed asset paths.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The base64 SHA-256 of `bytes`: what Lambda's `source_code_hash` compares.
pub fn sha256_base64(bytes: &[u8]) -> String {
    base64(&Sha256::digest(bytes))
}

/// Standard base64 with padding (RFC 4648).
fn base64(digest: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in digest.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_deterministic_and_well_formed() {
        let files: &[(&str, &[u8])] = &[("app.py", b"print('hi')\n")];
        let zip = deterministic_zip(files);
        assert_eq!(zip, deterministic_zip(files));
        assert_eq!(&zip[..4], b"PK\x03\x04");
        let end = zip.len() - 22;
        assert_eq!(&zip[end..end + 4], b"PK\x05\x06");
    }

    #[test]
    fn digests_match_known_values() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_base64(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(
            PackageDigest::of(b"abc"),
            PackageDigest {
                hex: sha256_hex(b"abc"),
                base64: sha256_base64(b"abc")
            }
        );
    }
}
