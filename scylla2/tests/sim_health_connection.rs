//! Connection failures that used to degrade silently, against the simulator's fault
//! injection (simulator-only; skipped with SCYLLA_URI):
//! - answers that never come no longer wedge a shard: past `max_orphaned_streams` the pool
//!   replaces the connection, and the shard keeps receiving its requests;
//! - a frame header announcing a body that never comes kills the connection after
//!   `frame_read_timeout`, instead of swallowing every later answer as body bytes;
//! - the heartbeat judges liveness by whole frames, so bytes of a frame that never
//!   completes do not keep a dead connection alive.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use scylla2::events::SessionEvent;
use scylla2::routing::murmur3_token;
use scylla2::{Session, error::ExecutionError};
use scylla2::{
    connection::{Connection, ConnectionConfig},
    error::ConnectionError,
};
use scylla2_cql::frame::HeaderFlags;
use scylla2_cql::request::Options;
use scylla2_sim::{Cluster, FaultAction, FaultRule, RequestKind};

/// Keys of `keyspace` whose token the node at `node` owns on `shard`, in key order.
fn keys_on_shard(session: &Session, keyspace: &str, shard: u32, n: usize) -> Vec<i32> {
    (0..)
        .filter(|k: &i32| {
            let replicas = session.replicas(keyspace, murmur3_token(&k.to_be_bytes()));
            replicas.first().is_some_and(|(_, s)| *s == Some(shard))
        })
        .take(n)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_replace_the_connection_instead_of_wedging_its_shard() {
    if std::env::var("SCYLLA_URI").is_ok() {
        return;
    }
    let sim = Cluster::builder()
        .shards(2)
        .port(0)
        .shard_aware_port(0)
        .start()
        .await
        .expect("simulator starts");
    const MAX_STREAMS: usize = 256;
    let mut config = ConnectionConfig::default();
    config.max_streams = MAX_STREAMS;
    let builder = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .connection_config(config);
    let mut events = builder.session_events();
    let session = builder.connect().await.expect("connects");
    let ks = common::keyspace("wedge");
    common::run_all(
        &session,
        &[
            common::create_keyspace(&ks),
            format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v int)"),
        ],
    )
    .await;
    let insert =
        common::prepare(&session, format!("INSERT INTO {ks}.t (k, v) VALUES (?, ?)")).await;
    let keys = keys_on_shard(&session, &ks, 0, 64);
    assert_eq!(keys.len(), 64);

    // Shard 0 never answers the next MAX_STREAMS writes: as many lost answers as the
    // connection has stream ids.
    sim.inject(
        FaultRule::new(FaultAction::NoAnswer)
            .node(0)
            .shard(0)
            .kind(RequestKind::Execute)
            .times(MAX_STREAMS as u32),
    );
    let session = Arc::new(session);
    // Only the writes that lose their answers time out early; the rest of the test keeps
    // the session's default timeout, so that a slow machine does not time them out too.
    let lossy = Arc::new(insert.clone().with_timeout(Duration::from_millis(200)));
    let mut lost = tokio::task::JoinSet::new();
    for i in 0..MAX_STREAMS {
        let (session, insert, k) = (session.clone(), lossy.clone(), keys[i % keys.len()]);
        lost.spawn(async move { session.execute(&*insert, (k, 0i32)).await });
    }
    let mut timeouts = 0;
    while let Some(r) = lost.join_next().await {
        if matches!(
            r.expect("joins")
                .map_err(scylla2::error::ExecuteError::into_kind),
            Err(ExecutionError::Timeout(_))
        ) {
            timeouts += 1;
        }
    }
    assert!(timeouts > 0, "the injected losses were hit");
    sim.clear_faults();

    let replaced = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.recv().await {
                Ok(SessionEvent::ConnectionReplaced {
                    shard,
                    orphaned_streams,
                    ..
                }) => break (shard, orphaned_streams),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("events closed: {e}"),
            }
        }
    })
    .await
    .expect("the connection of shard 0 is replaced");
    assert_eq!(replaced.0, Some(0));
    assert!(replaced.1 >= MAX_STREAMS / 4, "{replaced:?}");
    let stats = session.connection_stats();
    assert!(stats.replaced >= 1, "{stats:?}");

    // Shard 0 is served again, by its own connection, at the first attempt.
    sim.reset_stats();
    for round in 0..1_000usize {
        let k = keys[round % keys.len()];
        let result = session
            .execute(&insert, (k, 1i32))
            .await
            .unwrap_or_else(|e| panic!("request {round} after the losses: {e}"));
        let info = result.execution();
        assert_eq!(info.shard, Some(0), "request {round}: {info:?}");
        assert_eq!(info.attempts, 1, "request {round}: {info:?}");
    }
    let received: u64 = sim
        .request_stats()
        .iter()
        .filter(|s| s.node == 0 && s.shard == 0)
        .map(|s| s.received)
        .sum();
    assert!(received >= 1_000, "shard 0 received {received} of 1 000");
}

/// A connection to a fresh simulator speaking protocol `version`, with `config`.
async fn open(version: u8, config: &ConnectionConfig) -> (common::TestCluster, Connection) {
    let c = common::cluster(version).await;
    let addr = c.sim.as_ref().expect("simulator").contact_points()[0];
    let conn = Connection::open(addr, None, config)
        .await
        .expect("connects");
    conn.send(&Options, HeaderFlags::default())
        .await
        .expect("answers");
    (c, conn)
}

