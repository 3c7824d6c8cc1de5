//! v5 segments ("frames" in the v5 spec, §2.1–§2.3): the outer framing that carries envelopes
//! after the STARTUP handshake. This module owns the segment header layouts, the payload
//! trailer, and encoding (whole segments, in-place sealing, and packing/splitting a run of
//! envelopes into segments). Decoding is in [`super::decoder`].
//!
//! Layouts (all integers little-endian, v5 §1):
//!
//! - uncompressed (§2.1): 3 header bytes holding a 24-bit integer: payload length in bits
//!   0–16, self-contained flag in bit 17, padding; then the CRC24 of those 3 bytes (3 bytes).
//!   6 bytes in all.
//! - lz4 (§2.2): 5 header bytes holding a 40-bit integer: compressed length in bits 0–16,
//!   uncompressed length in bits 17–33, self-contained flag in bit 34, padding; then the CRC24
//!   of those 5 bytes (3 bytes). 8 bytes in all. An uncompressed length of 0 means the payload
//!   is sent as is (§2.2). The lz4 payload is a raw lz4 block without a length prefix.
//!
//! Both are followed by the payload and its CRC32 (4 bytes; see [`super::crc`] for the seed
//! bytes real servers use).

use bytes::{BufMut, BytesMut};

use super::crc::{crc24, crc32};
use super::error::{CrcKind, FrameError, SegmentError};
use super::header::HEADER_SIZE;

/// Largest payload of one segment: 2^17 - 1 bytes (v5 §2.1, 17-bit length field).
pub const MAX_SEGMENT_PAYLOAD: usize = (1 << 17) - 1;
/// Header size of the uncompressed format (v5 §2.1).
pub const UNCOMPRESSED_HEADER_SIZE: usize = 6;
/// Header size of the lz4 format (v5 §2.2).
pub const LZ4_HEADER_SIZE: usize = 8;
/// Size of the CRC32 payload trailer.
pub const TRAILER_SIZE: usize = 4;

const LEN_MASK: u64 = MAX_SEGMENT_PAYLOAD as u64;

/// The segment format of a v5 connection, fixed by the STARTUP `COMPRESSION` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SegmentFormat {
    /// No compression negotiated: 6-byte headers (v5 §2.1).
    Uncompressed,
    /// lz4 negotiated: 8-byte headers, each payload compressed or not (v5 §2.2).
    Lz4,
}

impl SegmentFormat {
    /// Header size in this format.
    pub const fn header_size(self) -> usize {
        match self {
            Self::Uncompressed => UNCOMPRESSED_HEADER_SIZE,
            Self::Lz4 => LZ4_HEADER_SIZE,
        }
    }

    /// Upper bound of the encoded size of a segment carrying `payload_len` bytes: header +
    /// payload + trailer (lz4 never makes it larger, since an incompressible payload is sent
    /// as is).
    pub const fn max_encoded_len(self, payload_len: usize) -> usize {
        self.header_size() + payload_len + TRAILER_SIZE
    }
}

/// A decoded, CRC-checked segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Payload bytes on the wire (compressed length when compressed).
    pub payload_len: usize,
    /// Uncompressed length of an lz4-compressed payload; 0 when the payload is sent as is
    /// (always 0 in the uncompressed format).
    pub uncompressed_len: usize,
    /// Whether the payload holds only whole envelopes.
    pub self_contained: bool,
}

impl SegmentHeader {
    /// Total bytes of the segment on the wire (header + payload + trailer).
    pub const fn segment_len(&self, format: SegmentFormat) -> usize {
        format.header_size() + self.payload_len + TRAILER_SIZE
    }

    /// Decodes and checks a header from the first [`SegmentFormat::header_size`] bytes of
    /// `buf`; returns `Ok(None)` when `buf` is shorter than that.
    pub fn decode(format: SegmentFormat, buf: &[u8]) -> Result<Option<Self>, FrameError> {
        let n = format.header_size() - 3;
        let Some(head) = buf.get(..n + 3) else {
            return Ok(None);
        };
        let (fields, crc) = head.split_at(n);
        let received = u32::from_le_bytes([crc[0], crc[1], crc[2], 0]);
        let computed = crc24(fields);
        if received != computed {
            return Err(FrameError::CrcMismatch {
                kind: CrcKind::Header24,
                received,
                computed,
            });
        }
        let mut raw = [0u8; 8];
        raw[..n].copy_from_slice(fields);
        let v = u64::from_le_bytes(raw);
        Ok(Some(match format {
            SegmentFormat::Uncompressed => Self {
                payload_len: (v & LEN_MASK) as usize,
                uncompressed_len: 0,
                self_contained: v & (1 << 17) != 0,
            },
            SegmentFormat::Lz4 => Self {
                payload_len: (v & LEN_MASK) as usize,
                uncompressed_len: ((v >> 17) & LEN_MASK) as usize,
                self_contained: v & (1 << 34) != 0,
            },
        }))
    }
}

