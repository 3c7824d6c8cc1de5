//! The consistency checks against what Apache Cassandra 4.0 (`ConsistencyLevel.blockFor`,
//! `ReplicaPlans.assureSufficientLiveReplicas`, `ReplicaPlans.forPaxos`) and ScyllaDB
//! (`db/consistency_level.cc`, `storage_proxy::get_paxos_participants`) answer.

use std::net::{IpAddr, Ipv4Addr};

use uuid::Uuid;

use super::*;

fn node(index: usize, dc: &str, up: bool) -> NodeInfo {
    NodeInfo {
        index,
        address: IpAddr::V4(Ipv4Addr::new(127, 0, 0, index as u8 + 1)),
        port: 9042,
        datacenter: dc.into(),
        rack: "r1".into(),
        tokens: vec![(index as i64) * 100, (index as i64) * 100 + 1_000_000],
        host_id: Uuid::nil(),
        release_version: "4.0.0".into(),
        schema_version: Uuid::nil(),
        up,
        shards: 0,
    }
}

fn place(nodes: &[NodeInfo]) -> Placement<'_> {
    Placement {
        nodes,
        ring: None,
        local: 0,
        flavor: Flavor::Cassandra,
    }
}

/// A deterministic generator (xorshift64): each call gives a number below its argument.
fn generator(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}

fn unavailable_of(r: Result<(), SimError>) -> (u16, i32, i32) {
    match r {
        Err(SimError::Unavailable {
            consistency,
            required,
            alive,
        }) => (consistency, required, alive),
        other => panic!("expected UNAVAILABLE, got {other:?}"),
    }
}

const ONE: u16 = 1;
const ALL: u16 = 5;

/// RF 3 on a one-node cluster: a real node answers a write at ALL and a read at QUORUM with
/// UNAVAILABLE (the factor counts as configured, one replica alive); ONE succeeds.
#[test]
fn rf3_on_one_node_fails_quorum_and_all_but_not_one() {
    let nodes = [node(0, "dc1", true)];
    let p = place(&nodes);
    let rf3 = Replication::Simple(3);
    let t = Tokens::Some(&[42]);
    assert_eq!(
        unavailable_of(check(Access::Write, ALL, &rf3, t, &p)),
        (ALL, 3, 1)
    );
    assert_eq!(
        unavailable_of(check(Access::Read, QUORUM, &rf3, t, &p)),
        (QUORUM, 2, 1)
    );
    assert_eq!(
        unavailable_of(check(Access::Read, 2, &rf3, Tokens::All, &p)),
        (2, 2, 1)
    );
    check(Access::Read, ONE, &rf3, t, &p).unwrap();
    check(Access::Write, ONE, &rf3, t, &p).unwrap();
    check(Access::Write, LOCAL_ONE, &rf3, t, &p).unwrap();
    // ANY: a hint on the coordinator is enough for a write; reads reject it.
    check(Access::Write, ANY, &rf3, t, &p).unwrap();
    assert!(matches!(
        check(Access::Read, ANY, &rf3, t, &p),
        Err(SimError::Invalid(m)) if m == "ANY ConsistencyLevel is only supported for writes"
    ));
    assert!(matches!(
        check(Access::Write, SERIAL, &rf3, t, &p),
        Err(SimError::Invalid(m)) if m.contains("conditional updates")
    ));
}

/// Down nodes (stopped or paused) do not count: with RF 3 on 3 nodes, one down leaves a
/// quorum, two down do not; a scan needs every range to have its replicas.
#[test]
fn down_replicas_do_not_count() {
    let rf3 = Replication::Simple(3);
    let one_down = [
        node(0, "dc1", true),
        node(1, "dc1", true),
        node(2, "dc1", false),
    ];
    let p = place(&one_down);
    check(Access::Read, QUORUM, &rf3, Tokens::Some(&[7]), &p).unwrap();
    check(Access::Read, QUORUM, &rf3, Tokens::All, &p).unwrap();
    assert_eq!(
        unavailable_of(check(Access::Write, ALL, &rf3, Tokens::Some(&[7]), &p)),
        (ALL, 3, 2)
    );
    let two_down = [
        node(0, "dc1", true),
        node(1, "dc1", false),
        node(2, "dc1", false),
    ];
    let p = place(&two_down);
    assert_eq!(
        unavailable_of(check(Access::Read, QUORUM, &rf3, Tokens::All, &p)),
        (QUORUM, 2, 1)
    );
    check(Access::Read, ONE, &rf3, Tokens::All, &p).unwrap();
    // RF 1: the range owned by a down node is unavailable even at ONE.
    let rf1 = Replication::Simple(1);
    assert_eq!(
        unavailable_of(check(Access::Read, ONE, &rf1, Tokens::All, &p)),
        (ONE, 1, 0)
    );
    // Node 0 owns token 0 (its first vnode): readable at ONE.
    check(Access::Read, ONE, &rf1, Tokens::Some(&[0]), &p).unwrap();
}

