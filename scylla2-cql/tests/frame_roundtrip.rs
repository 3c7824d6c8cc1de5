//! Property tests: random envelopes encoded (v4 with optional body compression, v5 segments
//! with and without lz4), fed to the decoders in random chunk sizes, come back identical.

use bytes::{BufMut, BytesMut};
use proptest::prelude::*;
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{
    Compression, EnvelopeDecoder, EnvelopeHeader, HEADER_SIZE, HeaderFlags, Opcode, SegmentDecoder,
    SegmentFormat, encode_envelopes,
};

/// A body: mostly small, sometimes over one segment (128 KiB), compressible or not.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => proptest::collection::vec(any::<u8>(), 0..200),
        2 => (0usize..20_000, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
        1 => (100_000usize..400_000, any::<u8>())
            .prop_map(|(n, seed)| (0..n).map(|i| (i as u8).wrapping_mul(seed) ^ (i >> 9) as u8).collect()),
    ]
}

fn envelopes() -> impl Strategy<Value = Vec<(i16, Vec<u8>)>> {
    proptest::collection::vec((any::<i16>(), body()), 0..12)
}

fn chunks() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..70_000, 1..20)
}

/// Feeds `wire` in pieces whose sizes cycle through `sizes`.
fn feed<F>(wire: &[u8], sizes: &[usize], mut step: F)
where
    F: FnMut(&mut BytesMut),
{
    let mut buf = BytesMut::new();
    let mut at = 0;
    let mut i = 0;
    while at < wire.len() {
        let n = sizes[i % sizes.len()].min(wire.len() - at);
        buf.extend_from_slice(&wire[at..at + n]);
        at += n;
        i += 1;
        step(&mut buf);
    }
    assert!(buf.is_empty());
}

fn header(version: ProtocolVersion, flags: u8, stream: i16, len: usize) -> [u8; HEADER_SIZE] {
    let mut h = [0u8; HEADER_SIZE];
    EnvelopeHeader {
        version,
        is_response: true,
        flags: HeaderFlags(flags),
        stream,
        opcode: Opcode::Result,
        length: len as u32,
    }
    .encode(&mut h);
    h
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn segments_round_trip(envs in envelopes(), sizes in chunks(), lz4 in any::<bool>()) {
        let format = if lz4 { SegmentFormat::Lz4 } else { SegmentFormat::Uncompressed };
        let mut plain = BytesMut::new();
        for (stream, body) in &envs {
            plain.put_slice(&header(ProtocolVersion::V5, 0, *stream, body.len()));
            plain.put_slice(body);
        }
        let mut wire = BytesMut::new();
        encode_envelopes(&plain, format, &mut wire).unwrap();
        let mut decoder = SegmentDecoder::new(format, 1 << 20);
        let mut got = Vec::new();
        feed(&wire, &sizes, |buf| {
            while let Some(env) = decoder.decode(buf).unwrap() {
                got.push((env.header.stream, env.body.to_vec()));
            }
        });
        prop_assert!(!decoder.in_split_envelope());
        prop_assert_eq!(got, envs);
    }

    #[test]
    fn v4_envelopes_round_trip(
        envs in envelopes(),
        sizes in chunks(),
        compression in prop_oneof![Just(None), Just(Some(Compression::Lz4)), Just(Some(Compression::Snappy))],
    ) {
        let mut wire = BytesMut::new();
        for (i, (stream, body)) in envs.iter().enumerate() {
            // Compress every other envelope: a sender may leave some uncompressed (v4 §5).
            match compression.filter(|_| i % 2 == 0) {
                Some(c) => {
                    let mut compressed = BytesMut::new();
                    c.compress(body, &mut compressed).unwrap();
                    wire.put_slice(&header(ProtocolVersion::V4, HeaderFlags::COMPRESSION, *stream, compressed.len()));
                    wire.put_slice(&compressed);
                }
                None => {
                    wire.put_slice(&header(ProtocolVersion::V4, 0, *stream, body.len()));
                    wire.put_slice(body);
                }
            }
        }
        let mut decoder = EnvelopeDecoder::new(1 << 20).with_compression(compression);
        let mut got = Vec::new();
        feed(&wire, &sizes, |buf| {
            while let Some(env) = decoder.decode(buf).unwrap() {
                got.push((env.header.stream, env.body.to_vec()));
            }
        });
        prop_assert_eq!(got, envs);
    }
}
