//! v4 envelope body compression (v4 §5): the body of an envelope whose header has flag 0x01
//! set is compressed with the algorithm negotiated in STARTUP.
//!
//! - lz4: a 4-byte big-endian uncompressed length followed by a raw lz4 block.
//! - snappy: a raw snappy block (which starts with its own varint uncompressed length).
//!
//! Once compression is negotiated a server may compress any response, even an empty one:
//! real Cassandra sends READY as the lz4 body `00000000 00` or the snappy body `00`, and a
//! sender may also leave bodies uncompressed (flag clear).
//!
//! Decompression reads the claimed uncompressed length first and rejects it when it is over a
//! caller-given limit, before allocating anything. v5 does not use this module's formats: it
//! compresses whole segments (see [`super::segment`]).

/// A body compression algorithm of protocol v4 (v4 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// lz4: 4-byte big-endian uncompressed length, then a raw lz4 block.
    Lz4,
    /// snappy: a raw snappy block.
    Snappy,
}

/// Size of the big-endian uncompressed-length prefix of a v4 lz4 body.
pub const LZ4_LENGTH_PREFIX: usize = 4;

/// An error compressing or decompressing a body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompressionError {
    /// The compressed data claims an uncompressed size over the configured limit.
    #[error("claimed uncompressed length {claimed} exceeds the limit of {max} bytes")]
    TooLarge {
        /// Length the compressed data claims.
        claimed: u64,
        /// The limit.
        max: usize,
    },
    /// An lz4 body shorter than its 4-byte length prefix.
    #[error("lz4 body of {0} bytes is shorter than its 4-byte length prefix")]
    MissingLengthPrefix(usize),
    /// The lz4 length prefix is negative.
    #[error("negative lz4 uncompressed length {0}")]
    NegativeLength(i32),
    /// The lz4 block is malformed.
    #[error("corrupt lz4 data")]
    CorruptLz4,
    /// The snappy block is malformed (including an unreadable length header).
    #[error("corrupt snappy data")]
    CorruptSnappy,
    /// Decompression produced a different number of bytes than the claimed length.
    #[error("decompressed {actual} bytes where {claimed} were announced")]
    LengthMismatch {
        /// Announced uncompressed length.
        claimed: usize,
        /// Bytes actually produced.
        actual: usize,
    },
    /// The input is too large for the algorithm (snappy: 2^32 - 1 bytes; v4 lz4 prefix:
    /// `i32::MAX`).
    #[error("{0} bytes are too many to compress")]
    InputTooLarge(usize),
    /// The output slice given to a `*_into` function is smaller than the bound.
    #[error("output buffer of {given} bytes is smaller than the required {needed}")]
    OutputTooSmall {
        /// Size given.
        given: usize,
        /// Size needed ([`Compression::compress_bound`]).
        needed: usize,
    },
}