/// LOCAL_* count the coordinator's data center, EACH_QUORUM each data center
/// (`Cannot achieve consistency level EACH_QUORUM in DC dc2` carries that DC's numbers).
#[test]
fn local_and_each_quorum_follow_data_centers() {
    let nts = Replication::NetworkTopology(vec![("dc1".into(), 2), ("dc2".into(), 2)]);
    let nodes = [
        node(0, "dc1", true),
        node(1, "dc1", true),
        node(2, "dc2", true),
        node(3, "dc2", false),
    ];
    let p = place(&nodes);
    let t = Tokens::Some(&[5]);
    check(Access::Read, LOCAL_QUORUM, &nts, t, &p).unwrap();
    check(Access::Read, LOCAL_ONE, &nts, t, &p).unwrap();
    // QUORUM of RF 4 = 3; 3 alive.
    check(Access::Read, QUORUM, &nts, t, &p).unwrap();
    assert_eq!(
        unavailable_of(check(Access::Write, EACH_QUORUM, &nts, t, &p)),
        (EACH_QUORUM, 2, 1)
    );
    // From dc2's point of view LOCAL_QUORUM fails, LOCAL_ONE holds.
    let remote = Placement { local: 2, ..p };
    assert_eq!(
        unavailable_of(check(Access::Read, LOCAL_QUORUM, &nts, t, &remote)),
        (LOCAL_QUORUM, 2, 1)
    );
    check(Access::Read, LOCAL_ONE, &nts, t, &remote).unwrap();
    // A keyspace not replicated in the local DC: Cassandra needs 1 (0/2 + 1), finds 0.
    let only_dc2 = Replication::NetworkTopology(vec![("dc2".into(), 1)]);
    assert_eq!(
        unavailable_of(check(Access::Read, LOCAL_QUORUM, &only_dc2, t, &p)),
        (LOCAL_QUORUM, 1, 0)
    );
    assert_eq!(
        unavailable_of(check(Access::Read, LOCAL_ONE, &only_dc2, t, &p)),
        (LOCAL_ONE, 1, 0)
    );
}

/// SERIAL / LOCAL_SERIAL need a majority of the natural replicas in scope (the Paxos round),
/// then Cassandra reads the current values at QUORUM / LOCAL_QUORUM and commits at the
/// statement's level; invalid levels are rejected first.
#[test]
fn lwt_checks_paxos_read_and_levels() {
    let rf3 = Replication::Simple(3);
    let nodes = [
        node(0, "dc1", true),
        node(1, "dc1", false),
        node(2, "dc1", false),
    ];
    let p = place(&nodes);
    let t = Tokens::Some(&[9]);
    assert_eq!(
        unavailable_of(check_cas(QUORUM, SERIAL, &rf3, t, &p)),
        (SERIAL, 2, 1)
    );
    assert_eq!(
        unavailable_of(check_cas(ONE, LOCAL_SERIAL, &rf3, t, &p)),
        (LOCAL_SERIAL, 2, 1)
    );
    // One node, RF 3: one natural replica is its own majority, but the read at QUORUM
    // needs 2 of the configured 3 (Cassandra); ScyllaDB reads in the Paxos round.
    let single = [node(0, "dc1", true)];
    let p1 = place(&single);
    assert_eq!(
        unavailable_of(check_cas(ONE, SERIAL, &rf3, t, &p1)),
        (QUORUM, 2, 1)
    );
    let scylla = Placement {
        flavor: Flavor::Scylla,
        ..p1
    };
    check_cas(ONE, SERIAL, &rf3, t, &scylla).unwrap();
    assert_eq!(
        unavailable_of(check_commit(QUORUM, &rf3, t, &scylla)),
        (QUORUM, 2, 1)
    );
    check_commit(ANY, &rf3, t, &scylla).unwrap();
    for (cl, serial, needle) in [
        (ONE, ONE, "Must be one of SERIAL or LOCAL_SERIAL"),
        (
            SERIAL,
            SERIAL,
            "is not supported as conditional update commit consistency",
        ),
        (
            EACH_QUORUM,
            SERIAL,
            "not compatible with replication strategy",
        ),
    ] {
        assert!(
            matches!(check_cas(cl, serial, &rf3, t, &p1), Err(SimError::Invalid(m)) if m.contains(needle)),
            "{cl} {serial}"
        );
    }
    // A read at SERIAL runs the same Paxos round.
    assert_eq!(
        unavailable_of(check(Access::Read, SERIAL, &rf3, t, &p)),
        (SERIAL, 2, 1)
    );
}

/// System keyspaces (LocalStrategy) are always available.
#[test]
fn local_strategy_is_always_available() {
    let nodes = [node(0, "dc1", false)];
    check(
        Access::Read,
        ALL,
        &Replication::Local,
        Tokens::All,
        &place(&nodes),
    )
    .unwrap();
}

