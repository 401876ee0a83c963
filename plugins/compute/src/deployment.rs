//! The tenant API's deployment package, built from the handler source compiled into the plugin.

use tenant_plugin_sdk::package::deterministic_zip;

/// The handler module; the function's handler is `app.handler`.
const HANDLER_SOURCE: &[u8] = include_bytes!("../handler/app.py");

/// The zip Lambda runs: `app.py` at the archive root.
pub fn api_package() -> Vec<u8> {
    deterministic_zip(&[("app.py", HANDLER_SOURCE)])
}

/// Where the package goes in the stack folder: named by its digest, so a changed handler is a new
/// file and an unchanged one keeps its path.
pub fn asset_path(package_sha256_hex: &str) -> String {
    format!("assets/tenant-api/{package_sha256_hex}.zip")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenant_plugin_sdk::package::PackageDigest;

    #[test]
    fn the_package_holds_the_handler_verbatim() {
        let package = api_package();
        let source = std::str::from_utf8(HANDLER_SOURCE).unwrap();
        assert!(source.contains("def handler(event, context):"));
        // Stored (uncompressed) entries keep the source bytes contiguous in the archive.
        assert!(package.windows(HANDLER_SOURCE.len()).any(|w| w == HANDLER_SOURCE));
        let path = asset_path(&PackageDigest::of(&package).hex);
        assert!(path.starts_with("assets/tenant-api/"));
        assert_eq!(path.len(), "assets/tenant-api/".len() + 64 + ".zip".len());
    }
}
