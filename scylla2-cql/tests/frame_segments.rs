//! v5 segments against hand-written byte vectors, and the `SegmentDecoder`'s behaviour on
//! chunked input, packed and split envelopes, corruption and oversize envelopes.
//!
//! The vectors were computed outside this crate by this python script (zlib's CRC32 and a
//! bit-at-a-time CRC24 written from v5 §2.1), so a mistake in our CRC code cannot cancel
//! itself out:
//!
//! ```python
//! import zlib
//! def crc24(data):  # v5 §2.1: init 0x875060, polynomial 0x1974F0B
//!     crc = 0x875060
//!     for b in data:
//!         crc ^= b << 16
//!         for _ in range(8):
//!             crc <<= 1
//!             if crc & 0x1000000:
//!                 crc ^= 0x1974F0B
//!     return crc
//! def crc32(payload):  # Cassandra/Scylla seed the payload CRC32 with FA 2D 55 CA
//!     return zlib.crc32(bytes([0xFA, 0x2D, 0x55, 0xCA]) + payload) & 0xffffffff
//! def segment3(payload, sc):  # uncompressed format, v5 §2.1
//!     h = (len(payload) | sc << 17).to_bytes(3, "little")
//!     return h + crc24(h).to_bytes(3, "little") + payload + crc32(payload).to_bytes(4, "little")
//! def segment5(payload, ulen, sc):  # lz4 format, v5 §2.2
//!     h = (len(payload) | ulen << 17 | sc << 34).to_bytes(5, "little")
//!     return h + crc24(h).to_bytes(3, "little") + payload + crc32(payload).to_bytes(4, "little")
//! OPTIONS = bytes([0x05, 0, 0, 1, 0x05, 0, 0, 0, 0])
//! UNCOMPRESSED_OPTIONS = segment3(OPTIONS, 1)
//! UNCOMPRESSED_OPTIONS_NOT_SC = segment3(OPTIONS, 0)
//! UNCOMPRESSED_TWO = segment3(bytes([0x85,0,0,2,0x02,0,0,0,0, 0x85,0,0,3,0x08,0,0,0,4,0,0,0,1]), 1)
//! ENV = bytes([0x85, 0, 0, 7, 0x08, 0, 0, 0, 64]) + bytes(64)
//! BLOCK = bytes([0xAF]) + ENV[:10] + bytes([1, 0, 39]) + bytes([0x50]) + bytes(5)
//! LZ4_SEGMENT = segment5(BLOCK, len(ENV), 1)
//! LZ4_FORMAT_UNCOMPRESSED_OPTIONS = segment5(OPTIONS, 0, 1)
//! ```

use bytes::{BufMut, BytesMut};
use scylla2_cql::frame::{
    CrcKind, Envelope, FrameError, MAX_SEGMENT_PAYLOAD, Opcode, SegmentDecoder, SegmentFormat, crc,
    encode_envelopes, encode_segment, lz4_header, trailer, uncompressed_header,
};

const OPTIONS: [u8; 9] = [0x05, 0, 0, 1, 0x05, 0, 0, 0, 0];
#[rustfmt::skip]
const UNCOMPRESSED_OPTIONS: [u8; 19] = [0x09, 0x00, 0x02, 0xa4, 0xc8, 0xc1, 0x05, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0xb5, 0x55, 0x74, 0x86];
#[rustfmt::skip]
const UNCOMPRESSED_OPTIONS_NOT_SC: [u8; 19] = [0x09, 0x00, 0x00, 0xb9, 0x19, 0x78, 0x05, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0xb5, 0x55, 0x74, 0x86];
#[rustfmt::skip]
const UNCOMPRESSED_TWO: [u8; 32] = [0x16, 0x00, 0x02, 0x9d, 0x04, 0xf9, 0x85, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x85, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0xc9, 0x9c, 0xc8, 0xd6];
#[rustfmt::skip]
const LZ4_SEGMENT: [u8; 32] = [0x14, 0x00, 0x92, 0x00, 0x04, 0x81, 0x58, 0xec, 0xaf, 0x85, 0x00, 0x00, 0x07, 0x08, 0x00, 0x00, 0x00, 0x40, 0x00, 0x01, 0x00, 0x27, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb8, 0xf5, 0xd6, 0xa8];
#[rustfmt::skip]
const LZ4_FORMAT_UNCOMPRESSED_OPTIONS: [u8; 21] = [0x09, 0x00, 0x00, 0x00, 0x04, 0xc2, 0xb8, 0x95, 0x05, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0xb5, 0x55, 0x74, 0x86];

