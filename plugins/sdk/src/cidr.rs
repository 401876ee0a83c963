//! IPv4 CIDR blocks: parsing, overlap, and Terraform's `cidrsubnet` split, shared by the host
//! (allocation) and plugins (subnets, fleet checks).

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Bound;
use std::str::FromStr;

/// An IPv4 block in CIDR notation whose address is the network address, e.g. `10.1.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Block {
    network: u32,
    prefix: u8,
}

/// Why text is not a CIDR block, or a split is impossible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrError(pub String);

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CidrError {}

impl Ipv4Block {
    /// A block from a network address and prefix length; the address must have no host bits.
    pub fn new(address: Ipv4Addr, prefix: u8) -> Result<Self, CidrError> {
        if prefix > 32 {
            return Err(CidrError(format!("prefix length /{prefix} is longer than 32")));
        }
        let network = u32::from(address);
        if network & !Self::mask(prefix) != 0 {
            let base = Ipv4Addr::from(network & Self::mask(prefix));
            return Err(CidrError(format!(
                "{address}/{prefix} has host bits set; the network address is {base}/{prefix}"
            )));
        }
        Ok(Self { network, prefix })
    }

    fn mask(prefix: u8) -> u32 {
        if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(prefix))
        }
    }

    /// The block of prefix length `prefix` that contains this one; `None` when `prefix` is longer
    /// than this block's.
    pub fn supernet(&self, prefix: u8) -> Option<Ipv4Block> {
        (prefix <= self.prefix).then(|| Self {
            network: self.network & Self::mask(prefix),
            prefix,
        })
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The first address.
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network)
    }

    fn last(&self) -> u32 {
        self.network | !Self::mask(self.prefix)
    }

    /// Whether the two blocks share any address.
    pub fn overlaps(&self, other: &Ipv4Block) -> bool {
        self.network <= other.last() && other.network <= self.last()
    }

    /// Whether `other` lies wholly inside this block.
    pub fn contains(&self, other: &Ipv4Block) -> bool {
        self.network <= other.network && other.last() <= self.last()
    }

    /// Terraform's `cidrsubnet(self, newbits, netnum)`: the `netnum`-th block with a prefix
    /// `newbits` longer.
    pub fn subnet(&self, newbits: u8, netnum: u32) -> Result<Ipv4Block, CidrError> {
        let prefix = self.prefix + newbits;
        if newbits == 0 || prefix > 32 {
            return Err(CidrError(format!("cannot split {self} by {newbits} more bits")));
        }
        if u64::from(netnum) >= 1u64 << newbits {
            return Err(CidrError(format!(
                "{self} has only {} subnets of /{prefix}",
                1u64 << newbits
            )));
        }
        let size = 1u64 << (32 - u32::from(prefix));
        let network = u64::from(self.network) + u64::from(netnum) * size;
        Ok(Ipv4Block {
            network: network as u32,
            prefix,
        })
    }
}

/// Blocks, each with what it belongs to, looked up by overlap. Two CIDR blocks are either
/// disjoint or one contains the other, so the blocks that overlap a block are its supernets
/// (at most 33, each found by itself) and the blocks inside it, which sort right after it: a
/// lookup costs O(log n) per supernet however many blocks there are, where scanning every block
/// made checking or allocating a fleet quadratic.
#[derive(Debug, Clone)]
pub struct BlockMap<V> {
    blocks: BTreeMap<Ipv4Block, Vec<V>>,
}

impl<V> Default for BlockMap<V> {
    fn default() -> Self {
        Self {
            blocks: BTreeMap::new(),
        }
    }
}

impl<V> BlockMap<V> {
    /// Adds `value` for `block`; a block may have several values.
    pub fn insert(&mut self, block: Ipv4Block, value: V) {
        self.blocks.entry(block).or_default().push(value);
    }

    /// The blocks that contain `block` (itself included), from the largest, with their values
    /// in the order they were inserted.
    pub fn containing(&self, block: &Ipv4Block) -> impl Iterator<Item = (Ipv4Block, &V)> {
        (0..=block.prefix)
            .filter_map(|prefix| block.supernet(prefix))
            .filter_map(|supernet| self.blocks.get_key_value(&supernet))
            .flat_map(|(found, values)| values.iter().map(|value| (*found, value)))
    }

