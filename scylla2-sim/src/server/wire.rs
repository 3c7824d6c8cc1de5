//! Wire level: envelope headers, v5 segments and v4 body compression.
//!
//! Every length read here is checked before it is used: negative or oversized lengths are
//! typed errors, and no buffer is allocated from an unchecked size. Segment CRCs are computed
//! with `cassandra_protocol::crc`; segments are written with the crate's frame encoders. The
//! crate's own segment *decoder* trusts the envelope lengths inside the payload (and panics on
//! negative ones), so segments are parsed here and only validated bytes go further.

use std::ops::Range;

use cassandra_protocol::compression::Compression;
use cassandra_protocol::crc::{crc24, crc32};
use cassandra_protocol::frame::frame_encoder::{
    FrameEncoder, Lz4FrameEncoder, UncompressedFrameEncoder,
};

/// Length of an envelope header.
pub(crate) const HEADER_LEN: usize = 9;
/// Largest accepted envelope body (Cassandra's default `native_transport_max_frame_size`).
pub(crate) const MAX_BODY: usize = 16 << 20;

/// Request flag: body compressed (v4).
pub(crate) const FLAG_COMPRESSION: u8 = 0x01;
/// Flag: tracing requested (request) / tracing id present (response).
pub(crate) const FLAG_TRACING: u8 = 0x02;
/// Request flag: custom payload precedes the body.
pub(crate) const FLAG_CUSTOM_PAYLOAD: u8 = 0x04;
/// Envelope flag: the body starts with the server's warnings (v4+).
pub(crate) const FLAG_WARNING: u8 = 0x08;

/// A malformed frame or segment. Each one ends the connection it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// A negative or oversized body length.
    #[error("invalid envelope body length {0}")]
    BadLength(i64),
    /// The header CRC24 of a v5 segment does not match.
    #[error("segment header CRC mismatch")]
    SegmentHeaderCrc,
    /// The payload CRC32 of a v5 segment does not match.
    #[error("segment payload CRC mismatch")]
    SegmentPayloadCrc,
    /// A self-contained segment does not hold whole envelopes.
    #[error("self-contained segment holds a partial envelope")]
    PartialEnvelope,
    /// A self-contained segment arrived while a large envelope was incomplete.
    #[error("self-contained segment while a large envelope is incomplete")]
    UnexpectedSelfContained,
    /// Decompression failed or announced too large a result.
    #[error("decompression failed: {0}")]
    Decompress(String),
}

/// An envelope header as received (version byte still carries the direction bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawHeader {
    /// Raw version byte.
    pub version_byte: u8,
    /// Flags.
    pub flags: u8,
    /// Stream id.
    pub stream: i16,
    /// Opcode byte.
    pub opcode: u8,
    /// Body length (validated: 0..=MAX_BODY).
    pub body_len: usize,
}

impl RawHeader {
    /// Protocol version number.
    pub fn version(&self) -> u8 {
        self.version_byte & 0x7f
    }
}

/// Parses the header at the start of `buf`; `Ok(None)` when fewer than 9 bytes are there.
pub(crate) fn parse_header(buf: &[u8]) -> Result<Option<RawHeader>, WireError> {
    let Some(h) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let len = i32::from_be_bytes([h[5], h[6], h[7], h[8]]);
    if len < 0 || len as usize > MAX_BODY {
        return Err(WireError::BadLength(len.into()));
    }
    Ok(Some(RawHeader {
        version_byte: h[0],
        flags: h[1],
        stream: i16::from_be_bytes([h[2], h[3]]),
        opcode: h[4],
        body_len: len as usize,
    }))
}

/// Where a decoded segment's payload is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Payload {
    /// Uncompressed: this range of the input buffer.
    Range(Range<usize>),
    /// Decompressed bytes.
    Owned(Vec<u8>),
}

/// A decoded v5 segment.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Bytes of input consumed.
    pub consumed: usize,
    /// Self-contained flag.
    pub self_contained: bool,
    /// The payload.
    pub payload: Payload,
}

fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// Decodes the v5 segment at the start of `buf`; `Ok(None)` when incomplete.
pub(crate) fn decode_segment(buf: &[u8], lz4: bool) -> Result<Option<Segment>, WireError> {
    if lz4 {
        let Some(h) = buf.get(..8) else {
            return Ok(None);
        };
        let header = le(&h[..5]);
        if crc24(&h[..5]) as u64 != le(&h[5..8]) {
            return Err(WireError::SegmentHeaderCrc);
        }
        let compressed = (header & 0x1ffff) as usize;
        let uncompressed = ((header >> 17) & 0x1ffff) as usize;
        let self_contained = header & (1 << 34) != 0;
        let end = 8 + compressed;
        let Some(trailer) = buf.get(end..end + 4) else {
            return Ok(None);
        };
        let payload = &buf[8..end];
        if crc32(payload) as u64 != le(trailer) {
            return Err(WireError::SegmentPayloadCrc);
        }
        let payload = if uncompressed == 0 {
            Payload::Range(8..end)
        } else {
            let out = lz4_flex::block::decompress(payload, uncompressed)
                .map_err(|e| WireError::Decompress(e.to_string()))?;
            if out.len() != uncompressed {
                return Err(WireError::Decompress("length mismatch".into()));
            }
            Payload::Owned(out)
        };
        Ok(Some(Segment {
            consumed: end + 4,
            self_contained,
            payload,
        }))
    } else {
        let Some(h) = buf.get(..6) else {
            return Ok(None);
        };
        let header = le(&h[..3]);
        if crc24(&h[..3]) as u64 != le(&h[3..6]) {
            return Err(WireError::SegmentHeaderCrc);
        }
        let len = (header & 0x1ffff) as usize;
        let self_contained = header & (1 << 17) != 0;
        let end = 6 + len;
        let Some(trailer) = buf.get(end..end + 4) else {
            return Ok(None);
        };
        if crc32(&buf[6..end]) as u64 != le(trailer) {
            return Err(WireError::SegmentPayloadCrc);
        }
        Ok(Some(Segment {
            consumed: end + 4,
            self_contained,
            payload: Payload::Range(6..end),
        }))
    }
}

/// Wraps outgoing envelopes into v5 segments (through the crate's frame encoders).
pub(crate) struct SegmentWriter {
    lz4: bool,
    plain: UncompressedFrameEncoder,
    compressed: Lz4FrameEncoder,
}

impl SegmentWriter {
    /// A writer for uncompressed or lz4 segments.
    pub fn new(lz4: bool) -> Self {
        SegmentWriter {
            lz4,
            plain: UncompressedFrameEncoder::default(),
            compressed: Lz4FrameEncoder::default(),
        }
    }

    fn encoder(&mut self) -> &mut dyn FrameEncoder {
        if self.lz4 {
            &mut self.compressed
        } else {
            &mut self.plain
        }
    }

    /// Appends `envelopes` (whole envelopes back to back, as this server wrote them) to `out`
    /// as segments: self-contained ones holding as many whole envelopes as fit, and for an
    /// envelope larger than a segment, a run of non-self-contained ones.
    pub fn write(&mut self, envelopes: &[u8], out: &mut Vec<u8>) {
        let mut pos = 0;
        while pos < envelopes.len() {
            // Group whole envelopes that fit together in one segment.
            let mut end = pos;
            while end < envelopes.len() {
                let len = envelope_len(&envelopes[end..]);
                if !self.encoder().can_fit(end + len - pos) {
                    break;
                }
                end += len;
            }
            let enc = self.encoder();
            if end > pos {
                enc.add_envelope(envelopes[pos..end].to_vec());
                out.extend_from_slice(enc.finalize_self_contained());
                enc.reset();
                pos = end;
            } else {
                // One envelope too large for a segment.
                let len = envelope_len(&envelopes[pos..]);
                let big = &envelopes[pos..pos + len];
                let mut done = 0;
                while done < big.len() {
                    let (n, bytes) = enc.finalize_non_self_contained(&big[done..]);
                    out.extend_from_slice(bytes);
                    enc.reset();
                    done += n.max(1);
                }
                pos += len;
            }
        }
    }
}

/// Length of the (trusted, server-written) envelope at the start of `buf`, clamped to it.
/// A RESULT envelope header of protocol `version` for `stream` announcing `claimed` body
/// bytes (fault injection: the body never follows).
pub(crate) fn stalled_envelope_header(version: u8, stream: i16, claimed: u32) -> Vec<u8> {
    let mut h = vec![0x80 | version, 0];
    h.extend_from_slice(&stream.to_be_bytes());
    h.push(0x08);
    h.extend_from_slice(&claimed.to_be_bytes());
    h
}

/// An uncompressed, self-contained v5 segment header announcing `claimed` payload bytes
/// (at most 131 071; fault injection: the payload never follows).
pub(crate) fn stalled_segment_header(claimed: u32) -> Vec<u8> {
    let header = (u64::from(claimed) & 0x1ffff) | (1 << 17);
    let bytes = header.to_le_bytes();
    let crc = crc24(&bytes[..3]) as u32;
    let mut h = bytes[..3].to_vec();
    h.extend_from_slice(&crc.to_le_bytes()[..3]);
    h
}

fn envelope_len(buf: &[u8]) -> usize {
    match parse_header(buf) {
        Ok(Some(h)) => (HEADER_LEN + h.body_len).min(buf.len()),
        _ => buf.len(),
    }
}