const MAX: usize = 1 << 20;

/// Feeds `wire` to a fresh decoder in `chunk`-byte pieces and collects every envelope.
fn decode_chunked(
    format: SegmentFormat,
    wire: &[u8],
    chunk: usize,
) -> Result<Vec<Envelope>, FrameError> {
    let mut decoder = SegmentDecoder::new(format, MAX);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in wire.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Some(env) = decoder.decode(&mut buf)? {
            out.push(env);
        }
        assert!(decoder.needed() > 0);
    }
    assert!(buf.is_empty(), "all bytes consumed");
    Ok(out)
}

fn decode_all(format: SegmentFormat, wire: &[u8]) -> Result<Vec<Envelope>, FrameError> {
    for chunk in [1, 2, 3, 5, 7] {
        decode_chunked(format, wire, chunk)?;
    }
    decode_chunked(format, wire, wire.len().max(1))
}

#[test]
fn crc_values_match_python() {
    assert_eq!(crc::crc24(b"123456789"), 0x4B3F02);
    assert_eq!(crc::crc32(b"123456789"), 0xE2A2_61A7);
    assert_eq!(crc::crc32_ieee(b"123456789"), 0xCBF4_3926);
}

#[test]
fn encoder_produces_the_python_vectors() {
    let mut out = BytesMut::new();
    encode_segment(&OPTIONS, true, SegmentFormat::Uncompressed, &mut out).unwrap();
    assert_eq!(&out[..], &UNCOMPRESSED_OPTIONS[..]);
    out.clear();
    encode_segment(&OPTIONS, false, SegmentFormat::Uncompressed, &mut out).unwrap();
    assert_eq!(&out[..], &UNCOMPRESSED_OPTIONS_NOT_SC[..]);
    out.clear();
    encode_segment(
        &UNCOMPRESSED_TWO[6..28],
        true,
        SegmentFormat::Uncompressed,
        &mut out,
    )
    .unwrap();
    assert_eq!(&out[..], &UNCOMPRESSED_TWO[..]);
    // 9 bytes do not compress: sent as is with uncompressed length 0.
    out.clear();
    encode_segment(&OPTIONS, true, SegmentFormat::Lz4, &mut out).unwrap();
    assert_eq!(&out[..], &LZ4_FORMAT_UNCOMPRESSED_OPTIONS[..]);
    // The header/trailer helpers give the same bytes.
    assert_eq!(
        uncompressed_header(9, true).unwrap(),
        UNCOMPRESSED_OPTIONS[..6]
    );
    assert_eq!(lz4_header(20, 73, true).unwrap(), LZ4_SEGMENT[..8]);
    assert_eq!(trailer(&OPTIONS), UNCOMPRESSED_OPTIONS[15..]);
}

#[test]
fn decodes_the_python_vectors_in_any_chunking() {
    let envs = decode_all(SegmentFormat::Uncompressed, &UNCOMPRESSED_OPTIONS).unwrap();
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0].header.opcode, Opcode::Options);
    assert_eq!(envs[0].header.stream, 1);
    assert!(!envs[0].header.is_response);

    let envs = decode_all(SegmentFormat::Uncompressed, &UNCOMPRESSED_OPTIONS_NOT_SC).unwrap();
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0].header.opcode, Opcode::Options);

    let envs = decode_all(SegmentFormat::Uncompressed, &UNCOMPRESSED_TWO).unwrap();
    assert_eq!(envs.len(), 2);
    assert_eq!(
        (envs[0].header.stream, envs[0].header.opcode),
        (2, Opcode::Ready)
    );
    assert!(envs[0].body.is_empty());
    assert_eq!(
        (envs[1].header.stream, envs[1].header.opcode),
        (3, Opcode::Result)
    );
    assert_eq!(&envs[1].body[..], &[0, 0, 0, 1]);

    let envs = decode_all(SegmentFormat::Lz4, &LZ4_SEGMENT).unwrap();
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0].header.stream, 7);
    assert_eq!(&envs[0].body[..], &[0u8; 64][..]);

    let envs = decode_all(SegmentFormat::Lz4, &LZ4_FORMAT_UNCOMPRESSED_OPTIONS).unwrap();
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0].header.opcode, Opcode::Options);
}

