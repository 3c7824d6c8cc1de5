//! A "schema sidecar": keeps a live picture of the cluster's keyspaces and tables from the
//! session's database events, re-reading only the keyspace that changed.
//!
//! Run against a cluster: `cargo run -p scylla2 --example schema_sidecar -- host:9042`;
//! without an argument it starts an embedded 3-node simulator and makes a few changes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use scylla2::Session;
use scylla2::events::DatabaseEvent;
use scylla2_cql::response::SchemaChangeTarget;

/// Keyspace → tables.
type Picture = BTreeMap<String, BTreeSet<String>>;

async fn read_keyspace(session: &Session, keyspace: &str, picture: &mut Picture) {
    let query =
        scylla2::Query::new("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?");
    let tables = match session.execute(&query, (keyspace,)).await {
        Ok(result) => result
            .rows::<(String,)>()
            .map(|rows| rows.filter_map(Result::ok).map(|(t,)| t).collect())
            .unwrap_or_default(),
        Err(e) => {
            eprintln!("reading {keyspace}: {e}");
            return;
        }
    };
    picture.insert(keyspace.to_owned(), tables);
}

async fn apply(session: &Session, event: &DatabaseEvent, picture: &mut Picture) {
    let DatabaseEvent::SchemaChange(change) = event else {
        return;
    };
    let keyspace = match &change.target {
        SchemaChangeTarget::Keyspace { keyspace }
        | SchemaChangeTarget::Table { keyspace, .. }
        | SchemaChangeTarget::Type { keyspace, .. } => keyspace.clone(),
        _ => return,
    };
    let exists = session
        .execute(
            "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?",
            (keyspace.as_str(),),
        )
        .await
        .map(|r| r.rows_num() > 0)
        .unwrap_or(false);
    if exists {
        read_keyspace(session, &keyspace, picture).await;
    } else {
        picture.remove(&keyspace);
    }
    println!("after {change:?}:\n  {picture:?}");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (uri, sim) = match std::env::args().nth(1) {
        Some(uri) => (uri, None),
        None => {
            let sim = scylla2_sim::Cluster::builder()
                .nodes(3)
                .shards(2)
                .port(0)
                .shard_aware_port(0)
                .start()
                .await?;
            (sim.contact_points()[0].to_string(), Some(sim))
        }
    };
    let session = Session::builder().contact_point(uri).connect().await?;
    let mut events = session.database_events();
    let mut picture = Picture::new();
    let keyspaces = session
        .execute("SELECT keyspace_name FROM system_schema.keyspaces", ())
        .await?;
    let names: Vec<String> = keyspaces
        .rows::<(String,)>()?
        .filter_map(Result::ok)
        .map(|(k,)| k)
        .collect();
    for ks in names {
        read_keyspace(&session, &ks, &mut picture).await;
    }
    println!("initial picture: {picture:?}");

    if sim.is_some() {
        // Make some changes for the demo; a real sidecar only listens.
        let s = session.clone();
        tokio::spawn(async move {
            let ddl = [
                "CREATE KEYSPACE demo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}",
                "CREATE TABLE demo.users (id uuid PRIMARY KEY, name text)",
                "CREATE TABLE demo.events (id uuid PRIMARY KEY, at timestamp)",
                "DROP TABLE demo.events",
            ];
            for statement in ddl {
                if let Err(e) = s.execute(statement, ()).await {
                    eprintln!("{statement}: {e}");
                }
            }
        });
    }
    let idle = if sim.is_some() {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(3600)
    };
    loop {
        match tokio::time::timeout(idle, events.recv()).await {
            Ok(Ok(event)) => apply(&session, &event, &mut picture).await,
            // Lagged: some events were lost; re-read everything would be the safe reaction.
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => {
                eprintln!("missed {n} events");
            }
            Ok(Err(_)) | Err(_) => break,
        }
    }
    println!("final picture: {picture:?}");
    Ok(())
}
