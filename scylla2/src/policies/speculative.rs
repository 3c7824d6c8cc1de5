//! Speculative execution: for idempotent statements, after a delay (constant, or a latency
//! percentile of recent requests) the next node of the plan is tried too; the first answer
//! wins and the other attempts are dropped (their stream ids stay reserved until their late
//! responses arrive, then are freed). [`LatencyTracker`] is a lock-free log-linear histogram.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// When to start a speculative attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum SpeculativeDelay {
    /// After a fixed delay.
    Constant(Duration),
    /// After the given percentile (0–100) of recent request latencies; `fallback` until
    /// `min_samples` latencies were recorded.
    Percentile {
        /// The percentile, e.g. 99.0.
        percentile: f64,
        /// Samples needed before the percentile is trusted.
        min_samples: u64,
        /// Delay used before that.
        fallback: Duration,
    },
}

/// When and how often an idempotent statement is tried on the next node of its plan while
/// the previous attempts are still out (see `ExecutionPolicies::with_speculative_policy`).
/// [`SpeculativeExecutionPolicy`] is the driver's (constant delay or latency percentile).
///
/// ```
/// use std::time::Duration;
/// use scylla2::policies::LatencyTracker;
/// use scylla2::policies::SpeculativeExecution;
///
/// /// One speculative attempt, after twice the median latency (5 ms until it is known).
/// #[derive(Debug)]
/// struct TwiceTheMedian;
///
/// impl SpeculativeExecution for TwiceTheMedian {
///     fn max_speculative(&self) -> usize {
///         1
///     }
///     fn delay(&self, latencies: &LatencyTracker) -> Duration {
///         latencies.percentile(50.0).map_or(Duration::from_millis(5), |m| m * 2)
///     }
///     fn reads_latencies(&self) -> bool {
///         true
///     }
/// }
/// ```
pub trait SpeculativeExecution: Send + Sync + std::fmt::Debug {
    /// Attempts started besides the first (the driver starts at most 2).
    fn max_speculative(&self) -> usize;

    /// The delay before the next speculative attempt, measured from the previous one.
    fn delay(&self, latencies: &LatencyTracker) -> Duration;

    /// Whether [`delay`](Self::delay) reads `latencies`: the driver records every
    /// execution's latency only when a policy does.
    fn reads_latencies(&self) -> bool {
        false
    }
}

impl SpeculativeExecution for SpeculativeExecutionPolicy {
    fn max_speculative(&self) -> usize {
        self.max_speculative
    }

    fn delay(&self, latencies: &LatencyTracker) -> Duration {
        SpeculativeExecutionPolicy::delay(self, latencies)
    }

    fn reads_latencies(&self) -> bool {
        matches!(self.delay, SpeculativeDelay::Percentile { .. })
    }
}

/// The driver's speculative execution policy. Only idempotent statements are executed
/// speculatively.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).nodes(2).start().await?;
/// # let uri = sim.contact_points()[0].to_string();
/// use std::sync::Arc;
/// use std::time::Duration;
/// use scylla2::Query;
/// use scylla2::policies::{ExecutionPolicies, SpeculativeExecutionPolicy};
/// use scylla2_sim::{FaultAction, FaultRule};
///
/// let speculative = SpeculativeExecutionPolicy::constant(Duration::from_millis(20));
/// let policies = ExecutionPolicies::default().with_speculative(Some(speculative));
/// let session = scylla2::Session::builder().contact_point(uri).execution_policies(policies).connect().await?;
/// // The first attempt is answered after 2 s; the second, on the other node, at once.
/// sim.inject(FaultRule::new(FaultAction::Delay(Duration::from_secs(2))).query_contains("WHERE key"));
/// let query = Query::new("SELECT key FROM system.local WHERE key = 'local'").with_idempotent(true);
/// let result = session.execute(&query, ()).await?;
/// assert_eq!(result.execution().speculative, 1);
/// assert!(result.execution().latency < Duration::from_secs(1));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct SpeculativeExecutionPolicy {
    /// When each further attempt starts (measured from the previous one).
    pub delay: SpeculativeDelay,
    /// Attempts started besides the first (at most 2).
    pub max_speculative: usize,
}

