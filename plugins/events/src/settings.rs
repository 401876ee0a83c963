//! The plugin's settings: one declaration each (type, default, range), the checks the schema
//! cannot express (run by the host before any stack is synthesized, so a bad value is reported
//! at its place in the configuration), and their conversion into typed values.

use tenant_plugin_sdk::prelude::*;

/// How long EventBridge keeps retrying an undelivered event before it goes to the dead-letter queue.
pub const MAX_EVENT_AGE_SECONDS: &str = "max-event-age-seconds";
/// How many times EventBridge retries an undelivered event before it goes to the dead-letter queue.
pub const MAX_RETRY_ATTEMPTS: &str = "max-retry-attempts";
/// The repository the provisioning build checks out; empty means no source (see [`ConfigRepository`]).
pub const CONFIG_REPOSITORY: &str = "config-repository";
/// The role Terraform assumes to create tenant resources.
pub const DEPLOY_ROLE_ARN: &str = "deploy-role-arn";
/// The bucket holding the tenant stacks' Terraform state.
pub const STATE_BUCKET_NAME: &str = "state-bucket-name";
/// The CodeBuild image that carries `tenant-host` and `terraform`.
pub const BUILD_IMAGE: &str = "build-image";
/// The provisioning build's timeout.
pub const BUILD_TIMEOUT_MINUTES: &str = "build-timeout-minutes";
/// Retention of the workflow's and the build's log groups.
pub const LOG_RETENTION_DAYS: &str = "log-retention-days";
/// The fleet registry the provisioning job adds tenants to and synthesizes from.
pub const REGISTRY_URL: &str = "registry-url";
/// The terraform release the provisioning job installs.
pub const TERRAFORM_VERSION: &str = "terraform-version";
/// SHA-256 of that release's linux_amd64 zip.
pub const TERRAFORM_SHA256: &str = "terraform-sha256";
/// Where the provisioning job fetches the tenant-host bundle (`bin/tenant-host`, `plugins/*.wasm`).
pub const TOOL_BUNDLE_URL: &str = "tool-bundle-url";
/// SHA-256 of the bundle.
pub const TOOL_BUNDLE_SHA256: &str = "tool-bundle-sha256";
/// Builds at once in the fleet rollout's later phases.
pub const ROLLOUT_MAX_CONCURRENCY: &str = "rollout-max-concurrency";
/// Failed items a rollout phase tolerates, in percent, before it stops the rollout.
pub const ROLLOUT_TOLERATED_FAILURE_PERCENT: &str = "rollout-tolerated-failure-percent";

/// The retention values CloudWatch Logs accepts.
const LOG_RETENTION_VALUES: [u64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// The settings as configured; [`EventsSettings::delivery`] and [`Provisioner::from_settings`]
/// turn them into what the fragments use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(
    crate = "tenant_plugin_sdk::serde",
    rename_all = "kebab-case",
    deny_unknown_fields
)]
pub struct EventsSettings {
    pub max_event_age_seconds: u64,
    pub max_retry_attempts: u64,
    pub config_repository: String,
    pub deploy_role_arn: String,
    pub state_bucket_name: String,
    pub build_image: String,
    pub build_timeout_minutes: u64,
    pub log_retention_days: u64,
    pub registry_url: String,
    pub terraform_version: String,
    pub terraform_sha256: String,
    pub tool_bundle_url: String,
    pub tool_bundle_sha256: String,
    pub rollout_max_concurrency: u64,
    pub rollout_tolerated_failure_percent: u64,
}

