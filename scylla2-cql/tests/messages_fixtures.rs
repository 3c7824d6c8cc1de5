//! Every captured Cassandra 4.0 response frame decoded and compared with the manifest's
//! summaries and with the row values of expected.json.

mod common;

use bytes::Bytes;
use common::{expected, fixture, manifest, to_hex};
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{Compression, EnvelopeHeader, HeaderFlags, Opcode};
use scylla2_cql::response::{
    DbError, DecodedResponse, Event, Response, ResponseContext, ResultResponse, SchemaChange,
    SchemaChangeTarget, SchemaChangeType,
};
use scylla2_cql::response::{PagingState, ResultMetadata};
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{ColumnIterator, DeserializeError, DeserializeRow, FrameSlice};
use serde_json::Value;

/// A fixture's header and body, decompressed when header flag 0x01 is set (lz4 or snappy,
/// as negotiated on the capture's connection).
fn fixture_body(file: &str, compression: Option<&str>) -> (EnvelopeHeader, Bytes) {
    let (h, body) = fixture(file);
    if h.flags.contains(HeaderFlags::COMPRESSION) {
        let c = Compression::from_name(compression.expect("compressed connection")).unwrap();
        return (h, c.decompress(&body, 1 << 20).unwrap());
    }
    (h, body)
}

