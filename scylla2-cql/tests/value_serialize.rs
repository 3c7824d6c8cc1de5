//! Serialization against hand-written byte layouts from the spec (v4 §6, v5 §5), type and
//! range checks, and rows (positional, dynamic and named).

mod common;

use common::{addr_udt, ser};

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::Bytes;
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{
    Counter, CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlValue, CqlVarint,
    CqlVector, MaybeEmpty, MaybeUnset, NamedValues, SerializeError, SerializeRow, SerializeValue,
    Unset,
};
use uuid::Uuid;

/// `[int]` length then content.
fn val(content: &[u8]) -> Vec<u8> {
    let mut out = (content.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(content);
    out
}

fn list(t: CqlType) -> CqlType {
    CqlType::List(Box::new(t))
}

fn set(t: CqlType) -> CqlType {
    CqlType::Set(Box::new(t))
}

fn map(k: CqlType, v: CqlType) -> CqlType {
    CqlType::Map(Box::new(k), Box::new(v))
}

fn vector(t: CqlType, n: u32) -> CqlType {
    CqlType::Vector(Box::new(t), n)
}

#[test]
fn scalars_match_spec_layouts() {
    assert_eq!(ser(&true, &CqlType::Boolean), val(&[1]));
    assert_eq!(ser(&false, &CqlType::Boolean), val(&[0]));
    assert_eq!(ser(&-1i8, &CqlType::TinyInt), val(&[0xFF]));
    assert_eq!(ser(&0x0102i16, &CqlType::SmallInt), val(&[1, 2]));
    assert_eq!(ser(&-2i32, &CqlType::Int), val(&[0xFF, 0xFF, 0xFF, 0xFE]));
    assert_eq!(ser(&1i64, &CqlType::BigInt), val(&[0, 0, 0, 0, 0, 0, 0, 1]));
    assert_eq!(ser(&Counter(-1), &CqlType::Counter), val(&[0xFF; 8]));
    assert_eq!(ser(&1.5f32, &CqlType::Float), val(&[0x3F, 0xC0, 0, 0]));
    assert_eq!(
        ser(&std::f64::consts::PI, &CqlType::Double),
        val(&[0x40, 0x09, 0x21, 0xFB, 0x54, 0x44, 0x2D, 0x18])
    );
    assert_eq!(
        ser(&CqlTimestamp(1_709_210_096_789), &CqlType::Timestamp),
        val(&1_709_210_096_789i64.to_be_bytes())
    );
    // date: unsigned days with the epoch at 2^31.
    assert_eq!(
        ser(&CqlDate::from_unix_days(0), &CqlType::Date),
        val(&[0x80, 0, 0, 0])
    );
    assert_eq!(
        ser(&CqlDate::from_unix_days(-1), &CqlType::Date),
        val(&[0x7F, 0xFF, 0xFF, 0xFF])
    );
    assert_eq!(
        ser(&CqlTime(1), &CqlType::Time),
        val(&[0, 0, 0, 0, 0, 0, 0, 1])
    );
    // inet: 4 or 16 bytes, no port.
    assert_eq!(
        ser(&Ipv4Addr::new(192, 168, 1, 1), &CqlType::Inet),
        val(&[192, 168, 1, 1])
    );
    let v6: Ipv6Addr = "::1".parse().unwrap();
    let mut v6_bytes = [0u8; 16];
    v6_bytes[15] = 1;
    assert_eq!(ser(&IpAddr::V6(v6), &CqlType::Inet), val(&v6_bytes));
    let u = Uuid::parse_str("123e4567-e89b-12d3-a456-426614174000").unwrap();
    assert_eq!(ser(&u, &CqlType::Uuid), val(u.as_bytes()));
    assert_eq!(ser(&u, &CqlType::Timeuuid), val(u.as_bytes()));
}

#[test]
fn strings_and_blobs() {
    assert_eq!(ser("héllo", &CqlType::Text), val("héllo".as_bytes()));
    assert_eq!(ser(&String::from("ab"), &CqlType::Ascii), val(b"ab"));
    assert_eq!(ser(&[0xCAu8, 0xFE][..], &CqlType::Blob), val(&[0xCA, 0xFE]));
    assert_eq!(ser(&vec![1u8], &CqlType::Blob), val(&[1]));
    assert_eq!(ser(&Bytes::from_static(b"x"), &CqlType::Blob), val(b"x"));
    assert_eq!(ser(&[7u8; 3], &CqlType::Blob), val(&[7, 7, 7]));
    // Long strings are fine: 70 000 bytes is far from the [int] limit.
    let long = "x".repeat(70_000);
    assert_eq!(ser(&long, &CqlType::Text).len(), 70_004);
    assert!(matches!(
        "é".check_type(&CqlType::Ascii),
        Err(SerializeError::OutOfRange { .. })
    ));
}

#[test]
fn duration_is_three_zigzag_vints() {
    let d = CqlDuration {
        months: 1,
        days: 2,
        nanos: 3,
    };
    assert_eq!(ser(&d, &CqlType::Duration), val(&[0x02, 0x04, 0x06]));
    let d = CqlDuration {
        months: -1,
        days: -2,
        nanos: -3,
    };
    assert_eq!(ser(&d, &CqlType::Duration), val(&[0x01, 0x03, 0x05]));
    // 64 -> zig-zag 128 -> two bytes 10 000000 10000000.
    let d = CqlDuration {
        months: 0,
        days: 64,
        nanos: 0,
    };
    assert_eq!(ser(&d, &CqlType::Duration), val(&[0x00, 0x80, 0x80, 0x00]));
    let mixed = CqlDuration {
        months: 1,
        days: -1,
        nanos: 0,
    };
    assert!(matches!(
        mixed.check_type(&CqlType::Duration),
        Err(SerializeError::OutOfRange { .. })
    ));
}

#[test]
fn varint_and_decimal() {
    for (v, bytes) in [
        (0i64, &[0x00][..]),
        (128, &[0x00, 0x80]),
        (-1, &[0xFF]),
        (-129, &[0xFF, 0x7F]),
    ] {
        assert_eq!(ser(&CqlVarint::from_i64(v), &CqlType::Varint), val(bytes));
    }
    // decimal: [int] scale, then the unscaled varint: 123.456 = 123456 * 10^-3.
    assert_eq!(
        ser(&CqlDecimal::from_i64_scale(123_456, 3), &CqlType::Decimal),
        val(&[0, 0, 0, 3, 0x01, 0xE2, 0x40])
    );
}

#[test]
fn collections_use_int_counts_and_bytes_elements() {
    assert_eq!(
        ser(&vec![1i32, 2], &list(CqlType::Int)),
        val(&[0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2])
    );
    // Slices, arrays and sets; a Vec fits a set column too.
    assert_eq!(
        ser(&[1i32, 2][..], &set(CqlType::Int)),
        ser(&vec![1i32, 2], &list(CqlType::Int))
    );
    let s: BTreeSet<&str> = ["a"].into();
    assert_eq!(
        ser(&s, &set(CqlType::Text)),
        val(&[0, 0, 0, 1, 0, 0, 0, 1, b'a'])
    );
    let m: BTreeMap<&str, i32> = [("a", 1)].into();
    assert_eq!(
        ser(&m, &map(CqlType::Text, CqlType::Int)),
        val(&[0, 0, 0, 1, 0, 0, 0, 1, b'a', 0, 0, 0, 4, 0, 0, 0, 1])
    );
    // Nested: list<list<int>> [[7]] = count 1, element of 12 bytes (count 1, [int] 7).
    assert_eq!(
        ser(&vec![vec![7i32]], &list(list(CqlType::Int))),
        val(&[0, 0, 0, 1, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 7])
    );
    assert_eq!(
        ser(&Vec::<i32>::new(), &list(CqlType::Int)),
        val(&[0, 0, 0, 0])
    );
    // A set Rust type does not go into a list column (order would be lost silently).
    assert!(s.check_type(&list(CqlType::Text)).is_err());
    // Null and unset elements are refused.
    assert!(matches!(
        vec![Some(1i32), None].check_type(&list(CqlType::Int)),
        Err(SerializeError::NullElement { what: "null", .. })
    ));
    assert!(matches!(
        vec![MaybeUnset::Unset::<i32>].check_type(&list(CqlType::Int)),
        Err(SerializeError::NullElement { what: "unset", .. })
    ));
    // Element type errors name the element types.
    let err = vec![1i64].check_type(&list(CqlType::Int)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot serialize Rust type i64 as CQL type int"
    );
}

#[test]
fn tuples_are_bytes_fields_with_arity_checked() {
    let t = CqlType::Tuple(vec![CqlType::Int, CqlType::Text]);
    assert_eq!(
        ser(&(1i32, None::<&str>), &t),
        val(&[0, 0, 0, 4, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF])
    );
    assert!(matches!(
        (1i32,).check_type(&t),
        Err(SerializeError::TypeMismatch { .. })
    ));
    assert!(matches!(
        (1i32, Unset).check_type(&t),
        Err(SerializeError::NullElement { what: "unset", .. })
    ));
}

#[test]
fn vectors_of_fixed_elements_are_bare_and_variable_ones_vint_prefixed() {
    let v3 = vector(CqlType::Float, 3);
    assert_eq!(
        ser(&CqlVector(vec![1.0f32, 2.0, 3.0]), &v3),
        val(&[0x3F, 0x80, 0, 0, 0x40, 0, 0, 0, 0x40, 0x40, 0, 0])
    );
    assert_eq!(
        ser(&CqlVector([1.0f32, 2.0, 3.0]), &v3),
        ser(&CqlVector(&[1.0f32, 2.0, 3.0][..]), &v3)
    );
    // Dimension checked.
    assert!(matches!(
        CqlVector(vec![1.0f32; 4]).check_type(&v3),
        Err(SerializeError::OutOfRange { .. })
    ));
    // A plain Vec is a list: refused for a vector column instead of sent wrongly.
    assert!(matches!(
        vec![1.0f32; 3].check_type(&v3),
        Err(SerializeError::TypeMismatch { .. })
    ));
    // smallint is not fixed-size for Cassandra's vectors: vint length before each element.
    assert_eq!(
        ser(&CqlVector([1i16, 2]), &vector(CqlType::SmallInt, 2)),
        val(&[0x02, 0, 1, 0x02, 0, 2])
    );
    assert_eq!(
        ser(&CqlVector(vec!["a", "bc"]), &vector(CqlType::Text, 2)),
        val(&[0x01, b'a', 0x02, b'b', b'c'])
    );
    // vector<vector<int, 2>, 2> is fixed-size all the way down.
    let inner = vector(CqlType::Int, 2);
    assert_eq!(
        ser(
            &CqlVector([CqlVector([1i32, 2]), CqlVector([3, 4])]),
            &vector(inner, 2)
        ),
        val(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4])
    );
    // An empty value cannot stand in for a bare fixed-size element.
    assert!(
        CqlVector([MaybeEmpty::Empty, MaybeEmpty::Value(1.0f32)])
            .check_type(&vector(CqlType::Float, 2))
            .is_err()
    );
}

