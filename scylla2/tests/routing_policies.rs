//! Retry policy decisions for hand-built errors, and retries / speculative execution against
//! the simulator (3 nodes × 4 shards) with injected errors and delays.

mod common;
mod routing_support;

use std::time::{Duration, Instant};

use common::{prepare, query};
use scylla2::error::ConnectionError;
use scylla2::error::ExecutionError;
use scylla2::policies::{
    DefaultRetryPolicy, DowngradingConsistencyRetryPolicy, ExecutionPolicies,
    FallthroughRetryPolicy, RetryDecision, RetryPolicy, RetryRequest, SpeculativeExecutionPolicy,
};
use scylla2::topology::TopologyConfig;
use scylla2::{Consistency, PreparedStatement, Session};
use scylla2_cql::response::{DbError, WriteType};
use scylla2_sim::{Cluster, FaultRule, RequestKind, SimError};

fn db(error: DbError) -> ExecutionError {
    ExecutionError::Db {
        error,
        message: "injected".into(),
    }
}

fn decide(
    policy: &dyn RetryPolicy,
    error: &ExecutionError,
    idempotent: bool,
    retries: usize,
) -> RetryDecision {
    let mut request = RetryRequest::new(error, idempotent, Consistency::Quorum);
    request.retries = retries;
    policy.decide(&request)
}

fn read_timeout(received: i32, block_for: i32, data_present: bool) -> ExecutionError {
    db(DbError::ReadTimeout {
        consistency: Consistency::Quorum,
        received,
        block_for,
        data_present,
    })
}

fn write_timeout(received: i32, write_type: WriteType) -> ExecutionError {
    db(DbError::WriteTimeout {
        consistency: Consistency::Quorum,
        received,
        block_for: 2,
        write_type,
        contentions: None,
    })
}

fn unavailable(alive: i32) -> ExecutionError {
    db(DbError::Unavailable {
        consistency: Consistency::Quorum,
        required: 2,
        alive,
    })
}

#[test]
fn default_policy_decisions() {
    let p = DefaultRetryPolicy;
    use RetryDecision::*;
    assert_eq!(
        decide(&p, &read_timeout(2, 2, false), false, 0),
        RetrySameNode(None)
    );
    assert_eq!(decide(&p, &read_timeout(2, 2, false), false, 1), DontRetry);
    assert_eq!(decide(&p, &read_timeout(1, 2, false), true, 0), DontRetry);
    assert_eq!(decide(&p, &read_timeout(2, 2, true), true, 0), DontRetry);
    assert_eq!(
        decide(&p, &write_timeout(1, WriteType::Simple), true, 0),
        DontRetry
    );
    assert_eq!(
        decide(&p, &write_timeout(1, WriteType::BatchLog), true, 0),
        RetrySameNode(None)
    );
    assert_eq!(
        decide(&p, &write_timeout(1, WriteType::BatchLog), false, 0),
        DontRetry
    );
    assert_eq!(decide(&p, &unavailable(1), false, 0), RetryNextNode(None));
    assert_eq!(decide(&p, &unavailable(1), false, 1), DontRetry);
    assert_eq!(
        decide(&p, &db(DbError::Overloaded), true, 3),
        RetryNextNode(None)
    );
    assert_eq!(decide(&p, &db(DbError::Overloaded), false, 0), DontRetry);
    assert_eq!(
        decide(&p, &db(DbError::ServerError), true, 0),
        RetryNextNode(None)
    );
    assert_eq!(
        decide(&p, &db(DbError::IsBootstrapping), false, 0),
        RetryNextNode(None)
    );
    assert_eq!(decide(&p, &db(DbError::SyntaxError), true, 0), DontRetry);
    assert_eq!(decide(&p, &db(DbError::Invalid), true, 0), DontRetry);
    let exhausted = ExecutionError::Connection(ConnectionError::StreamsExhausted(1024));
    assert_eq!(decide(&p, &exhausted, false, 5), RetryNextNode(None));
    let closed = ExecutionError::Connection(ConnectionError::Closed);
    assert_eq!(decide(&p, &closed, true, 0), RetryNextNode(None));
    assert_eq!(decide(&p, &closed, false, 0), DontRetry);
}

