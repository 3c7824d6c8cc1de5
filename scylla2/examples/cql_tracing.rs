//! CQL tracing: ask the server to record what it did for one request, then read that record
//! back. Useful to see why one query is slow: which node coordinated it, how long it took
//! there, and the steps (events) it went through.
//!
//! - `with_tracing(true)` on a statement (a `Query`, a `PreparedStatement` or a `Batch`)
//!   asks the server to trace each of its executions. Tracing costs the server writes: turn
//!   it on for the requests you investigate, not for all of them.
//! - `QueryResult::tracing_id()`: the id of the trace of that execution (`None` when the
//!   request was not traced).
//! - `Session::tracing_info(id)`: reads the trace from the `system_traces.sessions` and
//!   `system_traces.events` tables (the server writes them just after answering, so the
//!   driver retries a few times until the trace is complete).
//!
//! `cargo run -p scylla2 --example cql_tracing` runs it against an embedded simulated
//! cluster (scylla2-sim, inside this process; it records traces like a real node); with
//! `SCYLLA_URI=host:port` set it runs against that ScyllaDB or Cassandra node instead.

use scylla2::{Query, QueryResult, Session, TracingInfo};

/// Prints a trace: who coordinated the request, how long it took, and its events.
fn print_trace(trace: &TracingInfo) {
    let or_unknown = |v: Option<String>| v.unwrap_or_else(|| "unknown".to_owned());
    println!("   request:     {}", or_unknown(trace.request.clone()));
    println!(
        "   coordinator: {}",
        or_unknown(trace.coordinator.map(|ip| ip.to_string()))
    );
    println!(
        "   duration:    {}",
        or_unknown(
            trace
                .duration
                .map(|us| format!("{us} µs on the coordinator"))
        )
    );
    // The request's parameters, e.g. the query text and its consistency level.
    let mut parameters: Vec<_> = trace.parameters.iter().collect();
    parameters.sort();
    for (name, value) in parameters {
        println!("   parameter:   {name} = {value}");
    }
    println!("   {} event(s):", trace.events.len());
    for event in &trace.events {
        println!(
            "   {:>8} µs  on {:<15}  {}",
            event
                .source_elapsed
                .map_or("?".to_owned(), |us| us.to_string()),
            event.source.map_or("?".to_owned(), |ip| ip.to_string()),
            event.activity.as_deref().unwrap_or("?"),
        );
    }
}

/// Reads and prints the trace of `result`, if it has one.
async fn show_trace(
    session: &Session,
    result: &QueryResult,
) -> Result<(), Box<dyn std::error::Error>> {
    match result.tracing_id() {
        Some(id) => {
            println!("   trace id: {id}");
            let trace = session.tracing_info(id).await?;
            print_trace(&trace);
        }
        None => println!("   no trace id: the request was not traced"),
    }
    Ok(())
}

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
            println!(
                "SCYLLA_URI is not set: using an embedded simulated cluster of 1 node on {uri}."
            );
            (uri, Some(sim))
        }
    };

    let session = Session::builder().contact_point(uri).connect().await?;
    session
        .execute(
            "CREATE KEYSPACE IF NOT EXISTS example_tracing WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    session
        .execute(
            "CREATE TABLE IF NOT EXISTS example_tracing.kv (k int PRIMARY KEY, v text)",
            (),
        )
        .await?;

    println!("\n1. An INSERT without tracing (the default)");
    let result = session
        .execute(
            "INSERT INTO example_tracing.kv (k, v) VALUES (?, ?)",
            (1i32, "one"),
        )
        .await?;
    show_trace(&session, &result).await?;

    println!("\n2. The same INSERT, traced: Query::with_tracing(true)");
    let traced =
        Query::new("INSERT INTO example_tracing.kv (k, v) VALUES (?, ?)").with_tracing(true);
    let result = session.execute(&traced, (2i32, "two")).await?;
    show_trace(&session, &result).await?;

    println!("\n3. A traced prepared SELECT");
    // A prepared statement takes the same option; each execution gets a trace of its own.
    let select = session
        .prepare("SELECT v FROM example_tracing.kv WHERE k = ?")
        .await?
        .with_tracing(true);
    let result = session.execute(&select, (2i32,)).await?;
    let (v,): (&str,) = result.single_row()?;
    println!("   read v = {v:?}");
    show_trace(&session, &result).await?;

    if sim.is_some() {
        println!(
            "\nDone. The simulated cluster stops with this program; its traces were in memory."
        );
    } else {
        println!(
            "\nDone. Keyspace example_tracing stays on the cluster (DROP KEYSPACE removes it); \
             the server drops its traces after a day."
        );
    }
    Ok(())
}
