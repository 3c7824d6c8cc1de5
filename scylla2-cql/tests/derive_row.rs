//! `#[derive(DeserializeRow)]`: rows built by hand from the spec's `[bytes]` layout, read by
//! name (reordered, renamed, extra and missing columns) and by position, with the errors
//! naming the struct, the field, the column and both types.

mod derive_util;

use bytes::Bytes;
use derive_util::{decode, row, spec};
use scylla2_cql::types::{ColumnSpec, CqlType};
use scylla2_cql::value::{ColumnIterator, DeserializeError, DeserializeRow};
use scylla2_macros::DeserializeRow;

#[derive(Debug, PartialEq, DeserializeRow)]
struct User<'a> {
    id: i32,
    name: &'a str,
    tags: Vec<&'a str>,
    email: Option<String>,
}

fn text_list(items: &[&str]) -> Vec<u8> {
    let mut out = (items.len() as i32).to_be_bytes().to_vec();
    for i in items {
        out.extend_from_slice(&(i.len() as i32).to_be_bytes());
        out.extend_from_slice(i.as_bytes());
    }
    out
}

fn user_specs_reordered() -> Vec<ColumnSpec> {
    vec![
        spec("email", CqlType::Text),
        spec("tags", CqlType::List(Box::new(CqlType::Text))),
        spec("name", CqlType::Text),
        spec("id", CqlType::Int),
    ]
}

#[test]
fn by_name_reads_reordered_columns_borrowing_from_the_frame() {
    let specs = user_specs_reordered();
    let tags = text_list(&["a", "bc"]);
    let frame = row(&[
        Some(b"x@y"),
        Some(&tags),
        Some(b"bob"),
        Some(&[0, 0, 0, 42]),
    ]);
    let u: User<'_> = decode(&specs, &frame).unwrap();
    assert_eq!(
        u,
        User {
            id: 42,
            name: "bob",
            tags: vec!["a", "bc"],
            email: Some("x@y".into()),
        }
    );
    // `name` points into the frame: no copy.
    let range = frame.as_ptr_range();
    assert!(range.contains(&u.name.as_ptr()));
    assert!(range.contains(&u.tags[1].as_ptr()));
}

#[test]
fn option_field_reads_null_and_plain_field_rejects_it_naming_the_field() {
    let specs = user_specs_reordered();
    let tags = text_list(&[]);
    let frame = row(&[None, Some(&tags), Some(b"bob"), Some(&[0, 0, 0, 1])]);
    let u: User<'_> = decode(&specs, &frame).unwrap();
    assert_eq!(u.email, None);

    let frame = row(&[None, Some(&tags), None, Some(&[0, 0, 0, 1])]);
    let err = decode::<User<'_>>(&specs, &frame).unwrap_err();
    let DeserializeError::Field {
        rust_type,
        field,
        column,
        source,
    } = &err
    else {
        panic!("unexpected error {err:?}");
    };
    assert_eq!(
        (*rust_type, *field, column.as_str()),
        ("User", "name", "name")
    );
    assert!(matches!(**source, DeserializeError::UnexpectedNull { .. }));
    assert_eq!(
        err.to_string(),
        "User.name (column \"name\"): unexpected null for Rust type &str: the value may be \
         null, read it as Option<&str>"
    );
}

#[test]
fn type_mismatch_is_found_once_by_check_types_and_names_field_and_types() {
    let specs = vec![
        spec("id", CqlType::BigInt),
        spec("name", CqlType::Text),
        spec("tags", CqlType::List(Box::new(CqlType::Text))),
        spec("email", CqlType::Text),
    ];
    let err = <User<'_> as DeserializeRow<'_, '_>>::check_types(&specs).unwrap_err();
    assert_eq!(
        err.to_string(),
        "User.id (column \"id\"): cannot deserialize CQL type bigint into Rust type i32"
    );
    let specs = vec![
        spec("id", CqlType::Int),
        spec("name", CqlType::Text),
        spec("tags", CqlType::Set(Box::new(CqlType::Int))),
        spec("email", CqlType::Text),
    ];
    let err = <User<'_> as DeserializeRow<'_, '_>>::check_types(&specs).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("User.tags (column \"tags\"): cannot deserialize CQL type set<int>"),
        "{err}"
    );
}