#[test]
fn self_contained_envelopes_are_slices_of_the_read_buffer() {
    let mut buf = BytesMut::from(&UNCOMPRESSED_TWO[..]);
    let range = buf.as_ptr() as usize..buf.as_ptr() as usize + buf.len();
    let mut d = SegmentDecoder::new(SegmentFormat::Uncompressed, MAX);
    let a = d.decode(&mut buf).unwrap().unwrap();
    let b = d.decode(&mut buf).unwrap().unwrap();
    assert_eq!(d.decode(&mut buf).unwrap(), None);
    assert_eq!(b.body.as_ptr() as usize, range.start + 6 + 9 + 9);
    assert!(range.contains(&(a.body.as_ptr() as usize)));
}

#[test]
fn every_corrupted_byte_is_detected() {
    for (format, wire) in [
        (SegmentFormat::Uncompressed, &UNCOMPRESSED_TWO[..]),
        (SegmentFormat::Lz4, &LZ4_SEGMENT[..]),
    ] {
        let header = format.header_size();
        for i in 0..wire.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = wire.to_vec();
                bad[i] ^= bit;
                let mut d = SegmentDecoder::new(format, MAX);
                let mut buf = BytesMut::from(&bad[..]);
                let err = loop {
                    match d.decode(&mut buf) {
                        Ok(Some(_)) => continue,
                        Ok(None) => panic!("corruption at {i} not detected: {bad:02x?}"),
                        Err(e) => break e,
                    }
                };
                let expected = if i < header {
                    CrcKind::Header24
                } else {
                    CrcKind::Payload32
                };
                assert!(
                    matches!(err, FrameError::CrcMismatch { kind, .. } if kind == expected),
                    "byte {i}: {err:?}"
                );
            }
        }
    }
}

#[test]
fn self_contained_segment_with_partial_envelope() {
    // A RESULT header announcing 4 body bytes, only 2 present.
    let payload = [0x85, 0, 0, 3, 0x08, 0, 0, 0, 4, 0, 0];
    let mut wire = BytesMut::new();
    encode_segment(&payload, true, SegmentFormat::Uncompressed, &mut wire).unwrap();
    assert_eq!(
        decode_chunked(SegmentFormat::Uncompressed, &wire, 100),
        Err(FrameError::PartialEnvelopeInSelfContainedSegment {
            needed: 13,
            remaining: 11
        })
    );
    // Trailing bytes shorter than a header.
    let mut wire = BytesMut::new();
    encode_segment(&OPTIONS[..5], true, SegmentFormat::Uncompressed, &mut wire).unwrap();
    assert_eq!(
        decode_chunked(SegmentFormat::Uncompressed, &wire, 100),
        Err(FrameError::PartialEnvelopeInSelfContainedSegment {
            needed: 9,
            remaining: 5
        })
    );
}

#[test]
fn split_envelope_errors() {
    let big = {
        let mut e = vec![0x85, 0, 0, 4, 0x08];
        e.put_u32(200_000);
        e.resize(9 + 200_000, 0xAB);
        e
    };
    // A self-contained segment between the parts of a split envelope.
    let mut wire = BytesMut::new();
    encode_segment(&big[..1000], false, SegmentFormat::Uncompressed, &mut wire).unwrap();
    encode_segment(&OPTIONS, true, SegmentFormat::Uncompressed, &mut wire).unwrap();
    assert_eq!(
        decode_chunked(SegmentFormat::Uncompressed, &wire, 64),
        Err(FrameError::InterruptedSplitEnvelope {
            expected: Some(200_009),
            received: 1000
        })
    );
    // Non-self-contained segments carrying more than the envelope.
    let mut wire = BytesMut::new();
    encode_segment(&OPTIONS, false, SegmentFormat::Lz4, &mut wire).unwrap();
    assert!(decode_chunked(SegmentFormat::Lz4, &wire, 64).is_ok());
    let mut two = OPTIONS.to_vec();
    two.push(0);
    wire.clear();
    encode_segment(&two, false, SegmentFormat::Lz4, &mut wire).unwrap();
    assert_eq!(
        decode_chunked(SegmentFormat::Lz4, &wire, 64),
        Err(FrameError::SplitEnvelopeOverrun {
            expected: 9,
            received: 10
        })
    );
    // An envelope over the maximum is rejected from its first segment.
    let mut wire = BytesMut::new();
    encode_segment(&big[..100], false, SegmentFormat::Uncompressed, &mut wire).unwrap();
    let mut d = SegmentDecoder::new(SegmentFormat::Uncompressed, 100_000);
    assert_eq!(
        d.decode(&mut wire),
        Err(FrameError::FrameTooLarge {
            size: 200_009,
            max: 100_000
        })
    );
    // Same limit inside a self-contained segment.
    let mut wire = BytesMut::new();
    encode_segment(
        &UNCOMPRESSED_TWO[6..28],
        true,
        SegmentFormat::Uncompressed,
        &mut wire,
    )
    .unwrap();
    let mut d = SegmentDecoder::new(SegmentFormat::Uncompressed, 12);
    assert!(d.decode(&mut wire).unwrap().is_some());
    assert_eq!(
        d.decode(&mut wire),
        Err(FrameError::FrameTooLarge { size: 13, max: 12 })
    );
}

