//! Schema agreement: after a schema change (CREATE, ALTER, DROP), each node learns it in
//! turn; until every node reports the same schema version, a statement using the new schema
//! may reach a node that does not know it yet.
//!
//! By default the driver waits for agreement after each schema change it runs. This example
//! turns that off to run several changes in a row, then waits once with
//! `Session::await_schema_agreement`, and checks without waiting with
//! `Session::check_schema_agreement`.
//!
//! `cargo run -p scylla2 --example schema_agreement` runs it against an embedded simulated
//! 3-node cluster (scylla2-sim, started inside this process); with `SCYLLA_URI=host:port`
//! set it runs against that cluster instead.

use std::time::Duration;

use scylla2::Session;
use scylla2::events::SessionEvent;
use scylla2::topology::TopologyConfig;
use tokio::sync::broadcast::error::TryRecvError;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A real cluster from SCYLLA_URI, or a simulated one of 3 nodes on a free port.
    let (uri, _sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => (uri, None),
        Err(_) => {
            let sim = scylla2_sim::Cluster::builder()
                .nodes(3)
                .port(0)
                .start()
                .await?;
            (sim.contact_points()[0].to_string(), Some(sim))
        }
    };

    // Schema agreement is read through the control connection (part of topology, on by
    // default): no automatic wait, at most 30 s when asked to wait.
    let mut topology = TopologyConfig::default();
    topology.await_schema_agreement = false;
    topology.schema_agreement_timeout = Duration::from_secs(30);
    let builder = Session::builder()
        .contact_point(uri.as_str())
        .topology(Some(topology));
    // Session events (agreement reached or timed out, among others), subscribed before
    // connecting so that none is missed.
    let mut events = builder.session_events();
    println!("Connecting to {uri}");
    let session = builder.connect().await?;
    println!("   {} node(s)", session.nodes().len());

    println!("\n1. Several schema changes in a row, without waiting after each");
    for ddl in [
        "CREATE KEYSPACE IF NOT EXISTS example_schema WITH replication = \
         {'class': 'SimpleStrategy', 'replication_factor': 1}",
        "CREATE TABLE IF NOT EXISTS example_schema.a (id int PRIMARY KEY, v text)",
        "CREATE TABLE IF NOT EXISTS example_schema.b (id int PRIMARY KEY, v text)",
    ] {
        let result = session.execute(ddl, ()).await?;
        // A schema change answers with what changed (nothing when it already existed).
        match result.schema_change() {
            Some(change) => println!("   {:?} {:?}", change.change_type, change.target),
            None => println!("   nothing changed (it already existed)"),
        }
    }

    println!("\n2. check_schema_agreement: one look, no waiting");
    match session.check_schema_agreement().await? {
        Some(version) => println!("   every node has schema version {version}"),
        None => println!("   the nodes do not agree yet"),
    }

    println!("\n3. await_schema_agreement: wait until every live node agrees");
    let version = session.await_schema_agreement().await?;
    println!("   agreed on {version}");

    // Now the new tables can be used on any node.
    session
        .execute(
            "INSERT INTO example_schema.a (id, v) VALUES (1, 'ready')",
            (),
        )
        .await?;
    println!("   wrote to example_schema.a");

    println!("\n4. The session events about it");
    // `try_recv` reads what was published so far, without waiting.
    loop {
        match events.try_recv() {
            Ok(SessionEvent::SchemaAgreementReached { version, elapsed }) => {
                println!("   agreement on {version} reached in {elapsed:?}");
            }
            Ok(SessionEvent::SchemaAgreementTimedOut { timeout }) => {
                println!("   no agreement within {timeout:?}");
            }
            Ok(_) => {} // connections opened, topology refreshes, …
            // A receiver that fell behind lost the oldest events; it goes on with the others.
            Err(TryRecvError::Lagged(missed)) => println!("   ({missed} events missed)"),
            Err(_) => break, // nothing more for now
        }
    }

    println!("\nDone.");
    Ok(())
}
