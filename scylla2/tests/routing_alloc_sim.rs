//! Planning allocates nothing on a real request path: the core allocation test extended to
//! a 3-node × 4-shard simulated cluster with token- and shard-aware routing. A counting global
//! allocator counts only on the driver's thread (a current-thread runtime runs the session,
//! its pools, readers and writers); the simulator runs on its own runtime and threads. After
//! a warm-up, 10 000 prepared INSERTs and 10 000 prepared SELECTs (128 in flight) — each
//! computing its token, loading the topology snapshot and building a plan — are counted, and
//! the simulator confirms every one of them landed on an owning node and shard. The same again
//! on a second session, connected once the schema exists, that holds write batches until the
//! next read (opt-in write coalescing).

mod common;
mod routing_support;

use common::counting::{IN_FLIGHT, OPS, insert, measure, select};
use scylla2::Session;

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

#[test]
fn routed_prepared_statements_do_not_allocate() {
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = sim_rt.block_on(async { routing_support::builder().start().await.unwrap() });
    let uri = sim.contact_points()[0].to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let session = Session::builder()
            .contact_point(uri.clone())
            .connect()
            .await
            .unwrap();
        assert!(session.is_routing());
        assert_eq!(session.open_connections(), 12);
        session
            .execute(
                "CREATE KEYSPACE ralloc WITH replication = \
                 {'class': 'SimpleStrategy', 'replication_factor': 1}",
                (),
            )
            .await
            .unwrap();
        session
            .execute(
                "CREATE TABLE ralloc.t (pk int PRIMARY KEY, ck int, v text)",
                (),
            )
            .await
            .unwrap();
        // The same on a session whose writers hold batches until the next read (opt-in):
        // with 12 connections, answers arrive spread over them and the holds happen. This
        // session connects to a cluster whose schema exists already, so no schema change
        // refreshes its topology after connecting: its requests land on the owning shard only
        // if its pools' sharding reached its routing snapshot when they learned it.
        let holding = Session::builder()
            .contact_point(uri)
            .write_coalescing(scylla2::connection::WriteCoalescing::until_next_read())
            .connect()
            .await
            .unwrap();
        assert_eq!(holding.open_connections(), 12);
        for (mode, session) in [("routed", &session), ("routed, write hold", &holding)] {
            let ins = session
                .prepare("INSERT INTO ralloc.t (pk, ck, v) VALUES (?, ?, ?)")
                .await
                .unwrap();
            let sel = session
                .prepare("SELECT ck, v FROM ralloc.t WHERE pk = ?")
                .await
                .unwrap();
            let (s, i, q) = (session, &ins, &sel);
            measure(OPS, move |n| insert(s, i, n)).await;
            measure(OPS, move |n| select(s, q, n)).await;

            sim.reset_stats();
            let inserts = measure(OPS, move |n| insert(s, i, n)).await;
            let selects = measure(OPS, move |n| select(s, q, n)).await;
            let per_insert = inserts as f64 / OPS as f64;
            let per_select = selects as f64 / OPS as f64;
            println!(
                "3 nodes x 4 shards, {mode}: {inserts} allocations over {OPS} INSERTs \
                 ({per_insert:.4} each), {selects} over {OPS} SELECTs ({per_select:.4} each), \
                 {IN_FLIGHT} in flight"
            );
            let (with_token, owned) = sim
                .request_stats()
                .iter()
                .fold((0, 0), |(w, o), st| (w + st.with_token, o + st.owned));
            assert_eq!(with_token, 2 * OPS as u64, "{mode}");
            assert_eq!(
                owned, with_token,
                "{mode}: every measured request was owned"
            );
            assert!(
                per_insert <= 0.05,
                "{mode}: {per_insert} allocations per INSERT"
            );
            assert!(
                per_select <= 0.5,
                "{mode}: {per_select} allocations per SELECT"
            );
        }
    });
    // Stop the simulator on its own runtime.
    let _enter = sim_rt.enter();
    drop(sim);
}
