//! `SerializeValue::value_content` agrees with `write_value` for every implementation: null
//! exactly when the written length is negative, otherwise the very bytes written after the
//! length. Scalars, strings and blobs must answer without serializing (borrowed or inline);
//! and the rows' `value_at` / `value_content_at` hand out the value at each position.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use bytes::Bytes;
use scylla2_cql::value::{
    Counter, CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlValue, CqlVarint,
    CqlVector, MaybeEmpty, MaybeUnset, NamedValues, SerializeRow, SerializeValue, Unset,
    ValueContent,
};
use scylla2_macros::SerializeRow;
use uuid::Uuid;

/// What `write_value` writes after the length; `None` for a negative length.
fn written(v: &dyn SerializeValue) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; v.value_size()];
    let mut w: &mut [u8] = &mut buf;
    v.write_value(&mut w);
    assert!(w.is_empty());
    let len = i32::from_be_bytes(buf[..4].try_into().unwrap());
    if len < 0 {
        assert_eq!(buf.len(), 4);
        None
    } else {
        assert_eq!(len as usize, buf.len() - 4);
        Some(buf[4..].to_vec())
    }
}

/// Checks the agreement; returns whether the content was known without serializing.
fn agrees(v: &dyn SerializeValue) -> bool {
    let content = v.value_content();
    let expected = written(v);
    match content {
        ValueContent::Null => {
            assert_eq!(expected, None);
            true
        }
        ValueContent::Unavailable => false,
        known => {
            assert_eq!(known.with_bytes(<[u8]>::to_vec), expected, "{content:?}");
            true
        }
    }
}

fn known(values: &[&dyn SerializeValue]) {
    for (i, v) in values.iter().enumerate() {
        assert!(agrees(*v), "value {i} must be known without serializing");
    }
}

#[test]
fn scalars_are_inline() {
    let id = Uuid::from_u128(0x0011_2233_4455_6677_8899_aabb_ccdd_eeff);
    known(&[
        &true,
        &false,
        &-1i8,
        &0x1234i16,
        &-2i32,
        &i64::MIN,
        &1.5f32,
        &-0.0f64,
        &f64::NAN,
        &Counter(-7),
        &CqlTimestamp(1_700_000_000_000),
        &CqlDate(1 << 31),
        &CqlTime(86_399_999_999_999),
        &Ipv4Addr::new(10, 1, 2, 3),
        &Ipv6Addr::LOCALHOST,
        &IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)),
        &IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 1, 2, 3, 4)),
        &id,
        &CqlDuration {
            months: -1,
            days: -2,
            nanos: -3,
        },
        &CqlDecimal {
            unscaled: CqlVarint(Bytes::from_static(&[0x80, 1])),
            scale: -3,
        },
    ]);
    // The inline words are little-endian content.
    let ValueContent::Inline(c) = 0x0102_0304i32.value_content() else {
        panic!("an int is inline");
    };
    assert_eq!(c.word(), 0x0403_0201);
    assert_eq!(c.len(), 4);
}

#[test]
fn strings_and_blobs_are_borrowed() {
    let s = "zażółć gęślą jaźń".repeat(10);
    let blob = vec![0x80u8; 300];
    let values: [&dyn SerializeValue; 9] = [
        &"",
        &s.as_str(),
        &s,
        &Cow::<str>::Borrowed(&s),
        &blob,
        &blob.as_slice(),
        &Bytes::from(blob.clone()),
        &[1u8, 2, 3],
        &CqlVarint(Bytes::from(blob.clone())),
    ];
    for v in values {
        assert!(matches!(v.value_content(), ValueContent::Borrowed(_)));
        assert!(agrees(v));
    }
}

#[test]
fn wrappers_null_unset_and_empty() {
    let s = String::from("abc");
    known(&[
        &None::<i32>,
        &Some(5i64),
        &Some("text"),
        &Unset,
        &MaybeUnset::<i32>::Unset,
        &MaybeUnset::Set(7i16),
        &MaybeUnset::Set(None::<i32>),
        &MaybeEmpty::<i32>::Empty,
        &MaybeEmpty::Value(9i32),
        &Box::new(3i32),
        &Arc::new(s.clone()),
        &&&s,
        &Some(MaybeEmpty::<String>::Empty),
    ]);
    assert_eq!(None::<String>.value_content(), ValueContent::Null);
    assert_eq!(Unset.value_content(), ValueContent::Null);
    assert_eq!(
        MaybeEmpty::<i32>::Empty.value_content(),
        ValueContent::Borrowed(&[])
    );
}