#[test]
fn missing_unknown_and_duplicate_columns_are_errors() {
    let mut specs = user_specs_reordered();
    specs.remove(0);
    let err = <User<'_> as DeserializeRow<'_, '_>>::check_types(&specs).unwrap_err();
    assert_eq!(
        err,
        DeserializeError::MissingColumn {
            rust_type: "User",
            field: "email",
            column: "email"
        }
    );
    assert_eq!(
        err.to_string(),
        "User.email: the result has no column \"email\""
    );

    let mut specs = user_specs_reordered();
    specs.push(spec("age", CqlType::Int));
    let err = <User<'_> as DeserializeRow<'_, '_>>::check_types(&specs).unwrap_err();
    assert_eq!(err.to_string(), "column \"age\" matches no field of User");

    let mut specs = user_specs_reordered();
    specs.push(spec("id", CqlType::Int));
    let err = <User<'_> as DeserializeRow<'_, '_>>::check_types(&specs).unwrap_err();
    assert_eq!(
        err,
        DeserializeError::DuplicateColumn {
            rust_type: "User",
            column: "id".into()
        }
    );
}

#[test]
fn deserialize_alone_also_reports_missing_and_unknown_columns() {
    // A caller that skipped check_types still gets errors, not garbage.
    let specs = vec![spec("id", CqlType::Int), spec("name", CqlType::Text)];
    let frame = row(&[Some(&[0, 0, 0, 1]), Some(b"n")]);
    let err = User::deserialize(ColumnIterator::new(&specs, &frame, &frame)).unwrap_err();
    assert!(matches!(
        err,
        DeserializeError::MissingColumn { field: "tags", .. }
    ));
    let specs = vec![spec("other", CqlType::Int)];
    let frame = row(&[Some(&[0, 0, 0, 1])]);
    let err = User::deserialize(ColumnIterator::new(&specs, &frame, &frame)).unwrap_err();
    assert!(matches!(err, DeserializeError::UnknownColumn { .. }));
}

#[derive(Debug, PartialEq, DeserializeRow)]
#[scylla2(skip_unknown)]
struct Renamed {
    #[scylla2(rename = "user_id")]
    id: i64,
    #[scylla2(rename = "Display Name")]
    display: String,
}

#[test]
fn rename_and_skip_unknown() {
    let specs = vec![
        spec("extra", CqlType::Blob),
        spec("Display Name", CqlType::Text),
        spec("user_id", CqlType::BigInt),
        spec("more", CqlType::Int),
    ];
    let frame = row(&[
        Some(&[1, 2, 3]),
        Some(b"Ann"),
        Some(&[0, 0, 0, 0, 0, 0, 1, 0]),
        None,
    ]);
    let r: Renamed = decode(&specs, &frame).unwrap();
    assert_eq!(
        r,
        Renamed {
            id: 256,
            display: "Ann".into()
        }
    );
    // The Rust field name is not a column name once renamed.
    let specs = vec![spec("id", CqlType::BigInt), spec("display", CqlType::Text)];
    let err = <Renamed as DeserializeRow<'_, '_>>::check_types(&specs).unwrap_err();
    assert_eq!(
        err,
        DeserializeError::MissingColumn {
            rust_type: "Renamed",
            field: "id",
            column: "user_id"
        }
    );
}

#[derive(Debug, PartialEq, DeserializeRow)]
#[scylla2(by_position)]
struct Positional<'a> {
    key: &'a [u8],
    value: Option<i16>,
    flag: bool,
}