impl SettingsSchema for EventsSettings {
    fn schema() -> Vec<Setting> {
        vec![
            Setting::integer(
                MAX_EVENT_AGE_SECONDS,
                "Seconds EventBridge keeps retrying delivery of an event to a target before dead-lettering it (60-86400).",
            )
            .default(3600)
            .range(60, 86_400),
            Setting::integer(
                MAX_RETRY_ATTEMPTS,
                "Delivery retries EventBridge makes per event and target before dead-lettering it (0-185).",
            )
            .default(8)
            .range(0, 185),
            Setting::string(
                CONFIG_REPOSITORY,
                "HTTPS URL of the platform's configuration repository (CodeCommit, GitHub, Bitbucket or GitLab) the provisioning build checks out; empty: no source, the build image carries the configuration.",
            )
            .default(""),
            Setting::string(
                DEPLOY_ROLE_ARN,
                "ARN of the role Terraform assumes to create tenant resources; empty: arn:aws:iam::<account>:role/saas-tenant-deployer-<suffix>.",
            )
            .default(""),
            Setting::string(
                STATE_BUCKET_NAME,
                "S3 bucket of the tenant stacks' Terraform state; empty: saas-tenant-tfstate-<account>-<suffix>.",
            )
            .default("")
            .max_length(63),
            Setting::string(
                BUILD_IMAGE,
                "CodeBuild image of the provisioning build; it must provide `tenant-host` and `terraform` on the PATH.",
            )
            .default("aws/codebuild/amazonlinux-x86_64-standard:5.0"),
            Setting::integer(
                BUILD_TIMEOUT_MINUTES,
                "Minutes after which CodeBuild stops a provisioning build (5-2160).",
            )
            .default(60)
            .range(5, 2160),
            Setting::integer(
                LOG_RETENTION_DAYS,
                "Retention in days of the provisioning workflow's and build's log groups (a CloudWatch Logs retention value).",
            )
            .default(30)
            .range(1, 3653),
            Setting::string(
                REGISTRY_URL,
                "The fleet registry (s3://bucket/prefix) the provisioning job adds tenants to; empty: s3://<state bucket>/fleet-registry/<suffix>.",
            )
            .default(""),
            Setting::string(
                TERRAFORM_VERSION,
                "The terraform release the provisioning job installs, e.g. 1.14.0; the job refuses to run without it.",
            )
            .default(""),
            Setting::string(
                TERRAFORM_SHA256,
                "SHA-256 of terraform_<version>_linux_amd64.zip, from HashiCorp's signed SHA256SUMS; the job refuses a download that does not match.",
            )
            .default(""),
            Setting::string(
                TOOL_BUNDLE_URL,
                "Where the provisioning job fetches the tenant-host bundle (bin/tenant-host, plugins/*.wasm; s3:// or https://), published by the platform's CI.",
            )
            .default(""),
            Setting::string(
                TOOL_BUNDLE_SHA256,
                "SHA-256 of the tenant-host bundle; the job refuses a download that does not match.",
            )
            .default(""),
            Setting::integer(
                ROLLOUT_MAX_CONCURRENCY,
                "Tenant stacks the fleet rollout applies at once after its canary (1-1000; each is one CodeBuild build).",
            )
            .default(10)
            .range(1, 1000),
            Setting::integer(
                ROLLOUT_TOLERATED_FAILURE_PERCENT,
                "Percentage of failed stacks a rollout phase tolerates before it fails and stops the rollout (0-100).",
            )
            .default(0)
            .range(0, 100),
        ]
    }

    /// What the schema cannot say: the repository host, the role ARN, a non-empty image and a
    /// CloudWatch retention value.
    fn validate(&self, _tenant: Option<&Tenant>) -> Vec<SettingProblem> {
        Provisioner::from_settings(self).err().unwrap_or_default()
    }
}

impl EventsSettings {
    /// How EventBridge delivers to targets (ranges checked by the schema).
    pub fn delivery(&self) -> Delivery {
        Delivery {
            max_event_age_seconds: self.max_event_age_seconds,
            max_retry_attempts: self.max_retry_attempts,
        }
    }
}

/// How EventBridge delivers to a target: how long and how often it retries before dead-lettering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// `maximum_event_age_in_seconds` of the target's retry policy.
    pub max_event_age_seconds: u64,
    /// `maximum_retry_attempts` of the target's retry policy.
    pub max_retry_attempts: u64,
}

/// Where the provisioning build gets the platform configuration from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigRepository {
    /// `NO_SOURCE`: the build image carries `tenant-host`, its configuration and plugins.
    BuildImage,
    /// A Git repository CodeBuild checks out before running the build commands.
    Git {
        /// The CodeBuild source type, e.g. `GITHUB`.
        source_type: &'static str,
        /// The repository's HTTPS URL.
        location: String,
    },
}

