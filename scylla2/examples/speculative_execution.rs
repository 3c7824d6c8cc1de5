//! Speculative execution: when a node is slow to answer, an idempotent statement is also
//! sent to the next node of its plan after a delay, and the first answer wins. It cuts tail
//! latency at the cost of extra requests; statements that must not run twice (not
//! idempotent) are never sent again.
//!
//! `cargo run -p scylla2 --example speculative_execution` runs it against an embedded
//! simulated 3-node cluster (scylla2-sim, started inside this process) whose third node
//! answers 200 ms late; with `SCYLLA_URI=host:port` set it runs against that cluster instead
//! (where no node is made slow).

use std::sync::Arc;
use std::time::Duration;

use scylla2::policies::{
    ExecutionPolicies, LatencyTracker, SpeculativeExecution, SpeculativeExecutionPolicy,
};
use scylla2::{Query, Session};

/// A speculative execution policy of its own: up to two extra attempts, each after three
/// times the median latency seen so far (20 ms until the driver has measured some).
#[derive(Debug)]
struct ThreeTimesTheMedian;

impl SpeculativeExecution for ThreeTimesTheMedian {
    fn max_speculative(&self) -> usize {
        2
    }

    fn delay(&self, latencies: &LatencyTracker) -> Duration {
        latencies
            .percentile(50.0)
            .map_or(Duration::from_millis(20), |median| median * 3)
    }

    // The driver records latencies only for policies that read them.
    fn reads_latencies(&self) -> bool {
        true
    }
}

/// Runs `reads` idempotent SELECTs of distinct partitions and prints how they went.
async fn run_reads(
    session: &Session,
    label: &str,
    reads: i32,
) -> Result<(), Box<dyn std::error::Error>> {
    // Only idempotent statements are sent speculatively: say so on the statement (or for the
    // whole session with `SessionBuilder::default_idempotent(true)`).
    let select = session
        .prepare(
            Query::new("SELECT v FROM example_speculative.kv WHERE k = ?").with_idempotent(true),
        )
        .await?;
    let (mut speculated, mut slowest) = (0, Duration::ZERO);
    for k in 0..reads {
        let result = session.execute(&select, (k,)).await?;
        let info = result.execution();
        if info.speculative > 0 {
            speculated += 1;
        }
        slowest = slowest.max(info.latency);
    }
    println!(
        "   {label}: {reads} reads, {speculated} with a speculative attempt, slowest {slowest:?}"
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A real cluster from SCYLLA_URI, or a simulated one of 3 nodes on a free port.
    let (uri, sim) = match std::env::var("SCYLLA_URI") {
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
    println!("Connecting to {uri}");
    let setup = Session::builder()
        .contact_point(uri.as_str())
        .connect()
        .await?;
    setup
        .execute(
            "CREATE KEYSPACE IF NOT EXISTS example_speculative WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    setup
        .execute(
            "CREATE TABLE IF NOT EXISTS example_speculative.kv (k int PRIMARY KEY, v text)",
            (),
        )
        .await?;
    let insert = setup
        .prepare("INSERT INTO example_speculative.kv (k, v) VALUES (?, ?)")
        .await?;
    for k in 0..30i32 {
        setup.execute(&insert, (k, "value")).await?;
    }
    if let Some(sim) = &sim {
        // The simulator can make a node slow: every answer of its third node (index 2) now
        // takes 200 ms longer.
        sim.set_delay(2, None, Duration::from_millis(200))?;
        println!("The third node of the simulated cluster now answers 200 ms late.");
    }

    println!("\n1. Without speculative execution (the default)");
    run_reads(&setup, "no speculation", 30).await?;

    println!("\n2. SpeculativeExecutionPolicy: one more attempt after a constant 20 ms");
    let constant = ExecutionPolicies::default().with_speculative(Some(
        SpeculativeExecutionPolicy::constant(Duration::from_millis(20)),
    ));
    let session = Session::builder()
        .contact_point(uri.as_str())
        .execution_policies(constant)
        .connect()
        .await?;
    run_reads(&session, "constant 20 ms", 30).await?;

    println!("\n3. SpeculativeExecutionPolicy::percentile: after the 99th percentile latency");
    // 10 ms until 100 latencies were measured, then the measured 99th percentile.
    let percentile = ExecutionPolicies::default().with_speculative(Some(
        SpeculativeExecutionPolicy::percentile(99.0, Duration::from_millis(10)),
    ));
    let session = Session::builder()
        .contact_point(uri.as_str())
        .execution_policies(percentile)
        .connect()
        .await?;
    run_reads(&session, "99th percentile", 30).await?;

    println!("\n4. A SpeculativeExecution of its own (three times the median)");
    let custom =
        ExecutionPolicies::default().with_speculative_policy(Arc::new(ThreeTimesTheMedian));
    let session = Session::builder()
        .contact_point(uri.as_str())
        .execution_policies(custom)
        .connect()
        .await?;
    run_reads(&session, "3 x median", 30).await?;

    println!("\n5. A statement not marked idempotent is never sent twice");
    // Statements are not idempotent unless marked so: an INSERT … IF NOT EXISTS, a counter
    // update or a list append must not run twice. This UPDATE would be safe to repeat, but
    // unmarked, the driver sends it to one node at a time only.
    let not_idempotent = session
        .prepare("UPDATE example_speculative.kv SET v = ? WHERE k = ?")
        .await?;
    let mut speculated = 0;
    for k in 0..30i32 {
        let result = session.execute(&not_idempotent, ("updated", k)).await?;
        speculated += u32::from(result.execution().speculative);
    }
    println!("   30 updates, {speculated} speculative attempts");

    println!("\nDone.");
    Ok(())
}