#[test]
fn fallthrough_and_downgrading_decisions() {
    use RetryDecision::*;
    let f = FallthroughRetryPolicy;
    assert_eq!(decide(&f, &db(DbError::Overloaded), true, 0), DontRetry);
    assert_eq!(decide(&f, &read_timeout(2, 2, false), true, 0), DontRetry);
    let exhausted = ExecutionError::Connection(ConnectionError::StreamsExhausted(1));
    assert_eq!(decide(&f, &exhausted, false, 0), RetryNextNode(None));
    let d = DowngradingConsistencyRetryPolicy;
    assert_eq!(
        decide(&d, &unavailable(2), true, 0),
        RetrySameNode(Some(Consistency::Two))
    );
    assert_eq!(decide(&d, &unavailable(0), true, 0), DontRetry);
    assert_eq!(
        decide(&d, &read_timeout(1, 2, false), true, 0),
        RetrySameNode(Some(Consistency::One))
    );
    assert_eq!(
        decide(&d, &read_timeout(2, 2, false), true, 0),
        RetrySameNode(None)
    );
    assert_eq!(
        decide(&d, &write_timeout(1, WriteType::Simple), true, 0),
        RetrySameNode(Some(Consistency::One))
    );
    assert_eq!(
        decide(&d, &write_timeout(1, WriteType::Counter), true, 0),
        DontRetry
    );
    assert_eq!(decide(&d, &unavailable(2), true, 1), DontRetry);
}

async fn setup(policies: ExecutionPolicies) -> (Cluster, Session, PreparedStatement) {
    let sim = routing_support::builder().start().await.expect("simulator");
    let mut config = TopologyConfig::default();
    config.policies = policies;
    let session = routing_support::session_with(&sim, config).await;
    query(&session, "CREATE KEYSPACE pol WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}").await;
    query(&session, "CREATE TABLE pol.t (k int PRIMARY KEY, v int)").await;
    let insert = prepare(&session, "INSERT INTO pol.t (k, v) VALUES (?, ?)").await;
    (sim, session, insert)
}

