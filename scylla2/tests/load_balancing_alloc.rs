//! A load balancing policy allocates nothing per request either: the allocation test of the
//! routed path (`routing_alloc_sim.rs`) run with a policy that wraps the default plan twice
//! (a filter, then a preference), whose plans live on the stack. 3 nodes × 4 shards, 10 000
//! prepared INSERTs and SELECTs, 128 in flight, counted on the driver's thread only.

mod common;
mod routing_support;

use std::net::SocketAddr;
use std::sync::Arc;

use common::counting::{IN_FLIGHT, OPS, insert, measure, select};
use scylla2::Session;
use scylla2::policies::{DefaultPolicy, FilterNodes, PreferNodes};

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

#[test]
fn a_wrapping_policy_does_not_allocate() {
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = sim_rt.block_on(async { routing_support::builder().start().await.unwrap() });
    let uri = sim.contact_points()[0].to_string();
    let nodes = sim.nodes();
    let excluded = SocketAddr::new(nodes[2].address, nodes[2].port);
    let preferred = SocketAddr::new(nodes[0].address, nodes[0].port);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let filter = FilterNodes::new(Arc::new(DefaultPolicy), move |n| n.address != excluded);
        let policy = PreferNodes::new(Arc::new(filter), move |n| n.address == preferred);
        let session = Session::builder()
            .contact_point(uri)
            .load_balancing(Arc::new(policy))
            .connect()
            .await
            .unwrap();
        let ks = common::counting::create_table(&session, "lballoc").await;
        let ins = session
            .prepare(format!("INSERT INTO {ks}.t (pk, ck, v) VALUES (?, ?, ?)"))
            .await
            .unwrap();
        let sel = session
            .prepare(format!("SELECT ck, v FROM {ks}.t WHERE pk = ?"))
            .await
            .unwrap();
        let (s, i, q) = (&session, &ins, &sel);
        measure(OPS, move |n| insert(s, i, n)).await;
        measure(OPS, move |n| select(s, q, n)).await;
        sim.reset_stats();
        let inserts = measure(OPS, move |n| insert(s, i, n)).await;
        let selects = measure(OPS, move |n| select(s, q, n)).await;
        let per_insert = inserts as f64 / OPS as f64;
        let per_select = selects as f64 / OPS as f64;
        println!(
            "wrapping policy: {inserts} allocations over {OPS} INSERTs ({per_insert:.4} each), \
             {selects} over {OPS} SELECTs ({per_select:.4} each), {IN_FLIGHT} in flight"
        );
        let per_node = sim.request_stats().iter().fold([0u64; 3], |mut acc, st| {
            acc[st.node] += st.received;
            acc
        });
        assert_eq!(
            per_node,
            [2 * OPS as u64, 0, 0],
            "all on the preferred node"
        );
        assert!(per_insert <= 0.05, "{per_insert} allocations per INSERT");
        assert!(per_select <= 0.5, "{per_select} allocations per SELECT");
    });
    let _enter = sim_rt.enter();
    drop(sim);
}
