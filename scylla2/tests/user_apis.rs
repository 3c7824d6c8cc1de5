//! The small APIs users reach for, against the simulator (or `SCYLLA_URI`): LWT `applied()`,
//! columns by name (`RowView`, `column_index`), `CqlValue` accessors on dynamic rows, the
//! negotiated protocol version, a one-shot schema agreement check, and the hint a NULL read
//! into a non-`Option` type gives.

mod common;

use scylla2::{CqlValue, Row, RowView, error::RowsError};

async fn setup(max_version: u8) -> Option<(common::TestCluster, scylla2::Session, String)> {
    common::keyspace_session(max_version, "ua", |ks| {
        vec![format!(
            "CREATE TABLE {ks}.users (id int PRIMARY KEY, name text, age int, tags list<text>)"
        )]
    })
    .await
}

#[tokio::test]
async fn lwt_applied_whatever_the_other_columns() {
    let Some((_c, session, ks)) = setup(5).await else {
        return;
    };
    let insert = format!("INSERT INTO {ks}.users (id, name) VALUES (1, 'ann') IF NOT EXISTS");
    let first = session.execute(insert.as_str(), ()).await.unwrap();
    assert!(first.applied().unwrap());
    // Not applied: the server adds the existing row's columns after `[applied]`.
    let again = session.execute(insert.as_str(), ()).await.unwrap();
    assert!(!again.applied().unwrap());
    let existing = again.first_row::<RowView>().unwrap();
    assert_eq!(existing.get_by_name::<&str>("name").unwrap(), "ann");
    let update = format!("UPDATE {ks}.users SET name = 'bob' WHERE id = 1 IF name = 'zed'");
    let cond = session.execute(update.as_str(), ()).await.unwrap();
    assert!(!cond.applied().unwrap());
    // A result without `[applied]` is an error naming the column, not `false`.
    let plain = common::query(&session, format!("SELECT name FROM {ks}.users")).await;
    let err = plain.applied().unwrap_err();
    assert!(err.to_string().contains("[applied]"), "{err}");
}

#[tokio::test]
async fn columns_by_name_and_dynamic_values() {
    let Some((_c, session, ks)) = setup(4).await else {
        return;
    };
    common::query(
        &session,
        format!("INSERT INTO {ks}.users (id, name, tags) VALUES (2, 'cy', ['a', 'b'])"),
    )
    .await;
    let result = common::query(
        &session,
        format!("SELECT id, name, age, tags FROM {ks}.users WHERE id = 2"),
    )
    .await;
    assert_eq!(result.column_index("age"), Some(2));
    assert_eq!(result.column_index("nope"), None);

    let row = result.single_row::<RowView>().unwrap();
    assert_eq!(row.get_by_name::<i32>("id").unwrap(), 2);
    assert_eq!(row.get_by_name::<&str>("name").unwrap(), "cy");
    assert_eq!(row.get_by_name::<Option<i32>>("age").unwrap(), None);
    assert_eq!(row.get_by_name::<Vec<&str>>("tags").unwrap(), ["a", "b"]);
    let missing = row.get_by_name::<i32>("nope").unwrap_err();
    assert_eq!(missing.to_string(), "the result has no column \"nope\"");
    // A NULL read into a type that cannot hold it says what to read instead.
    let null = row.get_by_name::<i32>("age").unwrap_err().to_string();
    assert!(
        null.contains("Option<i32>") && null.contains("age"),
        "{null}"
    );
    let wrong = row.get_by_name::<i64>("id").unwrap_err().to_string();
    assert!(wrong.contains("id") && wrong.contains("int"), "{wrong}");

    let dynamic = result.single_row::<Row>().unwrap();
    let cols = &dynamic.columns;
    assert_eq!(cols[0].as_ref().and_then(CqlValue::as_int), Some(2));
    assert_eq!(cols[1].as_ref().and_then(CqlValue::as_text), Some("cy"));
    assert!(cols[2].is_none());
    let tags = cols[3].as_ref().and_then(CqlValue::as_list).unwrap();
    assert_eq!(tags[1].as_text(), Some("b"));

    // The same NULL through a tuple row.
    let err = result
        .single_row::<(i32, &str, i32, Vec<&str>)>()
        .unwrap_err();
    assert!(matches!(err, RowsError::Deserialize(_)), "{err:?}");
    assert!(err.to_string().contains("Option<i32>"), "{err}");
}

#[tokio::test]
async fn protocol_version_and_schema_agreement() {
    for (max, expected) in [
        (4, scylla2::ProtocolVersion::V4),
        (5, scylla2::ProtocolVersion::V5),
    ] {
        let Some((c, session, ks)) = setup(max).await else {
            return;
        };
        if c.is_sim() {
            assert_eq!(session.protocol_version(), Some(expected));
        }
        common::query(
            &session,
            format!("CREATE TABLE {ks}.more (k int PRIMARY KEY)"),
        )
        .await;
        let agreed = session.check_schema_agreement().await.unwrap();
        assert!(agreed.is_some(), "one node agrees with itself");
    }
}
