//! The two checksums of v5 segment framing (v5 §2.1, §2.2): the CRC24 protecting a segment
//! header and the CRC32 protecting its payload.
//!
//! - CRC24 (v5 §2.1): "initializing the CRC24 algorithm with the value 0x875060 and using the
//!   polynomial 0x1974F0B". The spec gives the 25-bit polynomial including its x^24 term; the
//!   register is shifted most significant bit first, bytes are fed in wire order (so the
//!   little-endian header integer least significant byte first), no reflection and no final
//!   XOR.
//! - CRC32: the spec (§2.1, §2.2) only says "CRC32". It is the usual CRC-32 (IEEE 802.3,
//!   reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF, as
//!   `java.util.zip.CRC32` / zlib compute it), **but** Cassandra, and Scylla after it, first
//!   feed the four bytes `FA 2D 55 CA` and then the payload. The spec does not mention those
//!   bytes; a trailer computed without them is rejected by real servers. [`crc32`] includes
//!   them; [`crc32_ieee`] is the plain checksum.
//!
//! The CRC24 is table driven (table computed at compile time): it only ever runs over 3 or 5
//! header bytes. The CRC32 runs over every payload byte sent or received, so it uses the
//! `crc32fast` crate (carry-less multiplication with PCLMULQDQ/VPCLMULQDQ on x86-64, the CRC
//! instructions on aarch64, chosen at run time, and a slicing-by-16 table elsewhere): resumed
//! from [`CRC32_SEED_CRC`], the checksum of the seed bytes, it yields the seeded checksum
//! without feeding the seed bytes each time. Measured in `benches/benches/crc.rs`: on par with
//! the previous hand-written slicing-by-8 table at 16 bytes, 3x at 100 bytes, 10x at 1 KiB,
//! 20-25x at 64-128 KiB.

/// The CRC24 polynomial of v5 §2.1, with its x^24 term.
pub const CRC24_POLY: u32 = 0x1974F0B;
/// The CRC24 initial register value of v5 §2.1.
pub const CRC24_INIT: u32 = 0x875060;
/// Bytes fed to the CRC32 before every segment payload (not in the spec text; see the module
/// documentation).
pub const CRC32_SEED_BYTES: [u8; 4] = [0xFA, 0x2D, 0x55, 0xCA];

const CRC24_MASK: u32 = 0x00FF_FFFF;

const CRC24_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 16;
        let mut bit = 0;
        while bit < 8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= CRC24_POLY;
            }
            bit += 1;
        }
        table[i] = crc & CRC24_MASK;
        i += 1;
    }
    table
};

/// `CRC24_TABLES[k][b]`: the register, started at zero, after byte `b` then `k` zero bytes
/// (`CRC24_TABLES[0]` is [`CRC24_TABLE`]). The CRC is linear: the CRC24 of `n` bytes is the
/// register after `n` zero bytes from [`CRC24_INIT`] XOR, for each byte `i`,
/// `CRC24_TABLES[n - 1 - i][byte i]`, which makes a 3- or 5-byte header `n` independent
/// lookups instead of a chain of `n` dependent ones.
const CRC24_TABLES: [[u32; 256]; 5] = {
    let mut tables = [[0u32; 256]; 5];
    tables[0] = CRC24_TABLE;
    let mut k = 1;
    while k < 5 {
        let mut i = 0;
        while i < 256 {
            tables[k][i] = crc24_update(tables[k - 1][i], &[0]);
            i += 1;
        }
        k += 1;
    }
    tables
};

/// The CRC24 of `n` zero bytes, for `n` in `0..=5`.
const CRC24_OF_ZEROS: [u32; 6] = {
    let mut out = [0u32; 6];
    let mut n = 0;
    while n < 6 {
        out[n] = crc24_update(CRC24_INIT, [0u8; 5].split_at(n).0);
        n += 1;
    }
    out
};

/// Feeds `bytes` to a CRC24 register, one byte per table lookup.
const fn crc24_update(mut crc: u32, bytes: &[u8]) -> u32 {
    let mut i = 0;
    while i < bytes.len() {
        let index = ((crc >> 16) ^ bytes[i] as u32) & 0xFF;
        crc = ((crc << 8) ^ CRC24_TABLE[index as usize]) & CRC24_MASK;
        i += 1;
    }
    crc
}

