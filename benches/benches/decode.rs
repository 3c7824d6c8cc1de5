//! Result decoding: one RESULT body of 5 000 rows (`int, text(20–200), bigint, uuid,
//! list<int>`) parsed from its bytes (metadata included) and every row read into borrowed
//! types, owned types and dynamic values, by scylla2-cql and by the official codec.

mod common;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use scylla2_benches::fixtures;
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::Opcode;
use scylla2_cql::response::{Response, ResponseContext, ResultResponse, Rows};
use scylla2_cql::value::{ListIter, Row};

use scylla_cql::deserialize::value::ListlikeIterator;
use scylla_cql::frame::protocol_features::ProtocolFeatures;
use scylla_cql::frame::response::result::{
    DeserializedMetadataAndRawRows, Result as TheirResult, deserialize_with_features,
};
use uuid::Uuid;

const ROWS: usize = 5_000;

fn ours(body: &Bytes) -> Option<Rows> {
    match Response::decode_message(
        Opcode::Result,
        ProtocolVersion::V4,
        body.clone(),
        &ResponseContext::default(),
    ) {
        Ok(Response::Result(ResultResponse::Rows(rows))) => Some(rows),
        _ => None,
    }
}

fn theirs(body: &Bytes) -> Option<DeserializedMetadataAndRawRows> {
    match deserialize_with_features(body.clone(), None, &ProtocolFeatures::default()) {
        Ok(TheirResult::Rows((raw, _paging))) => raw.deserialize_metadata().ok(),
        _ => None,
    }
}

/// Reads every column of borrowed rows into a checksum; `None` at the first error.
fn sum_borrowed<'a, E, F, L>(
    rows: impl Iterator<Item = Result<(i32, &'a str, i64, Uuid, L), E>>,
) -> Option<i64>
where
    L: IntoIterator<Item = Result<i32, F>>,
{
    let mut acc = 0i64;
    for row in rows {
        let (k, txt, big, id, li) = row.ok()?;
        acc = acc
            .wrapping_add(i64::from(k) + txt.len() as i64 + i64::from(id.as_bytes()[0]))
            .wrapping_add(big);
        for v in li {
            acc = acc.wrapping_add(i64::from(v.ok()?));
        }
    }
    Some(acc)
}

/// Decodes every row, summing `size` over them; `None` at the first error.
fn consume<T, E>(
    rows: impl Iterator<Item = Result<T, E>>,
    size: impl Fn(&T) -> usize,
) -> Option<usize> {
    let mut n = 0usize;
    for row in rows {
        let row = row.ok()?;
        n += size(&row);
        black_box(row);
    }
    Some(n)
}

fn bench_decode(c: &mut Criterion) {
    let body = Bytes::from(fixtures::rows_result_body(&fixtures::rows(ROWS, 1)));
    // Sanity: both decoders agree on the row count before anything is measured.
    assert_eq!(ours(&body).map(|r| r.rows_count()), Some(ROWS));
    assert_eq!(theirs(&body).map(|r| r.rows_count()), Some(ROWS));

    let mut g = c.benchmark_group("decode/result_5000_rows");
    g.throughput(Throughput::Elements(ROWS as u64));

    g.bench_function("borrowed/scylla2", |b| {
        b.iter(|| {
            let rows = ours(black_box(&body))?;
            type R<'a> = (i32, &'a str, i64, Uuid, ListIter<'a, 'a, i32>);
            Some(black_box(sum_borrowed(rows.typed::<R<'_>>().ok()?)?))
        })
    });
    g.bench_function("borrowed/scylla", |b| {
        b.iter(|| {
            let rows = theirs(black_box(&body))?;
            type R<'a> = (i32, &'a str, i64, Uuid, ListlikeIterator<'a, 'a, i32>);
            Some(black_box(sum_borrowed(rows.rows_iter::<R<'_>>().ok()?)?))
        })
    });

    type Owned = (i32, String, i64, Uuid, Vec<i32>);
    let owned_size = |row: &Owned| row.1.len() + row.4.len();
    g.bench_function("owned/scylla2", |b| {
        b.iter(|| {
            let rows = ours(black_box(&body))?;
            Some(black_box(consume(rows.typed::<Owned>().ok()?, owned_size)?))
        })
    });
    g.bench_function("owned/scylla", |b| {
        b.iter(|| {
            let rows = theirs(black_box(&body))?;
            Some(black_box(consume(
                rows.rows_iter::<Owned>().ok()?,
                owned_size,
            )?))
        })
    });

    g.bench_function("cql_value/scylla2", |b| {
        b.iter(|| {
            let rows = ours(black_box(&body))?;
            Some(black_box(consume(rows.typed::<Row>().ok()?, |_| 1)?))
        })
    });
    g.bench_function("cql_value/scylla", |b| {
        b.iter(|| {
            let rows = theirs(black_box(&body))?;
            let rows = rows.rows_iter::<scylla_cql::value::Row>().ok()?;
            Some(black_box(consume(rows, |_| 1)?))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_decode
}
criterion_main!(benches);