#[test]
fn null_unset_and_wrappers() {
    assert_eq!(ser(&None::<i32>, &CqlType::Int), [0xFF; 4]);
    assert_eq!(ser(&Unset, &CqlType::Int), [0xFF, 0xFF, 0xFF, 0xFE]);
    assert_eq!(
        ser(&MaybeUnset::Set(5i32), &CqlType::Int),
        val(&[0, 0, 0, 5])
    );
    assert_eq!(
        ser(&MaybeUnset::<i32>::Unset, &CqlType::Int),
        [0xFF, 0xFF, 0xFF, 0xFE]
    );
    assert_eq!(ser(&MaybeEmpty::<i32>::Empty, &CqlType::Int), val(&[]));
    assert_eq!(ser(&&&5i32, &CqlType::Int), val(&[0, 0, 0, 5]));
    assert_eq!(ser(&Box::new(5i32), &CqlType::Int), val(&[0, 0, 0, 5]));
}

#[test]
fn type_and_range_errors_name_both_types() {
    let err = 5i64.check_type(&CqlType::Int).unwrap_err();
    assert_eq!(
        err,
        SerializeError::TypeMismatch {
            rust_type: "i64",
            cql_type: CqlType::Int
        }
    );
    let err = String::from("x").check_type(&CqlType::Int).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot serialize Rust type alloc::string::String as CQL type int"
    );
    assert!(5i32.check_type(&CqlType::Date).is_err());
    assert!(
        CqlTime(86_400_000_000_000)
            .check_type(&CqlType::Time)
            .is_err()
    );
    let v4 = Uuid::from_u128(0x1234_5678_1234_4234_8234_1234_5678_9abc);
    assert!(matches!(
        v4.check_type(&CqlType::Timeuuid),
        Err(SerializeError::OutOfRange { .. })
    ));
    assert!(v4.check_type(&CqlType::Uuid).is_ok());
}

