//! Deserialization from hand-written byte layouts: null versus empty, zero-copy targets, lazy
//! collection iterators and their validation, vectors, tuples, rows and `CqlValue` display.

mod common;

use common::addr_udt;

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use bytes::Bytes;
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{
    ColumnIterator, CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlValue, CqlVarint,
    DeserializeError, DeserializeRow, DeserializeValue, FrameSlice, ListIter, MapIter, MaybeEmpty,
    Row, SetIter,
};

/// Decodes `content` (`None` = null) as `T` of type `typ`, after the type check.
fn de<T>(typ: &CqlType, content: Option<&[u8]>) -> Result<T, DeserializeError>
where
    T: for<'f, 'm> DeserializeValue<'f, 'm>,
{
    T::check_type(typ)?;
    let frame = Bytes::copy_from_slice(content.unwrap_or_default());
    T::deserialize(typ, content.map(|_| FrameSlice::whole(&frame)))
}

fn list(t: CqlType) -> CqlType {
    CqlType::List(Box::new(t))
}

fn vector(t: CqlType, n: u32) -> CqlType {
    CqlType::Vector(Box::new(t), n)
}

fn invalid<T: std::fmt::Debug>(r: Result<T, DeserializeError>) -> bool {
    matches!(
        r,
        Err(DeserializeError::InvalidValue { .. }) | Err(DeserializeError::Wire(_))
    )
}

#[test]
fn scalars() {
    assert_eq!(de::<i32>(&CqlType::Int, Some(&[0, 0, 1, 0])), Ok(256));
    assert_eq!(de::<i8>(&CqlType::TinyInt, Some(&[0x80])), Ok(-128));
    assert_eq!(de::<i16>(&CqlType::SmallInt, Some(&[0xFF, 0xFE])), Ok(-2));
    assert_eq!(de::<i64>(&CqlType::Counter, Some(&[0; 8])), Ok(0));
    assert_eq!(de::<bool>(&CqlType::Boolean, Some(&[2])), Ok(true));
    assert_eq!(
        de::<f32>(&CqlType::Float, Some(&[0x3F, 0xC0, 0, 0])),
        Ok(1.5)
    );
    assert_eq!(
        de::<CqlDate>(&CqlType::Date, Some(&[0x80, 0, 0, 1])),
        Ok(CqlDate::from_unix_days(1))
    );
    assert_eq!(
        de::<CqlTime>(&CqlType::Time, Some(&[0, 0, 0, 0, 0, 0, 0, 9])),
        Ok(CqlTime(9))
    );
    assert_eq!(
        de::<CqlTimestamp>(&CqlType::Timestamp, Some(&[0xFF; 8])),
        Ok(CqlTimestamp(-1))
    );
    assert_eq!(
        de::<IpAddr>(&CqlType::Inet, Some(&[10, 0, 0, 1])),
        Ok("10.0.0.1".parse().unwrap())
    );
    assert!(invalid(de::<IpAddr>(
        &CqlType::Inet,
        Some(&[10, 0, 0, 1, 2])
    )));
    assert_eq!(
        de::<CqlDuration>(&CqlType::Duration, Some(&[0x02, 0x03, 0x06])),
        Ok(CqlDuration {
            months: 1,
            days: -2,
            nanos: 3
        })
    );
    // Months beyond 32 bits: 2^32 zig-zagged is 2^33, a 5-byte vint.
    assert!(invalid(de::<CqlDuration>(
        &CqlType::Duration,
        Some(&[0xF2, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00])
    )));
    assert!(invalid(de::<CqlDuration>(
        &CqlType::Duration,
        Some(&[0x02, 0x03])
    )));
    assert_eq!(
        de::<CqlDecimal>(&CqlType::Decimal, Some(&[0, 0, 0, 3, 0x01, 0xE2, 0x40])),
        Ok(CqlDecimal::from_i64_scale(123_456, 3))
    );
    assert_eq!(
        de::<CqlVarint>(&CqlType::Varint, Some(&[0xFF, 0x7F]))
            .unwrap()
            .to_i64(),
        Some(-129)
    );
}

