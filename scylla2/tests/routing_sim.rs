//! Proof against the simulator with 3 nodes × 4 shards: every prepared request lands on a
//! node that owns its token AND on the shard owning it, per the simulator's own statistics
//! (`received`, `with_token`, `owned` per node and shard), for simple and composite partition
//! keys and several replication settings (SimpleStrategy RF 1 and 2, NetworkTopologyStrategy
//! over two data centers), through the shard-aware port or its fallbacks, for batches and
//! LWT; replicas equal the simulator's own placement.

mod common;
mod routing_support;

use std::collections::BTreeSet;
use std::net::SocketAddr;

use common::{prepare, query, run_all};
use routing_support::{
    SIMPLE_RF1, check_routing, cluster, session, session_with, totals, xorshift,
};
use scylla2::routing::Token;
use scylla2_sim::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_land_on_owning_node_and_shard_simple_strategy() {
    let sim = cluster(false).await;
    let session = session(&sim).await;
    assert!(session.is_routing());
    assert_eq!(
        session.pooled_connections(),
        12,
        "one connection per shard of 3 nodes"
    );
    check_routing(&sim, &session, "routing_rf1", SIMPLE_RF1, &[0, 1, 2]).await;
    check_routing(
        &sim,
        &session,
        "routing_rf2",
        "{'class': 'SimpleStrategy', 'replication_factor': 2}",
        &[0, 1, 2],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_land_on_owning_node_and_shard_nts_two_dcs() {
    let sim = cluster(true).await;
    let session = session(&sim).await;
    check_routing(
        &sim,
        &session,
        "routing_nts",
        "{'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc2': 1}",
        &[0, 1, 2],
    )
    .await;
    check_routing(
        &sim,
        &session,
        "routing_nts_dc2",
        "{'class': 'NetworkTopologyStrategy', 'dc2': 1}",
        &[2],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_of_random_tokens_equal_the_simulators() {
    let sim = cluster(true).await;
    let session = session(&sim).await;
    let settings = [
        (
            "rep_simple3",
            "{'class': 'SimpleStrategy', 'replication_factor': 3}",
        ),
        (
            "rep_simple1",
            "{'class': 'SimpleStrategy', 'replication_factor': 1}",
        ),
        (
            "rep_nts",
            "{'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}",
        ),
        ("rep_nts1", "{'class': 'NetworkTopologyStrategy', 'dc1': 1}"),
    ];
    for (ks, replication) in settings {
        query(
            &session,
            format!("CREATE KEYSPACE {ks} WITH replication = {replication}"),
        )
        .await;
    }
    let nodes = sim.nodes();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..500 {
        let token = xorshift(&mut state);
        for (ks, _) in settings {
            let mut ours: Vec<SocketAddr> = session
                .replicas(ks, Token(token))
                .into_iter()
                .map(|(a, _)| a)
                .collect();
            let mut theirs: Vec<SocketAddr> = sim
                .replicas(ks, token)
                .into_iter()
                .map(|i| SocketAddr::new(nodes[i].address, sim.port()))
                .collect();
            assert!(!ours.is_empty());
            ours.sort();
            theirs.sort();
            assert_eq!(ours, theirs, "{ks} token {token}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normal_port_fallback_covers_every_shard_and_routes() {
    let sim = cluster(false).await;
    let mut config = scylla2::topology::TopologyConfig::default();
    // As if the shard-aware port were missing or NAT rewrote source ports.
    config.pool.shard_aware_port = false;
    let session = session_with(&sim, config).await;
    assert_eq!(
        session.open_connections(),
        12,
        "every shard covered, surplus closed"
    );
    check_routing(&sim, &session, "fallback_rf1", SIMPLE_RF1, &[0, 1, 2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_nodes_get_no_connections_and_translation_applies() {
    #[derive(Debug, Default)]
    struct Counting(std::sync::atomic::AtomicUsize);
    impl scylla2::topology::AddressTranslator for Counting {
        fn translate(&self, address: SocketAddr) -> SocketAddr {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            address
        }
    }
    let sim = cluster(true).await;
    let translator = std::sync::Arc::new(Counting::default());
    let mut config = scylla2::topology::TopologyConfig::default();
    config.distance = scylla2::routing::DistancePolicy::local_dc("dc1").with_remote_nodes(false);
    config.address_translator = Some(translator.clone());
    let session = session_with(&sim, config).await;
    assert!(
        translator.0.load(std::sync::atomic::Ordering::Relaxed) >= 2,
        "peers translated"
    );
    assert_eq!(session.nodes().len(), 3);
    assert_eq!(session.open_connections(), 8, "dc2's node is ignored");
    run_all(&session, &["CREATE KEYSPACE ign WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc2': 1}", "CREATE TABLE ign.t (k int PRIMARY KEY)"]).await;
    let insert = prepare(&session, "INSERT INTO ign.t (k) VALUES (?)").await;
    sim.reset_stats();
    for i in 0..100 {
        session.execute(&insert, (i,)).await.expect("insert");
    }
    let stats = sim.request_stats();
    let to_dc2: u64 = stats
        .iter()
        .filter(|s| s.node == 2)
        .map(|s| s.received)
        .sum();
    assert_eq!(to_dc2, 0, "nothing sent to the ignored node");
    let owned: u64 = stats.iter().map(|s| s.owned).sum();
    assert_eq!(owned, 100, "the dc1 replica and shard got every request");
}

async fn check_fallback_cluster(sim: Cluster, ks: &str) {
    let session = session(&sim).await;
    assert_eq!(
        session.open_connections(),
        12,
        "every shard covered through the normal port"
    );
    check_routing(&sim, &session, ks, SIMPLE_RF1, &[0, 1, 2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_without_shard_aware_port() {
    let sim = routing_support::builder()
        .no_shard_aware_port()
        .start()
        .await
        .expect("simulator starts");
    check_fallback_cluster(sim, "no_sa_port").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nat_rewriting_source_ports_falls_back_to_the_normal_port() {
    let sim = cluster(false).await;
    sim.set_shard_aware_nat(true);
    check_fallback_cluster(sim, "nat_port").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_route_by_their_first_prepared_statement() {
    let sim = cluster(false).await;
    let session = session(&sim).await;
    run_all(&session, &["CREATE KEYSPACE bat WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}", "CREATE TABLE bat.t (k int, c int, v text, PRIMARY KEY (k, c))"]).await;
    let insert = prepare(&session, "INSERT INTO bat.t (k, c, v) VALUES (?, ?, ?)").await;
    sim.reset_stats();
    for k in 0..100 {
        let typed = scylla2::Batch::new(
            scylla2::BatchType::Unlogged,
            (insert.clone(), insert.clone()),
        );
        session
            .execute(&typed, ((k, 1, "a"), (k, 2, "b")))
            .await
            .expect("typed batch");
        let dynamic = scylla2::Batch::new(
            scylla2::BatchType::Unlogged,
            vec![insert.clone(), insert.clone()],
        );
        session
            .execute(&dynamic, vec![(k, 3, "c"), (k, 4, "d")])
            .await
            .expect("dynamic batch");
    }
    let (_, with_token, owned) = totals(&sim);
    assert_eq!(with_token, 200);
    assert_eq!(owned, 200, "batches went to the owner of their partition");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lwt_statements_go_to_the_primary_replica() {
    let sim = cluster(false).await;
    let session = session(&sim).await;
    run_all(&session, &["CREATE KEYSPACE lwt WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}", "CREATE TABLE lwt.t (k int PRIMARY KEY, v int)"]).await;
    let cas = prepare(&session, "UPDATE lwt.t SET v = ? WHERE k = ? IF v = ?").await;
    assert!(cas.is_lwt(), "the simulator marks conditional statements");
    let plain = prepare(&session, "UPDATE lwt.t SET v = ? WHERE k = ?").await;
    assert!(!plain.is_lwt());
    for k in 0..20 {
        let primary = session.replicas("lwt", token_of_key(k))[0].0;
        let mut lwt_nodes = BTreeSet::new();
        let mut plain_nodes = BTreeSet::new();
        for i in 0..6 {
            let r = session.execute(&cas, (i, k, i - 1)).await.expect("cas");
            lwt_nodes.insert(r.execution().node.expect("node"));
            let r = session.execute(&plain, (i, k)).await.expect("update");
            plain_nodes.insert(r.execution().node.expect("node"));
        }
        assert_eq!(lwt_nodes, BTreeSet::from([primary]), "key {k}");
        assert!(
            plain_nodes.len() > 1,
            "plain statements rotate over replicas"
        );
    }
}

fn token_of_key(k: i32) -> Token {
    scylla2::routing::murmur3_token(&k.to_be_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_per_shard() {
    let sim = cluster(false).await;
    let mut config = scylla2::topology::TopologyConfig::default();
    config.pool.connections_per_shard = 2;
    let session = session_with(&sim, config).await;
    assert_eq!(session.open_connections(), 24);
    check_routing(&sim, &session, "two_per_shard", SIMPLE_RF1, &[0, 1, 2]).await;
}
