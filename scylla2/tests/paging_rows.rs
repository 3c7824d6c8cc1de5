//! Results larger than a page, against the simulator (or `SCYLLA_URI`): `execute` returns
//! the whole result whatever the page sizes say; the row streams read every row across pages
//! (borrowed, and owned through `Stream`), including when the data ends exactly at a page
//! boundary.

mod common;

use std::future::poll_fn;
use std::pin::Pin;

use common::{next, prepare, query};
use futures_core::Stream;
use scylla2::{
    Query, Session,
    error::{RowStreamError, RowsError},
};

const ROWS: i32 = 6_000;

async fn setup(max_version: u8) -> Option<(common::TestCluster, Session, String)> {
    let c = common::cluster(max_version).await;
    if !common::engine_available(&c.uri).await {
        return None;
    }
    // A small session-wide page size: `execute` must ignore it.
    let session = Session::builder()
        .contact_point(c.uri.clone())
        .default_page_size(100)
        .connect()
        .await
        .unwrap();
    let ks = common::keyspace("pr");
    common::run_all(
        &session,
        &[
            common::create_keyspace(&ks),
            format!("CREATE TABLE {ks}.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))"),
        ],
    )
    .await;
    let insert = prepare(
        &session,
        format!("INSERT INTO {ks}.t (pk, ck, v) VALUES (?, ?, ?)"),
    )
    .await;
    for ck in 0..ROWS {
        let v = format!("v{ck}");
        session
            .execute(&insert, (1i32, ck, v.as_str()))
            .await
            .unwrap();
    }
    // 200 rows in another partition: exactly two pages of 100.
    for ck in 0..200 {
        session.execute(&insert, (2i32, ck, "b")).await.unwrap();
    }
    Some((c, session, ks))
}

#[tokio::test]
async fn execute_returns_every_row_and_row_streams_cross_pages() {
    for version in [4, 5] {
        let Some((_c, session, ks)) = setup(version).await else {
            return;
        };
        let text = format!("SELECT ck, v FROM {ks}.t WHERE pk = ?");

        // `execute` is never paged: not by the session's default (100), not by the
        // statement's own page size, prepared or not (the driver used to return the first
        // 5 000 rows of these 6 000 as if they were all).
        let unprepared = Query::new(text.as_str()).with_page_size(10);
        let prepared = prepare(&session, text.as_str()).await;
        for result in [
            session.execute(&unprepared, (1i32,)).await.unwrap(),
            session.execute(&prepared, (1i32,)).await.unwrap(),
            query(&session, format!("SELECT ck FROM {ks}.t WHERE pk = 1")).await,
        ] {
            assert_eq!(result.rows_num(), ROWS as usize, "v{version}");
            assert!(result.paging_state().finished());
        }

        // The lending stream: rows borrowed from their pages, 100 per page.
        let mut rows = session.execute_paged(prepared.clone(), (1i32,)).rows();
        let mut seen = 0;
        while let Some(row) = rows.next_row::<(i32, &str)>().await {
            let (ck, v) = row.unwrap();
            assert_eq!(ck, seen);
            assert_eq!(v, format!("v{ck}"));
            seen += 1;
            assert!(rows.current_page().unwrap().rows_num() <= 100);
        }
        assert_eq!(seen, ROWS, "v{version}");

        // Owned rows through `Stream`.
        let mut owned = session
            .execute_paged(prepared.clone(), (1i32,))
            .rows_stream::<(i32, String)>();
        let mut cks = Vec::new();
        while let Some(row) = poll_fn(|cx| Pin::new(&mut owned).poll_next(cx)).await {
            let (ck, v) = row.unwrap();
            assert_eq!(v, format!("v{ck}"));
            cks.push(ck);
        }
        assert_eq!(cks, (0..ROWS).collect::<Vec<_>>());

        // Pages by hand: 60 of 100 rows (a page boundary at the very end of the data).
        let mut stream = session.execute_paged(prepared.clone(), (1i32,));
        let mut sizes = Vec::new();
        while let Some(page) = stream.next_page().await {
            sizes.push(page.unwrap().rows_num());
        }
        let full: Vec<usize> = sizes.iter().copied().filter(|n| *n > 0).collect();
        assert_eq!(full, vec![100; 60], "v{version}: {sizes:?}");
        // A real server answers the last full page with "more pages" and then an empty
        // page; either way no rows are lost or repeated.
        assert!(sizes.len() == 60 || sizes == [vec![100; 60], vec![0]].concat());

        // Exactly two pages in partition 2, through both row streams.
        let mut rows = session.execute_paged(prepared.clone(), (2i32,)).rows();
        let mut n = 0;
        while let Some(row) = rows.next_row::<(i32, &str)>().await {
            assert_eq!(row.unwrap(), (n, "b"));
            n += 1;
        }
        assert_eq!(n, 200);
        let mut owned = session
            .execute_paged(prepared.clone(), (2i32,))
            .rows_stream::<(i32, String)>();
        let mut m = 0;
        while let Some(row) = next(&mut owned).await {
            row.unwrap();
            m += 1;
        }
        assert_eq!(m, 200);
    }
}

#[tokio::test]
async fn row_streams_report_a_type_mismatch_and_go_on() {
    let Some((_c, session, ks)) = setup(5).await else {
        return;
    };
    let select = prepare(&session, format!("SELECT ck, v FROM {ks}.t WHERE pk = ?")).await;
    // `v` is text, not an int: every row is an error naming the problem, none a panic.
    let mut rows = session.execute_paged(select.clone(), (2i32,)).rows();
    let mut errors = 0;
    while let Some(row) = rows.next_row::<(i32, i32)>().await {
        match row {
            Err(RowStreamError::Rows(RowsError::Deserialize(e))) => {
                assert!(e.to_string().contains("int"), "{e}");
                errors += 1;
            }
            other => panic!("expected a type error, got {other:?}"),
        }
    }
    assert_eq!(errors, 200);
    // The owned stream checks once per page and skips the unreadable page.
    let mut owned = session
        .execute_paged(select, (2i32,))
        .rows_stream::<(i32, i32)>();
    let mut page_errors = 0;
    while let Some(row) = next(&mut owned).await {
        assert!(row.is_err());
        page_errors += 1;
    }
    assert_eq!(page_errors, 2, "one error per page of 100");
}
