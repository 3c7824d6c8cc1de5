//! Session end to end against the simulator (or `SCYLLA_URI`): DDL, unprepared and prepared
//! statements, borrowed row decoding, paging (single page and stream), batches, typed errors
//! for bad input before sending, server errors, re-prepare on UNPREPARED, keyspace on every
//! connection.

mod common;

use common::{create_keyspace, next, prepare, query};
use scylla2::error::{ExecutionError, KeyspaceNameError, RowsError, SessionError};
use scylla2::{
    Batch, BatchEntry, BatchType, PagingStateResponse, PreparedStatement, Query, Session,
};
use scylla2_cql::response::DbError;
use scylla2_cql::value::SerializeError;

async fn setup(max_version: u8) -> Option<(common::TestCluster, Session, String)> {
    common::keyspace_session(max_version, "s", |ks| {
        vec![format!(
            "CREATE TABLE {ks}.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))"
        )]
    })
    .await
}

/// Column `v` of row (`pk`, `ck`) of `{ks}.t`, read by an unprepared SELECT (whose result
/// carries its own metadata).
async fn v_at(session: &Session, ks: &str, pk: i32, ck: i32) -> String {
    let r = query(
        session,
        format!("SELECT v FROM {ks}.t WHERE pk = {pk} AND ck = {ck}"),
    )
    .await;
    r.single_row::<(&str,)>().unwrap().0.to_owned()
}

/// The error of connecting to `uri` with `keyspace` as the session's keyspace.
async fn connect_error(uri: &str, keyspace: &str) -> SessionError {
    Session::builder()
        .contact_point(uri)
        .keyspace(keyspace)
        .connect()
        .await
        .unwrap_err()
}

/// Prepares the three-column insert into the test table `{ks}.t`.
async fn prepare_insert(session: &Session, ks: &str) -> PreparedStatement {
    prepare(
        session,
        format!("INSERT INTO {ks}.t (pk, ck, v) VALUES (?, ?, ?)"),
    )
    .await
}

#[tokio::test]
async fn query_prepare_and_borrowed_rows_v4_and_v5() {
    for version in [4, 5] {
        let Some((_c, session, ks)) = setup(version).await else {
            return;
        };
        let insert = format!("INSERT INTO {ks}.t (pk, ck, v) VALUES (?, ?, ?)");
        // Unprepared with values.
        let r = session
            .execute(insert.as_str(), (1i32, 1i32, "one"))
            .await
            .unwrap();
        assert!(r.is_void());
        // Prepared.
        let prepared = session.prepare(insert.as_str()).await.unwrap();
        assert_eq!(prepared.bind_markers().len(), 3);
        assert_eq!(prepared.pk_indexes(), &[0]);
        for ck in 2..=5i32 {
            session
                .execute(&prepared, (1i32, ck, format!("v{ck}")))
                .await
                .unwrap();
        }
        let select = prepare(&session, format!("SELECT ck, v FROM {ks}.t WHERE pk = ?")).await;
        let result = session.execute(&select, (1i32,)).await.unwrap();
        let rows: Vec<(i32, &str)> = result.rows().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(
            rows,
            [(1, "one"), (2, "v2"), (3, "v3"), (4, "v4"), (5, "v5")]
        );
        assert_eq!(result.first_row::<(i32, &str)>().unwrap(), (1, "one"));
        assert!(matches!(
            result.single_row::<(i32, &str)>(),
            Err(RowsError::MoreThanOneRow(5))
        ));
        // A type mismatch is found once, before any row is read.
        assert!(matches!(
            result.rows::<(&str, i32)>(),
            Err(RowsError::Deserialize(_))
        ));
        // No rows.
        let empty = session.execute(&select, (42i32,)).await.unwrap();
        assert!(matches!(
            empty.first_row::<(i32, &str)>(),
            Err(RowsError::NoRows)
        ));
        assert_eq!(empty.maybe_first_row::<(i32, &str)>().unwrap(), None);
        // Results without rows.
        let void = session.execute(&prepared, (9i32, 9i32, "x")).await.unwrap();
        assert!(matches!(void.rows::<(i32,)>(), Err(RowsError::NotRows(_))));
        // Unprepared select carries its own metadata.
        assert_eq!(v_at(&session, &ks, 1, 3).await, "v3");
    }
}

