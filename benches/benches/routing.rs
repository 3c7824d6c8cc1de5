//! Routing: Murmur3 on 16, 64 and 2 000-byte keys (ours and the official partitioner), and
//! token + query plan for a composite partition key on 3 nodes × 4 shards (256 vnodes each,
//! RF 3): "cached" reads the snapshot's precomputed replica table, "uncached" places the
//! replicas on the ring for every request. The official driver builds its plans from a
//! `ClusterState` that only a live session can construct, so only its partitioner and sharder
//! are compared.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU16;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use scylla2::routing::murmur3_token;
use scylla2::routing::token_of_row;
use scylla2::routing::{
    DistancePolicy, NodeInfo, QueryPlan, ReplicationStrategy, RoutingInfo, Sharder, Token,
    TopologySnapshot,
};
use scylla2_benches::fixtures::{self, KEYSPACE, TABLE};
use scylla2_cql::types::{ColumnSpec, CqlType};

use scylla::routing::partitioner::{Murmur3Partitioner, Partitioner, PartitionerHasher};

const NODES: usize = 3;
const SHARDS: u16 = 4;
const VNODES: usize = 256;

fn bench_murmur3(c: &mut Criterion) {
    let mut g = c.benchmark_group("routing/murmur3");
    let mut rng = fixtures::Rng::new(9);
    for len in [16usize, 64, 2000] {
        let key: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        assert_eq!(
            murmur3_token(&key).0,
            Murmur3Partitioner.hash_one(&key).value(),
            "both partitioners agree"
        );
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_with_input(BenchmarkId::new("scylla2", len), &key, |b, key| {
            b.iter(|| murmur3_token(black_box(key)))
        });
        g.bench_with_input(BenchmarkId::new("scylla", len), &key, |b, key| {
            b.iter(|| Murmur3Partitioner.hash_one(black_box(key)))
        });
    }
    g.finish();
}

fn topology() -> TopologySnapshot {
    let mut rng = fixtures::Rng::new(21);
    let sharder = Sharder::new(NonZeroU16::new(SHARDS).unwrap_or(NonZeroU16::MIN), 12);
    let nodes = (0..NODES)
        .map(|i| {
            let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + i as u8));
            let mut n = NodeInfo::new(
                uuid::Uuid::from_u128(0x1000 + i as u128),
                SocketAddr::new(ip, 9042),
            );
            n.datacenter = Some("dc1".into());
            n.rack = Some("r1".into());
            n.tokens = (0..VNODES).map(|_| Token(rng.next_u64() as i64)).collect();
            n.sharder = Some(sharder);
            n
        })
        .collect();
    let strategy =
        ReplicationStrategy::from_map([("class", "NetworkTopologyStrategy"), ("dc1", "3")]);
    TopologySnapshot::new(
        nodes,
        [(KEYSPACE.to_owned(), strategy)],
        &DistancePolicy::local_dc("dc1"),
    )
}

fn bench_plan(c: &mut Criterion) {
    let snap = topology();
    let strategy = snap.keyspace_strategy(KEYSPACE).cloned();
    let markers: Vec<ColumnSpec> = [("a", CqlType::Int), ("b", CqlType::Text)]
        .into_iter()
        .map(|(name, typ)| ColumnSpec {
            keyspace: KEYSPACE.into(),
            table: TABLE.into(),
            name: name.into(),
            typ,
        })
        .collect();
    let pk = [0u16, 1];
    let keys: Vec<(i32, String)> = {
        let mut rng = fixtures::Rng::new(4);
        (0..1024)
            .map(|i| (i, fixtures::text(&mut rng, 12)))
            .collect()
    };
    let mut g = c.benchmark_group("routing/token_and_plan_3x4");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("cached/scylla2", |b| {
        b.iter(|| {
            let (a, s) = &keys[i % keys.len()];
            i += 1;
            let token = token_of_row(&pk, &markers, &(*a, s.as_str()))
                .ok()
                .flatten();
            let info = RoutingInfo {
                token,
                keyspace: Some(KEYSPACE),
                table: Some(TABLE),
                is_lwt: false,
                keyspace_slot: None,
            };
            let mut acc = 0u32;
            for t in QueryPlan::new(&snap, &info, None) {
                acc = acc.wrapping_mul(31) + t.node + t.shard.unwrap_or(0);
            }
            black_box(acc)
        })
    });
    let mut placed = Vec::with_capacity(8);
    let ring = snap.ring();
    g.bench_function("uncached/scylla2", |b| {
        b.iter(|| {
            let (a, s) = &keys[i % keys.len()];
            i += 1;
            let Some(token) = token_of_row(&pk, &markers, &(*a, s.as_str()))
                .ok()
                .flatten()
            else {
                return 0;
            };
            let (Some(strategy), Some(start)) = (strategy.as_ref(), ring.range_of(token)) else {
                return 0;
            };
            placed.clear();
            strategy.place(ring, start, &mut placed);
            let mut acc = 0u32;
            for &node in &placed {
                let shard = snap
                    .node(node)
                    .and_then(|n| n.sharder)
                    .map_or(0, |sh| sh.shard_of(token));
                acc = acc.wrapping_mul(31) + node + shard;
            }
            black_box(acc)
        })
    });
    g.bench_function("token_and_shard_only/scylla2", |b| {
        let sharder = Sharder::new(NonZeroU16::new(SHARDS).unwrap_or(NonZeroU16::MIN), 12);
        b.iter(|| {
            let (a, s) = &keys[i % keys.len()];
            i += 1;
            let token = token_of_row(&pk, &markers, &(*a, s.as_str()))
                .ok()
                .flatten();
            black_box(token.map(|t| sharder.shard_of(t)))
        })
    });
    // The official driver's part that is public: composite-key hashing and the sharder.
    let their_sharder =
        scylla::routing::Sharder::new(NonZeroU16::new(SHARDS).unwrap_or(NonZeroU16::MIN), 12);
    g.bench_function("token_and_shard_only/scylla", |b| {
        b.iter(|| {
            let (a, s) = &keys[i % keys.len()];
            i += 1;
            let mut h = Murmur3Partitioner.build_hasher();
            for part in [&a.to_be_bytes()[..], s.as_bytes()] {
                h.write(&(part.len() as u16).to_be_bytes());
                h.write(part);
                h.write(&[0]);
            }
            let token = h.finish();
            black_box(their_sharder.shard_of(token))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_murmur3, bench_plan
}
criterion_main!(benches);