#[test]
fn null_empty_and_wrong_lengths() {
    assert_eq!(
        de::<i32>(&CqlType::Int, None),
        Err(DeserializeError::UnexpectedNull { rust_type: "i32" })
    );
    assert_eq!(de::<Option<i32>>(&CqlType::Int, None), Ok(None));
    // Empty is not null.
    assert!(invalid(de::<i32>(&CqlType::Int, Some(&[]))));
    assert!(invalid(de::<Option<i32>>(&CqlType::Int, Some(&[]))));
    assert_eq!(
        de::<MaybeEmpty<i32>>(&CqlType::Int, Some(&[])),
        Ok(MaybeEmpty::Empty)
    );
    assert_eq!(
        de::<Option<MaybeEmpty<i32>>>(&CqlType::Int, Some(&[0, 0, 0, 7])),
        Ok(Some(MaybeEmpty::Value(7)))
    );
    assert_eq!(de::<String>(&CqlType::Text, Some(&[])), Ok(String::new()));
    assert_eq!(
        de::<CqlValue>(&CqlType::Int, Some(&[])),
        Ok(CqlValue::Empty)
    );
    assert_eq!(
        de::<CqlValue>(&CqlType::Text, Some(&[])),
        Ok(CqlValue::Text(String::new()))
    );
    assert!(invalid(de::<i64>(&CqlType::BigInt, Some(&[0; 4]))));
}

#[test]
fn type_checks_name_both_types() {
    let err = i64::check_type(&CqlType::Int).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot deserialize CQL type int into Rust type i64"
    );
    assert!(<&str>::check_type(&CqlType::Blob).is_err());
    assert!(<&[u8]>::check_type(&CqlType::Text).is_err());
    assert!(Vec::<i32>::check_type(&list(CqlType::Text)).is_err());
    assert!(<[f32; 2]>::check_type(&vector(CqlType::Float, 3)).is_err());
    assert!(SetIter::<i32>::check_type(&list(CqlType::Int)).is_err());
}

#[test]
fn strings_and_blobs_borrow_from_the_frame() {
    let frame = Bytes::from_static(b"\x00hello\xff");
    let typ = CqlType::Text;
    let slice = FrameSlice::new(&frame, &frame[1..6]);
    let s: &str = <&str>::deserialize(&typ, Some(slice)).unwrap();
    assert_eq!(s, "hello");
    assert_eq!(s.as_ptr(), frame[1..].as_ptr());
    let b = Bytes::deserialize(&CqlType::Blob, Some(slice)).unwrap();
    assert_eq!(b.as_ptr(), frame[1..].as_ptr());
    let bad = FrameSlice::new(&frame, &frame[5..7]);
    assert!(invalid(<&str>::deserialize(&typ, Some(bad))));
    assert!(invalid(<&str>::deserialize(
        &CqlType::Ascii,
        Some(FrameSlice::new(&frame, "é".as_bytes()))
    )));
}

