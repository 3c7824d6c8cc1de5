//! Reading query traces: [`Session::tracing_info`] fetches the trace of a traced request
//! (its session row and events in `system_traces`) as a typed [`TracingInfo`].
//!
//! A node writes a trace asynchronously after answering, so the session row may be missing
//! or still lack its `duration` right after the traced request returns. Like the official
//! driver (`Session::get_tracing_info`: several attempts a few milliseconds apart at
//! consistency ONE), the read is retried a bounded number of times until `duration` is set.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use uuid::Uuid;

use super::Session;
use crate::error::{ExecuteError, RowsError};
use crate::statement::Query;
use crate::{Consistency, CqlTimestamp};

const SESSION_QUERY: &str = "SELECT client, command, coordinator, duration, parameters, \
                             request, started_at FROM system_traces.sessions WHERE session_id = ?";
const EVENTS_QUERY: &str = "SELECT event_id, activity, source, source_elapsed, thread \
                            FROM system_traces.events WHERE session_id = ?";

/// The trace of one request, as `system_traces.sessions` and `system_traces.events` hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TracingInfo {
    /// The client's address.
    pub client: Option<IpAddr>,
    /// The command (`QUERY` for CQL requests).
    pub command: Option<String>,
    /// The coordinator node's address.
    pub coordinator: Option<IpAddr>,
    /// How long the request took on the coordinator, in microseconds (set once the trace is
    /// complete).
    pub duration: Option<i32>,
    /// Request parameters (`query`, `consistency_level`, `page_size`, ...).
    pub parameters: HashMap<String, String>,
    /// What was requested, e.g. `Execute CQL3 query`.
    pub request: Option<String>,
    /// When the request started.
    pub started_at: Option<CqlTimestamp>,
    /// The trace's events, in event-id (time) order.
    pub events: Vec<TracingEvent>,
}

/// One event of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TracingEvent {
    /// The event id (a time-based UUID).
    pub event_id: Uuid,
    /// What happened.
    pub activity: Option<String>,
    /// The node it happened on.
    pub source: Option<IpAddr>,
    /// Microseconds since the request started on that node.
    pub source_elapsed: Option<i32>,
    /// The thread (Cassandra) or shard (ScyllaDB) it ran on.
    pub thread: Option<String>,
}

/// How [`Session::tracing_info_with`] reads a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TracingFetch {
    /// Reads before giving up on an incomplete trace (at least 1; default 10).
    pub attempts: u32,
    /// Pause between reads (default 3 ms).
    pub interval: Duration,
    /// Consistency of the reads (default ONE).
    pub consistency: Consistency,
}

impl Default for TracingFetch {
    fn default() -> Self {
        TracingFetch {
            attempts: 10,
            interval: Duration::from_millis(3),
            consistency: Consistency::One,
        }
    }
}

impl TracingFetch {
    /// With `attempts` reads at most.
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// With `interval` between reads.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Reading at `consistency`.
    pub fn with_consistency(mut self, consistency: Consistency) -> Self {
        self.consistency = consistency;
        self
    }
}

/// Why a trace could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TracingInfoError {
    /// Reading `system_traces` failed.
    #[error("reading the trace {id} from system_traces failed: {source}")]
    Read {
        /// The tracing id.
        id: Uuid,
        /// The failed execution.
        source: Box<ExecuteError>,
    },
    /// A row of `system_traces` did not have the expected columns or types.
    #[error("the trace {id} in system_traces is malformed: {source}")]
    Rows {
        /// The tracing id.
        id: Uuid,
        /// The decoding error.
        source: RowsError,
    },
    /// The trace was still missing or incomplete (no `duration`) after every attempt.
    #[error(
        "the trace {id} was still incomplete after {attempts} reads of system_traces \
         (raise TracingFetch::attempts or interval)"
    )]
    Incomplete {
        /// The tracing id.
        id: Uuid,
        /// Reads made.
        attempts: u32,
    },
}