impl ConfigRepository {
    /// The source type CodeBuild needs follows from the host of the URL; anything else is refused
    /// rather than guessed.
    fn parse(url: &str) -> Result<Self, SettingProblem> {
        if url.is_empty() {
            return Ok(Self::BuildImage);
        }
        const HOSTS: [(&str, &str); 4] = [
            ("https://git-codecommit.", "CODECOMMIT"),
            ("https://github.com/", "GITHUB"),
            ("https://bitbucket.org/", "BITBUCKET"),
            ("https://gitlab.com/", "GITLAB"),
        ];
        HOSTS
            .iter()
            .find(|(prefix, _)| url.starts_with(prefix))
            .map(|(_, source_type)| Self::Git { source_type, location: url.to_owned() })
            .ok_or_else(|| {
                SettingProblem::new(
                    CONFIG_REPOSITORY,
                    format!(
                        "setting `{CONFIG_REPOSITORY}` is `{url}`: expected an HTTPS URL on CodeCommit, github.com, bitbucket.org or gitlab.com, or empty"
                    ),
                )
            })
    }
}

/// The provisioning build's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildImage {
    /// The image reference CodeBuild pulls.
    pub image: String,
    /// The ECR repository holding the image, if it is a private ECR image: then CodeBuild pulls
    /// it with the build role, which needs read access to that repository.
    pub ecr_repository_arn: Option<String>,
}

impl BuildImage {
    /// A private ECR image is `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]`;
    /// anything else (CodeBuild's managed images, public registries) CodeBuild pulls itself.
    fn parse(image: &str) -> Result<Self, SettingProblem> {
        if image.is_empty() {
            return Err(SettingProblem::new(
                BUILD_IMAGE,
                format!("setting `{BUILD_IMAGE}` must not be empty"),
            ));
        }
        let ecr_repository_arn = image.split_once('/').and_then(|(registry, path)| {
            let (account, rest) = registry.split_once(".dkr.ecr.")?;
            let region = rest.strip_suffix(".amazonaws.com")?;
            let repository = path.split(['@', ':']).next()?;
            let is_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
            (is_account && !region.is_empty() && !repository.is_empty())
                .then(|| format!("arn:aws:ecr:{region}:{account}:repository/{repository}"))
        });
        Ok(Self {
            image: image.to_owned(),
            ecr_repository_arn,
        })
    }
}

/// Everything the central stack's provisioning build is configured by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioner {
    /// Where the configuration comes from.
    pub config_repository: ConfigRepository,
    /// The configured deploy role, `None` for the conventional one in this account.
    pub deploy_role_arn: Option<String>,
    /// The configured state bucket, `None` for the conventional one of this account.
    pub state_bucket_name: Option<String>,
    /// The CodeBuild image.
    pub build_image: BuildImage,
    /// CodeBuild's `build_timeout`.
    pub build_timeout_minutes: u64,
    /// Retention of the workflow's and the build's log groups.
    pub log_retention_days: u64,
    /// The configured fleet registry, `None` for the conventional one in the state bucket.
    pub registry_url: Option<String>,
    /// The pinned tools the job installs; empty values make the job refuse to run.
    pub tools: Tools,
    /// How the fleet rollout runs.
    pub rollout: crate::rollout::RolloutLimits,
}

/// The tools the provisioning job installs, each pinned by its checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// `terraform-version`.
    pub terraform_version: String,
    /// `terraform-sha256`.
    pub terraform_sha256: String,
    /// `tool-bundle-url`.
    pub bundle_url: String,
    /// `tool-bundle-sha256`.
    pub bundle_sha256: String,
}

