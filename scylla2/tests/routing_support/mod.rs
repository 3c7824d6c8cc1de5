//! Shared helpers of the routing tests against the simulator: a 3-node × 4-shard cluster,
//! a session, request totals, and the "every request owned" check.
#![allow(dead_code)]

use std::time::Duration;

use scylla2::Session;
use scylla2::routing::ReplicationStrategy;
use scylla2::topology::TopologyConfig;
use scylla2_sim::{Cluster, ClusterBuilder};

/// SimpleStrategy with one replica, as a `WITH replication =` map.
pub const SIMPLE_RF1: &str = "{'class': 'SimpleStrategy', 'replication_factor': 1}";

/// NetworkTopologyStrategy with `dc1` and `dc2` replicas in the data centers of those names.
pub fn nts(dc1: &str, dc2: &str) -> ReplicationStrategy {
    ReplicationStrategy::from_map([
        ("class", "NetworkTopologyStrategy"),
        ("dc1", dc1),
        ("dc2", dc2),
    ])
}

/// A simulator of 3 nodes × 4 shards on ephemeral ports (the regular and the shard-aware).
pub fn builder() -> ClusterBuilder {
    Cluster::builder()
        .nodes(3)
        .shards(4)
        .port(0)
        .shard_aware_port(0)
}

/// `b` with its 3 nodes in two data centers: dc1 = nodes 0 (rack r1) and 1 (rack r2),
/// dc2 = node 2 (rack r1).
pub fn two_dcs(b: ClusterBuilder) -> ClusterBuilder {
    b.datacenters([("dc1", 2), ("dc2", 1)])
        .racks(["r1", "r2", "r1"])
}

/// A started [`builder`] cluster with 16 tokens per node, in [`two_dcs`] when `dcs`.
pub async fn cluster(dcs: bool) -> Cluster {
    let mut b = builder().tokens_per_node(16);
    if dcs {
        b = two_dcs(b);
    }
    b.start().await.expect("simulator starts")
}

/// A session on `sim` with the default configuration.
pub async fn session(sim: &Cluster) -> Session {
    Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .connect()
        .await
        .expect("connects")
}

/// A session on `sim` with its own topology configuration.
pub async fn session_with(sim: &Cluster, config: TopologyConfig) -> Session {
    Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .topology(Some(config))
        .connect()
        .await
        .expect("connects")
}

/// The next value of a xorshift64 sequence over `state`, as a token.
pub fn xorshift(state: &mut u64) -> i64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state as i64
}

pub fn totals(sim: &Cluster) -> (u64, u64, u64) {
    sim.request_stats().iter().fold((0, 0, 0), |(r, w, o), s| {
        (r + s.received, w + s.with_token, o + s.owned)
    })
}

/// Runs `n` prepared inserts (simple or composite key) into a fresh table of keyspace `ks`
/// and checks that every routable request was owned by the node and shard that got it.
pub async fn check_routing(
    sim: &Cluster,
    session: &Session,
    ks: &str,
    replication: &str,
    owners: &[usize],
) {
    session
        .execute(
            format!("CREATE KEYSPACE {ks} WITH replication = {replication}").as_str(),
            (),
        )
        .await
        .expect("create keyspace");
    session
        .execute(
            format!("CREATE TABLE {ks}.simple (k int PRIMARY KEY, v text)").as_str(),
            (),
        )
        .await
        .expect("create simple");
    session
        .execute(
            format!(
                "CREATE TABLE {ks}.composite (a text, b bigint, c int, v int, \
                 PRIMARY KEY ((a, b), c))"
            )
            .as_str(),
            (),
        )
        .await
        .expect("create composite");
    // The keyspace reaches the routing snapshot through SCHEMA_CHANGE → refresh.
    session.await_schema_agreement().await.expect("agreement");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let simple = session
        .prepare(format!("INSERT INTO {ks}.simple (k, v) VALUES (?, ?)"))
        .await
        .expect("prepare simple");
    // Bind order differs from key order: (c, b, a, v) while the key is (a, b).
    let composite = session
        .prepare(format!(
            "INSERT INTO {ks}.composite (c, b, a, v) VALUES (?, ?, ?, ?)"
        ))
        .await
        .expect("prepare composite");
    assert_eq!(composite.pk_indexes(), &[2, 1]);
    // Wait until a routed request is owned (the refresh after CREATE KEYSPACE landed).
    loop {
        sim.reset_stats();
        session
            .execute(&simple, (0i32, "warmup"))
            .await
            .expect("warmup");
        let (_, with_token, owned) = totals(sim);
        if with_token == 1 && owned == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "routing never caught up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sim.reset_stats();
    let n = 200;
    for i in 0..n {
        session
            .execute(&simple, (i * 7919 - 100_000, "x"))
            .await
            .expect("insert simple");
        let a = format!("key-{i}-é");
        session
            .execute(&composite, (i, i as i64 * 1_000_003, a.as_str(), 1i32))
            .await
            .expect("insert composite");
    }
    let (received, with_token, owned) = totals(sim);
    assert_eq!(with_token, 2 * n as u64, "every request carried a token");
    // Control-connection metadata queries are received too, without a token.
    assert!(received >= with_token);
    assert_eq!(
        owned, with_token,
        "{replication}: not every request was owned"
    );
    // Every owning node got some of them, the others none.
    let stats = sim.request_stats();
    for node in 0..3 {
        let got: u64 = stats
            .iter()
            .filter(|s| s.node == node)
            .map(|s| s.with_token)
            .sum();
        assert_eq!(got > 0, owners.contains(&node), "node {node} got {got}");
    }
}
