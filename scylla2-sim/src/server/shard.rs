//! Token ring helpers: Scylla's shard-of-token algorithm and seeded vnode token generation.

use std::collections::HashSet;

/// `SCYLLA_SHARDING_IGNORE_MSB` advertised by every node.
pub const IGNORE_MSB: u32 = 12;

/// The shard owning `token` on a node with `shards` shards (biased-token-round-robin).
/// Returns 0 when `shards` is 0 (Cassandra mode).
pub fn shard_of(token: i64, shards: u32, ignore_msb: u32) -> u32 {
    if shards == 0 {
        return 0;
    }
    let biased = (token as u64).wrapping_add(1 << 63);
    let shifted = biased.checked_shl(ignore_msb).unwrap_or(0);
    ((u128::from(shifted) * u128::from(shards)) >> 64) as u32
}

/// SplitMix64: a tiny seeded generator (enough for reproducible vnode tokens).
pub(crate) struct SplitMix(pub u64);

impl SplitMix {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// `count` distinct tokens for node `node`, reproducible from `seed`, never one already in
/// `used` (which is updated). `i64::MIN` is skipped: it is not a valid Murmur3 token.
pub(crate) fn gen_tokens(
    seed: u64,
    node: usize,
    count: usize,
    used: &mut HashSet<i64>,
) -> Vec<i64> {
    let mut rng = SplitMix(seed ^ (node as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    let mut tokens = Vec::with_capacity(count);
    while tokens.len() < count {
        let t = rng.next_u64() as i64;
        if t != i64::MIN && used.insert(t) {
            tokens.push(t);
        }
    }
    tokens.sort_unstable();
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_of_matches_the_algorithm_by_hand() {
        // token i64::MIN biases to 0 -> shard 0; token -1 biases to 2^63 - 1, shifted by 12
        // keeps the low 52 bits set -> close to the top -> last shard.
        assert_eq!(shard_of(i64::MIN, 4, 12), 0);
        assert_eq!(shard_of(-1, 4, 12), 3);
        // token 0 biases to 2^63; << 12 drops it -> 0 -> shard 0.
        assert_eq!(shard_of(0, 4, 12), 0);
        // 2^50 biased: 2^63 + 2^50, << 12 -> 2^62 -> quarter of the range -> shard 1 of 4.
        assert_eq!(shard_of(1 << 50, 4, 12), 1);
        assert_eq!(shard_of(1 << 50, 0, 12), 0);
        assert_eq!(shard_of(12345, 1, 12), 0);
    }

    #[test]
    fn tokens_are_distinct_and_reproducible() {
        let mut used = HashSet::new();
        let a = gen_tokens(7, 0, 16, &mut used);
        let b = gen_tokens(7, 1, 16, &mut used);
        assert_eq!(used.len(), 32);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_ne!(a, b);
        assert_eq!(a, gen_tokens(7, 0, 16, &mut HashSet::new()));
    }
}
