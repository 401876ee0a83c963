//! The fleet's configuration: a TOML file, or the built-in example of three tenants.
//!
//! Everything here is parsed into typed values before any plugin runs; unknown keys are errors so
//! that a typo never passes silently.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default environment suffix when neither flag, environment nor file sets one.
pub const DEFAULT_SUFFIX: &str = "dev";
/// The default region.
pub const DEFAULT_REGION: &str = "us-east-1";

/// A plugin's settings as given in the configuration: a TOML table turned into JSON.
pub type PluginSettings = serde_json::Map<String, serde_json::Value>;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Appended to every name; the `ENVIRONMENT_SUFFIX` variable and `--environment-suffix` win.
    #[serde(default)]
    pub environment_suffix: Option<String>,
    /// The AWS region of every stack.
    #[serde(default = "default_region")]
    pub region: String,
    /// Where each stack keeps its Terraform state.
    pub state_backend: StateBackend,
    /// How tenant address blocks are chosen.
    #[serde(default)]
    pub addressing: Addressing,
    /// The fleet.
    pub tenants: Vec<TenantConfig>,
    /// Fleet-wide settings per plugin, keyed by plugin name.
    #[serde(default)]
    pub plugins: BTreeMap<String, toml::Table>,
    /// The account's quotas in this region, for the quota preflight checks.
    #[serde(default)]
    pub quotas: Quotas,
    /// Accepted findings: each names a rule, what it applies to, why, and until when.
    #[serde(default)]
    pub waivers: Vec<WaiverConfig>,
}

/// Account quotas the fleet must fit in; the defaults are AWS's defaults for a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Quotas {
    /// VPCs per region.
    pub vpcs_per_region: u32,
    /// Gateway VPC endpoints per region.
    pub gateway_endpoints_per_region: u32,
    /// Concurrent Lambda executions of the account in the region.
    pub lambda_concurrent_executions: u32,
    /// Concurrency AWS keeps unreserved; reservations may not eat into it.
    pub lambda_unreserved_minimum: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            vpcs_per_region: 5,
            gateway_endpoints_per_region: 20,
            lambda_concurrent_executions: 1000,
            lambda_unreserved_minimum: 100,
        }
    }
}

/// An accepted finding, as written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WaiverConfig {
    /// The rule id, e.g. `storage.archive-tiers-unreachable`.
    pub rule: String,
    /// Only this tenant's stack; every stack when absent.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Only addresses matching this pattern (`*` matches any run of characters).
    #[serde(default)]
    pub address: Option<String>,
    /// Why the finding is accepted; required.
    pub reason: String,
    /// The last day the waiver holds, `YYYY-MM-DD`; after it the waiver is itself an error.
    pub expires: String,
}

/// The S3 backend every stack uses; each stack's key is `<prefix><suffix>/<stack>.tfstate`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StateBackend {
    /// The state bucket (created outside tenant-host, once per account).
    pub bucket: String,
    /// The bucket's region.
    pub region: String,
    /// A prefix for every state key, e.g. `platform/`.
    #[serde(default)]
    pub key_prefix: String,
}

/// The address pool tenant VPC blocks are allocated from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Addressing {
    /// The pool, e.g. `10.0.0.0/8`.
    pub pool: String,
    /// The prefix length of each tenant's block, e.g. 16.
    pub prefix_length: u8,
}

impl Default for Addressing {
    fn default() -> Self {
        Self {
            pool: "10.0.0.0/8".into(),
            prefix_length: 16,
        }
    }
}

/// One tenant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TenantConfig {
    /// `[a-z0-9-]`, no leading, trailing or double hyphen.
    pub id: String,
    /// An explicit VPC block; otherwise the next free block of the pool.
    #[serde(default)]
    pub cidr_block: Option<String>,
    /// Per-plugin settings for this tenant, overriding the fleet-wide ones.
    #[serde(default)]
    pub settings: BTreeMap<String, toml::Table>,
}

fn default_region() -> String {
    DEFAULT_REGION.into()
}

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not have the expected shape.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line, column and the offending line.
        message: String,
    },
    /// A value is not acceptable.
    #[error("{}", problems.join("\n"))]
    Invalid {
        /// Every problem found, not only the first.
        problems: Vec<String>,
    },
}

impl Config {
    /// The built-in example: `acme-corp`, `tech-startup` and `retail-co` in `us-east-1`.
    pub fn example() -> Self {
        toml::from_str(EXAMPLE).expect("the built-in example configuration parses")
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            message: e.to_string(),
        })
    }

    /// The suffix: the flag (or `ENVIRONMENT_SUFFIX`) first, then the file, then `dev`.
    pub fn suffix(&self, from_cli_or_env: Option<&str>) -> String {
        from_cli_or_env
            .or(self.environment_suffix.as_deref())
            .unwrap_or(DEFAULT_SUFFIX)
            .to_owned()
    }
}

/// The built-in example, also shipped as `examples/tenants.toml`.
pub const EXAMPLE: &str = include_str!("../../examples/tenants.toml");

/// Turns a TOML table into a JSON object for plugins.
pub fn table_to_json(table: &toml::Table) -> PluginSettings {
    match serde_json::to_value(table).expect("TOML values convert to JSON") {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a TOML table converts to a JSON object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_has_three_tenants() {
        let config = Config::example();
        let ids: Vec<_> = config.tenants.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["acme-corp", "tech-startup", "retail-co"]);
        assert_eq!(config.region, "us-east-1");
        assert_eq!(config.suffix(None), "dev");
        assert_eq!(config.suffix(Some("pr42")), "pr42");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let text = format!("{EXAMPLE}\nregoin = \"eu-west-1\"\n");
        let error = toml::from_str::<Config>(&text).unwrap_err().to_string();
        assert!(error.contains("unknown field `regoin`"), "{error}");
    }
}
