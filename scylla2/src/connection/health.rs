//! A connection's health: whether its owner should still route requests to it, and the two
//! background tasks that judge it.
//!
//! - *Suspect*: a request on it passed its deadline unanswered. The connection is probed at
//!   once (OPTIONS, answered within the heartbeat timeout or the connection is killed);
//!   pools route around a suspect connection until the probe is answered, so a node that
//!   stopped answering loses its traffic within one request timeout.
//! - *Retiring*: too many stream ids are held by requests that stopped waiting for answers
//!   that never came (orphaned ids). The connection still works, but its owner should open a
//!   replacement and drop it; it closes once the requests still holding it are done.
//! - The owner (a pool) hears of every change through the [`Notify`] it registered with
//!   [`Inner::watch`], so it never has to poll its connections.
//! - The heartbeat task judges liveness by *completed frames*, not bytes read, so a frame
//!   whose body never finishes arriving does not count as traffic.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use scylla2_cql::frame::HeaderFlags;
use tokio::sync::Notify;

use super::Inner;
use super::error::ConnectionError;
use super::slots;
use crate::clock::Stamp;

/// A request on the connection passed its deadline; a probe decides.
const SUSPECT: u8 = 1;
/// Too many orphaned stream ids: the owner should replace the connection.
const RETIRING: u8 = 2;

/// Health flags and the owner's notification.
#[derive(Debug)]
pub(crate) struct Health {
    state: AtomicU8,
    /// Orphaned stream ids from which the connection asks to be replaced.
    max_orphaned: usize,
    /// The owner's wake-up, notified on every change of health (and on death).
    watcher: OnceLock<Arc<Notify>>,
    /// Wakes the heartbeat task for an immediate probe.
    probe: Notify,
}

impl Health {
    pub(crate) fn new(max_orphaned: usize) -> Self {
        Self {
            state: AtomicU8::new(0),
            max_orphaned: max_orphaned.max(1),
            watcher: OnceLock::new(),
            probe: Notify::new(),
        }
    }

    fn notify_watcher(&self) {
        if let Some(w) = self.watcher.get() {
            w.notify_one();
        }
    }

    fn set(&self, flag: u8) -> bool {
        let first = self.state.fetch_or(flag, Ordering::AcqRel) & flag == 0;
        if first {
            self.notify_watcher();
        }
        first
    }

    fn clear(&self, flag: u8) {
        if self.state.fetch_and(!flag, Ordering::AcqRel) & flag != 0 {
            self.notify_watcher();
        }
    }

    pub(crate) fn is_suspect(&self) -> bool {
        self.state.load(Ordering::Acquire) & SUSPECT != 0
    }

    pub(crate) fn is_retiring(&self) -> bool {
        self.state.load(Ordering::Acquire) & RETIRING != 0
    }
}

impl Inner {
    /// Registers the owner's wake-up (once; later calls are ignored).
    pub(crate) fn watch(&self, notify: Arc<Notify>) {
        let _ = self.health.watcher.set(notify);
        // A change that happened before the registration is not lost.
        if self.health.state.load(Ordering::Acquire) != 0 || self.slots.is_closed() {
            self.health.notify_watcher();
        }
    }

    /// Tells the owner the connection died.
    pub(crate) fn notify_death(&self) {
        self.health.notify_watcher();
    }

    /// A stream id was orphaned: past the threshold, the connection asks to be replaced.
    pub(crate) fn note_orphaned(&self) {
        if self.slots.orphaned() < self.health.max_orphaned {
            return;
        }
        #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
        let first = self.health.set(RETIRING);
        #[cfg(feature = "tracing")]
        if first {
            tracing::warn!(
                target: "scylla2",
                node = %self.peer,
                orphaned = self.slots.orphaned(),
                "too many requests never answered: connection to be replaced"
            );
        }
    }

    /// Requests passed their deadlines: suspect the connection and probe it now.
    fn note_timeouts(&self) {
        #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
        let first = self.health.set(SUSPECT);
        #[cfg(feature = "tracing")]
        if first {
            tracing::debug!(
                target: "scylla2",
                node = %self.peer,
                "request timed out: connection suspect, probing it"
            );
        }
        self.health.probe.notify_one();
    }

    /// Asks for an immediate probe (e.g. the server reported the node down).
    pub(crate) fn probe(&self) {
        self.health.probe.notify_one();
    }
}

/// The connection's expiry task: sleeps until the earliest request deadline of its slots
/// (or until a request brings an earlier one), then fails the requests whose deadline
/// passed. With a constant timeout it wakes about once per timeout period. Requests that
/// expire make the connection suspect and trigger a probe.
pub(crate) async fn expire_requests(inner: Arc<Inner>) {
    let slots = &inner.slots;
    loop {
        let due = slots.armed();
        if due == slots::NO_DEADLINE {
            slots.rearm.notified().await;
            continue;
        }
        tokio::select! {
            biased;
            () = slots.rearm.notified() => {}
            () = tokio::time::sleep_until(slots.instant(due)) => {
                let now = slots.ticks(Some(Stamp::now()));
                let (_, expired) = slots.expire(now);
                if expired > 0 {
                    inner.note_timeouts();
                } else if now < due {
                    // The timer fired before the deadline on the driver's clock: tokio's clock
                    // is paused and ran ahead (a test runtime; deadlines follow real time).
                    // The timer, re-armed for the same instant, fires at once again: yield
                    // between the checks.
                    tokio::task::yield_now().await;
                }
            }
        }
    }
}

/// Sends OPTIONS on a connection that completed no frame for a whole `interval` (so a
/// heartbeat follows between one and two intervals of silence; `None`: no periodic
/// heartbeat), and at once when a probe is asked for. No answer within `timeout` kills the
/// connection; an answer clears the suspicion.
pub(crate) async fn heartbeat(inner: Arc<Inner>, interval: Option<Duration>, timeout: Duration) {
    let mut seen = inner.frames();
    loop {
        let probe = tokio::select! {
            () = inner.health.probe.notified() => true,
            () = sleep_or_never(interval) => false,
        };
        if !probe {
            let frames = inner.frames();
            if frames != seen {
                seen = frames;
                continue;
            }
        }
        let options = scylla2_cql::request::Options;
        let deadline = Stamp::now().checked_add(timeout);
        match inner.send(&options, HeaderFlags::default(), deadline).await {
            Ok(_) => inner.health.clear(SUSPECT),
            Err(ConnectionError::DeadlinePassed) => {
                #[cfg(feature = "tracing")]
                tracing::warn!(
                    target: "scylla2",
                    node = %inner.peer,
                    ?timeout,
                    probe,
                    "heartbeat not answered: closing the connection"
                );
                inner.kill(ConnectionError::HeartbeatTimeout(timeout));
                return;
            }
            // No stream id left: the orphaned-id threshold replaces the connection.
            Err(e) if !e.is_fatal() => {}
            Err(_) => return,
        }
        seen = inner.frames();
    }
}

async fn sleep_or_never(interval: Option<Duration>) {
    match interval {
        Some(i) => tokio::time::sleep(i).await,
        None => std::future::pending().await,
    }
}
