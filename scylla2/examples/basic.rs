//! A first tour of scylla2: connect, create a keyspace and a table, insert with a prepared
//! statement, read one row without copying its text, and page through a partition.
//!
//! `cargo run -p scylla2 --example basic` runs it against an embedded simulated cluster
//! (scylla2-sim, started inside this process: nothing to install); with
//! `SCYLLA_URI=host:port` set it runs against that ScyllaDB or Cassandra node instead.

use scylla2::{PagingStateResponse, Query, Session};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the simulator alive for the whole run when there is no real cluster.
    let (uri, sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => {
            println!("Using the cluster at {uri} (from SCYLLA_URI).");
            (uri, None)
        }
        Err(_) => {
            // Port 0: a free port, so that it never collides with a database already running.
            let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
            let uri = sim.contact_points()[0].to_string();
            println!("SCYLLA_URI is not set, so this example started its own cluster:");
            println!(
                "an embedded simulated one (scylla2-sim: 1 node, in memory, inside this \
                 process) on {uri}."
            );
            println!(
                "To use a real ScyllaDB or Cassandra instead: \
                 SCYLLA_URI=host:port cargo run -p scylla2 --example basic"
            );
            (uri, Some(sim))
        }
    };

    println!("\n1. Connecting to {uri}");
    let session = Session::builder().contact_point(uri).connect().await?;
    println!(
        "   connected: the driver knows {} node(s) and keeps {} connection(s) open to them.",
        session.nodes().len(),
        session.open_connections()
    );

    println!("\n2. Creating keyspace `example` and table `users` (if they do not exist)");
    session
        .execute(
            "CREATE KEYSPACE IF NOT EXISTS example WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    session.use_keyspace("example").await?;
    session
        .execute(
            "CREATE TABLE IF NOT EXISTS users (team int, id int, name text, \
             PRIMARY KEY (team, id))",
            (),
        )
        .await?;
    println!("   users: one partition per team, rows sorted by id inside it.");

    println!("\n3. Inserting 25 users into team 1 with a prepared statement");
    // Prepared once: the server parses the query once, each execution sends only values.
    let insert = session
        .prepare("INSERT INTO users (team, id, name) VALUES (?, ?, ?)")
        .await?;
    for id in 0..25i32 {
        let name = format!("user-{id}");
        session.execute(&insert, (1i32, id, name.as_str())).await?;
    }
    println!("   25 rows written: (team 1, id 0, 'user-0') to (team 1, id 24, 'user-24').");

    println!("\n4. Reading the user with team = 1 and id = 7");
    let result = session
        .execute(
            "SELECT id, name FROM users WHERE team = ? AND id = ?",
            (1i32, 7i32),
        )
        .await?;
    // The row decodes into (i32, &str): the name borrows from the response, no copy.
    let (id, name): (i32, &str) = result.single_row()?;
    println!("   found: id {id}, name {name:?} (read in place from the response).");

    println!("\n5. Reading all of team 1, 10 rows per page");
    let select = session
        .prepare(Query::new("SELECT id, name FROM users WHERE team = ?").with_page_size(10))
        .await?;
    let mut state = None;
    let (mut pages, mut rows) = (0, 0);
    loop {
        // One request per page; the server's paging state says where the next one starts.
        let (page, paging) = session.execute_single_page(&select, (1i32,), state).await?;
        pages += 1;
        let names: Vec<&str> = page
            .rows::<(i32, &str)>()?
            .map(|row| row.map(|(_, name)| name))
            .collect::<Result<_, _>>()?;
        rows += names.len();
        println!(
            "   page {pages}: {} rows, {} to {}",
            names.len(),
            names.first().unwrap_or(&"-"),
            names.last().unwrap_or(&"-"),
        );
        match paging {
            PagingStateResponse::HasMorePages { state: next } => state = Some(next),
            _ => break,
        }
    }
    println!("   {rows} rows in {pages} pages: that is the whole partition.");

    if sim.is_some() {
        println!("\nDone. The simulated cluster stops with this program; its data was in memory.");
    } else {
        println!(
            "\nDone. Keyspace `example` stays on the cluster (DROP KEYSPACE example removes it)."
        );
    }
    Ok(())
}
