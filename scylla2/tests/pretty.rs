//! `QueryResult::pretty` against the simulator (or `SCYLLA_URI`): a page with numbers, text,
//! booleans, blobs, a collection, a UDT and NULLs prints as cqlsh prints it.

mod common;

#[tokio::test]
async fn a_page_prints_as_cqlsh_prints_it() {
    let Some((_c, session, ks)) = common::keyspace_session(5, "pretty", |ks| {
        vec![
            format!("CREATE TYPE {ks}.addr (street text, zip int)"),
            format!(
                "CREATE TABLE {ks}.t (id int PRIMARY KEY, name text, ok boolean, data blob, \
                 tags list<text>, home frozen<addr>, score double)"
            ),
        ]
    })
    .await
    else {
        return;
    };
    common::run_all(
        &session,
        &[
            format!(
                "INSERT INTO {ks}.t (id, name, ok, data, tags, home, score) VALUES \
                 (1, 'one', true, 0xcafe, ['a', 'b''c'], {{street: 'Main', zip: 7}}, 1.5)"
            ),
            format!("INSERT INTO {ks}.t (id, name) VALUES (22, 'twenty-two')"),
        ],
    )
    .await;
    let page = common::query(
        &session,
        format!("SELECT id, name, ok, data, tags, home, score FROM {ks}.t WHERE id IN (1, 22)"),
    )
    .await;
    let table = page.pretty().expect("a rows result");
    assert_eq!(table.rows_count(), 2);
    let expected = concat!(
        " id | name       | ok   | data   | tags          | home                     | score\n",
        "----+------------+------+--------+---------------+--------------------------+-------\n",
        "  1 |        one | True | 0xcafe | ['a', 'b''c'] | {street: 'Main', zip: 7} |   1.5\n",
        " 22 | twenty-two | null |   null |          null |                     null |  null\n",
        "\n",
        "(2 rows)\n",
    );
    assert_eq!(table.to_string(), expected);
    // Not a Rows result: a typed error.
    let void = common::query(&session, format!("INSERT INTO {ks}.t (id) VALUES (3)")).await;
    assert!(matches!(
        void.pretty(),
        Err(scylla2::error::RowsError::NotRows(_))
    ));
}
