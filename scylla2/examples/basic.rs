//! Connect, create a keyspace and a table, insert, select, and page through a partition.
//!
//! Runs against `SCYLLA_URI=host:port` when set, otherwise against an embedded simulated
//! cluster: `cargo run -p scylla2 --example basic`.

use scylla2::{PagingStateResponse, Query, Session};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the simulator alive for the whole run when there is no real cluster.
    let (uri, _sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => (uri, None),
        Err(_) => {
            let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
            (sim.contact_points()[0].to_string(), Some(sim))
        }
    };
    println!("connecting to {uri}");
    let session = Session::builder().contact_point(uri).connect().await?;

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

    let insert = session
        .prepare("INSERT INTO users (team, id, name) VALUES (?, ?, ?)")
        .await?;
    for id in 0..25i32 {
        let name = format!("user-{id}");
        session.execute(&insert, (1i32, id, name.as_str())).await?;
    }

    // Rows borrow their text from the response: no copy.
    let result = session
        .execute(
            "SELECT id, name FROM users WHERE team = ? AND id = ?",
            (1i32, 7i32),
        )
        .await?;
    let (id, name): (i32, &str) = result.single_row()?;
    println!("user {id} is {name}");

    // Page through the partition, 10 rows at a time.
    let select = session
        .prepare(Query::new("SELECT id, name FROM users WHERE team = ?").with_page_size(10))
        .await?;
    let mut state = None;
    let mut page_number = 0;
    loop {
        let (page, paging) = session.execute_single_page(&select, (1i32,), state).await?;
        page_number += 1;
        let names: Vec<&str> = page
            .rows::<(i32, &str)>()?
            .map(|row| row.map(|(_, name)| name))
            .collect::<Result<_, _>>()?;
        println!(
            "page {page_number}: {} rows, first {:?}",
            names.len(),
            names.first()
        );
        match paging {
            PagingStateResponse::HasMorePages { state: next } => state = Some(next),
            _ => break,
        }
    }
    Ok(())
}
