//! Query plans over a hand-built topology: replicas first, split by distance and rotated
//! within a class; fallback to every other non-ignored node; LWT order; no-token rotation
//! over local nodes; ignored nodes; preferred racks; tablets and their payloads.

mod routing_support;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU16;

use routing_support::nts;
use scylla2::routing::{
    DistancePolicy, KeyspaceSlot, NodeDistance, NodeInfo, QueryPlan, ReplicationStrategy,
    RoutingInfo, Sharder, Tablet, TabletReplica, TabletStore, Target, Token, TopologySnapshot,
};
use scylla2::{error::TabletPayloadError, routing::decode_tablet_payload};
use uuid::Uuid;

/// Six nodes with one token each: 0..3 in dc1 (racks r1, r1, r2), 3..6 in dc2 (r1, r2, r3).
/// Node i owns token i * 1000 - 3000, so token -2500 is primarily owned by node 1.
fn nodes() -> Vec<NodeInfo> {
    let layout = [
        ("dc1", "r1"),
        ("dc1", "r1"),
        ("dc1", "r2"),
        ("dc2", "r1"),
        ("dc2", "r2"),
        ("dc2", "r3"),
    ];
    layout
        .iter()
        .enumerate()
        .map(|(i, (dc, rack))| {
            let mut n = NodeInfo::new(Uuid::from_u128(i as u128 + 1), addr(i));
            n.datacenter = Some((*dc).into());
            n.rack = Some((*rack).into());
            n.tokens = vec![Token(i as i64 * 1000 - 3000)];
            n.sharder = Some(Sharder::new(NonZeroU16::new(4).unwrap(), 12));
            n
        })
        .collect()
}

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::new(127, 0, 0, i as u8 + 1), 9042))
}

fn snapshot(policy: &DistancePolicy) -> TopologySnapshot {
    TopologySnapshot::new(
        nodes(),
        [
            ("ks".to_owned(), nts("2", "1")),
            ("ks_same".to_owned(), nts("2", "1")),
            (
                "simple".to_owned(),
                ReplicationStrategy::from_map([
                    ("class", "SimpleStrategy"),
                    ("replication_factor", "3"),
                ]),
            ),
        ],
        policy,
    )
}

fn info(token: i64) -> RoutingInfo<'static> {
    RoutingInfo {
        token: Some(Token(token)),
        keyspace: Some("ks"),
        table: None,
        is_lwt: false,
        keyspace_slot: None,
    }
}

fn node_ids(plan: QueryPlan<'_>) -> Vec<u32> {
    plan.map(|t| t.node).collect()
}

#[test]
fn replicas_first_split_by_distance_then_fallback() {
    let snap = snapshot(&DistancePolicy::local_dc("dc1"));
    assert_eq!(
        snap.replica_table_count(),
        2,
        "ks and ks_same share a table"
    );
    // Token -2500 → ring starts at node 1 (dc1 r1): dc1 replicas 1 (r1) then 2 (r2);
    // dc2 replica: first dc2 node from there = 3.
    let plan = node_ids(QueryPlan::new(&snap, &info(-2500), None));
    assert_eq!(plan.len(), 6, "every node exactly once: {plan:?}");
    assert_eq!(plan.iter().copied().collect::<HashSet<_>>().len(), 6);
    let first: HashSet<u32> = plan[..2].iter().copied().collect();
    assert_eq!(first, HashSet::from([1, 2]));
    assert_eq!(plan[2], 3, "remote replica after local ones");
    assert_eq!(plan[3], 0, "then the local non-replica");
    let rest: HashSet<u32> = plan[4..].iter().copied().collect();
    assert_eq!(rest, HashSet::from([4, 5]));
    assert_eq!(snap.distance(0), NodeDistance::Local);
    assert_eq!(snap.distance(4), NodeDistance::Remote);
}

