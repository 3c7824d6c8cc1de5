//! Tablet routing against the simulator in ScyllaDB mode (3 nodes × 4 shards, a keyspace
//! `WITH tablets = {'enabled': true, 'initial': 8}`): the driver negotiates
//! TABLETS_ROUTING_V1, learns tablets from the `tablets-routing-v1` payloads of misrouted
//! answers, then sends 100 % of the requests to the tablet's replica node AND shard (counted
//! by the simulator, which decides "owned" by tablet placement for these tables); after a
//! simulated migration (`Cluster::move_tablet`) it relearns and follows the tablet.

mod common;
mod routing_support;

use std::time::Duration;

use routing_support::{builder, session, totals};
use scylla2::PreparedStatement;
use scylla2::Session;
use scylla2_sim::Cluster;

const KEYSPACE: &str = "tablets_ks";

async fn setup(sim: &Cluster) -> (Session, PreparedStatement) {
    let session = session(sim).await;
    common::run_all(
        &session,
        &[
            format!(
                "CREATE KEYSPACE {KEYSPACE} WITH replication = {{'class': \
                 'NetworkTopologyStrategy', 'replication_factor': 1}} AND tablets = \
                 {{'enabled': true, 'initial': 8}}"
            ),
            format!("CREATE TABLE {KEYSPACE}.t (k int PRIMARY KEY, v int)"),
        ],
    )
    .await;
    session.await_schema_agreement().await.expect("agreement");
    let insert = session
        .prepare(format!("INSERT INTO {KEYSPACE}.t (k, v) VALUES (?, ?)"))
        .await
        .expect("prepare");
    (session, insert)
}

/// Runs one insert per key and returns (with_token, owned) of those requests.
async fn round(
    sim: &Cluster,
    session: &Session,
    insert: &PreparedStatement,
    keys: &[i32],
) -> (u64, u64) {
    sim.reset_stats();
    for &k in keys {
        session.execute(insert, (k, 1i32)).await.expect("insert");
    }
    let (_, with_token, owned) = totals(sim);
    (with_token, owned)
}

/// (node, shard) that received routed requests since the last reset.
fn landed(sim: &Cluster) -> Vec<(usize, u32, u64)> {
    sim.request_stats()
        .into_iter()
        .filter(|s| s.with_token > 0)
        .map(|s| (s.node, s.shard, s.with_token))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_land_on_the_tablet_replica_after_learning() {
    let sim = builder().start().await.expect("simulator starts");
    let (session, insert) = setup(&sim).await;
    let keys: Vec<i32> = (0..200).collect();
    // The ring (vnodes) says otherwise for most tokens: the first round is misrouted often,
    // which is how the driver learns.
    let (with_token, owned) = round(&sim, &session, &insert, &keys).await;
    assert_eq!(with_token, 200);
    assert!(
        owned < with_token,
        "vnode routing should miss some tablets ({owned}/{with_token})"
    );
    // Each misrouted answer taught one tablet (8 in all): a round without a miss comes soon.
    let mut rounds = 1;
    loop {
        let (with_token, owned) = round(&sim, &session, &insert, &keys).await;
        if owned == with_token {
            break;
        }
        rounds += 1;
        assert!(
            rounds < 10,
            "still misrouted after {rounds} rounds: {owned}/{with_token}"
        );
    }
    // After learning: 100 % on the tablet's replica node and shard.
    let more: Vec<i32> = (1000..1500).collect();
    let (with_token, owned) = round(&sim, &session, &insert, &more).await;
    assert_eq!((with_token, owned), (500, 500));
    // The simulator's placement agrees, per request: each (node, shard) got exactly the keys
    // whose tablet lives there.
    let mut expected: std::collections::BTreeMap<(usize, u32), u64> = Default::default();
    for k in &more {
        let tablet = sim
            .tablet(KEYSPACE, "t", Cluster::token_of(&k.to_be_bytes()))
            .expect("a tablet table");
        assert_eq!(tablet.replicas.len(), 1);
        *expected
            .entry((tablet.replicas[0].node, tablet.replicas[0].shard))
            .or_default() += 1;
    }
    let got: std::collections::BTreeMap<(usize, u32), u64> = landed(&sim)
        .into_iter()
        .map(|(n, s, c)| ((n, s), c))
        .collect();
    assert_eq!(got, expected);
    assert!(
        got.len() > 3,
        "tablets spread over nodes and shards: {got:?}"
    );
    // The payloads name replicas by the host ids system.local / system.peers show (the
    // driver could only route by them because they agree; checked directly here).
    // Whichever node answers, each (address, host id) it shows is the simulator's.
    let nodes: Vec<(std::net::IpAddr, uuid::Uuid)> =
        sim.nodes().iter().map(|n| (n.address, n.host_id)).collect();
    for q in [
        "SELECT rpc_address, host_id FROM system.local",
        "SELECT peer, host_id FROM system.peers",
    ] {
        let result = session.execute(q, ()).await.expect(q);
        let mut rows = 0;
        for row in result
            .rows::<(std::net::IpAddr, uuid::Uuid)>()
            .expect("rows")
        {
            assert!(nodes.contains(&row.expect("row")), "{q}");
            rows += 1;
        }
        assert!(rows >= 1, "{q}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_driver_follows_a_migrated_tablet() {
    let sim = builder().start().await.expect("simulator starts");
    let (session, insert) = setup(&sim).await;
    let key = 7i32;
    let token = Cluster::token_of(&key.to_be_bytes());
    // Learn the tablet of the key (bounded).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while round(&sim, &session, &insert, &[key]).await != (1, 1) {
        assert!(tokio::time::Instant::now() < deadline, "never learned");
    }
    let before = sim.tablet(KEYSPACE, "t", token).expect("tablet");
    let old = before.replicas[0];
    let new = ((old.node + 1) % 3, (old.shard + 1) % 4);
    sim.move_tablet(KEYSPACE, "t", token, &[new])
        .expect("moves");
    let after = sim.tablet(KEYSPACE, "t", token).expect("tablet");
    assert_eq!(
        (after.first_token, after.last_token),
        (before.first_token, before.last_token)
    );
    assert_eq!((after.replicas[0].node, after.replicas[0].shard), new);

    // The first request still goes to the old replica: answered, with the new placement.
    assert_eq!(round(&sim, &session, &insert, &[key]).await, (1, 0));
    assert_eq!(landed(&sim), vec![(old.node, old.shard, 1)]);
    // From then on every request of that tablet goes to the new replica and shard.
    let (with_token, owned) = round(&sim, &session, &insert, &[key; 50]).await;
    assert_eq!((with_token, owned), (50, 50));
    assert_eq!(landed(&sim), vec![(new.0, new.1, 50)]);
}
