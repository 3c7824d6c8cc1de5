//! Load balancing policies against a 3-node × 4-shard simulated cluster: a filter sends
//! nothing to the nodes it leaves out, a preference sends everything to the preferred node
//! while it is up (and moves on when it is not), a policy of its own replaces the plan, and
//! the default policy given explicitly routes as the built-in plan does (every request on an
//! owning node and shard), and after a failed first attempt the policy's plan, asked for
//! again, goes on without the node that failed. The simulator counts where each request
//! landed.

mod common;
mod routing_support;

use std::net::SocketAddr;
use std::sync::Arc;

use scylla2::Session;
use scylla2::policies::{
    ClusterView, DefaultPolicy, FilterNodes, LoadBalancingPolicy, Plan, PreferNodes,
};
use scylla2::routing::{RoutingInfo, Target};
use scylla2_sim::{Cluster, FaultRule, RequestKind, SimError};

const REQUESTS: i32 = 300;

/// A session builder on `sim` with `policy`.
fn builder(sim: &Cluster, policy: Arc<dyn LoadBalancingPolicy>) -> scylla2::SessionBuilder {
    Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .load_balancing(policy)
}

async fn session(sim: &Cluster, policy: Arc<dyn LoadBalancingPolicy>) -> Session {
    builder(sim, policy).connect().await.unwrap()
}

/// The default policy preferring the node at `preferred`.
fn prefer(preferred: SocketAddr) -> Arc<dyn LoadBalancingPolicy> {
    Arc::new(PreferNodes::new(Arc::new(DefaultPolicy), move |node| {
        node.address == preferred
    }))
}

/// Runs `REQUESTS` prepared INSERTs of distinct keys and returns the requests each node
/// received.
async fn spread(sim: &Cluster, session: &Session, ks: &str) -> Vec<u64> {
    let insert = session
        .prepare(format!("INSERT INTO {ks}.t (pk, v) VALUES (?, ?)"))
        .await
        .unwrap();
    sim.reset_stats();
    for pk in 0..REQUESTS {
        session.execute(&insert, (pk, "x")).await.unwrap();
    }
    let mut per_node = vec![0; sim.node_count()];
    for s in sim.request_stats() {
        per_node[s.node] += s.received;
    }
    per_node
}

async fn cluster_with_table(ks: &str) -> Cluster {
    let sim = routing_support::builder().start().await.unwrap();
    let setup = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .connect()
        .await
        .unwrap();
    common::run_all(
        &setup,
        &[
            format!(
                "CREATE KEYSPACE {ks} WITH replication = {}",
                routing_support::SIMPLE_RF1
            ),
            format!("CREATE TABLE {ks}.t (pk int PRIMARY KEY, v text)"),
        ],
    )
    .await;
    sim
}

fn address_of(sim: &Cluster, node: usize) -> SocketAddr {
    let info = &sim.nodes()[node];
    SocketAddr::new(info.address, info.port)
}

#[tokio::test]
async fn a_filter_never_sends_to_the_nodes_it_leaves_out() {
    let sim = cluster_with_table("lbf").await;
    let excluded = address_of(&sim, 1);
    let policy = FilterNodes::new(Arc::new(DefaultPolicy), move |node| {
        node.address != excluded
    });
    let session = session(&sim, Arc::new(policy)).await;
    let per_node = spread(&sim, &session, "lbf").await;
    assert_eq!(per_node[1], 0, "{per_node:?}");
    assert_eq!(per_node.iter().sum::<u64>(), REQUESTS as u64);
    assert!(per_node[0] > 0 && per_node[2] > 0, "{per_node:?}");
    sim.shutdown();
}

#[tokio::test]
async fn a_preferred_node_takes_everything_while_it_is_up() {
    let sim = cluster_with_table("lbp").await;
    let session = session(&sim, prefer(address_of(&sim, 2))).await;
    let per_node = spread(&sim, &session, "lbp").await;
    assert_eq!(per_node, [0, 0, REQUESTS as u64]);
    sim.shutdown();
}

/// A policy of its own: the nodes in reverse address order, whatever the token.
#[derive(Debug)]
struct Reversed;

impl LoadBalancingPolicy for Reversed {
    fn plan(
        &self,
        _request: &RoutingInfo<'_>,
        cluster: &ClusterView<'_>,
        _default: &mut dyn Iterator<Item = Target>,
        plan: &mut Plan,
    ) {
        let mut best: Option<u32> = None;
        for (i, node) in cluster.nodes().iter().enumerate() {
            if best.is_none_or(|b| cluster.nodes()[b as usize].address < node.address) {
                best = Some(i as u32);
            }
        }
        if let Some(node) = best.filter(|n| cluster.is_up(*n)) {
            plan.push(Target { node, shard: None });
        }
    }
}

#[tokio::test]
async fn a_policy_of_its_own_replaces_the_plan() {
    let sim = cluster_with_table("lbo").await;
    let session = session(&sim, Arc::new(Reversed)).await;
    let per_node = spread(&sim, &session, "lbo").await;
    let last = (0..sim.node_count())
        .max_by_key(|n| address_of(&sim, *n))
        .unwrap();
    assert_eq!(per_node[last], REQUESTS as u64, "{per_node:?}");
    sim.shutdown();
}

#[tokio::test]
async fn the_default_policy_given_explicitly_routes_to_owners() {
    let sim = cluster_with_table("lbd").await;
    let session = session(&sim, Arc::new(DefaultPolicy)).await;
    let per_node = spread(&sim, &session, "lbd").await;
    assert_eq!(per_node.iter().sum::<u64>(), REQUESTS as u64);
    let owned: u64 = sim.request_stats().iter().map(|s| s.owned).sum();
    assert_eq!(
        owned, REQUESTS as u64,
        "every request on its replica's owning shard"
    );
    sim.shutdown();
}

/// A first attempt that fails on the preferred node: the policy is asked for the rest of the
/// plan again, and the retry goes to another node, never back to the one that failed.
#[tokio::test]
async fn after_a_failure_the_policy_plan_goes_on_without_the_failed_node() {
    let sim = cluster_with_table("lbr").await;
    let preferred = address_of(&sim, 2);
    let session = builder(&sim, prefer(preferred))
        .default_idempotent(true)
        .connect()
        .await
        .unwrap();
    let insert = session
        .prepare("INSERT INTO lbr.t (pk, v) VALUES (?, ?)")
        .await
        .unwrap();
    sim.inject(
        FaultRule::error(SimError::Overloaded("busy".into()))
            .kind(RequestKind::Execute)
            .node(2)
            .times(1000),
    );
    for pk in 0..20 {
        let result = session.execute(&insert, (pk, "x")).await.unwrap();
        let info = result.execution();
        assert_eq!(info.attempts, 2, "{info:?}");
        assert!(info.node.is_some_and(|n| n != preferred), "{info:?}");
    }
    sim.clear_faults();
    sim.shutdown();
}