#[test]
fn shards_follow_the_token() {
    let snap = snapshot(&DistancePolicy::local_dc("dc1"));
    let sharder = Sharder::new(NonZeroU16::new(4).unwrap(), 12);
    for token in [-2500i64, -1, 0, 123456789, i64::MAX] {
        for target in QueryPlan::new(&snap, &info(token), None) {
            assert_eq!(target.shard, Some(sharder.shard_of(Token(token))));
        }
    }
    // Without a token: no shard preference.
    let none = RoutingInfo::default();
    assert!(QueryPlan::new(&snap, &none, None).all(|t| t.shard.is_none()));
}

#[test]
fn replicas_rotate_within_their_class() {
    let snap = snapshot(&DistancePolicy::local_dc("dc1"));
    let mut firsts = HashSet::new();
    for _ in 0..10 {
        let plan = node_ids(QueryPlan::new(&snap, &info(-2500), None));
        firsts.insert(plan[0]);
        assert!(plan[0] == 1 || plan[0] == 2);
        assert_eq!(plan[2], 3);
    }
    assert_eq!(firsts, HashSet::from([1, 2]));
}

#[test]
fn lwt_keeps_placement_order() {
    let snap = snapshot(&DistancePolicy::local_dc("dc1"));
    let lwt = RoutingInfo {
        is_lwt: true,
        ..info(-2500)
    };
    for _ in 0..5 {
        let plan = node_ids(QueryPlan::new(&snap, &lwt, None));
        assert_eq!(&plan[..3], &[1, 2, 3]);
    }
    // Token 500 → ring starts at node 4 (dc2): dc1 walk from node 4 wraps to node 0 (r1),
    // then node 1 (r1, skipped), node 2 (r2) → [0, 2]; dc2: 4.
    let lwt = RoutingInfo {
        is_lwt: true,
        ..info(500)
    };
    let plan = node_ids(QueryPlan::new(&snap, &lwt, None));
    assert_eq!(&plan[..3], &[0, 2, 4]);
}

#[test]
fn without_token_local_nodes_rotate_first() {
    let snap = snapshot(&DistancePolicy::local_dc("dc2"));
    let none = RoutingInfo::default();
    let mut firsts = HashSet::new();
    for _ in 0..9 {
        let plan = node_ids(QueryPlan::new(&snap, &none, None));
        assert_eq!(plan.len(), 6);
        let local: HashSet<u32> = plan[..3].iter().copied().collect();
        assert_eq!(local, HashSet::from([3, 4, 5]));
        firsts.insert(plan[0]);
    }
    assert_eq!(firsts, HashSet::from([3, 4, 5]));
}

#[test]
fn unknown_keyspace_is_like_no_token() {
    let snap = snapshot(&DistancePolicy::local_dc("dc1"));
    let unknown = RoutingInfo {
        keyspace: Some("nope"),
        ..info(-2500)
    };
    let plan = node_ids(QueryPlan::new(&snap, &unknown, None));
    let local: HashSet<u32> = plan[..3].iter().copied().collect();
    assert_eq!(local, HashSet::from([0, 1, 2]));
}

/// A statement's keyspace slot routes exactly as the keyspace's name does, across
/// snapshots that place its keyspace at other indexes (the slot is refreshed), and an
/// unknown keyspace routes as without a token either way.
#[test]
fn a_keyspace_slot_routes_as_the_name_does_across_snapshots() {
    let policy = DistancePolicy::local_dc("dc1");
    let first = snapshot(&policy);
    let simple =
        ReplicationStrategy::from_map([("class", "SimpleStrategy"), ("replication_factor", "3")]);
    // "simple" first here: another replica table index than in `first`.
    let second = TopologySnapshot::new(
        nodes(),
        [
            ("simple".to_owned(), simple),
            ("ks".to_owned(), nts("2", "1")),
        ],
        &policy,
    );
    let slot = KeyspaceSlot::default();
    for keyspace in ["simple", "ks"] {
        let slot = KeyspaceSlot::default();
        for snap in [&first, &second, &first, &first] {
            for token in [-2500, 500, 2999] {
                // LWT: the replicas (three for both keyspaces) in placement order, so that
                // they compare exactly; the rotated fallback after them compares as a set.
                let by_name = RoutingInfo {
                    keyspace: Some(keyspace),
                    is_lwt: true,
                    ..info(token)
                };
                let by_slot = RoutingInfo {
                    keyspace_slot: Some(&slot),
                    ..by_name
                };
                let named = node_ids(QueryPlan::new(snap, &by_name, None));
                let slotted = node_ids(QueryPlan::new(snap, &by_slot, None));
                assert_eq!(slotted[..3], named[..3], "{keyspace} at {token}");
                let set = |p: &[u32]| p.iter().copied().collect::<HashSet<u32>>();
                assert_eq!(
                    set(&slotted[3..]),
                    set(&named[3..]),
                    "{keyspace} at {token}"
                );
            }
        }
    }
    let unknown = RoutingInfo {
        keyspace: Some("nope"),
        keyspace_slot: Some(&slot),
        ..info(-2500)
    };
    let plan = node_ids(QueryPlan::new(&first, &unknown, None));
    let local: HashSet<u32> = plan[..3].iter().copied().collect();
    assert_eq!(local, HashSet::from([0, 1, 2]));
}

