//! The checksums of v5 segment framing on their own: the CRC32 segment trailer (with the seed
//! bytes real servers use) over payloads from a 16-byte envelope to a full 128 KiB segment, and
//! the CRC24 of a 3-byte (uncompressed) or 5-byte (lz4) segment header. scylla2 only: the
//! official driver has no v5 segment codec.

mod common;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use scylla2_benches::fixtures;
use scylla2_cql::frame::crc::{crc24, crc32};

/// Payload sizes: a tiny envelope, a typical request envelope, a 1 KiB segment of ~10
/// envelopes, a 64 KiB payload and the largest segment payload (2^17 - 1 bytes).
const SIZES: [usize; 5] = [16, 100, 1 << 10, 64 << 10, (1 << 17) - 1];

fn bench_crc(c: &mut Criterion) {
    let mut rng = fixtures::Rng::new(7);
    let mut data = Vec::with_capacity(SIZES[SIZES.len() - 1]);
    while data.len() < data.capacity() {
        data.extend_from_slice(fixtures::text(&mut rng, 8).as_bytes());
    }
    data.truncate(SIZES[SIZES.len() - 1]);

    let mut g = c.benchmark_group("crc/crc32");
    for size in SIZES {
        g.throughput(Throughput::Bytes(size as u64));
        let payload = &data[..size];
        g.bench_with_input(BenchmarkId::new("scylla2", size), payload, |b, p| {
            b.iter(|| crc32(black_box(p)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("crc/crc24");
    for size in [3usize, 5] {
        let header = &data[..size];
        g.bench_with_input(BenchmarkId::new("scylla2", size), header, |b, h| {
            b.iter(|| crc24(black_box(h)))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_crc
}
criterion_main!(benches);
