//! Requests: rebuilt byte for byte from the captured Python-driver requests, hand-written v5
//! layouts, validation errors, and a property test that every request writes exactly
//! `body_size` bytes and parses back, on v4 and v5.

mod common;

use common::{RawRow, body, frame, hex, manifest, to_hex};
use proptest::prelude::*;
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::HeaderFlags;
use scylla2_cql::request::{
    AuthResponse, Batch, BatchStatement, BatchStatementKind, BatchType, Execute, Options, Prepare,
    Query, QueryParameters, Register, Request, RequestError, Startup, WithCustomPayload,
    request_flags,
};
use scylla2_cql::value::SerializeRow;
use scylla2_cql::wire::{RawValue, WireReader};
use scylla2_cql::{Consistency, SerialConsistency};

const V4: ProtocolVersion = ProtocolVersion::V4;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn consistency(name: &str) -> Consistency {
    match name {
        "ONE" => Consistency::One,
        "ALL" => Consistency::All,
        "QUORUM" => Consistency::Quorum,
        "LOCAL_QUORUM" => Consistency::LocalQuorum,
        other => panic!("consistency {other}"),
    }
}

fn values_of(req: &serde_json::Value) -> RawRow {
    let values: Vec<&str> = req["values_hex"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap()).collect())
        .unwrap_or_default();
    RawRow::from_hex(&values)
}