#[test]
fn ignored_nodes_never_appear() {
    let policy = DistancePolicy::local_dc("dc1").with_denied(vec![addr(1).ip(), addr(4).ip()]);
    let snap = snapshot(&policy);
    assert_eq!(snap.distance(1), NodeDistance::Ignored);
    for _ in 0..4 {
        let plan = node_ids(QueryPlan::new(&snap, &info(-2500), None));
        assert_eq!(plan.len(), 4);
        assert!(!plan.contains(&1) && !plan.contains(&4));
        assert_eq!(plan[0], 2, "the only non-ignored local replica");
        assert_eq!(plan[1], 3);
    }
    let allowed: Vec<IpAddr> = vec![addr(0).ip(), addr(3).ip()];
    let snap = snapshot(&DistancePolicy::local_dc("dc1").with_allowed(allowed));
    let plan = node_ids(QueryPlan::new(&snap, &info(-2500), None));
    assert_eq!(
        plan,
        vec![3, 0],
        "remote replica is still a replica, then the fallback"
    );
    let snap = snapshot(&DistancePolicy::local_dc("dc1").with_remote_nodes(false));
    let plan = node_ids(QueryPlan::new(&snap, &info(-2500), None));
    assert_eq!(plan.len(), 3);
    assert!(plan.iter().all(|&n| n < 3));
}

#[test]
fn preferred_rack_comes_first() {
    let policy = DistancePolicy::local_dc("dc1").with_preferred_rack("r2");
    let snap = snapshot(&policy);
    for _ in 0..4 {
        let plan = node_ids(QueryPlan::new(&snap, &info(-2500), None));
        assert_eq!(&plan[..3], &[2, 1, 3]);
    }
    let none = RoutingInfo::default();
    for _ in 0..4 {
        assert_eq!(QueryPlan::new(&snap, &none, None).next().unwrap().node, 2);
    }
}

fn payload(first: i64, last: i64, replicas: &[(u128, i32)]) -> Vec<u8> {
    let mut list = Vec::new();
    list.extend_from_slice(&(replicas.len() as i32).to_be_bytes());
    for (id, shard) in replicas {
        list.extend_from_slice(&28i32.to_be_bytes());
        list.extend_from_slice(&16i32.to_be_bytes());
        list.extend_from_slice(&id.to_be_bytes());
        list.extend_from_slice(&4i32.to_be_bytes());
        list.extend_from_slice(&shard.to_be_bytes());
    }
    let mut out = Vec::new();
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&first.to_be_bytes());
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&last.to_be_bytes());
    out.extend_from_slice(&(list.len() as i32).to_be_bytes());
    out.extend_from_slice(&list);
    out
}

