//! Derived structs read the rows a real Cassandra 4.0 sent (tests/fixtures/cassandra-v4,
//! `SELECT * FROM all_types`): user-defined types (frozen, non-frozen, nested, in a list, in
//! a tuple), fields read by name with the others skipped, and nulls, compared with the values
//! of the INSERT statements and with what the Python driver decoded (expected.json).

mod common;

use std::collections::BTreeMap;

use common::fixture;
use scylla2_cql::response::{Response, ResponseContext, ResultResponse, Rows};
use scylla2_macros::{DeserializeRow, DeserializeValue};

/// The rows of the captured `SELECT * FROM all_types`.
fn all_types_rows() -> Rows {
    let (h, body) = fixture("025-select-all-types.bin");
    let decoded = Response::decode(
        h.opcode,
        h.flags,
        h.version,
        body,
        &ResponseContext::default(),
    )
    .unwrap();
    let Response::Result(ResultResponse::Rows(rows)) = decoded.response else {
        panic!("not rows");
    };
    rows
}

#[derive(Debug, PartialEq, DeserializeValue)]
struct Addr<'a> {
    street: Option<&'a str>,
    zip: Option<i32>,
    tags: Vec<&'a str>,
    geo: Option<(f64, f64)>,
}

/// Reads only `zip` of an addr: the type's other fields are skipped.
#[derive(Debug, PartialEq, DeserializeValue)]
struct ZipOnly {
    zip: Option<i32>,
}

#[derive(Debug, PartialEq, DeserializeValue)]
struct Person<'a> {
    phones: Vec<&'a str>,
    #[scylla2(rename = "name")]
    full_name: Option<&'a str>,
    home: Option<ZipOnly>,
}

#[derive(Debug, DeserializeRow)]
#[scylla2(skip_unknown)]
struct AllTypesUdts<'a> {
    c_text: Option<&'a str>,
    c_udt: Option<Addr<'a>>,
    c_udt_nf: Option<Addr<'a>>,
    c_person: Option<Person<'a>>,
    c_list_udt: Vec<Addr<'a>>,
    c_tuple_nested: Option<(Option<i64>, Vec<&'a str>, Option<Addr<'a>>)>,
    id: i32,
}

fn addr<'a>(street: &'a str, zip: i32, tags: &[&'a str], geo: Option<(f64, f64)>) -> Addr<'a> {
    Addr {
        street: Some(street),
        zip: Some(zip),
        tags: tags.to_vec(),
        geo,
    }
}

#[test]
fn real_server_udt_values_read_into_derived_structs() {
    let rows = all_types_rows();
    let by_id: BTreeMap<i32, AllTypesUdts<'_>> = rows
        .typed::<AllTypesUdts<'_>>()
        .unwrap()
        .map(|r| r.map(|r| (r.id, r)))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        by_id.keys().copied().collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6, 7]
    );

    // Row 1, from the INSERT: {street: 'Elm', zip: 54321, tags: {'a', 'b'}, geo: (1.0, 2.0)}.
    let r1 = &by_id[&1];
    assert_eq!(r1.c_text, Some("plain text"));
    assert_eq!(
        r1.c_udt,
        Some(addr("Elm", 54321, &["a", "b"], Some((1.0, 2.0))))
    );
    assert_eq!(r1.c_udt_nf, Some(addr("non-frozen", 1, &[], None)));
    assert_eq!(
        r1.c_person,
        Some(Person {
            phones: vec!["+1-555-0100", "+44 20 7946 0958"],
            full_name: Some("Ann"),
            home: Some(ZipOnly { zip: Some(2) }),
        })
    );
    assert_eq!(r1.c_list_udt.len(), 2);
    assert_eq!(r1.c_list_udt[0], addr("a", 1, &[], Some((0.0, -0.0))));
    assert!(r1.c_list_udt[0].geo.unwrap().1.is_sign_negative());
    assert_eq!(r1.c_list_udt[1], addr("b", 2, &[], None));
    assert_eq!(
        r1.c_tuple_nested,
        Some((
            Some(9_000_000_000),
            vec!["p", "q"],
            Some(addr("Main St", 12345, &["home"], Some((52.52, 13.405))))
        ))
    );

    // Row 2: a UDT whose every field is null, a person with only nulls.
    let r2 = &by_id[&2];
    assert_eq!(
        r2.c_udt,
        Some(Addr {
            street: None,
            zip: None,
            tags: vec![],
            geo: None
        })
    );
    assert_eq!(
        r2.c_person,
        Some(Person {
            phones: vec![],
            full_name: None,
            home: None
        })
    );
    assert_eq!(r2.c_tuple_nested, Some((None, vec![], None)));

    // Row 3: non-ASCII text, NaN and infinity in the tuple, an empty string in a set.
    let r3 = &by_id[&3];
    let u = r3.c_udt.as_ref().unwrap();
    assert_eq!(
        (u.street, u.zip, &u.tags[..]),
        (Some("日本"), Some(-1), &[""][..])
    );
    let (nan, inf) = u.geo.unwrap();
    assert!(nan.is_nan() && inf == f64::INFINITY);
    assert_eq!(r3.c_person.as_ref().unwrap().full_name, Some("Zoë"));
    assert_eq!(r3.c_list_udt, [addr_street_only("only")]);

    // Rows 4 to 7 hold no UDTs.
    for id in 4..=7 {
        let r = &by_id[&id];
        assert!(r.c_udt.is_none() && r.c_person.is_none() && r.c_list_udt.is_empty());
    }
}

fn addr_street_only(street: &str) -> Addr<'_> {
    Addr {
        street: Some(street),
        zip: None,
        tags: vec![],
        geo: None,
    }
}

#[test]
fn real_server_columns_missing_from_a_strict_struct_are_reported() {
    #[derive(Debug, DeserializeRow)]
    #[allow(dead_code)]
    struct Strict {
        id: i32,
    }
    let rows = all_types_rows();
    let err = rows.typed::<Strict>().unwrap_err();
    assert!(
        err.to_string()
            .contains("column \"c_ascii\" matches no field of Strict"),
        "{err}"
    );
}