/// The closed form of uniform counts agrees with the ring walk from every token, over
/// generated clusters: 1-6 nodes in 1-3 data centers and 1-3 racks, 0-3 tokens each,
/// SimpleStrategy 0-5 and NetworkTopologyStrategy with listed, unknown and `*` factors, the
/// coordinator inside or outside the cluster.
#[test]
fn uniform_counts_agree_with_the_ring_walk() {
    let mut next = generator(0x9E37_79B9_7F4A_7C15);
    let mut checked = 0;
    for _ in 0..3000 {
        let dcs = ["dc1", "dc2", "dc3"];
        let nodes: Vec<NodeInfo> = (0..=next(6) as usize)
            .map(|i| {
                let mut n = node(i, dcs[next(3) as usize], true);
                n.rack = format!("r{}", next(3));
                n.tokens = (0..next(4)).map(|_| next(2000) as i64 - 1000).collect();
                n
            })
            .collect();
        let repl = match next(3) {
            0 => Replication::Simple(next(6) as usize),
            1 => Replication::NetworkTopology(
                (0..next(3))
                    .map(|_| (dcs[next(3) as usize].to_string(), next(4) as usize))
                    .fold(Vec::new(), |mut acc: Vec<(String, usize)>, (d, rf)| {
                        if !acc.iter().any(|(a, _)| *a == d) {
                            acc.push((d, rf));
                        }
                        acc
                    }),
            ),
            _ => Replication::NetworkTopology(vec![
                ("*".into(), next(4) as usize),
                ("nowhere".into(), 1),
            ]),
        };
        let p = Placement {
            local: next(8) as usize,
            ..place(&nodes)
        };
        if !uniform(&repl, &p) {
            continue;
        }
        let factors = dc_factors(&repl, &nodes);
        let closed = uniform_counts(&repl, &factors, &p);
        for token in [-1001, -500, 0, 1, 499, 999, 1000] {
            assert_eq!(
                closed,
                ring_counts(&repl, &factors, token, &p),
                "{repl:?} at {token} on {:?} (local {})",
                nodes
                    .iter()
                    .map(|n| (&n.datacenter, &n.rack, &n.tokens))
                    .collect::<Vec<_>>(),
                p.local
            );
            checked += 1;
        }
    }
    assert!(checked > 5000, "{checked}");
}

/// A check answered from the verdicts remembered with a ring gives what the check itself
/// gives, for generated clusters (some nodes down, so that some verdicts are not kept),
/// every level, both accesses and flavors, one, no or every partition; asked in a random
/// order on one ring, so that every question meets verdicts kept for others.
#[test]
fn remembered_verdicts_are_the_checks() {
    let mut next = generator(0x2545_F491_4F6C_DD1D);
    let mut recalled = 0;
    for _ in 0..400 {
        let dcs = ["dc1", "dc2"];
        let nodes: Vec<NodeInfo> = (0..=next(5) as usize)
            .map(|i| {
                let mut n = node(i, dcs[next(2) as usize], next(8) != 0);
                n.tokens = (0..next(3)).map(|_| next(2000) as i64 - 1000).collect();
                n
            })
            .collect();
        let ring = ring::Ring::new(&nodes);
        for _ in 0..60 {
            let repl = match next(3) {
                0 => Replication::Simple(next(4) as usize),
                1 => Replication::NetworkTopology(vec![("dc1".into(), next(3) as usize)]),
                _ => Replication::NetworkTopology(vec![("*".into(), 1 + next(2) as usize)]),
            };
            let cl = next(11) as u16;
            let access = if next(2) == 0 {
                Access::Read
            } else {
                Access::Write
            };
            let token = [next(2000) as i64 - 1000];
            let tokens = match next(3) {
                0 => Tokens::Some(&[]),
                1 => Tokens::Some(&token),
                _ => Tokens::All,
            };
            let base = Placement {
                local: next(6) as usize,
                flavor: if next(2) == 0 {
                    Flavor::Cassandra
                } else {
                    Flavor::Scylla
                },
                ..place(&nodes)
            };
            let remembering = Placement {
                ring: Some(&ring),
                ..base
            };
            let expected = check(access, cl, &repl, tokens, &base);
            for _ in 0..2 {
                assert_eq!(
                    check(access, cl, &repl, tokens, &remembering),
                    expected,
                    "{repl:?} cl {cl} {access:?} {tokens:?} local {} {:?} on {:?}",
                    base.local,
                    base.flavor,
                    nodes
                        .iter()
                        .map(|n| (&n.datacenter, n.up, &n.tokens))
                        .collect::<Vec<_>>()
                );
            }
            recalled += usize::from(uniform(&repl, &base));
        }
    }
    assert!(recalled > 5_000, "{recalled}");
}