#[test]
fn tablet_payload_decoding() {
    let bytes = payload(-100, 100, &[(6, 3), (2, 1)]);
    // Hand-checked layout prefix: [int 8][bigint -100].
    assert_eq!(
        &bytes[..12],
        &[0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x9c]
    );
    let tablet = decode_tablet_payload(&bytes).unwrap();
    assert_eq!(
        tablet,
        Tablet {
            first_token: -100,
            last_token: 100,
            replicas: vec![
                TabletReplica {
                    host_id: Uuid::from_u128(6),
                    shard: 3
                },
                TabletReplica {
                    host_id: Uuid::from_u128(2),
                    shard: 1
                },
            ],
        }
    );
    for cut in 0..bytes.len() {
        assert!(
            decode_tablet_payload(&bytes[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert_eq!(
        decode_tablet_payload(&trailing),
        Err(TabletPayloadError::Trailing(1))
    );
    assert!(matches!(
        decode_tablet_payload(&payload(5, 5, &[])),
        Err(TabletPayloadError::EmptyRange { .. })
    ));
    // A huge replica count with no bytes behind it fails without a huge allocation.
    let mut huge = payload(0, 1, &[]);
    let n = huge.len();
    huge[n - 4..].copy_from_slice(&i32::MAX.to_be_bytes());
    assert_eq!(
        decode_tablet_payload(&huge),
        Err(TabletPayloadError::Truncated)
    );
    let mut negative_shard = payload(0, 1, &[(1, 0)]);
    let n = negative_shard.len();
    negative_shard[n - 4..].copy_from_slice(&(-1i32).to_be_bytes());
    assert!(matches!(
        decode_tablet_payload(&negative_shard),
        Err(TabletPayloadError::BadLength { field: "shard", .. })
    ));
}

#[test]
fn tablets_route_their_tables_and_replace_overlaps() {
    let snap = snapshot(&DistancePolicy::local_dc("dc1"));
    let store = TabletStore::new();
    store
        .learn_payload("ks", "t", &payload(-3000, -2000, &[(6, 3), (1, 2)]))
        .unwrap();
    let guard = store.load();
    let tablets = TabletStore::table(&guard, "ks", "t");
    assert!(tablets.is_some());
    // Host 1 = node 0 (local), host 6 = node 5 (remote): local first, tablet shards.
    let plan: Vec<Target> = QueryPlan::new(&snap, &info(-2500), tablets).collect();
    assert_eq!(
        &plan[..2],
        &[
            Target {
                node: 0,
                shard: Some(2)
            },
            Target {
                node: 5,
                shard: Some(3)
            }
        ]
    );
    assert_eq!(plan.len(), 6);
    // Outside the tablet: the ring replicas.
    let plan = node_ids(QueryPlan::new(&snap, &info(-3000), tablets));
    let first: HashSet<u32> = plan[..2].iter().copied().collect();
    assert_eq!(first, HashSet::from([0, 2]));
    // An overlapping tablet replaces the old one.
    store
        .learn_payload("ks", "t", &payload(-2600, -1000, &[(3, 0)]))
        .unwrap();
    let guard = store.load();
    let t = TabletStore::table(&guard, "ks", "t").unwrap();
    assert_eq!(t.tablets().len(), 1);
    assert_eq!(
        t.find(Token(-2500)).unwrap().replicas[0].host_id,
        Uuid::from_u128(3)
    );
    assert!(t.find(Token(-2600)).is_none(), "first token is exclusive");
    assert!(t.find(Token(-1000)).is_some(), "last token is inclusive");
    // Non-overlapping ones are kept, sorted.
    store
        .learn_payload("ks", "t", &payload(0, 10, &[(3, 0)]))
        .unwrap();
    store
        .learn_payload("ks", "t", &payload(-5000, -2600, &[(3, 0)]))
        .unwrap();
    let guard = store.load();
    let t = TabletStore::table(&guard, "ks", "t").unwrap();
    let ranges: Vec<(i64, i64)> = t
        .tablets()
        .iter()
        .map(|t| (t.first_token, t.last_token))
        .collect();
    assert_eq!(ranges, vec![(-5000, -2600), (-2600, -1000), (0, 10)]);
    assert!(TabletStore::table(&guard, "ks", "other").is_none());
}
