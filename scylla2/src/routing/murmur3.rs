//! Murmur3 partitioner tokens, computed exactly as Cassandra's `Murmur3Partitioner` does:
//! the x64 128-bit variant of MurmurHash3 with seed 0, where the bytes of the tail are read
//! as *signed* Java bytes (sign-extended before shifting), keeping the first 64 bits of the
//! hash; `i64::MIN` is mapped to `i64::MAX` because Cassandra reserves it as the minimum
//! token.
//!
//! [`murmur3_token`] hashes a key held in one slice; [`Murmur3Hasher`] hashes a key fed in
//! pieces (a composite partition key, straight from the bound values) to the same token,
//! without allocating whatever the key's length.

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
    /// Mixes in every whole 16-byte block of `data` and returns the bytes after them.
    #[inline]
    fn blocks<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        let (mut h1, mut h2) = (self.h1, self.h2);
        let (blocks, rest) = data.as_chunks::<16>();
        for block in blocks {
            // Little-endian: the low half is bytes 0..8 (k1), the high half bytes 8..16 (k2).
            let word = u128::from_le_bytes(*block);
            let k1 = word as u64;
            let k2 = (word >> 64) as u64;
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
        self.h1 = h1;
        self.h2 = h2;
        rest
    }

    /// Mixes in the `tail` (under 16 bytes) of a key of `len` bytes in all and finalizes: the
    /// first 64 bits of the hash.
    #[inline]
    fn finish(self, tail: &[u8], len: u64) -> i64 {
        let (mut h1, mut h2) = (self.h1, self.h2);
        let split = tail.len().min(8);
        let (lo, hi) = tail.split_at(split);
        if !hi.is_empty() {
            h2 ^= mix_k2(java_signed_le(hi));
        }
        if !lo.is_empty() {
            h1 ^= mix_k1(java_signed_le(lo));
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

/// Up to 8 bytes read little-endian, zero-extended, with overlapping word loads instead of a
/// byte loop.
#[inline]
fn load_le(b: &[u8]) -> u64 {
    let n = b.len();
    let word = |at: usize| -> u64 {
        b.get(at..at + 4)
            .and_then(|w| w.try_into().ok())
            .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
    };
    let byte = |at: usize| -> u64 { b.get(at).map_or(0, |&x| u64::from(x)) };
    match n {
        0 => 0,
        // Bytes 0..4 and n-4..n overlap in equal bits, so OR-ing them is exact.
        4..=8 => word(0) | word(n - 4) << ((n - 4) * 8),
        _ => byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1)),
    }
}