type SessionRow = (
    Option<IpAddr>,
    Option<String>,
    Option<IpAddr>,
    Option<i32>,
    Option<HashMap<String, String>>,
    Option<String>,
    Option<CqlTimestamp>,
);
type EventRow = (
    Uuid,
    Option<String>,
    Option<IpAddr>,
    Option<i32>,
    Option<String>,
);

impl Session {
    /// The trace of a traced request: its id is [`QueryResult::tracing_id`] of a statement
    /// executed `with_tracing(true)`. Reads at consistency ONE, retrying (10 reads, 3 ms
    /// apart) while the trace is still being written; see [`Session::tracing_info_with`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
    /// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
    /// use scylla2::Query;
    ///
    /// let traced = Query::new("SELECT key FROM system.local").with_tracing(true);
    /// let result = session.execute(&traced, ()).await?;
    /// let id = result.tracing_id().ok_or("a traced request has a tracing id")?;
    /// let trace = session.tracing_info(id).await?;
    /// println!("{:?} took {:?} µs", trace.request, trace.duration);
    /// for event in &trace.events {
    ///     println!("{:>8?} µs  {:?}", event.source_elapsed, event.activity);
    /// }
    /// assert_eq!(trace.request.as_deref(), Some("Execute CQL3 query"));
    /// assert_eq!(trace.parameters["query"], "SELECT key FROM system.local");
    /// # Ok(()) }
    /// ```
    ///
    /// [`QueryResult::tracing_id`]: crate::QueryResult::tracing_id
    pub async fn tracing_info(&self, id: Uuid) -> Result<TracingInfo, TracingInfoError> {
        self.tracing_info_with(id, TracingFetch::default()).await
    }

    /// [`Session::tracing_info`] with its own attempts, interval and consistency.
    pub async fn tracing_info_with(
        &self,
        id: Uuid,
        fetch: TracingFetch,
    ) -> Result<TracingInfo, TracingInfoError> {
        let attempts = fetch.attempts.max(1);
        let sessions = Query::new(SESSION_QUERY).with_consistency(fetch.consistency);
        let events = Query::new(EVENTS_QUERY).with_consistency(fetch.consistency);
        for attempt in 1..=attempts {
            if let Some(info) = self.read_trace(id, &sessions, &events).await? {
                return Ok(info);
            }
            if attempt < attempts {
                tokio::time::sleep(fetch.interval).await;
            }
        }
        Err(TracingInfoError::Incomplete { id, attempts })
    }

    /// One read of the trace: `None` while it is missing or has no `duration` yet.
    async fn read_trace(
        &self,
        id: Uuid,
        sessions: &Query,
        events: &Query,
    ) -> Result<Option<TracingInfo>, TracingInfoError> {
        let read = |source| TracingInfoError::Read {
            id,
            source: Box::new(source),
        };
        let rows = |source| TracingInfoError::Rows { id, source };
        let result = self.execute(sessions, (id,)).await.map_err(read)?;
        let Some((client, command, coordinator, duration, parameters, request, started_at)) =
            result.maybe_first_row::<SessionRow>().map_err(rows)?
        else {
            return Ok(None);
        };
        if duration.is_none() {
            return Ok(None);
        }
        let result = self.execute(events, (id,)).await.map_err(read)?;
        let mut list = Vec::new();
        for row in result.rows::<EventRow>().map_err(rows)? {
            let (event_id, activity, source, source_elapsed, thread) =
                row.map_err(|e| rows(RowsError::from(e)))?;
            list.push(TracingEvent {
                event_id,
                activity,
                source,
                source_elapsed,
                thread,
            });
        }
        Ok(Some(TracingInfo {
            client,
            command,
            coordinator,
            duration,
            parameters: parameters.unwrap_or_default(),
            request,
            started_at,
            events: list,
        }))
    }
}