#[test]
fn values_beyond_int_lengths_are_too_large() {
    // 2 100 references to one 1 MiB blob: over i32::MAX bytes, nothing allocated.
    let chunk = vec![0u8; 1 << 20];
    let many: Vec<&[u8]> = vec![&chunk[..]; 2100];
    assert!(matches!(
        many.check_type(&list(CqlType::Blob)),
        Err(SerializeError::ValueTooLarge { .. })
    ));
}

fn col(name: &str, typ: CqlType) -> ColumnSpec {
    ColumnSpec {
        keyspace: "ks".into(),
        table: "t".into(),
        name: name.into(),
        typ,
    }
}

fn ser_row<R: SerializeRow + ?Sized>(r: &R, cols: &[ColumnSpec]) -> Vec<u8> {
    r.check_types(cols).unwrap();
    let mut out = vec![0xAA; r.values_size()];
    let mut w: &mut [u8] = &mut out;
    r.write_values(&mut w);
    assert!(w.is_empty());
    out
}

#[test]
fn rows_positional_dynamic_and_named() {
    let cols = [col("a", CqlType::Int), col("b", CqlType::Text)];
    let expected = [val(&[0, 0, 0, 1]), val(b"x")].concat();
    assert_eq!(ser_row(&(1i32, "x"), &cols), expected);
    let dynamic: &[&dyn SerializeValue] = &[&1i32, &"x"];
    assert_eq!(ser_row(dynamic, &cols), expected);
    let values = vec![CqlValue::Int(1), CqlValue::Text("x".into())];
    assert_eq!(ser_row(&values, &cols), expected);
    assert_eq!(ser_row(&(), &[]), Vec::<u8>::new());

    assert_eq!(
        (1i32,).check_types(&cols),
        Err(SerializeError::WrongValueCount {
            expected: 2,
            given: 1
        })
    );
    let err = (1i32, 2i32).check_types(&cols).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bind marker 1 (b): cannot serialize Rust type i32 as CQL type text"
    );

    let named = NamedValues::<&str, &dyn SerializeValue>::new()
        .with("b", &"x")
        .with("a", &1i32);
    assert_eq!(named.value_name(0), Some("b"));
    assert_eq!(named.value_name(1), Some("a"));
    assert_eq!(
        ser_row(&named, &cols),
        [val(b"x"), val(&[0, 0, 0, 1])].concat()
    );
    let missing = NamedValues::<&str, i32>::new().with("a", 1);
    assert_eq!(
        missing.check_types(&cols),
        Err(SerializeError::MissingName { name: "b".into() })
    );
    let unknown = NamedValues::<&str, i32>::new().with("zz", 1);
    assert_eq!(
        unknown.check_types(&cols),
        Err(SerializeError::UnknownName { name: "zz".into() })
    );
    let wrong = NamedValues::<&str, i32>::new().with("a", 1).with("b", 2);
    assert!(matches!(
        wrong.check_types(&cols),
        Err(SerializeError::Column { index: 1, .. })
    ));
}