impl SpeculativeExecutionPolicy {
    /// One speculative attempt after a constant delay.
    pub fn constant(delay: Duration) -> Self {
        Self {
            delay: SpeculativeDelay::Constant(delay),
            max_speculative: 1,
        }
    }

    /// One speculative attempt after the `percentile` latency (`fallback` while warming up).
    pub fn percentile(percentile: f64, fallback: Duration) -> Self {
        Self {
            delay: SpeculativeDelay::Percentile {
                percentile,
                min_samples: 100,
                fallback,
            },
            max_speculative: 1,
        }
    }

    /// With up to `n` speculative attempts (capped at 2).
    pub fn with_max_speculative(mut self, n: usize) -> Self {
        self.max_speculative = n.min(2);
        self
    }

    /// The delay to use now.
    pub fn delay(&self, latencies: &LatencyTracker) -> Duration {
        match self.delay {
            SpeculativeDelay::Constant(d) => d,
            SpeculativeDelay::Percentile {
                percentile,
                min_samples,
                fallback,
            } => {
                if latencies.count() < min_samples {
                    fallback
                } else {
                    latencies.percentile(percentile).unwrap_or(fallback)
                }
            }
        }
    }
}

const BUCKETS: usize = 256;

/// Request latencies in microseconds, bucketed log-linearly (4 buckets per power of two,
/// ≤ 25% relative error). Recording is one atomic increment; no lock, no allocation.
#[derive(Debug)]
pub struct LatencyTracker {
    buckets: [AtomicU64; BUCKETS],
    count: AtomicU64,
}

impl Default for LatencyTracker {
    fn default() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
        }
    }
}

fn bucket_of(us: u64) -> usize {
    if us < 4 {
        return us as usize;
    }
    let e = 63 - us.leading_zeros() as usize; // >= 2
    let sub = ((us >> (e - 2)) & 3) as usize;
    ((e - 1) * 4 + sub).min(BUCKETS - 1)
}

fn upper_of(index: usize) -> u64 {
    if index < 4 {
        return index as u64;
    }
    let e = index / 4 + 1;
    let sub = (index % 4) as u64;
    ((4 + sub + 1) << (e - 2)).saturating_sub(1)
}

impl LatencyTracker {
    /// An empty tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one latency.
    pub fn record(&self, latency: Duration) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(us)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Number of recorded latencies.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The `p`-th percentile (0–100), as the upper bound of its bucket; `None` when empty.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        let total: u64 = self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum();
        if total == 0 {
            return None;
        }
        let rank = ((p.clamp(0.0, 100.0) / 100.0) * total as f64)
            .ceil()
            .max(1.0) as u64;
        let mut seen = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= rank {
                return Some(Duration::from_micros(upper_of(i)));
            }
        }
        Some(Duration::from_micros(upper_of(BUCKETS - 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_bound_their_values() {
        let mut last = 0;
        for us in [
            0u64,
            1,
            3,
            4,
            5,
            7,
            8,
            9,
            15,
            16,
            100,
            1000,
            123_456,
            u64::MAX / 3,
        ] {
            let b = bucket_of(us);
            assert!(b >= last);
            last = b;
            assert!(
                upper_of(b) >= us,
                "{us} in bucket {b} bounded by {}",
                upper_of(b)
            );
            assert!(
                upper_of(b) <= us + us / 4 + 1,
                "{us}: bound {} too loose",
                upper_of(b)
            );
        }
    }

    #[test]
    fn percentiles() {
        let t = LatencyTracker::new();
        assert_eq!(t.percentile(99.0), None);
        for ms in 1..=100u64 {
            t.record(Duration::from_millis(ms));
        }
        let p50 = t.percentile(50.0).unwrap();
        assert!(
            p50 >= Duration::from_millis(50) && p50 <= Duration::from_millis(63),
            "{p50:?}"
        );
        let p99 = t.percentile(99.0).unwrap();
        assert!(
            p99 >= Duration::from_millis(99) && p99 <= Duration::from_millis(124),
            "{p99:?}"
        );
        let policy = SpeculativeExecutionPolicy::percentile(99.0, Duration::from_millis(7));
        assert_eq!(policy.delay(&t), p99);
        assert_eq!(
            policy.delay(&LatencyTracker::new()),
            Duration::from_millis(7)
        );
    }
}
