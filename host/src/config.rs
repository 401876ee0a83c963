//! The fleet's configuration: a TOML file, or the built-in example of three tenants.
//!
//! Everything here is parsed into typed values before any plugin runs. Unknown keys are errors so
//! that a typo never passes silently; they are found by `serde_ignored` rather than
//! `deny_unknown_fields` so that every one of them is reported, each with its line and column.
//! The reference is `docs/configuration.md`.

use crate::diagnostics::{Report, Source, Spans, parse_toml};
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
#[serde(rename_all = "kebab-case")]
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
    /// The access model's view of the principals outside the stacks.
    #[serde(default)]
    pub access: AccessConfig,
}

/// The `[access]` table: principals the access model cannot read from the stacks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AccessConfig {
    /// The role that runs terraform, e.g. `arn:aws:iam::${account}:role/deployer`, where
    /// `${account}` stands for the account the stacks deploy to. It is modelled untagged with
    /// `AdministratorAccess`. Default: `arn:aws:iam::${account}:role/terraform-deployer`.
    pub deployer_role_arn: Option<String>,
}

/// Account quotas the fleet must fit in; the defaults are AWS's defaults for a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
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
#[serde(rename_all = "kebab-case")]
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
#[serde(rename_all = "kebab-case")]
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
#[serde(rename_all = "kebab-case")]
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
#[serde(rename_all = "kebab-case")]
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
    #[error("configuration: cannot read {}; check the --config path", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML, does not have the expected shape, or has unacceptable values;
    /// every problem found, each with its position.
    #[error("configuration: {0}")]
    Invalid(Report),
    /// The lock file beside the configuration is unusable.
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
}

/// The configuration with its text and the position of every key and value, for diagnostics.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The parsed configuration.
    pub config: Config,
    /// The text it was parsed from.
    pub source: Source,
    /// Where each key and value is in `source`.
    pub spans: Spans,
    /// The file; `None` for the built-in example.
    pub path: Option<PathBuf>,
}

impl ConfigFile {
    /// The built-in example, which has no file and therefore no lock file.
    pub fn example() -> Self {
        Self::parse(
            Source {
                origin: "built-in example (examples/tenants.toml)".into(),
                text: EXAMPLE.into(),
            },
            None,
        )
        .expect("the built-in example configuration parses")
    }

    /// Reads and parses a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = crate::bounded_read::read_to_string(path, crate::bounded_read::MAX_CONFIG_BYTES).map_err(
            |source| ConfigError::Read {
                path: path.into(),
                source,
            },
        )?;
        let source = Source {
            origin: path.display().to_string(),
            text,
        };
        Self::parse(source, Some(path.into()))
    }

    /// Parses `source`, reporting every syntax error or every unknown key at once.
    pub fn parse(source: Source, path: Option<PathBuf>) -> Result<Self, ConfigError> {
        let (config, spans) = parse_toml::<Config>(&source).map_err(ConfigError::Invalid)?;
        Ok(Self {
            config,
            source,
            spans,
            path,
        })
    }

    /// The lock file beside the configuration (`tenants.toml` → `tenants.lock`); `None` for the
    /// built-in example.
    pub fn lock_path(&self) -> Option<PathBuf> {
        self.path.as_ref().map(|p| p.with_extension("lock"))
    }
}

impl Config {
    /// The built-in example: `acme-corp`, `tech-startup` and `retail-co` in `us-east-1`.
    pub fn example() -> Self {
        ConfigFile::example().config
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
        assert_eq!(config.environment_suffix, None);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let source = Source {
            origin: "tenants.toml".into(),
            text: format!("regoin = \"eu-west-1\"\n{EXAMPLE}\n[quotas]\nvpcs-per-regoin = 5\n"),
        };
        let error = ConfigFile::parse(source, None).unwrap_err().to_string();
        assert!(error.contains("unknown key `regoin`"), "{error}");
        assert!(error.contains("unknown key `quotas.vpcs-per-regoin`"), "{error}");
    }

    #[test]
    fn the_lock_file_sits_beside_the_configuration() {
        let source = Source {
            origin: "fleet/prod.toml".into(),
            text: EXAMPLE.into(),
        };
        let file = ConfigFile::parse(source, Some("fleet/prod.toml".into())).unwrap();
        assert_eq!(file.lock_path(), Some(PathBuf::from("fleet/prod.lock")));
        assert_eq!(ConfigFile::example().lock_path(), None);
    }
}
