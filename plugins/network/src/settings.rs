//! The network plugin's settings, read and validated once per synthesis.

use tenant_plugin_sdk::cidr::Ipv4Block;
use tenant_plugin_sdk::prelude::*;

/// Setting: bits added to the VPC prefix for each private subnet.
pub const SUBNET_NEWBITS: &str = "subnet-newbits";
/// Setting: the block every tenant VPC is allocated from.
pub const TENANT_POOL: &str = "tenant-pool";
/// Setting: the letters of the two availability zones the private subnets are placed in.
pub const ZONE_LETTERS: &str = "availability-zone-letters";

/// The validated settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkSettings {
    /// `cidrsubnet` newbits for the private subnets.
    pub subnet_newbits: u8,
    /// The tenant pool, denied (apart from the tenant's own block) by the network ACL.
    pub tenant_pool: Ipv4Block,
    /// The two zone letters, appended to the region name (`us-east-1` + `a`).
    pub zone_letters: [char; 2],
}

impl NetworkSettings {
    /// Reads the settings of `context`; whether `subnet_newbits` fits the VPC is checked where
    /// the subnets are computed.
    pub fn from_context(context: &StackContext) -> Result<Self, PluginError> {
        let newbits = context.setting_u64(SUBNET_NEWBITS)?;
        let subnet_newbits = u8::try_from(newbits)
            .ok()
            .filter(|bits| (1..=16).contains(bits))
            .ok_or_else(|| {
                PluginError::InvalidSettings(format!(
                    "setting `{SUBNET_NEWBITS}` is {newbits}; it must be 1 to 16"
                ))
            })?;
        let pool = context.setting_str(TENANT_POOL)?;
        let tenant_pool = pool.parse().map_err(|e| {
            PluginError::InvalidSettings(format!("setting `{TENANT_POOL}` is not a CIDR block: {e}"))
        })?;
        let zone_letters = zone_letters(context.setting(ZONE_LETTERS)?)?;
        Ok(Self {
            subnet_newbits,
            tenant_pool,
            zone_letters,
        })
    }
}

/// Two distinct lowercase letters, e.g. `["a", "b"]`.
fn zone_letters(value: &Value) -> Result<[char; 2], PluginError> {
    let invalid = || {
        PluginError::InvalidSettings(format!(
            "setting `{ZONE_LETTERS}` must list two distinct zone letters, e.g. [\"a\", \"b\"]; it is {value}"
        ))
    };
    let letters: Vec<char> = value
        .as_array()
        .ok_or_else(invalid)?
        .iter()
        .map(|item| {
            let text = item.as_str().ok_or_else(invalid)?;
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(letter), None) if letter.is_ascii_lowercase() => Ok(letter),
                _ => Err(invalid()),
            }
        })
        .collect::<Result<_, _>>()?;
    match letters[..] {
        [first, second] if first != second => Ok([first, second]),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Network;
    use tenant_plugin_sdk::testing::tenant_context;

    #[test]
    fn defaults_are_valid() {
        let context = tenant_context::<Network>("acme-corp", "10.0.0.0/16", &[]);
        let settings = NetworkSettings::from_context(&context).unwrap();
        assert_eq!(settings.subnet_newbits, 8);
        assert_eq!(settings.tenant_pool.to_string(), "10.0.0.0/8");
        assert_eq!(settings.zone_letters, ['a', 'b']);
    }

    #[test]
    fn rejects_unusable_values() {
        let cases = [
            (SUBNET_NEWBITS, json!(0), "a split needs at least one bit"),
            (SUBNET_NEWBITS, json!(300), "does not fit a prefix length"),
            (SUBNET_NEWBITS, json!("8"), "the type is a number"),
            (TENANT_POOL, json!("10.0.0.0"), "no prefix length"),
            (TENANT_POOL, json!("10.0.0.1/8"), "host bits set"),
            (ZONE_LETTERS, json!(["a"]), "two subnets need two zones"),
            (ZONE_LETTERS, json!(["a", "a"]), "the zones must differ"),
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
            (ZONE_LETTERS, json!(["A", "b"]), "zone letters are lowercase"),
        ];
        for (name, value, reason) in cases {
            let mut context = tenant_context::<Network>("acme-corp", "10.0.0.0/16", &[]);
            context.settings[name] = value;
            let error = NetworkSettings::from_context(&context).unwrap_err();
            assert!(
                matches!(error, PluginError::InvalidSettings(_)),
                "{name}: {reason}: {error}"
            );
        }
    }
}