/// Rebuilds one captured request frame with this crate's types.
fn rebuild(req: &serde_json::Value) -> Vec<u8> {
    let flags = HeaderFlags(
        u8::from_str_radix(
            req["header_flags"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
            16,
        )
        .unwrap(),
    );
    let stream = req["stream"].as_i64().unwrap() as i16;
    let query_flags = req["query_flags"]
        .as_str()
        .map(|f| u32::from_str_radix(f.trim_start_matches("0x"), 16).unwrap());
    match req["opcode_name"].as_str().unwrap() {
        "OPTIONS" => frame(&Options, V4, flags, stream),
        "STARTUP" => {
            let opts: Vec<(&str, &str)> = req["startup_options"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
                .collect();
            frame(&Startup { options: &opts }, V4, flags, stream)
        }
        "REGISTER" => {
            let events: Vec<&str> = req["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap())
                .collect();
            frame(&Register { events: &events }, V4, flags, stream)
        }
        "PREPARE" => frame(
            &Prepare::new(req["query"].as_str().unwrap()),
            V4,
            flags,
            stream,
        ),
        "QUERY" | "EXECUTE" => {
            let values = values_of(req);
            let paging_state = req["paging_state"].as_str().map(hex);
            let mut p =
                QueryParameters::new(consistency(req["consistency"].as_str().unwrap()), &values);
            p.page_size = req["page_size"].as_i64().map(|n| n as i32);
            p.paging_state = paging_state.as_deref();
            p.skip_metadata = query_flags.unwrap() & 0x02 != 0;
            assert_eq!(p.flags(V4).unwrap(), query_flags.unwrap(), "query flags");
            if req["opcode_name"] == "QUERY" {
                let q = Query {
                    query: req["query"].as_str().unwrap(),
                    params: p,
                };
                frame(&q, V4, flags, stream)
            } else {
                let id = hex(req["prepared_id"].as_str().unwrap());
                let e = Execute {
                    id: &id,
                    result_metadata_id: None,
                    params: p,
                };
                frame(&e, V4, flags, stream)
            }
        }
        "BATCH" => {
            let batch_type = match req["batch_type"].as_str().unwrap() {
                "LOGGED" => BatchType::Logged,
                "UNLOGGED" => BatchType::Unlogged,
                "COUNTER" => BatchType::Counter,
                other => panic!("batch type {other}"),
            };
            let stmts = req["statements"].as_array().unwrap();
            let rows: Vec<RawRow> = stmts.iter().map(values_of).collect();
            let statements: Vec<BatchStatement<'_, RawRow>> = stmts
                .iter()
                .zip(&rows)
                .map(|(s, values)| {
                    assert_eq!(s["kind"], 0);
                    BatchStatement {
                        kind: BatchStatementKind::Query(s["query"].as_str().unwrap()),
                        values,
                    }
                })
                .collect();
            let batch = Batch::new(
                batch_type,
                &statements,
                consistency(req["consistency"].as_str().unwrap()),
            );
            frame(&batch, V4, flags, stream)
        }
        other => panic!("unexpected request {other}"),
    }
}

#[test]
fn captured_requests_rebuild_byte_for_byte() {
    let m = manifest();
    let mut rebuilt = 0;
    let mut opcodes = std::collections::BTreeSet::new();
    for f in m["frames"].as_array().unwrap() {
        let req = &f["request"];
        let Some(expected) = req["frame_hex"].as_str() else {
            continue;
        };
        if req["header_flags"] == "0x01" {
            continue; // compressed body: the frame codec's business
        }
        let got = rebuild(req);
        assert_eq!(to_hex(&got), expected, "{}", f["file"]);
        opcodes.insert(req["opcode_name"].as_str().unwrap().to_owned());
        rebuilt += 1;
    }
    assert_eq!(rebuilt, 28);
    assert_eq!(
        opcodes.into_iter().collect::<Vec<_>>(),
        [
            "BATCH", "EXECUTE", "OPTIONS", "PREPARE", "QUERY", "REGISTER", "STARTUP"
        ]
    );
}

#[test]
fn v5_query_with_every_parameter_and_named_values() {
    let values = RawRow {
        values: vec![Some(vec![0, 0, 0, 7]), None],
        names: Some(vec!["a".into(), "bc".into()]),
    };
    let mut p = QueryParameters::new(Consistency::LocalQuorum, &values);
    p.skip_metadata = true;
    p.page_size = Some(100);
    p.paging_state = Some(&[0xAB, 0xCD]);
    p.serial_consistency = Some(SerialConsistency::LocalSerial);
    p.timestamp = Some(0x0102030405060708);
    p.keyspace = Some("ks");
    p.now_in_seconds = Some(42);
    let q = Query {
        query: "SELECT",
        params: p,
    };
    let expected = hex(concat!(
        "00000006",
        "53454c454354", // [long string] "SELECT"
        "0006",         // LOCAL_QUORUM
        "000001ff",     // every flag, as an [int]
        "0002",         // two values
        "000161",
        "00000004",
        "00000007", // "a" = 7
        "00026263",
        "ffffffff",         // "bc" = null
        "00000064",         // page size 100
        "00000002abcd",     // paging state
        "0009",             // LOCAL_SERIAL
        "0102030405060708", // timestamp
        "00026b73",         // keyspace "ks"
        "0000002a",         // now in seconds
    ));
    assert_eq!(body(&q, V5), expected);
    // v4 cannot carry keyspace nor now_in_seconds.
    assert!(matches!(
        q.body_size(V4),
        Err(RequestError::Unsupported { version: V4, .. })
    ));
    let mut v4 = q;
    v4.params.keyspace = None;
    v4.params.now_in_seconds = None;
    let b = body(&v4, V4);
    assert_eq!(&b[10..13], &[0x00, 0x06, 0x7f], "v4 flags are one byte");
    assert_eq!(b.len(), expected.len() - 3 - 4 - 4);
}

#[test]
fn v5_prepare_execute_and_batch_layouts() {
    let prepare = Prepare {
        query: "Q",
        keyspace: Some("ks"),
    };
    assert_eq!(
        body(&prepare, V5),
        hex("0000000151000000010002 6b73".replace(' ', "").as_str())
    );
    assert_eq!(body(&Prepare::new("Q"), V5), hex("000000015100000000"));
    assert_eq!(body(&Prepare::new("Q"), V4), hex("0000000151"));
    assert!(prepare.body_size(V4).is_err());

    let values = RawRow::from_hex(&["01"]);
    let execute = Execute {
        id: &[0xAA, 0xBB],
        result_metadata_id: Some(&[0xCC]),
        params: QueryParameters::new(Consistency::One, &values),
    };
    assert_eq!(
        body(&execute, V5),
        hex("0002aabb0001cc000100000001000100000001 01"
            .replace(' ', "")
            .as_str())
    );
    let missing = Execute {
        result_metadata_id: None,
        ..execute
    };
    assert_eq!(
        missing.body_size(V5),
        Err(RequestError::Missing {
            what: "result metadata id",
            version: V5
        })
    );
    // On v4 the id is sent only when given (Scylla's SCYLLA_USE_METADATA_ID).
    assert_eq!(body(&missing, V4), hex("0002aabb00010100010000000101"));

    let v1 = RawRow::from_hex(&["02"]);
    let statements: [BatchStatement<'_, dyn SerializeRow>; 2] = [
        BatchStatement {
            kind: BatchStatementKind::Prepared(&[0x01]),
            values: &v1,
        },
        BatchStatement {
            kind: BatchStatementKind::Query("Q"),
            values: &(),
        },
    ];
    let mut batch = Batch::new(BatchType::Counter, &statements, Consistency::Quorum);
    batch.serial_consistency = Some(SerialConsistency::Serial);
    batch.timestamp = Some(-1);
    batch.keyspace = Some("k");
    batch.now_in_seconds = Some(1);
    let expected = concat!(
        "02",
        "0002",
        "01",
        "000101",
        "0001",
        "0000000102", // prepared 0x01 with one value
        "00",
        "0000000151",
        "0000", // query "Q" without values
        "0004",
        "000001b0", // QUORUM, flags serial|timestamp|keyspace|now
        "0008",
        "ffffffffffffffff",
        "00016b",
        "00000001",
    );
    assert_eq!(to_hex(&body(&batch, V5)), expected);
    assert!(batch.body_size(V4).is_err());
    batch.keyspace = None;
    batch.now_in_seconds = None;
    let v4 = body(&batch, V4);
    assert_eq!(
        to_hex(&v4),
        "020002010001010001000000010200000000015100000004300008ffffffffffffffff"
    );
}

#[test]
fn small_requests_and_custom_payload() {
    assert_eq!(body(&Options, V5), Vec::<u8>::new());
    assert_eq!(
        body(
            &AuthResponse {
                token: Some(b"\0u\0p")
            },
            V4
        ),
        hex("00000004 00750070".replace(' ', "").as_str())
    );
    assert_eq!(body(&AuthResponse { token: None }, V4), hex("ffffffff"));
    let q = Query {
        query: "Q",
        params: QueryParameters::new(Consistency::One, &()),
    };
    let payload: [(&str, &[u8]); 1] = [("k", &[9])];
    let with = WithCustomPayload::new(&payload, &q);
    assert_eq!(
        to_hex(&frame(&with, V4, request_flags(true, true), 7)),
        // header (flags tracing|custom payload), [bytes map] {k: 09}, then the QUERY body
        concat!(
            "0406000707",
            "00000012",
            "0001",
            "00016b",
            "0000000109",
            "0000000151",
            "0001",
            "00"
        )
    );
}

#[test]
fn validation_errors() {
    let long = "x".repeat(70_000);
    let names = RawRow {
        values: vec![Some(vec![1]), Some(vec![2])],
        names: Some(vec!["a".into()]),
    };
    let q = Query {
        query: "Q",
        params: QueryParameters::new(Consistency::One, &names),
    };
    assert_eq!(
        q.body_size(V4),
        Err(RequestError::MixedNamedValues { index: 1 })
    );
    let register = Register { events: &[&long] };
    assert!(matches!(
        register.body_size(V4),
        Err(RequestError::TooLong { max: 65535, .. })
    ));
    let many = RawRow::positional(vec![None; 70_000]);
    let q = Query {
        query: "Q",
        params: QueryParameters::new(Consistency::One, &many),
    };
    assert!(matches!(
        q.body_size(V5),
        Err(RequestError::TooMany { count: 70_000, .. })
    ));
    let named = RawRow {
        values: vec![Some(vec![1])],
        names: Some(vec!["a".into()]),
    };
    let statements = [BatchStatement {
        kind: BatchStatementKind::Query("Q"),
        values: &named,
    }];
    let batch = Batch::new(BatchType::Logged, &statements, Consistency::One);
    assert!(matches!(
        batch.body_size(V4),
        Err(RequestError::Unsupported { .. })
    ));
}

// ---- property: size == written, and the bytes parse back ----

#[derive(Debug, Clone)]
struct Params {
    values: RawRow,
    skip_metadata: bool,
    page_size: Option<i32>,
    paging_state: Option<Vec<u8>>,
    serial: Option<bool>,
    timestamp: Option<i64>,
    keyspace: Option<String>,
    now: Option<i32>,
}

fn params_strategy() -> impl Strategy<Value = Params> {
    let values = prop::collection::vec(
        prop::option::of(prop::collection::vec(any::<u8>(), 0..12)),
        0..6,
    );
    (
        values,
        any::<bool>(),
        any::<bool>(),
        prop::option::of(any::<i32>()),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..20)),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<i64>()),
        prop::option::of("[a-z_]{0,12}"),
        prop::option::of(any::<i32>()),
    )
        .prop_map(
            |(
                values,
                named,
                skip_metadata,
                page_size,
                paging_state,
                serial,
                timestamp,
                keyspace,
                now,
            )| {
                let names = named.then(|| (0..values.len()).map(|i| format!("v{i}")).collect());
                Params {
                    values: RawRow { values, names },
                    skip_metadata,
                    page_size,
                    paging_state,
                    serial,
                    timestamp,
                    keyspace,
                    now,
                }
            },
        )
}

