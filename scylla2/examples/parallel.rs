//! Many executions at once: one session shared by many tasks, or many requests in flight
//! from one task. A session multiplexes requests over its connections, so concurrency (not
//! more sessions) is what makes a program fast.
//!
//! `cargo run -p scylla2 --example parallel` runs it against an embedded simulated cluster
//! (scylla2-sim, started inside this process); with `SCYLLA_URI=host:port` set it runs
//! against that ScyllaDB or Cassandra node instead.

use std::sync::Arc;
use std::time::Instant;

use futures_util::StreamExt;
use scylla2::Session;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Rows written by each part.
const ROWS: i32 = 10_000;
/// Requests in flight at most: enough to keep the connections busy, bounded so that a
/// slow cluster is not flooded (and the program's memory stays bounded).
const IN_FLIGHT: usize = 256;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A real cluster from SCYLLA_URI, or a simulated one on a free port, alive until the end.
    let (uri, _sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => (uri, None),
        Err(_) => {
            let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
            (sim.contact_points()[0].to_string(), Some(sim))
        }
    };
    println!("Connecting to {uri}");
    let session = Session::builder().contact_point(uri).connect().await?;
    session
        .execute(
            "CREATE KEYSPACE IF NOT EXISTS example_parallel WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    session
        .execute(
            "CREATE TABLE IF NOT EXISTS example_parallel.squares (n int PRIMARY KEY, square bigint)",
            (),
        )
        .await?;
    // Prepared once, executed many times: each execution sends only the values.
    let insert = session
        .prepare("INSERT INTO example_parallel.squares (n, square) VALUES (?, ?)")
        .await?;

    println!("\n1. One Tokio task per request (a JoinSet), at most {IN_FLIGHT} in flight");
    let started = Instant::now();
    let limit = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for n in 0..ROWS {
        // Waits here while IN_FLIGHT requests are out; the permit is released when the task
        // ends.
        let permit = Arc::clone(&limit).acquire_owned().await?;
        // A session and a prepared statement are cheap to clone (shared inside).
        let (session, insert) = (session.clone(), insert.clone());
        tasks.spawn(async move {
            let result = session
                .execute(&insert, (n, i64::from(n) * i64::from(n)))
                .await;
            drop(permit);
            result
        });
        // Collect finished tasks as we go, so that errors show early and the set stays small.
        while let Some(done) = tasks.try_join_next() {
            done??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??; // the task's panic (JoinError), then the execution's error
    }
    println!("   {ROWS} inserts in {:?}", started.elapsed());

    println!("\n2. Many requests from one task: a buffered stream of futures");
    // No spawning: `buffer_unordered` polls up to IN_FLIGHT executions at once and yields
    // them as they finish. The futures borrow the session, nothing is cloned.
    let started = Instant::now();
    let select = session
        .prepare("SELECT square FROM example_parallel.squares WHERE n = ?")
        .await?;
    let mut results = futures_util::stream::iter(0..ROWS)
        .map(|n| {
            let select = &select;
            let session = &session;
            async move { (n, session.execute(select, (n,)).await) }
        })
        .buffer_unordered(IN_FLIGHT);
    let mut checked = 0;
    while let Some((n, result)) = results.next().await {
        let (square,): (i64,) = result?.single_row()?;
        let expected = i64::from(n) * i64::from(n);
        if square != expected {
            return Err(format!("row {n}: read {square}, expected {expected}").into());
        }
        checked += 1;
    }
    println!(
        "   {checked} rows read back and checked in {:?}",
        started.elapsed()
    );
    println!("\nDone.");
    Ok(())
}
