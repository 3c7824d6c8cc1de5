//! Scylla sharding: which shard (CPU core) of a node owns a token, following the
//! `biased-token-round-robin` algorithm with its `ignore_msb` parameter, and the choice of a
//! client-side local port that the shard-aware port maps onto a wanted shard
//! (`port % nr_shards == shard`).

use std::num::NonZeroU16;
use std::ops::RangeInclusive;

use super::Token;

/// A shard number, 0-based.
pub type Shard = u32;

/// How a Scylla node spreads tokens over its shards, as announced in SUPPORTED
/// (`SCYLLA_NR_SHARDS`, `SCYLLA_SHARDING_IGNORE_MSB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sharder {
    nr_shards: NonZeroU16,
    ignore_msb: u8,
}

impl Sharder {
    /// A sharder for `nr_shards` shards skipping the `ignore_msb` most significant bits of the
    /// biased token; `ignore_msb` values of 64 or more shift everything out (every token on
    /// shard 0), like the server's arithmetic.
    pub fn new(nr_shards: NonZeroU16, ignore_msb: u8) -> Self {
        Self {
            nr_shards,
            ignore_msb,
        }
    }

    /// Number of shards.
    pub fn nr_shards(&self) -> NonZeroU16 {
        self.nr_shards
    }

    /// The `ignore_msb` parameter.
    pub fn ignore_msb(&self) -> u8 {
        self.ignore_msb
    }

    /// The shard owning `token`.
    #[inline]
    pub fn shard_of(&self, token: Token) -> Shard {
        let biased = (token.0 as u64).wrapping_add(1u64 << 63);
        let shifted = biased.checked_shl(u32::from(self.ignore_msb)).unwrap_or(0);
        let product = u128::from(shifted) * u128::from(self.nr_shards.get());
        (product >> 64) as Shard
    }

    /// Local ports in `range`, starting near `start_hint`, that the shard-aware port maps to
    /// `shard` (`port % nr_shards == shard`), in the order to try them (wrapping around the
    /// range once). Port 0 is never produced.
    pub fn ports_for_shard(
        &self,
        shard: Shard,
        range: RangeInclusive<u16>,
        start_hint: u16,
    ) -> ShardPorts {
        ShardPorts::new(self.nr_shards.get(), shard, range, start_hint)
    }
}

/// The default range of local ports tried for shard-aware connections (the usual Linux
/// ephemeral range).
pub const DEFAULT_LOCAL_PORT_RANGE: RangeInclusive<u16> = 49152..=65535;

/// Iterator over local ports `p` of a range with `p % nr_shards == shard`, see
/// [`Sharder::ports_for_shard`]. Allocates nothing.
#[derive(Debug, Clone)]
pub struct ShardPorts {
    nr_shards: u32,
    high: u32,
    wrap_start: u32,
    first: u32,
    next: Option<u32>,
}

impl ShardPorts {
    fn new(nr_shards: u16, shard: Shard, range: RangeInclusive<u16>, start_hint: u16) -> Self {
        let nr = u32::from(nr_shards.max(1));
        let low = u32::from((*range.start()).max(1));
        let high = u32::from(*range.end());
        let shard = shard % nr;
        // Smallest candidate >= x with candidate % nr == shard.
        let align = |x: u32| x + (shard + nr - x % nr) % nr;
        let hint = u32::from(start_hint).clamp(low, high.max(low));
        let mut first = align(hint);
        if first > high {
            first = align(low);
        }
        let next = (first >= low && first <= high).then_some(first);
        Self {
            nr_shards: nr,
            high,
            wrap_start: align(low),
            first,
            next,
        }
    }
}

impl Iterator for ShardPorts {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        let port = self.next?;
        let mut candidate = port + self.nr_shards;
        if candidate > self.high {
            // Wrap to the first matching port of the range.
            candidate = self.wrap_start;
        }
        self.next = (candidate != self.first && candidate <= self.high).then_some(candidate);
        u16::try_from(port).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sharder(n: u16, msb: u8) -> Sharder {
        Sharder::new(NonZeroU16::new(n).unwrap(), msb)
    }

    #[test]
    fn ports_cover_the_shard_once() {
        let s = sharder(4, 12);
        let ports: Vec<u16> = s.ports_for_shard(3, 50000..=50031, 50010).collect();
        assert_eq!(ports.len(), 8);
        assert!(ports.iter().all(|p| p % 4 == 3));
        assert_eq!(ports[0], 50011);
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 8);
        assert_eq!(sorted[0], 50003);
        assert_eq!(sorted[7], 50031);
    }

    #[test]
    fn ports_hint_past_the_end_wraps() {
        let s = sharder(3, 12);
        let ports: Vec<u16> = s.ports_for_shard(1, 10..=20, 20).collect();
        assert_eq!(ports, vec![10, 13, 16, 19]);
    }

    #[test]
    fn ports_empty_when_range_has_no_match() {
        let s = sharder(8, 12);
        assert_eq!(s.ports_for_shard(7, 16..=20, 16).count(), 0);
    }
}
