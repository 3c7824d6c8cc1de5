//! Derived structs end to end through the driver against the simulator (or `SCYLLA_URI`):
//! a table with every CQL type and a user-defined type, prepared INSERT from a derived
//! `SerializeRow` struct, SELECT into derived owned and borrowing `DeserializeRow` structs (by
//! name, columns in another order than the fields), a paged SELECT, a counter table, a UDT
//! with a field the Rust struct does not know, and value errors found before sending.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use common::{next, prepare, query};
use scylla2::{Query, Session, error::ExecutionError};
use scylla2_cql::value::{
    Counter, CqlDate, CqlDecimal, CqlDuration, CqlTime, CqlTimestamp, CqlVarint, CqlVector,
    SerializeError,
};
use scylla2_macros::{DeserializeRow, DeserializeValue, SerializeRow, SerializeValue};
use uuid::Uuid;

/// The Rust side of `address`, which on the server also has `country` (as if added later by
/// `ALTER TYPE ... ADD`).
#[derive(Debug, Clone, PartialEq, SerializeValue, DeserializeValue)]
struct Address {
    street: String,
    #[scylla2(rename = "zip_code")]
    zip: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, SerializeRow, DeserializeRow)]
struct AllTypes {
    pk: i32,
    ck: i32,
    ascii_col: String,
    bigint_col: i64,
    blob_col: Vec<u8>,
    boolean_col: bool,
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
    udt_col: Address,
    udt_list: Vec<Address>,
    tuple_col: (i32, String, Option<bool>),
    vector_col: CqlVector<Vec<f32>>,
    null_col: Option<i32>,
}

const COLUMNS: &str = "pk, ck, ascii_col, bigint_col, blob_col, boolean_col, decimal_col, \
    double_col, float_col, int_col, timestamp_col, uuid_col, text_col, varint_col, \
    timeuuid_col, inet_col, date_col, time_col, smallint_col, tinyint_col, duration_col, \
    list_col, set_col, map_col, udt_col, udt_list, tuple_col, vector_col, null_col";

#[derive(Debug, PartialEq, DeserializeValue)]
struct AddressRef<'a> {
    street: &'a str,
    zip_code: Option<i32>,
    country: Option<&'a str>,
}

/// Reads a subset of the columns, borrowing from the response frame.
#[derive(Debug, DeserializeRow)]
struct Borrowed<'a> {
    text_col: &'a str,
    ck: i32,
    blob_col: &'a [u8],
    set_col: Vec<&'a str>,
    udt_col: AddressRef<'a>,
    null_col: Option<i32>,
}

fn sample(pk: i32, ck: i32) -> AllTypes {
    AllTypes {
        pk,
        ck,
        ascii_col: "ascii".into(),
        bigint_col: -(1 << 40),
        blob_col: vec![0xca, 0xfe, ck as u8],
        boolean_col: ck % 2 == 0,
        decimal_col: CqlDecimal::from_i64_scale(31415, 4),
        double_col: 2.5,
        float_col: -1.25,
        int_col: ck * 10,
        timestamp_col: CqlTimestamp(1_700_000_000_000 + i64::from(ck)),
        uuid_col: Uuid::from_u128(0x1234_5678_9abc_4def_8123_4567_89ab_cdef),
        text_col: format!("row {ck} ✓"),
        varint_col: CqlVarint::from_i128(i128::from(ck) << 70),
        timeuuid_col: Uuid::from_u128(0x1ee0_0000_0000_1000_8000_0000_0000_0001),
        inet_col: IpAddr::V4(Ipv4Addr::new(10, 0, 0, ck as u8)),
        date_col: CqlDate((1 << 31) + 19_000),
        time_col: CqlTime(3_600_000_000_000),
        smallint_col: -300,
        tinyint_col: -7,
        duration_col: CqlDuration {
            months: 1,
            days: 2,
            nanos: 3,
        },
        list_col: vec![ck, 2, 1],
        set_col: ["x", "y"].into_iter().map(String::from).collect(),
        map_col: [("a".to_owned(), 1), ("b".to_owned(), i64::from(ck))]
            .into_iter()
            .collect(),
        udt_col: Address {
            street: "Main".into(),
            zip: Some(ck),
        },
        udt_list: vec![Address {
            street: "Old".into(),
            zip: None,
        }],
        tuple_col: (ck, "t".into(), None),
        vector_col: CqlVector(vec![0.5, 1.5, f32::from(ck as i16)]),
        null_col: None,
    }
}

async fn setup() -> Option<(common::TestCluster, Session, String)> {
    setup_version(5).await
}

