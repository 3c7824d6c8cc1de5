//! What the driver tells operators: its `tracing` events (feature `tracing`) printed by
//! `tracing-subscriber`, while a node's connections drop and come back and the session
//! closes.
//!
//! `cargo run -p scylla2 --features tracing --example logging` runs it against an embedded
//! simulated cluster; `RUST_LOG` chooses what is printed (default `scylla2=debug`). With
//! `SCYLLA_URI=host:port` it connects to that node instead (and skips the dropped
//! connections, which only the simulator can cause).

use std::time::Duration;

use scylla2::Session;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("scylla2=debug"));
    tracing_subscriber::fmt().with_env_filter(filter).init();

    let (uri, sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => (uri, None),
        Err(_) => {
            let sim = scylla2_sim::Cluster::builder()
                .nodes(2)
                .shards(2)
                .port(0)
                .shard_aware_port(0)
                .start()
                .await?;
            let uri = sim.contact_points()[0].to_string();
            println!("Started an embedded simulated cluster (2 nodes x 2 shards) on {uri}.");
            (uri, Some(sim))
        }
    };

    println!("\n1. Connecting: handshakes, the control connection, one connection per shard.");
    let session = Session::builder().contact_point(uri).connect().await?;
    session
        .execute("SELECT release_version FROM system.local", ())
        .await?;

    if let Some(sim) = &sim {
        println!("\n2. The second node drops every connection: the pool reopens them.");
        sim.drop_connections(1)?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    println!("\n3. Closing the session: requests in flight may finish, then all stops.");
    let summary = session.close(Duration::from_secs(5)).await;
    println!(
        "   closed in {:?}: {} requests drained, {} cut off.",
        summary.elapsed, summary.drained, summary.failed
    );
    Ok(())
}
