//! Load balancing: which node (and shard) each request goes to. The driver's own plan sends
//! a statement to the replicas of its partition first; a policy can prefer some nodes
//! (`PreferNodes`), leave some out (`FilterNodes`), or build plans of its own (a
//! `LoadBalancingPolicy` impl). Each result says which node answered.
//!
//! `cargo run -p scylla2 --example custom_load_balancing` runs it against an embedded
//! simulated 3-node cluster (scylla2-sim, started inside this process); with
//! `SCYLLA_URI=host:port` set it runs against that cluster instead.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use scylla2::Session;
use scylla2::policies::{
    ClusterView, DefaultPolicy, FilterNodes, LoadBalancingPolicy, Plan, PreferNodes,
};
use scylla2::routing::{RoutingInfo, Target};

/// A policy of its own: every node in turn, whatever the statement (no token awareness),
/// skipping nodes without a usable connection.
#[derive(Debug, Default)]
struct RoundRobin {
    next: AtomicUsize,
}

impl LoadBalancingPolicy for RoundRobin {
    fn plan(
        &self,
        _request: &RoutingInfo<'_>,
        cluster: &ClusterView<'_>,
        _default: &mut dyn Iterator<Item = Target>,
        plan: &mut Plan,
    ) {
        // Runs on every execution: no blocking, no allocation (the plan is on the stack).
        let count = cluster.nodes().len();
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..count {
            let node = ((first + i) % count) as u32;
            if cluster.is_up(node) {
                // No shard: the driver picks one of the node's connections.
                plan.push(Target { node, shard: None });
            }
        }
    }
}

/// Runs 60 prepared INSERTs of distinct partitions on `session` and prints how many each
/// node answered (from `QueryResult::execution`).
async fn spread(session: &Session, label: &str) -> Result<(), Box<dyn std::error::Error>> {
    let insert = session
        .prepare("INSERT INTO example_lb.kv (k, v) VALUES (?, ?)")
        .await?;
    let mut per_node: BTreeMap<SocketAddr, usize> = BTreeMap::new();
    for k in 0..60i32 {
        let result = session.execute(&insert, (k, "v")).await?;
        if let Some(node) = result.execution().node {
            *per_node.entry(node).or_default() += 1;
        }
    }
    println!("   {label}:");
    for (node, count) in &per_node {
        println!("     {node}: {count} request(s)");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A real cluster from SCYLLA_URI, or a simulated one of 3 nodes (127.0.0.1, .2 and .3)
    // on a free port.
    let (uri, _sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => (uri, None),
        Err(_) => {
            let sim = scylla2_sim::Cluster::builder()
                .nodes(3)
                .port(0)
                .start()
                .await?;
            (sim.contact_points()[0].to_string(), Some(sim))
        }
    };
    println!("Connecting to {uri}");
    let session = Session::builder()
        .contact_point(uri.as_str())
        .connect()
        .await?;
    let mut nodes = session.nodes();
    nodes.sort();
    println!("   the cluster has {} node(s): {nodes:?}", nodes.len());
    session
        .execute(
            "CREATE KEYSPACE IF NOT EXISTS example_lb WITH replication = \
             {'class': 'SimpleStrategy', 'replication_factor': 1}",
            (),
        )
        .await?;
    session
        .execute(
            "CREATE TABLE IF NOT EXISTS example_lb.kv (k int PRIMARY KEY, v text)",
            (),
        )
        .await?;
    // Two nodes to single out below: the last one and the first one.
    let (first, last) = match (nodes.first(), nodes.last()) {
        (Some(first), Some(last)) => (*first, *last),
        _ => return Err("the session knows no node".into()),
    };

    println!("\n1. The driver's own plan: each partition's replica answers");
    spread(&session, "default (token-aware)").await?;

    println!("\n2. PreferNodes: {last} first, the others only when it is down");
    // Preferences usually name a rack or a data center (`node.rack`, `node.datacenter`).
    let prefer = PreferNodes::new(Arc::new(DefaultPolicy), move |node| node.address == last);
    let session = Session::builder()
        .contact_point(uri.as_str())
        .load_balancing(Arc::new(prefer))
        .connect()
        .await?;
    spread(&session, &format!("prefer {last}")).await?;

    println!("\n3. FilterNodes: never send anything to {first}");
    // E.g. a node being decommissioned, or another data center. Still token-aware for the
    // partitions of the nodes left.
    let filter = FilterNodes::new(Arc::new(DefaultPolicy), move |node| node.address != first);
    let session = Session::builder()
        .contact_point(uri.as_str())
        .load_balancing(Arc::new(filter))
        .connect()
        .await?;
    spread(&session, &format!("without {first}")).await?;

    println!("\n4. A LoadBalancingPolicy of its own: round robin over the nodes");
    let session = Session::builder()
        .contact_point(uri.as_str())
        .load_balancing(Arc::new(RoundRobin::default()))
        .connect()
        .await?;
    spread(&session, "round robin").await?;

    println!("\nDone.");
    Ok(())
}