async fn setup_version(max_version: u8) -> Option<(common::TestCluster, Session, String)> {
    common::keyspace_session(max_version, "derive", |ks| {
        vec![
            format!("CREATE TYPE {ks}.address (street text, zip_code int, country text)"),
            format!(
                "CREATE TABLE {ks}.all_types (pk int, ck int, ascii_col ascii, bigint_col bigint, \
                 blob_col blob, boolean_col boolean, decimal_col decimal, double_col double, \
                 float_col float, int_col int, timestamp_col timestamp, uuid_col uuid, \
                 text_col text, varint_col varint, timeuuid_col timeuuid, inet_col inet, \
                 date_col date, time_col time, smallint_col smallint, tinyint_col tinyint, \
                 duration_col duration, list_col list<int>, set_col set<text>, \
                 map_col map<text, bigint>, udt_col frozen<address>, \
                 udt_list list<frozen<address>>, tuple_col tuple<int, text, boolean>, \
                 vector_col vector<float, 3>, null_col int, PRIMARY KEY (pk, ck))"
            ),
        ]
    })
    .await
}

#[tokio::test]
async fn every_type_round_trips_through_prepared_insert_and_select() {
    for version in [4, 5] {
        every_type_round_trip(version).await;
    }
}

async fn every_type_round_trip(max_version: u8) {
    let Some((_c, session, ks)) = setup_version(max_version).await else {
        return;
    };
    let marks = vec!["?"; 29].join(", ");
    let insert = prepare(
        &session,
        format!("INSERT INTO {ks}.all_types ({COLUMNS}) VALUES ({marks})"),
    )
    .await;
    for ck in 0..3 {
        session.execute(&insert, sample(1, ck)).await.unwrap();
    }
    // `SELECT *` returns the columns in the table's order, not the struct's.
    let select = prepare(
        &session,
        format!("SELECT * FROM {ks}.all_types WHERE pk = ?"),
    )
    .await;
    let result = session.execute(&select, (1i32,)).await.unwrap();
    let rows: Vec<AllTypes> = result
        .rows::<AllTypes>()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, (0..3).map(|ck| sample(1, ck)).collect::<Vec<_>>());

    // A borrowing struct reads a subset of the columns, in its own order.
    let subset = session
        .prepare(
            format!(
                "SELECT null_col, udt_col, set_col, blob_col, ck, text_col FROM {ks}.all_types \
                 WHERE pk = ? AND ck = ?"
            )
            .as_str(),
        )
        .await
        .unwrap();
    let result = session.execute(&subset, (1i32, 2i32)).await.unwrap();
    let b: Borrowed<'_> = result.single_row().unwrap();
    assert_eq!(b.text_col, "row 2 ✓");
    assert_eq!(b.ck, 2);
    assert_eq!(b.blob_col, [0xca, 0xfe, 2]);
    assert_eq!(b.set_col, ["x", "y"]);
    assert_eq!(
        b.udt_col,
        AddressRef {
            street: "Main",
            zip_code: Some(2),
            country: None
        }
    );
    assert_eq!(b.null_col, None);
}

#[tokio::test]
async fn udt_field_unknown_to_the_struct_is_ignored() {
    let Some((_c, session, ks)) = setup().await else {
        return;
    };
    let mut row = sample(2, 0);
    query(
        &session,
        format!(
            "INSERT INTO {ks}.all_types (pk, ck, udt_col) VALUES (2, 0, \
                 {{street: 'Rue', zip_code: 75, country: 'FR'}})"
        ),
    )
    .await;
    #[derive(Debug, DeserializeRow)]
    struct OnlyUdt {
        udt_col: Address,
    }
    let result = query(
        &session,
        format!("SELECT udt_col FROM {ks}.all_types WHERE pk = 2 AND ck = 0"),
    )
    .await;
    row.udt_col = Address {
        street: "Rue".into(),
        zip: Some(75),
    };
    assert_eq!(result.single_row::<OnlyUdt>().unwrap().udt_col, row.udt_col);
}

#[derive(SerializeRow)]
struct ByKey {
    pk: i32,
}

#[tokio::test]
async fn paged_select_into_derived_structs() {
    let Some((_c, session, ks)) = setup().await else {
        return;
    };
    let marks = vec!["?"; 29].join(", ");
    let insert = prepare(
        &session,
        format!("INSERT INTO {ks}.all_types ({COLUMNS}) VALUES ({marks})"),
    )
    .await;
    for ck in 0..120 {
        session.execute(&insert, sample(3, ck)).await.unwrap();
    }
    let select = session
        .prepare(
            Query::new(format!("SELECT * FROM {ks}.all_types WHERE pk = ?")).with_page_size(50),
        )
        .await
        .unwrap();
    let mut stream = session.execute_paged(select, ByKey { pk: 3 });
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(page) = next(&mut stream).await {
        let page = page.unwrap();
        pages += 1;
        for row in page.rows::<AllTypes>().unwrap() {
            seen.push(row.unwrap());
        }
    }
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(seen.len(), 120);
    for (ck, row) in seen.iter().enumerate() {
        assert_eq!(*row, sample(3, ck as i32));
    }
}

#[derive(SerializeRow)]
struct CounterUpdate {
    n: Counter,
    pk: i32,
}

#[derive(Debug, PartialEq, DeserializeRow)]
struct CounterRow {
    pk: i32,
    n: Counter,
}

