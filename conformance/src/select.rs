//! Choosing which scenarios a run takes: `--filter`/`--skip` by name, and `--partition`
//! to shard a suite across CI runners (after nextest's `count:M/N` and `hash:M/N`).

use std::fmt;
use std::str::FromStr;

/// `--partition`: the Mth of N shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// 1-based shard.
    pub shard: u32,
    /// How many shards.
    pub total: u32,
    /// How scenarios are dealt.
    pub kind: PartitionKind,
}

/// How `--partition` deals scenarios to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKind {
    /// In name order, round robin: the Mth, M+Nth, … (`count:M/N`, or plain `M/N`).
    Count,
    /// By a hash of the name, so a scenario keeps its shard as others come and go
    /// (`hash:M/N`).
    Hash,
}

/// A `--partition` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a partition: write M/N, count:M/N or hash:M/N with 1 <= M <= N")]
pub struct PartitionError(String);

impl FromStr for Partition {
    type Err = PartitionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PartitionError(s.to_owned());
        let (kind, fraction) = match s.split_once(':') {
            Some(("count", rest)) => (PartitionKind::Count, rest),
            Some(("hash", rest)) => (PartitionKind::Hash, rest),
            Some(_) => return Err(bad()),
            None => (PartitionKind::Count, s),
        };
        let (shard, total) = fraction.split_once('/').ok_or_else(bad)?;
        let shard: u32 = shard.trim().parse().map_err(|_| bad())?;
        let total: u32 = total.trim().parse().map_err(|_| bad())?;
        if shard == 0 || total == 0 || shard > total {
            return Err(bad());
        }
        Ok(Partition { shard, total, kind })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            PartitionKind::Count => "count",
            PartitionKind::Hash => "hash",
        };
        write!(f, "{kind}:{}/{}", self.shard, self.total)
    }
}

impl Partition {
    /// Whether the scenario at `index` (in name order) named `name` is in this shard.
    pub fn takes(&self, index: usize, name: &str) -> bool {
        let slot = match self.kind {
            PartitionKind::Count => index as u64,
            PartitionKind::Hash => fnv1a(name.as_bytes()),
        };
        slot % u64::from(self.total) == u64::from(self.shard - 1)
    }
}

/// FNV-1a (64-bit): stable across runs, platforms and Rust versions, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
    })
}

/// `--filter` and `--skip`: a scenario runs when its name contains one of the filters (or
/// there are none) and none of the skips.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameFilter {
    /// Substrings of which a name must contain one.
    pub filters: Vec<String>,
    /// Substrings a name must not contain.
    pub skips: Vec<String>,
}

impl NameFilter {
    /// Whether `name` is selected.
    pub fn takes(&self, name: &str) -> bool {
        (self.filters.is_empty() || self.filters.iter().any(|f| name.contains(f.as_str())))
            && !self.skips.iter().any(|s| name.contains(s.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_parse_and_reject_nonsense() {
        assert_eq!(
            "2/3".parse(),
            Ok(Partition {
                shard: 2,
                total: 3,
                kind: PartitionKind::Count
            })
        );
        assert_eq!(
            "hash:1/4".parse::<Partition>().map(|p| p.kind),
            Ok(PartitionKind::Hash)
        );
        for bad in ["0/3", "4/3", "1/0", "x/3", "slice:1/2", "1-2", ""] {
            assert!(bad.parse::<Partition>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_name_lands_in_exactly_one_shard() {
        let names: Vec<String> = (0..100).map(|i| format!("area/scenario-{i}")).collect();
        for kind in ["count", "hash"] {
            for (index, name) in names.iter().enumerate() {
                let shards = (1..=3)
                    .filter(|m| {
                        let partition: Partition = format!("{kind}:{m}/3").parse().expect("valid");
                        partition.takes(index, name)
                    })
                    .count();
                assert_eq!(shards, 1, "{kind} {name}");
            }
        }
    }

    #[test]
    fn filters_and_skips() {
        let filter = NameFilter {
            filters: vec!["auth/".to_owned()],
            skips: vec!["mschap".to_owned()],
        };
        assert!(filter.takes("auth/pap-wrong-password"));
        assert!(!filter.takes("auth/mschapv2-connect"));
        assert!(!filter.takes("basic/busy"));
        assert!(NameFilter::default().takes("anything"));
    }
}
