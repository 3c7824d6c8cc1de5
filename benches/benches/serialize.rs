//! Request serialization: EXECUTE of a prepared 5-column INSERT, QUERY with a 2 KB text value
//! and BATCH of 64 prepared statements. Ours sizes the body exactly and writes it into a
//! preallocated slot (as the driver's write queue does); the official codec serializes the
//! values into `SerializedValues` and the request into a `Vec` (reused, cleared per iteration).

mod common;

use std::borrow::Cow;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use scylla2_benches::fixtures::{self, COLUMNS, KEYSPACE, TABLE};
use scylla2_cql::request::{
    Batch, BatchStatement, BatchStatementKind, BatchType, Execute, Query, QueryParameters, Request,
};
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::SerializeRow;
use scylla2_cql::{Consistency, ProtocolVersion};

use scylla_cql::frame::request::SerializableRequest;
use scylla_cql::frame::request::batch::{Batch as TheirBatch, BatchStatement as TheirStmt};
use scylla_cql::frame::request::execute::ExecuteV2;
use scylla_cql::frame::request::query::{Query as TheirQuery, QueryParameters as TheirParams};
use scylla_cql::frame::response::result::{
    CollectionType, ColumnSpec as TheirSpec, ColumnType, NativeType, TableSpec,
};
use scylla_cql::serialize::raw_batch::RawBatchValuesAdapter;
use scylla_cql::serialize::row::{
    RowSerializationContext, SerializeRow as SerializeRowTheirs, SerializedValues,
};

const VERSION: ProtocolVersion = ProtocolVersion::V4;
const STATEMENT_ID: [u8; 16] = *b"0123456789abcdef";

type InsertRow<'a> = (i32, &'a str, i64, uuid::Uuid, &'a [i32]);

fn our_specs() -> Vec<ColumnSpec> {
    let types = [
        CqlType::Int,
        CqlType::Text,
        CqlType::BigInt,
        CqlType::Uuid,
        CqlType::List(Box::new(CqlType::Int)),
    ];
    COLUMNS
        .iter()
        .zip(types)
        .map(|(name, typ)| ColumnSpec {
            keyspace: KEYSPACE.into(),
            table: TABLE.into(),
            name: (*name).into(),
            typ,
        })
        .collect()
}

fn their_specs() -> Vec<TheirSpec<'static>> {
    let types = [
        ColumnType::Native(NativeType::Int),
        ColumnType::Native(NativeType::Text),
        ColumnType::Native(NativeType::BigInt),
        ColumnType::Native(NativeType::Uuid),
        ColumnType::Collection {
            frozen: false,
            typ: CollectionType::List(Box::new(ColumnType::Native(NativeType::Int))),
        },
    ];
    COLUMNS
        .iter()
        .zip(types)
        .map(|(name, typ)| TheirSpec::borrowed(name, typ, TableSpec::borrowed(KEYSPACE, TABLE)))
        .collect()
}

/// Ours: type check, exact size, then write into the slot.
fn ours_into<R: Request>(req: &R, check: impl Fn() -> bool, slot: &mut [u8]) -> usize {
    if !check() {
        return 0;
    }
    let Ok(size) = req.body_size(VERSION) else {
        return 0;
    };
    let mut w: &mut [u8] = &mut slot[..size];
    req.write_body(VERSION, &mut w);
    size
}

