//! Reading many rows: the whole result at once, one page at a time, or row by row across
//! pages (borrowed or owned).
//!
//! `cargo run -p scylla2 --example paging` runs it against an embedded simulated cluster
//! (scylla2-sim, started inside this process); with `SCYLLA_URI=host:port` set it runs
//! against that ScyllaDB or Cassandra node instead.

use futures_util::StreamExt;
use scylla2::{PagingStateResponse, Query, Session};

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
            "CREATE KEYSPACE IF NOT EXISTS example_paging WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    session
        .execute(
            "CREATE TABLE IF NOT EXISTS example_paging.items \
             (bucket int, id int, label text, PRIMARY KEY (bucket, id))",
            (),
        )
        .await?;
    let insert = session
        .prepare("INSERT INTO example_paging.items (bucket, id, label) VALUES (?, ?, ?)")
        .await?;
    for id in 0..250i32 {
        session
            .execute(&insert, (1i32, id, format!("item-{id}").as_str()))
            .await?;
    }
    println!("250 rows written in partition bucket = 1.");

    // Every way below reads the same query; its page size (100 rows) is used by the paged
    // ways only.
    let select = session
        .prepare(
            Query::new("SELECT id, label FROM example_paging.items WHERE bucket = ?")
                .with_page_size(100),
        )
        .await?;

    println!("\n1. execute: the whole result in one response (no paging)");
    // `execute` never pages: fine for results known to be small. For large ones, use one of
    // the paged ways below (a result too large for one frame is an error, never cut short).
    let all = session.execute(&select, (1i32,)).await?;
    println!("   {} rows in one response", all.rows_num());

    println!("\n2. execute_single_page: one request per page, the paging state in your hands");
    // Useful when the next page is fetched later (e.g. a web API returning a page token).
    let mut state = None;
    let mut page_number = 0;
    loop {
        let (page, paging) = session.execute_single_page(&select, (1i32,), state).await?;
        page_number += 1;
        println!("   page {page_number}: {} rows", page.rows_num());
        match paging {
            PagingStateResponse::HasMorePages { state: next } => state = Some(next),
            _ => break, // no more pages
        }
    }

    println!("\n3. execute_paged(..).rows(): row by row across pages, each row borrowed");
    // The next page is fetched while this one is read. `execute_paged` needs an owned
    // statement (it runs in the background): a clone of a prepared statement is cheap.
    let mut rows = session.execute_paged(select.clone(), (1i32,)).rows();
    let (mut count, mut last_label) = (0, String::new());
    // `label` is a `&str` pointing into the page: no copy. It lives until the next call.
    while let Some(row) = rows.next_row::<(i32, &str)>().await {
        let (_id, label) = row?;
        count += 1;
        if count % 100 == 0 {
            println!("   row {count}: {label}");
        }
        last_label.clear();
        last_label.push_str(label);
    }
    println!("   {count} rows, the last one {last_label:?}");

    println!("\n4. execute_paged(..).rows_stream::<T>(): a Stream of owned rows");
    // Owned rows (String instead of &str) can be kept, sent to other tasks, or used with
    // stream combinators (here `StreamExt` of the futures-util crate).
    let mut stream = session
        .execute_paged(select, (1i32,))
        .rows_stream::<(i32, String)>();
    let mut every_50th = Vec::new();
    while let Some(row) = stream.next().await {
        let (id, label) = row?;
        if id % 50 == 0 {
            every_50th.push(label); // owned: kept after the page is gone
        }
    }
    println!("   every 50th label: {every_50th:?}");

    println!("\nDone.");
    Ok(())
}