    /// The blocks that overlap `block`: those that contain it, as [`BlockMap::containing`], then
    /// those inside it, in address order.
    pub fn overlapping(&self, block: &Ipv4Block) -> impl Iterator<Item = (Ipv4Block, &V)> {
        // Blocks that sort after `block` and start inside it lie inside it: a larger block that
        // starts inside it would have to start on a boundary of its own size within it.
        let inside = self
            .blocks
            .range((Bound::Excluded(*block), Bound::Unbounded))
            .take_while(|(other, _)| block.contains(other))
            .flat_map(|(found, values)| values.iter().map(|value| (*found, value)));
        self.containing(block).chain(inside)
    }
}

impl FromStr for Ipv4Block {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = text
            .split_once('/')
            .ok_or_else(|| CidrError(format!("`{text}` is not in CIDR notation (a.b.c.d/n)")))?;
        let address: Ipv4Addr = address
            .parse()
            .map_err(|_| CidrError(format!("`{address}` is not an IPv4 address")))?;
        let prefix: u8 = prefix
            .parse()
            .map_err(|_| CidrError(format!("`{prefix}` is not a prefix length (0-32)")))?;
        Self::new(address, prefix)
    }
}

/// Settings hold blocks as CIDR text, e.g. `"10.0.0.0/8"`.
impl<'de> serde::Deserialize<'de> for Ipv4Block {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Ipv4Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(text: &str) -> Ipv4Block {
        text.parse().unwrap()
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(block("10.1.0.0/16").to_string(), "10.1.0.0/16");
        assert!(
            "10.1.0.1/16"
                .parse::<Ipv4Block>()
                .unwrap_err()
                .0
                .contains("host bits")
        );
        assert!("10.1.0.0".parse::<Ipv4Block>().is_err());
        assert!("10.1.0.0/33".parse::<Ipv4Block>().is_err());
        assert!("10.300.0.0/16".parse::<Ipv4Block>().is_err());
    }

    #[test]
    fn splits_like_terraform_cidrsubnet() {
        // cidrsubnet("10.1.0.0/16", 8, 1) == "10.1.1.0/24"
        assert_eq!(block("10.1.0.0/16").subnet(8, 1).unwrap(), block("10.1.1.0/24"));
        assert_eq!(
            block("10.0.0.0/8").subnet(8, 255).unwrap(),
            block("10.255.0.0/16")
        );
        assert!(block("10.0.0.0/8").subnet(8, 256).is_err());
        assert!(block("10.0.0.0/30").subnet(3, 0).is_err());
    }

    #[test]
    fn detects_overlap_and_containment() {
        assert!(block("10.0.0.0/16").overlaps(&block("10.0.128.0/17")));
        assert!(!block("10.0.0.0/16").overlaps(&block("10.1.0.0/16")));
        assert!(block("10.0.0.0/8").contains(&block("10.2.0.0/16")));
        assert!(!block("10.2.0.0/16").contains(&block("10.0.0.0/8")));
    }

    #[test]
    fn a_block_map_finds_exactly_the_blocks_that_overlap_or_contain() {
        let blocks = crate::testing::scattered_blocks(300);
        let mut map = BlockMap::default();
        for (at, block) in blocks.iter().enumerate() {
            map.insert(*block, at);
        }
        for probe in crate::testing::scattered_blocks(600) {
            let mut overlapping: Vec<usize> = map.overlapping(&probe).map(|(_, at)| *at).collect();
            overlapping.sort_unstable();
            let every: Vec<usize> = (0..blocks.len())
                .filter(|&at| blocks[at].overlaps(&probe))
                .collect();
            assert_eq!(overlapping, every, "overlapping {probe}");
            let containing: Vec<usize> = map.containing(&probe).map(|(_, at)| *at).collect();
            let every: Vec<usize> = (0..blocks.len())
                .filter(|&at| blocks[at].contains(&probe))
                .collect();
            let mut sorted = containing.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, every, "containing {probe}");
            assert!(
                containing
                    .windows(2)
                    .all(|w| blocks[w[0]].prefix() <= blocks[w[1]].prefix()),
                "largest first"
            );
        }
    }

    #[test]
    fn a_supernet_is_the_containing_block_of_a_shorter_prefix() {
        let subnet = block("10.2.4.0/24");
        assert_eq!(subnet.supernet(16), Some(block("10.2.0.0/16")));
        assert_eq!(subnet.supernet(23), Some(block("10.2.4.0/23")));
        assert_eq!(subnet.supernet(24), Some(subnet));
        assert_eq!(subnet.supernet(0), Some(block("0.0.0.0/0")));
        assert_eq!(subnet.supernet(25), None);
        assert!((0..=24).all(|p| subnet.supernet(p).unwrap().contains(&subnet)));
    }
}