#[tokio::test]
async fn counters_through_derived_structs() {
    let Some((_c, session, ks)) = setup().await else {
        return;
    };
    query(
        &session,
        format!("CREATE TABLE {ks}.c (pk int PRIMARY KEY, n counter)"),
    )
    .await;
    let update = prepare(
        &session,
        format!("UPDATE {ks}.c SET n = n + ? WHERE pk = ?"),
    )
    .await;
    for delta in [5, -2, 10] {
        session
            .execute(
                &update,
                CounterUpdate {
                    n: Counter(delta),
                    pk: 1,
                },
            )
            .await
            .unwrap();
    }
    let result = query(&session, format!("SELECT n, pk FROM {ks}.c")).await;
    assert_eq!(
        result.single_row::<CounterRow>().unwrap(),
        CounterRow {
            pk: 1,
            n: Counter(13)
        }
    );
}

#[derive(SerializeRow)]
struct Misordered {
    ck: i32,
    pk: i32,
}

#[tokio::test]
async fn value_errors_are_found_before_sending() {
    let Some((_c, session, ks)) = setup().await else {
        return;
    };
    let select = prepare(
        &session,
        format!("SELECT pk FROM {ks}.all_types WHERE pk = ? AND ck = ?"),
    )
    .await;
    let err = session
        .execute(&select, Misordered { ck: 1, pk: 1 })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ExecutionError::Values(SerializeError::FieldOrder {
                rust_type: "Misordered",
                field: "ck",
                index: 0,
                marker_index: 1,
                ..
            })
        ),
        "{err:?}"
    );
    let err = session.execute(&select, ByKey { pk: 1 }).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ExecutionError::Values(SerializeError::NoFieldForMarker { index: 1, .. })
        ),
        "{err:?}"
    );
    // Reading into a struct whose field type does not fit names the field.
    #[derive(Debug, DeserializeRow)]
    #[allow(dead_code)]
    struct Wrong {
        pk: String,
    }
    let result = session.execute(&select, (1i32, 1i32)).await.unwrap();
    let err = result.rows::<Wrong>().unwrap_err();
    assert!(err.to_string().contains("Wrong.pk"), "{err}");
}

/// Sent with names, in another order than the markers.
#[derive(SerializeRow)]
#[scylla2(send_names)]
struct NamedKey<'a> {
    text_col: &'a str,
    ck: i32,
    pk: i32,
}

#[tokio::test]
async fn send_names_binds_by_name_prepared_and_unprepared() {
    let Some((_c, session, ks)) = setup().await else {
        return;
    };
    let insert = prepare(
        &session,
        format!("INSERT INTO {ks}.all_types (pk, ck, text_col) VALUES (?, ?, ?)"),
    )
    .await;
    session
        .execute(
            &insert,
            NamedKey {
                text_col: "prepared",
                ck: 1,
                pk: 4,
            },
        )
        .await
        .unwrap();
    // Unprepared, with named markers: the driver does not know the markers, the names bind.
    session
        .execute(
            format!("INSERT INTO {ks}.all_types (pk, ck, text_col) VALUES (:pk, :ck, :text_col)")
                .as_str(),
            NamedKey {
                text_col: "unprepared",
                ck: 2,
                pk: 4,
            },
        )
        .await
        .unwrap();
    #[derive(Debug, PartialEq, DeserializeRow)]
    struct Text<'a> {
        ck: i32,
        text_col: &'a str,
    }
    let result = query(
        &session,
        format!("SELECT ck, text_col FROM {ks}.all_types WHERE pk = 4"),
    )
    .await;
    let rows: Vec<Text<'_>> = result.rows().unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        rows,
        [
            Text {
                ck: 1,
                text_col: "prepared"
            },
            Text {
                ck: 2,
                text_col: "unprepared"
            }
        ]
    );
}

#[tokio::test]
async fn derived_rows_in_a_batch() {
    let Some((_c, session, ks)) = setup().await else {
        return;
    };
    let marks = vec!["?"; 29].join(", ");
    let insert = prepare(
        &session,
        format!("INSERT INTO {ks}.all_types ({COLUMNS}) VALUES ({marks})"),
    )
    .await;
    let batch = scylla2::Batch::new(scylla2::BatchType::Logged, (&insert, &insert));
    session
        .execute(&batch, (sample(6, 0), sample(6, 1)))
        .await
        .unwrap();
    let result = query(
        &session,
        format!("SELECT * FROM {ks}.all_types WHERE pk = 6"),
    )
    .await;
    let rows: Vec<AllTypes> = result.rows().unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(rows, [sample(6, 0), sample(6, 1)]);
    // A row sent with names cannot go in a batch: refused before sending.
    let named = prepare(
        &session,
        format!("INSERT INTO {ks}.all_types (pk, ck, text_col) VALUES (?, ?, ?)"),
    )
    .await;
    let batch = scylla2::Batch::new(scylla2::BatchType::Logged, (&named,));
    let err = session
        .execute(
            &batch,
            (NamedKey {
                text_col: "x",
                ck: 1,
                pk: 6,
            },),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("named values"), "{err}");
}
