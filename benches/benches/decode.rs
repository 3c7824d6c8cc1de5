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
            let mut acc = 0i64;
            type R<'a> = (i32, &'a str, i64, Uuid, ListIter<'a, 'a, i32>);
            for row in rows.typed::<R<'_>>().ok()? {
                let (k, txt, big, id, li) = row.ok()?;
                acc = acc
                    .wrapping_add(i64::from(k) + txt.len() as i64 + i64::from(id.as_bytes()[0]))
                    .wrapping_add(big);
                for v in li {
                    acc = acc.wrapping_add(i64::from(v.ok()?));
                }
            }
            Some(black_box(acc))
        })
    });
    g.bench_function("borrowed/scylla", |b| {
        b.iter(|| {
            let rows = theirs(black_box(&body))?;
            let mut acc = 0i64;
            type R<'a> = (i32, &'a str, i64, Uuid, ListlikeIterator<'a, 'a, i32>);
            for row in rows.rows_iter::<R<'_>>().ok()? {
                let (k, txt, big, id, li) = row.ok()?;
                acc = acc
                    .wrapping_add(i64::from(k) + txt.len() as i64 + i64::from(id.as_bytes()[0]))
                    .wrapping_add(big);
                for v in li {
                    acc = acc.wrapping_add(i64::from(v.ok()?));
                }
            }
            Some(black_box(acc))
        })
    });

    g.bench_function("owned/scylla2", |b| {
        b.iter(|| {
            let rows = ours(black_box(&body))?;
            let mut n = 0usize;
            type R = (i32, String, i64, Uuid, Vec<i32>);
            for row in rows.typed::<R>().ok()? {
                let row = row.ok()?;
                n += row.1.len() + row.4.len();
                black_box(row);
            }
            Some(black_box(n))
        })
    });
    g.bench_function("owned/scylla", |b| {
        b.iter(|| {
            let rows = theirs(black_box(&body))?;
            let mut n = 0usize;
            type R = (i32, String, i64, Uuid, Vec<i32>);
            for row in rows.rows_iter::<R>().ok()? {
                let row = row.ok()?;
                n += row.1.len() + row.4.len();
                black_box(row);
            }
            Some(black_box(n))
        })
    });

    g.bench_function("cql_value/scylla2", |b| {
        b.iter(|| {
            let rows = ours(black_box(&body))?;
            let mut n = 0usize;
            for row in rows.typed::<Row>().ok()? {
                let row = row.ok()?;
                n += 1;
                black_box(row);
            }
            Some(black_box(n))
        })
    });
    g.bench_function("cql_value/scylla", |b| {
        b.iter(|| {
            let rows = theirs(black_box(&body))?;
            let mut n = 0usize;
            for row in rows.rows_iter::<scylla_cql::value::Row>().ok()? {
                let row = row.ok()?;
                n += 1;
                black_box(row);
            }
            Some(black_box(n))
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