fn check_len(len: usize) -> Result<u64, SegmentError> {
    if len > MAX_SEGMENT_PAYLOAD {
        Err(SegmentError::PayloadTooLarge(len))
    } else {
        Ok(len as u64)
    }
}

/// The 6 header bytes of an uncompressed-format segment (v5 §2.1).
pub fn uncompressed_header(
    payload_len: usize,
    self_contained: bool,
) -> Result<[u8; UNCOMPRESSED_HEADER_SIZE], SegmentError> {
    let v = check_len(payload_len)? | (u64::from(self_contained) << 17);
    let b = v.to_le_bytes();
    let crc = crc24(&b[..3]).to_le_bytes();
    Ok([b[0], b[1], b[2], crc[0], crc[1], crc[2]])
}

/// The 8 header bytes of an lz4-format segment (v5 §2.2). `uncompressed_len` is 0 when the
/// payload is sent uncompressed (then `payload_len` is its plain length).
pub fn lz4_header(
    payload_len: usize,
    uncompressed_len: usize,
    self_contained: bool,
) -> Result<[u8; LZ4_HEADER_SIZE], SegmentError> {
    let v = check_len(payload_len)?
        | (check_len(uncompressed_len)? << 17)
        | (u64::from(self_contained) << 34);
    let b = v.to_le_bytes();
    let crc = crc24(&b[..5]).to_le_bytes();
    Ok([b[0], b[1], b[2], b[3], b[4], crc[0], crc[1], crc[2]])
}

/// The 4 trailer bytes following `payload` (its CRC32, little-endian). For an lz4-compressed
/// segment `payload` is the compressed bytes (v5 §2.2).
#[inline]
pub fn trailer(payload: &[u8]) -> [u8; TRAILER_SIZE] {
    crc32(payload).to_le_bytes()
}

/// Appends one segment carrying `payload` to `out`. With [`SegmentFormat::Lz4`] the payload
/// is compressed when that makes it smaller and sent as is otherwise (v5 §2.2, §2.3.2).
pub fn encode_segment(
    payload: &[u8],
    self_contained: bool,
    format: SegmentFormat,
    out: &mut BytesMut,
) -> Result<(), SegmentError> {
    check_len(payload.len())?;
    match format {
        SegmentFormat::Uncompressed => {
            out.reserve(format.max_encoded_len(payload.len()));
            out.put_slice(&uncompressed_header(payload.len(), self_contained)?);
            out.put_slice(payload);
            out.put_slice(&trailer(payload));
        }
        SegmentFormat::Lz4 => {
            let start = out.len();
            let body = start + LZ4_HEADER_SIZE;
            let bound = lz4_flex::block::get_maximum_output_size(payload.len());
            out.resize(body + bound, 0);
            let compressed = match lz4_flex::block::compress_into(payload, &mut out[body..]) {
                Ok(n) if n < payload.len() => Some(n),
                // Not smaller (or, impossibly, did not fit): send as is.
                _ => None,
            };
            match compressed {
                Some(n) => {
                    out.truncate(body + n);
                    let header = lz4_header(n, payload.len(), self_contained)?;
                    out[start..body].copy_from_slice(&header);
                    let t = trailer(&out[body..]);
                    out.put_slice(&t);
                }
                None => {
                    out.truncate(start);
                    out.put_slice(&lz4_header(payload.len(), 0, self_contained)?);
                    out.put_slice(payload);
                    out.put_slice(&trailer(payload));
                }
            }
        }
    }
    Ok(())
}

/// Seals an uncompressed-format segment written in place: `buf[header_at..header_at + 6]` is
/// a reserved header slot and everything after it is the payload (envelopes serialized
/// straight into the buffer). Fills the header and appends the trailer.
pub fn seal_uncompressed_segment(
    buf: &mut BytesMut,
    header_at: usize,
    self_contained: bool,
) -> Result<(), SegmentError> {
    let body = header_slot(buf, header_at, UNCOMPRESSED_HEADER_SIZE)?;
    let header = uncompressed_header(buf.len() - body, self_contained)?;
    buf[header_at..body].copy_from_slice(&header);
    let t = trailer(&buf[body..]);
    buf.put_slice(&t);
    Ok(())
}

