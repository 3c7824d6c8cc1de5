//! The two checksums of v5 segment framing (v5 §2.1, §2.2): the CRC24 protecting a segment
//! header and the CRC32 protecting its payload. Both are table driven with tables computed at
//! compile time.
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
//!   them; [`crc32_ieee`] is the plain checksum (used to check the tables).

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

/// Slicing-by-8 tables for the reflected CRC-32: `CRC32_TABLES[0]` is the classic byte table,
/// and `CRC32_TABLES[k][i]` is the register contribution of byte `i` followed by `k` zero
/// bytes, so eight bytes are folded per step with eight independent lookups.
const CRC32_TABLES: [[u32; 256]; 8] = {
    let mut tables = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
            bit += 1;
        }
        tables[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = tables[k - 1][i];
            tables[k][i] = (prev >> 8) ^ tables[0][(prev & 0xFF) as usize];
            i += 1;
        }
        k += 1;
    }
    tables
};

/// CRC24 of `bytes` as v5 §2.1 defines it (used over the 3 or 5 header bytes).
pub const fn crc24(bytes: &[u8]) -> u32 {
    let mut crc = CRC24_INIT;
    let mut i = 0;
    while i < bytes.len() {
        let index = ((crc >> 16) ^ bytes[i] as u32) & 0xFF;
        crc = ((crc << 8) ^ CRC24_TABLE[index as usize]) & CRC24_MASK;
        i += 1;
    }
    crc
}

/// Feeds `bytes` to a CRC-32 register (not inverted at either end), eight bytes per step
/// (slicing-by-8), then the remaining tail one byte at a time.
const fn crc32_update(mut state: u32, bytes: &[u8]) -> u32 {
    let t = &CRC32_TABLES;
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let lo = state ^ u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let hi = u32::from_le_bytes([bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]]);
        state = t[7][(lo & 0xFF) as usize]
            ^ t[6][((lo >> 8) & 0xFF) as usize]
            ^ t[5][((lo >> 16) & 0xFF) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xFF) as usize]
            ^ t[2][((hi >> 8) & 0xFF) as usize]
            ^ t[1][((hi >> 16) & 0xFF) as usize]
            ^ t[0][(hi >> 24) as usize];
        i += 8;
    }
    while i < bytes.len() {
        state = (state >> 8) ^ t[0][((state ^ bytes[i] as u32) & 0xFF) as usize];
        i += 1;
    }
    state
}

/// The register after the seed bytes, computed once at compile time.
const CRC32_SEEDED_STATE: u32 = crc32_update(0xFFFF_FFFF, &CRC32_SEED_BYTES);

/// The plain CRC-32 (IEEE) of `bytes`, without the segment seed bytes.
pub const fn crc32_ieee(bytes: &[u8]) -> u32 {
    !crc32_update(0xFFFF_FFFF, bytes)
}

/// The CRC32 of a segment payload as real servers compute it: CRC-32 (IEEE) over the seed
/// bytes `FA 2D 55 CA` followed by `payload` (v5 §2.1 trailer; see the module documentation).
pub const fn crc32(payload: &[u8]) -> u32 {
    !crc32_update(CRC32_SEEDED_STATE, payload)
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
    }

    /// Bit-at-a-time reflected CRC-32, to check the slicing tables.
    fn crc32_bitwise(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn crc32_slicing_matches_bitwise_definition() {
        let data: Vec<u8> = (0..1000u32)
            .map(|i| (i.wrapping_mul(131) >> 3) as u8)
            .collect();
        for len in (0..=40).chain([63, 64, 65, 255, 256, 257, 999, 1000]) {
            for start in 0..3 {
                let slice = &data[start..start + len.min(data.len() - start)];
                assert_eq!(
                    crc32_ieee(slice),
                    crc32_bitwise(slice),
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
