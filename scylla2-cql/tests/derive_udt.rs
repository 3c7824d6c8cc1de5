//! `#[derive(SerializeValue, DeserializeValue)]` for user-defined types: hand-written value
//! layouts, fields the server added to the type, reordered types, missing trailing fields,
//! renames, nesting in rows and collections, and errors naming fields and types.

mod derive_util;

use bytes::Bytes;
use derive_util::{
    decode, deserialize_value, put_cell, row, serialize_row, serialize_value, spec, udt,
};
use scylla2_cql::types::CqlType;
use scylla2_cql::value::{
    CqlVector, DeserializeError, DeserializeValue, MaybeUnset, SerializeError, SerializeValue,
};
use scylla2_macros::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};

#[derive(Debug, Clone, PartialEq, SerializeValue, DeserializeValue)]
struct Address {
    street: String,
    #[scylla2(rename = "zip_code")]
    zip: Option<i32>,
}

fn address_type() -> CqlType {
    udt(
        "address",
        &[("street", CqlType::Text), ("zip_code", CqlType::Int)],
    )
}

/// The same type after `ALTER TYPE address ADD country text`.
fn address_type_v2() -> CqlType {
    udt(
        "address",
        &[
            ("street", CqlType::Text),
            ("zip_code", CqlType::Int),
            ("country", CqlType::Text),
        ],
    )
}

fn addr() -> Address {
    Address {
        street: "Main".into(),
        zip: Some(12345),
    }
}

#[rustfmt::skip]
const ADDR_BYTES: [u8; 20] = [
    0, 0, 0, 16,                        // [value] length
    0, 0, 0, 4, b'M', b'a', b'i', b'n', // street
    0, 0, 0, 4, 0, 0, 0x30, 0x39,       // zip_code = 12345
];

#[test]
fn serializes_the_spec_layout_and_reads_it_back() {
    let bytes = serialize_value(&addr(), &address_type()).unwrap();
    assert_eq!(bytes, ADDR_BYTES);
    let frame = Bytes::from(bytes);
    let back: Address = deserialize_value(&address_type(), &frame).unwrap();
    assert_eq!(back, addr());
}

#[test]
fn a_field_added_by_the_server_is_left_out_on_write_and_skipped_on_read() {
    // Written without the new trailing field: the server reads it as null.
    let bytes = serialize_value(&addr(), &address_type_v2()).unwrap();
    assert_eq!(bytes, ADDR_BYTES);

    // A value carrying the new field reads into the old struct.
    let mut content = ADDR_BYTES[4..].to_vec();
    put_cell(&mut content, Some(b"FR"));
    let mut value = (content.len() as i32).to_be_bytes().to_vec();
    value.extend_from_slice(&content);
    let frame = Bytes::from(value);
    let back: Address = deserialize_value(&address_type_v2(), &frame).unwrap();
    assert_eq!(back, addr());
}

#[test]
fn missing_trailing_fields_on_the_wire_are_null() {
    // Only `street` present: zip_code is null.
    let frame = Bytes::from_static(&[0, 0, 0, 6, 0, 0, 0, 2, b'S', b't']);
    let back: Address = deserialize_value(&address_type_v2(), &frame).unwrap();
    assert_eq!(
        back,
        Address {
            street: "St".into(),
            zip: None
        }
    );
    // An empty value: street is null too, which a String cannot hold.
    let frame = Bytes::from_static(&[0, 0, 0, 0]);
    let err = deserialize_value::<Address>(&address_type(), &frame).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Address.street (UDT field \"street\"): unexpected null for Rust type \
         alloc::string::String: the value may be null, read it as Option<alloc::string::String>"
    );
    // A null UDT needs an Option.
    let frame = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff]);
    assert!(matches!(
        deserialize_value::<Address>(&address_type(), &frame).unwrap_err(),
        DeserializeError::UnexpectedNull { .. }
    ));
    assert_eq!(
        deserialize_value::<Option<Address>>(&address_type(), &frame).unwrap(),
        None
    );
}