fn to_params(p: &Params) -> QueryParameters<'_, RawRow> {
    let mut q = QueryParameters::new(Consistency::LocalOne, &p.values);
    q.skip_metadata = p.skip_metadata;
    q.page_size = p.page_size;
    q.paging_state = p.paging_state.as_deref();
    q.serial_consistency = p.serial.map(|s| {
        if s {
            SerialConsistency::Serial
        } else {
            SerialConsistency::LocalSerial
        }
    });
    q.timestamp = p.timestamp;
    q.keyspace = p.keyspace.as_deref();
    q.now_in_seconds = p.now;
    q
}

/// Parses `<query_parameters>` back and checks every field against `p`.
fn check_params(r: &mut WireReader<'_>, p: &Params, version: ProtocolVersion) {
    assert_eq!(r.read_u16().unwrap(), Consistency::LocalOne.code());
    let flags = match version {
        ProtocolVersion::V4 => u32::from(r.read_u8().unwrap()),
        _ => r.read_u32().unwrap(),
    };
    if flags & 0x01 != 0 {
        let n = r.read_u16().unwrap() as usize;
        assert_eq!(n, p.values.values.len());
        for (i, v) in p.values.values.iter().enumerate() {
            if flags & 0x40 != 0 {
                assert_eq!(r.read_string().unwrap(), format!("v{i}"));
            }
            let got = r.read_value().unwrap();
            match v {
                Some(v) => assert_eq!(got, RawValue::Value(v)),
                None => assert_eq!(got, RawValue::Null),
            }
        }
    } else {
        assert!(p.values.values.is_empty());
    }
    assert_eq!(flags & 0x02 != 0, p.skip_metadata);
    if flags & 0x04 != 0 {
        assert_eq!(Some(r.read_i32().unwrap()), p.page_size);
    }
    if flags & 0x08 != 0 {
        assert_eq!(r.read_bytes().unwrap(), p.paging_state.as_deref());
    }
    if flags & 0x10 != 0 {
        let code = r.read_u16().unwrap();
        assert_eq!(code, if p.serial == Some(true) { 8 } else { 9 });
    }
    if flags & 0x20 != 0 {
        assert_eq!(Some(r.read_i64().unwrap()), p.timestamp);
    }
    if flags & 0x80 != 0 {
        assert_eq!(Some(r.read_string().unwrap()), p.keyspace.as_deref());
    }
    if flags & 0x100 != 0 {
        assert_eq!(Some(r.read_i32().unwrap()), p.now);
    }
    assert!(r.is_empty());
}