fn decode(file: &str) -> DecodedResponse {
    let (h, body) = fixture(file);
    Response::decode(
        h.opcode,
        h.flags,
        h.version,
        body,
        &ResponseContext::default(),
    )
    .unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The type names of the manifest (the Python driver's, with varchar for text).
fn type_name(t: &CqlType) -> String {
    match t {
        CqlType::Text => "varchar".into(),
        CqlType::Duration => "duration(custom org.apache.cassandra.db.marshal.DurationType)".into(),
        CqlType::List(e) => format!("list<{}>", type_name(e)),
        CqlType::Set(e) => format!("set<{}>", type_name(e)),
        CqlType::Map(k, v) => format!("map<{}, {}>", type_name(k), type_name(v)),
        CqlType::Tuple(ts) => format!(
            "tuple<{}>",
            ts.iter().map(type_name).collect::<Vec<_>>().join(", ")
        ),
        CqlType::Udt(u) => format!(
            "udt {}.{}{{{}}}",
            u.keyspace,
            u.name,
            u.fields
                .iter()
                .map(|(n, t)| format!("{n} {}", type_name(t)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn check_columns(file: &str, columns: &[ColumnSpec], expected: &Value) {
    let exp = expected.as_array().unwrap();
    assert_eq!(columns.len(), exp.len(), "{file}");
    for (c, e) in columns.iter().zip(exp) {
        assert_eq!(c.name, e["name"].as_str().unwrap(), "{file}");
        assert_eq!(
            type_name(&c.typ),
            e["type"].as_str().unwrap(),
            "{file} {}",
            c.name
        );
    }
}

/// `paging`: the paging state of the rows `md` belongs to (PREPARED's metadata has none).
fn check_result_metadata(
    file: &str,
    md: &ResultMetadata,
    paging: Option<PagingState>,
    exp: &Value,
) {
    assert_eq!(
        i64::from(md.flags),
        exp["flags"].as_i64().unwrap(),
        "{file}"
    );
    assert_eq!(
        md.columns_count() as i64,
        exp["columns_count"].as_i64().unwrap(),
        "{file}"
    );
    assert_eq!(
        paging.as_ref().map(|p| to_hex(p.as_bytes())),
        exp["paging_state"].as_str().map(str::to_owned),
        "{file}"
    );
    assert_eq!(
        md.has_more_pages(),
        exp["paging_state"].is_string(),
        "{file}"
    );
    assert_eq!(md.no_metadata(), exp["no_metadata"] == true, "{file}");
    match md.global_table_spec() {
        Some(t) => assert_eq!(
            [t.keyspace.as_str(), t.table.as_str()],
            [
                exp["global_table_spec"][0].as_str().unwrap(),
                exp["global_table_spec"][1].as_str().unwrap()
            ]
        ),
        None => assert!(exp["global_table_spec"].is_null(), "{file}"),
    }
    match md.columns() {
        Some(c) => check_columns(file, c, &exp["columns"]),
        None => assert!(exp["columns"].is_null(), "{file}"),
    }
}

fn check_schema_change(file: &str, sc: &SchemaChange, d: &Value) {
    let change = match sc.change_type {
        SchemaChangeType::Created => "CREATED",
        SchemaChangeType::Updated => "UPDATED",
        SchemaChangeType::Dropped => "DROPPED",
        _ => unreachable!(),
    };
    assert_eq!(change, d["change_type"], "{file}");
    let (target, name) = match &sc.target {
        SchemaChangeTarget::Keyspace { .. } => ("KEYSPACE", None),
        SchemaChangeTarget::Table { table, .. } => ("TABLE", Some(table)),
        SchemaChangeTarget::Type { name, .. } => ("TYPE", Some(name)),
        other => panic!("{file}: {other:?}"),
    };
    assert_eq!(target, d["target"], "{file}");
    assert_eq!(sc.target.keyspace(), d["keyspace"], "{file}");
    assert_eq!(name.map(String::as_str), d["name"].as_str(), "{file}");
}

/// Test-only dynamic row: every cell's type and raw bytes.
struct Cells<'f, 'm>(Vec<(&'m CqlType, Option<FrameSlice<'f>>)>);

impl<'f, 'm> DeserializeRow<'f, 'm> for Cells<'f, 'm> {
    fn check_types(_columns: &'m [ColumnSpec]) -> Result<(), DeserializeError> {
        Ok(())
    }

    fn deserialize(row: ColumnIterator<'f, 'm>) -> Result<Self, DeserializeError> {
        row.map(|c| c.map(|(spec, v)| (&spec.typ, v)))
            .collect::<Result<_, _>>()
            .map(Cells)
    }
}

/// Compares one cell with its expected.json form for the scalar types; returns whether it
/// was checked.
fn check_cell(typ: &CqlType, v: Option<&[u8]>, exp: &Value) -> bool {
    if exp["null"] == true {
        assert_eq!(v, None);
        return true;
    }
    let v = v.expect("non-null cell");
    if exp["empty"] == true {
        assert!(v.is_empty());
        return true;
    }
    let s = exp["value"].as_str();
    let int = |b: &[u8]| -> i64 {
        let mut n: i64 = if b.first().is_some_and(|x| x & 0x80 != 0) {
            -1
        } else {
            0
        };
        for x in b {
            n = (n << 8) | i64::from(*x);
        }
        n
    };
    match typ {
        CqlType::Int
        | CqlType::BigInt
        | CqlType::SmallInt
        | CqlType::TinyInt
        | CqlType::Timestamp => {
            assert_eq!(int(v).to_string(), s.unwrap());
        }
        CqlType::Text | CqlType::Ascii => assert_eq!(std::str::from_utf8(v).unwrap(), s.unwrap()),
        CqlType::Boolean => assert_eq!(if v == [1] { "true" } else { "false" }, s.unwrap()),
        CqlType::Double | CqlType::Float => assert_eq!(to_hex(v), exp["bits"].as_str().unwrap()),
        CqlType::Uuid | CqlType::Timeuuid => {
            assert_eq!(uuid::Uuid::from_slice(v).unwrap().to_string(), s.unwrap())
        }
        CqlType::Blob => assert_eq!(to_hex(v), s.unwrap()),
        _ => return false,
    }
    true
}

fn check_rows(
    file: &str,
    rows: &scylla2_cql::response::Rows,
    specs: &[ColumnSpec],
    exp: &Value,
) -> usize {
    let exp_rows = exp["rows"].as_array().unwrap();
    let got: Vec<Cells<'_, '_>> = rows
        .iter::<Cells<'_, '_>>(specs)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got.len(), exp_rows.len(), "{file}");
    let mut checked = 0;
    for (row, exp_row) in got.iter().zip(exp_rows) {
        let exp_row = exp_row.as_array().unwrap();
        assert_eq!(row.0.len(), exp_row.len());
        for ((typ, v), e) in row.0.iter().zip(exp_row) {
            if check_cell(typ, v.map(|s| s.as_slice()), e) {
                checked += 1;
            }
        }
    }
    checked
}

#[test]
fn every_captured_frame_decodes_to_the_manifest_summary() {
    let m = manifest();
    let exp = expected();
    let mut decoded = 0;
    let mut cells_checked = 0;
    // The prepared SELECT's result columns, for the No_metadata executions that follow it.
    let mut prepared_select: Option<Vec<ColumnSpec>> = None;
    let frames = m["frames"].as_array().unwrap();
    for f in frames {
        let file = f["file"].as_str().unwrap();
        let d = &f["decoded"];
        let (h, body) = fixture_body(file, f["connection_compression"].as_str());
        assert_eq!(
            body.len() as i64,
            d["body_length"].as_i64().unwrap(),
            "{file}"
        );
        let DecodedResponse { extras, response } = Response::decode(
            h.opcode,
            h.flags,
            h.version,
            body,
            &ResponseContext::default(),
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            extras.tracing_id.map(|t| t.to_string()),
            d["tracing_id"].as_str().map(str::to_owned),
            "{file}"
        );
        let warnings: Vec<&str> = d["warnings"]
            .as_array()
            .map(|w| w.iter().map(|x| x.as_str().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(extras.warnings, warnings, "{file}");
        assert!(extras.custom_payload.is_none());
        match response {
            Response::Ready => assert_eq!(h.opcode, Opcode::Ready),
            Response::Supported(s) => {
                let opts = d["options"].as_object().unwrap();
                assert_eq!(s.options.len(), opts.len());
                for (k, v) in opts {
                    let want: Vec<&str> = v
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap())
                        .collect();
                    assert_eq!(s.get(k).unwrap(), want.as_slice(), "{file} {k}");
                }
                assert_eq!(s.compression(), ["snappy", "lz4"]);
                assert_eq!(s.protocol_version_numbers().collect::<Vec<_>>(), [3, 4]);
                assert_eq!(s.shard().unwrap(), None);
                assert_eq!(s.response_context().unwrap(), ResponseContext::default());
            }
            Response::Error(e) => {
                let code = i32::from_str_radix(
                    d["error_code"].as_str().unwrap().trim_start_matches("0x"),
                    16,
                )
                .unwrap();
                assert_eq!(e.error.code(), code, "{file}");
                assert_eq!(e.message, d["message"].as_str().unwrap(), "{file}");
                match &e.error {
                    DbError::Unprepared { id } => {
                        assert_eq!(to_hex(id), d["unprepared_id"].as_str().unwrap())
                    }
                    DbError::AlreadyExists { keyspace, table } => {
                        assert_eq!(keyspace, d["keyspace"].as_str().unwrap());
                        assert_eq!(table, d["table"].as_str().unwrap());
                    }
                    DbError::Unavailable {
                        consistency,
                        required,
                        alive,
                    } => {
                        assert_eq!(consistency.to_string(), d["consistency"].as_str().unwrap());
                        assert_eq!(i64::from(*required), d["required"].as_i64().unwrap());
                        assert_eq!(i64::from(*alive), d["alive"].as_i64().unwrap());
                    }
                    DbError::SyntaxError | DbError::Invalid => {}
                    other => panic!("{file}: {other:?}"),
                }
            }
            Response::Event(ev) => {
                assert_eq!(h.stream, -1);
                assert_eq!(d["event_type"], "SCHEMA_CHANGE");
                let Event::SchemaChange(sc) = ev else {
                    panic!("{file}: {ev:?}")
                };
                check_schema_change(file, &sc, d);
            }
            Response::Result(r) => match r {
                ResultResponse::Void => assert_eq!(d["kind"], "void", "{file}"),
                ResultResponse::SetKeyspace(ks) => {
                    assert_eq!(d["kind"], "set_keyspace");
                    assert_eq!(ks, d["keyspace"].as_str().unwrap());
                }
                ResultResponse::SchemaChange(sc) => {
                    assert_eq!(d["kind"], "schema_change");
                    check_schema_change(file, &sc, d);
                }
                ResultResponse::Prepared(p) => {
                    assert_eq!(d["kind"], "prepared");
                    assert_eq!(to_hex(&p.id), d["prepared_id"].as_str().unwrap());
                    assert_eq!(p.result_metadata_id, None, "v4 has no result metadata id");
                    assert!(!p.is_lwt);
                    let b = &d["bind_metadata"];
                    assert_eq!(i64::from(p.bind.flags), b["flags"].as_i64().unwrap());
                    let pk: Vec<i64> = b["pk_indexes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_i64().unwrap())
                        .collect();
                    assert_eq!(
                        p.bind
                            .pk_indexes
                            .iter()
                            .map(|&x| i64::from(x))
                            .collect::<Vec<_>>(),
                        pk
                    );
                    assert_eq!(
                        p.bind.columns.len() as i64,
                        b["columns_count"].as_i64().unwrap()
                    );
                    check_columns(file, &p.bind.columns, &b["columns"]);
                    assert_eq!(
                        p.bind.global_table_spec.as_ref().unwrap().table,
                        b["global_table_spec"][1]
                    );
                    check_result_metadata(file, &p.result, None, &d["result_metadata"]);
                    if let Some(cols) = p.result.columns() {
                        prepared_select = Some(cols.to_vec());
                    }
                }
                ResultResponse::Rows(rows) => {
                    assert_eq!(d["kind"], "rows");
                    check_result_metadata(
                        file,
                        &rows.metadata,
                        rows.paging_state(),
                        &d["metadata"],
                    );
                    assert_eq!(
                        rows.rows_count() as i64,
                        d["rows_count"].as_i64().unwrap(),
                        "{file}"
                    );
                    let specs = match rows.columns() {
                        Some(c) => c.to_vec(),
                        None => prepared_select
                            .clone()
                            .expect("PREPARE before No_metadata rows"),
                    };
                    let key = f["expected_key"].as_str().unwrap();
                    let e = &exp["results"][key];
                    if let Some(ps) = e["paging_state"].as_str() {
                        assert_eq!(to_hex(rows.paging_state().unwrap().as_bytes()), ps);
                    }
                    cells_checked += check_rows(file, &rows, &specs, e);
                }
                other => panic!("{file}: {other:?}"),
            },
            other => panic!("{file}: {other:?}"),
        }
        decoded += 1;
    }
    assert_eq!(decoded, frames.len());
    assert!(cells_checked > 150, "only {cells_checked} cells checked");
}

#[test]
fn traced_warning_and_lwt_frames() {
    let traced = decode("070-select-traced.bin");
    assert_eq!(
        traced.extras.tracing_id.unwrap().to_string(),
        "6e2f4100-e5e8-11f1-b6cf-49132de1e263"
    );
    let warned = decode("074-batch-unlogged-warning.bin");
    assert_eq!(warned.extras.warnings.len(), 1);
    assert!(warned.extras.warnings[0].starts_with("Unlogged batch covering 12 partitions"));
    assert_eq!(warned.response, Response::Result(ResultResponse::Void));

    for (file, applied) in [
        ("066-lwt-insert-applied.bin", true),
        ("067-lwt-insert-not-applied.bin", false),
    ] {
        let Response::Result(ResultResponse::Rows(rows)) = decode(file).response else {
            panic!()
        };
        let cols = rows.columns().unwrap();
        assert_eq!(cols[0].name, "[applied]");
        let row = rows
            .typed::<Cells<'_, '_>>()
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(row.0[0].1.unwrap().as_slice(), [u8::from(applied)]);
    }
}

#[test]
fn no_metadata_rows_need_the_prepared_columns() {
    let Response::Result(ResultResponse::Rows(rows)) =
        decode("050-execute-select-events-skip-metadata.bin").response
    else {
        panic!()
    };
    assert!(rows.columns().is_none());
    assert!(rows.typed::<Cells<'_, '_>>().is_err());
    assert!(rows.iter::<Cells<'_, '_>>(&[]).is_err());
    // The rows bytes are a slice of the frame, not a copy.
    let (_, body) = fixture("050-execute-select-events-skip-metadata.bin");
    let ptr = body.as_ptr() as usize;
    let Response::Result(ResultResponse::Rows(rows)) = Response::decode(
        Opcode::Result,
        Default::default(),
        ProtocolVersion::V4,
        body.clone(),
        &Default::default(),
    )
    .unwrap()
    .response
    else {
        panic!()
    };
    let c = rows.content().as_ptr() as usize;
    assert!(c > ptr && c < ptr + body.len());
}

/// An events row, borrowed from the frame where it can be.
type EventRow<'f> = (
    &'f str,
    i32,
    scylla2_cql::value::CqlTimestamp,
    uuid::Uuid,
    Option<i64>,
    Option<bool>,
    Option<&'f str>,
    Option<f64>,
);

#[test]
fn events_rows_decode_as_typed_tuples() {
    let exp = expected();
    let Response::Result(ResultResponse::Prepared(p)) =
        decode("042-prepare-select-events.bin").response
    else {
        panic!()
    };
    let cached = p.result.into_columns().unwrap();
    let mut total = 0;
    for (file, key) in [
        (
            "050-execute-select-events-skip-metadata.bin",
            "execute-select-events-skip-metadata",
        ),
        (
            "051-execute-select-events-with-metadata.bin",
            "execute-select-events-with-metadata",
        ),
        (
            "052-execute-select-events-page1.bin",
            "execute-select-events-page1",
        ),
        (
            "053-execute-select-events-page2.bin",
            "execute-select-events-page2",
        ),
    ] {
        let Response::Result(ResultResponse::Rows(rows)) = decode(file).response else {
            panic!()
        };
        let specs = rows.columns().unwrap_or(&cached);
        let got: Vec<EventRow<'_>> = rows
            .iter::<EventRow<'_>>(specs)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let want = exp["results"][key]["rows"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{file}");
        for (g, w) in got.iter().zip(want) {
            let v = |i: usize| w[i]["value"].as_str().unwrap();
            let opt = |i: usize| w[i]["value"].as_str().map(str::to_owned);
            assert_eq!(g.0, v(0));
            assert_eq!(g.1.to_string(), v(1));
            assert_eq!(g.2.0.to_string(), v(2));
            assert_eq!(g.3.to_string(), v(3));
            assert_eq!(g.4.map(|x| x.to_string()), opt(4));
            assert_eq!(g.5.map(|x| x.to_string()), opt(5));
            assert_eq!(g.6.map(str::to_owned), opt(6));
            assert_eq!(
                g.7.map(|x| to_hex(&x.to_be_bytes())),
                w[7]["bits"].as_str().map(str::to_owned)
            );
            total += 1;
        }
        // A row type that does not fit is refused once, before any row is read.
        assert!(matches!(
            rows.iter::<(i32, &str)>(specs),
            Err(scylla2_cql::response::ResponseError::Deserialize(_))
        ));
    }
    assert_eq!(total, 6 + 6 + 2 + 2);

    let Response::Result(ResultResponse::Rows(rows)) =
        decode("067-lwt-insert-not-applied.bin").response
    else {
        panic!()
    };
    let row: (bool, &str, &str) = rows.typed().unwrap().next().unwrap().unwrap();
    assert_eq!(row, (false, "lwt", "first"));
}

#[test]
fn all_types_rows_decode_as_dynamic_rows() {
    use scylla2_cql::value::{CqlValue, Row};
    let exp = expected();
    for file in ["025-select-all-types.bin", "026-select-all-types-page1.bin"] {
        let Response::Result(ResultResponse::Rows(rows)) = decode(file).response else {
            panic!()
        };
        let got: Vec<Row> = rows.typed().unwrap().collect::<Result<_, _>>().unwrap();
        let key = if file.starts_with("025") {
            "select-all-types"
        } else {
            "select-all-types-page1"
        };
        let want = exp["results"][key]["rows"].as_array().unwrap();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g.columns.len(), 36);
            // The id column.
            match (&g.columns[0], w[0]["value"].as_str()) {
                (Some(CqlValue::Int(id)), Some(v)) => assert_eq!(id.to_string(), v),
                other => panic!("{other:?}"),
            }
        }
    }
}
