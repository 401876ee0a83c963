//! From configuration to a validated fleet: tenant ids, the suffix, the region and each tenant's
//! VPC block.

use crate::config::{Config, ConfigError, PluginSettings, Quotas, StateBackend, WaiverConfig, table_to_json};
use std::collections::{BTreeMap, BTreeSet};
use tenant_plugin_sdk::cidr::Ipv4Block;

/// One tenant, validated, with its VPC block.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    /// The tenant id.
    pub id: String,
    /// The VPC block.
    pub cidr_block: Ipv4Block,
    /// Per-plugin settings for this tenant.
    pub settings: BTreeMap<String, PluginSettings>,
}

/// The validated fleet: everything synthesis needs from the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// The environment suffix.
    pub suffix: String,
    /// The region.
    pub region: String,
    /// The state backend.
    pub backend: StateBackend,
    /// Fleet-wide plugin settings.
    pub plugin_settings: BTreeMap<String, PluginSettings>,
    /// The tenants, in configuration order.
    pub tenants: Vec<Tenant>,
    /// The account quotas for preflight checks.
    pub quotas: Quotas,
    /// The configured waivers.
    pub waivers: Vec<WaiverConfig>,
}

/// `[a-z0-9-]+` with no leading, trailing or double hyphen.
fn is_name_shaped(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
        && !text.contains("--")
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`: letters, hyphens, a final number.
fn is_region_shaped(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

/// Validates the configuration and allocates every tenant's block; reports every problem at once.
pub fn plan_fleet(config: &Config, suffix: String) -> Result<Fleet, ConfigError> {
    let mut problems = Vec::new();
    if !is_name_shaped(&suffix) || suffix.len() > 16 {
        problems.push(format!(
            "environment suffix `{suffix}` must be 1-16 characters of [a-z0-9-] without leading, trailing or double hyphens"
        ));
    }
    for region in [&config.region, &config.state_backend.region] {
        if !is_region_shaped(region) {
            problems.push(format!(
                "region `{region}` is not an AWS region name such as `us-east-1`"
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for tenant in &config.tenants {
        if !is_name_shaped(&tenant.id) {
            problems.push(format!(
                "tenant id `{}` must be [a-z0-9-] without leading, trailing or double hyphens",
                tenant.id
            ));
        }
        if !seen.insert(tenant.id.as_str()) {
            problems.push(format!("tenant id `{}` is listed twice", tenant.id));
        }
    }
    if config.tenants.is_empty() {
        problems.push("the configuration lists no tenants".into());
    }
    let blocks = allocate(config).unwrap_or_else(|errors| {
        problems.extend(errors);
        Vec::new()
    });
    if !problems.is_empty() {
        return Err(ConfigError::Invalid { problems });
    }
    let tenants = config
        .tenants
        .iter()
        .zip(blocks)
        .map(|(tenant, cidr_block)| Tenant {
            id: tenant.id.clone(),
            cidr_block,
            settings: tenant
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), table_to_json(v)))
                .collect(),
        })
        .collect();
    Ok(Fleet {
        suffix,
        region: config.region.clone(),
        backend: config.state_backend.clone(),
        plugin_settings: config
            .plugins
            .iter()
            .map(|(k, v)| (k.clone(), table_to_json(v)))
            .collect(),
        tenants,
        quotas: config.quotas,
        waivers: config.waivers.clone(),
    })
}

/// Gives each tenant its explicit block, or else the lowest free block of the pool, in
/// configuration order.
fn allocate(config: &Config) -> Result<Vec<Ipv4Block>, Vec<String>> {
    let pool: Ipv4Block = config
        .addressing
        .pool
        .parse()
        .map_err(|e| vec![format!("address pool: {e}")])?;
    let prefix = config.addressing.prefix_length;
    if prefix < pool.prefix() || prefix > 28 {
        return Err(vec![format!(
            "prefix length /{prefix} must be between the pool's /{} and /28",
            pool.prefix()
        )]);
    }
    let mut problems = Vec::new();
    let mut taken: Vec<(Ipv4Block, &str)> = Vec::new();
    for tenant in &config.tenants {
        let Some(text) = &tenant.cidr_block else { continue };
        match text.parse::<Ipv4Block>() {
            Err(e) => problems.push(format!("tenant `{}`: cidr-block {e}", tenant.id)),
            Ok(block) if !pool.contains(&block) => problems.push(format!(
                "tenant `{}`: cidr-block {block} is outside the pool {pool}",
                tenant.id
            )),
            Ok(block) => match taken.iter().find(|(other, _)| other.overlaps(&block)) {
                Some((other, owner)) => problems.push(format!(
                    "tenant `{}`: cidr-block {block} overlaps {other} of tenant `{owner}`",
                    tenant.id
                )),
                None => taken.push((block, &tenant.id)),
            },
        }
    }
    let capacity = 1u64 << (prefix - pool.prefix());
    let mut next = 0u64;
    let mut blocks = Vec::new();
    for tenant in &config.tenants {
        if let Some(block) = tenant
            .cidr_block
            .as_ref()
            .and_then(|t| t.parse::<Ipv4Block>().ok())
        {
            blocks.push(block);
            continue;
        }
        loop {
            if next >= capacity {
                problems.push(format!(
                    "tenant `{}`: the pool {pool} has no free /{prefix} block left; use a larger pool or a longer prefix length",
                    tenant.id
                ));
                break;
            }
            let candidate = pool
                .subnet(prefix - pool.prefix(), next as u32)
                .expect("netnum is below capacity");
            next += 1;
            if !taken.iter().any(|(other, _)| other.overlaps(&candidate)) {
                taken.push((candidate, &tenant.id));
                blocks.push(candidate);
                break;
            }
        }
    }
    if problems.is_empty() {
        Ok(blocks)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(tenants: &str) -> Config {
        let text = format!(
            "region = \"us-east-1\"\n[state-backend]\nbucket = \"b\"\nregion = \"us-east-1\"\n{tenants}"
        );
        toml::from_str(&text).unwrap()
    }

    #[test]
    fn the_example_gets_consecutive_blocks() {
        let fleet = plan_fleet(&Config::example(), "dev".into()).unwrap();
        let blocks: Vec<_> = fleet.tenants.iter().map(|t| t.cidr_block.to_string()).collect();
        assert_eq!(blocks, ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"]);
    }

    #[test]
    fn explicit_blocks_are_skipped_by_allocation() {
        let config =
            config_with("[[tenants]]\nid = \"a\"\n[[tenants]]\nid = \"b\"\ncidr-block = \"10.0.0.0/16\"\n");
        let fleet = plan_fleet(&config, "dev".into()).unwrap();
        assert_eq!(fleet.tenants[0].cidr_block.to_string(), "10.1.0.0/16");
        assert_eq!(fleet.tenants[1].cidr_block.to_string(), "10.0.0.0/16");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let config = config_with(
            "[[tenants]]\nid = \"Bad_Id\"\n[[tenants]]\nid = \"x\"\ncidr-block = \"192.168.0.0/16\"\n[[tenants]]\nid = \"x\"\n",
        );
        let ConfigError::Invalid { problems } = plan_fleet(&config, "--".into()).unwrap_err() else {
            panic!("expected validation problems")
        };
        let cases = [
            ("environment suffix `--`", "a malformed suffix"),
            ("tenant id `Bad_Id`", "upper case and underscore"),
            ("listed twice", "a duplicate id"),
            ("outside the pool", "an explicit block outside the pool"),
        ];
        for (needle, reason) in cases {
            assert!(
                problems.iter().any(|p| p.contains(needle)),
                "{reason}: {problems:?}"
            );
        }
    }

    #[test]
    fn an_exhausted_pool_names_the_remedy() {
        let tenants: String = (0..3).map(|i| format!("[[tenants]]\nid = \"t{i}\"\n")).collect();
        let config = config_with(&format!(
            "[addressing]\npool = \"10.0.0.0/15\"\nprefix-length = 16\n{tenants}"
        ));
        let ConfigError::Invalid { problems } = plan_fleet(&config, "dev".into()).unwrap_err() else {
            panic!()
        };
        assert!(
            problems[0].contains("tenant `t2`") && problems[0].contains("no free /16"),
            "{problems:?}"
        );
    }

    #[test]
    fn region_shapes() {
        for (region, ok) in [
            ("us-east-1", true),
            ("us-gov-west-1", true),
            ("useast1", false),
            ("us-east-x", false),
        ] {
            assert_eq!(is_region_shaped(region), ok, "{region}");
        }
    }
}
