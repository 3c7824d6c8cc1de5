//! Murmur3 partitioner tokens, computed exactly as Cassandra's `Murmur3Partitioner` does:
//! the x64 128-bit variant of MurmurHash3 with seed 0, where the bytes of the tail are read
//! as *signed* Java bytes (sign-extended before shifting), keeping the first 64 bits of the
//! hash; `i64::MIN` is mapped to `i64::MAX` because Cassandra reserves it as the minimum
//! token.
//!
//! [`murmur3_token`] hashes a key held in one slice; [`Murmur3Hasher`] hashes a key fed in
//! pieces (a composite partition key, straight from the bound values) to the same token,
//! without allocating whatever the key's length. The hasher gathers the pieces of a 16-byte
//! block in a register, not in a buffer: reading a block back from memory just after writing
//! it in small pieces would stall the CPU's store forwarding.

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

/// The two 64-bit halves of the hash state.
#[derive(Debug, Clone, Copy, Default)]
struct State {
    h1: u64,
    h2: u64,
}

impl State {
    /// Mixes in one 16-byte block, read little-endian: bytes 0..8 are the low half.
    #[inline]
    fn block(&mut self, block: u128) {
        let k1 = block as u64;
        let k2 = (block >> 64) as u64;
        let (mut h1, mut h2) = (self.h1, self.h2);
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
        self.h1 = h1;
        self.h2 = h2;
    }

    /// Mixes in every whole 16-byte block of `data` and returns the bytes after them.
    #[inline]
    fn blocks<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        let (blocks, rest) = data.as_chunks::<16>();
        for block in blocks {
            self.block(u128::from_le_bytes(*block));
        }
        rest
    }

    /// Mixes in the tail of a key of `len` bytes in all — its last `len % 16` bytes, read
    /// little-endian into `tail` (zeros above) — and finalizes: the first 64 bits of the
    /// hash.
    #[inline]
    fn finish(self, tail: u128, len: u64) -> i64 {
        let (mut h1, mut h2) = (self.h1, self.h2);
        let rest = len % 16;
        if rest > 8 {
            h2 ^= mix_k2(java_signed((tail >> 64) as u64));
        }
        if rest > 0 {
            h1 ^= mix_k1(java_signed(tail as u64));
        }
        h1 ^= len;
        h2 ^= len;
        h1 = h1.wrapping_add(h2);
        h2 = h2.wrapping_add(h1);
        h1 = fmix(h1);
        h2 = fmix(h2);
        h1.wrapping_add(h2) as i64
    }
}

/// Up to 16 bytes read little-endian, zero-extended, with at most two overlapping word loads
/// instead of a byte loop (more than 16 bytes: the first 16).
#[inline]
pub(crate) fn load_le(b: &[u8]) -> u128 {
    let n = b.len().min(16);
    let word = |at: usize, w: usize| -> u128 {
        let mut bytes = [0u8; 16];
        if let (Some(dst), Some(src)) = (bytes.get_mut(..w), b.get(at..at + w)) {
            dst.copy_from_slice(src);
        }
        u128::from_le_bytes(bytes)
    };
    // The two loads overlap in equal bytes, so OR-ing them is exact.
    match n {
        0 => 0,
        1..=3 => word(0, 1) | word(n / 2, 1) << (8 * (n / 2)) | word(n - 1, 1) << (8 * (n - 1)),
        4..=7 => word(0, 4) | word(n - 4, 4) << (8 * (n - 4)),
        _ => word(0, 8) | word(n - 8, 8) << (8 * (n - 8)),
    }
}

/// Cassandra's tail word: the XOR of each byte of `v` sign-extended as a Java `byte` and
/// shifted to its place. A byte >= 0x80 at position i sets every bit above its own byte, so
/// the word is `v` XOR, for each such byte, a mask of ones from byte i + 1 up; those masks XOR
/// to a byte-wise prefix parity, computed here without a loop.
#[inline]
fn java_signed(v: u64) -> u64 {
    // One bit at the low end of byte i + 1 for every byte i with its top bit set (byte 7's
    // shifts out: it has nothing above it).
    let starts = (v & 0x8080_8080_8080_8080) << 1;
    // Fill each of those bytes (no carries: a byte holds 0 or 1 before the multiplication),
    // then XOR every byte into all the bytes above it.
    let mut m = starts.wrapping_mul(0xff);
    m ^= m << 8;
    m ^= m << 16;
    m ^= m << 32;
    v ^ m
}

/// The first 64 bits of Cassandra's MurmurHash3 x64-128 (seed 0) of `key`, as a signed
/// integer (before the `i64::MIN` adjustment of [`murmur3_token`]).
pub fn murmur3_x64_128_first(key: &[u8]) -> i64 {
    let mut state = State::default();
    let tail = state.blocks(key);
    state.finish(load_le(tail), key.len() as u64)
}

/// The Murmur3Partitioner token of a hash's first 64 bits.
#[inline]
fn token_of_hash(h: i64) -> Token {
    match h {
        i64::MIN => Token(i64::MAX),
        t => Token(t),
    }
}

/// The Murmur3Partitioner token of a serialized partition key.
pub fn murmur3_token(key: &[u8]) -> Token {
    token_of_hash(murmur3_x64_128_first(key))
}

/// Murmur3 of a key fed in pieces: [`Murmur3Hasher::finish`] gives the [`murmur3_token`] of
/// the pieces' concatenation. The bytes of the block being filled are gathered in a 128-bit
/// register; whole blocks of long pieces are hashed in place. Allocates nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Murmur3Hasher {
    state: State,
    /// Bytes mixed into `state` (a multiple of 16).
    hashed: u64,
    /// The pending bytes, little-endian (zeros above them).
    pending: u128,
    /// Number of pending bytes (under 16).
    pending_len: usize,
}

