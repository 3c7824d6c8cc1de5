//! Execution profiles: named bundles of execution settings (consistency, timeout,
//! idempotence, retry and speculative policies) that statements share, and handles that
//! re-point every statement using them at once, while the program runs.
//!
//! - `ExecutionProfile`: the settings. What a profile leaves unset comes from the session.
//! - `ExecutionProfileHandle::new(profile)`: a shared, re-pointable reference to a profile;
//!   `handle.map_to(other)` makes every statement (and session) using the handle use
//!   `other` from its next execution on, without rebuilding or re-preparing anything.
//! - `SessionBuilder::default_execution_profile(handle)`: the profile of statements without
//!   one of their own.
//! - `with_profile_handle(handle)` on a `Query`, `PreparedStatement` or `Batch`: that
//!   statement's own profile, which wins over the session's default one.
//!
//! The example makes the consistency level visible: its keyspace asks for 3 replicas, and
//! the embedded cluster has 1 node, so QUORUM (2 replicas) is refused as UNAVAILABLE while
//! ONE succeeds. With the embedded cluster it also slows the node down to show a profile's
//! timeout.
//!
//! `cargo run -p scylla2 --example execution_profiles` runs it against an embedded simulated
//! cluster (scylla2-sim, inside this process); with `SCYLLA_URI=host:port` set it runs
//! against that ScyllaDB or Cassandra node instead (with 2 nodes or more up, QUORUM
//! succeeds there).

use std::time::Duration;

use scylla2::policies::{ExecutionProfile, ExecutionProfileHandle};
use scylla2::{Consistency, Query, Session};

/// Runs `statement` and prints whether it succeeded, or the error the server (or the
/// driver's timeout) answered with.
async fn try_run(session: &Session, label: &str, statement: &Query, values: (i32, &str)) {
    match session.execute(statement, values).await {
        Ok(_) => println!("   {label}: succeeded"),
        Err(e) => println!("   {label}: failed: {e}"),
    }
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

    println!("\n1. A session whose default profile says: consistency ONE, 2 s timeout");
    // The handle is kept: re-pointing it later changes the session's default at run time.
    let default_profile = ExecutionProfileHandle::new(
        ExecutionProfile::new()
            .with_consistency(Consistency::One)
            .with_timeout(Duration::from_secs(2)),
    );
    let session = Session::builder()
        .contact_point(uri)
        .default_execution_profile(default_profile.clone())
        .connect()
        .await?;
    session
        .execute(
            "CREATE KEYSPACE IF NOT EXISTS example_profiles WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 3}",
            (),
        )
        .await?;
    session
        .execute(
            "CREATE TABLE IF NOT EXISTS example_profiles.kv (k int PRIMARY KEY, v text)",
            (),
        )
        .await?;
    println!("   keyspace example_profiles keeps 3 replicas of each row (QUORUM needs 2 of them).");

    // A statement without a profile of its own: it uses the session's default profile.
    let insert = Query::new("INSERT INTO example_profiles.kv (k, v) VALUES (?, ?)");
    try_run(
        &session,
        "insert with the default profile (ONE)",
        &insert,
        (1, "one"),
    )
    .await;

    println!("\n2. A statement with a profile handle of its own: consistency QUORUM");
    let strict =
        ExecutionProfileHandle::new(ExecutionProfile::new().with_consistency(Consistency::Quorum));
    // The statement's handle wins over the session's default profile. Settings the profile
    // leaves unset (here the timeout) come from the session's defaults.
    let strict_insert = insert.clone().with_profile_handle(strict.clone());
    try_run(&session, "insert at QUORUM", &strict_insert, (2, "two")).await;
    println!("   (with fewer than 2 nodes up, QUORUM of 3 replicas is unavailable: refused)");

    println!("\n3. Re-pointing that handle at run time: map_to(consistency ONE)");
    // Every statement holding `strict` follows from its next execution on: no rebuild,
    // no re-prepare. A service might do this while a data centre is down.
    strict.map_to(ExecutionProfile::new().with_consistency(Consistency::One));
    try_run(
        &session,
        "the same statement, now at ONE",
        &strict_insert,
        (2, "two"),
    )
    .await;

    println!("\n4. Re-pointing the session's default profile: map_to(consistency QUORUM)");
    default_profile.map_to(
        ExecutionProfile::new()
            .with_consistency(Consistency::Quorum)
            .with_timeout(Duration::from_secs(2)),
    );
    try_run(
        &session,
        "insert with the default profile",
        &insert,
        (3, "three"),
    )
    .await;
    try_run(
        &session,
        "insert with its own handle (ONE)",
        &strict_insert,
        (3, "three"),
    )
    .await;
    println!("   the statement with its own handle is unaffected by the session's default.");
    default_profile.map_to(
        ExecutionProfile::new()
            .with_consistency(Consistency::One)
            .with_timeout(Duration::from_secs(2)),
    );

    if let Some(sim) = &sim {
        println!("\n5. A profile's timeout: the simulated node now answers 300 ms late");
        // Node 0, every shard: each answer is held back 300 ms.
        sim.set_delay(0, None, Duration::from_millis(300))?;
        let fast = ExecutionProfileHandle::new(
            ExecutionProfile::new()
                .with_consistency(Consistency::One)
                .with_timeout(Duration::from_millis(100)),
        );
        let timed_insert = Query::new("INSERT INTO example_profiles.kv (k, v) VALUES (?, ?)")
            .with_profile_handle(fast.clone());
        try_run(
            &session,
            "insert with a 100 ms timeout",
            &timed_insert,
            (4, "four"),
        )
        .await;
        fast.map_to(
            ExecutionProfile::new()
                .with_consistency(Consistency::One)
                .with_timeout(Duration::from_secs(1)),
        );
        try_run(
            &session,
            "the same statement, timeout now 1 s",
            &timed_insert,
            (4, "four"),
        )
        .await;
        sim.set_delay(0, None, Duration::ZERO)?;
    }

    let result = session
        .execute("SELECT k, v FROM example_profiles.kv", ())
        .await?;
    let mut rows: Vec<(i32, String)> = result
        .rows::<(i32, &str)>()?
        .map(|row| row.map(|(k, v)| (k, v.to_owned())))
        .collect::<Result<_, _>>()?;
    rows.sort();
    println!("\nRows written: {rows:?}");
    if sim.is_some() {
        println!("Done. The simulated cluster stops with this program.");
    } else {
        println!(
            "Done. Keyspace example_profiles stays on the cluster (DROP KEYSPACE removes it)."
        );
    }
    Ok(())
}
