//! System tables and tablets as real servers show them, checked through the official Rust
//! driver (`scylla` crate, an independent reader of the same bytes) and raw frames:
//! - traces: a traced request's answer carries a tracing id and `system_traces.sessions` /
//!   `events` hold its trace (read by the driver's own `get_tracing_info`), in both modes;
//! - versions: `release_version` / `cql_version` per mode (Cassandra 4.0: "4.0.0" / "3.4.5",
//!   `QueryProcessor.CQL_VERSION`; ScyllaDB: "3.0.8" / "3.3.1", `query_processor::CQL_VERSION`)
//!   and configurable; SUPPORTED announces the same CQL version;
//! - `system_auth.roles` with PasswordAuthenticator (`cassandra` superuser plus the users);
//! - `system.peers_v2`: rows in Cassandra mode, Invalid (0x2200) in ScyllaDB mode;
//! - tablets: the official driver learns from the `tablets-routing-v1` payloads (and reads
//!   `system_schema.scylla_keyspaces`), then every request lands on the tablet's replica.

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::{Client, OPTIONS, query_ok};
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::statement::unprepared::Statement;
use scylla2_sim::{Cluster, ClusterBuilder};

fn builder(net: u8) -> ClusterBuilder {
    Cluster::builder()
        .port(0)
        .shard_aware_port(0)
        .base_ip(Ipv4Addr::new(127, 0, net, 1))
}

async fn connect(c: &Cluster) -> Session {
    SessionBuilder::new()
        .known_node_addr(c.contact_points()[0])
        .build()
        .await
        .expect("official driver connects")
}

