//! Planning allocates nothing: with a counting global allocator, computing tokens (simple and
//! composite keys), loading the topology snapshot from an `ArcSwap`, looking up tablets and
//! building and draining query plans on a 3-node × 4-shard, 256-vnode, two-DC topology makes
//! zero allocations.

mod routing_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroU16;
use std::sync::atomic::{AtomicUsize, Ordering};

use arc_swap::ArcSwap;
use scylla2::routing::token_of_row;
use scylla2::routing::{
    DistancePolicy, NodeInfo, QueryPlan, ReplicationStrategy, RoutingInfo, Sharder, TabletStore,
    Token, TopologySnapshot,
};
use uuid::Uuid;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Const-initialized without destructor: reading it never allocates. Only the test's
    // thread counts (the harness's other threads may allocate meanwhile).
    static COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn note() {
    if COUNTED.try_with(std::cell::Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn topology() -> TopologySnapshot {
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || routing_support::xorshift(&mut state);
    let nodes = (0..3)
        .map(|i| {
            let mut n = NodeInfo::new(
                Uuid::from_u128(i as u128 + 1),
                SocketAddr::from((Ipv4Addr::new(127, 0, 0, i as u8 + 1), 9042)),
            );
            n.datacenter = Some(if i < 2 { "dc1" } else { "dc2" }.into());
            n.rack = Some(format!("r{i}"));
            n.tokens = (0..256).map(|_| Token(next())).collect();
            n.sharder = Some(Sharder::new(NonZeroU16::new(4).unwrap(), 12));
            n
        })
        .collect();
    TopologySnapshot::new(
        nodes,
        [(
            "ks".to_owned(),
            ReplicationStrategy::from_map([
                ("class", "NetworkTopologyStrategy"),
                ("dc1", "2"),
                ("dc2", "1"),
            ]),
        )],
        &DistancePolicy::local_dc("dc1"),
    )
}

#[test]
fn planning_allocates_nothing() {
    let topology = ArcSwap::from_pointee(topology());
    let tablets = TabletStore::new();
    tablets.learn(
        "ks",
        "tablet_table",
        scylla2::routing::Tablet {
            first_token: -1000,
            last_token: 1000,
            replicas: vec![scylla2::routing::TabletReplica {
                host_id: Uuid::from_u128(2),
                shard: 1,
            }],
        },
    );
    let text = "a partition key of usual size";
    let mut checksum = 0u64;
    let mut run = |rounds: i64| {
        for i in 0..rounds {
            let simple = token_of_row(&[0], &[], &(i,)).unwrap();
            let composite = token_of_row(&[1, 0], &[], &(i as i32, text, 7i64)).unwrap();
            let snap = topology.load();
            let tablet_guard = tablets.load();
            for (token, is_lwt) in [(simple, false), (composite, true), (None, false)] {
                let info = RoutingInfo {
                    token,
                    keyspace: Some("ks"),
                    table: None,
                    is_lwt,
                    keyspace_slot: None,
                };
                let table = TabletStore::table(&tablet_guard, "ks", "tablet_table");
                for target in QueryPlan::new(&snap, &info, table) {
                    checksum = checksum
                        .wrapping_add(u64::from(target.node))
                        .wrapping_add(u64::from(target.shard.unwrap_or(9)));
                }
                for target in QueryPlan::new(&snap, &info, None).take(2) {
                    checksum = checksum.wrapping_add(u64::from(target.node));
                }
            }
        }
    };
    run(10);
    COUNTED.set(true);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let started = std::time::Instant::now();
    run(10_000);
    let elapsed = started.elapsed();
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    // Per round: 2 tokens, 3 full plans (with tablets lookup) and 3 partial ones.
    println!(
        "{:.0} ns per round (2 tokens, 6 plans)",
        elapsed.as_nanos() as f64 / 10_000.0
    );
    assert_eq!(after - before, 0, "allocations while planning");
    assert_ne!(checksum, 0);
    // The counter does see allocations.
    let v = std::hint::black_box(vec![1u8; 3]);
    assert!(ALLOCATIONS.load(Ordering::Relaxed) > after);
    COUNTED.set(false);
    drop(v);
}
