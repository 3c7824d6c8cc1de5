//! An independent computation on the same cluster: the official Rust driver (`scylla`
//! crate) connected to the same simulated 3-node × 4-shard cluster (two data centers, racks)
//! computes replicas and shards for random tokens, and tokens for simple and composite
//! partition keys; scylla2 must agree on every one.
//!
//! It lives in this crate, not in `scylla2`'s tests, so that the official crate is a
//! dev-dependency of this crate only: `cargo run -p scylla2 --example basic` does not build
//! it.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use scylla2::routing::Token;
use scylla2::routing::token_of_row;
use scylla2_sim::{Cluster, ClusterBuilder};

/// 3 nodes × 4 shards on ephemeral ports (the regular and the shard-aware) in two data
/// centers: dc1 = nodes 0 (rack r1) and 1 (rack r2), dc2 = node 2 (rack r1).
fn two_dcs() -> ClusterBuilder {
    Cluster::builder()
        .nodes(3)
        .shards(4)
        .port(0)
        .shard_aware_port(0)
        .datacenters([("dc1", 2), ("dc2", 1)])
        .racks(["r1", "r2", "r1"])
}

/// The next value of a xorshift64 sequence over `state`, as a token.
fn xorshift(state: &mut u64) -> i64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_shards_and_tokens_equal_the_official_drivers() {
    let sim = two_dcs().start().await.expect("simulator");
    let ours = scylla2::Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .connect()
        .await
        .expect("scylla2 connects");
    let keyspaces = [
        (
            "vs_simple2",
            "{'class': 'SimpleStrategy', 'replication_factor': 2}",
        ),
        (
            "vs_nts",
            "{'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}",
        ),
        (
            "vs_nts_dc1",
            "{'class': 'NetworkTopologyStrategy', 'dc1': 1}",
        ),
    ];
    for (ks, replication) in keyspaces {
        ours.execute(
            format!("CREATE KEYSPACE {ks} WITH replication = {replication}").as_str(),
            (),
        )
        .await
        .expect("keyspace");
        ours.execute(
            format!("CREATE TABLE {ks}.t (a text, b bigint, c int, PRIMARY KEY ((a, b), c))")
                .as_str(),
            (),
        )
        .await
        .expect("table");
        ours.execute(
            format!("CREATE TABLE {ks}.s (k int PRIMARY KEY)").as_str(),
            (),
        )
        .await
        .expect("table");
    }
    let theirs = scylla::client::session_builder::SessionBuilder::new()
        .known_node_addr(sim.contact_points()[0])
        .build()
        .await
        .expect("official driver connects");
    theirs.await_schema_agreement().await.expect("agreement");
    theirs.refresh_metadata().await.expect("metadata");
    // Their sharding info arrives with their pools.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let state = theirs.get_cluster_state();
        let complete = state.get_nodes_info().iter().all(|n| n.sharder().is_some());
        if complete {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no sharding info");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let state = theirs.get_cluster_state();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for round in 0..300 {
        let token = xorshift(&mut x);
        for (ks, _) in keyspaces {
            let mine: BTreeSet<(SocketAddr, Option<u32>)> =
                ours.replicas(ks, Token(token)).into_iter().collect();
            let official: BTreeSet<(SocketAddr, Option<u32>)> = state
                .get_token_endpoints(ks, "t", scylla::routing::Token::new(token))
                .into_iter()
                .map(|(node, shard)| {
                    (
                        SocketAddr::new(node.address.ip(), node.address.port()),
                        Some(shard),
                    )
                })
                .collect();
            assert!(!mine.is_empty() && mine.iter().all(|(_, s)| s.is_some()));
            assert_eq!(mine, official, "{ks}, token {token}");
        }
        // Tokens of simple and composite keys.
        let a = format!("key-{round}-ü");
        let b = round as i64 * 7_777_777 - 1_000_000;
        let official = state
            .compute_token("vs_nts", "t", &(a.as_str(), b))
            .expect("their token");
        let mine = token_of_row(&[0, 1], &[], &(a.as_str(), b)).expect("ok");
        assert_eq!(mine, Some(Token(official.value())), "composite ({a}, {b})");
        let k = round * 104_729 - 15_000_000;
        let official = state
            .compute_token("vs_nts", "s", &(k,))
            .expect("their token");
        let mine = token_of_row(&[0], &[], &(k,)).expect("ok");
        assert_eq!(mine, Some(Token(official.value())), "simple {k}");
    }
}