#[tokio::test]
async fn bad_input_is_a_typed_error_before_sending() {
    let Some((c, session, ks)) = setup(5).await else {
        return;
    };
    let prepared = prepare_insert(&session, &ks).await;
    let err = session.execute(&prepared, (1i32, 2i32)).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ExecutionError::Values(SerializeError::WrongValueCount {
                expected: 3,
                given: 2
            })
        ),
        "{err:?}"
    );
    let err = session
        .execute(&prepared, ("not an int", 2i32, "v"))
        .await
        .unwrap_err();
    assert!(matches!(err.kind(), ExecutionError::Values(_)), "{err:?}");
    // Keyspace names are checked locally.
    let err = session.use_keyspace("bad-name").await.unwrap_err();
    assert!(
        matches!(
            err,
            ExecutionError::KeyspaceName(KeyspaceNameError::InvalidCharacter {
                character: '-',
                ..
            })
        ),
        "{err:?}"
    );
    let err = connect_error(&c.uri, "x; DROP KEYSPACE y").await;
    assert!(matches!(err, SessionError::KeyspaceName(_)), "{err:?}");
    // An unknown keyspace is the server's error, typed.
    let err = connect_error(&c.uri, "no_such_keyspace_here").await;
    assert!(
        matches!(err, SessionError::UseKeyspace(ExecutionError::Db { .. })),
        "{err:?}"
    );
    // Batch statements vs values.
    let batch = Batch::new(
        BatchType::Logged,
        vec![
            BatchEntry::from(prepared.clone()),
            BatchEntry::from(prepared.clone()),
        ],
    );
    let err = session
        .execute(&batch, vec![(1i32, 1i32, "a")])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ExecutionError::BatchValuesMismatch {
                statements: 2,
                values: 1
            }
        ),
        "{err:?}"
    );
    // A request larger than the frame limit.
    let mut config = scylla2::connection::ConnectionConfig::default();
    config.max_frame_size = 64 * 1024;
    let small = Session::builder()
        .contact_point(c.uri.clone())
        .connection_config(config)
        .connect()
        .await
        .unwrap();
    let big = "x".repeat(100_000);
    let err = small
        .execute(&prepared, (1i32, 1i32, big.as_str()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ExecutionError::Connection(scylla2::error::ConnectionError::FrameTooLarge { .. })
        ),
        "{err:?}"
    );
    // The message names the value that made it too large and the setting that raises it.
    let text = err.to_string();
    assert!(
        text.contains("\"v\" (100004 bytes)") && text.contains("max_frame_size"),
        "{text}"
    );
    // The session still works.
    small.execute(&prepared, (1i32, 1i32, "ok")).await.unwrap();
}

