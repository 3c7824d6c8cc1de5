//! Protocol v5 framing: one envelope of 1 KB, 64 KB or 1 MB packed into segments and
//! decoded back, without compression and with lz4. The official driver speaks protocol v4
//! only and has no segment codec, so these run for scylla2 alone.

mod common;

use bytes::BytesMut;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use scylla2_benches::fixtures;
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{
    DEFAULT_MAX_FRAME_SIZE, EnvelopeHeader, HEADER_SIZE, HeaderFlags, Opcode, SegmentDecoder,
    SegmentFormat, encode_envelopes,
};

/// One RESULT envelope of `size` bytes in all whose body is row-like text (compressible the
/// way real rows are: letters drawn at random, so lz4 finds little but some redundancy).
fn envelope(size: usize) -> Vec<u8> {
    let mut rng = fixtures::Rng::new(size as u64);
    let body_len = size - HEADER_SIZE;
    let header = EnvelopeHeader {
        version: ProtocolVersion::V5,
        is_response: true,
        flags: HeaderFlags(0),
        stream: 1,
        opcode: Opcode::Result,
        length: body_len as u32,
    };
    let mut out = vec![0u8; HEADER_SIZE];
    let mut h = [0u8; HEADER_SIZE];
    header.encode(&mut h);
    out.copy_from_slice(&h);
    while out.len() < size {
        let word = fixtures::text(&mut rng, 8);
        out.extend_from_slice(word.as_bytes());
        out.extend_from_slice(b" 0000 ");
    }
    out.truncate(size);
    out
}

fn bench_framing(c: &mut Criterion) {
    for (name, format) in [
        ("uncompressed", SegmentFormat::Uncompressed),
        ("lz4", SegmentFormat::Lz4),
    ] {
        let mut g = c.benchmark_group(format!("framing/v5_{name}"));
        for size in [1usize << 10, 64 << 10, 1 << 20] {
            let env = envelope(size);
            let mut encoded = BytesMut::new();
            let segments = encode_envelopes(&env, format, &mut encoded).unwrap_or(0);
            assert!(segments >= 1);
            // Sanity: the decoder gives the envelope back byte for byte.
            let mut buf = encoded.clone();
            let mut dec = SegmentDecoder::new(format, DEFAULT_MAX_FRAME_SIZE);
            let back = dec.decode(&mut buf).ok().flatten().map(|e| e.body);
            assert_eq!(back.as_deref(), Some(&env[HEADER_SIZE..]));

            g.throughput(Throughput::Bytes(size as u64));
            let mut out = BytesMut::with_capacity(encoded.len() * 2);
            g.bench_with_input(BenchmarkId::new("encode/scylla2", size), &env, |b, env| {
                b.iter(|| {
                    out.clear();
                    black_box(encode_envelopes(black_box(env), format, &mut out).ok())
                })
            });
            g.bench_with_input(
                BenchmarkId::new("decode/scylla2", size),
                &encoded,
                |b, encoded| {
                    b.iter_batched_ref(
                        || encoded.clone(),
                        |buf| {
                            let mut dec = SegmentDecoder::new(format, DEFAULT_MAX_FRAME_SIZE);
                            black_box(dec.decode(buf).ok().flatten().map(|e| e.body.len()))
                        },
                        BatchSize::LargeInput,
                    )
                },
            );
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_framing
}
criterion_main!(benches);