impl Tools {
    /// The pins, checked: checksums are SHA-256 hex, the version a release number, the bundle
    /// an s3:// or https:// URL; empty is allowed (the job then refuses to run, saying which).
    fn from_settings(settings: &EventsSettings, problems: &mut Vec<SettingProblem>) -> Self {
        for (name, value) in [
            (TERRAFORM_SHA256, &settings.terraform_sha256),
            (TOOL_BUNDLE_SHA256, &settings.tool_bundle_sha256),
        ] {
            let is_sha256 = value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit());
            if !value.is_empty() && !is_sha256 {
                problems.push(SettingProblem::new(
                    name,
                    format!(
                        "setting `{name}` is `{value}`: expected a SHA-256 as 64 hexadecimal digits, or empty"
                    ),
                ));
            }
        }
        let version = &settings.terraform_version;
        if !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            problems.push(SettingProblem::new(
                TERRAFORM_VERSION,
                format!(
                    "setting `{TERRAFORM_VERSION}` is `{version}`: expected a release number such as 1.14.0"
                ),
            ));
        }
        let url = &settings.tool_bundle_url;
        if !(url.is_empty() || url.starts_with("s3://") || url.starts_with("https://")) {
            problems.push(SettingProblem::new(
                TOOL_BUNDLE_URL,
                format!(
                    "setting `{TOOL_BUNDLE_URL}` is `{url}`: expected an s3:// or https:// URL, or empty"
                ),
            ));
        }
        Self {
            terraform_version: version.clone(),
            terraform_sha256: settings.terraform_sha256.clone(),
            bundle_url: url.clone(),
            bundle_sha256: settings.tool_bundle_sha256.clone(),
        }
    }
}

impl Provisioner {
    /// The provisioning settings, checked; every problem names its setting.
    pub fn from_settings(settings: &EventsSettings) -> Result<Self, Vec<SettingProblem>> {
        let mut problems = Vec::new();
        let deploy_role_arn = non_empty(&settings.deploy_role_arn);
        if let Some(arn) = &deploy_role_arn
            && !(arn.starts_with("arn:aws:iam::") && arn.contains(":role/"))
        {
            problems.push(SettingProblem::new(
                DEPLOY_ROLE_ARN,
                format!(
                    "setting `{DEPLOY_ROLE_ARN}` is `{arn}`: expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
                ),
            ));
        }
        if !LOG_RETENTION_VALUES.contains(&settings.log_retention_days) {
            problems.push(SettingProblem::new(
                LOG_RETENTION_DAYS,
                format!(
                    "setting `{LOG_RETENTION_DAYS}` is {}: CloudWatch Logs accepts only {LOG_RETENTION_VALUES:?}",
                    settings.log_retention_days
                ),
            ));
        }
        let registry_url = non_empty(&settings.registry_url);
        if let Some(url) = registry_url.as_ref().filter(|url| !url.starts_with("s3://")) {
            problems.push(SettingProblem::new(
                REGISTRY_URL,
                format!("setting `{REGISTRY_URL}` is `{url}`: expected s3://bucket/prefix, or empty"),
            ));
        }
        let tools = Tools::from_settings(settings, &mut problems);
        let config_repository =
            ConfigRepository::parse(&settings.config_repository).map_err(|p| problems.push(p));
        let build_image = BuildImage::parse(&settings.build_image).map_err(|p| problems.push(p));
        match (config_repository, build_image) {
            (Ok(config_repository), Ok(build_image)) if problems.is_empty() => Ok(Self {
                config_repository,
                deploy_role_arn,
                state_bucket_name: non_empty(&settings.state_bucket_name),
                build_image,
                build_timeout_minutes: settings.build_timeout_minutes,
                log_retention_days: settings.log_retention_days,
                registry_url,
                tools,
                rollout: crate::rollout::RolloutLimits {
                    max_concurrency: settings.rollout_max_concurrency,
                    tolerated_failure_percent: settings.rollout_tolerated_failure_percent,
                },
            }),
            _ => Err(problems),
        }
    }
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Events;
    use tenant_plugin_sdk::testing::{default_settings, settings_with};

    fn provisioner_with(name: &str, value: Value) -> Provisioner {
        Provisioner::from_settings(&settings_with::<Events>(json!({name: value})).unwrap()).unwrap()
    }