#[test]
fn by_position_ignores_names_and_checks_count_and_types() {
    let specs = vec![
        spec("k", CqlType::Blob),
        spec("v", CqlType::SmallInt),
        spec("f", CqlType::Boolean),
    ];
    let frame = row(&[Some(&[0xde, 0xad]), None, Some(&[1])]);
    let p: Positional<'_> = decode(&specs, &frame).unwrap();
    assert_eq!(
        p,
        Positional {
            key: &[0xde, 0xad],
            value: None,
            flag: true
        }
    );

    let err = decode::<Positional<'_>>(&specs[..2], &frame).unwrap_err();
    assert_eq!(
        err,
        DeserializeError::WrongColumnCount {
            expected: 3,
            actual: 2
        }
    );
    let swapped = vec![specs[1].clone(), specs[0].clone(), specs[2].clone()];
    let err = decode::<Positional<'_>>(&swapped, &frame).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Positional.key (column \"v\"): cannot deserialize CQL type smallint into Rust type &[u8]"
    );
    // A wrong-sized cell is an invalid value naming the field.
    let frame = row(&[Some(&[1]), Some(&[0, 1, 2]), Some(&[1])]);
    let err = decode::<Positional<'_>>(&specs, &frame).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Positional.value (column \"v\"): invalid smallint value"),
        "{err}"
    );
}

#[test]
fn truncated_row_bytes_are_a_wire_error() {
    let specs = user_specs_reordered();
    let full = row(&[
        None,
        Some(&text_list(&["a"])),
        Some(b"bob"),
        Some(&[0, 0, 0, 1]),
    ]);
    for cut in 0..full.len() {
        let frame = full.slice(..cut);
        assert!(decode::<User<'_>>(&specs, &frame).is_err(), "cut at {cut}");
        let p = decode::<Positional<'_>>(&specs[..3], &frame);
        assert!(p.is_err(), "cut at {cut}");
    }
    // A length past the end of the row.
    let frame = Bytes::from_static(&[0, 0, 0, 9, b'a']);
    let specs = vec![spec("k", CqlType::Blob)];
    #[derive(Debug, DeserializeRow)]
    #[allow(dead_code)]
    struct K<'a> {
        k: &'a [u8],
    }
    // Reported against the column being read, wrapping the wire error.
    match decode::<K<'_>>(&specs, &frame).unwrap_err() {
        DeserializeError::Column { index, source, .. } => {
            assert_eq!(index, 0);
            assert!(matches!(*source, DeserializeError::Wire(_)), "{source:?}");
        }
        other => panic!("expected a column-wrapped wire error, got {other:?}"),
    }
}

#[derive(Debug, PartialEq, DeserializeRow)]
struct Generic<T> {
    value: T,
    #[scylla2(rename = "type")]
    r#type: String,
}

#[test]
fn generic_struct_and_raw_identifiers() {
    let specs = vec![spec("type", CqlType::Ascii), spec("value", CqlType::Double)];
    let frame = row(&[Some(b"pi"), Some(&std::f64::consts::PI.to_be_bytes())]);
    let g: Generic<f64> = decode(&specs, &frame).unwrap();
    assert_eq!(g.value, std::f64::consts::PI);
    assert_eq!(g.r#type, "pi");
    // The same struct with another type parameter checks against that type.
    let err = decode::<Generic<i32>>(&specs, &frame).unwrap_err();
    assert!(err.to_string().contains("Generic.value"), "{err}");
}

mod reexported {
    pub use scylla2_cql as cql;
}

#[derive(Debug, PartialEq, DeserializeRow)]
#[scylla2(crate = reexported::cql)]
struct ThroughReexport {
    n: i8,
}

#[test]
fn crate_path_override() {
    let specs = vec![spec("n", CqlType::TinyInt)];
    let frame = row(&[Some(&[0xff])]);
    assert_eq!(
        decode::<ThroughReexport>(&specs, &frame).unwrap(),
        ThroughReexport { n: -1 }
    );
}
