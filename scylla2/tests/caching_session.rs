//! `CachingSession` against the simulator (3 nodes × 4 shards; simulator-only, skipped with
//! SCYLLA_URI): a text is prepared once (one PREPARE per node) and hits send none, 100
//! concurrent first uses of one text prepare it once, the cache stays within its capacity,
//! and a failed preparation is not cached.

mod common;
mod routing_support;

use routing_support::{cluster, session};
use scylla2::CachingSession;
use scylla2_sim::Cluster;

/// PREPAREs received per node since the last reset.
fn prepares_per_node(sim: &Cluster) -> [u64; 3] {
    let mut per_node = [0; 3];
    for s in sim.request_stats() {
        per_node[s.node] += s.prepared;
    }
    per_node
}

fn received(sim: &Cluster) -> u64 {
    sim.request_stats().iter().map(|s| s.received).sum()
}

fn skip() -> bool {
    std::env::var("SCYLLA_URI").is_ok()
}

async fn table(cached: &CachingSession, ks: &str) {
    let session = cached.session();
    common::run_all(
        session,
        &[
            common::create_keyspace(ks),
            format!("CREATE TABLE {ks}.t (k int PRIMARY KEY, v int)"),
        ],
    )
    .await;
    session.await_schema_agreement().await.expect("agreement");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hits_send_no_prepare() {
    if skip() {
        return;
    }
    let sim = cluster(false).await;
    let cached = CachingSession::new(session(&sim).await, 16);
    table(&cached, "cache_hits").await;
    let insert = "INSERT INTO cache_hits.t (k, v) VALUES (?, ?)";
    sim.reset_stats();
    cached.execute(insert, (0, 0)).await.expect("first insert");
    assert_eq!(
        prepares_per_node(&sim),
        [1, 1, 1],
        "the miss prepared once on every node"
    );
    sim.reset_stats();
    for k in 1..=200 {
        cached.execute(insert, (k, k)).await.expect("insert");
    }
    assert_eq!(prepares_per_node(&sim), [0, 0, 0], "hits send no PREPARE");
    assert_eq!(received(&sim), 200, "every hit is one EXECUTE");
    assert_eq!(cached.preparations(), 1);
    assert_eq!(cached.len(), 1);
    let select = "SELECT v FROM cache_hits.t WHERE k = ?";
    let r = cached.execute(select, (7,)).await.expect("select");
    assert_eq!(r.single_row::<(i32,)>().expect("row"), (7,));
    assert_eq!(cached.preparations(), 2);
    assert!(cached.cached(select).is_some() && cached.cached("SELECT 1").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_uses_prepare_once() {
    if skip() {
        return;
    }
    let sim = cluster(false).await;
    let cached = CachingSession::new(session(&sim).await, 16);
    table(&cached, "cache_flight").await;
    let insert = "INSERT INTO cache_flight.t (k, v) VALUES (?, ?)";
    sim.reset_stats();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..100 {
        let cached = cached.clone();
        tasks.spawn(async move { cached.execute(insert, (k, k)).await.map(|r| r.is_void()) });
    }
    while let Some(r) = tasks.join_next().await {
        assert!(r.expect("task").expect("insert"));
    }
    assert_eq!(
        prepares_per_node(&sim),
        [1, 1, 1],
        "100 concurrent first uses: one PREPARE per node"
    );
    assert_eq!(cached.preparations(), 1);
    assert_eq!(received(&sim), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_keeps_its_bound_and_does_not_cache_errors() {
    if skip() {
        return;
    }
    let sim = cluster(false).await;
    let cached = CachingSession::new(session(&sim).await, 3);
    table(&cached, "cache_bound").await;
    // Ten distinct texts through a cache of three.
    let texts: Vec<String> = (0..10)
        .map(|i| format!("SELECT v FROM cache_bound.t WHERE k = ? LIMIT {}", i + 1))
        .collect();
    for text in &texts {
        cached.execute(text, (1,)).await.expect("select");
        assert!(cached.len() <= 3, "bounded: {}", cached.len());
    }
    assert_eq!(cached.len(), 3);
    assert_eq!(cached.preparations(), 10);
    // The last three are cached: a hit; the first was evicted: prepared again.
    cached.execute(&texts[9], (1,)).await.expect("hit");
    assert_eq!(cached.preparations(), 10);
    cached.execute(&texts[0], (1,)).await.expect("miss");
    assert_eq!(cached.preparations(), 11);
    assert_eq!(cached.len(), 3);
    // A text that does not prepare: an error each time, never cached.
    for _ in 0..2 {
        let e = cached
            .execute("SELECT nope FROM cache_bound.t", ())
            .await
            .expect_err("unknown column");
        assert!(e.to_string().contains("nope"), "{e}");
    }
    assert!(cached.cached("SELECT nope FROM cache_bound.t").is_none());
    assert_eq!(cached.len(), 3);
    assert!(cached.remove(&texts[0]));
    assert_eq!(cached.len(), 2);
    cached.clear();
    assert!(cached.is_empty());
}
