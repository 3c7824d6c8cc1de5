//! `#[derive(SerializeRow)]`: bytes written checked against hand-written `[value]` layouts,
//! bind markers matched by name (same order required) or by position, and the errors naming
//! the struct, the field, the marker and both types.

mod derive_util;

use derive_util::{serialize_row, spec};
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{MaybeUnset, SerializeError, SerializeRow};
use scylla2_macros::SerializeRow;

#[derive(SerializeRow)]
struct Insert<'a> {
    id: i32,
    name: &'a str,
    #[scylla2(rename = "e_mail")]
    email: Option<String>,
    score: MaybeUnset<f32>,
}

fn insert_specs() -> Vec<ColumnSpec> {
    vec![
        spec("id", CqlType::Int),
        spec("name", CqlType::Text),
        spec("e_mail", CqlType::Text),
        spec("score", CqlType::Float),
    ]
}

#[test]
fn by_name_writes_the_spec_layout_in_marker_order() {
    let row = Insert {
        id: 7,
        name: "ab",
        email: None,
        score: MaybeUnset::Unset,
    };
    assert_eq!(row.value_count(), 4);
    assert_eq!(row.value_name(0), None, "values are sent by position");
    let bytes = serialize_row(&row, &insert_specs()).unwrap();
    #[rustfmt::skip]
    let expected = [
        0, 0, 0, 4, 0, 0, 0, 7, // id: [int] 4, 7
        0, 0, 0, 2, b'a', b'b', // name
        0xff, 0xff, 0xff, 0xff, // e_mail: null (-1)
        0xff, 0xff, 0xff, 0xfe, // score: unset (-2)
    ];
    assert_eq!(bytes, expected);

    let row = Insert {
        id: -1,
        name: "",
        email: Some("x".into()),
        score: MaybeUnset::Set(1.5),
    };
    let bytes = serialize_row(&row, &insert_specs()).unwrap();
    #[rustfmt::skip]
    let expected = [
        0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff,
        0, 0, 0, 0,
        0, 0, 0, 1, b'x',
        0, 0, 0, 4, 0x3f, 0xc0, 0, 0,
    ];
    assert_eq!(bytes, expected);
}

#[test]
fn by_name_reports_fields_out_of_marker_order() {
    let mut specs = insert_specs();
    specs.swap(0, 1);
    let row = Insert {
        id: 1,
        name: "n",
        email: None,
        score: MaybeUnset::Unset,
    };
    let err = serialize_row(&row, &specs).unwrap_err();
    assert_eq!(
        err,
        SerializeError::FieldOrder {
            rust_type: "Insert",
            field: "id",
            index: 0,
            marker: "name".into(),
            marker_index: 1,
        }
    );
    assert_eq!(
        err.to_string(),
        "Insert.id is field 0, but bind marker 0 is \"name\" and \"id\" is marker 1: declare \
         the fields in bind marker order"
    );
}

#[test]
fn by_name_reports_missing_and_extra_markers() {
    let row = Insert {
        id: 1,
        name: "n",
        email: None,
        score: MaybeUnset::Unset,
    };
    // The rename is what counts: a marker named like the Rust field does not match.
    let mut specs = insert_specs();
    specs[2] = spec("email", CqlType::Text);
    let err = serialize_row(&row, &specs).unwrap_err();
    assert_eq!(
        err,
        SerializeError::NoMarkerForField {
            rust_type: "Insert",
            field: "email",
            name: "e_mail"
        }
    );
    let err = serialize_row(&row, &insert_specs()[..3]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Insert.score: the statement has no bind marker \"score\""
    );
    let mut specs = insert_specs();
    specs.push(spec("ttl", CqlType::Int));
    let err = serialize_row(&row, &specs).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bind marker 4 (\"ttl\") has no field in Insert"
    );
}

