//! Property tests: derived row and UDT structs round trip for arbitrary values (by name with
//! the columns in an arbitrary order, and by position), and reading arbitrary bytes into
//! derived structs returns an error or a value, never panics.

mod derive_util;

use bytes::Bytes;
use derive_util::{decode, serialize_row, spec, udt};
use proptest::prelude::*;
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_macros::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};

#[derive(Debug, Clone, PartialEq, SerializeValue, DeserializeValue)]
struct Inner {
    a: Option<i64>,
    b: String,
    c: Vec<Option<i32>>,
}

#[derive(Debug, Clone, PartialEq, SerializeRow, DeserializeRow)]
struct Outer {
    id: i32,
    name: Option<String>,
    inner: Inner,
    many: Vec<Inner>,
    blob: Vec<u8>,
    flag: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, DeserializeRow)]
#[scylla2(by_position)]
struct OuterPos {
    id: i32,
    name: Option<String>,
    inner: Inner,
    many: Vec<Inner>,
    blob: Vec<u8>,
    flag: Option<bool>,
}

fn inner_type() -> CqlType {
    udt(
        "inner",
        &[
            ("a", CqlType::BigInt),
            ("b", CqlType::Text),
            ("c", CqlType::List(Box::new(CqlType::Int))),
        ],
    )
}

fn specs() -> Vec<ColumnSpec> {
    vec![
        spec("id", CqlType::Int),
        spec("name", CqlType::Text),
        spec("inner", inner_type()),
        spec("many", CqlType::List(Box::new(inner_type()))),
        spec("blob", CqlType::Blob),
        spec("flag", CqlType::Boolean),
    ]
}

fn inner() -> impl Strategy<Value = Inner> {
    (
        any::<Option<i64>>(),
        ".{0,8}",
        prop::collection::vec(any::<i32>().prop_map(Some), 0..4),
    )
        .prop_map(|(a, b, c)| Inner { a, b, c })
}

fn outer() -> impl Strategy<Value = Outer> {
    (
        any::<i32>(),
        prop::option::of(".{0,12}"),
        inner(),
        prop::collection::vec(inner(), 0..3),
        prop::collection::vec(any::<u8>(), 0..16),
        any::<Option<bool>>(),
    )
        .prop_map(|(id, name, inner, many, blob, flag)| Outer {
            id,
            name,
            inner,
            many,
            blob,
            flag,
        })
}

proptest! {
    #[test]
    fn rows_round_trip_in_any_column_order(value in outer(), seed in any::<u64>()) {
        let specs = specs();
        let frame = Bytes::from(serialize_row(&value, &specs).unwrap());
        prop_assert_eq!(&decode::<Outer>(&specs, &frame).unwrap(), &value);
        let pos = decode::<OuterPos>(&specs, &frame).unwrap();
        prop_assert_eq!(pos.inner, value.inner.clone());

        // Rebuild the row with its columns permuted: by name still reads the same value.
        let mut cells: Vec<(ColumnSpec, Vec<u8>)> = Vec::new();
        let mut rest = &frame[..];
        for s in &specs {
            let len = i32::from_be_bytes(rest[..4].try_into().unwrap());
            let n = 4 + usize::try_from(len).unwrap_or(0);
            cells.push((s.clone(), rest[..n].to_vec()));
            rest = &rest[n..];
        }
        let mut order: Vec<usize> = (0..cells.len()).collect();
        let mut x = seed;
        for i in (1..order.len()).rev() {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (x >> 33) as usize % (i + 1));
        }
        let permuted_specs: Vec<ColumnSpec> = order.iter().map(|&i| cells[i].0.clone()).collect();
        let permuted: Vec<u8> = order.iter().flat_map(|&i| cells[i].1.clone()).collect();
        let permuted = Bytes::from(permuted);
        prop_assert_eq!(&decode::<Outer>(&permuted_specs, &permuted).unwrap(), &value);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let specs = specs();
        let frame = Bytes::from(bytes);
        let _ = decode::<Outer>(&specs, &frame);
        let _ = decode::<OuterPos>(&specs, &frame);
    }

    #[test]
    fn corrupted_rows_never_panic(value in outer(), at in any::<usize>(), byte in any::<u8>()) {
        let specs = specs();
        let mut bytes = serialize_row(&value, &specs).unwrap();
        let i = at % bytes.len();
        bytes[i] = byte;
        let frame = Bytes::from(bytes);
        let _ = decode::<Outer>(&specs, &frame);
        let _ = decode::<OuterPos>(&specs, &frame);
    }
}