#[test]
fn collections_decode_lazily_and_validate_layout() {
    let t = list(CqlType::Int);
    let good = [0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2];
    assert_eq!(de::<Vec<i32>>(&t, Some(&good)), Ok(vec![1, 2]));
    let frame = Bytes::copy_from_slice(&good);
    let mut it = ListIter::<i32>::deserialize(&t, Some(FrameSlice::whole(&frame))).unwrap();
    assert_eq!(it.len(), 2);
    assert_eq!(it.next(), Some(Ok(1)));
    assert_eq!(it.len(), 1);
    // A null collection is empty (Cassandra sends null for empty non-frozen collections).
    assert_eq!(de::<Vec<i32>>(&t, None), Ok(vec![]));
    // A count larger than the bytes could hold is refused before anything is allocated.
    assert!(invalid(de::<Vec<i32>>(
        &t,
        Some(&[0x7F, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
    )));
    assert!(invalid(de::<Vec<i32>>(&t, Some(&[0xFF, 0xFF, 0xFF, 0xFF]))));
    // Trailing bytes and truncated elements.
    assert!(invalid(de::<Vec<i32>>(
        &t,
        Some(&[&good[..], &[0]].concat())
    )));
    assert!(invalid(de::<Vec<i32>>(&t, Some(&good[..19]))));
    // A null element into a non-Option element type.
    let with_null = [0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF];
    assert_eq!(
        de::<Vec<i32>>(&t, Some(&with_null)),
        Err(DeserializeError::UnexpectedNull { rust_type: "i32" })
    );
    assert_eq!(de::<Vec<Option<i32>>>(&t, Some(&with_null)), Ok(vec![None]));

    let s = CqlType::Set(Box::new(CqlType::Text));
    let bytes = [0, 0, 0, 2, 0, 0, 0, 1, b'a', 0, 0, 0, 1, b'b'];
    let got: HashSet<String> = de(&s, Some(&bytes)).unwrap();
    assert_eq!(got, ["a".to_owned(), "b".to_owned()].into());

    let m = CqlType::Map(Box::new(CqlType::Text), Box::new(CqlType::Int));
    let bytes = [0, 0, 0, 1, 0, 0, 0, 1, b'k', 0, 0, 0, 4, 0, 0, 0, 9];
    let got: BTreeMap<String, i32> = de(&m, Some(&bytes)).unwrap();
    assert_eq!(got, [("k".to_owned(), 9)].into());
    let frame = Bytes::copy_from_slice(&bytes);
    let mut it = MapIter::<&str, i32>::deserialize(&m, Some(FrameSlice::whole(&frame))).unwrap();
    assert_eq!(it.next(), Some(Ok(("k", 9))));
    assert_eq!(it.next(), None);
    // A map count checks room for both keys and values.
    assert!(invalid(de::<BTreeMap<String, i32>>(
        &m,
        Some(&[0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    )));
}

#[test]
fn vectors_read_into_vecs_and_arrays() {
    let t = vector(CqlType::Float, 2);
    let bytes = [0x3F, 0x80, 0, 0, 0x40, 0, 0, 0];
    assert_eq!(de::<Vec<f32>>(&t, Some(&bytes)), Ok(vec![1.0, 2.0]));
    assert_eq!(de::<[f32; 2]>(&t, Some(&bytes)), Ok([1.0, 2.0]));
    assert!(invalid(de::<Vec<f32>>(&t, Some(&bytes[..7]))));
    assert_eq!(
        de::<Vec<f32>>(&t, None),
        Err(DeserializeError::UnexpectedNull {
            rust_type: "alloc::vec::Vec<f32>"
        })
    );
    let t = vector(CqlType::Text, 2);
    assert_eq!(
        de::<Vec<String>>(&t, Some(&[0x01, b'a', 0x02, b'b', b'c'])),
        Ok(vec!["a".to_owned(), "bc".to_owned()])
    );
    assert!(invalid(de::<Vec<String>>(
        &t,
        Some(&[0x01, b'a', 0x05, b'b'])
    )));
    assert!(invalid(de::<Vec<String>>(&t, Some(&[0x01]))));
    assert_eq!(
        de::<CqlValue>(&vector(CqlType::SmallInt, 1), Some(&[0x02, 0, 7])),
        Ok(CqlValue::Vector(vec![CqlValue::SmallInt(7)]))
    );
}

#[test]
fn tuples_and_udts_tolerate_missing_trailing_fields() {
    let t = CqlType::Tuple(vec![CqlType::Int, CqlType::Text]);
    assert_eq!(
        de::<(i32, Option<String>)>(&t, Some(&[0, 0, 0, 4, 0, 0, 0, 1])),
        Ok((1, None))
    );
    assert_eq!(
        de::<(i32, Option<String>)>(&t, Some(&[0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, b'x'])),
        Ok((1, Some("x".to_owned())))
    );
    assert!(<(i32,)>::check_type(&t).is_err());
    let udt = addr_udt();
    let v = de::<CqlValue>(&udt, Some(&[0, 0, 0, 2, b'E', b'm'])).unwrap();
    assert_eq!(
        v,
        CqlValue::Udt {
            keyspace: "ks".into(),
            name: "addr".into(),
            fields: vec![
                ("street".into(), Some(CqlValue::Text("Em".into()))),
                ("zip".into(), None)
            ],
        }
    );
    assert_eq!(v.to_string(), "{street: 'Em', zip: null}");
    // More fields than the type has: trailing bytes.
    assert!(invalid(de::<CqlValue>(
        &udt,
        Some(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
    )));
}

fn spec(name: &str, typ: CqlType) -> ColumnSpec {
    ColumnSpec {
        keyspace: "ks".into(),
        table: "t".into(),
        name: name.into(),
        typ,
    }
}

#[test]
fn rows_check_counts_and_name_failing_columns() {
    let specs = [spec("a", CqlType::Int), spec("b", CqlType::Text)];
    let frame = Bytes::from_static(&[0, 0, 0, 4, 0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF]);
    let row = || ColumnIterator::new(&specs, &frame, &frame);
    <(i32, Option<&str>)>::check_types(&specs).unwrap();
    assert_eq!(
        <(i32, Option<&str>) as DeserializeRow>::deserialize(row()),
        Ok((5, None))
    );
    assert_eq!(
        <(i32,)>::check_types(&specs),
        Err(DeserializeError::WrongColumnCount {
            expected: 1,
            actual: 2
        })
    );
    let err = <(i32, &str) as DeserializeRow>::deserialize(row()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "column 1 (b): unexpected null for Rust type &str: the value may be null, read it \
         as Option<&str>"
    );
    let err = <(i32, i32)>::check_types(&specs).unwrap_err();
    assert!(matches!(err, DeserializeError::Column { index: 1, .. }));
    let dynamic = Row::deserialize(row()).unwrap();
    assert_eq!(dynamic.columns, vec![Some(CqlValue::Int(5)), None]);
    // A truncated row is an error, not a panic.
    let short = ColumnIterator::new(&specs, &frame, &frame[..6]);
    assert!(matches!(
        Row::deserialize(short),
        Err(DeserializeError::Column { index: 0, .. })
    ));
    let short = ColumnIterator::new(&specs, &frame, &frame[..10]);
    let err = <(i32, Option<&str>) as DeserializeRow>::deserialize(short).unwrap_err();
    assert!(err.to_string().starts_with("column 1 (b): "), "{err}");
}

#[test]
fn cql_values_display_like_cqlsh() {
    let uuid = uuid::Uuid::nil();
    let cases = [
        (CqlValue::Text("it's".into()), "'it''s'"),
        (CqlValue::Blob(Bytes::from_static(&[0xCA, 0xFE])), "0xcafe"),
        (CqlValue::Int(-3), "-3"),
        (CqlValue::Double(f64::NAN), "NaN"),
        (CqlValue::Float(f32::NEG_INFINITY), "-Infinity"),
        (CqlValue::Double(1.5), "1.5"),
        (CqlValue::Boolean(true), "true"),
        (CqlValue::Uuid(uuid), "00000000-0000-0000-0000-000000000000"),
        (CqlValue::Inet("::1".parse().unwrap()), "'::1'"),
        (CqlValue::Date(CqlDate::from_unix_days(0)), "'1970-01-01'"),
        (CqlValue::Date(CqlDate(0)), "-2147483648"),
        (
            CqlValue::Timestamp(CqlTimestamp(0)),
            "'1970-01-01 00:00:00.000Z'",
        ),
        (
            CqlValue::List(vec![CqlValue::Int(1), CqlValue::Int(2)]),
            "[1, 2]",
        ),
        (CqlValue::Set(vec![CqlValue::Text("a".into())]), "{'a'}"),
        (
            CqlValue::Map(vec![(CqlValue::Text("k".into()), CqlValue::BigInt(1))]),
            "{'k': 1}",
        ),
        (
            CqlValue::Tuple(vec![Some(CqlValue::Int(1)), None]),
            "(1, null)",
        ),
        (
            CqlValue::Decimal(CqlDecimal::from_i64_scale(-5, 2)),
            "-0.05",
        ),
        (
            CqlValue::Duration(CqlDuration {
                months: 0,
                days: 1,
                nanos: 1,
            }),
            "1d1ns",
        ),
    ];
    for (v, s) in cases {
        assert_eq!(v.to_string(), s, "{v:?}");
    }
}
