//! Query traces: the sessions and events of traced requests, shown by
//! `system_traces.sessions` and `system_traces.events`.
//!
//! A real node writes a trace asynchronously (Cassandra's `TraceState` /
//! `TraceKeyspace.makeStartSessionMutation` then `makeStopSessionMutation`): the session row
//! exists at once, its `duration` only once the trace is complete, which is why drivers
//! retry while `duration` is null. The simulator records a trace when the request was
//! answered and hides its `duration` until the engine's trace delay has passed
//! ([`Engine::set_trace_delay`](super::Engine::set_trace_delay), default zero).

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Traces kept (the oldest are forgotten first, as the real tables' TTL would).
const KEPT: usize = 4096;

/// One event of a trace.
#[derive(Debug, Clone)]
pub struct TraceEvent {
    /// Event id (a time-based UUID).
    pub event_id: Uuid,
    /// What happened.
    pub activity: String,
    /// The node it happened on.
    pub source: IpAddr,
    /// Microseconds since the request started.
    pub source_elapsed: i32,
    /// The thread (Cassandra) or shard (ScyllaDB) name.
    pub thread: String,
}

/// One traced request.
#[derive(Debug, Clone)]
pub struct TraceSession {
    /// The tracing id sent to the client.
    pub session_id: Uuid,
    /// The client's address.
    pub client: IpAddr,
    /// The coordinator's address.
    pub coordinator: IpAddr,
    /// Always `QUERY` for CQL requests.
    pub command: &'static str,
    /// E.g. `Execute CQL3 query`.
    pub request: &'static str,
    /// Query string, consistency, page size...
    pub parameters: Vec<(String, String)>,
    /// Start, milliseconds since the Unix epoch.
    pub started_at: i64,
    /// Microseconds the request took.
    pub duration: i32,
    /// Events in order.
    pub events: Vec<TraceEvent>,
    /// When `duration` becomes visible (the trace is "complete").
    pub complete_at: Instant,
}

/// The traces of the cluster.
#[derive(Debug, Default)]
pub(crate) struct Traces {
    sessions: VecDeque<TraceSession>,
    pub(crate) delay: Duration,
}

impl Traces {
    pub(crate) fn record(&mut self, mut session: TraceSession) {
        session.complete_at = Instant::now() + self.delay;
        if self.sessions.len() >= KEPT {
            self.sessions.pop_front();
        }
        self.sessions.push_back(session);
    }

    pub(crate) fn sessions(&self) -> impl Iterator<Item = &TraceSession> {
        self.sessions.iter()
    }
}

impl super::Engine {
    fn traces(&self) -> std::sync::MutexGuard<'_, Traces> {
        self.inner.traces.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the trace of a traced request.
    pub fn record_trace(&self, session: TraceSession) {
        self.traces().record(session);
    }

    /// How long a trace's `duration` stays null after the request was answered (as when a
    /// real node is still writing it).
    pub fn set_trace_delay(&self, delay: Duration) {
        self.traces().delay = delay;
    }

    /// A copy of every recorded trace, oldest first.
    pub fn trace_sessions(&self) -> Vec<TraceSession> {
        self.traces().sessions().cloned().collect()
    }
}