/// Cassandra's tail word of up to 8 bytes: XOR of each byte sign-extended as a Java `byte`
/// and shifted to its place. A byte >= 0x80 at position i sets every bit above its own byte,
/// so the word is the zero-extended load XOR, for each such byte, a mask of ones from byte
/// i + 1 up; those masks XOR to a byte-wise prefix parity, computed here without a loop.
#[inline]
fn java_signed_le(b: &[u8]) -> u64 {
    let v = load_le(b);
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
    state.finish(tail, key.len() as u64)
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

/// Bytes a [`Murmur3Hasher`] buffers before hashing them (a multiple of 16).
const HASHER_BUFFER: usize = 64;

/// Murmur3 of a key fed in pieces by [`Murmur3Hasher::write`]: [`Murmur3Hasher::finish`]
/// gives the [`murmur3_token`] of the pieces' concatenation. Small pieces are buffered
/// (64 bytes) and whole 16-byte blocks hashed as they fill, so keys of any length hash
/// without allocating.
#[derive(Debug, Clone)]
pub struct Murmur3Hasher {
    state: State,
    /// Bytes already mixed into `state` (a multiple of 16).
    hashed: u64,
    buf: [u8; HASHER_BUFFER],
    /// Bytes waiting in `buf`.
    pending: usize,
}

impl Default for Murmur3Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Murmur3Hasher {
    /// A hasher that has seen nothing.
    #[inline]
    pub fn new() -> Self {
        Self {
            state: State::default(),
            hashed: 0,
            buf: [0; HASHER_BUFFER],
            pending: 0,
        }
    }

    /// Appends `data` to the key.
    #[inline]
    pub fn write(&mut self, data: &[u8]) {
        let at = self.pending;
        match self.buf.get_mut(at..at + data.len()) {
            Some(dst) => {
                dst.copy_from_slice(data);
                self.pending = at + data.len();
            }
            None => self.write_spilling(data),
        }
    }

    /// Appends the first `len` bytes of `bytes` (all of them if `len > N`). When the buffer
    /// has room for all `N` it copies them all — a fixed-size copy, no call — and counts
    /// only `len`: the bytes past them are overwritten by the next write or never read.
    #[inline]
    pub fn write_prefix<const N: usize>(&mut self, bytes: &[u8; N], len: usize) {
        let len = len.min(N);
        let at = self.pending;
        match self.buf.get_mut(at..at + N) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.pending = at + len;
            }
            None => self.write(&bytes[..len]),
        }
    }

    /// Appends one byte to the key.
    #[inline]
    pub fn write_u8(&mut self, byte: u8) {
        match self.buf.get_mut(self.pending) {
            Some(b) => {
                *b = byte;
                self.pending += 1;
            }
            None => self.write_spilling(&[byte]),
        }
    }

    /// `write` for data that does not fit in the buffer: fill it, hash it, hash the whole
    /// blocks of the rest in place and keep the remainder.
    #[cold]
    fn write_spilling(&mut self, data: &[u8]) {
        let room = HASHER_BUFFER - self.pending.min(HASHER_BUFFER);
        let (head, rest) = data.split_at(room.min(data.len()));
        if let Some(dst) = self.buf.get_mut(self.pending..self.pending + head.len()) {
            dst.copy_from_slice(head);
        }
        // The buffer is full (HASHER_BUFFER is a multiple of 16): hash all of it.
        self.state.blocks(&self.buf);
        self.hashed += HASHER_BUFFER as u64;
        let tail = self.state.blocks(rest);
        self.hashed += (rest.len() - tail.len()) as u64;
        self.buf[..tail.len()].copy_from_slice(tail);
        self.pending = tail.len();
    }

    /// Number of bytes written so far.
    pub fn len(&self) -> u64 {
        self.hashed + self.pending as u64
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The token of everything written.
    #[inline]
    pub fn finish(&self) -> Token {
        let pending = &self.buf[..self.pending.min(HASHER_BUFFER)];
        let mut state = self.state;
        let tail = state.blocks(pending);
        token_of_hash(state.finish(tail, self.len()))
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
    fn tail_words_match_javas_byte_loop() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..4000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let bytes = seed.to_le_bytes();
            let n = round % 9;
            let b = &bytes[..n];
            assert_eq!(load_le(b), {
                let mut w = [0u8; 8];
                w[..n].copy_from_slice(b);
                u64::from_le_bytes(w)
            });
            assert_eq!(java_signed_le(b), java_tail_reference(b), "{b:02x?}");
        }
        for b in [
            &[0x80u8; 8][..],
            &[0xff; 8],
            &[0x7f; 8],
            &[0x80, 0, 0x80],
            &[],
        ] {
            assert_eq!(java_signed_le(b), java_tail_reference(b), "{b:02x?}");
        }
    }

    #[test]
    fn hasher_matches_one_shot_for_every_split() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 151 + 0x80) as u8).collect();
        for len in (0..=160).chain([255, 300]) {
            let key = &data[..len];
            let expected = murmur3_token(key);
            for step in [1usize, 2, 3, 7, 16, 17, 63, 64, 65, 200] {
                let mut h = Murmur3Hasher::new();
                for piece in key.chunks(step) {
                    match piece.len() {
                        1 => h.write_u8(piece[0]),
                        n @ 2..=16 => {
                            let mut padded = [0xeeu8; 16];
                            padded[..n].copy_from_slice(piece);
                            h.write_prefix(&padded, n);
                        }
                        _ => h.write(piece),
                    }
                }
                assert_eq!(h.len(), len as u64);
                assert_eq!(h.finish(), expected, "len {len} step {step}");
            }
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
