//! Retry policies: what to do when an attempt failed. [`DefaultRetryPolicy`] behaves like
//! Cassandra drivers' default; [`FallthroughRetryPolicy`] never retries;
//! [`DowngradingConsistencyRetryPolicy`] retries once at a consistency the cluster can meet.
//! Whatever a policy says, a non-idempotent request is never sent again once it may have
//! reached a server (the execution loop enforces it).

use scylla2_cql::Consistency;
use scylla2_cql::response::DbError;
use scylla2_cql::response::WriteType;

use crate::error::ConnectionError;
use crate::error::ExecutionError;

/// A failed attempt, as the policy sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RetryRequest<'a> {
    /// The error of the attempt.
    pub error: &'a ExecutionError,
    /// Whether the statement is idempotent.
    pub idempotent: bool,
    /// Retries already made for this execution.
    pub retries: usize,
    /// Consistency of the failed attempt.
    pub consistency: Consistency,
}

impl<'a> RetryRequest<'a> {
    /// A first failure (no retries yet).
    pub fn new(error: &'a ExecutionError, idempotent: bool, consistency: Consistency) -> Self {
        Self {
            error,
            idempotent,
            retries: 0,
            consistency,
        }
    }
}

/// A policy's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryDecision {
    /// Try again on the same node (optionally at another consistency).
    RetrySameNode(Option<Consistency>),
    /// Try the next node of the plan (optionally at another consistency).
    RetryNextNode(Option<Consistency>),
    /// Give up: the error is returned.
    DontRetry,
}