#[test]
fn large_envelope_split_and_reassembled_with_small_ones_around() {
    for format in [SegmentFormat::Uncompressed, SegmentFormat::Lz4] {
        let mut envs = BytesMut::new();
        envs.put_slice(&OPTIONS);
        let body: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        envs.put_slice(&[0x85, 0, 0, 9, 0x08]);
        envs.put_u32(body.len() as u32);
        envs.put_slice(&body);
        envs.put_slice(&OPTIONS);
        let mut wire = BytesMut::new();
        // [OPTIONS] [big 1/3] [big 2/3] [big 3/3] [OPTIONS]
        assert_eq!(encode_envelopes(&envs, format, &mut wire).unwrap(), 5);
        for chunk in [1000, 65_536, wire.len()] {
            let got = decode_chunked(format, &wire, chunk).unwrap();
            assert_eq!(got.len(), 3);
            assert_eq!(got[1].header.stream, 9);
            assert_eq!(got[1].body.len(), body.len());
            assert!(got[1].body == body);
            assert_eq!(got[2].header.opcode, Opcode::Options);
        }
    }
    // Exactly the limit fits in one self-contained segment.
    let mut envs = BytesMut::new();
    envs.put_slice(&[0x85, 0, 0, 9, 0x08]);
    envs.put_u32((MAX_SEGMENT_PAYLOAD - 9) as u32);
    envs.resize(MAX_SEGMENT_PAYLOAD, 1);
    let mut wire = BytesMut::new();
    assert_eq!(
        encode_envelopes(&envs, SegmentFormat::Uncompressed, &mut wire).unwrap(),
        1
    );
    assert_eq!(wire.len(), 6 + MAX_SEGMENT_PAYLOAD + 4);
}

#[test]
fn bad_lz4_payload_with_valid_crcs() {
    use scylla2_cql::frame::CompressionError;
    let segment = |payload: &[u8], uncompressed: usize| {
        let mut wire = lz4_header(payload.len(), uncompressed, true)
            .unwrap()
            .to_vec();
        wire.extend_from_slice(payload);
        wire.extend_from_slice(&trailer(payload));
        wire
    };
    // A token announcing 15+ literals with nothing after it.
    assert_eq!(
        decode_chunked(SegmentFormat::Lz4, &segment(&[0xF0], 10), 3),
        Err(FrameError::Compression(CompressionError::CorruptLz4))
    );
    // The hand-made block of LZ4_SEGMENT yields 73 bytes, not the 80 the header claims.
    assert_eq!(
        decode_chunked(SegmentFormat::Lz4, &segment(&LZ4_SEGMENT[8..28], 80), 3),
        Err(FrameError::Compression(CompressionError::LengthMismatch {
            claimed: 80,
            actual: 73
        }))
    );
    // ... and claiming fewer bytes than it holds is corrupt too.
    assert_eq!(
        decode_chunked(SegmentFormat::Lz4, &segment(&LZ4_SEGMENT[8..28], 72), 3),
        Err(FrameError::Compression(CompressionError::CorruptLz4))
    );
    // The same block with the right length decodes.
    assert_eq!(
        decode_chunked(SegmentFormat::Lz4, &segment(&LZ4_SEGMENT[8..28], 73), 3)
            .unwrap()
            .len(),
        1
    );
}
