//! Schema metadata (`SessionBuilder::schema_metadata(true)`, `Session::schema`) against the
//! simulator (or `SCYLLA_URI`): a keyspace, a UDT and a table created by the session are in
//! the snapshot when the statements return, with each column's type, kind, position and
//! clustering order; a column added by ANOTHER session arrives through the pushed
//! SCHEMA_CHANGE event (announced as `SessionEvent::SchemaRefreshed`); dropped objects
//! disappear; a session without the flag keeps no snapshot.

mod common;

use scylla2::Session;
use scylla2::events::SessionEvent;
use scylla2::topology::{ClusteringOrder, ColumnKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_follows_the_schema() {
    let c = common::cluster(5).await;
    if !common::engine_available(&c.uri).await {
        return;
    }
    let session = Session::builder()
        .contact_point(c.uri.clone())
        .schema_metadata(true)
        .connect()
        .await
        .unwrap();
    let other = Session::builder()
        .contact_point(c.uri.clone())
        .connect()
        .await
        .unwrap();
    assert!(other.schema().is_none(), "off by default");
    let initial = session.schema().expect("read at connect");
    assert!(initial.keyspace("system_schema").is_some());

    let ks = common::keyspace("schema_md");
    common::run_all(
        &session,
        &[
            common::create_keyspace(&ks),
            format!("CREATE TYPE {ks}.addr (street text, zip int)"),
            format!(
                "CREATE TABLE {ks}.t (a int, b text, c timestamp, s int STATIC, \
                 v list<frozen<addr>>, PRIMARY KEY ((a, b), c)) \
                 WITH CLUSTERING ORDER BY (c DESC)"
            ),
        ],
    )
    .await;
    let schema = session.schema().unwrap();
    let keyspace = schema.keyspace(&ks).expect("keyspace");
    assert_eq!(
        keyspace
            .replication
            .get("replication_factor")
            .map(String::as_str),
        Some("1")
    );
    let addr = schema.user_type(&ks, "addr").expect("udt");
    assert_eq!(
        addr.fields,
        [
            ("street".to_owned(), "text".to_owned()),
            ("zip".to_owned(), "int".to_owned())
        ]
    );
    let t = schema.table(&ks, "t").expect("table");
    let columns: Vec<(&str, &str, ColumnKind, u32, ClusteringOrder)> = t
        .columns
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.cql_type.as_str(),
                c.kind,
                c.position,
                c.clustering_order,
            )
        })
        .collect();
    assert_eq!(
        columns,
        [
            (
                "a",
                "int",
                ColumnKind::PartitionKey,
                0,
                ClusteringOrder::None
            ),
            (
                "b",
                "text",
                ColumnKind::PartitionKey,
                1,
                ClusteringOrder::None
            ),
            (
                "c",
                "timestamp",
                ColumnKind::Clustering,
                0,
                ClusteringOrder::Desc
            ),
            ("s", "int", ColumnKind::Static, 0, ClusteringOrder::None),
            (
                "v",
                "list<frozen<addr>>",
                ColumnKind::Regular,
                0,
                ClusteringOrder::None
            ),
        ]
    );
    assert_eq!(t.partition_key().count(), 2);
    assert_eq!(t.clustering_key().count(), 1);

    // Changed by another session: the pushed event triggers the refresh.
    let mut events = session.session_events();
    common::query(&other, format!("ALTER TABLE {ks}.t ADD w int")).await;
    common::await_event(&mut events, 10, "schema refreshed after ALTER", |e| {
        matches!(e, SessionEvent::SchemaRefreshed { .. }).then_some(())
    })
    .await;
    let schema = session.schema().unwrap();
    let w = schema.table(&ks, "t").and_then(|t| t.column("w"));
    assert_eq!(
        w.map(|w| (w.cql_type.as_str(), w.kind)),
        Some(("int", ColumnKind::Regular))
    );

    // Dropped: gone.
    common::run_all(
        &session,
        &[format!("DROP TABLE {ks}.t"), format!("DROP TYPE {ks}.addr")],
    )
    .await;
    let schema = session.schema().unwrap();
    assert!(schema.table(&ks, "t").is_none());
    assert!(schema.user_type(&ks, "addr").is_none());
    common::query(&session, format!("DROP KEYSPACE {ks}")).await;
    assert!(session.schema().unwrap().keyspace(&ks).is_none());
    // The first snapshot is unchanged: readers hold a consistent picture.
    assert!(initial.keyspace(&ks).is_none());
}