async fn local_versions(s: &Session) -> (String, String) {
    s.query_unpaged("SELECT release_version, cql_version FROM system.local", ())
        .await
        .expect("system.local")
        .into_rows_result()
        .expect("rows")
        .single_row::<(String, String)>()
        .expect("one row")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traced_requests_have_their_trace_in_both_modes() {
    for (shards, net) in [(0, 41), (2, 42)] {
        let c = builder(net).shards(shards).start().await.unwrap();
        let s = connect(&c).await;
        s.query_unpaged(
            "CREATE KEYSPACE tr WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await
        .unwrap();
        s.query_unpaged("CREATE TABLE tr.t (k int PRIMARY KEY, v int)", ())
            .await
            .unwrap();
        let mut st = Statement::new("INSERT INTO tr.t (k, v) VALUES (1, 2)");
        st.set_tracing(true);
        let result = s.query_unpaged(st, ()).await.unwrap();
        let id = result
            .tracing_id()
            .expect("traced answer carries a tracing id");
        let trace = s
            .get_tracing_info(&id)
            .await
            .expect("the driver reads the trace");
        assert_eq!(trace.command.as_deref(), Some("QUERY"));
        // QueryMessage.traceQuery: "Execute CQL3 query" with the query and consistency.
        assert_eq!(trace.request.as_deref(), Some("Execute CQL3 query"));
        assert_eq!(
            trace
                .parameters
                .as_ref()
                .and_then(|p| p.get("query"))
                .map(String::as_str),
            Some("INSERT INTO tr.t (k, v) VALUES (1, 2)")
        );
        assert_eq!(trace.coordinator, Some(c.contact_points()[0].ip()));
        assert!(trace.duration.is_some() && trace.started_at.is_some());
        assert!(!trace.events.is_empty());
        // Cassandra's sessions table has coordinator_port, ScyllaDB's has none.
        let cols = s
            .query_unpaged("SELECT * FROM system_traces.sessions", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap()
            .column_specs()
            .iter()
            .map(|c| c.name().to_string())
            .collect::<Vec<_>>();
        assert_eq!(
            cols.iter().any(|c| c == "coordinator_port"),
            shards == 0,
            "{cols:?}"
        );
        // An untraced request leaves no trace and carries no id.
        let plain = s
            .query_unpaged("SELECT v FROM tr.t WHERE k = 1", ())
            .await
            .unwrap();
        assert_eq!(plain.tracing_id(), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_are_realistic_per_mode_and_configurable() {
    let cassandra = builder(43).start().await.unwrap();
    let s = connect(&cassandra).await;
    assert_eq!(local_versions(&s).await, ("4.0.0".into(), "3.4.5".into()));
    let scylla = builder(44).shards(2).start().await.unwrap();
    let s = connect(&scylla).await;
    assert_eq!(local_versions(&s).await, ("3.0.8".into(), "3.3.1".into()));
    let mut raw = Client::connect(scylla.contact_points()[0], 4).await;
    raw.send(0, OPTIONS, &[]).await;
    let supported = raw.recv().await.expect("SUPPORTED").multimap();
    let cql: Vec<&Vec<String>> = supported
        .iter()
        .filter(|(k, _)| k == "CQL_VERSION")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(cql, [&vec!["3.3.1".to_string()]]);
    assert!(
        supported
            .iter()
            .any(|(k, v)| k == "TABLETS_ROUTING_V1" && v == &[String::new()])
    );
    let custom = builder(45)
        .release_version("4.1.3")
        .cql_version("3.4.6")
        .start()
        .await
        .unwrap();
    let s = connect(&custom).await;
    assert_eq!(local_versions(&s).await, ("4.1.3".into(), "3.4.6".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_listed_when_auth_is_on() {
    let c = builder(46)
        .password_auth([("app", "secret"), ("ops", "pw")])
        .start()
        .await
        .unwrap();
    let s = SessionBuilder::new()
        .known_node_addr(c.contact_points()[0])
        .user("app", "secret")
        .build()
        .await
        .unwrap();
    let mut roles: Vec<(String, bool, bool)> = s
        .query_unpaged(
            "SELECT role, can_login, is_superuser FROM system_auth.roles",
            (),
        )
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows::<(String, bool, bool)>()
        .unwrap()
        .map(Result::unwrap)
        .collect();
    roles.sort();
    // CassandraRoleManager: the default `cassandra` superuser exists beside created roles.
    assert_eq!(
        roles,
        [
            ("app".to_string(), true, false),
            ("cassandra".to_string(), true, true),
            ("ops".to_string(), true, false)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_v2_exists_in_cassandra_mode_only() {
    let c = builder(47).nodes(2).start().await.unwrap();
    let mut cl = Client::connect(c.contact_points()[0], 4).await;
    cl.handshake(&[]).await;
    query_ok(&mut cl, "SELECT peer, native_port FROM system.peers_v2").await;
    let c = builder(48).nodes(2).shards(2).start().await.unwrap();
    let mut cl = Client::connect(c.contact_points()[0], 4).await;
    cl.handshake(&[]).await;
    cl.send(
        1,
        common::QUERY,
        &common::query_body("SELECT * FROM system.peers_v2"),
    )
    .await;
    // ScyllaDB has no peers_v2: Invalid, as for any unknown table.
    let (code, _) = cl.recv().await.expect("answer").error();
    assert_eq!(code, 0x2200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_driver_routes_by_tablets() {
    let c = builder(49).nodes(3).shards(4).start().await.unwrap();
    let s = connect(&c).await;
    s.query_unpaged(
        "CREATE KEYSPACE tab WITH replication = {'class': 'NetworkTopologyStrategy', \
         'replication_factor': 1} AND tablets = {'enabled': true, 'initial': 8}",
        (),
    )
    .await
    .unwrap();
    s.query_unpaged("CREATE TABLE tab.t (k int PRIMARY KEY, v int)", ())
        .await
        .unwrap();
    s.await_schema_agreement().await.unwrap();
    s.refresh_metadata().await.unwrap();
    let ins = s
        .prepare("INSERT INTO tab.t (k, v) VALUES (?, ?)")
        .await
        .unwrap();
    let totals = |c: &Cluster| {
        c.request_stats()
            .iter()
            .fold((0, 0), |(w, o), r| (w + r.with_token, o + r.owned))
    };
    // Learning: each misrouted answer teaches the driver one tablet (bounded rounds).
    let mut clean = false;
    for _ in 0..20 {
        c.reset_stats();
        for k in 0..200i32 {
            s.execute_unpaged(&ins, (k, 1i32)).await.unwrap();
        }
        let (with_token, owned) = totals(&c);
        if with_token == 200 && owned == 200 {
            clean = true;
            break;
        }
        // The driver applies learned tablets asynchronously.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        clean,
        "the official driver never routed every request to its tablet"
    );
    c.reset_stats();
    for k in 1000..1300i32 {
        s.execute_unpaged(&ins, (k, 1i32)).await.unwrap();
    }
    assert_eq!(totals(&c), (300, 300));
}
