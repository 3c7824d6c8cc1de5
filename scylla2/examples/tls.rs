//! Client TLS (feature `rustls-023`): trust a CA, connect, and query over encrypted
//! connections, including ScyllaDB's shard-aware TLS port.
//!
//! `cargo run -p scylla2 --features rustls-023 --example tls` runs it against an embedded
//! simulated cluster serving TLS with a test CA generated at start (1 node with 2 shards:
//! the second shard's connection goes through the shard-aware TLS port). With
//! `SCYLLA_URI=host:port` it connects to that node instead, trusting the CA certificate in
//! the PEM file named by `SCYLLA_CA_PEM` (and presenting the client certificate and key of
//! `SCYLLA_CLIENT_CERT` and `SCYLLA_CLIENT_KEY` when both are set, for mutual TLS).

use scylla2::Session;
use scylla2::connection::TlsContext;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the simulator alive for the whole run when there is no real cluster.
    let (uri, tls, sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => {
            let Ok(ca_path) = std::env::var("SCYLLA_CA_PEM") else {
                return Err(
                    "SCYLLA_URI is set: name the CA certificate file in SCYLLA_CA_PEM".into(),
                );
            };
            println!("Using the cluster at {uri} (from SCYLLA_URI), trusting {ca_path}.");
            let ca = std::fs::read(&ca_path)?;
            let client = match (
                std::env::var("SCYLLA_CLIENT_CERT"),
                std::env::var("SCYLLA_CLIENT_KEY"),
            ) {
                (Ok(cert), Ok(key)) => Some((std::fs::read(cert)?, std::fs::read(key)?)),
                _ => None,
            };
            let client = client.as_ref().map(|(c, k)| (c.as_slice(), k.as_slice()));
            (uri, TlsContext::from_pem(&ca, client)?, None)
        }
        Err(_) => {
            let sim = scylla2_sim::Cluster::builder()
                .port(0)
                .shard_aware_port(0)
                .shards(2)
                .tls(scylla2_sim::SimTls::self_signed()?)
                .start()
                .await?;
            let uri = sim.contact_points()[0].to_string();
            println!("SCYLLA_URI is not set, so this example started its own cluster:");
            println!(
                "an embedded simulated one (scylla2-sim: 1 node with 2 shards, in memory, inside \
                 this process) serving TLS only on {uri} and on its shard-aware port {}, with a \
                 test CA generated at start.",
                sim.shard_aware_port()
            );
            let ca = sim.tls_ca_pem().ok_or("the simulator has a test CA")?;
            (uri, TlsContext::from_pem(ca.as_bytes(), None)?, Some(sim))
        }
    };

    println!("\n1. Connecting to {uri} over TLS (the node's certificate is verified)");
    let session = Session::builder()
        .contact_point(uri)
        .tls(tls)
        .connect()
        .await?;
    if sim.is_some() {
        // The pool opens the second shard's connection in the background.
        for _ in 0..200 {
            if session.pooled_connections() >= 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    println!(
        "   connected: {} node(s), {} encrypted connection(s) open.",
        session.nodes().len(),
        session.open_connections()
    );
    if let Some(sim) = &sim {
        println!(
            "   of them through the shard-aware TLS port: {}.",
            sim.shard_aware_connections(0)?
        );
    }

    println!("\n2. Querying over TLS");
    let result = session
        .execute("SELECT release_version FROM system.local", ())
        .await?;
    let (version,): (&str,) = result.single_row()?;
    println!("   release_version: {version}");

    println!("\nDone.");
    Ok(())
}
