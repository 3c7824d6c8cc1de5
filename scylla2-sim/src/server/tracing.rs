//! Query tracing on the server side: a traced request (tracing flag) gets a time-based
//! tracing id in its answer and a trace recorded in the engine, shown by
//! `system_traces.sessions` / `events` with the parameters and request names a real node
//! writes (Cassandra's `QueryMessage.traceQuery`, `ExecuteMessage`, `BatchMessage`,
//! `PrepareMessage`).

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::conn::Conn;
use super::request::Request;
use super::response;
use crate::engine::traces::{TraceEvent, TraceSession};

/// A trace begun with its request.
pub(super) struct PendingTrace {
    request: &'static str,
    parameters: Vec<(String, String)>,
    started: Instant,
    started_at: i64,
}

/// The consistency name of a protocol consistency code.
fn consistency_name(code: u16) -> &'static str {
    match code {
        0x00 => "ANY",
        0x01 => "ONE",
        0x02 => "TWO",
        0x03 => "THREE",
        0x04 => "QUORUM",
        0x05 => "ALL",
        0x06 => "LOCAL_QUORUM",
        0x07 => "EACH_QUORUM",
        0x08 => "SERIAL",
        0x09 => "LOCAL_SERIAL",
        0x0A => "LOCAL_ONE",
        _ => "UNKNOWN",
    }
}

impl Conn {
    /// Starts the trace of `req` (whose tracing id was picked when its flags were read):
    /// notes its parameters.
    pub(super) fn trace_begin(&self, req: &Request) -> PendingTrace {
        let (request, params) = match req {
            Request::Query { params, .. } => ("Execute CQL3 query", Some(params)),
            Request::Execute { params, .. } => ("Execute CQL3 prepared query", Some(params)),
            Request::Batch { params, .. } => ("Execute batch of CQL3 queries", Some(params)),
            _ => ("Preparing CQL3 query", None),
        };
        let mut parameters = Vec::new();
        if let Some(q) = self.query_text(req) {
            parameters.push(("query".to_string(), q));
        }
        if let Some(p) = params {
            if let Some(n) = p.page_size.filter(|n| *n > 0) {
                parameters.push(("page_size".into(), n.to_string()));
            }
            parameters.push((
                "consistency_level".into(),
                consistency_name(p.consistency).into(),
            ));
            // QueryOptions: SERIAL unless the request names another serial consistency.
            let serial = p.serial_consistency.unwrap_or(0x08);
            parameters.push((
                "serial_consistency_level".into(),
                consistency_name(serial).into(),
            ));
        }
        parameters.sort();
        let started_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        PendingTrace {
            request,
            parameters,
            started: Instant::now(),
            started_at,
        }
    }

    /// Records the trace of the request just answered.
    pub(super) fn trace_end(&self, t: PendingTrace) {
        let node = &self.view.node;
        let elapsed = t.started.elapsed().as_micros().min(i32::MAX as u128) as i32;
        let thread = if node.shards > 0 {
            format!("shard {}", self.shard)
        } else {
            "Native-Transport-Requests-1".to_string()
        };
        let activities = [
            (
                t.request
                    .replace("Execute ", "Executing ")
                    .replace("Preparing", "Parsing"),
                0,
            ),
            ("Preparing statement".to_string(), elapsed / 3),
            ("Request complete".to_string(), elapsed),
        ];
        let events = activities
            .into_iter()
            .map(|(activity, source_elapsed)| TraceEvent {
                event_id: uuid::Uuid::from_bytes(response::time_uuid()),
                activity,
                source: node.addr,
                source_elapsed,
                thread: thread.clone(),
            })
            .collect();
        self.view.shared.engine.record_trace(TraceSession {
            session_id: uuid::Uuid::from_bytes(self.trace_id),
            client: self.client,
            coordinator: node.addr,
            command: "QUERY",
            request: t.request,
            parameters: t.parameters,
            started_at: t.started_at,
            duration: elapsed,
            events,
            complete_at: Instant::now(),
        });
    }
}
