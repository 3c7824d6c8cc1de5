//! Every CQL type through derived structs: a row struct serialized against hand-made column
//! specs, the bytes cross-checked with the independent dynamic decoder ([`Row`] of
//! [`CqlValue`]), then read back into the owned struct and into a borrowing one.

mod derive_util;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use derive_util::{decode, serialize_row, spec, udt};
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{
    Counter, CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlValue, CqlVarint,
    CqlVector, ListIter, MapIter, Row,
};
use scylla2_macros::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, SerializeValue, DeserializeValue)]
struct Point {
    x: i32,
    y: i32,
    label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, SerializeRow, DeserializeRow)]
struct AllTypes {
    ascii_col: String,
    bigint_col: i64,
    blob_col: Vec<u8>,
    boolean_col: bool,
    counter_col: Counter,
    decimal_col: CqlDecimal,
    double_col: f64,
    float_col: f32,
    int_col: i32,
    timestamp_col: CqlTimestamp,
    uuid_col: Uuid,
    text_col: String,
    varint_col: CqlVarint,
    timeuuid_col: Uuid,
    inet_col: IpAddr,
    date_col: CqlDate,
    time_col: CqlTime,
    smallint_col: i16,
    tinyint_col: i8,
    duration_col: CqlDuration,
    list_col: Vec<i32>,
    set_col: BTreeSet<String>,
    map_col: BTreeMap<String, i64>,
    udt_col: Point,
    tuple_col: (i32, String, Option<bool>),
    vector_col: CqlVector<Vec<f32>>,
    nested_col: Vec<BTreeSet<i32>>,
    null_col: Option<i32>,
}

fn point_type() -> CqlType {
    udt(
        "point",
        &[
            ("x", CqlType::Int),
            ("y", CqlType::Int),
            ("label", CqlType::Text),
        ],
    )
}

fn all_specs() -> Vec<ColumnSpec> {
    let b = Box::new;
    vec![
        spec("ascii_col", CqlType::Ascii),
        spec("bigint_col", CqlType::BigInt),
        spec("blob_col", CqlType::Blob),
        spec("boolean_col", CqlType::Boolean),
        spec("counter_col", CqlType::Counter),
        spec("decimal_col", CqlType::Decimal),
        spec("double_col", CqlType::Double),
        spec("float_col", CqlType::Float),
        spec("int_col", CqlType::Int),
        spec("timestamp_col", CqlType::Timestamp),
        spec("uuid_col", CqlType::Uuid),
        spec("text_col", CqlType::Text),
        spec("varint_col", CqlType::Varint),
        spec("timeuuid_col", CqlType::Timeuuid),
        spec("inet_col", CqlType::Inet),
        spec("date_col", CqlType::Date),
        spec("time_col", CqlType::Time),
        spec("smallint_col", CqlType::SmallInt),
        spec("tinyint_col", CqlType::TinyInt),
        spec("duration_col", CqlType::Duration),
        spec("list_col", CqlType::List(b(CqlType::Int))),
        spec("set_col", CqlType::Set(b(CqlType::Text))),
        spec(
            "map_col",
            CqlType::Map(b(CqlType::Text), b(CqlType::BigInt)),
        ),
        spec("udt_col", point_type()),
        spec(
            "tuple_col",
            CqlType::Tuple(vec![CqlType::Int, CqlType::Text, CqlType::Boolean]),
        ),
        spec("vector_col", CqlType::Vector(b(CqlType::Float), 3)),
        spec(
            "nested_col",
            CqlType::List(b(CqlType::Set(b(CqlType::Int)))),
        ),
        spec("null_col", CqlType::Int),
    ]
}

fn sample() -> AllTypes {
    AllTypes {
        ascii_col: "ascii".into(),
        bigint_col: i64::MIN,
        blob_col: vec![0, 1, 0xff],
        boolean_col: true,
        counter_col: Counter(-5),
        decimal_col: CqlDecimal::from_i64_scale(-12345, 2),
        double_col: -0.5,
        float_col: 3.25,
        int_col: i32::MAX,
        timestamp_col: CqlTimestamp(1_700_000_000_123),
        uuid_col: Uuid::from_u128(0x0123_4567_89ab_4def_8123_4567_89ab_cdef),
        text_col: "tëxt ✓".into(),
        varint_col: CqlVarint::from_i128(-(1i128 << 100)),
        timeuuid_col: Uuid::from_u128(0x1ee0_0000_0000_1000_8000_0000_0000_0001),
        inet_col: IpAddr::V6(Ipv6Addr::LOCALHOST),
        date_col: CqlDate(1 << 31),
        time_col: CqlTime(86_399_999_999_999),
        smallint_col: -2,
        tinyint_col: 127,
        duration_col: CqlDuration {
            months: 1,
            days: 2,
            nanos: 3_000_000_000,
        },
        list_col: vec![3, 1, 2],
        set_col: ["a", "b"].into_iter().map(String::from).collect(),
        map_col: [("k1".to_owned(), 1), ("k2".to_owned(), -1)]
            .into_iter()
            .collect(),
        udt_col: Point {
            x: 1,
            y: -1,
            label: None,
        },
        tuple_col: (9, "nine".into(), None),
        vector_col: CqlVector(vec![1.0, -2.0, 0.5]),
        nested_col: vec![[1, 2].into_iter().collect(), BTreeSet::new()],
        null_col: None,
    }
}