/// Seals an lz4-format segment written in place, like [`seal_uncompressed_segment`] with an
/// 8-byte header slot. The payload is compressed through `scratch` (reused between calls, so
/// steady state does not allocate) and replaces the plain payload when smaller.
pub fn seal_lz4_segment(
    buf: &mut BytesMut,
    header_at: usize,
    self_contained: bool,
    scratch: &mut Vec<u8>,
) -> Result<(), SegmentError> {
    let body = header_slot(buf, header_at, LZ4_HEADER_SIZE)?;
    let len = check_len(buf.len() - body)? as usize;
    // The compressor overwrites what it uses, so `scratch` is only grown (zero-filled once),
    // never cleared and refilled per segment.
    let bound = lz4_flex::block::get_maximum_output_size(len);
    if scratch.len() < bound {
        scratch.resize(bound, 0);
    }
    let header = match lz4_flex::block::compress_into(&buf[body..], &mut scratch[..bound]) {
        Ok(n) if n < len => {
            buf.truncate(body);
            buf.put_slice(&scratch[..n]);
            lz4_header(n, len, self_contained)?
        }
        _ => lz4_header(len, 0, self_contained)?,
    };
    buf[header_at..body].copy_from_slice(&header);
    let t = trailer(&buf[body..]);
    buf.put_slice(&t);
    Ok(())
}

fn header_slot(buf: &BytesMut, at: usize, size: usize) -> Result<usize, SegmentError> {
    match at.checked_add(size) {
        Some(body) if body <= buf.len() => Ok(body),
        _ => Err(SegmentError::BadHeaderSlot { at, len: buf.len() }),
    }
}