impl Compression {
    /// The name used for the `COMPRESSION` option of STARTUP and in SUPPORTED.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Lz4 => "lz4",
            Self::Snappy => "snappy",
        }
    }

    /// Parses a `COMPRESSION` option value (`"lz4"` or `"snappy"`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "lz4" => Some(Self::Lz4),
            "snappy" => Some(Self::Snappy),
            _ => None,
        }
    }

    /// The largest compressed body (prefix included) that compressing `len` bytes can
    /// produce: reserve this much before [`Self::compress_into`]. Fails when `len` is too large
    /// for the algorithm.
    pub fn compress_bound(self, len: usize) -> Result<usize, CompressionError> {
        match self {
            Self::Lz4 => {
                if len > i32::MAX as usize {
                    return Err(CompressionError::InputTooLarge(len));
                }
                Ok(LZ4_LENGTH_PREFIX + lz4_flex::block::get_maximum_output_size(len))
            }
            Self::Snappy => match snap::raw::max_compress_len(len) {
                0 => Err(CompressionError::InputTooLarge(len)),
                n => Ok(n),
            },
        }
    }

    /// Compresses `body` into the front of `out`, which must be at least
    /// [`Self::compress_bound`]`(body.len())` bytes long, and returns the exact number of
    /// bytes written.
    ///
    /// Allocates the compression tables for this one call; a caller compressing repeatedly
    /// keeps a [`Compressor`] instead.
    pub fn compress_into(self, body: &[u8], out: &mut [u8]) -> Result<usize, CompressionError> {
        Compressor::new().compress_into(self, body, out)
    }

    /// Appends the compressed form of `body` to `out` (reserving the bound first).
    pub fn compress(self, body: &[u8], out: &mut bytes::BytesMut) -> Result<(), CompressionError> {
        let bound = self.compress_bound(body.len())?;
        let start = out.len();
        out.resize(start + bound, 0);
        match self.compress_into(body, &mut out[start..]) {
            Ok(n) => {
                out.truncate(start + n);
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(e)
            }
        }
    }

    /// The uncompressed length a compressed body announces, read without decompressing.
    pub fn decompressed_len(self, compressed: &[u8]) -> Result<usize, CompressionError> {
        match self {
            Self::Lz4 => {
                let Some(prefix) = compressed.first_chunk::<LZ4_LENGTH_PREFIX>() else {
                    return Err(CompressionError::MissingLengthPrefix(compressed.len()));
                };
                let n = i32::from_be_bytes(*prefix);
                if n < 0 {
                    return Err(CompressionError::NegativeLength(n));
                }
                Ok(n as usize)
            }
            Self::Snappy => {
                if compressed.is_empty() {
                    return Err(CompressionError::CorruptSnappy);
                }
                snap::raw::decompress_len(compressed).map_err(|_| CompressionError::CorruptSnappy)
            }
        }
    }

    /// Decompresses a whole body, rejecting (before allocating) a claimed uncompressed length
    /// over `max_len`. Allocates exactly the claimed length once.
    pub fn decompress(
        self,
        compressed: &[u8],
        max_len: usize,
    ) -> Result<bytes::Bytes, CompressionError> {
        let claimed = self.decompressed_len(compressed)?;
        if claimed > max_len {
            return Err(CompressionError::TooLarge {
                claimed: claimed as u64,
                max: max_len,
            });
        }
        let mut out = vec![0u8; claimed];
        let actual = match self {
            Self::Lz4 => {
                lz4_flex::block::decompress_into(&compressed[LZ4_LENGTH_PREFIX..], &mut out)
                    .map_err(|_| CompressionError::CorruptLz4)?
            }
            Self::Snappy => snap::raw::Decoder::new()
                .decompress(compressed, &mut out)
                .map_err(|_| CompressionError::CorruptSnappy)?,
        };
        if actual != claimed {
            return Err(CompressionError::LengthMismatch { claimed, actual });
        }
        Ok(bytes::Bytes::from(out))
    }

    /// Decompresses a whole body into `out` and splits it off as a [`bytes::Bytes`] slice of
    /// `out`'s buffer, rejecting a claimed uncompressed length over `max_len` before touching
    /// `out`. `out` is scratch space: its contents are cleared first. It allocates only when
    /// `out` has less spare capacity than the claimed length (then `out` reserves it); a
    /// caller that keeps `out` large enough and reclaims it once the returned slices are
    /// dropped decompresses without allocating. When the decompressed body takes up all of
    /// `out`'s capacity, the buffer itself is handed out (no split) and `out` is left empty.
    pub fn decompress_into(
        self,
        compressed: &[u8],
        max_len: usize,
        out: &mut bytes::BytesMut,
    ) -> Result<bytes::Bytes, CompressionError> {
        let claimed = self.decompressed_len(compressed)?;
        if claimed > max_len {
            return Err(CompressionError::TooLarge {
                claimed: claimed as u64,
                max: max_len,
            });
        }
        into_buffer(out, claimed, |dst| match self {
            Self::Lz4 => lz4_flex::block::decompress_into(&compressed[LZ4_LENGTH_PREFIX..], dst)
                .map_err(|_| CompressionError::CorruptLz4),
            Self::Snappy => snap::raw::Decoder::new()
                .decompress(compressed, dst)
                .map_err(|_| CompressionError::CorruptSnappy),
        })
    }
}

