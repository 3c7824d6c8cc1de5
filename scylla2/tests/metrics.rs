//! Metrics (feature `metrics`) against the simulator (simulator-only; skipped with
//! SCYLLA_URI): requests, latency percentiles, errors by kind, retries and timeouts are
//! counted per node and in total; connection counters follow the session's events.
#![cfg(feature = "metrics")]

use std::time::Duration;

use scylla2::{Query, Session};
use scylla2_sim::{Cluster, FaultAction, FaultRule, RequestKind, SimError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_are_counted_per_node_with_latencies() {
    if std::env::var("SCYLLA_URI").is_ok() {
        return;
    }
    let sim = Cluster::builder()
        .nodes(2)
        .port(0)
        .start()
        .await
        .expect("simulator starts");
    let session = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .default_idempotent(true)
        .connect()
        .await
        .expect("connects");
    let query = "SELECT release_version FROM system.local";
    for _ in 0..100 {
        session.execute(query, ()).await.expect("answers");
    }
    // One overloaded answer (retried on the other node), one lost answer (timed out).
    sim.inject(
        FaultRule::error(SimError::Overloaded("busy".into()))
            .kind(RequestKind::Query)
            .query_contains("release_version")
            .times(1),
    );
    session.execute(query, ()).await.expect("retried");
    sim.inject(
        FaultRule::new(FaultAction::NoAnswer)
            .kind(RequestKind::Query)
            .query_contains("release_version")
            .times(1),
    );
    let timed_out = Query::new(query).with_timeout(Duration::from_millis(100));
    assert!(session.execute(&timed_out, ()).await.is_err());
    // The timeout made its connection suspect; its probe (one more request in flight) is
    // answered at once: wait for it so that the gauges read a quiet session.
    let quiet = tokio::time::timeout(Duration::from_secs(5), async {
        while session.connection_stats().suspect > 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    assert!(quiet.is_ok(), "{:?}", session.connection_stats());

    let m = session.metrics();
    // 101 answered, 1 overloaded, 1 timed out.
    assert_eq!(m.requests, 103, "{m:?}");
    assert_eq!(m.latency.count, 101, "{m:?}");
    assert!(
        m.latency.p50 > Duration::ZERO && m.latency.p50 <= m.latency.p99,
        "{m:?}"
    );
    assert!(m.latency.p99 <= m.latency.max, "{m:?}");
    assert_eq!((m.errors.server, m.errors.timeout), (1, 1), "{m:?}");
    assert_eq!((m.retries, m.timeouts), (1, 1), "{m:?}");
    assert_eq!(m.per_node.len(), 2, "{m:?}");
    assert_eq!(m.per_node.iter().map(|n| n.requests).sum::<u64>(), 103);
    assert_eq!(m.connections_open, session.open_connections());
    assert!(m.connections_opened >= 2, "{m:?}");
    assert_eq!(m.in_flight, 0, "{m:?}");
    // The lost answer's stream id stays held until the connection closes.
    assert_eq!(m.orphaned_streams, 1, "{m:?}");
}
