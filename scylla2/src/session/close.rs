//! Graceful shutdown: [`Session::close`] refuses new executions, lets the requests in flight
//! finish until a deadline, then closes every connection and stops every background task.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Session;

/// How often `close` checks whether the requests in flight are done.
const DRAIN_POLL: Duration = Duration::from_millis(2);

/// What [`Session::close`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloseSummary {
    /// Requests in flight when the close began that finished before the deadline.
    pub drained: usize,
    /// Requests still waiting at the deadline: they failed with
    /// [`ExecutionError::SessionClosed`](crate::error::ExecutionError::SessionClosed).
    pub failed: usize,
    /// How long the close took.
    pub elapsed: Duration,
}

impl Session {
    /// Closes the session, for every clone of it: new executions are refused at once with
    /// [`ExecutionError::SessionClosed`](crate::error::ExecutionError::SessionClosed), the requests
    /// in flight may finish until `deadline` has passed, then those still waiting fail with
    /// the same error, and every connection (the control connection included) is closed and
    /// every background task of the session (control, pools, reconnections, connection
    /// tasks) stopped. Calling it again returns at once.
    ///
    /// Dropping the last clone of a session without calling `close` also closes its
    /// connections and stops its tasks, but at once: requests still in flight on other
    /// tasks then fail with a connection error.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// use std::time::Duration;
    ///
    /// let clone = session.clone();
    /// let summary = session.close(Duration::from_secs(5)).await;
    /// println!("{} requests finished, {} cut off", summary.drained, summary.failed);
    /// assert_eq!(summary.failed, 0);
    /// // Every clone is closed: new executions are refused at once.
    /// let err = clone.execute("SELECT now() FROM system.local", ()).await.unwrap_err();
    /// assert!(matches!(err.kind(), scylla2::error::ExecutionError::SessionClosed));
    /// assert!(clone.is_closed());
    /// # Ok(()) }
    /// ```
    pub async fn close(&self, deadline: Duration) -> CloseSummary {
        let started = Instant::now();
        let inner = &*self.inner;
        if inner.closing.swap(true, Ordering::AcqRel) {
            return CloseSummary {
                drained: 0,
                failed: 0,
                elapsed: started.elapsed(),
            };
        }
        let live = || {
            inner.pools.live_requests() + inner.cluster.as_ref().map_or(0, |c| c.live_requests())
        };
        let at_start = live();
        let mut left = at_start;
        while left > 0 && started.elapsed() < deadline {
            tokio::time::sleep(DRAIN_POLL.min(deadline.saturating_sub(started.elapsed()))).await;
            left = live();
        }
        if let Some(cluster) = &inner.cluster {
            cluster.close();
        }
        inner.pools.close();
        let summary = CloseSummary {
            drained: at_start.saturating_sub(left),
            failed: left,
            elapsed: started.elapsed(),
        };
        #[cfg(feature = "tracing")]
        tracing::info!(
            target: "scylla2",
            drained = summary.drained,
            failed = summary.failed,
            elapsed = ?summary.elapsed,
            "session closed"
        );
        summary
    }

    /// Whether [`Self::close`] was called (on this session or a clone of it).
    pub fn is_closed(&self) -> bool {
        self.inner.closing.load(Ordering::Acquire)
    }
}
