//! Shared helpers for the integration tests: a cluster to talk to (the embedded simulator,
//! or a real one named by `SCYLLA_URI=host:port`), unique keyspace names, stream draining.
#![allow(dead_code)]

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
    let stub = [query, prepare].into_iter().flatten().any(|e| {
        matches!(&e, scylla2::ExecutionError::Db { message, .. } if message.contains("engine stub"))
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
