//! Shared helpers for the integration tests: a cluster to talk to (the embedded simulator,
//! or a real one named by `SCYLLA_URI=host:port`), unique keyspace names, stream draining.
#![allow(dead_code)]

pub mod counting;

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_core::Stream;
use scylla2_sim::Cluster;

/// Where the tests connect.
pub struct TestCluster {
    /// The simulator, when `SCYLLA_URI` is unset.
    pub sim: Option<Cluster>,
    /// `host:port` contact point.
    pub uri: String,
}

impl TestCluster {
    /// Whether simulator-only features (fault injection, …) are available.
    pub fn is_sim(&self) -> bool {
        self.sim.is_some()
    }
}

/// A cluster: `SCYLLA_URI` or a fresh 1-node simulator with protocol `max_version`.
pub async fn cluster(max_version: u8) -> TestCluster {
    if let Ok(uri) = std::env::var("SCYLLA_URI") {
        return TestCluster { sim: None, uri };
    }
    let sim = Cluster::builder()
        .port(0)
        .max_protocol_version(max_version)
        .start()
        .await
        .expect("simulator starts");
    let uri = sim.contact_points()[0].to_string();
    TestCluster {
        sim: Some(sim),
        uri,
    }
}

/// Whether the cluster executes CQL: false only while the simulator's server still runs its
/// stand-in engine (before the engine branch is merged into it); tests then skip.
pub async fn engine_available(uri: &str) -> bool {
    let session = scylla2::Session::builder()
        .contact_point(uri)
        .connect()
        .await
        .expect("connects");
    let query = session
        .execute(create_keyspace("probe_engine").as_str(), ())
        .await
        .err();
    let prepare = session
        .prepare("SELECT release_version FROM system.local")
        .await
        .err();
    let query = query.map(scylla2::error::ExecuteError::into_kind);
    let stub = [query, prepare].into_iter().flatten().any(|e| {
        matches!(&e, scylla2::error::ExecutionError::Db { message, .. } if message.contains("engine stub"))
    });
    if stub {
        eprintln!("skipped: the simulator's CQL engine is not merged into its server yet");
    }
    !stub
}

/// A keyspace name unique to this process and call.
pub fn keyspace(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// `CREATE KEYSPACE` with SimpleStrategy RF 1.
pub fn create_keyspace(name: &str) -> String {
    format!(
        "CREATE KEYSPACE IF NOT EXISTS {name} WITH replication = \
         {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    )
}

/// The next item of a stream.
pub async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// Receives session events until `found` maps one to `Some`, which it returns; panics with
/// `what` when none does within `secs` seconds.
pub async fn await_event<T>(
    events: &mut tokio::sync::broadcast::Receiver<scylla2::events::SessionEvent>,
    secs: u64,
    what: &str,
    mut found: impl FnMut(scylla2::events::SessionEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect(what)
            .expect("not lagged");
        if let Some(t) = found(ev) {
            return t;
        }
    }
}

/// Sleeps `every_ms` milliseconds at a time while `pending` holds; panics with `what` when it
/// still holds after `secs` seconds.
pub async fn wait_while(secs: u64, every_ms: u64, what: &str, mut pending: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while pending() {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(every_ms)).await;
    }
}

/// Runs each statement in order (schema set-up), panicking with the statement on failure.
pub async fn run_all<S: AsRef<str>>(session: &scylla2::Session, statements: &[S]) {
    for statement in statements {
        let statement = statement.as_ref();
        if let Err(e) = session.execute(statement, ()).await {
            panic!("{statement}: {e}");
        }
    }
}

/// A cluster ([`cluster`] with `max_version`), a session on it, and a fresh keyspace named
/// after `prefix` with each of `tables(keyspace)` run in it; `None` (the test skips) when
/// the cluster does not execute CQL yet.
pub async fn keyspace_session(
    max_version: u8,
    prefix: &str,
    tables: impl FnOnce(&str) -> Vec<String>,
) -> Option<(TestCluster, scylla2::Session, String)> {
    let c = cluster(max_version).await;
    if !engine_available(&c.uri).await {
        return None;
    }
    let session = scylla2::Session::builder()
        .contact_point(c.uri.clone())
        .connect()
        .await
        .unwrap();
    let ks = keyspace(prefix);
    let mut statements = vec![create_keyspace(&ks)];
    statements.extend(tables(&ks));
    run_all(&session, &statements).await;
    Some((c, session, ks))
}

/// Executes one unprepared statement without values, panicking with the statement on
/// failure.
pub async fn query(session: &scylla2::Session, statement: impl AsRef<str>) -> scylla2::QueryResult {
    let statement = statement.as_ref();
    match session.execute(statement, ()).await {
        Ok(result) => result,
        Err(e) => panic!("{statement}: {e}"),
    }
}

/// Prepares one statement, panicking with the statement on failure.
pub async fn prepare(
    session: &scylla2::Session,
    statement: impl AsRef<str>,
) -> scylla2::PreparedStatement {
    let statement = statement.as_ref();
    match session.prepare(statement).await {
        Ok(prepared) => prepared,
        Err(e) => panic!("{statement}: {e}"),
    }
}
