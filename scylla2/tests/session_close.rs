//! Graceful shutdown against the simulator (simulator-only; skipped with SCYLLA_URI):
//! `Session::close` lets the requests in flight finish, refuses new ones, cuts off those
//! still waiting at its deadline, and leaves no connection and no task behind, for routed
//! and unrouted sessions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use scylla2::{Session, error::ExecutionError};
use scylla2_sim::{Cluster, FaultAction, FaultRule, RequestKind};

const QUERY: &str = "SELECT release_version FROM system.local";

fn skip() -> bool {
    std::env::var("SCYLLA_URI").is_ok()
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Waits (3 s at most) until `done` holds.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > Duration::from_secs(3) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_drains_in_flight_requests_then_refuses_and_leaves_nothing_running() {
    if skip() {
        return;
    }
    let sim = Cluster::builder()
        .nodes(2)
        .shards(2)
        .port(0)
        .shard_aware_port(0)
        .start()
        .await
        .expect("simulator starts");
    let before = alive_tasks();
    let session = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .connect()
        .await
        .expect("connects");
    session.execute(QUERY, ()).await.expect("answers");
    assert!(alive_tasks() > before);
    for node in 0..2 {
        sim.set_delay(node, None, Duration::from_millis(300))
            .expect("delays");
    }
    let session = Arc::new(session);
    sim.reset_stats();
    let sent = Instant::now();
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let session = session.clone();
        requests.spawn(async move { session.execute(QUERY, ()).await.map(|_| ()) });
    }
    // Every request has reached the simulator (each is answered 300 ms after it arrived).
    let received = || sim.request_stats().iter().map(|s| s.received).sum::<u64>();
    assert!(
        eventually(|| received() >= 40).await,
        "{} arrived",
        received()
    );
    let summary = session.close(Duration::from_secs(5)).await;
    assert_eq!((summary.drained, summary.failed), (40, 0), "{summary:?}");
    // The close returned after the answers, not before.
    assert!(sent.elapsed() >= Duration::from_millis(300), "{summary:?}");
    while let Some(r) = requests.join_next().await {
        r.expect("joins")
            .expect("in-flight requests complete during close");
    }
    // New work is refused, on every clone.
    assert!(session.is_closed());
    let refused = session.execute(QUERY, ()).await.expect_err("refused");
    assert!(
        matches!(refused.kind(), ExecutionError::SessionClosed),
        "{refused}"
    );
    assert!(matches!(
        session.prepare(QUERY).await,
        Err(ExecutionError::SessionClosed)
    ));
    // Nothing remains: no connection on either node, no task of the session.
    assert!(
        eventually(|| (0..2).all(|n| sim.connection_count(n).ok() == Some(0))).await,
        "connections left: {:?}",
        (0..2)
            .map(|n| sim.connection_count(n).ok())
            .collect::<Vec<_>>()
    );
    assert!(
        eventually(|| alive_tasks() <= before).await,
        "{} tasks alive, {before} before the session",
        alive_tasks()
    );
    // A second close returns at once.
    let again = session.close(Duration::from_secs(5)).await;
    assert_eq!((again.drained, again.failed), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_cuts_off_requests_still_waiting_at_its_deadline() {
    if skip() {
        return;
    }
    let sim = Cluster::builder()
        .port(0)
        .start()
        .await
        .expect("simulator starts");
    let before = alive_tasks();
    let session = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .topology(None)
        .connections_per_node(2)
        .request_timeout(None)
        .connect()
        .await
        .expect("connects");
    sim.inject(
        FaultRule::new(FaultAction::NoAnswer)
            .kind(RequestKind::Query)
            .query_contains("release_version")
            .times(5),
    );
    let session = Arc::new(session);
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let session = session.clone();
        requests.spawn(async move { session.execute(QUERY, ()).await.map(|_| ()) });
    }
    // Every request has reached the simulator, which will never answer it.
    assert!(eventually(|| !sim.faults_pending()).await);
    let summary = session.close(Duration::from_millis(200)).await;
    assert_eq!((summary.drained, summary.failed), (0, 5), "{summary:?}");
    assert!(summary.elapsed < Duration::from_secs(3), "{summary:?}");
    let cut_off = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(r) = requests.join_next().await {
            let err = r.expect("joins").expect_err("cut off");
            assert!(matches!(err.kind(), ExecutionError::SessionClosed), "{err}");
        }
    })
    .await;
    assert!(cut_off.is_ok(), "requests still waiting after the close");
    assert!(eventually(|| sim.connection_count(0).ok() == Some(0)).await);
    assert!(
        eventually(|| alive_tasks() <= before).await,
        "{} tasks alive, {before} before the session",
        alive_tasks()
    );
}
