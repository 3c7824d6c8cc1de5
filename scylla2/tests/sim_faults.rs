//! Failure handling against the simulator's fault injection (simulator-only; skipped with
//! SCYLLA_URI): dropped connections are replaced, malformed frames kill only their
//! connection, unanswered requests time out without blocking the others, and a connection
//! closed under requests fails them all at once.

mod common;

use std::time::Duration;

use scylla2::error::ExecutionError;
use scylla2::{Query, Session};
use scylla2::{
    connection::{Connection, ConnectionConfig},
    error::ConnectionError,
};
use scylla2_cql::frame::HeaderFlags;
use scylla2_cql::request::Options;
use scylla2_sim::{FaultAction, FaultRule, RequestKind};

async fn sim() -> Option<common::TestCluster> {
    let c = common::cluster(5).await;
    c.is_sim().then_some(c)
}

#[tokio::test]
async fn dropped_connections_are_replaced() {
    let Some(c) = sim().await else { return };
    let sim = c.sim.as_ref().unwrap();
    let s = Session::builder()
        .contact_point(c.uri.clone())
        .connections_per_node(2)
        .default_idempotent(true)
        .connect()
        .await
        .unwrap();
    s.execute("SELECT release_version FROM system.local", ())
        .await
        .unwrap();
    sim.drop_connections(0).unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let ok = s
                .execute("SELECT release_version FROM system.local", ())
                .await
                .is_ok();
            if ok && s.open_connections() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the session recovers both connections");
}

#[tokio::test]
async fn malformed_frame_kills_only_that_connection() {
    let Some(c) = sim().await else { return };
    let sim = c.sim.as_ref().unwrap();
    let addr = c.sim.as_ref().unwrap().contact_points()[0];
    let conn = Connection::open(addr, None, &ConnectionConfig::default())
        .await
        .unwrap();
    conn.send(&Options, HeaderFlags::default()).await.unwrap();
    sim.send_malformed(0).unwrap();
    tokio::time::timeout(Duration::from_secs(5), async {
        while !conn.is_closed() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    assert!(
        matches!(conn.error(), Some(ConnectionError::Frame(_))),
        "{:?}",
        conn.error()
    );
    let fresh = Connection::open(addr, None, &ConnectionConfig::default())
        .await
        .unwrap();
    fresh.send(&Options, HeaderFlags::default()).await.unwrap();
}

#[tokio::test]
async fn unanswered_request_times_out_without_blocking_others() {
    let Some(c) = sim().await else { return };
    let sim = c.sim.as_ref().unwrap();
    let s = Session::builder()
        .contact_point(c.uri.clone())
        .connect()
        .await
        .unwrap();
    sim.inject(
        FaultRule::new(FaultAction::NoAnswer)
            .kind(RequestKind::Query)
            .query_contains("never")
            .times(1),
    );
    let q = Query::new("SELECT release_version FROM system.local WHERE key = 'never'")
        .with_timeout(Duration::from_millis(100));
    let err = s.execute(&q, ()).await.unwrap_err();
    assert!(matches!(err.kind(), ExecutionError::Timeout(_)), "{err:?}");
    // Other requests on the same connection still work.
    for _ in 0..10 {
        s.execute("SELECT release_version FROM system.local", ())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn closed_connection_fails_every_waiter() {
    let Some(c) = sim().await else { return };
    let sim = c.sim.as_ref().unwrap();
    let addr = sim.contact_points()[0];
    let conn = std::sync::Arc::new(
        Connection::open(addr, None, &ConnectionConfig::default())
            .await
            .unwrap(),
    );
    sim.inject(
        FaultRule::new(FaultAction::NoAnswer)
            .kind(RequestKind::Options)
            .times(100),
    );
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let conn = conn.clone();
        tasks.spawn(async move { conn.send(&Options, HeaderFlags::default()).await });
    }
    while conn.in_flight() < 100 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sim.drop_connections(0).unwrap();
    let mut failed = 0;
    while let Some(r) = tasks.join_next().await {
        assert!(matches!(r.unwrap(), Err(ConnectionError::Broken(_))));
        failed += 1;
    }
    assert_eq!(failed, 100);
}

#[tokio::test]
async fn session_recovers_after_a_node_restart() {
    let Some(c) = sim().await else { return };
    let sim = c.sim.as_ref().unwrap();
    let s = Session::builder()
        .contact_point(c.uri.clone())
        .connections_per_node(2)
        .connect()
        .await
        .unwrap();
    sim.stop_node(0).await.unwrap();
    let err = s
        .execute("SELECT release_version FROM system.local", ())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ExecutionError::Connection(_) | ExecutionError::NoConnection
        ),
        "{err:?}"
    );
    sim.start_node(0).await.unwrap();
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if s.execute("SELECT release_version FROM system.local", ())
                .await
                .is_ok()
                && s.open_connections() == 2
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the session reconnects after the restart");
}
