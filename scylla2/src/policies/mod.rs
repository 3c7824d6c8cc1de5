//! Execution policies: load balancing ([`LoadBalancingPolicy`]), retries ([`RetryPolicy`]),
//! speculative execution ([`SpeculativeExecution`]), execution profiles
//! ([`ExecutionProfile`], [`ExecutionProfileHandle`]) and the pools' reconnection
//! ([`ReconnectionPolicy`]), applied by the driver's one attempt loop to every execution,
//! whether its plan is routed (token- and shard-aware) or the unrouted contact-point rotation.

mod execute;
pub(crate) mod load_balancing;
pub(crate) mod profile;
pub(crate) mod profile_handle;
pub(crate) mod reconnection;
pub(crate) mod retry;
pub(crate) mod speculative;

use std::sync::Arc;

pub(crate) use execute::{First, Rest, Setup, finish, run_attempts, run_loop};
pub use load_balancing::{
    ClusterView, DefaultPolicy, FilterNodes, LoadBalancingPolicy, MAX_PLAN, NodePredicate, Plan,
    PreferNodes,
};
pub use profile::ExecutionProfile;
pub use profile_handle::ExecutionProfileHandle;
pub use reconnection::{
    ConstantReconnectionPolicy, ExponentialReconnectionPolicy, ReconnectionPolicy,
};
pub use retry::{
    DefaultRetryPolicy, DowngradingConsistencyRetryPolicy, FallthroughRetryPolicy, RetryDecision,
    RetryPolicy, RetryRequest, may_have_been_applied, not_sent,
};
pub use speculative::{
    LatencyTracker, SpeculativeDelay, SpeculativeExecution, SpeculativeExecutionPolicy,
};

/// How one execution went; see `QueryResult::execution`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecutionInfo {
    /// The node that answered.
    pub node: Option<std::net::SocketAddr>,
    /// The shard of the connection that answered (Scylla).
    pub shard: Option<crate::routing::Shard>,
    /// Attempts started (first, retries and speculative ones).
    pub attempts: u16,
    /// Speculative attempts started.
    pub speculative: u16,
    /// Time from the first attempt to the answer.
    pub latency: std::time::Duration,
}

/// The policies a session applies to every execution.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ExecutionPolicies {
    /// What to do after a failed attempt.
    pub retry: Arc<dyn RetryPolicy>,
    /// Speculative execution of idempotent statements (off by default).
    pub speculative: Option<Arc<dyn SpeculativeExecution>>,
}

impl Default for ExecutionPolicies {
    fn default() -> Self {
        Self {
            retry: Arc::new(DefaultRetryPolicy),
            speculative: None,
        }
    }
}

impl ExecutionPolicies {
    /// With a retry policy.
    pub fn with_retry(mut self, retry: Arc<dyn RetryPolicy>) -> Self {
        self.retry = retry;
        self
    }

    /// With the driver's speculative execution policy (`None`: no speculation).
    pub fn with_speculative(mut self, speculative: Option<SpeculativeExecutionPolicy>) -> Self {
        self.speculative = speculative.map(|s| Arc::new(s) as Arc<dyn SpeculativeExecution>);
        self
    }

    /// With a speculative execution policy of its own.
    pub fn with_speculative_policy(mut self, speculative: Arc<dyn SpeculativeExecution>) -> Self {
        self.speculative = Some(speculative);
        self
    }
}
