//! Paging when the data ends exactly with a page: real servers still say "more pages" (their
//! pagers call a page exhausted only when it comes back short) and answer the next request
//! with an empty last page. Single-page execution and the page stream must both end there,
//! with every row once.

mod common;

use common::{next, prepare};
use scylla2::{PagingStateResponse, Query};

#[tokio::test]
async fn a_full_last_page_is_followed_by_an_empty_one() {
    let Some((c, session, ks)) = common::keyspace_session(5, "pb", |ks| {
        vec![format!(
            "CREATE TABLE {ks}.t (pk int, ck int, PRIMARY KEY (pk, ck))"
        )]
    })
    .await
    else {
        return;
    };
    let insert = prepare(
        &session,
        format!("INSERT INTO {ks}.t (pk, ck) VALUES (?, ?)"),
    )
    .await;
    for ck in 0..20i32 {
        session.execute(&insert, (1i32, ck)).await.unwrap();
    }
    let select = session
        .prepare(Query::new(format!("SELECT ck FROM {ks}.t WHERE pk = ?")).with_page_size(10))
        .await
        .unwrap();
    let mut state = None;
    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    loop {
        let (page, paging) = session
            .execute_single_page(&select, (1i32,), state)
            .await
            .unwrap();
        let rows: Vec<i32> = page
            .rows::<(i32,)>()
            .unwrap()
            .map(|r| r.unwrap().0)
            .collect();
        sizes.push(rows.len());
        seen.extend(rows);
        match paging {
            PagingStateResponse::HasMorePages { state: s } => state = Some(s),
            PagingStateResponse::NoMorePages => break,
            _ => unreachable!(),
        }
        assert!(sizes.len() < 10, "paging never ends");
    }
    assert_eq!(seen, (0..20).collect::<Vec<_>>());
    if c.is_sim() {
        assert_eq!(sizes, [10, 10, 0], "the server's empty last page");
    }

    let mut stream = session.execute_paged(select.clone(), (1i32,));
    let mut streamed = Vec::new();
    let mut pages = 0;
    while let Some(page) = next(&mut stream).await {
        pages += 1;
        let page = page.unwrap();
        streamed.extend(page.rows::<(i32,)>().unwrap().map(|r| r.unwrap().0));
    }
    assert_eq!(streamed, seen);
    assert!(pages <= 3, "{pages} pages");
}