/// Reusable compression state: the lz4 hash tables and the snappy encoder (with its table)
/// live across calls, so that compressing allocates nothing once they exist, where
/// [`Compression::compress_into`] and `lz4_flex::block::compress_into` allocate a hash table
/// on every call. The 16-bit lz4 table (8 KiB) is allocated by [`Compressor::new`]; the
/// 32-bit one (16 KiB) on the first input of 64 KiB or more; snappy's large table on the
/// first body over a few KiB.
pub struct Compressor {
    lz4_small: lz4_flex::block::CompressTable,
    lz4_large: Option<lz4_flex::block::CompressTable>,
    snappy: snap::raw::Encoder,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("lz4_large", &self.lz4_large.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Compressor {
    fn default() -> Self {
        Self::new()
    }
}

impl Compressor {
    /// A compressor with its small lz4 table.
    pub fn new() -> Self {
        Self {
            lz4_small: lz4_flex::block::CompressTable::small(),
            lz4_large: None,
            snappy: snap::raw::Encoder::new(),
        }
    }

    /// Compresses `input` as one raw lz4 block (no length prefix: the v5 segment payload
    /// format) into the front of `out`, which must hold
    /// `lz4_flex::block::get_maximum_output_size(input.len())` bytes; returns the bytes
    /// written.
    pub fn lz4_block_into(
        &mut self,
        input: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CompressionError> {
        let needed = lz4_flex::block::get_maximum_output_size(input.len());
        if out.len() < needed {
            return Err(CompressionError::OutputTooSmall {
                given: out.len(),
                needed,
            });
        }
        let table = if input.len() < u16::MAX as usize {
            &mut self.lz4_small
        } else {
            self.lz4_large
                .get_or_insert_with(lz4_flex::block::CompressTable::large)
        };
        let given = out.len();
        lz4_flex::block::compress_into_with_table(input, out, table)
            .map_err(|_| CompressionError::OutputTooSmall { given, needed })
    }

    /// [`Compression::compress_into`] (a v4 body, lz4 with its length prefix or snappy)
    /// reusing this compressor's tables.
    pub fn compress_into(
        &mut self,
        compression: Compression,
        body: &[u8],
        out: &mut [u8],
    ) -> Result<usize, CompressionError> {
        let needed = compression.compress_bound(body.len())?;
        if out.len() < needed {
            return Err(CompressionError::OutputTooSmall {
                given: out.len(),
                needed,
            });
        }
        match compression {
            Compression::Lz4 => {
                let (prefix, block) = out.split_at_mut(LZ4_LENGTH_PREFIX);
                // compress_bound checked body.len() <= i32::MAX.
                prefix.copy_from_slice(&(body.len() as u32).to_be_bytes());
                Ok(LZ4_LENGTH_PREFIX + self.lz4_block_into(body, block)?)
            }
            Compression::Snappy => self
                .snappy
                .compress(body, out)
                .map_err(|_| CompressionError::InputTooLarge(body.len())),
        }
    }
}

/// Decompresses a raw lz4 block announcing `claimed` bytes (a v5 segment payload, whose
/// 17-bit length field bounds `claimed` to 128 KiB) into `out` like
/// [`Compression::decompress_into`].
pub(crate) fn lz4_block_into(
    block: &[u8],
    claimed: usize,
    out: &mut bytes::BytesMut,
) -> Result<bytes::Bytes, CompressionError> {
    into_buffer(out, claimed, |dst| {
        lz4_flex::block::decompress_into(block, dst).map_err(|_| CompressionError::CorruptLz4)
    })
}

/// Clears `out`, lets `decompress` fill `claimed` zeroed bytes of it, checks the length it
/// reports and splits the result off (or takes the whole buffer when it is exactly full).
fn into_buffer(
    out: &mut bytes::BytesMut,
    claimed: usize,
    decompress: impl FnOnce(&mut [u8]) -> Result<usize, CompressionError>,
) -> Result<bytes::Bytes, CompressionError> {
    out.clear();
    out.resize(claimed, 0);
    let actual = match decompress(&mut out[..]) {
        Ok(n) => n,
        Err(e) => {
            out.clear();
            return Err(e);
        }
    };
    if actual != claimed {
        out.clear();
        return Err(CompressionError::LengthMismatch { claimed, actual });
    }
    if out.capacity() == claimed {
        return Ok(std::mem::take(out).freeze());
    }
    Ok(out.split_to(claimed).freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_ready_bodies_from_fixtures() {
        // A real server compresses even an empty READY body (fixtures manifest notes).
        assert!(
            Compression::Lz4
                .decompress(&[0, 0, 0, 0, 0], 0)
                .unwrap()
                .is_empty()
        );
        assert!(Compression::Snappy.decompress(&[0], 0).unwrap().is_empty());
    }

    #[test]
    fn round_trips_and_exact_sizes() {
        let body: Vec<u8> = (0..5000u32).map(|i| (i % 7) as u8).collect();
        for c in [Compression::Lz4, Compression::Snappy] {
            let mut out = bytes::BytesMut::new();
            c.compress(&body, &mut out).unwrap();
            assert!(out.len() < body.len());
            assert!(out.len() <= c.compress_bound(body.len()).unwrap());
            assert_eq!(c.decompressed_len(&out).unwrap(), body.len());
            assert_eq!(&c.decompress(&out, body.len()).unwrap()[..], &body[..]);
            assert!(matches!(
                c.decompress(&out, body.len() - 1),
                Err(CompressionError::TooLarge {
                    claimed: 5000,
                    max: 4999
                })
            ));
            let mut small = [0u8; 8];
            assert!(matches!(
                c.compress_into(&body, &mut small),
                Err(CompressionError::OutputTooSmall { given: 8, .. })
            ));
        }
    }

    fn within(body: &[u8], buf_start: *const u8, buf_len: usize) -> bool {
        let start = buf_start as usize;
        let p = body.as_ptr() as usize;
        p >= start && p + body.len() <= start + buf_len
    }

    #[test]
    fn decompress_into_splits_hand_written_bodies_off_one_buffer() {
        // v4 lz4: length 5, then one sequence token 0x50 (5 literals, no match).
        let lz4 = [0, 0, 0, 5, 0x50, b'h', b'e', b'l', b'l', b'o'];
        // snappy: varint length 5, literal tag (5 - 1) << 2.
        let snappy = [0x05, 0x10, b'w', b'o', b'r', b'l', b'd'];
        let mut out = bytes::BytesMut::with_capacity(64);
        let start = out.as_ptr();
        let a = Compression::Lz4.decompress_into(&lz4, 5, &mut out).unwrap();
        let b = Compression::Snappy
            .decompress_into(&snappy, 5, &mut out)
            .unwrap();
        assert_eq!((&a[..], &b[..]), (&b"hello"[..], &b"world"[..]));
        // Both are slices of the one allocation, one after the other; the rest stays spare.
        assert!(within(&a, start, 64) && within(&b, start, 64));
        assert_eq!(b.as_ptr() as usize, a.as_ptr() as usize + 5);
        assert_eq!(out.len(), 0);
        assert_eq!(out.capacity(), 54);
        // Empty bodies (compressed READY) split nothing off.
        let empty = Compression::Lz4
            .decompress_into(&[0, 0, 0, 0, 0], 0, &mut out)
            .unwrap();
        assert!(empty.is_empty());
        assert_eq!(out.capacity(), 54);
    }

    #[test]
    fn decompress_into_takes_an_exactly_full_buffer_whole() {
        let mut out = bytes::BytesMut::with_capacity(5);
        let lz4 = [0, 0, 0, 5, 0x50, b'h', b'e', b'l', b'l', b'o'];
        let body = Compression::Lz4.decompress_into(&lz4, 5, &mut out).unwrap();
        assert_eq!(&body[..], b"hello");
        assert_eq!(out.capacity(), 0);
    }

    #[test]
    fn decompress_into_errors_leave_the_buffer_empty() {
        let mut out = bytes::BytesMut::with_capacity(32);
        out.extend_from_slice(b"old");
        // Over the limit: rejected before touching the buffer.
        assert!(matches!(
            Compression::Lz4.decompress_into(&[0, 0, 0, 10, 0], 9, &mut out),
            Err(CompressionError::TooLarge {
                claimed: 10,
                max: 9
            })
        ));
        assert_eq!(&out[..], b"old");
        assert_eq!(
            Compression::Lz4.decompress_into(&[0, 0, 0, 10, 0x20, b'a', b'b'], 100, &mut out),
            Err(CompressionError::LengthMismatch {
                claimed: 10,
                actual: 2
            })
        );
        assert!(out.is_empty());
        assert_eq!(
            Compression::Snappy.decompress_into(&[0x05, 0xff], 100, &mut out),
            Err(CompressionError::CorruptSnappy)
        );
        assert!(out.is_empty());
        assert_eq!(out.capacity(), 32);
    }

    #[test]
    fn compressor_matches_the_one_shot_functions() {
        let small: Vec<u8> = (0..5000u32).map(|i| (i % 13) as u8).collect();
        let large: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut c = Compressor::new();
        for body in [&small[..], &large[..], &[][..]] {
            for alg in [Compression::Lz4, Compression::Snappy] {
                let mut a = vec![0u8; alg.compress_bound(body.len()).unwrap()];
                let mut b = a.clone();
                let n = c.compress_into(alg, body, &mut a).unwrap();
                let m = alg.compress_into(body, &mut b).unwrap();
                assert_eq!(&a[..n], &b[..m], "{alg:?} {}", body.len());
                assert_eq!(&alg.decompress(&a[..n], body.len()).unwrap()[..], body);
            }
            let mut out = vec![0u8; lz4_flex::block::get_maximum_output_size(body.len())];
            let n = c.lz4_block_into(body, &mut out).unwrap();
            assert_eq!(
                lz4_flex::block::decompress(&out[..n], body.len()).unwrap(),
                body
            );
        }
        assert!(c.lz4_large.is_some());
        let mut tiny = [0u8; 4];
        assert!(matches!(
            c.lz4_block_into(&small, &mut tiny),
            Err(CompressionError::OutputTooSmall { given: 4, .. })
        ));
    }

    #[test]
    fn lz4_prefix_checks() {
        let c = Compression::Lz4;
        assert_eq!(
            c.decompress(&[0, 0, 0], 10),
            Err(CompressionError::MissingLengthPrefix(3))
        );
        assert_eq!(
            c.decompress(&[0xff, 0, 0, 0, 0], 10),
            Err(CompressionError::NegativeLength(i32::from_be_bytes([
                0xff, 0, 0, 0
            ])))
        );
        // Claims 4 GiB-ish: rejected before allocating.
        assert!(matches!(
            c.decompress(&[0x7f, 0xff, 0xff, 0xff, 0], 1 << 20),
            Err(CompressionError::TooLarge { .. })
        ));
        // Claims 10 bytes, block holds 2 literals.
        assert_eq!(
            c.decompress(&[0, 0, 0, 10, 0x20, b'a', b'b'], 100),
            Err(CompressionError::LengthMismatch {
                claimed: 10,
                actual: 2
            })
        );
        assert_eq!(
            c.decompress(&[0, 0, 0, 10, 0xf0], 100),
            Err(CompressionError::CorruptLz4)
        );
    }

    #[test]
    fn snappy_checks() {
        let c = Compression::Snappy;
        assert_eq!(c.decompress(&[], 10), Err(CompressionError::CorruptSnappy));
        // varint 0xffffffff0f would claim 2^32-1 bytes.
        assert!(matches!(
            c.decompress(&[0xff, 0xff, 0xff, 0x7f], 1 << 20),
            Err(CompressionError::TooLarge { .. })
        ));
        assert_eq!(
            c.decompress(&[0x05, 0xff], 100),
            Err(CompressionError::CorruptSnappy)
        );
        assert_eq!(Compression::from_name("snappy"), Some(c));
        assert_eq!(Compression::Lz4.name(), "lz4");
        assert_eq!(Compression::from_name("zstd"), None);
    }
}