/// Decompresses a v4 envelope body, refusing announced sizes over [`MAX_BODY`] before any
/// allocation.
pub(crate) fn decompress_body(compression: Compression, body: &[u8]) -> Result<Vec<u8>, WireError> {
    match compression {
        Compression::Lz4 => {
            let Some(prefix) = body.get(..4) else {
                return Err(WireError::Decompress(
                    "lz4 body shorter than 4 bytes".into(),
                ));
            };
            let size = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
            if size < 0 || size as usize > MAX_BODY {
                return Err(WireError::Decompress(format!("announced size {size}")));
            }
        }
        Compression::Snappy => {
            let size = snap::raw::decompress_len(body)
                .map_err(|e| WireError::Decompress(e.to_string()))?;
            if size > MAX_BODY {
                return Err(WireError::Decompress(format!("announced size {size}")));
            }
        }
        Compression::None => return Ok(body.to_vec()),
    }
    compression
        .decode(body.to_vec())
        .map_err(|e| WireError::Decompress(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rejects_negative_and_huge_lengths() {
        let mut h = [0x04u8, 0, 0, 1, 0x07, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(parse_header(&h), Err(WireError::BadLength(-1)));
        h[5..9].copy_from_slice(&(MAX_BODY as i32 + 1).to_be_bytes());
        assert!(matches!(parse_header(&h), Err(WireError::BadLength(_))));
        assert_eq!(parse_header(&h[..8]), Ok(None));
        h[5..9].copy_from_slice(&5i32.to_be_bytes());
        let got = parse_header(&h).unwrap().unwrap();
        assert_eq!(
            (got.version(), got.stream, got.opcode, got.body_len),
            (4, 1, 7, 5)
        );
    }

    #[test]
    fn stalled_headers_announce_what_never_comes() {
        let h = stalled_envelope_header(4, 7, 1_000_000);
        let parsed = parse_header(&h).unwrap().unwrap();
        assert_eq!((parsed.stream, parsed.opcode), (7, 0x08));
        assert_eq!(parsed.body_len, 1_000_000);
        // A valid segment header (its CRC24 checks) whose payload is still to come.
        let s = stalled_segment_header(100_000);
        assert_eq!(s.len(), 6);
        assert!(decode_segment(&s, false).unwrap().is_none());
    }

    fn envelope(stream: i16, body_len: usize) -> Vec<u8> {
        let mut v = vec![0x85, 0];
        v.extend_from_slice(&stream.to_be_bytes());
        v.push(0x08);
        v.extend_from_slice(&(body_len as i32).to_be_bytes());
        v.extend((0..body_len).map(|i| (i % 251) as u8));
        v
    }

    fn roundtrip(lz4: bool, envelopes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        SegmentWriter::new(lz4).write(envelopes, &mut out);
        let mut pos = 0;
        let mut got = Vec::new();
        while pos < out.len() {
            let seg = decode_segment(&out[pos..], lz4).unwrap().unwrap();
            match seg.payload {
                Payload::Range(r) => got.extend_from_slice(&out[pos..][r]),
                Payload::Owned(v) => got.extend_from_slice(&v),
            }
            pos += seg.consumed;
        }
        got
    }

    #[test]
    fn segments_roundtrip_small_and_large() {
        for lz4 in [false, true] {
            let mut many = envelope(1, 10);
            many.extend(envelope(2, 0));
            many.extend(envelope(3, 300_000));
            many.extend(envelope(4, 7));
            assert_eq!(roundtrip(lz4, &many), many);
        }
    }

    #[test]
    fn uncompressed_segment_by_hand() {
        // Payload "abc", self-contained: header value = 3 | 1 << 17.
        let h: u32 = 3 | (1 << 17);
        let hb = h.to_le_bytes();
        let crc = crc24(&hb[..3]) as u32;
        let mut seg = hb[..3].to_vec();
        seg.extend_from_slice(&crc.to_le_bytes()[..3]);
        seg.extend_from_slice(b"abc");
        seg.extend_from_slice(&crc32(b"abc").to_le_bytes());
        let got = decode_segment(&seg, false).unwrap().unwrap();
        assert_eq!(got.consumed, 13);
        assert!(got.self_contained);
        assert_eq!(got.payload, Payload::Range(6..9));
        assert_eq!(decode_segment(&seg[..12], false), Ok(None));
        seg[7] ^= 1;
        assert_eq!(
            decode_segment(&seg, false),
            Err(WireError::SegmentPayloadCrc)
        );
        seg[0] ^= 1;
        assert_eq!(
            decode_segment(&seg, false),
            Err(WireError::SegmentHeaderCrc)
        );
    }

    #[test]
    fn v4_decompression_checks_sizes() {
        let body = Compression::Lz4.encode(b"hello hello hello").unwrap();
        assert_eq!(
            decompress_body(Compression::Lz4, &body).unwrap(),
            b"hello hello hello"
        );
        let mut bad = body.clone();
        bad[..4].copy_from_slice(&(-5i32).to_be_bytes());
        assert!(decompress_body(Compression::Lz4, &bad).is_err());
        bad[..4].copy_from_slice(&i32::MAX.to_be_bytes());
        assert!(decompress_body(Compression::Lz4, &bad).is_err());
        assert!(decompress_body(Compression::Lz4, &[1, 2]).is_err());
        let s = Compression::Snappy.encode(b"snappy snappy").unwrap();
        assert_eq!(
            decompress_body(Compression::Snappy, &s).unwrap(),
            b"snappy snappy"
        );
        assert!(decompress_body(Compression::Snappy, &[0xff, 0xff, 0xff, 0xff, 0x7f]).is_err());
    }
}