#[test]
fn bytes_after_the_last_field_are_an_error_and_truncations_never_panic() {
    let mut value = ADDR_BYTES.to_vec();
    value[3] += 1;
    value.push(0);
    let frame = Bytes::from(value);
    assert!(matches!(
        deserialize_value::<Address>(&address_type(), &frame).unwrap_err(),
        DeserializeError::Wire(_)
    ));
    for cut in 4..ADDR_BYTES.len() {
        let mut value = ADDR_BYTES[..cut].to_vec();
        value[3] = (cut - 4) as u8;
        let frame = Bytes::from(value);
        let typ = address_type();
        // Either a shorter valid value (trailing fields null) or an error: no panic.
        let _ = deserialize_value::<Address>(&typ, &frame);
    }
}

#[test]
fn reordered_type_reads_by_name_but_cannot_be_written() {
    let reordered = udt(
        "address",
        &[("zip_code", CqlType::Int), ("street", CqlType::Text)],
    );
    #[rustfmt::skip]
    let frame = Bytes::from_static(&[
        0, 0, 0, 15,
        0, 0, 0, 4, 0, 0, 0, 1,
        0, 0, 0, 3, b'R', b'u', b'e',
    ]);
    let back: Address = deserialize_value(&reordered, &frame).unwrap();
    assert_eq!(
        back,
        Address {
            street: "Rue".into(),
            zip: Some(1)
        }
    );
    let err = serialize_value(&addr(), &reordered).unwrap_err();
    assert_eq!(
        err,
        SerializeError::FieldNameMismatch {
            index: 0,
            expected: "zip_code".into(),
            given: "street".into(),
            cql_type: reordered.clone(),
        }
    );
}

#[test]
fn struct_fields_the_type_lacks_are_errors() {
    let short = udt("address", &[("street", CqlType::Text)]);
    let err = serialize_value(&addr(), &short).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Address.zip: the user-defined type ks.address has no field \"zip_code\""
    );
    let err = <Address as DeserializeValue<'_, '_>>::check_type(&short).unwrap_err();
    assert_eq!(
        err,
        DeserializeError::MissingUdtField {
            rust_type: "Address",
            field: "zip",
            udt_field: "zip_code",
            cql_type: short.clone(),
        }
    );
    // Not a UDT at all.
    let err = <Address as DeserializeValue<'_, '_>>::check_type(&CqlType::Text).unwrap_err();
    assert!(matches!(err, DeserializeError::TypeMismatch { .. }));
    let err = serialize_value(&addr(), &CqlType::Text).unwrap_err();
    assert!(matches!(err, SerializeError::TypeMismatch { .. }));
}

#[test]
fn field_type_errors_name_the_field_and_both_types() {
    let wrong = udt(
        "address",
        &[("street", CqlType::Int), ("zip_code", CqlType::Int)],
    );
    let err = serialize_value(&addr(), &wrong).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Address.street (UDT field \"street\"): cannot serialize Rust type \
         alloc::string::String as CQL type int"
    );
    let err = <Address as DeserializeValue<'_, '_>>::check_type(&wrong).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Address.street (UDT field \"street\"): cannot deserialize CQL type int into Rust type \
         alloc::string::String"
    );
}

#[derive(SerializeValue)]
struct WithUnset {
    a: MaybeUnset<i32>,
}

#[test]
fn unset_inside_a_udt_is_rejected() {
    let typ = udt("u", &[("a", CqlType::Int)]);
    let err = serialize_value(
        &WithUnset {
            a: MaybeUnset::Unset,
        },
        &typ,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        SerializeError::NullElement { what: "unset", .. }
    ));
    assert!(
        serialize_value(
            &WithUnset {
                a: MaybeUnset::Set(1)
            },
            &typ
        )
        .is_ok()
    );
}

#[derive(Debug, PartialEq, DeserializeValue)]
struct BorrowedAddress<'a> {
    street: &'a str,
    zip_code: Option<i32>,
}

#[derive(Debug, PartialEq, SerializeRow, DeserializeRow)]
struct Person {
    id: i32,
    home: Address,
    past: Vec<Address>,
    work: Option<Address>,
}

#[derive(Debug, PartialEq, DeserializeRow)]
struct PersonRef<'a> {
    id: i32,
    home: BorrowedAddress<'a>,
    past: Vec<BorrowedAddress<'a>>,
    work: Option<BorrowedAddress<'a>>,
}