#[test]
fn dynamic_values_and_collections_agree() {
    let text = CqlValue::Text("x".repeat(40));
    let cql_values = [
        CqlValue::Int(-5),
        CqlValue::BigInt(1 << 40),
        CqlValue::Boolean(true),
        CqlValue::Uuid(Uuid::from_u128(9)),
        CqlValue::Timestamp(CqlTimestamp(-1)),
        CqlValue::Inet(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        CqlValue::Ascii("ascii".into()),
        CqlValue::Blob(Bytes::from_static(&[0xff; 33])),
        CqlValue::Varint(CqlVarint(Bytes::from_static(&[0x80; 20]))),
        CqlValue::Empty,
        text.clone(),
        CqlValue::List(vec![CqlValue::Int(1), CqlValue::Int(2)]),
        CqlValue::List((0..10).map(CqlValue::Int).collect()),
        CqlValue::Map(vec![(text.clone(), CqlValue::Int(1))]),
        CqlValue::Tuple(vec![Some(CqlValue::Int(1)), None]),
    ];
    for v in &cql_values {
        agrees(v);
    }
    // Scalars and strings inside a `CqlValue` are known without serializing.
    for v in &cql_values[..11] {
        assert!(agrees(v), "{v:?}");
    }
    let set: BTreeSet<i32> = (0..3).collect();
    let map: BTreeMap<&str, i64> = [("a", 1), ("b", 2)].into();
    let long: Vec<i64> = (0..100).collect();
    let values: [&dyn SerializeValue; 7] = [
        &vec![1i32, 2],
        &long,
        &set,
        &map,
        &(1i32, "two", None::<i64>),
        &CqlVector(vec![1.0f32, 2.0, 3.0]),
        &CqlVector([1.0f64; 4]),
    ];
    for v in values {
        agrees(v);
    }
}

#[test]
fn rows_hand_out_their_values() {
    let tuple = (1i32, "two", 3i64);
    assert_eq!(tuple.value_at(1).map(written), Some(Some(b"two".to_vec())));
    assert!(tuple.value_at(3).is_none());
    assert_eq!(
        tuple.value_content_at(1),
        Some(ValueContent::Borrowed(b"two"))
    );
    assert!(tuple.value_content_at(3).is_none());
    for i in 0..3 {
        assert_eq!(
            tuple.value_content_at(i),
            tuple.value_at(i).map(|v| v.value_content())
        );
        let by_ref = &tuple;
        assert_eq!(
            SerializeRow::value_content_at(&by_ref, i),
            tuple.value_content_at(i)
        );
    }

    let vec_row = vec![10i32, 20, 30];
    assert_eq!(
        written(vec_row.value_at(2).unwrap()),
        Some(30i32.to_be_bytes().to_vec())
    );
    assert!(vec_row.value_at(3).is_none() && vec_row.value_content_at(3).is_none());
    let array_row = [CqlValue::Int(1), CqlValue::Text("t".into())];
    assert_eq!(
        array_row.value_content_at(1),
        Some(ValueContent::Borrowed(b"t"))
    );
    let slice_row: &[&dyn SerializeValue] = &[&1i32, &"s"];
    assert_eq!(
        slice_row.value_content_at(1),
        Some(ValueContent::Borrowed(b"s"))
    );

    let named = NamedValues::<&str, i32>::new().with("b", 2).with("a", 1);
    assert_eq!(named.value_name(1), Some("a"));
    assert_eq!(
        written(named.value_at(1).unwrap()),
        Some(1i32.to_be_bytes().to_vec())
    );
    assert!(named.value_at(2).is_none());

    // Rows without values.
    assert!(().value_at(0).is_none() && ().value_content_at(0).is_none());
}

#[derive(SerializeRow)]
struct Derived<'a> {
    ck: i64,
    name: &'a str,
    tags: Vec<i32>,
}

#[test]
fn derived_rows_hand_out_their_fields() {
    let row = Derived {
        ck: -1,
        name: "n",
        tags: vec![1, 2],
    };
    assert_eq!(row.value_content_at(1), Some(ValueContent::Borrowed(b"n")));
    assert!(matches!(row.value_content_at(0), Some(ValueContent::Inline(c)) if c.len() == 8));
    assert_eq!(written(row.value_at(2).unwrap()), written(&vec![1i32, 2]));
    assert!(row.value_at(3).is_none() && row.value_content_at(3).is_none());
}