/// CRC24 of `bytes` as v5 §2.1 defines it (used over the 3 or 5 header bytes; those two
/// lengths take independent per-position lookups, any other length a byte loop).
#[inline]
pub const fn crc24(bytes: &[u8]) -> u32 {
    let t = &CRC24_TABLES;
    match *bytes {
        [b0, b1, b2] => {
            CRC24_OF_ZEROS[3] ^ t[2][b0 as usize] ^ t[1][b1 as usize] ^ t[0][b2 as usize]
        }
        [b0, b1, b2, b3, b4] => {
            CRC24_OF_ZEROS[5]
                ^ t[4][b0 as usize]
                ^ t[3][b1 as usize]
                ^ t[2][b2 as usize]
                ^ t[1][b3 as usize]
                ^ t[0][b4 as usize]
        }
        _ => crc24_update(CRC24_INIT, bytes),
    }
}

/// Bit-at-a-time reflected CRC-32 register update (not inverted at either end): at compile
/// time for [`CRC32_SEED_CRC`], and the definition `crc_clmul` falls back to and is tested
/// against.
pub(super) const fn crc32_update_bitwise(mut state: u32, bytes: &[u8]) -> u32 {
    let mut i = 0;
    while i < bytes.len() {
        state ^= bytes[i] as u32;
        let mut bit = 0;
        while bit < 8 {
            state = if state & 1 != 0 {
                (state >> 1) ^ 0xEDB8_8320
            } else {
                state >> 1
            };
            bit += 1;
        }
        i += 1;
    }
    state
}

/// The CRC-32 (IEEE) of [`CRC32_SEED_BYTES`] alone (`0x44777ED3`, as python's
/// `zlib.crc32(b"\xfa\x2d\x55\xca")` gives), computed at compile time. Resuming a CRC-32
/// from it and feeding a payload gives the checksum of the seed bytes followed by the payload.
pub const CRC32_SEED_CRC: u32 = !crc32_update_bitwise(0xFFFF_FFFF, &CRC32_SEED_BYTES);