#[test]
fn type_errors_name_field_marker_and_both_types() {
    let row = Insert {
        id: 1,
        name: "n",
        email: Some("e".into()),
        score: MaybeUnset::Set(0.0),
    };
    let mut specs = insert_specs();
    specs[0].typ = CqlType::BigInt;
    let err = serialize_row(&row, &specs).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Insert.id (bind marker 0 \"id\"): cannot serialize Rust type i32 as CQL type bigint"
    );
    let mut specs = insert_specs();
    specs[1].typ = CqlType::Ascii;
    let row = Insert { name: "é", ..row };
    let err = serialize_row(&row, &specs).unwrap_err();
    let SerializeError::Field {
        field,
        index,
        source,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!((*field, *index), ("name", 1));
    assert!(matches!(**source, SerializeError::OutOfRange { .. }));
    // A null is fine for any type, so a None never fails the type check.
    let row = Insert {
        email: None,
        name: "n",
        ..row
    };
    let mut specs = insert_specs();
    specs[2].typ = CqlType::Int;
    assert!(serialize_row(&row, &specs).is_ok());
}

#[derive(SerializeRow)]
#[scylla2(by_position)]
struct Pos {
    a: i64,
    b: Vec<i32>,
}

#[test]
fn by_position_checks_count_and_types_only() {
    let specs = vec![
        spec("x", CqlType::BigInt),
        spec("y", CqlType::List(Box::new(CqlType::Int))),
    ];
    let row = Pos {
        a: 1,
        b: vec![2, 3],
    };
    let bytes = serialize_row(&row, &specs).unwrap();
    #[rustfmt::skip]
    let expected = [
        0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1,
        0, 0, 0, 20, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 3,
    ];
    assert_eq!(bytes, expected);
    let err = serialize_row(&row, &specs[..1]).unwrap_err();
    assert_eq!(
        err,
        SerializeError::WrongValueCount {
            expected: 1,
            given: 2
        }
    );
    let swapped = vec![specs[1].clone(), specs[0].clone()];
    let err = serialize_row(&row, &swapped).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Pos.a (bind marker 0 \"y\"): cannot serialize Rust type i64 as CQL type list<int>"
    );
}

#[derive(SerializeRow)]
struct GenericRow<T> {
    k: T,
}

#[test]
fn generic_row_and_reference() {
    let specs = vec![spec("k", CqlType::Text)];
    let row = GenericRow { k: "v" };
    // `&R` is a row too.
    let bytes = serialize_row(&&row, &specs).unwrap();
    assert_eq!(bytes, [0, 0, 0, 1, b'v']);
    let err = serialize_row(&GenericRow { k: 1u8 as i8 }, &specs).unwrap_err();
    assert!(
        err.to_string().contains("Rust type i8 as CQL type text"),
        "{err}"
    );
}

#[derive(SerializeRow)]
#[scylla2(send_names)]
struct Named<'a> {
    score: f32,
    #[scylla2(rename = "e_mail")]
    email: &'a str,
    id: i32,
}

#[test]
fn send_names_matches_markers_in_any_order_and_names_each_value() {
    let row = Named {
        score: 1.0,
        email: "e",
        id: 3,
    };
    assert_eq!(row.value_count(), 3);
    assert_eq!(
        (0..4).map(|i| row.value_name(i)).collect::<Vec<_>>(),
        [Some("score"), Some("e_mail"), Some("id"), None]
    );
    let specs = vec![
        spec("id", CqlType::Int),
        spec("e_mail", CqlType::Text),
        spec("score", CqlType::Float),
    ];
    // Values are written in field order; the names tell the server where they go.
    let bytes = serialize_row(&row, &specs).unwrap();
    #[rustfmt::skip]
    let expected = [
        0, 0, 0, 4, 0x3f, 0x80, 0, 0,
        0, 0, 0, 1, b'e',
        0, 0, 0, 4, 0, 0, 0, 3,
    ];
    assert_eq!(bytes, expected);
    // Two markers of one name both take its value and must both fit it.
    let mut twice = specs.clone();
    twice.push(spec("id", CqlType::BigInt));
    let err = serialize_row(&row, &twice).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Named.id (bind marker 3 \"id\"): cannot serialize Rust type i32 as CQL type bigint"
    );
    let err = serialize_row(&row, &specs[1..]).unwrap_err();
    assert_eq!(
        err,
        SerializeError::NoMarkerForField {
            rust_type: "Named",
            field: "id",
            name: "id"
        }
    );
    let mut extra = specs.clone();
    extra.insert(1, spec("ttl", CqlType::Int));
    let err = serialize_row(&row, &extra).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bind marker 1 (\"ttl\") has no field in Named"
    );
}

#[test]
fn send_names_rows_are_refused_in_a_batch_and_plain_rows_accepted() {
    use scylla2_cql::Consistency;
    use scylla2_cql::ProtocolVersion;
    use scylla2_cql::request::Request;
    use scylla2_cql::request::{Batch, BatchStatement, BatchStatementKind, BatchType};

    let named = Named {
        score: 1.0,
        email: "e",
        id: 3,
    };
    let statements = [BatchStatement {
        kind: BatchStatementKind::Prepared(b"id"),
        values: &named,
    }];
    let batch = Batch::new(BatchType::Logged, &statements, Consistency::One);
    // Names would be dropped in a batch and the values bound by position: refused.
    let err = batch.body_size(ProtocolVersion::V4).unwrap_err();
    assert!(err.to_string().contains("named values in BATCH"), "{err}");

    let plain = Insert {
        id: 1,
        name: "n",
        email: None,
        score: MaybeUnset::Unset,
    };
    let statements = [BatchStatement {
        kind: BatchStatementKind::Prepared(b"id"),
        values: &plain,
    }];
    let batch = Batch::new(BatchType::Logged, &statements, Consistency::One);
    assert!(batch.body_size(ProtocolVersion::V4).is_ok());
}
