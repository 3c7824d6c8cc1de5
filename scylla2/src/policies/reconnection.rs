//! Reconnection policies: how long a pool waits before trying a node again after failed
//! attempts to connect. Used by the node pools of routed sessions, the contact-point
//! connections of unrouted ones, and (capped at half a second) the control connection.

use std::collections::hash_map::RandomState;
use std::fmt::Debug;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::time::Duration;

/// The delay before the next attempt to connect to a node.
///
/// ```
/// use std::net::SocketAddr;
/// use std::time::Duration;
/// use scylla2::policies::ReconnectionPolicy;
///
/// /// Retries every node every 250 ms, forever.
/// #[derive(Debug)]
/// struct Steady;
///
/// impl ReconnectionPolicy for Steady {
///     fn delay(&self, _node: SocketAddr, _failures: u32) -> Duration {
///         Duration::from_millis(250)
///     }
/// }
///
/// let node: SocketAddr = "127.0.0.1:9042".parse().unwrap();
/// assert_eq!(Steady.delay(node, 7), Duration::from_millis(250));
/// ```
pub trait ReconnectionPolicy: Send + Sync + Debug {
    /// The wait before the next attempt to connect to `node` after `failures` (at least 1)
    /// failed attempts in a row. A successful connection, STATUS_CHANGE UP or a new control
    /// connection resets the count.
    fn delay(&self, node: SocketAddr, failures: u32) -> Duration;
}

/// Doubling delays from `base` up to `max`, each with a random extra of up to half of it
/// (jitter, so that many clients do not reconnect in step). The default: 100 ms to 10 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExponentialReconnectionPolicy {
    /// The first delay.
    pub base: Duration,
    /// The largest delay (before jitter).
    pub max: Duration,
}

impl ExponentialReconnectionPolicy {
    /// Delays from `base` doubling up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The delay before jitter after `failures` failures.
    fn plain(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.base
            .saturating_mul(1u32 << doublings)
            .min(self.max.max(self.base))
    }
}

impl Default for ExponentialReconnectionPolicy {
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(10))
    }
}

impl ReconnectionPolicy for ExponentialReconnectionPolicy {
    fn delay(&self, node: SocketAddr, failures: u32) -> Duration {
        let plain = self.plain(failures);
        let half = u64::try_from(plain.as_micros() / 2).unwrap_or(u64::MAX);
        let jitter = RandomState::new().hash_one((node, failures)) % half.saturating_add(1);
        plain.saturating_add(Duration::from_micros(jitter))
    }
}

/// The same delay after every failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConstantReconnectionPolicy {
    /// The delay.
    pub delay: Duration,
}

impl ConstantReconnectionPolicy {
    /// Waits `delay` after every failure.
    pub fn new(delay: Duration) -> Self {
        Self { delay }
    }
}

impl ReconnectionPolicy for ConstantReconnectionPolicy {
    fn delay(&self, _node: SocketAddr, _failures: u32) -> Duration {
        self.delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9042))
    }

    #[test]
    fn exponential_doubles_up_to_its_max_with_at_most_half_of_jitter() {
        let p = ExponentialReconnectionPolicy::default();
        for (failures, plain_ms) in [(1, 100), (2, 200), (3, 400), (7, 6_400), (8, 10_000)] {
            let plain = Duration::from_millis(plain_ms);
            for _ in 0..20 {
                let d = p.delay(node(), failures);
                assert!(d >= plain && d <= plain + plain / 2, "{failures}: {d:?}");
            }
        }
        let d = p.delay(node(), u32::MAX);
        assert!(
            d >= Duration::from_secs(10) && d <= Duration::from_secs(15),
            "{d:?}"
        );
        // A zero failure count (never passed by the driver) is the first delay.
        assert!(p.delay(node(), 0) <= Duration::from_millis(150));
    }

    #[test]
    fn constant_is_constant() {
        let p = ConstantReconnectionPolicy::new(Duration::from_millis(30));
        assert_eq!(p.delay(node(), 1), Duration::from_millis(30));
        assert_eq!(p.delay(node(), 1000), Duration::from_millis(30));
    }
}
