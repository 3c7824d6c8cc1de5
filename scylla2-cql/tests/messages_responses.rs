//! Hand-written response bodies for what the captures lack: v5 failure reason maps, CAS and
//! CDC errors, Scylla's rate-limit error and SUPPORTED keys, v5 metadata ids, LWT mark,
//! custom payload prefix, every event, auth messages, and malformed inputs.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::Bytes;
use scylla2_cql::Consistency;
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{HeaderFlags, Opcode};
use scylla2_cql::response::{
    AuthChallenge, AuthSuccess, Authenticate, DbError, DecodedResponse, Event, FailureReasons,
    RateLimitOperation, Response, ResponseContext, ResponseError, ResultResponse,
    SchemaChangeTarget, SchemaChangeType, StatusChange, TopologyChange, WriteType,
};
use scylla2_cql::types::CqlType;
use scylla2_cql::wire::WireError;

const V4: ProtocolVersion = ProtocolVersion::V4;
const V5: ProtocolVersion = ProtocolVersion::V5;

/// A body builder following the spec's notations.
#[derive(Default, Clone)]
struct B(Vec<u8>);

impl B {
    fn int(mut self, n: i32) -> Self {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }
    fn short(mut self, n: u16) -> Self {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }
    fn byte(mut self, n: u8) -> Self {
        self.0.push(n);
        self
    }
    fn raw(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    fn string(self, s: &str) -> Self {
        self.short(s.len() as u16).raw(s.as_bytes())
    }
    fn strings(self, l: &[&str]) -> Self {
        l.iter()
            .fold(self.short(l.len() as u16), |b, s| b.string(s))
    }
    fn bytes(self, b: Option<&[u8]>) -> Self {
        match b {
            Some(b) => self.int(b.len() as i32).raw(b),
            None => self.int(-1),
        }
    }
    fn short_bytes(self, b: &[u8]) -> Self {
        self.short(b.len() as u16).raw(b)
    }
    fn error(code: i32, msg: &str) -> Self {
        B::default().int(code).string(msg)
    }
    fn body(self) -> Bytes {
        Bytes::from(self.0)
    }
}

fn decode_with(
    opcode: Opcode,
    flags: u8,
    version: ProtocolVersion,
    body: B,
    ctx: &ResponseContext,
) -> Result<DecodedResponse, ResponseError> {
    Response::decode(opcode, HeaderFlags(flags), version, body.body(), ctx)
}

fn decode(opcode: Opcode, version: ProtocolVersion, body: B) -> Response {
    decode_with(opcode, 0, version, body, &ResponseContext::default())
        .unwrap()
        .response
}

fn db_error(version: ProtocolVersion, body: B) -> DbError {
    match decode(Opcode::Error, version, body) {
        Response::Error(e) => {
            assert_eq!(e.message, "m");
            e.error
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn failure_errors_v4_count_vs_v5_reason_map() {
    let v4 = B::error(0x1300, "m").short(4).int(1).int(2).int(3).byte(1);
    assert_eq!(
        db_error(V4, v4),
        DbError::ReadFailure {
            consistency: Consistency::Quorum,
            received: 1,
            block_for: 2,
            reasons: FailureReasons::Count(3),
            data_present: true
        }
    );
    let v5 = B::error(0x1300, "m")
        .short(1)
        .int(0)
        .int(1)
        .int(2)
        .raw(&[4, 10, 0, 0, 1])
        .short(0x0001)
        .raw(&[16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        .short(0x0002)
        .byte(0);
    let DbError::ReadFailure {
        reasons,
        data_present,
        ..
    } = db_error(V5, v5)
    else {
        panic!()
    };
    assert!(!data_present);
    assert_eq!(
        reasons,
        FailureReasons::ReasonMap(vec![
            (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 1),
            (IpAddr::V6(Ipv6Addr::LOCALHOST), 2)
        ])
    );
    assert_eq!(reasons.num_failures(), 2);

    let w = B::error(0x1500, "m")
        .short(6)
        .int(1)
        .int(2)
        .int(1)
        .raw(&[4, 127, 0, 0, 2])
        .short(0)
        .string("BATCH_LOG");
    let e = db_error(V5, w);
    assert_eq!(e.code(), 0x1500);
    assert_eq!(
        e,
        DbError::WriteFailure {
            consistency: Consistency::LocalQuorum,
            received: 1,
            block_for: 2,
            reasons: FailureReasons::ReasonMap(vec![(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), 0)]),
            write_type: WriteType::BatchLog
        }
    );
    let w4 = B::error(0x1500, "m")
        .short(1)
        .int(0)
        .int(1)
        .int(1)
        .string("VIEW_X");
    let DbError::WriteFailure {
        reasons,
        write_type,
        ..
    } = db_error(V4, w4)
    else {
        panic!()
    };
    assert_eq!(reasons, FailureReasons::Count(1));
    assert_eq!(write_type, WriteType::Other("VIEW_X".into()));
    // A reason map claiming more entries than bytes errors without preallocating.
    let bad = B::error(0x1300, "m").short(1).int(0).int(1).int(i32::MAX);
    assert!(decode_with(Opcode::Error, 0, V5, bad, &ResponseContext::default()).is_err());
}

#[test]
fn timeouts_cas_cdc_function_and_simple_codes() {
    let cas = B::error(0x1100, "m")
        .short(8)
        .int(0)
        .int(1)
        .string("CAS")
        .short(3);
    assert_eq!(
        db_error(V5, cas),
        DbError::WriteTimeout {
            consistency: Consistency::Serial,
            received: 0,
            block_for: 1,
            write_type: WriteType::Cas,
            contentions: Some(3)
        }
    );
    let simple = B::error(0x1100, "m")
        .short(1)
        .int(0)
        .int(1)
        .string("SIMPLE");
    assert!(matches!(
        db_error(V4, simple),
        DbError::WriteTimeout {
            write_type: WriteType::Simple,
            contentions: None,
            ..
        }
    ));
    let read = B::error(0x1200, "m").short(10).int(1).int(1).byte(0);
    assert_eq!(
        db_error(V4, read),
        DbError::ReadTimeout {
            consistency: Consistency::LocalOne,
            received: 1,
            block_for: 1,
            data_present: false
        }
    );
    let unknown = B::error(0x1700, "m").short(9).int(1).int(2);
    assert_eq!(
        db_error(V5, unknown),
        DbError::CasWriteUnknown {
            consistency: Consistency::LocalSerial,
            received: 1,
            block_for: 2
        }
    );
    assert_eq!(
        db_error(V5, B::error(0x1600, "m")),
        DbError::CdcWriteFailure
    );
    let func = B::error(0x1400, "m")
        .string("ks")
        .string("f")
        .strings(&["int", "text"]);
    assert_eq!(
        db_error(V4, func),
        DbError::FunctionFailure {
            keyspace: "ks".into(),
            function: "f".into(),
            arg_types: vec!["int".into(), "text".into()]
        }
    );
    for (code, err) in [
        (0x0000, DbError::ServerError),
        (0x000A, DbError::ProtocolError),
        (0x0100, DbError::AuthenticationError),
        (0x1001, DbError::Overloaded),
        (0x1002, DbError::IsBootstrapping),
        (0x1003, DbError::TruncateError),
        (0x2000, DbError::SyntaxError),
        (0x2100, DbError::Unauthorized),
        (0x2200, DbError::Invalid),
        (0x2300, DbError::ConfigError),
        (0x7777, DbError::Other { code: 0x7777 }),
    ] {
        let e = db_error(V5, B::error(code, "m"));
        assert_eq!(e, err);
        assert_eq!(e.code(), code);
    }
    let exists = B::error(0x2400, "m").string("ks").string("");
    assert_eq!(
        db_error(V4, exists),
        DbError::AlreadyExists {
            keyspace: "ks".into(),
            table: String::new()
        }
    );
    // Consistency codes are validated.
    let bad = B::error(0x1000, "m").short(0x42).int(1).int(0);
    assert_eq!(
        decode_with(Opcode::Error, 0, V4, bad, &ResponseContext::default()),
        Err(ResponseError::Wire(WireError::InvalidConsistency(0x42)))
    );
}

#[test]
fn scylla_rate_limit_error_needs_the_code_from_supported() {
    let supported = B::default()
        .short(12)
        .string("SCYLLA_SHARD")
        .strings(&["3"])
        .string("SCYLLA_NR_SHARDS")
        .strings(&["8"])
        .string("SCYLLA_PARTITIONER")
        .strings(&["org.apache.cassandra.dht.Murmur3Partitioner"])
        .string("SCYLLA_SHARDING_ALGORITHM")
        .strings(&["biased-token-round-robin"])
        .string("SCYLLA_SHARDING_IGNORE_MSB")
        .strings(&["12"])
        .string("SCYLLA_SHARD_AWARE_PORT")
        .strings(&["19042"])
        .string("SCYLLA_SHARD_AWARE_PORT_SSL")
        .strings(&["19142"])
        .string("SCYLLA_HOST_ID")
        .strings(&["6f0ab1c2-0000-4000-8000-000000000001"])
        .string("SCYLLA_LWT_ADD_METADATA_MARK")
        .strings(&["LWT_OPTIMIZATION_META_BIT_MASK=2147483648"])
        .string("SCYLLA_RATE_LIMIT_ERROR")
        .strings(&["ERROR_CODE=61440"])
        .string("TABLETS_ROUTING_V1")
        .strings(&[])
        .string("SCYLLA_USE_METADATA_ID")
        .strings(&[]);
    let Response::Supported(s) = decode(Opcode::Supported, V4, supported) else {
        panic!()
    };
    assert_eq!(s.shard().unwrap(), Some(3));
    assert_eq!(s.nr_shards().unwrap(), Some(8));
    assert_eq!(
        s.partitioner(),
        Some("org.apache.cassandra.dht.Murmur3Partitioner")
    );
    assert_eq!(s.sharding_algorithm(), Some("biased-token-round-robin"));
    assert_eq!(s.sharding_ignore_msb().unwrap(), Some(12));
    assert_eq!(s.shard_aware_port().unwrap(), Some(19042));
    assert_eq!(s.shard_aware_port_ssl().unwrap(), Some(19142));
    assert_eq!(
        s.host_id().unwrap().unwrap().to_string(),
        "6f0ab1c2-0000-4000-8000-000000000001"
    );
    assert!(s.tablets_routing_v1());
    assert!(s.use_metadata_id());
    let ctx = s.response_context().unwrap();
    assert_eq!(
        ctx,
        ResponseContext {
            rate_limit_error_code: Some(0xF000),
            lwt_mask: Some(0x8000_0000),
            use_metadata_id: true
        }
    );

    let body = B::error(0xF000, "m").byte(1).byte(1);
    let DecodedResponse {
        response: Response::Error(e),
        ..
    } = decode_with(Opcode::Error, 0, V4, body.clone(), &ctx).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        e.error,
        DbError::RateLimitReached {
            code: 0xF000,
            op: RateLimitOperation::Write,
            rejected_by_coordinator: true
        }
    );
    assert_eq!(e.error.code(), 0xF000);
    // Without the context the code is unknown but kept.
    assert_eq!(db_error(V4, body), DbError::Other { code: 0xF000 });

    // Malformed extension values are typed errors.
    let bad = B::default().short(1).string("SCYLLA_SHARD").strings(&["x"]);
    let Response::Supported(s) = decode(Opcode::Supported, V4, bad) else {
        panic!()
    };
    assert!(matches!(
        s.shard(),
        Err(ResponseError::InvalidField {
            field: "SCYLLA_SHARD",
            ..
        })
    ));
    let bad = B::default()
        .short(1)
        .string("SCYLLA_RATE_LIMIT_ERROR")
        .strings(&["CODE=1"]);
    let Response::Supported(s) = decode(Opcode::Supported, V4, bad) else {
        panic!()
    };
    assert!(s.response_context().is_err());
}

/// `<flags><columns_count><pk_count><pk_index...><global spec><col specs>` for (k int, v text).
fn bind_metadata(flags: i32) -> B {
    B::default()
        .int(flags)
        .int(2)
        .int(1)
        .short(0)
        .string("ks")
        .string("t")
        .string("k")
        .short(0x0009)
        .string("v")
        .short(0x000D)
}

#[test]
fn prepared_v5_metadata_ids_and_lwt_mark() {
    let body = B::default()
        .int(4)
        .short_bytes(&[1, 2])
        .short_bytes(&[3, 4, 5])
        .raw(&bind_metadata(0x8000_0001u32 as i32).0)
        .int(0x0004)
        .int(0);
    let ctx = ResponseContext {
        lwt_mask: Some(0x8000_0000),
        ..Default::default()
    };
    let r = decode_with(Opcode::Result, 0, V5, body.clone(), &ctx).unwrap();
    let Response::Result(ResultResponse::Prepared(p)) = r.response else {
        panic!()
    };
    assert_eq!(&p.id[..], [1, 2]);
    assert_eq!(p.result_metadata_id.as_deref(), Some(&[3u8, 4, 5][..]));
    assert!(p.is_lwt);
    assert_eq!(p.bind.pk_indexes, [0]);
    assert_eq!(p.bind.columns[1].name, "v");
    assert_eq!(p.bind.columns[1].typ, CqlType::Text);
    assert_eq!(p.bind.columns[1].keyspace, "ks");
    assert!(p.result.no_metadata());
    // Without the mask nothing is LWT.
    let Response::Result(ResultResponse::Prepared(p)) = decode(Opcode::Result, V5, body.clone())
    else {
        panic!()
    };
    assert!(!p.is_lwt);
    // On v4 the metadata id is there only with SCYLLA_USE_METADATA_ID.
    let ctx = ResponseContext {
        use_metadata_id: true,
        ..Default::default()
    };
    let r = decode_with(Opcode::Result, 0, V4, body.clone(), &ctx).unwrap();
    assert!(matches!(
        r.response,
        Response::Result(ResultResponse::Prepared(_))
    ));
    assert!(decode_with(Opcode::Result, 0, V4, body, &ResponseContext::default()).is_err());
}

#[test]
fn rows_metadata_changed_and_per_column_table_specs() {
    // v5: Has_more_pages | Metadata_changed, per-column table specs, one row.
    let body = B::default()
        .int(2)
        .int(0x0002 | 0x0008)
        .int(2)
        .bytes(Some(&[0xEE]))
        .short_bytes(&[0x77, 0x78])
        .string("ks1")
        .string("t1")
        .string("a")
        .short(0x0002)
        .string("ks2")
        .string("t2")
        .string("b")
        .short(0x0003)
        .int(1)
        .bytes(Some(&[0, 0, 0, 0, 0, 0, 0, 9]))
        .bytes(None);
    let Response::Result(ResultResponse::Rows(rows)) = decode(Opcode::Result, V5, body) else {
        panic!()
    };
    assert_eq!(
        rows.metadata.new_metadata_id().map(|b| &b[..]),
        Some(&[0x77u8, 0x78][..])
    );
    assert_eq!(rows.paging_state().unwrap().as_bytes(), [0xEE]);
    let cols = rows.columns().unwrap();
    assert_eq!(
        (cols[1].keyspace.as_str(), cols[1].table.as_str()),
        ("ks2", "t2")
    );
    assert_eq!(cols[0].typ, CqlType::BigInt);
    assert!(rows.metadata.global_table_spec().is_none());
    let rows_raw: Vec<_> = rows
        .raw_rows(cols)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows_raw.len(), 1);
    let cells: Vec<_> = rows_raw[0]
        .clone()
        .map(|c| c.unwrap().1.map(|s| s.as_slice().to_vec()))
        .collect();
    assert_eq!(cells, [Some(vec![0, 0, 0, 0, 0, 0, 0, 9]), None]);
}

#[test]
fn rows_without_metadata_keep_a_changed_metadata_id() {
    // v5: No_metadata | Metadata_changed: the new id comes without column specs.
    let body = B::default()
        .int(2)
        .int(0x0004 | 0x0008)
        .int(1)
        .short_bytes(&[0x42])
        .int(1)
        .bytes(Some(&[0, 0, 0, 7]));
    let Response::Result(ResultResponse::Rows(rows)) = decode(Opcode::Result, V5, body) else {
        panic!()
    };
    assert!(rows.metadata.no_metadata());
    assert_eq!(
        rows.metadata.new_metadata_id().map(|b| &b[..]),
        Some(&[0x42u8][..])
    );
    assert!(rows.columns().is_none());
    assert!(rows.metadata.global_table_spec().is_none());
    assert_eq!(rows.rows_count(), 1);
}

#[test]
fn malformed_rows_are_errors() {
    let rows = |count: i32, content: &[u8]| {
        B::default()
            .int(2)
            .int(0x0001)
            .int(1)
            .string("k")
            .string("t")
            .string("c")
            .short(0x0009)
            .int(count)
            .raw(content)
    };
    // More rows than bytes.
    assert!(matches!(
        decode_with(
            Opcode::Result,
            0,
            V4,
            rows(1000, &[0; 8]),
            &Default::default()
        ),
        Err(ResponseError::InvalidCount { what: "row", .. })
    ));
    assert!(matches!(
        decode_with(Opcode::Result, 0, V4, rows(-1, &[]), &Default::default()),
        Err(ResponseError::InvalidCount { .. })
    ));
    // A truncated cell and trailing bytes are reported while iterating, then iteration ends.
    let Response::Result(ResultResponse::Rows(r)) =
        decode(Opcode::Result, V4, rows(1, &[0, 0, 0, 9, 1, 2]))
    else {
        panic!()
    };
    let items: Vec<_> = r.raw_rows(r.columns().unwrap()).unwrap().collect();
    assert_eq!(items.len(), 1);
    assert!(items[0].is_err());
    let Response::Result(ResultResponse::Rows(r)) = decode(
        Opcode::Result,
        V4,
        rows(1, &[0, 0, 0, 1, 1, 0xAB, 0xCD, 0xEF, 0x01]),
    ) else {
        panic!()
    };
    let items: Vec<_> = r.raw_rows(r.columns().unwrap()).unwrap().collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert!(items[1].is_err());
    // A column count larger than the bytes can hold.
    let body = B::default()
        .int(2)
        .int(0x0001)
        .int(i32::MAX)
        .string("k")
        .string("t");
    assert!(decode_with(Opcode::Result, 0, V4, body, &Default::default()).is_err());
}

#[test]
fn prefixes_in_spec_order() {
    let tracing = [0x11u8; 16];
    let body = B::default()
        .raw(&tracing)
        .strings(&["w1", "w2"])
        .short(2)
        .string("tablets-routing-v1")
        .bytes(Some(&[1, 2, 3]))
        .string("null")
        .bytes(None)
        .int(1);
    let d = decode_with(
        Opcode::Result,
        0x02 | 0x04 | 0x08,
        V4,
        body,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(d.extras.tracing_id.unwrap().as_bytes(), &tracing);
    assert_eq!(d.extras.warnings, ["w1", "w2"]);
    let payload = d.extras.custom_payload.unwrap();
    assert_eq!(&payload.get("tablets-routing-v1").unwrap()[..], [1, 2, 3]);
    assert_eq!(payload.get("null"), None);
    assert_eq!(payload.entries.len(), 2);
    assert_eq!(d.response, Response::Result(ResultResponse::Void));
    // Custom payload alone comes first.
    let body = B::default().short(0).int(1);
    let d = decode_with(Opcode::Result, 0x04, V5, body, &Default::default()).unwrap();
    assert_eq!(d.extras.custom_payload.unwrap().entries.len(), 0);
}

#[test]
fn tablets_routing_payload() {
    let host = [0xABu8; 16];
    let element = B::default().int(16).raw(&host).int(4).int(3);
    let list = B::default()
        .int(1)
        .int(element.0.len() as i32)
        .raw(&element.0);
    let value = B::default()
        .int(8)
        .raw(&(-100i64).to_be_bytes())
        .int(8)
        .raw(&200i64.to_be_bytes())
        .int(list.0.len() as i32)
        .raw(&list.0);
    let body = B::default()
        .short(1)
        .string("tablets-routing-v1")
        .bytes(Some(&value.0))
        .int(1);
    let d = decode_with(Opcode::Result, 0x04, V4, body, &Default::default()).unwrap();
    let routing = d
        .extras
        .custom_payload
        .unwrap()
        .tablet_routing()
        .unwrap()
        .unwrap();
    assert_eq!(routing.first_token, -100);
    assert_eq!(routing.last_token, 200);
    assert_eq!(routing.replicas, [(uuid::Uuid::from_bytes(host), 3)]);
    // A malformed value is a typed error.
    let body = B::default()
        .short(1)
        .string("tablets-routing-v1")
        .bytes(Some(&[0, 0, 0, 8, 1]))
        .int(1);
    let d = decode_with(Opcode::Result, 0x04, V4, body, &Default::default()).unwrap();
    assert!(d.extras.custom_payload.unwrap().tablet_routing().is_err());
}

#[test]
fn events() {
    let topo = B::default()
        .string("TOPOLOGY_CHANGE")
        .string("NEW_NODE")
        .raw(&[4, 127, 0, 0, 3])
        .int(9042);
    assert_eq!(
        decode(Opcode::Event, V4, topo),
        Response::Event(Event::TopologyChange {
            change: TopologyChange::NewNode,
            address: SocketAddr::from(([127, 0, 0, 3], 9042))
        })
    );
    let status = B::default()
        .string("STATUS_CHANGE")
        .string("DOWN")
        .raw(&[16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        .int(19042);
    assert_eq!(
        decode(Opcode::Event, V5, status),
        Response::Event(Event::StatusChange {
            change: StatusChange::Down,
            address: SocketAddr::from((Ipv6Addr::LOCALHOST, 19042))
        })
    );
    for (target, expected_kind) in [("FUNCTION", true), ("AGGREGATE", false)] {
        let sc = B::default()
            .string("SCHEMA_CHANGE")
            .string("DROPPED")
            .string(target)
            .string("ks")
            .string("f")
            .strings(&["int"]);
        let Response::Event(Event::SchemaChange(sc)) = decode(Opcode::Event, V4, sc) else {
            panic!()
        };
        assert_eq!(sc.change_type, SchemaChangeType::Dropped);
        match sc.target {
            SchemaChangeTarget::Function {
                name, arg_types, ..
            } if expected_kind => {
                assert_eq!((name.as_str(), arg_types), ("f", vec!["int".to_owned()]))
            }
            SchemaChangeTarget::Aggregate { keyspace, .. } if !expected_kind => {
                assert_eq!(keyspace, "ks")
            }
            other => panic!("{other:?}"),
        }
    }
    let routes = B::default()
        .string("CLIENT_ROUTES_CHANGE")
        .string("UPDATED")
        .strings(&["c1"])
        .strings(&["h1"]);
    let Response::Event(Event::Other { kind, body }) = decode(Opcode::Event, V4, routes) else {
        panic!()
    };
    assert_eq!(kind, "CLIENT_ROUTES_CHANGE");
    assert_eq!(&body[..9], b"\x00\x07UPDATED");
    let bad = B::default()
        .string("STATUS_CHANGE")
        .string("SIDEWAYS")
        .raw(&[4, 1, 1, 1, 1])
        .int(1);
    assert!(matches!(
        decode_with(Opcode::Event, 0, V4, bad, &Default::default()),
        Err(ResponseError::InvalidField {
            field: "status change",
            ..
        })
    ));
}

#[test]
fn auth_messages_and_envelope_errors() {
    assert_eq!(
        decode(
            Opcode::Authenticate,
            V4,
            B::default().string("org.apache.cassandra.auth.PasswordAuthenticator")
        ),
        Response::Authenticate(Authenticate {
            authenticator: "org.apache.cassandra.auth.PasswordAuthenticator".into()
        })
    );
    assert_eq!(
        decode(Opcode::AuthChallenge, V4, B::default().bytes(None)),
        Response::AuthChallenge(AuthChallenge { token: None })
    );
    assert_eq!(
        decode(Opcode::AuthSuccess, V5, B::default().bytes(Some(b"ok"))),
        Response::AuthSuccess(AuthSuccess {
            token: Some(Bytes::from_static(b"ok"))
        })
    );
    let ctx = ResponseContext::default();
    assert_eq!(
        decode_with(Opcode::Query, 0, V4, B::default(), &ctx),
        Err(ResponseError::UnexpectedOpcode(Opcode::Query))
    );
    assert_eq!(
        decode_with(Opcode::Result, 0, V4, B::default().int(9), &ctx),
        Err(ResponseError::UnknownResultKind(9))
    );
    assert_eq!(
        decode_with(Opcode::Ready, 0, V4, B::default().byte(0), &ctx),
        Err(ResponseError::TrailingBytes {
            opcode: Opcode::Ready,
            count: 1
        })
    );
    assert_eq!(
        decode_with(Opcode::Result, 0, V4, B::default().int(1).byte(0), &ctx),
        Err(ResponseError::TrailingBytes {
            opcode: Opcode::Result,
            count: 1
        })
    );
    assert!(matches!(
        decode_with(Opcode::Result, 0x02, V4, B::default().raw(&[0; 10]), &ctx),
        Err(ResponseError::Wire(WireError::UnexpectedEnd { .. }))
    ));
    // ERROR bodies may carry fields this crate does not know yet.
    assert!(
        decode_with(
            Opcode::Error,
            0,
            V4,
            B::error(0x2200, "m").raw(&[1, 2, 3]),
            &ctx
        )
        .is_ok()
    );
    let sc = B::default()
        .int(5)
        .string("CREATED")
        .string("VIEW")
        .string("ks");
    assert!(matches!(
        decode_with(Opcode::Result, 0, V4, sc, &ctx),
        Err(ResponseError::InvalidField {
            field: "schema change target",
            ..
        })
    ));
}
