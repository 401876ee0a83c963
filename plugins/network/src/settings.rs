//! The network plugin's settings: declared once, parsed and range-checked by the SDK, with the
//! cross-field checks the host runs before any stack is synthesized.

use tenant_plugin_sdk::cidr::Ipv4Block;
use tenant_plugin_sdk::prelude::*;

/// Setting: bits added to the VPC prefix for each private subnet.
pub const SUBNET_NEWBITS: &str = "subnet-newbits";
/// Setting: the block every tenant VPC is allocated from.
pub const TENANT_POOL: &str = "tenant-pool";
/// Setting: the letters of the two availability zones the private subnets are placed in.
pub const ZONE_LETTERS: &str = "availability-zone-letters";
/// The key `validate-settings` reports a tenant's address block under.
const CIDR_BLOCK: &str = "cidr-block";

/// AWS accepts VPC and subnet blocks from /16 to /28.
pub const AWS_PREFIX_RANGE: std::ops::RangeInclusive<u8> = 16..=28;

/// The validated settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(crate = "tenant_plugin_sdk::serde", deny_unknown_fields)]
pub struct NetworkSettings {
    /// `cidrsubnet` newbits for the private subnets.
    #[serde(rename = "subnet-newbits")]
    pub subnet_newbits: u8,
    /// The tenant pool, denied (apart from the tenant's own block) by the network ACL.
    #[serde(rename = "tenant-pool")]
    pub tenant_pool: Ipv4Block,
    /// The two zone letters, appended to the region name (`us-east-1` + `a`).
    #[serde(rename = "availability-zone-letters")]
    pub zone_letters: [char; 2],
}

impl SettingsSchema for NetworkSettings {
    fn schema() -> Vec<Setting> {
        // A VPC is at most /16 and a subnet at least /28: more than 12 bits never fit.
        let max_newbits = AWS_PREFIX_RANGE.end() - AWS_PREFIX_RANGE.start();
        vec![
            Setting::integer(
                SUBNET_NEWBITS,
                "Bits added to the VPC prefix for each private subnet (Terraform cidrsubnet newbits); the tenant block's prefix plus these bits must be at most /28.",
            )
            .default(8)
            .range(1, max_newbits),
            Setting::string(
                TENANT_POOL,
                "The block all tenant VPCs are allocated from; each tenant's network ACL denies traffic with the rest of it.",
            )
            .default("10.0.0.0/8")
            .pattern(r"(\d{1,3}\.){3}\d{1,3}/\d{1,2}"),
            Setting::string_list(
                ZONE_LETTERS,
                "The letters of the two availability zones (region name + letter) that hold the private subnets.",
            )
            .default(json!(["a", "b"]))
            .pattern("[a-z]"),
        ]
    }

    /// The zones must differ, and the tenant's block must leave room for subnets AWS accepts:
    /// with `n` newbits the block is at most /(28 - n), e.g. /20 for the default 8.
    fn validate(&self, tenant: Option<&Tenant>) -> Vec<SettingProblem> {
        let mut problems = Vec::new();
        if self.zone_letters[0] == self.zone_letters[1] {
            problems.push(SettingProblem::new(
                ZONE_LETTERS,
                format!(
                    "the two zone letters must differ; both are `{}`",
                    self.zone_letters[0]
                ),
            ));
        }
        if let Some(tenant) = tenant
            && let Ok(block) = tenant.cidr_block.parse::<Ipv4Block>()
        {
            let largest_prefix = AWS_PREFIX_RANGE.end().saturating_sub(self.subnet_newbits);
            if block.prefix() > largest_prefix {
                problems.push(SettingProblem::new(
                    CIDR_BLOCK,
                    format!(
                        "tenant `{}`: {block} is too small for two private subnets with {SUBNET_NEWBITS} = {}: the block must be /{largest_prefix} or larger (AWS subnets are /28 at the smallest)",
                        tenant.id, self.subnet_newbits
                    ),
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Network;
    use tenant_plugin_sdk::testing::{default_settings, settings_with};

    #[test]
    fn defaults_are_valid() {
        let settings = default_settings::<Network>();
        assert_eq!(settings.subnet_newbits, 8);
        assert_eq!(settings.tenant_pool.to_string(), "10.0.0.0/8");
        assert_eq!(settings.zone_letters, ['a', 'b']);
        assert_eq!(settings.validate(None), []);
    }

    #[test]
    fn rejects_unusable_values() {
        let cases = [
            (SUBNET_NEWBITS, json!(0), "a split needs at least one bit"),
            (
                SUBNET_NEWBITS,
                json!(13),
                "a /16 split by 13 bits is smaller than /28",
            ),
            (SUBNET_NEWBITS, json!("8"), "the type is a number"),
            (TENANT_POOL, json!("10.0.0.0"), "no prefix length"),
            (TENANT_POOL, json!("10.0.0.1/8"), "host bits set"),
            (ZONE_LETTERS, json!(["a"]), "two subnets need two zones"),
            (
                ZONE_LETTERS,
                json!(["a", "b", "c"]),
                "exactly two subnets are declared",
            ),
            (
                ZONE_LETTERS,
                json!(["us-east-1a", "b"]),
                "a letter, not a zone name",
            ),
        ];
        for (name, value, reason) in cases {
            let error = settings_with::<Network>(json!({name: value})).unwrap_err();
            assert!(
                matches!(error, PluginError::InvalidSettings(_)),
                "{name}: {reason}: {error}"
            );
        }
    }

    #[test]
    fn cross_field_problems_name_their_key() {
        let tenant = |cidr: &str| Tenant {
            id: "acme-corp".into(),
            cidr_block: cidr.into(),
        };
        let same_zones = settings_with::<Network>(json!({ZONE_LETTERS: ["a", "a"]})).unwrap();
        assert_eq!(same_zones.validate(None)[0].key, ZONE_LETTERS);
        let defaults = default_settings::<Network>();
        // (block, fits with 8 newbits, why)
        let cases = [
            ("10.0.0.0/16", true, "the largest VPC"),
            ("10.0.0.0/20", true, "exactly /28 subnets"),
            ("10.0.0.0/21", false, "/29 subnets do not exist in AWS"),
        ];
        for (cidr, fits, why) in cases {
            let problems = defaults.validate(Some(&tenant(cidr)));
            assert_eq!(problems.is_empty(), fits, "{cidr}: {why}: {problems:?}");
            if let Some(problem) = problems.first() {
                assert_eq!(problem.key, CIDR_BLOCK);
                assert!(problem.message.contains("/20"), "{}", problem.message);
            }
        }
    }
}
