//! Murmur3 partitioner tokens, computed exactly as Cassandra's `Murmur3Partitioner` does:
//! the x64 128-bit variant of MurmurHash3 with seed 0, where the bytes of the tail are read
//! as *signed* Java bytes (sign-extended before shifting), keeping the first 64 bits of the
//! hash; `i64::MIN` is mapped to `i64::MAX` because Cassandra reserves it as the minimum
//! token.

use super::Token;

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

#[inline]
fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

#[inline]
fn mix_k1(k1: u64) -> u64 {
    k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

#[inline]
fn mix_k2(k2: u64) -> u64 {
    k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

/// The first 64 bits of Cassandra's MurmurHash3 x64-128 (seed 0) of `key`, as a signed
/// integer (before the `i64::MIN` adjustment of [`murmur3_token`]).
pub fn murmur3_x64_128_first(key: &[u8]) -> i64 {
    let len = key.len();
    let mut h1: u64 = 0;
    let mut h2: u64 = 0;

    let mut blocks = key.chunks_exact(16);
    for block in &mut blocks {
        let (a, b) = block.split_at(8);
        let mut k1_bytes = [0u8; 8];
        let mut k2_bytes = [0u8; 8];
        k1_bytes.copy_from_slice(a);
        k2_bytes.copy_from_slice(b);
        let k1 = u64::from_le_bytes(k1_bytes);
        let k2 = u64::from_le_bytes(k2_bytes);

        h1 ^= mix_k1(k1);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(k2);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }

    // Tail: Java reads each byte as a signed `byte`, widened to `long` with sign extension,
    // then shifted into place and XORed, so a byte >= 0x80 sets every higher bit too.
    let tail = blocks.remainder();
    let signed = |i: usize| -> u64 { tail.get(i).map_or(0, |&b| b as i8 as i64 as u64) };
    let mut k1: u64 = 0;
    let mut k2: u64 = 0;
    for i in (8..tail.len()).rev() {
        k2 ^= signed(i) << ((i - 8) * 8);
    }
    if tail.len() > 8 {
        h2 ^= mix_k2(k2);
    }
    for i in (0..tail.len().min(8)).rev() {
        k1 ^= signed(i) << (i * 8);
    }
    if !tail.is_empty() {
        h1 ^= mix_k1(k1);
    }

    h1 ^= len as u64;
    h2 ^= len as u64;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h1 as i64
}

/// The Murmur3Partitioner token of a serialized partition key.
pub fn murmur3_token(key: &[u8]) -> Token {
    match murmur3_x64_128_first(key) {
        i64::MIN => Token(i64::MAX),
        t => Token(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Computed with cassandra-driver 3.30.1, `cassandra.murmur3.murmur3`.
        assert_eq!(murmur3_token(b"hello").0, -3758069500696749310);
    }
}
