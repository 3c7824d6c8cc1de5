//! Batches and lightweight transactions (LWT): several writes sent as one request (logged:
//! all or none; unlogged: no such guarantee, cheaper), and conditional writes (`IF NOT
//! EXISTS`, `IF col = …`) whose result says whether they were applied.
//!
//! `cargo run -p scylla2 --example batch_lwt` runs it against an embedded simulated cluster
//! (scylla2-sim, started inside this process); with `SCYLLA_URI=host:port` set it runs
//! against that ScyllaDB or Cassandra node instead.

use scylla2::{Batch, BatchType, RowView, Session};

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
    for ddl in [
        "CREATE KEYSPACE IF NOT EXISTS example_batch WITH replication = \
         {'class': 'SimpleStrategy', 'replication_factor': 1}",
        "CREATE TABLE IF NOT EXISTS example_batch.accounts \
         (owner text, name text, balance int, PRIMARY KEY (owner, name))",
        "CREATE TABLE IF NOT EXISTS example_batch.log (owner text, seq int, entry text, \
         PRIMARY KEY (owner, seq))",
        // Start from empty tables, so that the example gives the same output when run again.
        "TRUNCATE example_batch.accounts",
        "TRUNCATE example_batch.log",
    ] {
        session.execute(ddl, ()).await?;
    }
    let open = session
        .prepare("INSERT INTO example_batch.accounts (owner, name, balance) VALUES (?, ?, ?)")
        .await?;
    let log = session
        .prepare("INSERT INTO example_batch.log (owner, seq, entry) VALUES (?, ?, ?)")
        .await?;

    println!("\n1. A logged batch: two tables written together, all or nothing");
    // A tuple of statements and a tuple of value rows, one per statement.
    let batch = Batch::new(BatchType::Logged, (&open, &log));
    session
        .execute(
            &batch,
            (
                ("ann", "checking", 100i32),
                ("ann", 1i32, "opened checking"),
            ),
        )
        .await?;
    println!("   account and log entry written");

    println!("\n2. An unlogged batch of any length: a Vec of statements and a Vec of rows");
    // Unlogged batches suit writes to one partition (one request instead of many).
    let names = ["savings", "travel", "rainy day"];
    let statements = vec![&open; names.len()];
    let rows: Vec<(&str, &str, i32)> = names.iter().map(|name| ("ann", *name, 0)).collect();
    session
        .execute(&Batch::new(BatchType::Unlogged, statements), rows)
        .await?;
    // Queries and prepared statements mix in one batch; a query without bind markers
    // takes `()`. (For a Vec of mixed statements, see `scylla2::BatchEntry`.)
    let mixed = Batch::new(
        BatchType::Unlogged,
        (
            &log,
            "INSERT INTO example_batch.log (owner, seq, entry) VALUES ('ann', 3, 'note')",
        ),
    );
    session
        .execute(&mixed, (("ann", 2i32, "opened 3 more"), ()))
        .await?;
    let accounts = session
        .execute(
            "SELECT name, balance FROM example_batch.accounts WHERE owner = ?",
            ("ann",),
        )
        .await?;
    println!("   ann has {} accounts", accounts.rows_num());

    println!("\n3. INSERT … IF NOT EXISTS: applied only the first time");
    let create_once = session
        .prepare(
            "INSERT INTO example_batch.accounts (owner, name, balance) VALUES (?, ?, ?) \
             IF NOT EXISTS",
        )
        .await?;
    for attempt in 1..=2 {
        let result = session
            .execute(&create_once, ("bob", "checking", 50i32))
            .await?;
        // `applied()` reads the `[applied]` column every conditional write returns.
        if result.applied()? {
            println!("   attempt {attempt}: applied, account created");
        } else {
            // When not applied, the row that was already there comes with the answer.
            let existing: RowView = result.first_row()?;
            let balance: i32 = existing.get_by_name("balance")?;
            println!("   attempt {attempt}: not applied, the account exists (balance {balance})");
        }
    }

    println!("\n4. UPDATE … IF balance = …: compare-and-set");
    let withdraw = session
        .prepare(
            "UPDATE example_batch.accounts SET balance = ? WHERE owner = ? AND name = ? \
             IF balance = ?",
        )
        .await?;
    // Two withdrawals computed from the same balance they read (50): only one may win.
    for amount in [20i32, 30] {
        let result = session
            .execute(&withdraw, (50 - amount, "bob", "checking", 50i32))
            .await?;
        if result.applied()? {
            println!("   withdrawing {amount}: applied");
        } else {
            let now: i32 = result.first_row::<RowView>()?.get_by_name("balance")?;
            println!("   withdrawing {amount}: not applied, the balance is {now} now, not 50");
        }
    }

    println!("\n5. A conditional batch: all of it applies, or none (one partition only)");
    let transfer = Batch::new(BatchType::Logged, (&withdraw, &open));
    let result = session
        .execute(
            &transfer,
            ((0i32, "bob", "checking", 30i32), ("bob", "savings", 30i32)),
        )
        .await?;
    println!("   applied: {}", result.applied()?);

    println!("\nDone.");
    Ok(())
}