/// Starts a frame that never completes (a header announcing a body that never comes) in
/// answer to the next OPTIONS, then keeps sending OPTIONS every `every` (their answers
/// arrive as the missing body's bytes) until the connection dies or `limit` passes.
async fn stall_then_traffic(
    c: &common::TestCluster,
    conn: &Connection,
    version: u8,
    every: Duration,
    limit: Duration,
) -> (Result<(), ConnectionError>, Duration) {
    let claimed = if version >= 5 { 100_000 } else { 1_000_000 };
    let sim = c.sim.as_ref().expect("simulator");
    sim.inject(FaultRule::new(FaultAction::StallFrame(claimed)).kind(RequestKind::Options));
    let started = Instant::now();
    let stalled = conn.send(&Options, HeaderFlags::default());
    let traffic = async {
        while !conn.is_closed() && started.elapsed() < limit {
            tokio::time::sleep(every).await;
            let _ = conn.start_send(&Options, HeaderFlags::default(), None);
        }
    };
    let both = async { tokio::join!(stalled, traffic) };
    match tokio::time::timeout(limit + Duration::from_secs(1), both).await {
        Ok((stalled, ())) => (stalled.map(|_| ()), started.elapsed()),
        // The stalled request never ended: the connection is wedged.
        Err(_) => (Err(ConnectionError::DeadlinePassed), started.elapsed()),
    }
}

#[tokio::test]
async fn a_frame_that_never_completes_kills_the_connection() {
    if std::env::var("SCYLLA_URI").is_ok() {
        return;
    }
    for version in [4u8, 5] {
        let mut config = ConnectionConfig::default();
        config.frame_read_timeout = Duration::from_millis(300);
        config.heartbeat_interval = None;
        let (c, conn) = open(version, &config).await;
        let every = Duration::from_millis(20);
        let (stalled, took) =
            stall_then_traffic(&c, &conn, version, every, Duration::from_secs(5)).await;
        assert!(conn.is_closed(), "v{version}: still open after {took:?}");
        assert!(
            matches!(conn.error(), Some(ConnectionError::FrameReadTimeout { .. })),
            "v{version}: {:?}",
            conn.error()
        );
        assert!(
            matches!(&stalled, Err(ConnectionError::Broken(e)) if matches!(**e, ConnectionError::FrameReadTimeout { .. })),
            "v{version}: {stalled:?}"
        );
        // Detected between one and two timeouts after the frame started (0.3-0.6 s; the
        // bound leaves a slow machine room, the traffic would have kept it open for 5 s).
        assert!(took < Duration::from_secs(3), "v{version}: {took:?}");
        eprintln!("v{version}: a stalled frame killed its connection after {took:?}");
    }
}

#[tokio::test]
async fn heartbeats_count_whole_frames_not_bytes() {
    if std::env::var("SCYLLA_URI").is_ok() {
        return;
    }
    let mut config = ConnectionConfig::default();
    // Only the heartbeat can find this stall.
    config.frame_read_timeout = Duration::from_secs(3_600);
    config.heartbeat_interval = Some(Duration::from_millis(200));
    config.heartbeat_timeout = Duration::from_millis(300);
    let (c, conn) = open(4, &config).await;
    let every = Duration::from_millis(10);
    let (_, took) = stall_then_traffic(&c, &conn, 4, every, Duration::from_secs(5)).await;
    assert!(
        conn.is_closed(),
        "bytes kept arriving, but no frame: still open after {took:?}"
    );
    assert!(
        matches!(conn.error(), Some(ConnectionError::HeartbeatTimeout(_))),
        "{:?}",
        conn.error()
    );
    // Silence seen within two intervals, then the heartbeat's own timeout (about 0.7 s; the
    // bound leaves a slow machine room, the traffic would have kept it open for 5 s).
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test]
async fn an_unrouted_session_replaces_a_connection_full_of_lost_answers() {
    if std::env::var("SCYLLA_URI").is_ok() {
        return;
    }
    let sim = Cluster::builder()
        .port(0)
        .start()
        .await
        .expect("simulator starts");
    let mut config = ConnectionConfig::default();
    config.max_streams = 64;
    config.max_orphaned_streams = Some(16);
    let builder = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .topology(None)
        .connection_config(config);
    let mut events = builder.session_events();
    let session = Arc::new(builder.connect().await.expect("connects"));
    let probe = "SELECT release_version FROM system.local";
    sim.inject(
        FaultRule::new(FaultAction::NoAnswer)
            .kind(RequestKind::Query)
            .query_contains("release_version")
            .times(64),
    );
    // Given up after half a second rather than the session's default timeout.
    let lossy = Arc::new(scylla2::Query::new(probe).with_timeout(Duration::from_millis(500)));
    let mut lost = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (session, lossy) = (session.clone(), lossy.clone());
        lost.spawn(async move { session.execute(&*lossy, ()).await.map(|_| ()) });
    }
    while lost.join_next().await.is_some() {}
    sim.clear_faults();
    // The next request finds the connection retiring (its ids all held: it fails at once,
    // unsent) and opens its replacement, which serves the requests after it.
    let recovered = tokio::time::timeout(Duration::from_secs(2), async {
        while session.execute(probe, ()).await.is_err() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(recovered.is_ok(), "{:?}", session.connection_stats());
    let replaced = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(SessionEvent::ConnectionReplaced {
                orphaned_streams, ..
            }) = events.recv().await
            {
                break orphaned_streams;
            }
        }
    })
    .await
    .expect("ConnectionReplaced");
    assert!(replaced >= 16, "{replaced}");
    let stats = session.connection_stats();
    assert_eq!((stats.replaced, stats.open), (1, 1), "{stats:?}");
    assert_eq!(
        stats.orphaned_streams, 0,
        "the new connection holds none: {stats:?}"
    );
}