#[tokio::test]
async fn server_errors_keep_their_fields() {
    let Some((_c, session, ks)) = setup(5).await else {
        return;
    };
    let err = session.execute("SELEC nonsense", ()).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ExecutionError::Db {
                error: DbError::SyntaxError,
                ..
            }
        ),
        "{err:?}"
    );
    let err = session
        .execute(format!("SELECT * FROM {ks}.missing").as_str(), ())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ExecutionError::Db {
                error: DbError::Invalid,
                ..
            }
        ),
        "{err:?}"
    );
    let err = session
        .execute(
            create_keyspace(&ks).replace(" IF NOT EXISTS", "").as_str(),
            (),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ExecutionError::Db {
                error: DbError::AlreadyExists { .. },
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn paging_single_page_and_stream() {
    let Some((_c, session, ks)) = setup(5).await else {
        return;
    };
    let insert = prepare_insert(&session, &ks).await;
    for ck in 0..250i32 {
        session.execute(&insert, (7i32, ck, "p")).await.unwrap();
    }
    let select = session
        .prepare(Query::new(format!("SELECT ck FROM {ks}.t WHERE pk = ?")).with_page_size(100))
        .await
        .unwrap();
    let mut state = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (page, paging) = session
            .execute_single_page(&select, (7i32,), state)
            .await
            .unwrap();
        pages += 1;
        for row in page.rows::<(i32,)>().unwrap() {
            seen.push(row.unwrap().0);
        }
        match paging {
            PagingStateResponse::HasMorePages { state: s } => state = Some(s),
            PagingStateResponse::NoMorePages => break,
            _ => unreachable!(),
        }
    }
    assert!(pages >= 3);
    assert_eq!(seen, (0..250).collect::<Vec<_>>());

    let mut stream = session.execute_paged(select.clone(), (7i32,));
    let mut streamed = Vec::new();
    while let Some(page) = next(&mut stream).await {
        let page = page.unwrap();
        streamed.extend(page.rows::<(i32,)>().unwrap().map(|r| r.unwrap().0));
    }
    assert_eq!(streamed, seen);
}

#[tokio::test]
async fn typed_and_dynamic_batches() {
    let Some((_c, session, ks)) = setup(5).await else {
        return;
    };
    let insert = prepare_insert(&session, &ks).await;
    let text = format!("INSERT INTO {ks}.t (pk, ck, v) VALUES (?, ?, 'q')");
    let typed = Batch::new(BatchType::Logged, (&insert, text.as_str(), &insert));
    session
        .execute(&typed, ((3i32, 1i32, "a"), (3i32, 2i32), (3i32, 3i32, "c")))
        .await
        .unwrap();
    let dynamic = Batch::new(
        BatchType::Unlogged,
        vec![
            BatchEntry::from(insert.clone()),
            BatchEntry::from(insert.clone()),
        ],
    );
    session
        .execute(&dynamic, vec![(3i32, 4i32, "d"), (3i32, 5i32, "e")])
        .await
        .unwrap();
    // Dynamic, with value rows of different shapes.
    let mixed = Batch::new(
        BatchType::Logged,
        vec![
            BatchEntry::from(insert.clone()),
            BatchEntry::from(Query::new(text.clone())),
        ],
    );
    let rows: Vec<&(dyn scylla2_cql::value::SerializeRow + Sync)> =
        vec![&(3i32, 6i32, "f"), &(3i32, 7i32)];
    session.execute(&mixed, rows).await.unwrap();
    let r = query(&session, format!("SELECT ck, v FROM {ks}.t WHERE pk = 3")).await;
    let rows: Vec<(i32, &str)> = r.rows().unwrap().map(Result::unwrap).collect();
    assert_eq!(
        rows,
        [
            (1, "a"),
            (2, "q"),
            (3, "c"),
            (4, "d"),
            (5, "e"),
            (6, "f"),
            (7, "q")
        ]
    );
}

#[tokio::test]
async fn reprepares_once_on_unprepared() {
    let Some((c, session, ks)) = setup(5).await else {
        return;
    };
    let Some(sim) = &c.sim else {
        return; // needs fault injection
    };
    let insert = prepare_insert(&session, &ks).await;
    sim.inject(
        scylla2_sim::FaultRule::error(scylla2_sim::SimError::Unprepared {
            id: insert.id().clone(),
        })
        .kind(scylla2_sim::RequestKind::Execute)
        .times(1),
    );
    session.execute(&insert, (5i32, 1i32, "x")).await.unwrap();
    assert_eq!(v_at(&session, &ks, 5, 1).await, "x");
}

#[tokio::test]
async fn keyspace_applies_to_every_connection() {
    let Some((c, session, ks)) = setup(4).await else {
        return;
    };
    let ks_session = Session::builder()
        .contact_point(c.uri.clone())
        .keyspace(ks.clone())
        .connections_per_node(3)
        .connect()
        .await
        .unwrap();
    assert_eq!(ks_session.open_connections(), 3);
    for i in 0..12i32 {
        ks_session
            .execute("INSERT INTO t (pk, ck, v) VALUES (?, ?, 'k')", (8i32, i))
            .await
            .unwrap();
    }
    let r = query(&session, format!("SELECT ck FROM {ks}.t WHERE pk = 8")).await;
    assert_eq!(r.rows_num(), 12);
    // use_keyspace switches the existing connections too.
    let other = Session::builder()
        .contact_point(c.uri.clone())
        .connections_per_node(2)
        .connect()
        .await
        .unwrap();
    other.use_keyspace(&ks).await.unwrap();
    for _ in 0..4 {
        other
            .execute("SELECT ck FROM t WHERE pk = 8", ())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn v5_result_metadata_id_is_refreshed_when_the_table_changes() {
    let Some((_c, session, ks)) = setup(5).await else {
        return;
    };
    query(
        &session,
        format!("CREATE TABLE {ks}.m (pk int PRIMARY KEY, a int)"),
    )
    .await;
    query(
        &session,
        format!("INSERT INTO {ks}.m (pk, a) VALUES (1, 10)"),
    )
    .await;
    let select = prepare(&session, format!("SELECT * FROM {ks}.m WHERE pk = ?")).await;
    let before = select.result_columns();
    assert_eq!(before.columns.len(), 2);
    assert!(before.metadata_id.is_some());
    let r = session.execute(&select, (1i32,)).await.unwrap();
    assert_eq!(r.single_row::<(i32, i32)>().unwrap(), (1, 10));

    query(&session, format!("ALTER TABLE {ks}.m ADD b text")).await;
    query(
        &session,
        format!("UPDATE {ks}.m SET b = 'new' WHERE pk = 1"),
    )
    .await;
    // The server answers with Metadata_changed: the rows carry the new columns and the
    // statement now holds the new metadata id.
    let r = session.execute(&select, (1i32,)).await.unwrap();
    assert_eq!(r.single_row::<(i32, i32, &str)>().unwrap(), (1, 10, "new"));
    let after = select.result_columns();
    assert_eq!(after.columns.len(), 3);
    assert_ne!(after.metadata_id, before.metadata_id);
    // Later executions send the new id and decode rows sent without metadata.
    let r = session.execute(&select, (1i32,)).await.unwrap();
    assert!(
        r.raw_rows().unwrap().columns().is_none(),
        "rows came without metadata"
    );
    assert_eq!(r.single_row::<(i32, i32, &str)>().unwrap(), (1, 10, "new"));
}

#[tokio::test]
async fn statement_options_reach_the_server() {
    let Some((_c, session, ks)) = setup(5).await else {
        return;
    };
    let insert = prepare_insert(&session, &ks)
        .await
        .with_consistency(scylla2::Consistency::One)
        .with_timestamp(1_000)
        .with_idempotent(true);
    session.execute(&insert, (11i32, 1i32, "a")).await.unwrap();
    // A custom payload and the tracing flag are framed so that the server reads the
    // statement behind them.
    let q = Query::new(format!("SELECT v FROM {ks}.t WHERE pk = 11"))
        .with_tracing(true)
        .with_custom_payload(vec![("key".into(), b"value".to_vec())])
        .with_consistency(scylla2::Consistency::LocalOne)
        .with_timeout(std::time::Duration::from_secs(5));
    let r = session.execute(&q, ()).await.unwrap();
    assert_eq!(r.single_row::<(&str,)>().unwrap(), ("a",));
    // An older timestamp loses against the first write.
    let stale = Query::new(format!(
        "UPDATE {ks}.t SET v = 'stale' WHERE pk = 11 AND ck = 1"
    ))
    .with_timestamp(10);
    session.execute(&stale, ()).await.unwrap();
    let r = session.execute(&q, ()).await.unwrap();
    assert_eq!(r.single_row::<(&str,)>().unwrap(), ("a",));
}

#[tokio::test]
async fn values_larger_than_a_segment_round_trip() {
    for version in [4, 5] {
        let Some((_c, session, ks)) = setup(version).await else {
            return;
        };
        let insert = prepare_insert(&session, &ks).await;
        // Larger than a write-queue buffer and than a v5 segment's 128 KiB payload: the
        // request goes through the large-frame path (several non-self-contained segments on
        // v5) and the response is reassembled.
        let big: String = (0..400_000)
            .map(|i| (b'a' + (i % 26) as u8) as char)
            .collect();
        session
            .execute(&insert, (20i32, 1i32, big.as_str()))
            .await
            .unwrap();
        let r = query(&session, format!("SELECT v FROM {ks}.t WHERE pk = 20")).await;
        assert_eq!(r.single_row::<(&str,)>().unwrap().0, big);
    }
}