fn v5_only(p: &Params) -> bool {
    p.keyspace.is_some() || p.now.is_some()
}

proptest! {
    #[test]
    fn query_and_execute_write_exactly_their_size(
        p in params_strategy(),
        query in "\\PC{0,40}",
        id in prop::collection::vec(any::<u8>(), 0..20),
        rmid in prop::option::of(prop::collection::vec(any::<u8>(), 0..20)),
    ) {
        for version in [V4, V5] {
            let q = Query { query: &query, params: to_params(&p) };
            if version == V4 && v5_only(&p) {
                prop_assert!(q.body_size(version).is_err());
                continue;
            }
            let b = body(&q, version);
            let mut r = WireReader::new(&b);
            prop_assert_eq!(r.read_long_string().unwrap(), query.as_str());
            check_params(&mut r, &p, version);

            let e = Execute { id: &id, result_metadata_id: rmid.as_deref(), params: to_params(&p) };
            if version == V5 && rmid.is_none() {
                prop_assert!(e.body_size(version).is_err());
                continue;
            }
            let b = body(&e, version);
            let mut r = WireReader::new(&b);
            prop_assert_eq!(r.read_short_bytes().unwrap(), id.as_slice());
            if let Some(m) = &rmid {
                prop_assert_eq!(r.read_short_bytes().unwrap(), m.as_slice());
            }
            check_params(&mut r, &p, version);
        }
    }

    #[test]
    fn batch_prepare_and_others_write_exactly_their_size(
        rows in prop::collection::vec(prop::collection::vec(prop::option::of(prop::collection::vec(any::<u8>(), 0..8)), 0..4), 0..5),
        prepared in any::<bool>(),
        p in params_strategy(),
        query in "\\PC{0,30}",
        options in prop::collection::vec(("[A-Z_]{0,10}", "\\PC{0,10}"), 0..4),
        token in prop::option::of(prop::collection::vec(any::<u8>(), 0..30)),
        payload in prop::collection::vec(("[a-z-]{0,10}", prop::collection::vec(any::<u8>(), 0..10)), 0..3),
    ) {
        let rows: Vec<RawRow> = rows.into_iter().map(RawRow::positional).collect();
        let id = [1u8, 2, 3];
        let statements: Vec<BatchStatement<'_, RawRow>> = rows.iter().map(|values| BatchStatement {
            kind: if prepared { BatchStatementKind::Prepared(&id) } else { BatchStatementKind::Query(&query) },
            values,
        }).collect();
        let mut batch = Batch::new(BatchType::Unlogged, &statements, Consistency::Two);
        batch.serial_consistency = p.serial.map(|_| SerialConsistency::Serial);
        batch.timestamp = p.timestamp;
        batch.keyspace = p.keyspace.as_deref();
        batch.now_in_seconds = p.now;
        let prepare = Prepare { query: &query, keyspace: p.keyspace.as_deref() };
        let opts: Vec<(&str, &str)> = options.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let events: Vec<&str> = options.iter().map(|(k, _)| k.as_str()).collect();
        let payload: Vec<(&str, &[u8])> = payload.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
        for version in [V4, V5] {
            if version == V4 && v5_only(&p) {
                prop_assert!(batch.body_size(version).is_err());
            } else {
                let b = body(&batch, version);
                let mut r = WireReader::new(&b);
                prop_assert_eq!(r.read_u8().unwrap(), 1);
                prop_assert_eq!(r.read_u16().unwrap() as usize, rows.len());
                for row in &rows {
                    prop_assert_eq!(r.read_u8().unwrap(), u8::from(prepared));
                    if prepared { r.read_short_bytes().unwrap(); } else { r.read_long_string().unwrap(); }
                    prop_assert_eq!(r.read_u16().unwrap() as usize, row.values.len());
                    for _ in &row.values { r.read_value().unwrap(); }
                }
                prop_assert_eq!(r.read_u16().unwrap(), 2);
                let with = WithCustomPayload::new(&payload, &batch);
                let wb = body(&with, version);
                prop_assert!(wb.ends_with(&b));
            }
            if version == V4 && p.keyspace.is_some() {
                prop_assert!(prepare.body_size(version).is_err());
            } else {
                body(&prepare, version);
            }
            let startup = body(&Startup { options: &opts }, version);
            let mut r = WireReader::new(&startup);
            prop_assert_eq!(r.read_u16().unwrap() as usize, opts.len());
            body(&Register { events: &events }, version);
            let auth = body(&AuthResponse { token: token.as_deref() }, version);
            prop_assert_eq!(WireReader::new(&auth).read_bytes().unwrap(), token.as_deref());
            body(&Options, version);
        }
    }
}