fn executes(sim: &Cluster) -> u64 {
    sim.request_stats().iter().map(|s| s.with_token).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overloaded_moves_on_only_when_idempotent() {
    let (sim, session, insert) = setup(ExecutionPolicies::default()).await;
    sim.reset_stats();
    sim.inject(
        FaultRule::error(SimError::Overloaded("busy".into()))
            .kind(RequestKind::Execute)
            .times(1),
    );
    let idempotent = insert.clone().with_idempotent(true);
    let result = session
        .execute(&idempotent, (1, 1))
        .await
        .expect("retried on the next node");
    // Faulted attempts are not counted by the simulator: the one counted is the retry.
    assert_eq!(executes(&sim), 1, "the retry executed");
    // The failed first attempt (awaited outside the retry loop without speculation) and
    // the retry are both counted.
    assert_eq!(result.execution().attempts, 2);
    assert_eq!(result.execution().speculative, 0);
    sim.reset_stats();
    sim.inject(
        FaultRule::error(SimError::Overloaded("busy".into()))
            .kind(RequestKind::Execute)
            .times(1),
    );
    let err = session
        .execute(&insert.clone().with_idempotent(false), (2, 2))
        .await
        .expect_err("not retried");
    assert!(
        matches!(
            err.kind(),
            ExecutionError::Db {
                error: DbError::Overloaded,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        executes(&sim),
        0,
        "a non-idempotent request is sent once (and failed)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_is_tried_once_on_the_next_node() {
    let (sim, session, insert) = setup(ExecutionPolicies::default()).await;
    sim.reset_stats();
    let unavailable = SimError::Unavailable {
        consistency: 4,
        required: 2,
        alive: 1,
    };
    sim.inject(
        FaultRule::error(unavailable.clone())
            .kind(RequestKind::Execute)
            .times(1),
    );
    session
        .execute(&insert, (3, 3))
        .await
        .expect("second node answers");
    assert_eq!(executes(&sim), 1);
    sim.reset_stats();
    sim.inject(
        FaultRule::error(unavailable)
            .kind(RequestKind::Execute)
            .times(2),
    );
    // A second retry would have succeeded: the error proves there was only one.
    let err = session
        .execute(&insert, (4, 4))
        .await
        .expect_err("only one retry");
    assert!(matches!(
        err.kind(),
        ExecutionError::Db {
            error: DbError::Unavailable { .. },
            ..
        }
    ));
    assert_eq!(executes(&sim), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speculative_execution_beats_a_slow_replica() {
    let policies = ExecutionPolicies::default().with_speculative(Some(
        SpeculativeExecutionPolicy::constant(Duration::from_millis(40)),
    ));
    let (sim, session, insert) = setup(policies).await;
    // Every node holds every key (RF 3); node 1 answers after 3 s.
    sim.set_delay(1, None, Duration::from_secs(3))
        .expect("delay");
    let idempotent = insert.clone().with_idempotent(true);
    sim.reset_stats();
    let mut speculated = 0;
    for i in 0..30 {
        let start = Instant::now();
        let result = session.execute(&idempotent, (i, i)).await.expect("insert");
        speculated += result.execution().speculative;
        assert!(
            result
                .execution()
                .node
                .is_some_and(|n| n != sim_node(&sim, 1))
        );
        assert!(
            start.elapsed() < Duration::from_millis(2_500),
            "request {i} waited for the slow node"
        );
    }
    let slow: u64 = sim
        .request_stats()
        .iter()
        .filter(|s| s.node == 1)
        .map(|s| s.received)
        .sum();
    assert!(slow > 0, "the slow node was tried first sometimes");
    assert!(speculated > 0, "speculative attempts are reported");
    // Non-idempotent statements are never sent twice: some wait for the slow node (now
    // answering after 600 ms).
    sim.set_delay(1, None, Duration::from_millis(600))
        .expect("delay");
    let mut waited = false;
    for i in 0..12 {
        let start = Instant::now();
        session.execute(&insert, (i, i)).await.expect("insert");
        waited |= start.elapsed() >= Duration::from_millis(500);
    }
    assert!(waited, "non-idempotent requests are not speculated");
}

fn sim_node(sim: &Cluster, i: usize) -> std::net::SocketAddr {
    std::net::SocketAddr::new(sim.nodes()[i].address, sim.port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_override_the_session_and_statements_override_profiles() {
    use scylla2::policies::ExecutionProfile;
    use std::sync::Arc;
    let (sim, session, insert) = setup(ExecutionPolicies::default()).await;
    let overloaded = || {
        FaultRule::error(SimError::Overloaded("busy".into()))
            .kind(RequestKind::Execute)
            .times(1)
    };
    // Idempotent through the profile: the default policy retries on the next node.
    let idempotent = Arc::new(ExecutionProfile::new().with_idempotent(true));
    sim.inject(overloaded());
    session
        .execute(&insert.clone().with_profile(idempotent.clone()), (10, 10))
        .await
        .expect("retried");
    // The statement's own option wins over the profile.
    sim.inject(overloaded());
    session
        .execute(
            &insert
                .clone()
                .with_profile(idempotent)
                .with_idempotent(false),
            (11, 11),
        )
        .await
        .expect_err("not idempotent: not retried");
    // The profile's retry policy replaces the session's.
    let fallthrough = Arc::new(
        ExecutionProfile::new()
            .with_idempotent(true)
            .with_consistency(Consistency::One)
            .with_policies(
                ExecutionPolicies::default().with_retry(Arc::new(FallthroughRetryPolicy)),
            ),
    );
    sim.inject(overloaded());
    let err = session
        .execute(&insert.clone().with_profile(fallthrough.clone()), (12, 12))
        .await
        .expect_err("fallthrough never retries");
    assert!(matches!(
        err.kind(),
        ExecutionError::Db {
            error: DbError::Overloaded,
            ..
        }
    ));
    sim.clear_faults();
    session
        .execute(&insert.with_profile(fallthrough), (13, 13))
        .await
        .expect("runs at the profile's consistency");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_that_always_retries_is_bounded() {
    #[derive(Debug)]
    struct Always;
    impl RetryPolicy for Always {
        fn decide(&self, _: &RetryRequest<'_>) -> RetryDecision {
            RetryDecision::RetrySameNode(None)
        }
    }
    let policies = ExecutionPolicies::default().with_retry(std::sync::Arc::new(Always));
    let (sim, session, insert) = setup(policies).await;
    sim.inject(
        FaultRule::error(SimError::Overloaded("busy".into()))
            .kind(RequestKind::Execute)
            .times(1000),
    );
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        session.execute(&insert.with_idempotent(true), (1, 1)),
    )
    .await
    .expect("bounded")
    .expect_err("still overloaded");
    assert!(matches!(
        err.kind(),
        ExecutionError::Db {
            error: DbError::Overloaded,
            ..
        }
    ));
    sim.clear_faults();
}
