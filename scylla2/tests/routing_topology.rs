//! Topology against the simulator with 3 nodes × 4 shards: events (database and session),
//! a node stopped under load and restarted, control connection failover, nodes added and
//! removed, schema agreement and its timeout, dropped connections, periodic refresh, and
//! shutdown when the session is dropped.

mod common;
mod routing_support;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{await_event, prepare, query, run_all, wait_while};
use routing_support::{check_routing, cluster, session, session_with};
use scylla2::Session;
use scylla2::events::SessionEvent;
use scylla2::routing::Token;
use scylla2_sim::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_report_schema_changes_and_node_state() {
    let sim = cluster(false).await;
    let session = session(&sim).await;
    let mut db = session.database_events();
    let mut events = session.session_events();
    query(&session, "CREATE KEYSPACE ev WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    let got = tokio::time::timeout(Duration::from_secs(5), db.recv())
        .await
        .expect("a database event")
        .expect("not lagged");
    assert!(
        matches!(&got, scylla2::events::DatabaseEvent::SchemaChange(_)),
        "{got:?}"
    );
    // Agreement is awaited after DDL; the event follows.
    let mut agreed = false;
    let mut refreshed = false;
    await_event(&mut events, 5, "session events", |ev| {
        match ev {
            SessionEvent::SchemaAgreementReached { .. } => agreed = true,
            SessionEvent::TopologyRefreshed { .. } => refreshed = true,
            _ => {}
        }
        (agreed && refreshed).then_some(())
    })
    .await;
    // A node stopped: its pool goes down; restarted: it comes back with every shard.
    bounce_node(&sim, &mut events, 2, Duration::ZERO).await;
    wait_while(10, 50, "pool not rebuilt", || {
        session.pooled_connections() < 12
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_stopped_under_load() {
    let sim = cluster(false).await;
    let session = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .default_idempotent(true)
        .request_timeout(Some(Duration::from_secs(5)))
        .connect()
        .await
        .expect("connects");
    let mut events = session.session_events();
    run_all(&session, &["CREATE KEYSPACE load WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}", "CREATE TABLE load.t (k int PRIMARY KEY, v int)"]).await;
    let insert = prepare(&session, "INSERT INTO load.t (k, v) VALUES (?, ?)").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..8 {
        let (session, insert, stop) = (session.clone(), insert.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut ok = 0u64;
            let mut i = w;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                session
                    .execute(&insert, (i, i))
                    .await
                    .expect("idempotent requests succeed on other replicas");
                ok += 1;
                i += 8;
            }
            ok
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    bounce_node(&sim, &mut events, 1, Duration::from_millis(300)).await;
    wait_while(10, 50, "pool not rebuilt", || {
        session.open_connections() < 12
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for w in workers {
        total += tokio::time::timeout(Duration::from_secs(10), w)
            .await
            .expect("no worker hangs")
            .expect("worker ok");
    }
    assert!(total > 100, "{total} requests");
    // The restarted node serves its shards again.
    sim.reset_stats();
    for i in 0..300 {
        session.execute(&insert, (i, i)).await.expect("insert");
    }
    let got: u64 = sim
        .request_stats()
        .iter()
        .filter(|s| s.node == 1)
        .map(|s| s.owned)
        .sum();
    assert!(got > 0, "node 1 gets requests again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_connection_fails_over() {
    let sim = cluster(false).await;
    let session = session(&sim).await;
    let mut events = session.session_events();
    let mut db = session.database_events();
    // The contact point (node 0) holds the control connection.
    sim.stop_node(0).await.expect("stop");
    let moved_to = await_event(&mut events, 10, "control connection moves", |ev| match ev {
        SessionEvent::ControlConnectionChanged { node } => Some(node),
        _ => None,
    })
    .await;
    assert_ne!(moved_to.ip(), sim.nodes()[0].address);
    // Events arrive through the new control connection; routing follows the new schema.
    // RF 3: with node 0 down, LOCAL_QUORUM (the default) still finds 2 of 3 replicas; the
    // simulator answers UNAVAILABLE as a real node does when too few are alive.
    query(&session, "CREATE KEYSPACE fo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let ev = tokio::time::timeout_at(deadline, db.recv())
            .await
            .expect("schema event")
            .expect("not lagged");
        if matches!(ev, scylla2::events::DatabaseEvent::SchemaChange(_)) {
            break;
        }
    }
    assert!(!session.replicas("fo", Token(42)).is_empty());
    // Preparing and executing work without the contact point.
    query(&session, "CREATE TABLE fo.t (k int PRIMARY KEY)").await;
    let insert = session
        .prepare("INSERT INTO fo.t (k) VALUES (?)")
        .await
        .expect("prepared on another node");
    for k in 0..20 {
        session.execute(&insert, (k,)).await.expect("insert");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_added_and_removed_follow_topology_events() {
    let sim = cluster(false).await;
    let session = session(&sim).await;
    let mut events = session.session_events();
    let added = sim.add_node().await.expect("add node");
    let addr = sim.nodes()[added].address;
    await_event(&mut events, 10, "node added event", |ev| {
        matches!(ev, SessionEvent::NodeAdded { node, .. } if node.ip() == addr).then_some(())
    })
    .await;
    assert_eq!(session.nodes().len(), 4);
    wait_while(10, 20, "new node's pool not filled", || {
        session.open_connections() < 16
    })
    .await;
    // Its tokens take part in routing.
    check_routing(
        &sim,
        &session,
        "grown",
        "{'class': 'SimpleStrategy', 'replication_factor': 1}",
        &[0, 1, 2, 3],
    )
    .await;
    sim.remove_node(added).await.expect("remove node");
    await_event(&mut events, 10, "node removed event", |ev| {
        matches!(ev, SessionEvent::NodeRemoved { node, .. } if node.ip() == addr).then_some(())
    })
    .await;
    assert_eq!(session.nodes().len(), 3);
    wait_while(10, 20, "removed node's pool not closed", || {
        session.open_connections() > 12
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_agreement_times_out_without_hanging() {
    let sim = cluster(false).await;
    let mut config = scylla2::topology::TopologyConfig::default();
    config.schema_agreement_timeout = Duration::from_millis(300);
    let session = session_with(&sim, config).await;
    let version = session.await_schema_agreement().await.expect("agreement");
    assert_ne!(version, uuid::Uuid::nil());
    let mut events = session.session_events();
    // The nodes stop answering schema version queries.
    sim.inject(
        scylla2_sim::FaultRule::new(scylla2_sim::FaultAction::NoAnswer)
            .query_contains("schema_version")
            .times(1000),
    );
    let start = std::time::Instant::now();
    let err = session
        .await_schema_agreement()
        .await
        .expect_err("no agreement");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(matches!(
        err,
        scylla2::error::TopologyError::SchemaAgreementTimeout(_)
    ));
    await_event(&mut events, 2, "timed-out event", |ev| {
        matches!(ev, SessionEvent::SchemaAgreementTimedOut { .. }).then_some(())
    })
    .await;
    sim.clear_faults();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_are_reported_and_replaced_per_shard() {
    let sim = cluster(false).await;
    let session = session(&sim).await;
    let mut events = session.session_events();
    let node0 = sim.nodes()[0].address;
    sim.drop_connections(0).expect("drop");
    let mut closed = BTreeSet::new();
    let mut opened = BTreeSet::new();
    await_event(&mut events, 10, "connection events", |ev| {
        match ev {
            SessionEvent::ConnectionClosed { node, shard } if node.ip() == node0 => {
                closed.insert(shard);
            }
            SessionEvent::ConnectionOpened { node, shard } if node.ip() == node0 => {
                opened.insert(shard);
            }
            _ => {}
        }
        (opened.len() >= 4 && closed.len() >= 4).then_some(())
    })
    .await;
    let all: BTreeSet<Option<u32>> = (0..4).map(Some).collect();
    assert_eq!(closed, all);
    assert_eq!(opened, all);
    assert_eq!(session.open_connections(), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topology_is_refreshed_periodically() {
    let sim = cluster(false).await;
    let mut config = scylla2::topology::TopologyConfig::default();
    config.refresh_interval = Duration::from_millis(100);
    let session = session_with(&sim, config).await;
    let mut events = session.session_events();
    let mut refreshed = 0;
    await_event(&mut events, 3, "periodic refreshes", |ev| {
        if matches!(ev, SessionEvent::TopologyRefreshed { nodes: 3, .. }) {
            refreshed += 1;
        }
        (refreshed >= 3).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_session_closes_every_connection() {
    let sim = cluster(false).await;
    let session = session(&sim).await;
    let total = |sim: &Cluster| -> usize { (0..3).map(|i| sim.connection_count(i).unwrap()).sum() };
    assert!(total(&sim) >= 12, "pools and control connection open");
    let clone = session.clone();
    drop(session);
    assert!(total(&sim) >= 12, "a clone keeps them open");
    drop(clone);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while total(&sim) > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} connections left",
            total(&sim)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_down_at_startup_does_not_delay_connect_and_is_skipped() {
    let sim = cluster(false).await;
    sim.stop_node(2).await.expect("stop");
    let start = std::time::Instant::now();
    let session = session(&sim).await;
    // Well under a second here; a connect that waited for the down node would take the
    // connect timeout (5 s) at least.
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "connect took {:?}",
        start.elapsed()
    );
    assert_eq!(session.nodes().len(), 3, "the down node is known");
    assert_eq!(session.open_connections(), 8);
    // RF 3 so that LOCAL_QUORUM (the default) holds with one node down: with RF 2 a real
    // node (and the simulator) answers UNAVAILABLE for the keys the down node replicates.
    run_all(&session, &["CREATE KEYSPACE down_start WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}", "CREATE TABLE down_start.t (k int PRIMARY KEY)"]).await;
    let insert = prepare(&session, "INSERT INTO down_start.t (k) VALUES (?)")
        .await
        .with_idempotent(true);
    for k in 0..50 {
        session
            .execute(&insert, (k,))
            .await
            .expect("a live replica answers");
    }
    sim.start_node(2).await.expect("start");
    wait_while(15, 50, "pool never built", || {
        session.open_connections() < 12
    })
    .await;
}

/// Stops node `i` of `sim`, waits for its NodeDown event, starts it again after `pause` and
/// waits for its NodeUp event.
async fn bounce_node(
    sim: &Cluster,
    events: &mut tokio::sync::broadcast::Receiver<SessionEvent>,
    i: usize,
    pause: Duration,
) {
    sim.stop_node(i).await.expect("stop");
    let addr = sim.nodes()[i].address;
    await_event(events, 10, "node down event", |ev| {
        matches!(ev, SessionEvent::NodeDown { node } if node.ip() == addr).then_some(())
    })
    .await;
    tokio::time::sleep(pause).await;
    sim.start_node(i).await.expect("start");
    await_event(events, 15, "node up event", |ev| {
        matches!(ev, SessionEvent::NodeUp { node } if node.ip() == addr).then_some(())
    })
    .await;
}
