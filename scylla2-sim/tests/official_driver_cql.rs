//! CQL that Apache Cassandra 4.0 accepts, sent by the official Rust driver (`scylla` crate)
//! through prepared statements: INSERT JSON with a bound document, GROUP BY with aggregates,
//! SELECT JSON with CAST and arithmetic on a type-hinted marker, and IN with ORDER BY — merged
//! across partitions when unpaged, refused when paged (as Cassandra's `SelectStatement`
//! refuses it). Proves the result metadata and the rows agree for a real driver.

use std::net::Ipv4Addr;

use scylla::client::session_builder::SessionBuilder;
use scylla::response::PagingState;
use scylla2_sim::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_driver_uses_json_group_by_cast_arithmetic_and_in_order_by() {
    let c = Cluster::builder()
        .nodes(1)
        .port(0)
        .shard_aware_port(0)
        .base_ip(Ipv4Addr::new(127, 0, 57, 1))
        .start()
        .await
        .unwrap();
    let s = SessionBuilder::new()
        .known_node_addr(c.contact_points()[0])
        .build()
        .await
        .expect("scylla driver connects");
    s.query_unpaged(
        "CREATE KEYSPACE cq WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        (),
    )
    .await
    .unwrap();
    s.query_unpaged(
        "CREATE TABLE cq.t (p int, c int, v int, PRIMARY KEY (p, c))",
        (),
    )
    .await
    .unwrap();
    s.await_schema_agreement().await.unwrap();

    let ins = s.prepare("INSERT INTO cq.t JSON ?").await.unwrap();
    for (p, ck, v) in [(1, 1, 10), (1, 4, 40), (2, 2, 20), (2, 3, 30)] {
        let doc = format!(r#"{{"p": {p}, "c": {ck}, "v": {v}}}"#);
        s.execute_unpaged(&ins, (doc,)).await.unwrap();
    }

    let grouped = s
        .prepare("SELECT p, count(*), sum(v) FROM cq.t WHERE p IN (1, 2) GROUP BY p")
        .await
        .unwrap();
    let mut rows: Vec<(i32, i64, i32)> = s
        .execute_unpaged(&grouped, ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows::<(i32, i64, i32)>()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.sort();
    assert_eq!(rows, [(1, 2, 50), (2, 2, 50)]);

    let json = s
        .prepare("SELECT JSON c, cast(v as text) AS t, v * (int)? AS w FROM cq.t WHERE p = ?")
        .await
        .unwrap();
    let rows: Vec<(String,)> = s
        .execute_unpaged(&json, (2i32, 1i32))
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows::<(String,)>()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            (r#"{"c": 1, "t": "10", "w": 20}"#.to_string(),),
            (r#"{"c": 4, "t": "40", "w": 80}"#.to_string(),)
        ]
    );

    let merged = "SELECT c FROM cq.t WHERE p IN (1, 2) ORDER BY c DESC";
    let rows: Vec<(i32,)> = s
        .query_unpaged(merged, ())
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows::<(i32,)>()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, [(4,), (3,), (2,), (1,)]);
    let err = s
        .query_single_page(merged, (), PagingState::start())
        .await
        .expect_err("a paged IN + ORDER BY is refused");
    assert!(
        err.to_string()
            .contains("Cannot page queries with both ORDER BY and a IN restriction"),
        "{err}"
    );
}
