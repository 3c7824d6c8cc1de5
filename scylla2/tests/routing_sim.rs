//! Proof against the simulator with 3 nodes × 4 shards: every prepared request lands on a
//! node that owns its token AND on the shard owning it, per the simulator's own statistics
//! (`received`, `with_token`, `owned` per node and shard), for simple and composite partition
//! keys and several replication settings (SimpleStrategy RF 1 and 2, NetworkTopologyStrategy
//! over two data centers). Also: topology discovery, per-shard pools, events.

use std::net::SocketAddr;
use std::time::Duration;

use scylla2::Session;
use scylla2::events::SessionEvent;
use scylla2::routing::Token;
use scylla2_sim::Cluster;

async fn cluster(dcs: bool) -> Cluster {
    let mut b = Cluster::builder()
        .nodes(3)
        .shards(4)
        .port(0)
        .shard_aware_port(0)
        .tokens_per_node(16);
    if dcs {
        b = b
            .datacenters([("dc1", 2), ("dc2", 1)])
            .racks(["r1", "r2", "r1"]);
    }
    b.start().await.expect("simulator starts")
}

async fn session(sim: &Cluster) -> Session {
    Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .connect()
        .await
        .expect("connects")
}

fn totals(sim: &Cluster) -> (u64, u64, u64) {
    sim.request_stats().iter().fold((0, 0, 0), |(r, w, o), s| {
        (r + s.received, w + s.with_token, o + s.owned)
    })
}