impl Murmur3Hasher {
    /// A hasher that has seen nothing.
    #[inline]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the first `len` bytes (at most 16) of `word` read little-endian; the bytes of
    /// `word` above them must be zero.
    #[inline]
    pub fn write_word(&mut self, word: u128, len: usize) {
        let len = len.min(16);
        let at = self.pending_len;
        // `at` < 16, so the shift stays below 128 bits; bytes shifted out are carried below.
        self.pending |= word << (8 * at);
        let total = at + len;
        if total < 16 {
            self.pending_len = total;
            return;
        }
        self.state.block(self.pending);
        self.hashed += 16;
        // The bytes of `word` that did not fit: from byte 16 - at on (none when at is 0).
        self.pending = word.checked_shr(8 * (16 - at) as u32).unwrap_or(0);
        self.pending_len = total - 16;
    }

    /// Appends `data` to the key.
    #[inline]
    pub fn write(&mut self, data: &[u8]) {
        if data.len() <= 16 {
            self.write_word(load_le(data), data.len());
        } else {
            self.write_long(data);
        }
    }

    /// `write` for more than 16 bytes: complete the pending block, hash the whole blocks in
    /// place, keep the rest pending.
    fn write_long(&mut self, mut data: &[u8]) {
        if self.pending_len > 0 {
            let (head, rest) = data.split_at((16 - self.pending_len).min(data.len()));
            self.write_word(load_le(head), head.len());
            data = rest;
        }
        if self.pending_len == 0 {
            let tail = self.state.blocks(data);
            self.hashed += (data.len() - tail.len()) as u64;
            self.write_word(load_le(tail), tail.len());
        } else {
            // Only when `data` was too short to complete the block.
            self.write_word(load_le(data), data.len());
        }
    }

    /// Number of bytes written so far.
    pub fn len(&self) -> u64 {
        self.hashed + self.pending_len as u64
    }

    /// Whether nothing was written.
    // Used by the tests and benches (the `unstable` feature).
    #[cfg_attr(not(feature = "unstable"), allow(dead_code))]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The token of everything written.
    #[inline]
    pub fn finish(&self) -> Token {
        token_of_hash(self.state.finish(self.pending, self.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Java's tail loop, byte by byte.
    fn java_tail_reference(b: &[u8]) -> u64 {
        let mut k = 0u64;
        for (i, &x) in b.iter().enumerate().rev() {
            k ^= (x as i8 as i64 as u64) << (i * 8);
        }
        k
    }

    #[test]
    fn known_values() {
        // Computed with cassandra-driver 3.30.1, `cassandra.murmur3.murmur3`.
        assert_eq!(murmur3_token(b"hello").0, -3758069500696749310);
    }

    #[test]
    fn loads_and_tail_words_match_javas_byte_loop() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..6000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&seed.to_le_bytes());
            bytes[8..].copy_from_slice(&seed.rotate_left(29).to_be_bytes());
            let n = round % 17;
            let b = &bytes[..n];
            let mut padded = [0u8; 16];
            padded[..n].copy_from_slice(b);
            assert_eq!(load_le(b), u128::from_le_bytes(padded), "{b:02x?}");
            let low = &b[..n.min(8)];
            assert_eq!(
                java_signed(load_le(low) as u64),
                java_tail_reference(low),
                "{low:02x?}"
            );
        }
        for b in [
            &[0x80u8; 8][..],
            &[0xff; 8],
            &[0x7f; 8],
            &[0x80, 0, 0x80],
            &[],
        ] {
            assert_eq!(
                java_signed(load_le(b) as u64),
                java_tail_reference(b),
                "{b:02x?}"
            );
        }
    }

    /// Feeds `key` in pieces of `step` bytes, by `write` only or by `write_word`.
    fn hash_in_pieces(key: &[u8], step: usize, words: bool) -> Murmur3Hasher {
        let mut h = Murmur3Hasher::new();
        for piece in key.chunks(step) {
            if words && piece.len() <= 16 {
                let mut padded = [0u8; 16];
                padded[..piece.len()].copy_from_slice(piece);
                h.write_word(u128::from_le_bytes(padded), piece.len());
            } else {
                h.write(piece);
            }
        }
        h
    }

    #[test]
    fn hasher_matches_one_shot_for_every_split() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 151 + 0x80) as u8).collect();
        for len in (0..=160).chain([255, 300]) {
            let key = &data[..len];
            let expected = murmur3_token(key);
            for step in (1..=20).chain([31, 32, 33, 63, 64, 65, 200]) {
                for words in [false, true] {
                    let h = hash_in_pieces(key, step, words);
                    assert_eq!(h.len(), len as u64);
                    assert_eq!(h.finish(), expected, "len {len} step {step} {words}");
                }
            }
            // Uneven pieces: 1, 2, 3, … bytes.
            let mut h = Murmur3Hasher::new();
            let (mut at, mut step) = (0, 1);
            while at < len {
                let end = (at + step).min(len);
                h.write(&key[at..end]);
                at = end;
                step += 1;
            }
            assert_eq!(h.finish(), expected, "len {len} growing pieces");
        }
        assert!(Murmur3Hasher::default().is_empty());
        assert_eq!(Murmur3Hasher::new().finish(), Token(0));
    }

    #[test]
    fn min_token_maps_to_max() {
        assert_eq!(token_of_hash(i64::MIN), Token(i64::MAX));
        assert_eq!(token_of_hash(-1), Token(-1));
    }
}
