//! `Session::prepare` prepares on every live node, and concurrent re-prepares share one
//! PREPARE, against the simulator (3 nodes × 4 shards; simulator-only, skipped with
//! SCYLLA_URI): executions routed to any node after `prepare` get no UNPREPARED, a node that
//! does not answer the extra PREPARE delays `prepare` by at most the statement's timeout, and
//! executions that get UNPREPARED from one node at once send a single PREPARE.

mod common;
mod routing_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use routing_support::{cluster, session};
use scylla2::{Query, Session};
use scylla2_sim::{Cluster, FaultAction, FaultRule, RequestKind, SimError};

/// A keyspace with RF 1 (every key on one node) and a table in it.
async fn table(session: &Session, ks: &str) {
    session
        .execute(
            format!(
                "CREATE KEYSPACE {ks} WITH replication = \
                 {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
            )
            .as_str(),
            (),
        )
        .await
        .expect("create keyspace");
    session
        .execute(
            format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v int)").as_str(),
            (),
        )
        .await
        .expect("create table");
    session.await_schema_agreement().await.expect("agreement");
}

/// Per node: EXECUTEs received with a token (routable, so known prepared).
fn executed_per_node(sim: &Cluster) -> [u64; 3] {
    let mut per_node = [0; 3];
    for s in sim.request_stats() {
        per_node[s.node] += s.with_token;
    }
    per_node
}

fn skip() -> bool {
    std::env::var("SCYLLA_URI").is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executions_on_every_node_after_prepare_need_no_reprepare() {
    if skip() {
        return;
    }
    let sim = cluster(false).await;
    let session = session(&sim).await;
    assert!(session.is_routing());
    table(&session, "prep_all").await;
    let insert = session
        .prepare("INSERT INTO prep_all.t (k, v) VALUES (?, ?)")
        .await
        .expect("prepare");
    sim.reset_stats();
    for k in 0..300 {
        session.execute(&insert, (k, k)).await.expect("insert");
    }
    let per_node = executed_per_node(&sim);
    assert!(
        per_node.iter().all(|&n| n > 0),
        "executions reached every node: {per_node:?}"
    );
    assert_eq!(per_node.iter().sum::<u64>(), 300);
    assert_eq!(
        insert.reprepares(),
        0,
        "no node answered UNPREPARED after prepare"
    );
    // The same on a fresh statement with concurrent executions.
    let select = session
        .prepare("SELECT v FROM prep_all.t WHERE k = ?")
        .await
        .expect("prepare");
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..64 {
        let (session, select) = (session.clone(), select.clone());
        tasks.spawn(async move { session.execute(&select, (k,)).await.map(|r| r.rows_num()) });
    }
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.unwrap().expect("select"), 1);
    }
    assert_eq!(select.reprepares(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_node_delays_prepare_by_at_most_the_timeout() {
    if skip() {
        return;
    }
    let sim = cluster(false).await;
    let session = session(&sim).await;
    table(&session, "prep_silent").await;
    // The first PREPARE of the statement is answered (the node `prepare` asks first), the
    // other two nodes never answer theirs.
    let text = "INSERT INTO prep_silent.t (k, v) VALUES (?, ?)";
    sim.inject(
        FaultRule::new(FaultAction::Delay(Duration::from_millis(1)))
            .kind(RequestKind::Prepare)
            .query_contains("prep_silent")
            .times(1),
    );
    sim.inject(
        FaultRule::new(FaultAction::NoAnswer)
            .kind(RequestKind::Prepare)
            .query_contains("prep_silent")
            .times(1000),
    );
    let start = Instant::now();
    let insert = session
        .prepare(Query::new(text).with_timeout(Duration::from_millis(300)))
        .await
        .expect("the first node prepares it");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "waited for the silent nodes up to the timeout: {took:?}"
    );
    sim.clear_faults();
    // The silent nodes did not prepare it: executions there re-prepare, and all succeed.
    for k in 0..60 {
        session.execute(&insert, (k, k)).await.expect("insert");
    }
    assert!(
        (1..=2).contains(&insert.reprepares()),
        "the two silent nodes re-prepare once each: {}",
        insert.reprepares()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unprepared_on_one_node_share_one_prepare() {
    if skip() {
        return;
    }
    let sim = cluster(false).await;
    let session = session(&sim).await;
    table(&session, "prep_share").await;
    let select = session
        .prepare("SELECT v FROM prep_share.t WHERE k = ?")
        .await
        .expect("prepare");
    // The next 32 EXECUTEs (whichever node) answer UNPREPARED, and the next PREPARE of the
    // statement is slow, so that every execution gets its UNPREPARED while the first
    // re-prepare runs.
    sim.inject(
        FaultRule::error(SimError::Unprepared {
            id: select.id().clone(),
        })
        .kind(RequestKind::Execute)
        .times(32),
    );
    sim.inject(
        FaultRule::new(FaultAction::Delay(Duration::from_secs(2)))
            .kind(RequestKind::Prepare)
            .times(3),
    );
    let key = 7;
    let session = Arc::new(session);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (session, select) = (session.clone(), select.clone());
        // Same key: same node.
        tasks.spawn(async move { session.execute(&select, (key,)).await.map(|r| r.rows_num()) });
    }
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.unwrap().expect("select"), 0);
    }
    assert_eq!(
        select.reprepares(),
        1,
        "32 executions got UNPREPARED from one node and shared one PREPARE"
    );
}
