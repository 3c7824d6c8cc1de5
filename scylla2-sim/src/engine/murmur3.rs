//! Cassandra's `Murmur3Partitioner` token: the x64 128-bit MurmurHash3 (seed 0) with
//! Cassandra's signed (sign-extended) tail bytes, first 64-bit half, `i64::MIN` mapped to
//! `i64::MAX`. A request's partition key is hashed where its shard is counted, where its
//! consistency is checked and where it is executed: the last short key hashed on a thread is
//! remembered with its token.

use std::cell::Cell;

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

fn block(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(b)
}

/// Up to 8 tail bytes as Cassandra reads them: each a signed Java byte, sign-extended to 64
/// bits and shifted to its place, all XORed together. Branch-free: the bytes little-endian,
/// XORed with a mask whose byte `j` is all ones when an odd number of the bytes before it
/// are negative (each negative byte's extension sets every bit above it).
fn signed_tail(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b[..bytes.len()].copy_from_slice(bytes);
    let x = u64::from_le_bytes(b);
    // Byte j: 1 when byte j is negative.
    let mut p = (x >> 7) & 0x0101_0101_0101_0101;
    // Byte j: the parity of the sign bits of bytes 0..=j.
    p ^= p << 8;
    p ^= p << 16;
    p ^= p << 32;
    // Of the bytes before j, as 0x00 or 0xff.
    x ^ (p << 8).wrapping_mul(0xff)
}

/// The longest key remembered with its token.
const REMEMBERED: usize = 16;

thread_local! {
    /// The last key of at most [`REMEMBERED`] bytes hashed on this thread (its length, its
    /// bytes zero-padded) and its token; a length above `REMEMBERED`: none.
    static LAST: Cell<(u8, [u8; REMEMBERED], i64)> = const { Cell::new((u8::MAX, [0; REMEMBERED], 0)) };
}

/// The Murmur3 token of a serialized partition key, as Cassandra and Scylla compute it.
pub fn murmur3_token(key: &[u8]) -> i64 {
    if key.len() > REMEMBERED {
        return hash(key);
    }
    let mut padded = [0; REMEMBERED];
    padded[..key.len()].copy_from_slice(key);
    let len = key.len() as u8;
    LAST.with(|last| {
        let (l, bytes, token) = last.get();
        if l == len && bytes == padded {
            return token;
        }
        let token = hash(key);
        last.set((len, padded, token));
        token
    })
}

fn hash(key: &[u8]) -> i64 {
    let len = key.len();
    let mut h1: u64 = 0;
    let mut h2: u64 = 0;
    let mut chunks = key.chunks_exact(16);
    for chunk in &mut chunks {
        let mut k1 = block(&chunk[..8]);
        let mut k2 = block(&chunk[8..]);
        k1 = k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        k2 = k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = chunks.remainder();
    if tail.len() > 8 {
        let k2 = signed_tail(&tail[8..]);
        h2 ^= k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1);
    }
    if !tail.is_empty() {
        let k1 = signed_tail(&tail[..tail.len().min(8)]);
        h1 ^= k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
    }
    h1 ^= len as u64;
    h2 ^= len as u64;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    let token = h1 as i64;
    if token == i64::MIN { i64::MAX } else { token }
}

#[cfg(test)]
mod tests {
    use super::murmur3_token;

    /// Expected tokens from an independent Python implementation of Cassandra's algorithm
    /// (signed tail bytes); `[0, 0, 0, 1]` and `[0, 0, 0, 42]` are the well-known tokens of
    /// int keys 1 and 42.
    const VECTORS: &[(&[u8], i64)] = &[
        (&[], 0),
        (&[0x61], -8839064797231613815),
        (&[0x61, 0x62], -7815133031266706642),
        (&[0x61, 0x62, 0x63], -5434086359492102041),
        (&[0x68, 0x65, 0x6c, 0x6c, 0x6f], -3758069500696749310),
        (
            &[0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06],
            -4806350670375744152,
        ),
        (
            &[0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07],
            5163343703268274120,
        ),
        (
            &[0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08],
            -309399207242814158,
        ),
        (
            &[
                0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
                0x0e,
            ],
            5125964547706398185,
        ),
        (
            &[
                0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
                0x0e, 0x0f,
            ],
            4920504430128807728,
        ),
        (
            &[
                0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d,
                0x0e, 0x0f, 0x10,
            ],
            6662781046685680142,
        ),
        (&[0x80, 0xff, 0x90], -824315465439328626),
        (
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            8434364767658694854,
        ),
        (
            &[
                0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d,
                0x7e, 0x7f, 0x80,
            ],
            7183477053543731154,
        ),
        (&[0x00, 0x00, 0x00, 0x01], -4069959284402364209),
        (&[0x00, 0x00, 0x00, 0x2a], -7160136740246525330),
        (&[0x6b, 0x65, 0x79, 0x31], 1573573083296714675),
        (
            &[
                0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe,
                0xfe, 0xfe, 0x81,
            ],
            -5395097456870894281,
        ),
    ];

    #[test]
    fn murmur3_matches_cassandra_vectors() {
        for (key, expected) in VECTORS {
            assert_eq!(murmur3_token(key), *expected, "key {key:02x?}");
        }
        // Again, each right after itself (remembered) and after another key.
        for (key, expected) in VECTORS.iter().chain(VECTORS.iter().rev()) {
            assert_eq!(murmur3_token(key), *expected, "key {key:02x?}");
            assert_eq!(murmur3_token(key), *expected, "key {key:02x?}, remembered");
        }
    }

    /// The tail as the algorithm states it: byte by byte, each sign-extended.
    fn signed_tail_bytewise(tail: &[u8]) -> u64 {
        let mut k = 0u64;
        for (i, b) in tail.iter().enumerate() {
            k ^= (*b as i8 as i64 as u64) << (i * 8);
        }
        k
    }

    /// The branch-free tail equals the byte-by-byte one for every length and for bytes of
    /// both signs in every position (generated), and keys that share a prefix or differ only
    /// in length get their own tokens, remembered or not.
    #[test]
    fn the_branch_free_tail_is_the_bytewise_one() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let n = (next() % 9) as usize;
            let bytes = next().to_le_bytes();
            // Bias towards 0x00, 0x7f, 0x80 and 0xff, the edges of the sign.
            let mut tail = [0u8; 8];
            for (i, t) in tail.iter_mut().enumerate().take(n) {
                let r = next();
                *t = match r % 5 {
                    0 => 0x00,
                    1 => 0x7f,
                    2 => 0x80,
                    3 => 0xff,
                    _ => bytes[i],
                };
            }
            assert_eq!(
                super::signed_tail(&tail[..n]),
                signed_tail_bytewise(&tail[..n]),
                "tail {:02x?}",
                &tail[..n]
            );
        }
        let long: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37)).collect();
        for n in 0..long.len() {
            let first = murmur3_token(&long[..n]);
            assert_eq!(murmur3_token(&long[..n]), first, "{n} bytes, remembered");
            assert_eq!(super::hash(&long[..n]), first, "{n} bytes, computed");
            if n > 0 {
                assert_ne!(
                    murmur3_token(&long[..n - 1]),
                    first,
                    "{n} bytes against one fewer"
                );
            }
        }
    }
}