#[test]
fn udts_nested_in_rows_and_collections_round_trip() {
    let specs = vec![
        spec("id", CqlType::Int),
        spec("home", address_type_v2()),
        spec("past", CqlType::List(Box::new(address_type_v2()))),
        spec("work", address_type_v2()),
    ];
    let person = Person {
        id: 3,
        home: addr(),
        past: vec![
            Address {
                street: "Old".into(),
                zip: None,
            },
            addr(),
        ],
        work: None,
    };
    let frame = Bytes::from(serialize_row(&person, &specs).unwrap());
    let back: Person = decode(&specs, &frame).unwrap();
    assert_eq!(back, person);
    let borrowed: PersonRef<'_> = decode(&specs, &frame).unwrap();
    assert_eq!(borrowed.home.street, "Main");
    assert_eq!(borrowed.past[0].zip_code, None);
    assert_eq!(borrowed.work, None);
    assert!(
        frame
            .as_ptr_range()
            .contains(&borrowed.past[1].street.as_ptr())
    );
}

#[test]
fn nested_errors_name_the_row_field_then_the_udt_field() {
    let bad_udt = udt(
        "address",
        &[("street", CqlType::Text), ("zip_code", CqlType::BigInt)],
    );
    let specs = vec![
        spec("id", CqlType::Int),
        spec("home", bad_udt),
        spec("past", CqlType::List(Box::new(address_type()))),
        spec("work", address_type()),
    ];
    let err = decode::<Person>(&specs, &row(&[])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Person.home (column \"home\"): Address.zip (UDT field \"zip_code\"): cannot deserialize \
         CQL type bigint into Rust type i32"
    );
}

#[test]
fn udt_as_vector_element_is_written_in_place_with_a_vint_length() {
    let typ = CqlType::Vector(Box::new(address_type()), 2);
    let v = CqlVector(vec![addr(), addr()]);
    let bytes = serialize_value(&v, &typ).unwrap();
    // [int] total, then per element: vint length 16 and the 16 content bytes.
    let mut expected = vec![0, 0, 0, 34];
    for _ in 0..2 {
        expected.push(16);
        expected.extend_from_slice(&ADDR_BYTES[4..]);
    }
    assert_eq!(bytes, expected);
    assert_eq!(addr().vector_element_size(), 17);
    let frame = Bytes::from(bytes);
    let back: CqlVector<Vec<Address>> = deserialize_value(&typ, &frame).unwrap();
    assert_eq!(back.0, vec![addr(), addr()]);
}

/// Items named like the generated code's locals do not change its meaning.
#[allow(non_upper_case_globals, dead_code)]
mod hygiene {
    use scylla2_macros::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};

    const v: i32 = 0;
    const value: i32 = 0;
    const spec: i32 = 0;
    const row: i32 = 0;
    const typ: i32 = 0;
    const def: i32 = 0;
    const buf: i32 = 0;
    const columns: i32 = 0;
    const column: i32 = 0;
    const other: i32 = 0;
    const name: i32 = 0;
    const ftyp: i32 = 0;
    const fields: i32 = 0;
    const index: i32 = 0;

    #[derive(SerializeValue, DeserializeValue)]
    pub struct U {
        pub value: i32,
    }

    #[derive(SerializeRow, DeserializeRow)]
    pub struct R {
        pub row: U,
        pub spec: Option<i32>,
    }

    #[derive(SerializeRow, DeserializeRow)]
    #[scylla2(by_position, crate = scylla2_cql)]
    pub struct P {
        pub columns: i32,
    }

    #[derive(SerializeRow)]
    #[scylla2(send_names)]
    pub struct N {
        pub index: i32,
    }
}

#[test]
fn generated_code_is_unaffected_by_items_named_like_its_locals() {
    let u_type = udt("u", &[("value", CqlType::Int)]);
    let specs = vec![spec("spec", CqlType::Int), spec("row", u_type)];
    let r = hygiene::R {
        row: hygiene::U { value: 5 },
        spec: None,
    };
    // Fields `row` then `spec` but markers `spec` then `row`: by name, the order is checked.
    assert!(matches!(
        serialize_row(&r, &specs).unwrap_err(),
        SerializeError::FieldOrder { .. }
    ));
    let specs = vec![specs[1].clone(), specs[0].clone()];
    let frame = Bytes::from(serialize_row(&r, &specs).unwrap());
    let back: hygiene::R = decode(&specs, &frame).unwrap();
    assert_eq!((back.row.value, back.spec), (5, None));
}
