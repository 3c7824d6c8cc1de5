//! With the `derive` feature, the derive macros are reachable from `scylla2_cql` itself
//! (run with `--features derive`).
#![cfg(feature = "derive")]

mod derive_util;

use bytes::Bytes;
use derive_util::{decode, serialize_row, spec};
use scylla2_cql::types::CqlType;

#[derive(Debug, PartialEq, scylla2_cql::SerializeRow, scylla2_cql::DeserializeRow)]
struct Kv {
    k: String,
    v: Option<i64>,
}

#[test]
fn reexported_derives_work() {
    let specs = vec![spec("k", CqlType::Text), spec("v", CqlType::BigInt)];
    let kv = Kv {
        k: "key".into(),
        v: Some(5),
    };
    let frame = Bytes::from(serialize_row(&kv, &specs).unwrap());
    assert_eq!(decode::<Kv>(&specs, &frame).unwrap(), kv);
}
