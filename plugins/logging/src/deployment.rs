//! The forwarder's deployment package, built from the source compiled into the plugin.

use tenant_plugin_sdk::package::deterministic_zip;

/// The forwarder module; the function's handler is `forwarder.handler`.
const FORWARDER_SOURCE: &[u8] = include_bytes!("../forwarder/forwarder.py");

/// The zip Lambda runs: `forwarder.py` at the archive root.
pub fn forwarder_package() -> Vec<u8> {
    deterministic_zip(&[("forwarder.py", FORWARDER_SOURCE)])
}

/// Where the package goes in the stack folder, named by its digest.
pub fn asset_path(package_sha256_hex: &str) -> String {
    format!("assets/log-forwarder/{package_sha256_hex}.zip")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenant_plugin_sdk::package::{PackageDigest, sha256_hex};

    #[test]
    fn the_package_holds_the_forwarder_verbatim() {
        let package = forwarder_package();
        assert!(
            std::str::from_utf8(FORWARDER_SOURCE)
                .unwrap()
                .contains("def handler(event, context):")
        );
        assert!(
            package
                .windows(FORWARDER_SOURCE.len())
                .any(|w| w == FORWARDER_SOURCE)
        );
        assert_eq!(
            asset_path(&PackageDigest::of(&package).hex),
            format!("assets/log-forwarder/{}.zip", sha256_hex(&package))
        );
    }
}
