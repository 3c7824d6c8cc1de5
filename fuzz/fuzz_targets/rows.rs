//! Arbitrary bytes as the body of a RESULT Rows message: metadata, then rows iterated lazily
//! as raw cells, as dynamic rows (`Row` of `CqlValue`s) and as a few typed tuples. With
//! No_metadata the columns come from a fixed list of types (as a driver would supply a
//! prepared statement's). Decoding and iteration must never panic nor loop, and every yielded
//! raw row must have exactly one cell per column. `Rows::decode_taking` (the driver's
//! shortcut) must give the same rows or the same error, and the tuples' one-pass row reads the
//! same rows (or an error at the same row) as finding each row's end first.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use scylla2_cql::response::Rows;
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{DeserializeRow, Row};
use scylla2_cql::wire::WireReader;

fn cached_columns(count: usize) -> Vec<ColumnSpec> {
    let types = [
        CqlType::Int,
        CqlType::Text,
        CqlType::BigInt,
        CqlType::Blob,
        CqlType::List(Box::new(CqlType::Int)),
        CqlType::Map(Box::new(CqlType::Text), Box::new(CqlType::BigInt)),
    ];
    (0..count)
        .map(|i| ColumnSpec {
            keyspace: "ks".into(),
            table: "t".into(),
            name: format!("c{i}"),
            typ: types[i % types.len()].clone(),
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    let mut r = WireReader::new(&body);
    let decoded = Rows::decode(&mut r, &body);
    // The driver's shortcut (the body taken, after a 4-byte kind) agrees, and leaves the body
    // as it was on error.
    let mut prefixed = Bytes::from([&[0, 0, 0, 2][..], data].concat());
    let before = prefixed.clone();
    match (&decoded, Rows::decode_taking(&mut prefixed, 4)) {
        (Ok(a), Ok(b)) => assert_eq!(*a, b),
        (Err(a), Err(b)) => {
            assert_eq!(*a, b);
            assert_eq!(prefixed, before);
        }
        (a, b) => panic!("decode {a:?} but decode_taking {b:?}"),
    }
    let Ok(rows) = decoded else {
        return;
    };
    let cached;
    let columns = match rows.columns() {
        Some(c) => c,
        None => {
            // Rows::decode bounds rows * columns by the body, but a No_metadata result with
            // no rows may claim any column count: cap what the fuzzer allocates.
            if rows.metadata.columns_count() > 4096 {
                return;
            }
            cached = cached_columns(rows.metadata.columns_count());
            &cached
        }
    };
    typed::<Row>(&rows, columns);
    typed::<(Option<i32>, Option<&str>)>(&rows, columns);
    typed::<(i32, &str, i64, &[u8], Vec<i32>)>(&rows, columns);
    typed::<(
        Option<i32>,
        Option<String>,
        Option<i64>,
        Option<Bytes>,
        Option<Vec<i32>>,
        Option<std::collections::BTreeMap<String, i64>>,
    )>(&rows, columns);
    let Ok(iter) = rows.raw_rows(columns) else {
        return;
    };
    let mut seen = 0;
    for row in iter {
        let Ok(row) = row else { break };
        seen += 1;
        let mut cells = 0;
        for cell in row {
            assert!(cell.is_ok(), "row boundaries were validated");
            cells += 1;
        }
        assert_eq!(cells, columns.len());
    }
    assert!(seen <= rows.rows_count());
});

/// Iterates every row as `T`, stopping at the first error (the iterator must end by itself),
/// and checks the one-pass read (`deserialize_prefix`, which the tuples override) against the
/// two-pass one (each row's end found first, then `deserialize`): the same rows, an error at
/// the same place.
fn typed<'r, T: DeserializeRow<'r, 'r> + std::fmt::Debug>(
    rows: &'r Rows,
    columns: &'r [ColumnSpec],
) {
    let Ok(iter) = rows.iter::<T>(columns) else {
        return;
    };
    let mut two_pass = rows
        .raw_rows(columns)
        .expect("iter succeeded with the same columns")
        .map(|row| row.and_then(T::deserialize));
    let mut n = 0;
    for row in iter {
        n += 1;
        assert!(n <= rows.rows_count() + 1);
        match (&row, two_pass.next()) {
            // Compared by their Debug text: a float NaN is not equal to itself.
            (Ok(a), Some(Ok(b))) => assert_eq!(format!("{a:?}"), format!("{b:?}")),
            (Err(_), Some(Err(_))) => {}
            (a, b) => panic!("row {n}: one pass {a:?}, two passes {b:?}"),
        }
        if row.is_err() {
            return;
        }
    }
    assert!(two_pass.next().is_none(), "two passes found more rows");
}