/// Theirs: the values serialized against the column specifications.
fn their_values(
    specs: &[TheirSpec<'_>],
    values: &impl SerializeRowTheirs,
) -> Option<SerializedValues> {
    let ctx = RowSerializationContext::from_specs(specs);
    SerializedValues::from_serializable(&ctx, values).ok()
}

/// Theirs: the request serialized into the cleared, reused `out`; its length.
fn theirs_into(req: &impl SerializableRequest, out: &mut Vec<u8>) -> usize {
    out.clear();
    let _ = req.serialize(out);
    out.len()
}

fn bench_execute(c: &mut Criterion) {
    let rows = fixtures::rows(1, 11);
    let r = &rows[0];
    let id = uuid::Uuid::from_bytes(r.id);
    let values: InsertRow<'_> = (r.k, &r.txt, r.big, id, &r.li);
    let specs = our_specs();
    let theirs_specs = their_specs();
    let mut slot = vec![0u8; 4096];
    let mut out = Vec::with_capacity(4096);

    let mut g = c.benchmark_group("serialize/execute_insert_5_columns");
    g.throughput(Throughput::Elements(1));
    g.bench_function("scylla2", |b| {
        b.iter(|| {
            let v = black_box(&values);
            let mut params = QueryParameters::new(Consistency::LocalQuorum, v);
            params.skip_metadata = true;
            let req = Execute {
                id: &STATEMENT_ID,
                result_metadata_id: None,
                params,
            };
            black_box(ours_into(&req, || v.check_types(&specs).is_ok(), &mut slot))
        })
    });
    g.bench_function("scylla", |b| {
        b.iter(|| {
            let v = black_box(&values);
            let Some(serialized) = their_values(&theirs_specs, v) else {
                return 0;
            };
            let req = ExecuteV2 {
                id: STATEMENT_ID[..].into(),
                result_metadata_id: None,
                parameters: TheirParams {
                    consistency: scylla_cql::Consistency::LocalQuorum,
                    skip_metadata: true,
                    values: Cow::Borrowed(&serialized),
                    ..Default::default()
                },
                tablet_version_block: None,
            };
            black_box(theirs_into(&req, &mut out))
        })
    });
    g.finish();
}

fn bench_query(c: &mut Criterion) {
    let mut rng = fixtures::Rng::new(3);
    let text = fixtures::text(&mut rng, 2048);
    let stmt = "INSERT INTO bench.t (k, txt) VALUES (?, ?)";
    let values = (7i32, text.as_str());
    let specs: Vec<ColumnSpec> = our_specs().into_iter().take(2).collect();
    let theirs_specs: Vec<TheirSpec<'static>> = their_specs().into_iter().take(2).collect();
    let mut slot = vec![0u8; 8192];
    let mut out = Vec::with_capacity(8192);

    let mut g = c.benchmark_group("serialize/query_2kb_text");
    g.throughput(Throughput::Bytes(2048));
    g.bench_function("scylla2", |b| {
        b.iter(|| {
            let v = black_box(&values);
            let req = Query {
                query: stmt,
                params: QueryParameters::new(Consistency::One, v),
            };
            black_box(ours_into(&req, || v.check_types(&specs).is_ok(), &mut slot))
        })
    });
    g.bench_function("scylla", |b| {
        b.iter(|| {
            let v = black_box(&values);
            let Some(serialized) = their_values(&theirs_specs, v) else {
                return 0;
            };
            let req = TheirQuery {
                contents: Cow::Borrowed(stmt),
                parameters: TheirParams {
                    consistency: scylla_cql::Consistency::One,
                    values: Cow::Borrowed(&serialized),
                    ..Default::default()
                },
            };
            black_box(theirs_into(&req, &mut out))
        })
    });
    g.finish();
}

fn bench_batch(c: &mut Criterion) {
    const N: usize = 64;
    let rows = fixtures::rows(N, 5);
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| uuid::Uuid::from_bytes(r.id)).collect();
    let values: Vec<InsertRow<'_>> = rows
        .iter()
        .zip(&ids)
        .map(|(r, id)| (r.k, r.txt.as_str(), r.big, *id, r.li.as_slice()))
        .collect();
    let specs = our_specs();
    let theirs_specs = their_specs();
    let mut slot = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(64 * 1024);

    let mut g = c.benchmark_group("serialize/batch_64_prepared");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_with_input(BenchmarkId::new("scylla2", N), &values, |b, values| {
        let mut statements: Vec<BatchStatement<'_, InsertRow<'_>>> = Vec::with_capacity(N);
        b.iter(|| {
            statements.clear();
            let mut ok = true;
            for v in black_box(values) {
                ok &= v.check_types(&specs).is_ok();
                statements.push(BatchStatement {
                    kind: BatchStatementKind::Prepared(&STATEMENT_ID),
                    values: v,
                });
            }
            let req = Batch::new(BatchType::Unlogged, &statements, Consistency::LocalQuorum);
            black_box(ours_into(&req, || ok, &mut slot))
        })
    });
    g.bench_with_input(BenchmarkId::new("scylla", N), &values, |b, values| {
        let stmt = TheirStmt::Prepared {
            id: Cow::Borrowed(&STATEMENT_ID[..]),
        };
        let stmts: Vec<TheirStmt<'_>> = (0..N).map(|_| stmt.clone()).collect();
        b.iter(|| {
            // The official driver's batch path: every statement's values are serialized
            // straight into the frame through `RawBatchValuesAdapter`.
            let specs = &theirs_specs;
            let contexts = (0..N).map(move |_| RowSerializationContext::from_specs(specs));
            let req = TheirBatch {
                statements: Cow::Borrowed(&stmts[..]),
                batch_type: scylla_cql::frame::request::batch::BatchType::Unlogged,
                consistency: scylla_cql::Consistency::LocalQuorum,
                serial_consistency: None,
                timestamp: None,
                values: RawBatchValuesAdapter::new(black_box(values), contexts),
            };
            black_box(theirs_into(&req, &mut out))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = bench_execute, bench_query, bench_batch
}
criterion_main!(benches);
