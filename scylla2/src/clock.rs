//! The driver's per-request clock: one cheap monotonic reading ([`Stamp`], nanoseconds) for
//! an execution's start, its deadline, its latency and the stream slot's deadline ticks.
//!
//! `std::time::Instant` keeps a `timespec` and checks every subtraction (seconds and
//! nanoseconds apart, then a normalised `Duration`); an execution did four such operations
//! (deadline, slot ticks, latency), about 200 instructions of a request's 7 600 under
//! callgrind. A stamp is a plain `u64`: adding a timeout, turning a deadline into slot ticks
//! and measuring a latency are an addition, a division by a constant and a subtraction.
//!
//! On Linux a stamp reads `CLOCK_MONOTONIC`, the clock `Instant` and so tokio's timers read
//! (through `rustix`'s safe wrapper of the C library's `clock_gettime`). Elsewhere it
//! counts from the first reading of `Instant`. Conversions to and from tokio's `Instant`
//! (for the rare timers an execution arms: speculation, a re-prepare's deadline; and for
//! deadlines given to the public connection API) go through one reference pair of readings
//! taken once. Deadlines and latencies follow real time, also in a test runtime whose tokio
//! clock is paused: the expiry task's timer, which follows tokio's clock, may then fire
//! before a deadline, and the task checks again (yielding) until real time reaches it.

use std::sync::OnceLock;
use std::time::Duration;

/// A reading of the monotonic clock: nanoseconds from an unspecified origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Stamp(u64);

impl Stamp {
    /// The clock now.
    #[inline]
    pub(crate) fn now() -> Self {
        Self(now_nanos())
    }

    /// Nanoseconds from the clock's origin.
    #[inline]
    pub(crate) fn nanos(self) -> u64 {
        self.0
    }

    /// The time from `earlier` to `self`, zero when `earlier` is later.
    #[inline]
    pub(crate) fn since(self, earlier: Self) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// The time since `self`.
    #[inline]
    pub(crate) fn elapsed(self) -> Duration {
        Self::now().since(self)
    }

    /// `self + d`, `None` beyond the clock's range (about 584 years from its origin).
    #[inline]
    pub(crate) fn checked_add(self, d: Duration) -> Option<Self> {
        let nanos = u64::try_from(d.as_nanos()).ok()?;
        self.0.checked_add(nanos).map(Self)
    }

    /// The tokio instant of this reading (for a timer).
    pub(crate) fn to_instant(self) -> tokio::time::Instant {
        // About 30 years, as tokio's own "far future".
        const FAR: Duration = Duration::from_secs(30 * 365 * 86_400);
        let (instant, stamp) = reference();
        let at = if self >= stamp {
            // Beyond the range of `Instant`: a timer that does not fire (not one at once).
            instant
                .checked_add(self.since(stamp))
                .or_else(|| instant.checked_add(FAR))
                .unwrap_or(instant)
        } else {
            // Before the range of `Instant` (before boot): due now.
            instant.checked_sub(stamp.since(self)).unwrap_or(instant)
        };
        tokio::time::Instant::from_std(at)
    }

    /// The reading of a tokio instant.
    pub(crate) fn from_instant(at: tokio::time::Instant) -> Self {
        let (instant, stamp) = reference();
        let at = at.into_std();
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        if at >= instant {
            Self(stamp.0.saturating_add(nanos(at - instant)))
        } else {
            Self(stamp.0.saturating_sub(nanos(instant - at)))
        }
    }
}

/// An `Instant` and the stamp of the same moment, taken once: the two clocks' offset. The
/// instant is read between two stamps, and the pair whose stamps lie closest of a few tries
/// is kept with their midpoint (a thread preempted between two readings would otherwise
/// shift every conversion by the pause).
fn reference() -> (std::time::Instant, Stamp) {
    static REFERENCE: OnceLock<(std::time::Instant, Stamp)> = OnceLock::new();
    *REFERENCE.get_or_init(|| {
        let mut best: Option<(u64, std::time::Instant, Stamp)> = None;
        for _ in 0..8 {
            let before = Stamp::now();
            let instant = std::time::Instant::now();
            let after = Stamp::now();
            let width = after.0.saturating_sub(before.0);
            if best.is_none_or(|(w, _, _)| width < w) {
                best = Some((width, instant, Stamp(before.0 + width / 2)));
            }
        }
        match best {
            Some((_, instant, stamp)) => (instant, stamp),
            None => (std::time::Instant::now(), Stamp::now()),
        }
    })
}

#[cfg(target_os = "linux")]
#[inline]
fn now_nanos() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    // CLOCK_MONOTONIC counts from boot: never negative.
    (t.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(t.tv_nsec as u64)
}

#[cfg(not(target_os = "linux"))]
fn now_nanos() -> u64 {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(std::time::Instant::now);
    u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_follow_the_instant_clock() {
        let before = std::time::Instant::now();
        let stamp = Stamp::now();
        std::thread::sleep(Duration::from_millis(20));
        let later = Stamp::now();
        let after = std::time::Instant::now();
        let measured = later.since(stamp);
        assert!(measured >= Duration::from_millis(20), "{measured:?}");
        assert!(
            measured <= after - before,
            "{measured:?} > {:?}",
            after - before
        );
        assert_eq!(stamp.since(later), Duration::ZERO, "saturates");
    }

    #[test]
    fn conversions_to_and_from_tokio_instants_agree() {
        let now = Stamp::now();
        for offset in [0, 1, 999, 1_000_000, 5_000_000_000] {
            let d = Duration::from_nanos(offset);
            let later = now.checked_add(d).unwrap();
            let instant = later.to_instant();
            let back = Stamp::from_instant(instant);
            // The two clocks' offset is read once; a round trip is exact to the nanosecond.
            assert!(back.nanos().abs_diff(later.nanos()) <= 1, "{offset}");
            // Both read the same monotonic clock: an instant read between two stamps
            // converts to a stamp between them (give or take the reference's precision).
            let before = Stamp::now();
            let tokio_now = tokio::time::Instant::now();
            let after = Stamp::now();
            let converted = Stamp::from_instant(tokio_now).nanos();
            let slack = 1_000_000;
            assert!(
                converted + slack >= before.nanos() && converted <= after.nanos() + slack,
                "{} <= {converted} <= {}",
                before.nanos(),
                after.nanos()
            );
        }
        let earlier = Stamp(now.nanos().saturating_sub(10_000_000));
        assert!(
            Stamp::from_instant(earlier.to_instant())
                .nanos()
                .abs_diff(earlier.nanos())
                <= 1
        );
    }

    #[test]
    fn adding_beyond_the_range_is_none() {
        let now = Stamp::now();
        assert_eq!(now.checked_add(Duration::MAX), None);
        assert_eq!(Stamp(u64::MAX).checked_add(Duration::from_nanos(1)), None);
        assert_eq!(
            now.checked_add(Duration::from_secs(2)).unwrap().since(now),
            Duration::from_secs(2)
        );
    }
}