/// The plain CRC-32 (IEEE) of `bytes`, without the segment seed bytes.
#[inline]
pub fn crc32_ieee(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// Payloads from 4 bytes up to this length take the folding of `crc_clmul` (x86-64); longer
/// ones `crc32fast`'s four-way and wide-register folding, shorter ones its table.
#[cfg(target_arch = "x86_64")]
const CLMUL_MAX: usize = 256;

/// The CRC32 of a segment payload as real servers compute it: CRC-32 (IEEE) over the seed
/// bytes `FA 2D 55 CA` followed by `payload` (v5 §2.1 trailer; see the module documentation).
// Always inlined: its two callers (the segment writer and reader) run it once per segment,
// and as a call it costs more than the checksum of a short segment saves.
#[inline(always)]
pub fn crc32(payload: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if (4..CLMUL_MAX).contains(&payload.len()) && super::crc_clmul::available() {
        use super::crc_clmul::{register_after, register_after_short};
        let register = !CRC32_SEED_CRC;
        return !if payload.len() < 16 {
            // SAFETY: the CPU has what it needs (`available`).
            unsafe { register_after_short(register, payload) }
        } else {
            // SAFETY: the CPU has what it needs (`available`), and the payload is at least 16
            // bytes long.
            unsafe { register_after(register, payload) }
        };
    }
    // `Hasher::new_with_initial` detects the CPU's features on every call (about 18
    // instructions, two checksums per request); a copy of one made once skips that.
    static SEEDED: std::sync::OnceLock<crc32fast::Hasher> = std::sync::OnceLock::new();
    let mut hasher = SEEDED
        .get_or_init(|| crc32fast::Hasher::new_with_initial(CRC32_SEED_CRC))
        .clone();
    hasher.update(payload);
    hasher.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-at-a-time CRC24 straight from the spec's words, to check the table.
    fn crc24_bitwise(bytes: &[u8]) -> u32 {
        let mut crc = CRC24_INIT;
        for &b in bytes {
            crc ^= (b as u32) << 16;
            for _ in 0..8 {
                crc <<= 1;
                if crc & 0x0100_0000 != 0 {
                    crc ^= CRC24_POLY;
                }
            }
        }
        crc
    }

    #[test]
    fn crc32_check_value() {
        // The catalogued check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32_ieee(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32_ieee(b""), 0);
        // Values computed with python's zlib.crc32(b"\xfa\x2d\x55\xca" + data).
        assert_eq!(crc32(b"123456789"), 0xE2A2_61A7);
        assert_eq!(crc32(b""), 0x4477_7ED3);
        assert_eq!(CRC32_SEED_CRC, 0x4477_7ED3);
        assert_eq!(CRC32_SEED_CRC, crc32_ieee(&CRC32_SEED_BYTES));
    }

    /// `((i * 131) >> 3) as u8`: the test payload, also generated by the python script below.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len as u32)
            .map(|i| (i.wrapping_mul(131) >> 3) as u8)
            .collect()
    }

    /// Seeded CRC32 of payloads whose lengths straddle every switch of the SIMD code (16-byte
    /// blocks, the 128-byte fold-by-4 loop, the 2 KiB wide-register loop) up to the largest
    /// segment payload, at aligned and unaligned starts. Computed independently with:
    ///
    /// ```python
    /// import zlib
    /// data = bytes(((i * 131) >> 3) & 0xff for i in range(131071))
    /// seeded = lambda d: zlib.crc32(bytes([0xFA, 0x2D, 0x55, 0xCA]) + d)
    /// [(n, hex(seeded(data[:n]))) for n in (0, 1, 3, 15, 16, 17, ...)]
    /// [(s, n, hex(seeded(data[s:s + n]))) for s in (1, 3, 7) for n in (1000, 4099)]
    /// ```
    #[test]
    fn crc32_matches_python_zlib_vectors() {
        let data = pattern(131_071);
        for (len, expected) in [
            (0, 0x4477_7ED3),
            (1, 0xCD9C_1B9D),
            (3, 0x7EFF_D041),
            (15, 0x701F_F49C),
            (16, 0xE61C_2985),
            (17, 0xA655_213E),
            (31, 0x4BC9_1D69),
            (63, 0xD1F6_B208),
            (64, 0x426C_04AE),
            (127, 0xD7C2_C8AC),
            (128, 0x80BD_CF73),
            (129, 0x3D57_4268),
            (255, 0x5316_036E),
            (1000, 0xD23E_292B),
            (1024, 0xD2AB_C4A5),
            (2047, 0x4D2A_6AC7),
            (2048, 0xE7FA_6D1D),
            (2049, 0xB1E3_7939),
            (4095, 0xC11E_C64D),
            (4096, 0xEA1B_338F),
            (65536, 0xACB5_5407),
            (131_071, 0xC22D_5F84),
        ] {
            assert_eq!(crc32(&data[..len]), expected, "len {len}");
        }
        for (start, len, expected) in [
            (1, 1000, 0x41E7_EF5C),
            (3, 1000, 0xA382_C5AD),
            (7, 1000, 0x8255_A8FA),
            (1, 4099, 0x4B60_B249),
            (3, 4099, 0xC9E3_324A),
            (7, 4099, 0x3805_9A8E),
        ] {
            assert_eq!(
                crc32(&data[start..start + len]),
                expected,
                "start {start} len {len}"
            );
        }
    }

    /// Bit-at-a-time reflected CRC-32 straight from the definition.
    fn crc32_bitwise(bytes: &[u8]) -> u32 {
        !crc32_update_bitwise(0xFFFF_FFFF, bytes)
    }

    #[test]
    fn crc32_matches_bitwise_definition() {
        let data = pattern(5000);
        for len in (0..=40).chain([63, 64, 65, 255, 256, 257, 999, 1000, 2048, 2100, 4500]) {
            for start in 0..3 {
                let slice = &data[start..start + len];
                assert_eq!(
                    crc32_ieee(slice),
                    crc32_bitwise(slice),
                    "len {len} start {start}"
                );
                let mut seeded = CRC32_SEED_BYTES.to_vec();
                seeded.extend_from_slice(slice);
                assert_eq!(
                    crc32(slice),
                    crc32_bitwise(&seeded),
                    "len {len} start {start}"
                );
            }
        }
    }

    #[test]
    fn crc24_check_value() {
        // Computed with an independent python bit-at-a-time implementation of v5 §2.1.
        assert_eq!(crc24(b"123456789"), 0x4B3F02);
        assert_eq!(crc24(b""), CRC24_INIT);
    }

    /// Every uncompressed header value (17-bit length, self-contained flag, and the padding
    /// bits set), and a spread of lz4 header values, against the bit-at-a-time definition.
    #[test]
    fn crc24_of_headers_matches_bitwise_definition() {
        for v in (0u32..1 << 18).chain([0xFC_0000, 0xFF_FFFF, 0x80_0001]) {
            let b = v.to_le_bytes();
            assert_eq!(crc24(&b[..3]), crc24_bitwise(&b[..3]), "{v:#x}");
        }
        let mut state = 1u64;
        for _ in 0..200_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let b = (state >> 24).to_le_bytes();
            assert_eq!(crc24(&b[..5]), crc24_bitwise(&b[..5]), "{b:?}");
        }
        for len in 0..=8 {
            let zeros = [0u8; 8];
            assert_eq!(crc24(&zeros[..len]), crc24_bitwise(&zeros[..len]), "{len}");
        }
    }

    #[test]
    fn crc24_table_matches_bitwise_definition() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in [0, 1, 3, 5, 8, 100, data.len()] {
            assert_eq!(
                crc24(&data[..len]),
                crc24_bitwise(&data[..len]),
                "len {len}"
            );
            assert!(crc24(&data[..len]) <= CRC24_MASK);
        }
    }
}
