//! The official Rust driver (`scylla` crate) on 3 nodes × 4 shards: every prepared request
//! must land on a replica node AND on the shard owning its token, which proves the sharding
//! emulation is what a real shard-aware driver expects.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use scylla::client::session_builder::SessionBuilder;
use scylla2_sim::Cluster;

/// A cluster of `nodes` × `shards` on 127.0.`net`.1 and up, on ephemeral ports.
async fn start(nodes: usize, shards: u32, net: u8) -> Cluster {
    Cluster::builder()
        .nodes(nodes)
        .shards(shards)
        .port(0)
        .shard_aware_port(0)
        .base_ip(Ipv4Addr::new(127, 0, net, 1))
        .start()
        .await
        .unwrap()
}

/// A driver session builder that contacts the cluster's first node.
fn session_builder(c: &Cluster) -> SessionBuilder {
    SessionBuilder::new().known_node_addr(c.contact_points()[0])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scylla_driver_routes_to_owning_node_and_shard() {
    let c = start(3, 4, 21).await;
    let session = session_builder(&c)
        .build()
        .await
        .expect("scylla driver connects");
    // Wait for the per-shard pools (4 per node) to be complete.
    let deadline = Instant::now() + Duration::from_secs(10);
    while (0..3).any(|i| c.connection_count(i).unwrap() < 4) {
        assert!(Instant::now() < deadline, "pools never filled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    session
        .query_unpaged(
            "CREATE KEYSPACE rs WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await
        .unwrap();
    session
        .query_unpaged("CREATE TABLE rs.t (k int PRIMARY KEY, v text)", ())
        .await
        .unwrap();
    session.await_schema_agreement().await.unwrap();
    let ins = session
        .prepare("INSERT INTO rs.t (k, v) VALUES (?, ?)")
        .await
        .unwrap();
    let sel = session
        .prepare("SELECT v FROM rs.t WHERE k = ?")
        .await
        .unwrap();
    c.reset_stats();
    for k in 0..1000i32 {
        session
            .execute_unpaged(&ins, (k, format!("v{k}")))
            .await
            .unwrap();
    }
    for k in 0..1000i32 {
        let rows = session
            .execute_unpaged(&sel, (k,))
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        let (v,): (String,) = rows.single_row().unwrap();
        assert_eq!(v, format!("v{k}"));
    }
    let stats = c.request_stats();
    let with_token: u64 = stats.iter().map(|s| s.with_token).sum();
    let owned: u64 = stats.iter().map(|s| s.owned).sum();
    assert_eq!(with_token, 2000, "{stats:?}");
    assert_eq!(
        owned, 2000,
        "every request on its owning node and shard: {stats:?}"
    );
    // Spread: every node and most shards got some.
    for n in 0..3 {
        let per_node: u64 = stats.iter().filter(|s| s.node == n).map(|s| s.owned).sum();
        assert!(per_node > 0, "node {n} got nothing: {stats:?}");
    }
    let busy_shards = stats.iter().filter(|s| s.owned > 0).count();
    assert!(busy_shards >= 10, "{stats:?}");
}

/// Every injected error reaches the official driver as the matching `DbError`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scylla_driver_decodes_every_injected_error() {
    use scylla::client::execution_profile::ExecutionProfile;
    use scylla::policies::retry::FallthroughRetryPolicy;
    use scylla2_sim::{FaultRule, RequestKind, SimError, WriteType};
    use std::sync::Arc;

    let c = start(1, 2, 22).await;
    let profile = ExecutionProfile::builder()
        .retry_policy(Arc::new(FallthroughRetryPolicy))
        .build();
    let session = session_builder(&c)
        .default_execution_profile_handle(profile.into_handle())
        .build()
        .await
        .unwrap();
    let cases: Vec<(SimError, &str)> = vec![
        (SimError::ServerError("boom".into()), "ServerError"),
        (
            SimError::Unavailable {
                consistency: 1,
                required: 2,
                alive: 1,
            },
            "Unavailable",
        ),
        (SimError::Overloaded("busy".into()), "Overloaded"),
        (SimError::IsBootstrapping, "IsBootstrapping"),
        (SimError::TruncateError("t".into()), "TruncateError"),
        (
            SimError::WriteTimeout {
                consistency: 1,
                received: 0,
                block_for: 1,
                write_type: WriteType::Simple,
            },
            "WriteTimeout",
        ),
        (
            SimError::ReadTimeout {
                consistency: 1,
                received: 0,
                block_for: 1,
                data_present: false,
            },
            "ReadTimeout",
        ),
        (
            SimError::ReadFailure {
                consistency: 1,
                received: 0,
                block_for: 1,
                failures: 1,
                data_present: false,
            },
            "ReadFailure",
        ),
        (
            SimError::WriteFailure {
                consistency: 1,
                received: 0,
                block_for: 1,
                failures: 1,
                write_type: WriteType::Batch,
            },
            "WriteFailure",
        ),
        (
            SimError::FunctionFailure {
                keyspace: "ks".into(),
                function: "f".into(),
                arg_types: vec!["int".into()],
            },
            "FunctionFailure",
        ),
        (SimError::SyntaxError("bad".into()), "SyntaxError"),
        (SimError::Unauthorized("no".into()), "Unauthorized"),
        (SimError::Invalid("no".into()), "Invalid"),
        (SimError::ConfigError("no".into()), "ConfigError"),
        (
            SimError::AlreadyExists {
                keyspace: "ks".into(),
                table: "t".into(),
                message: "exists".into(),
            },
            "AlreadyExists",
        ),
        (
            SimError::RateLimitReached {
                keyspace: "ks".into(),
                table: "t".into(),
                op_type: 1,
                rejected_by_coordinator: true,
            },
            "RateLimitReached",
        ),
    ];
    for (err, name) in cases {
        c.inject(
            FaultRule::error(err)
                .kind(RequestKind::Query)
                .query_contains("system.local"),
        );
        let got = session
            .query_unpaged("SELECT key FROM system.local", ())
            .await
            .expect_err("injected error");
        let text = format!("{got:?}");
        assert!(text.contains(name), "{name}: {text}");
    }
    // And afterwards the connection is healthy.
    session
        .query_unpaged("SELECT key FROM system.local", ())
        .await
        .unwrap();
}

/// Behind a "NAT" the shard-aware port ignores the client port; the driver must notice from
/// SCYLLA_SHARD and still end up with a connection per shard, so routing stays exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scylla_driver_survives_a_nat_on_the_shard_aware_port() {
    let c = start(1, 4, 23).await;
    c.set_shard_aware_nat(true);
    let session = session_builder(&c)
        .build()
        .await
        .expect("scylla driver connects");
    session
        .query_unpaged(
            "CREATE KEYSPACE nat WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await
        .unwrap();
    session
        .query_unpaged("CREATE TABLE nat.t (k int PRIMARY KEY)", ())
        .await
        .unwrap();
    let ins = session
        .prepare("INSERT INTO nat.t (k) VALUES (?)")
        .await
        .unwrap();
    // Give the pool time to cover every shard, then measure.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        c.reset_stats();
        for k in 0..200i32 {
            session.execute_unpaged(&ins, (k,)).await.unwrap();
        }
        let stats = c.request_stats();
        let owned: u64 = stats.iter().map(|s| s.owned).sum();
        let with_token: u64 = stats.iter().map(|s| s.with_token).sum();
        assert_eq!(with_token, 200);
        if owned == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never fully shard-aware: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// SCYLLA_USE_METADATA_ID on v4: a prepared `SELECT *` follows ALTER TABLE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scylla_driver_sees_altered_columns_through_metadata_ids() {
    let c = start(1, 2, 24).await;
    let session = session_builder(&c).build().await.unwrap();
    for q in [
        "CREATE KEYSPACE md WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        "CREATE TABLE md.t (k int PRIMARY KEY, a int)",
        "INSERT INTO md.t (k, a) VALUES (1, 2)",
    ] {
        session.query_unpaged(q, ()).await.unwrap();
    }
    let star = session
        .prepare("SELECT * FROM md.t WHERE k = ?")
        .await
        .unwrap();
    let cols = |r: scylla::response::query_result::QueryResult| {
        r.into_rows_result().unwrap().column_specs().len()
    };
    assert_eq!(cols(session.execute_unpaged(&star, (1,)).await.unwrap()), 2);
    session
        .query_unpaged("ALTER TABLE md.t ADD extra int", ())
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(cols(session.execute_unpaged(&star, (1,)).await.unwrap()), 3);
    }
}
