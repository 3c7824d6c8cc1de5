//! A rough measurement, run as a smoke test in every `cargo test` (a few thousand rows); for
//! the figure run `DERIVE_BENCH_ROWS=100000 cargo test --release -p scylla2-cql --test
//! derive_bench -- --nocapture`: time
//! per row to read 5 columns into a tuple, a derived struct by position, and a derived struct
//! by name with the columns in the struct's order and reversed.

mod derive_util;

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use derive_util::{put_cell, spec};
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{ColumnIterator, DeserializeRow};
use scylla2_macros::DeserializeRow;

#[derive(DeserializeRow)]
#[allow(dead_code)] // read through black_box only
struct ByName<'a> {
    id: i32,
    name: &'a str,
    score: i64,
    email: Option<&'a str>,
    ratio: f64,
}

#[derive(DeserializeRow)]
#[allow(dead_code)] // read through black_box only
#[scylla2(by_position)]
struct ByPos<'a> {
    id: i32,
    name: &'a str,
    score: i64,
    email: Option<&'a str>,
    ratio: f64,
}

type Tuple<'a> = (i32, &'a str, i64, Option<&'a str>, f64);

fn row_count() -> usize {
    std::env::var("DERIVE_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000)
}

fn rows(reversed: bool) -> (Vec<ColumnSpec>, Bytes, Vec<(usize, usize)>) {
    let mut specs = vec![
        spec("id", CqlType::Int),
        spec("name", CqlType::Text),
        spec("score", CqlType::BigInt),
        spec("email", CqlType::Text),
        spec("ratio", CqlType::Double),
    ];
    let mut out = Vec::new();
    let mut bounds = Vec::new();
    for i in 0..row_count() {
        let start = out.len();
        let mut cells: Vec<Option<Vec<u8>>> = vec![
            Some((i as i32).to_be_bytes().to_vec()),
            Some(format!("user{i}").into_bytes()),
            Some((i as i64 * 7).to_be_bytes().to_vec()),
            if i % 3 == 0 {
                None
            } else {
                Some(b"someone@example.com".to_vec())
            },
            Some((i as f64 / 3.0).to_be_bytes().to_vec()),
        ];
        if reversed {
            cells.reverse();
        }
        for c in &cells {
            put_cell(&mut out, c.as_deref());
        }
        bounds.push((start, out.len()));
    }
    if reversed {
        specs.reverse();
    }
    (specs, Bytes::from(out), bounds)
}

macro_rules! time {
    ($t:ty, $label:expr, $reversed:expr) => {{
        let (specs, frame, bounds) = rows($reversed);
        <$t as DeserializeRow<'_, '_>>::check_types(&specs).unwrap();
        let mut best = f64::MAX;
        for _ in 0..5 {
            let start = Instant::now();
            for &(a, b) in &bounds {
                let row = <$t as DeserializeRow<'_, '_>>::deserialize(ColumnIterator::new(
                    &specs,
                    &frame,
                    &frame[a..b],
                ))
                .unwrap();
                black_box(row);
            }
            best = best.min(start.elapsed().as_nanos() as f64 / row_count() as f64);
        }
        println!("{:<32} {best:6.1} ns/row", $label);
    }};
}

#[test]
fn per_row_decode_cost() {
    time!(Tuple<'_>, "tuple", false);
    time!(ByPos<'_>, "derived by_position", false);
    time!(ByName<'_>, "derived by name, same order", false);
    time!(ByName<'_>, "derived by name, reversed", true);
}