#[test]
fn cql_value_is_checked_against_the_type() {
    let t = list(CqlType::Int);
    let v = CqlValue::List(vec![CqlValue::Int(1)]);
    assert_eq!(ser(&v, &t), ser(&vec![1i32], &t));
    assert!(
        CqlValue::List(vec![CqlValue::BigInt(1)])
            .check_type(&t)
            .is_err()
    );
    assert!(CqlValue::Int(1).check_type(&CqlType::BigInt).is_err());
    assert_eq!(ser(&CqlValue::Empty, &CqlType::Int), val(&[]));
    let v = CqlValue::Vector(vec![CqlValue::Float(1.0), CqlValue::Float(2.0)]);
    assert_eq!(
        ser(&v, &vector(CqlType::Float, 2)),
        ser(&CqlVector([1.0f32, 2.0]), &vector(CqlType::Float, 2))
    );
    assert!(v.check_type(&vector(CqlType::Float, 3)).is_err());

    let udt = addr_udt();
    let value = |name: &str| CqlValue::Udt {
        keyspace: "ks".into(),
        name: "addr".into(),
        fields: vec![(name.into(), Some(CqlValue::Text("Elm".into())))],
    };
    // Fewer fields than the type: allowed, written as given.
    assert_eq!(ser(&value("street"), &udt), val(&val(b"Elm")));
    assert!(matches!(
        value("zip").check_type(&udt),
        Err(SerializeError::FieldNameMismatch { index: 0, .. })
    ));
}