/// Encodes a run of whole envelopes serialized back to back in `envelopes` (each a 9-byte
/// header and its body) as segments appended to `out`, and returns how many segments it wrote.
///
/// Consecutive envelopes are packed into self-contained segments of at most
/// [`MAX_SEGMENT_PAYLOAD`] bytes; an envelope larger than that gets segments of its own, none
/// of them self-contained (v5 §1).
pub fn encode_envelopes(
    envelopes: &[u8],
    format: SegmentFormat,
    out: &mut BytesMut,
) -> Result<usize, SegmentError> {
    let mut segments = 0;
    let mut pack_start = 0;
    let mut offset = 0;
    while offset < envelopes.len() {
        let remaining = envelopes.len() - offset;
        let size = match envelopes.get(offset + 5..offset + HEADER_SIZE) {
            Some(b) => HEADER_SIZE as u64 + u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            None => HEADER_SIZE as u64,
        };
        if size > remaining as u64 {
            return Err(SegmentError::TruncatedEnvelope {
                offset,
                needed: size,
                remaining,
            });
        }
        let size = size as usize;
        if size > MAX_SEGMENT_PAYLOAD {
            if pack_start < offset {
                encode_segment(&envelopes[pack_start..offset], true, format, out)?;
                segments += 1;
            }
            for chunk in envelopes[offset..offset + size].chunks(MAX_SEGMENT_PAYLOAD) {
                encode_segment(chunk, false, format, out)?;
                segments += 1;
            }
            offset += size;
            pack_start = offset;
        } else {
            if offset + size - pack_start > MAX_SEGMENT_PAYLOAD {
                encode_segment(&envelopes[pack_start..offset], true, format, out)?;
                segments += 1;
                pack_start = offset;
            }
            offset += size;
        }
    }
    if pack_start < envelopes.len() {
        encode_segment(&envelopes[pack_start..], true, format, out)?;
        segments += 1;
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bit_layout() {
        let h = uncompressed_header(MAX_SEGMENT_PAYLOAD, true).unwrap();
        assert_eq!(&h[..3], &[0xff, 0xff, 0x03]);
        let d = SegmentHeader::decode(SegmentFormat::Uncompressed, &h)
            .unwrap()
            .unwrap();
        assert_eq!(d.payload_len, MAX_SEGMENT_PAYLOAD);
        assert!(d.self_contained);

        let h = lz4_header(1, MAX_SEGMENT_PAYLOAD, true).unwrap();
        // 1 | (0x1ffff << 17) | (1 << 34)
        assert_eq!(&h[..5], &[0x01, 0x00, 0xfe, 0xff, 0x07]);
        let d = SegmentHeader::decode(SegmentFormat::Lz4, &h)
            .unwrap()
            .unwrap();
        assert_eq!(
            d,
            SegmentHeader {
                payload_len: 1,
                uncompressed_len: MAX_SEGMENT_PAYLOAD,
                self_contained: true
            }
        );
        assert_eq!(
            uncompressed_header(MAX_SEGMENT_PAYLOAD + 1, false),
            Err(SegmentError::PayloadTooLarge(MAX_SEGMENT_PAYLOAD + 1))
        );
        assert!(
            SegmentHeader::decode(SegmentFormat::Lz4, &h[..7])
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn header_crc_is_checked() {
        let mut h = uncompressed_header(10, false).unwrap();
        h[0] ^= 1;
        assert!(matches!(
            SegmentHeader::decode(SegmentFormat::Uncompressed, &h),
            Err(FrameError::CrcMismatch {
                kind: CrcKind::Header24,
                ..
            })
        ));
    }

    #[test]
    fn lz4_falls_back_to_plain_when_not_smaller() {
        let mut out = BytesMut::new();
        encode_segment(b"abc", true, SegmentFormat::Lz4, &mut out).unwrap();
        let d = SegmentHeader::decode(SegmentFormat::Lz4, &out)
            .unwrap()
            .unwrap();
        assert_eq!(d.uncompressed_len, 0);
        assert_eq!(d.payload_len, 3);
        assert_eq!(&out[8..11], b"abc");
        assert_eq!(out.len(), 8 + 3 + 4);
    }

    #[test]
    fn in_place_sealing_matches_encode_segment() {
        let payload: Vec<u8> = (0..3000u32).map(|i| (i % 13) as u8).collect();
        for (format, size) in [(SegmentFormat::Uncompressed, 6), (SegmentFormat::Lz4, 8)] {
            let mut expected = BytesMut::from(&b"xy"[..]);
            encode_segment(&payload, true, format, &mut expected).unwrap();
            let mut buf = BytesMut::from(&b"xy"[..]);
            buf.put_bytes(0, size);
            buf.put_slice(&payload);
            match format {
                SegmentFormat::Uncompressed => seal_uncompressed_segment(&mut buf, 2, true),
                SegmentFormat::Lz4 => seal_lz4_segment(&mut buf, 2, true, &mut Vec::new()),
            }
            .unwrap();
            assert_eq!(buf, expected, "{format:?}");
        }
        // A reused lz4 scratch keeps whatever the previous segments left in it (longer and
        // dirty): sealing must not depend on its contents.
        let mut scratch = vec![0xAA; 10_000];
        for payload in [&payload[..], &payload[..100], &[7u8; 40][..]] {
            let mut expected = BytesMut::new();
            encode_segment(payload, false, SegmentFormat::Lz4, &mut expected).unwrap();
            let mut buf = BytesMut::new();
            buf.put_bytes(0, LZ4_HEADER_SIZE);
            buf.put_slice(payload);
            seal_lz4_segment(&mut buf, 0, false, &mut scratch).unwrap();
            assert_eq!(buf, expected, "len {}", payload.len());
            let d = SegmentHeader::decode(SegmentFormat::Lz4, &buf)
                .unwrap()
                .unwrap();
            assert_eq!(d.uncompressed_len, payload.len(), "compressed");
            assert_eq!(scratch.len(), 10_000, "scratch not shrunk or regrown");
        }
        let mut buf = BytesMut::from(&b"xy"[..]);
        assert_eq!(
            seal_uncompressed_segment(&mut buf, 1, true),
            Err(SegmentError::BadHeaderSlot { at: 1, len: 2 })
        );
    }

    #[test]
    fn packs_small_and_splits_large_envelopes() {
        let mut envs = Vec::new();
        let small = [0x05, 0, 0, 1, 0x05, 0, 0, 0, 0];
        envs.extend_from_slice(&small);
        envs.extend_from_slice(&small);
        let big_body = 2 * MAX_SEGMENT_PAYLOAD;
        envs.extend_from_slice(&[0x05, 0, 0, 2, 0x07]);
        envs.extend_from_slice(&(big_body as u32).to_be_bytes());
        envs.resize(envs.len() + big_body, 7);
        envs.extend_from_slice(&small);
        let mut out = BytesMut::new();
        let n = encode_envelopes(&envs, SegmentFormat::Uncompressed, &mut out).unwrap();
        // [small small] [big 1/3] [big 2/3] [big 3/3] [small]
        assert_eq!(n, 5);
        let first = SegmentHeader::decode(SegmentFormat::Uncompressed, &out)
            .unwrap()
            .unwrap();
        assert!(first.self_contained);
        assert_eq!(first.payload_len, 18);
        let second = SegmentHeader::decode(SegmentFormat::Uncompressed, &out[28..])
            .unwrap()
            .unwrap();
        assert!(!second.self_contained);
        assert_eq!(second.payload_len, MAX_SEGMENT_PAYLOAD);

        assert_eq!(
            encode_envelopes(&small[..8], SegmentFormat::Lz4, &mut out),
            Err(SegmentError::TruncatedEnvelope {
                offset: 0,
                needed: 9,
                remaining: 8
            })
        );
    }
}
