//! Execution profiles: a named bundle of execution settings (consistency, serial consistency,
//! timeout, idempotence, retry and speculative policies) set on a statement with
//! `with_profile`. A statement's own options win over its profile, which wins over the
//! session's defaults.

use std::time::Duration;

use scylla2_cql::{Consistency, SerialConsistency};

use super::ExecutionPolicies;

/// Execution settings shared by the statements that use the profile (set with
/// `with_profile`, or for a whole session with
/// [`SessionBuilder::default_execution_profile`](crate::SessionBuilder::default_execution_profile)).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
/// use std::sync::Arc;
/// use std::time::Duration;
/// use scylla2::{Consistency, Query, error::ExecutionError};
/// use scylla2::policies::ExecutionProfile;
///
/// // e.g. one profile for the latency-critical reads of a service.
/// let fast = Arc::new(
///     ExecutionProfile::new()
///         .with_consistency(Consistency::LocalOne)
///         .with_timeout(Duration::from_millis(500)),
/// );
/// let query = Query::new("SELECT key FROM system.local").with_profile(fast.clone());
/// assert_eq!(session.execute(&query, ()).await?.rows_num(), 1);
/// sim.set_delay(0, None, Duration::from_secs(2))?; // the node slows down
/// let err = session.execute(&query, ()).await.unwrap_err();
/// assert!(matches!(err.kind(), ExecutionError::Timeout(_))); // the profile's timeout
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ExecutionProfile {
    /// Consistency level.
    pub consistency: Option<Consistency>,
    /// Serial consistency.
    pub serial_consistency: Option<SerialConsistency>,
    /// Request timeout.
    pub timeout: Option<Duration>,
    /// Idempotence.
    pub idempotent: Option<bool>,
    /// Retry and speculative execution policies (routed sessions).
    pub policies: Option<ExecutionPolicies>,
}

impl ExecutionProfile {
    /// An empty profile (everything from the session).
    pub fn new() -> Self {
        Self::default()
    }

    /// With a consistency level.
    pub fn with_consistency(mut self, c: Consistency) -> Self {
        self.consistency = Some(c);
        self
    }

    /// With a serial consistency.
    pub fn with_serial_consistency(mut self, c: SerialConsistency) -> Self {
        self.serial_consistency = Some(c);
        self
    }

    /// With a timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Marks statements idempotent or not.
    pub fn with_idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// With execution policies.
    pub fn with_policies(mut self, policies: ExecutionPolicies) -> Self {
        self.policies = Some(policies);
        self
    }
}