/// Runs `n` prepared inserts (simple or composite key) into a fresh table of keyspace `ks`
/// and checks that every routable request was owned by the node and shard that got it.
async fn check_routing(
    sim: &Cluster,
    session: &Session,
    ks: &str,
    replication: &str,
    owners: &[usize],
) {
    session
        .execute(
            format!("CREATE KEYSPACE {ks} WITH replication = {replication}").as_str(),
            (),
        )
        .await
        .expect("create keyspace");
    session
        .execute(
            format!("CREATE TABLE {ks}.simple (k int PRIMARY KEY, v text)").as_str(),
            (),
        )
        .await
        .expect("create simple");
    session
        .execute(
            format!(
                "CREATE TABLE {ks}.composite (a text, b bigint, c int, v int, \
                 PRIMARY KEY ((a, b), c))"
            )
            .as_str(),
            (),
        )
        .await
        .expect("create composite");
    // The keyspace reaches the routing snapshot through SCHEMA_CHANGE → refresh.
    session.await_schema_agreement().await.expect("agreement");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let simple = session
        .prepare(format!("INSERT INTO {ks}.simple (k, v) VALUES (?, ?)"))
        .await
        .expect("prepare simple");
    // Bind order differs from key order: (c, b, a, v) while the key is (a, b).
    let composite = session
        .prepare(format!(
            "INSERT INTO {ks}.composite (c, b, a, v) VALUES (?, ?, ?, ?)"
        ))
        .await
        .expect("prepare composite");
    assert_eq!(composite.pk_indexes(), &[2, 1]);
    // Wait until a routed request is owned (the refresh after CREATE KEYSPACE landed).
    loop {
        sim.reset_stats();
        session
            .execute(&simple, (0i32, "warmup"))
            .await
            .expect("warmup");
        let (_, with_token, owned) = totals(sim);
        if with_token == 1 && owned == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "routing never caught up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sim.reset_stats();
    let n = 200;
    for i in 0..n {
        session
            .execute(&simple, (i * 7919 - 100_000, "x"))
            .await
            .expect("insert simple");
        let a = format!("key-{i}-é");
        session
            .execute(&composite, (i, i as i64 * 1_000_003, a.as_str(), 1i32))
            .await
            .expect("insert composite");
    }
    let (received, with_token, owned) = totals(sim);
    assert_eq!(with_token, 2 * n as u64, "every request carried a token");
    // Control-connection metadata queries are received too, without a token.
    assert!(received >= with_token);
    assert_eq!(
        owned, with_token,
        "{replication}: not every request was owned"
    );
    // Every owning node got some of them, the others none.
    let stats = sim.request_stats();
    for node in 0..3 {
        let got: u64 = stats
            .iter()
            .filter(|s| s.node == node)
            .map(|s| s.with_token)
            .sum();
        assert_eq!(got > 0, owners.contains(&node), "node {node} got {got}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_land_on_owning_node_and_shard_simple_strategy() {
    let sim = cluster(false).await;
    let session = session(&sim).await;
    assert!(session.is_routing());
    assert_eq!(
        session.pooled_connections(),
        12,
        "one connection per shard of 3 nodes"
    );
    check_routing(
        &sim,
        &session,
        "routing_rf1",
        "{'class': 'SimpleStrategy', 'replication_factor': 1}",
        &[0, 1, 2],
    )
    .await;
    check_routing(
        &sim,
        &session,
        "routing_rf2",
        "{'class': 'SimpleStrategy', 'replication_factor': 2}",
        &[0, 1, 2],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_land_on_owning_node_and_shard_nts_two_dcs() {
    let sim = cluster(true).await;
    let session = session(&sim).await;
    check_routing(
        &sim,
        &session,
        "routing_nts",
        "{'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc2': 1}",
        &[0, 1, 2],
    )
    .await;
    check_routing(
        &sim,
        &session,
        "routing_nts_dc2",
        "{'class': 'NetworkTopologyStrategy', 'dc2': 1}",
        &[2],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_report_schema_changes_and_node_state() {
    let sim = cluster(false).await;
    let session = session(&sim).await;
    let mut db = session.database_events();
    let mut events = session.session_events();
    session
        .execute(
            "CREATE KEYSPACE ev WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await
        .expect("create keyspace");
    let got = tokio::time::timeout(Duration::from_secs(5), db.recv())
        .await
        .expect("a database event")
        .expect("not lagged");
    assert!(
        matches!(&got, scylla2::events::DatabaseEvent::SchemaChange(_)),
        "{got:?}"
    );
    // Agreement is awaited after DDL; the event follows.
    let mut agreed = false;
    let mut refreshed = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !(agreed && refreshed) {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("session events")
            .expect("not lagged");
        match ev {
            SessionEvent::SchemaAgreementReached { .. } => agreed = true,
            SessionEvent::TopologyRefreshed { .. } => refreshed = true,
            _ => {}
        }
    }
    // A node stopped: its pool goes down; restarted: it comes back with every shard.
    sim.stop_node(2).await.expect("stop");
    let addr = sim.nodes()[2].address;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("node down event")
            .expect("not lagged");
        if matches!(ev, SessionEvent::NodeDown { node } if node.ip() == addr) {
            break;
        }
    }
    sim.start_node(2).await.expect("start");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("node up event")
            .expect("not lagged");
        if matches!(ev, SessionEvent::NodeUp { node } if node.ip() == addr) {
            break;
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while session.pooled_connections() < 12 {
        assert!(tokio::time::Instant::now() < deadline, "pool not rebuilt");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_of_random_tokens_equal_the_simulators() {
    let sim = cluster(true).await;
    let session = session(&sim).await;
    let settings = [
        (
            "rep_simple3",
            "{'class': 'SimpleStrategy', 'replication_factor': 3}",
        ),
        (
            "rep_simple1",
            "{'class': 'SimpleStrategy', 'replication_factor': 1}",
        ),
        (
            "rep_nts",
            "{'class': 'NetworkTopologyStrategy', 'dc1': 2, 'dc2': 1}",
        ),
        ("rep_nts1", "{'class': 'NetworkTopologyStrategy', 'dc1': 1}"),
    ];
    for (ks, replication) in settings {
        session
            .execute(
                format!("CREATE KEYSPACE {ks} WITH replication = {replication}").as_str(),
                (),
            )
            .await
            .expect("create keyspace");
    }
    let nodes = sim.nodes();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..500 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let token = state as i64;
        for (ks, _) in settings {
            let mut ours: Vec<SocketAddr> = session.replicas(ks, Token(token));
            let mut theirs: Vec<SocketAddr> = sim
                .engine()
                .replicas(ks, token, &nodes)
                .into_iter()
                .map(|i| SocketAddr::new(nodes[i].address, sim.port()))
                .collect();
            assert!(!ours.is_empty());
            ours.sort();
            theirs.sort();
            assert_eq!(ours, theirs, "{ks} token {token}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_stopped_under_load() {
    let sim = cluster(false).await;
    let session = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .default_idempotent(true)
        .request_timeout(Some(Duration::from_secs(5)))
        .connect()
        .await
        .expect("connects");
    let mut events = session.session_events();
    session
        .execute(
            "CREATE KEYSPACE load WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
            (),
        )
        .await
        .expect("create keyspace");
    session
        .execute("CREATE TABLE load.t (k int PRIMARY KEY, v int)", ())
        .await
        .expect("create table");
    let insert = session
        .prepare("INSERT INTO load.t (k, v) VALUES (?, ?)")
        .await
        .expect("prepare");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..8 {
        let (session, insert, stop) = (session.clone(), insert.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut ok = 0u64;
            let mut i = w;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                session
                    .execute(&insert, (i, i))
                    .await
                    .expect("idempotent requests succeed on other replicas");
                ok += 1;
                i += 8;
            }
            ok
        }));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    sim.stop_node(1).await.expect("stop");
    let addr = sim.nodes()[1].address;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("node down event")
            .expect("not lagged");
        if matches!(ev, SessionEvent::NodeDown { node } if node.ip() == addr) {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    sim.start_node(1).await.expect("start");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("node up event")
            .expect("not lagged");
        if matches!(ev, SessionEvent::NodeUp { node } if node.ip() == addr) {
            break;
        }
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while session.open_connections() < 12 {
        assert!(tokio::time::Instant::now() < deadline, "pool not rebuilt");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for w in workers {
        total += tokio::time::timeout(Duration::from_secs(10), w)
            .await
            .expect("no worker hangs")
            .expect("worker ok");
    }
    assert!(total > 100, "{total} requests");
    // The restarted node serves its shards again.
    sim.reset_stats();
    for i in 0..300 {
        session.execute(&insert, (i, i)).await.expect("insert");
    }
    let got: u64 = sim
        .request_stats()
        .iter()
        .filter(|s| s.node == 1)
        .map(|s| s.owned)
        .sum();
    assert!(got > 0, "node 1 gets requests again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normal_port_fallback_covers_every_shard_and_routes() {
    let sim = cluster(false).await;
    let mut config = scylla2::topology::TopologyConfig::default();
    // As if the shard-aware port were missing or NAT rewrote source ports.
    config.pool.shard_aware_port = false;
    let session = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .topology(Some(config))
        .connect()
        .await
        .expect("connects");
    assert_eq!(
        session.open_connections(),
        12,
        "every shard covered, surplus closed"
    );
    check_routing(
        &sim,
        &session,
        "fallback_rf1",
        "{'class': 'SimpleStrategy', 'replication_factor': 1}",
        &[0, 1, 2],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_nodes_get_no_connections_and_translation_applies() {
    #[derive(Debug, Default)]
    struct Counting(std::sync::atomic::AtomicUsize);
    impl scylla2::topology::AddressTranslator for Counting {
        fn translate(&self, address: SocketAddr) -> SocketAddr {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            address
        }
    }
    let sim = cluster(true).await;
    let translator = std::sync::Arc::new(Counting::default());
    let mut config = scylla2::topology::TopologyConfig::default();
    config.distance = scylla2::routing::DistancePolicy::local_dc("dc1").with_remote_nodes(false);
    config.address_translator = Some(translator.clone());
    let session = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .topology(Some(config))
        .connect()
        .await
        .expect("connects");
    assert!(
        translator.0.load(std::sync::atomic::Ordering::Relaxed) >= 2,
        "peers translated"
    );
    assert_eq!(session.nodes().len(), 3);
    assert_eq!(session.open_connections(), 8, "dc2's node is ignored");
    session
        .execute(
            "CREATE KEYSPACE ign WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc2': 1}",
            (),
        )
        .await
        .expect("create keyspace");
    session
        .execute("CREATE TABLE ign.t (k int PRIMARY KEY)", ())
        .await
        .expect("create table");
    let insert = session
        .prepare("INSERT INTO ign.t (k) VALUES (?)")
        .await
        .expect("prepare");
    sim.reset_stats();
    for i in 0..100 {
        session.execute(&insert, (i,)).await.expect("insert");
    }
    let stats = sim.request_stats();
    let to_dc2: u64 = stats
        .iter()
        .filter(|s| s.node == 2)
        .map(|s| s.received)
        .sum();
    assert_eq!(to_dc2, 0, "nothing sent to the ignored node");
    let owned: u64 = stats.iter().map(|s| s.owned).sum();
    assert_eq!(owned, 100, "the dc1 replica and shard got every request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_connection_fails_over() {
    let sim = cluster(false).await;
    let session = session(&sim).await;
    let mut events = session.session_events();
    let mut db = session.database_events();
    // The contact point (node 0) holds the control connection.
    sim.stop_node(0).await.expect("stop");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let moved_to = loop {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("control connection moves")
            .expect("not lagged");
        if let SessionEvent::ControlConnectionChanged { node } = ev {
            break node;
        }
    };
    assert_ne!(moved_to.ip(), sim.nodes()[0].address);
    // Events arrive through the new control connection; routing follows the new schema.
    session
        .execute(
            "CREATE KEYSPACE fo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await
        .expect("create keyspace");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let ev = tokio::time::timeout_at(deadline, db.recv())
            .await
            .expect("schema event")
            .expect("not lagged");
        if matches!(ev, scylla2::events::DatabaseEvent::SchemaChange(_)) {
            break;
        }
    }
    assert!(!session.replicas("fo", Token(42)).is_empty());
}
