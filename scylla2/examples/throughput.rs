//! Rough throughput of prepared INSERTs and SELECTs with many requests in flight.
//!
//! Against `SCYLLA_URI=host:port` when set, otherwise against the embedded simulator running
//! on its own runtime (then the figure mostly measures the simulator). Build with
//! `--release`: `cargo run --release -p scylla2 --example throughput [ops] [in_flight]`.

use std::sync::Arc;
use std::time::Instant;

use scylla2::Session;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let ops: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let in_flight: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(256);

    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (uri, _sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => (uri, None),
        Err(_) => {
            let sim = sim_rt.block_on(scylla2_sim::Cluster::builder().port(0).start())?;
            (sim.contact_points()[0].to_string(), Some(sim))
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let session = Session::builder().contact_point(uri).connect().await?;
        session
            .execute(
                "CREATE KEYSPACE IF NOT EXISTS bench WITH replication = \
                 {'class': 'SimpleStrategy', 'replication_factor': 1}",
                (),
            )
            .await?;
        session
            .execute(
                "CREATE TABLE IF NOT EXISTS bench.kv (k int PRIMARY KEY, v text)",
                (),
            )
            .await?;
        let insert = Arc::new(
            session
                .prepare("INSERT INTO bench.kv (k, v) VALUES (?, ?)")
                .await?,
        );
        let select = Arc::new(
            session
                .prepare("SELECT v FROM bench.kv WHERE k = ?")
                .await?,
        );
        for (name, is_insert) in [("INSERT", true), ("SELECT", false)] {
            let start = Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for w in 0..in_flight {
                let (session, insert, select) = (session.clone(), insert.clone(), select.clone());
                tasks.spawn(async move {
                    let mut i = w;
                    while i < ops {
                        let k = i as i32;
                        if is_insert {
                            session.execute(&*insert, (k, "some value")).await?;
                        } else {
                            let r = session.execute(&*select, (k,)).await?;
                            let (_v,): (&str,) = r.single_row()?;
                        }
                        i += in_flight;
                    }
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                });
            }
            while let Some(r) = tasks.join_next().await {
                r?.map_err(|e| e.to_string())?;
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{name}: {ops} in {secs:.2}s = {:.0} ops/s ({in_flight} in flight)",
                ops as f64 / secs
            );
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}