    #[test]
    fn defaults_are_valid() {
        let settings = default_settings::<Events>();
        assert_eq!(
            settings.delivery(),
            Delivery {
                max_event_age_seconds: 3600,
                max_retry_attempts: 8
            }
        );
        let provisioner = Provisioner::from_settings(&settings).unwrap();
        assert_eq!(provisioner.config_repository, ConfigRepository::BuildImage);
        assert_eq!(provisioner.deploy_role_arn, None);
        assert_eq!(provisioner.state_bucket_name, None);
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let cases = [
            (
                MAX_EVENT_AGE_SECONDS,
                json!(59),
                "EventBridge's minimum event age is 60 s",
            ),
            (
                MAX_EVENT_AGE_SECONDS,
                json!(86_401),
                "EventBridge keeps events for at most 24 h",
            ),
            (
                MAX_RETRY_ATTEMPTS,
                json!(186),
                "EventBridge retries at most 185 times",
            ),
            (MAX_RETRY_ATTEMPTS, json!("8"), "a number given as text"),
            (
                BUILD_TIMEOUT_MINUTES,
                json!(4),
                "CodeBuild's minimum timeout is 5 minutes",
            ),
            (
                LOG_RETENTION_DAYS,
                json!(31),
                "31 is not a CloudWatch retention value",
            ),
            (
                DEPLOY_ROLE_ARN,
                json!("saas-tenant-deployer"),
                "a role name instead of an ARN",
            ),
            (
                DEPLOY_ROLE_ARN,
                json!("arn:aws:iam::123456789012:user/x"),
                "a user instead of a role",
            ),
            (
                CONFIG_REPOSITORY,
                json!("git@github.com:acme/config.git"),
                "SSH URLs need credentials CodeBuild does not have",
            ),
            (
                CONFIG_REPOSITORY,
                json!("https://example.com/config.git"),
                "an unknown Git host",
            ),
            (BUILD_IMAGE, json!(""), "CodeBuild needs an image"),
        ];
        for (name, value, reason) in cases {
            let mut settings = tenant_plugin_sdk::settings::defaults::<EventsSettings>();
            settings[name] = value.clone();
            let problems = tenant_plugin_sdk::settings::problems::<EventsSettings>(&settings, None);
            assert_eq!(
                problems.first().map(|p| p.key.as_str()),
                Some(name),
                "{name} = {value} must be refused ({reason}), got {problems:?}"
            );
        }
    }

    #[test]
    fn private_ecr_images_name_their_repository() {
        let cases = [
            (
                "aws/codebuild/amazonlinux-x86_64-standard:5.0",
                None,
                "a CodeBuild managed image",
            ),
            (
                "public.ecr.aws/hashicorp/terraform:1.13",
                None,
                "a public registry",
            ),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/platform/tenant-host:1.4.0",
                Some("arn:aws:ecr:us-east-1:123456789012:repository/platform/tenant-host"),
                "a tagged private image",
            ),
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/tenant-host@sha256:abc",
                Some("arn:aws:ecr:eu-west-1:123456789012:repository/tenant-host"),
                "a pinned private image",
            ),
        ];
        for (image, repository, reason) in cases {
            let parsed = BuildImage::parse(image).unwrap();
            assert_eq!(parsed.ecr_repository_arn.as_deref(), repository, "{reason}");
            assert_eq!(parsed.image, image);
        }
    }

    #[test]
    fn repository_urls_select_the_source_type() {
        let cases = [
            ("https://github.com/acme/platform-config.git", "GITHUB"),
            (
                "https://git-codecommit.us-east-1.amazonaws.com/v1/repos/platform-config",
                "CODECOMMIT",
            ),
            ("https://gitlab.com/acme/platform-config.git", "GITLAB"),
            ("https://bitbucket.org/acme/platform-config.git", "BITBUCKET"),
        ];
        for (url, expected) in cases {
            let provisioner = provisioner_with(CONFIG_REPOSITORY, json!(url));
            assert_eq!(
                provisioner.config_repository,
                ConfigRepository::Git {
                    source_type: expected,
                    location: url.to_owned()
                },
                "{url}"
            );
        }
    }
}