#[test]
fn captured_execute_rebuilds_from_typed_values() {
    use scylla2_cql::value::{CqlTimestamp, NamedValues};
    // 043: INSERT INTO events (payload, bucket, ts, id, tenant, score, flag, amount)
    let values = (
        "payload-0",
        7i32,
        CqlTimestamp(1_700_000_000_000),
        uuid::Uuid::from_u128(1),
        "acme",
        -2.0f64,
        true,
        -3_000_000_000_000i64,
    );
    let id = hex("d79e2eeaae21c581762a977f2090d43f");
    let e = Execute {
        id: &id,
        result_metadata_id: None,
        params: QueryParameters::new(Consistency::One, &values),
    };
    let m = manifest();
    let f = m["frames"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "043-execute-insert-events-0.bin")
        .unwrap();
    assert_eq!(
        to_hex(&frame(&e, V4, HeaderFlags::default(), 32)),
        f["request"]["frame_hex"].as_str().unwrap()
    );

    // Named values through the real `NamedValues`: names interleave with values in order.
    let named = NamedValues::new().with("b", 1i32).with("a", 2i32);
    let q = Query {
        query: "Q",
        params: QueryParameters::new(Consistency::One, &named),
    };
    assert_eq!(
        to_hex(&body(&q, V5)),
        concat!(
            "0000000151",
            "0001",
            "00000041",
            "0002",
            "000162",
            "0000000400000001",
            "000161",
            "0000000400000002"
        )
    );
}