/// Decides whether and where a failed attempt is retried.
pub trait RetryPolicy: Send + Sync + std::fmt::Debug {
    /// The decision for a failed attempt.
    fn decide(&self, request: &RetryRequest<'_>) -> RetryDecision;
}

/// Whether the request certainly never reached a server (safe to send anywhere).
pub fn not_sent(error: &ExecutionError) -> bool {
    matches!(
        error,
        ExecutionError::Connection(
            ConnectionError::StreamsExhausted(_)
                | ConnectionError::Request(_)
                | ConnectionError::FrameTooLarge { .. }
        )
    ) || matches!(
        error,
        ExecutionError::Db {
            error: DbError::IsBootstrapping,
            ..
        }
    )
}

/// Whether the request may have been applied by a server (so resending could apply it
/// twice): anything but a request never sent, one the coordinator refused before executing
/// it (unavailable, bootstrapping), or a read the replicas failed to answer in time (read
/// timeout, read failure: the server reports them for reads only, and a read cannot be
/// applied twice).
pub fn may_have_been_applied(error: &ExecutionError) -> bool {
    !not_sent(error)
        && !matches!(
            error,
            ExecutionError::Db {
                error: DbError::Unavailable { .. }
                    | DbError::ReadTimeout { .. }
                    | DbError::ReadFailure { .. },
                ..
            }
        )
}

/// Cassandra-like: a read timeout is retried once on the same node when enough replicas
/// answered but the data was missing; a write timeout of the batch log once when idempotent;
/// unavailable is tried once on the next node; overloaded, server and truncate errors and
/// broken connections move to the next node only for idempotent statements; requests that
/// were never sent always move on. Everything else (syntax, invalid, rate limit, …) fails.
///
/// The full decision table. "Same node" and unavailable's "next node" are decided once per
/// execution; the other "next node" rows repeat for each failure while the plan has nodes
/// (at most 16 retries).
///
/// | error | idempotent | not idempotent |
/// |---|---|---|
/// | never sent (stream ids exhausted, request too large, bootstrapping) | next node | next node |
/// | read timeout, enough replicas answered, no data | same node | same node (a read cannot be applied twice) |
/// | read timeout, other cases; read failure | fail | fail |
/// | write timeout of the batch log | same node | fail |
/// | other write timeouts, write failure | fail | fail |
/// | unavailable | next node | next node (refused before executing) |
/// | overloaded, server error, truncate error | next node | fail |
/// | connection broken or closed after sending | next node | fail |
/// | request timeout (the execution's deadline) | fail | fail |
/// | syntax, invalid, unauthorized, already exists, rate limit, function failure, … | fail | fail |
///
/// Whatever a policy decides, the execution never resends a non-idempotent request that may
/// have been applied ([`may_have_been_applied`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).nodes(2).start().await?;
/// # let uri = sim.contact_points()[0].to_string();
/// use std::sync::Arc;
/// use scylla2::Query;
/// use scylla2::policies::{DefaultRetryPolicy, ExecutionPolicies, FallthroughRetryPolicy};
/// use scylla2_sim::{FaultRule, SimError};
///
/// let policies = ExecutionPolicies::default().with_retry(Arc::new(DefaultRetryPolicy));
/// let session = scylla2::Session::builder().contact_point(uri.clone()).execution_policies(policies).connect().await?;
/// let query = Query::new("SELECT key FROM system.local WHERE key = 'local'").with_idempotent(true);
/// // The next such request is answered OVERLOADED: retried on the other node.
/// sim.inject(FaultRule::error(SimError::Overloaded("busy".into())).query_contains("WHERE key"));
/// let result = session.execute(&query, ()).await?;
/// assert_eq!(result.execution().attempts, 2);
/// // The same with `FallthroughRetryPolicy`: the error is the caller's.
/// let never = ExecutionPolicies::default().with_retry(Arc::new(FallthroughRetryPolicy));
/// let session = scylla2::Session::builder().contact_point(uri).execution_policies(never).connect().await?;
/// sim.inject(FaultRule::error(SimError::Overloaded("busy".into())).query_contains("WHERE key"));
/// assert!(session.execute(&query, ()).await.is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultRetryPolicy;

impl RetryPolicy for DefaultRetryPolicy {
    fn decide(&self, r: &RetryRequest<'_>) -> RetryDecision {
        if not_sent(r.error) {
            return RetryDecision::RetryNextNode(None);
        }
        match r.error {
            ExecutionError::Db { error, .. } => match error {
                DbError::ReadTimeout {
                    received,
                    block_for,
                    data_present,
                    ..
                } if r.retries == 0 && received >= block_for && !data_present => {
                    RetryDecision::RetrySameNode(None)
                }
                DbError::WriteTimeout { write_type, .. }
                    if r.retries == 0 && r.idempotent && *write_type == WriteType::BatchLog =>
                {
                    RetryDecision::RetrySameNode(None)
                }
                DbError::Unavailable { .. } if r.retries == 0 => RetryDecision::RetryNextNode(None),
                DbError::Overloaded | DbError::ServerError | DbError::TruncateError
                    if r.idempotent =>
                {
                    RetryDecision::RetryNextNode(None)
                }
                _ => RetryDecision::DontRetry,
            },
            ExecutionError::Connection(_) if r.idempotent => RetryDecision::RetryNextNode(None),
            _ => RetryDecision::DontRetry,
        }
    }
}

/// Never retries (requests that were never sent still move to the next node).
#[derive(Debug, Clone, Copy, Default)]
pub struct FallthroughRetryPolicy;

impl RetryPolicy for FallthroughRetryPolicy {
    fn decide(&self, r: &RetryRequest<'_>) -> RetryDecision {
        if not_sent(r.error) {
            RetryDecision::RetryNextNode(None)
        } else {
            RetryDecision::DontRetry
        }
    }
}

/// The default policy, plus: when replicas time out or are unavailable, retry once on the
/// same node at the highest consistency that the replicas that answered (or are alive) can
/// meet (THREE, TWO or ONE); idempotent simple and batch writes that timed out are retried the
/// same way. Trades consistency for availability: use knowingly.
#[derive(Debug, Clone, Copy, Default)]
pub struct DowngradingConsistencyRetryPolicy;

fn downgraded(answered: i32) -> Option<Consistency> {
    match answered {
        n if n >= 3 => Some(Consistency::Three),
        2 => Some(Consistency::Two),
        1 => Some(Consistency::One),
        _ => None,
    }
}

impl RetryPolicy for DowngradingConsistencyRetryPolicy {
    fn decide(&self, r: &RetryRequest<'_>) -> RetryDecision {
        if r.retries > 0 || not_sent(r.error) {
            return DefaultRetryPolicy.decide(r);
        }
        match r.error {
            ExecutionError::Db { error, .. } => match error {
                DbError::Unavailable { alive, .. } => match downgraded(*alive) {
                    Some(cl) => RetryDecision::RetrySameNode(Some(cl)),
                    None => RetryDecision::DontRetry,
                },
                DbError::ReadTimeout {
                    received,
                    block_for,
                    data_present,
                    ..
                } => {
                    if received < block_for {
                        match downgraded(*received) {
                            Some(cl) => RetryDecision::RetrySameNode(Some(cl)),
                            None => RetryDecision::DontRetry,
                        }
                    } else if !data_present {
                        RetryDecision::RetrySameNode(None)
                    } else {
                        RetryDecision::DontRetry
                    }
                }
                DbError::WriteTimeout {
                    received,
                    write_type,
                    ..
                } if r.idempotent => match write_type {
                    WriteType::Simple | WriteType::Batch | WriteType::UnloggedBatch => {
                        match downgraded(*received) {
                            Some(cl) => RetryDecision::RetrySameNode(Some(cl)),
                            None => RetryDecision::DontRetry,
                        }
                    }
                    WriteType::BatchLog => RetryDecision::RetrySameNode(None),
                    _ => RetryDecision::DontRetry,
                },
                _ => DefaultRetryPolicy.decide(r),
            },
            _ => DefaultRetryPolicy.decide(r),
        }
    }
}
