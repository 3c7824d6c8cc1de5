//! Unrouted sessions against the simulator: a session whose topology cannot be read says so
//! (session event, `routing_unavailable`) and then runs through the same attempt loop as a
//! routed one — retry policy, speculative execution, profiles, execution metadata,
//! re-prepare on UNPREPARED — over its contact-point connections.

use std::sync::Arc;
use std::time::Duration;

use scylla2::events::SessionEvent;
use scylla2::policies::{
    ExecutionPolicies, ExecutionProfile, FallthroughRetryPolicy, SpeculativeExecutionPolicy,
};
use scylla2::{Query, Session, error::ExecutionError};
use scylla2_sim::{Cluster, FaultAction, FaultRule, RequestKind, SimError};

async fn sim() -> Cluster {
    Cluster::builder()
        .port(0)
        .start()
        .await
        .expect("simulator starts")
}

/// An unrouted session with `policies`, two connections to the one contact point.
async fn unrouted(sim: &Cluster, policies: ExecutionPolicies) -> Session {
    Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .topology(None)
        .connections_per_node(2)
        .default_idempotent(true)
        .execution_policies(policies)
        .connect()
        .await
        .expect("connects")
}

const PROBE: &str = "SELECT release_version FROM system.local WHERE key = 'local'";

/// `rule`, applied once to the next unprepared [`PROBE`].
fn once_on_probe(rule: FaultRule) -> FaultRule {
    rule.kind(RequestKind::Query)
        .query_contains("release_version")
        .times(1)
}

/// An Overloaded error for the next unprepared [`PROBE`].
fn overloaded_once() -> FaultRule {
    once_on_probe(FaultRule::error(SimError::Overloaded("busy".into())))
}

#[tokio::test]
async fn unreadable_topology_is_reported_and_falls_back() {
    let sim = sim().await;
    sim.inject(
        FaultRule::error(SimError::ServerError("no schema".into()))
            .kind(RequestKind::Query)
            .query_contains("system_schema.keyspaces")
            .times(1000),
    );
    let builder = Session::builder()
        .contact_point(sim.contact_points()[0].to_string())
        .connections_per_node(2);
    let mut events = builder.session_events();
    let session = builder.connect().await.expect("falls back to unrouted");
    sim.clear_faults();
    assert!(!session.is_routing());
    let reason = session.routing_unavailable().expect("a reason").to_owned();
    assert!(reason.contains("no schema"), "{reason}");
    let mut seen = false;
    while let Ok(event) = events.try_recv() {
        if let SessionEvent::RoutingUnavailable { reason: r } = event {
            assert_eq!(r, reason);
            seen = true;
        }
    }
    assert!(seen, "RoutingUnavailable was published");
    // Requests still run, with execution metadata like routed ones.
    let result = session.execute(PROBE, ()).await.expect("runs unrouted");
    assert_eq!(result.execution().attempts, 1);
    assert_eq!(result.execution().node, Some(sim.contact_points()[0]));

    // Topology disabled on purpose: no reason, no event.
    let quiet = unrouted(&sim, ExecutionPolicies::default()).await;
    assert!(quiet.routing_unavailable().is_none());
    assert!(!quiet.is_routing());
}

#[tokio::test]
async fn retry_policy_applies_without_routing() {
    let sim = sim().await;
    let session = unrouted(&sim, ExecutionPolicies::default()).await;
    sim.inject(overloaded_once());
    let result = session.execute(PROBE, ()).await.expect("retried");
    assert_eq!(
        result.execution().attempts,
        2,
        "one retry on the next connection"
    );

    // A session-wide policy that never retries is obeyed.
    let never = unrouted(
        &sim,
        ExecutionPolicies::default().with_retry(Arc::new(FallthroughRetryPolicy)),
    )
    .await;
    sim.inject(overloaded_once());
    let err = never.execute(PROBE, ()).await.expect_err("not retried");
    assert!(matches!(err.kind(), ExecutionError::Db { .. }), "{err:?}");
    // Non-idempotent requests are not resent once they may have been applied.
    sim.inject(overloaded_once());
    let err = session
        .execute(&Query::new(PROBE).with_idempotent(false), ())
        .await
        .expect_err("non-idempotent: not retried");
    assert!(matches!(err.kind(), ExecutionError::Db { .. }), "{err:?}");
}

/// Failing on every connection, an execution tries each of them once: the plan made again
/// after the first failure leaves out the connection that failed.
#[tokio::test]
async fn an_execution_failing_everywhere_tries_each_connection_once() {
    let sim = sim().await;
    let session = unrouted(&sim, ExecutionPolicies::default()).await;
    sim.inject(once_on_probe(FaultRule::error(SimError::Overloaded("busy".into()))).times(100));
    for _ in 0..4 {
        let err = session.execute(PROBE, ()).await.expect_err("fails");
        assert_eq!(
            err.attempts().len(),
            2,
            "both connections, once each: {err:?}"
        );
        assert_eq!(err.execution().map(|i| i.attempts), Some(2), "{err:?}");
    }
    sim.clear_faults();
}

#[tokio::test]
async fn speculative_execution_applies_without_routing() {
    let sim = sim().await;
    let policies = ExecutionPolicies::default().with_speculative(Some(
        SpeculativeExecutionPolicy::constant(Duration::from_millis(30)),
    ));
    let session = unrouted(&sim, policies).await;
    sim.inject(once_on_probe(FaultRule::new(FaultAction::Delay(
        Duration::from_secs(3),
    ))));
    let started = std::time::Instant::now();
    let result = session.execute(PROBE, ()).await.expect("answered");
    assert_eq!(result.execution().speculative, 1);
    assert_eq!(result.execution().attempts, 2);
    assert!(
        started.elapsed() < Duration::from_millis(2_500),
        "the speculative attempt won"
    );
}

#[tokio::test]
async fn reprepares_on_unprepared_without_routing() {
    let sim = sim().await;
    let session = unrouted(&sim, ExecutionPolicies::default()).await;
    let select = session.prepare(PROBE).await.expect("prepares");
    sim.inject(
        FaultRule::error(SimError::Unprepared {
            id: select.id().clone(),
        })
        .kind(RequestKind::Execute)
        .times(1),
    );
    let result = session.execute(&select, ()).await.expect("re-prepared");
    assert_eq!(
        result.execution().attempts,
        1,
        "re-prepare is part of one attempt"
    );
    assert_eq!(result.rows::<(&str,)>().expect("rows").count(), 1);
}

#[tokio::test]
async fn profiles_apply_without_routing() {
    let sim = sim().await;
    let session = unrouted(&sim, ExecutionPolicies::default()).await;
    // The profile's policies replace the session's: no retry for this statement.
    let never =
        Arc::new(ExecutionProfile::new().with_policies(
            ExecutionPolicies::default().with_retry(Arc::new(FallthroughRetryPolicy)),
        ));
    sim.inject(overloaded_once());
    let err = session
        .execute(&Query::new(PROBE).with_profile(never), ())
        .await
        .expect_err("the profile's policy does not retry");
    assert!(matches!(err.kind(), ExecutionError::Db { .. }), "{err:?}");
    // The profile's timeout applies too.
    let quick = Arc::new(ExecutionProfile::new().with_timeout(Duration::from_millis(50)));
    sim.inject(once_on_probe(FaultRule::new(FaultAction::NoAnswer)));
    let err = session
        .execute(
            &Query::new(PROBE).with_profile(quick).with_idempotent(false),
            (),
        )
        .await
        .expect_err("times out");
    assert!(matches!(err.kind(), ExecutionError::Timeout(_)), "{err:?}");
}
