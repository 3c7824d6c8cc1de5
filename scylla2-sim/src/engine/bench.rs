//! Engine-only throughput check of the prepared hot path (single-row INSERT and SELECT).
//! Runs as a normal test with a small count; `cargo test --release -p scylla2-sim bench --
//! --nocapture` prints the ops/s figures (set SIM_BENCH_N for a larger count).

use std::time::Instant;

use super::tests::{env, int, txt};
use crate::model::{QueryParams, QueryResult};

#[test]
fn prepared_insert_and_select_throughput() {
    let n: i32 = std::env::var("SIM_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut e = env();
    e.q("CREATE TABLE bench (k int PRIMARY KEY, v text)");
    let ins = e
        .engine
        .prepare("INSERT INTO bench (k, v) VALUES (?, ?)", Some("ks"))
        .unwrap();
    let sel = e
        .engine
        .prepare("SELECT k, v FROM bench WHERE k = ?", Some("ks"))
        .unwrap();
    let mut params = QueryParams {
        values: vec![int(0), txt("some value of moderate length")],
        ..QueryParams::default()
    };
    let start = Instant::now();
    for i in 0..n {
        params.values[0] = int(i);
        e.engine
            .execute(&mut e.session, &ins, &params, &e.cluster)
            .unwrap();
    }
    let insert_rate = f64::from(n) / start.elapsed().as_secs_f64();
    let mut params = QueryParams {
        values: vec![int(0)],
        ..QueryParams::default()
    };
    let start = Instant::now();
    let mut found = 0;
    for i in 0..n {
        params.values[0] = int(i);
        if let QueryResult::Rows(r) = e
            .engine
            .execute(&mut e.session, &sel, &params, &e.cluster)
            .unwrap()
        {
            found += r.rows.len();
        }
    }
    let select_rate = f64::from(n) / start.elapsed().as_secs_f64();
    assert_eq!(found, n as usize);
    println!(
        "engine prepared INSERT: {insert_rate:.0} ops/s, prepared SELECT: {select_rate:.0} ops/s ({n} rows)"
    );
}