#[test]
fn every_type_round_trips_through_a_derived_row() {
    let specs = all_specs();
    let value = sample();
    let frame = Bytes::from(serialize_row(&value, &specs).unwrap());
    let back: AllTypes = decode(&specs, &frame).unwrap();
    assert_eq!(back, value);
}

#[test]
fn derived_bytes_agree_with_the_dynamic_decoder() {
    let specs = all_specs();
    let frame = Bytes::from(serialize_row(&sample(), &specs).unwrap());
    let row: Row = decode(&specs, &frame).unwrap();
    let col = |name: &str| {
        let i = specs.iter().position(|s| s.name == name).unwrap();
        row.columns[i].clone()
    };
    assert_eq!(col("ascii_col"), Some(CqlValue::Ascii("ascii".into())));
    assert_eq!(col("counter_col"), Some(CqlValue::Counter(-5)));
    assert_eq!(
        col("inet_col"),
        Some(CqlValue::Inet(IpAddr::V6(Ipv6Addr::LOCALHOST)))
    );
    assert_eq!(
        col("udt_col"),
        Some(CqlValue::Udt {
            keyspace: "ks".into(),
            name: "point".into(),
            fields: vec![
                ("x".into(), Some(CqlValue::Int(1))),
                ("y".into(), Some(CqlValue::Int(-1))),
                ("label".into(), None),
            ],
        })
    );
    assert_eq!(
        col("tuple_col"),
        Some(CqlValue::Tuple(vec![
            Some(CqlValue::Int(9)),
            Some(CqlValue::Text("nine".into())),
            None
        ]))
    );
    assert_eq!(
        col("vector_col"),
        Some(CqlValue::Vector(vec![
            CqlValue::Float(1.0),
            CqlValue::Float(-2.0),
            CqlValue::Float(0.5)
        ]))
    );
    assert_eq!(
        col("map_col"),
        Some(CqlValue::Map(vec![
            (CqlValue::Text("k1".into()), CqlValue::BigInt(1)),
            (CqlValue::Text("k2".into()), CqlValue::BigInt(-1)),
        ]))
    );
    assert_eq!(col("null_col"), None);
    assert_eq!(row.columns.len(), 28);
}

#[test]
fn first_cells_match_the_spec_layout() {
    let specs = all_specs();
    let frame = serialize_row(&sample(), &specs).unwrap();
    #[rustfmt::skip]
    let head = [
        0, 0, 0, 5, b'a', b's', b'c', b'i', b'i',        // ascii
        0, 0, 0, 8, 0x80, 0, 0, 0, 0, 0, 0, 0,           // bigint i64::MIN
        0, 0, 0, 3, 0, 1, 0xff,                          // blob
        0, 0, 0, 1, 1,                                   // boolean
        0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb, // counter -5
        0, 0, 0, 6, 0, 0, 0, 2, 0xcf, 0xc7,              // decimal -123.45
    ];
    assert_eq!(&frame[..head.len()], head);
    // The last cell is the null (-1).
    assert_eq!(&frame[frame.len() - 4..], [0xff; 4]);
}

#[derive(Debug, DeserializeValue)]
struct PointRef<'a> {
    label: Option<&'a str>,
    y: i32,
}

#[derive(Debug, DeserializeRow)]
#[scylla2(skip_unknown)]
struct Borrowed<'a> {
    ascii_col: &'a str,
    blob_col: &'a [u8],
    text_col: &'a str,
    varint_col: CqlVarint,
    set_col: HashSet<&'a str>,
    list_col: ListIter<'a, 'a, i32>,
    map_col: MapIter<'a, 'a, &'a str, i64>,
    udt_col: PointRef<'a>,
    tuple_col: (i32, &'a str, Option<bool>),
    null_col: Option<i32>,
}

#[test]
fn borrowing_struct_reads_the_same_row_without_copies() {
    let specs = all_specs();
    let frame = Bytes::from(serialize_row(&sample(), &specs).unwrap());
    let b: Borrowed<'_> = decode(&specs, &frame).unwrap();
    let range = frame.as_ptr_range();
    assert_eq!(b.ascii_col, "ascii");
    assert!(range.contains(&b.ascii_col.as_ptr()));
    assert_eq!(b.blob_col, [0, 1, 0xff]);
    assert!(range.contains(&b.blob_col.as_ptr()));
    assert_eq!(b.text_col, "tëxt ✓");
    assert!(
        range.contains(&b.varint_col.0.as_ptr()),
        "the varint shares the frame"
    );
    assert_eq!(b.set_col, ["a", "b"].into_iter().collect());
    assert_eq!(
        b.list_col.collect::<Result<Vec<_>, _>>().unwrap(),
        [3, 1, 2]
    );
    assert_eq!(
        b.map_col.collect::<Result<Vec<_>, _>>().unwrap(),
        [("k1", 1), ("k2", -1)]
    );
    assert_eq!(b.udt_col.label, None);
    assert_eq!(b.udt_col.y, -1);
    assert_eq!(b.tuple_col, (9, "nine", None));
    assert_eq!(b.null_col, None);
}

#[test]
fn ipv4_and_empty_collections() {
    let specs = all_specs();
    let mut value = sample();
    value.inet_col = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 7));
    value.list_col.clear();
    value.map_col.clear();
    value.udt_col.label = Some(String::new());
    let frame = Bytes::from(serialize_row(&value, &specs).unwrap());
    assert_eq!(decode::<AllTypes>(&specs, &frame).unwrap(), value);
}
