//! Request handling: handshake (OPTIONS / STARTUP / auth), REGISTER, and QUERY / PREPARE /
//! EXECUTE / BATCH through the engine, with statistics and fault injection.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use cassandra_protocol::compression::Compression;
use cassandra_protocol::frame::message_batch::BatchType;

use super::conn::{Conn, Flow, Out, Phase};
use super::eng::tablets::Home;
use super::eng::{BatchKind, BatchStatement, Prepared};
use super::faults::{FaultAction, RequestKind};
use super::node::PreparedEntry;
use super::request::{self, BatchItem, Request};
use super::response::{self, ErrorCtx, Event, MetaOpts};
use super::shard::{IGNORE_MSB, shard_of};
use super::wire::{
    self, FLAG_COMPRESSION, FLAG_CUSTOM_PAYLOAD, FLAG_TRACING, FLAG_WARNING, RawHeader,
};
use crate::model::{QueryParams, QueryResult, SimError};

fn kind_of(op: u8) -> Option<RequestKind> {
    Some(match op {
        request::OP_STARTUP => RequestKind::Startup,
        request::OP_OPTIONS => RequestKind::Options,
        request::OP_QUERY => RequestKind::Query,
        request::OP_PREPARE => RequestKind::Prepare,
        request::OP_EXECUTE => RequestKind::Execute,
        request::OP_BATCH => RequestKind::Batch,
        request::OP_REGISTER => RequestKind::Register,
        request::OP_AUTH_RESPONSE => RequestKind::AuthResponse,
        _ => return None,
    })
}

fn op_name(op: u8) -> &'static str {
    match kind_of(op) {
        Some(RequestKind::Startup) => "STARTUP",
        Some(RequestKind::Options) => "OPTIONS",
        Some(RequestKind::Query) => "QUERY",
        Some(RequestKind::Prepare) => "PREPARE",
        Some(RequestKind::Execute) => "EXECUTE",
        Some(RequestKind::Batch) => "BATCH",
        Some(RequestKind::Register) => "REGISTER",
        Some(RequestKind::AuthResponse) => "AUTH_RESPONSE",
        _ => "UNKNOWN",
    }
}

impl Conn {
    fn v(&self) -> u8 {
        self.version.unwrap_or(4)
    }

    fn v5(&self) -> bool {
        self.v() >= 5
    }

    /// Cassandra below v5 announces `duration` as a CUSTOM type ([`response::col_type`]).
    fn custom_duration(&self) -> bool {
        !self.v5() && self.view.node.shards == 0
    }

    fn err_ctx(&self) -> ErrorCtx {
        ErrorCtx {
            v5: self.v5(),
            rate_limit_ext: self.rate_limit_ext,
            node: self.view.node.addr,
            scylla: self.view.node.shards > 0,
        }
    }

    /// Starts a response envelope; with tracing requested, sets the flag and writes a
    /// tracing session id (a time-based UUID) first in the body.
    fn begin(&self, out: &mut Vec<u8>, version: u8, stream: i16, opcode: u8) -> usize {
        let s = response::begin(out, version, stream, opcode);
        if self.trace {
            out[s + 1] |= FLAG_TRACING;
            out.extend_from_slice(&self.trace_id);
        }
        s
    }

    fn reply_error(&self, out: &mut Vec<u8>, version: u8, stream: i16, e: &SimError) {
        let s = self.begin(out, version, stream, response::OP_ERROR);
        response::error(out, e, self.err_ctx());
        response::end(out, s, self.body_compression());
    }

    /// v4 body compression once STARTUP negotiated it.
    fn body_compression(&self) -> Compression {
        if self.phase == Phase::AwaitStartup || self.framed {
            Compression::None
        } else {
            self.compression
        }
    }

    /// Handles one envelope whose version was already checked.
    pub(crate) fn envelope(&mut self, h: &RawHeader, body: &[u8], out: &mut Vec<u8>) -> Flow {
        let version = h.version();
        let stream = h.stream;
        let mut body = Cow::Borrowed(body);
        if h.flags & FLAG_COMPRESSION != 0 && !self.framed {
            if !self.compression.is_compressed() || self.phase == Phase::AwaitStartup {
                let e = SimError::ProtocolError(
                    "compressed frame but no compression negotiated".into(),
                );
                self.reply_error(out, version, stream, &e);
                return Flow::Continue;
            }
            match wire::decompress_body(self.compression, &body) {
                Ok(b) => body = Cow::Owned(b),
                Err(e) => return self.fatal(out, stream, &e.to_string()),
            }
        }
        if h.flags & FLAG_CUSTOM_PAYLOAD != 0 {
            match request::skip_custom_payload(&body) {
                Ok(n) => body = Cow::Owned(body[n..].to_vec()),
                Err(e) => {
                    let e = SimError::ProtocolError(format!("bad custom payload: {e}"));
                    self.reply_error(out, version, stream, &e);
                    return Flow::Continue;
                }
            }
        }
        let op = h.opcode;
        self.trace = h.flags & FLAG_TRACING != 0
            && matches!(
                op,
                request::OP_QUERY | request::OP_PREPARE | request::OP_EXECUTE | request::OP_BATCH
            );
        if self.trace {
            // Every answer to this request (an error too) carries this id.
            self.trace_id = response::time_uuid();
        }
        let allowed = match self.phase {
            Phase::AwaitStartup => matches!(op, request::OP_OPTIONS | request::OP_STARTUP),
            Phase::Authenticating => {
                matches!(op, request::OP_OPTIONS | request::OP_AUTH_RESPONSE)
            }
            Phase::Ready => !matches!(op, request::OP_STARTUP | request::OP_AUTH_RESPONSE),
        };
        if kind_of(op).is_none() {
            let e = SimError::ProtocolError(format!("Unknown or non-request opcode {op:#04x}"));
            self.reply_error(out, version, stream, &e);
            return Flow::Continue;
        }
        if !allowed {
            let msg = match self.phase {
                Phase::AwaitStartup => format!(
                    "Unexpected message {}, expecting STARTUP or OPTIONS",
                    op_name(op)
                ),
                Phase::Authenticating => format!(
                    "Unexpected message {}, expecting SASL response",
                    op_name(op)
                ),
                Phase::Ready => format!(
                    "Unexpected message {}, the connection is already initialized",
                    op_name(op)
                ),
            };
            self.reply_error(out, version, stream, &SimError::ProtocolError(msg));
            return Flow::Continue;
        }
        let req = match request::decode(op, version >= 5, self.metadata_id_ext, &body) {
            Ok(r) => r,
            Err(e) => {
                self.reply_error(
                    out,
                    version,
                    stream,
                    &SimError::ProtocolError(e.to_string()),
                );
                return Flow::Continue;
            }
        };
        // Fault injection.
        let mut delay = None;
        if let Some(kind) = kind_of(op).filter(|_| self.view.shared.faults.is_active()) {
            let text = self.query_text(&req);
            let node = &self.view.node;
            if let Some(action) =
                self.view
                    .shared
                    .faults
                    .check(node.index, self.shard, kind, text.as_deref())
            {
                match action {
                    FaultAction::Error(e) => {
                        self.reply_error(out, version, stream, &e);
                        return Flow::Continue;
                    }
                    FaultAction::NoAnswer => return Flow::Continue,
                    FaultAction::CloseConnection => return Flow::Close,
                    FaultAction::Malformed => {
                        out.extend_from_slice(&[0x7f, 0, 0, 0, 0x08, 0, 0, 0, 0]);
                        return Flow::Continue;
                    }
                    FaultAction::Delay(d) => delay = Some(d),
                    FaultAction::Panic => panic!("injected panic in connection handler"),
                    FaultAction::StallFrame(claimed) => {
                        let head = if self.framed {
                            wire::stalled_segment_header(claimed)
                        } else {
                            wire::stalled_envelope_header(version, stream, claimed)
                        };
                        // Outside the framing, ahead of this batch's answers.
                        let _ = self.tx.send(Out::Raw(head));
                        return Flow::Continue;
                    }
                }
            }
        }
        let trace = self.trace.then(|| self.trace_begin(&req));
        if let Some(d) = delay {
            let mut own = Vec::new();
            let flow = self.handle(version, stream, req, &mut own);
            self.send_later(own, d);
            if let Some(t) = trace {
                self.trace_end(t);
            }
            return flow;
        }
        let flow = self.handle(version, stream, req, out);
        if let Some(t) = trace {
            self.trace_end(t);
        }
        flow
    }

    pub(super) fn query_text(&self, req: &Request) -> Option<String> {
        match req {
            Request::Query { query, .. } | Request::Prepare { query, .. } => Some(query.clone()),
            Request::Execute { id, .. } => self.lookup(id).map(|e| e.query.to_string()),
            Request::Batch { items, .. } => Some(
                items
                    .iter()
                    .map(|i| match i {
                        BatchItem::Query(q, _) => q.clone(),
                        BatchItem::Prepared(id, _) => self
                            .lookup(id)
                            .map(|e| e.query.to_string())
                            .unwrap_or_default(),
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => None,
        }
    }

    fn lookup(&self, id: &[u8]) -> Option<Arc<PreparedEntry>> {
        if let Some(e) = self.cache.get(id) {
            return Some(e.clone());
        }
        let map = self
            .view
            .node
            .prepared
            .read()
            .unwrap_or_else(|p| p.into_inner());
        map.get(id).cloned()
    }

    /// The prepared statement `id`, unless unknown or invalidated by a DROP or ALTER since
    /// it was prepared ([`Prepared::invalidated`]): then it is forgotten (on this connection
    /// and on the node) and the caller answers UNPREPARED, as a real node does.
    fn lookup_cached(&mut self, id: &bytes::Bytes) -> Option<Arc<PreparedEntry>> {
        if let Some(e) = self.cache.get(id) {
            if !e.stmt.invalidated() {
                return Some(e.clone());
            }
            self.cache.remove(id);
        }
        let found = self.lookup(id)?;
        if found.stmt.invalidated() {
            let mut map = self
                .view
                .node
                .prepared
                .write()
                .unwrap_or_else(|p| p.into_inner());
            if map.get(id).is_some_and(|e| Arc::ptr_eq(e, &found)) {
                map.remove(id);
            }
            return None;
        }
        self.cache.insert(id.clone(), found.clone());
        Some(found)
    }

    fn handle(&mut self, version: u8, stream: i16, req: Request, out: &mut Vec<u8>) -> Flow {
        // Warnings belong to the request that raised them ([`Conn::result`] takes them).
        drop(crate::engine::warnings::take());
        match req {
            Request::Options => {
                let s = response::begin(out, version, stream, response::OP_SUPPORTED);
                response::supported(out, &self.supported());
                response::end(out, s, self.body_compression());
            }
            Request::Startup(opts) => return self.startup(version, stream, &opts, out),
            Request::AuthResponse(token) => self.auth_response(version, stream, token, out),
            Request::Register(events) => {
                let mut mask = 0u8;
                for e in &events {
                    mask |= match e.as_str() {
                        "TOPOLOGY_CHANGE" => 1,
                        "STATUS_CHANGE" => 2,
                        "SCHEMA_CHANGE" => 4,
                        "CLIENT_ROUTES_CHANGE" => 0,
                        other => {
                            let e = SimError::ProtocolError(format!(
                                "Invalid value '{other}' for Event.Type"
                            ));
                            self.reply_error(out, version, stream, &e);
                            return Flow::Continue;
                        }
                    };
                }
                self.events.fetch_or(mask, Ordering::AcqRel);
                let s = response::begin(out, version, stream, response::OP_READY);
                response::end(out, s, Compression::None);
            }
            Request::Query { query, params } => {
                self.count(None);
                let view = self.view.clone();
                let r = view
                    .shared
                    .engine
                    .query(&mut self.session, &query, &params, &view);
                self.result(version, stream, r, &params, None, None, out);
            }
            Request::Prepare { query, keyspace } => {
                if let Some(stats) = self.view.node.stats.get(self.shard as usize) {
                    stats.prepared.fetch_add(1, Ordering::Relaxed);
                }
                let ks = keyspace.or_else(|| self.session.keyspace.clone());
                match self.view.shared.engine.prepare(&query, ks.as_deref()) {
                    Ok(stmt) => {
                        let entry = Arc::new(PreparedEntry {
                            stmt: stmt.clone(),
                            query: Arc::from(query.as_str()),
                        });
                        let id = stmt.info.id.clone();
                        self.view
                            .node
                            .prepared
                            .write()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(id.clone(), entry.clone());
                        self.cache.insert(id, entry);
                        let s = self.begin(out, version, stream, response::OP_RESULT);
                        let with_id = version >= 5 || self.metadata_id_ext;
                        response::result_prepared(
                            out,
                            &stmt.info,
                            with_id,
                            self.lwt_mark,
                            self.custom_duration(),
                        );
                        response::end(out, s, self.body_compression());
                    }
                    Err(e) => self.reply_error(out, version, stream, &e),
                }
            }
            Request::Execute {
                id,
                metadata_id,
                params,
            } => {
                let Some(entry) = self.lookup_cached(&id) else {
                    self.count(None);
                    self.reply_error(out, version, stream, &SimError::Unprepared { id });
                    return Flow::Continue;
                };
                self.tablet_hint = self.count(Some((&entry.stmt, &params)));
                let view = self.view.clone();
                let r = view
                    .shared
                    .engine
                    .execute(&mut self.session, &entry.stmt, &params, &view);
                self.result(
                    version,
                    stream,
                    r,
                    &params,
                    Some(&entry.stmt),
                    metadata_id.as_deref(),
                    out,
                );
            }
            Request::Batch {
                kind,
                items,
                params,
            } => {
                let mut stmts = Vec::with_capacity(items.len());
                let mut first_prepared = None;
                for item in items {
                    match item {
                        BatchItem::Query(query, values) => {
                            stmts.push(BatchStatement::Query { query, values })
                        }
                        BatchItem::Prepared(id, values) => {
                            let Some(entry) = self.lookup_cached(&id) else {
                                self.count(None);
                                self.reply_error(
                                    out,
                                    version,
                                    stream,
                                    &SimError::Unprepared { id },
                                );
                                return Flow::Continue;
                            };
                            if first_prepared.is_none() {
                                first_prepared = Some((entry.stmt.clone(), values.clone()));
                            }
                            stmts.push(BatchStatement::Prepared {
                                stmt: entry.stmt.clone(),
                                values,
                            });
                        }
                    }
                }
                match &first_prepared {
                    Some((stmt, values)) => {
                        let p = QueryParams {
                            values: values.clone(),
                            ..params.clone()
                        };
                        self.count(Some((stmt, &p)));
                    }
                    None => {
                        self.count(None);
                    }
                }
                let kind = match kind {
                    BatchType::Logged => BatchKind::Logged,
                    BatchType::Unlogged => BatchKind::Unlogged,
                    BatchType::Counter => BatchKind::Counter,
                    _ => BatchKind::Logged,
                };
                let view = self.view.clone();
                let r = view
                    .shared
                    .engine
                    .batch(&mut self.session, kind, &stmts, &params, &view);
                self.result(version, stream, r, &params, None, None, out);
            }
        }
        Flow::Continue
    }

    /// Counts a QUERY / EXECUTE / BATCH in this shard's statistics. For a table of a tablet
    /// keyspace, "owned" means one of the tablet's replicas is this node and shard; a
    /// misrouted request's tablet is returned when the connection negotiated
    /// TABLETS_ROUTING_V1 (ScyllaDB's `tablet_effective_replication_map::check_locality`).
    fn count(
        &self,
        routed: Option<(&Arc<Prepared>, &QueryParams)>,
    ) -> Option<crate::engine::tablets::TabletInfo> {
        let node = &self.view.node;
        let stats = node.stats.get(self.shard as usize)?;
        stats.received.fetch_add(1, Ordering::Relaxed);
        let (stmt, params) = routed?;
        let engine = &self.view.shared.engine;
        let (ks, table, token) = engine.routing_target(stmt, params)?;
        stats.with_token.fetch_add(1, Ordering::Relaxed);
        let infos = self.view.shared.infos.load();
        let replication = match engine.home(ks, table, token, &infos)? {
            Home::Replicas(replication) => replication,
            Home::Tablet(tablet) => {
                let here = tablet
                    .replicas
                    .iter()
                    .any(|r| r.node == node.index && r.shard == self.shard);
                if here {
                    stats.owned.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                return self.tablets_routing.then_some(tablet);
            }
        };
        if crate::engine::ring::is_replica(&replication, token, &infos, node.index)
            && shard_of(token, node.shards, IGNORE_MSB) == self.shard
        {
            stats.owned.fetch_add(1, Ordering::Relaxed);
        }
        None
    }

    /// Attaches the pending `tablets-routing-v1` payload to the answer started at `s`.
    fn attach_tablet_hint(&mut self, out: &mut Vec<u8>, s: usize) {
        let Some(tablet) = self.tablet_hint.take() else {
            return;
        };
        let shared = &self.view.shared;
        let replicas: Vec<(uuid::Uuid, i32)> = tablet
            .replicas
            .iter()
            .filter_map(|r| Some((shared.node(r.node)?.host_id, r.shard as i32)))
            .collect();
        out[s + 1] |= FLAG_CUSTOM_PAYLOAD;
        response::tablets_payload(out, tablet.first_token, tablet.last_token, &replicas);
    }

    #[allow(clippy::too_many_arguments)]
    fn result(
        &mut self,
        version: u8,
        stream: i16,
        r: Result<QueryResult, SimError>,
        params: &QueryParams,
        stmt: Option<&Arc<Prepared>>,
        client_metadata_id: Option<&[u8]>,
        out: &mut Vec<u8>,
    ) {
        let warnings = crate::engine::warnings::take();
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                self.tablet_hint = None;
                return self.reply_error(out, version, stream, &e);
            }
        };
        let s = self.begin(out, version, stream, response::OP_RESULT);
        if !warnings.is_empty() {
            // After the tracing id, before the body (v4 §2.2, flag 0x08).
            out[s + 1] |= FLAG_WARNING;
            response::string_list(out, &warnings);
        }
        self.attach_tablet_hint(out, s);
        let mut event = None;
        match &r {
            QueryResult::Void => response::result_void(out),
            QueryResult::Rows(rows) => {
                let mut opts = MetaOpts {
                    custom_duration: self.custom_duration(),
                    ..MetaOpts::default()
                };
                let mut new_id = None;
                // Cassandra sends the metadata of a conditional update's result whatever
                // SKIP_METADATA says, and never METADATA_CHANGED for it: its columns depend
                // on whether it applied (`ExecuteMessage.execute`, CASSANDRA-13992).
                // ScyllaDB's LWT results have fixed columns, announced by PREPARE, and follow
                // the flag like any other (`cql_server::response::write`).
                let cassandra_lwt =
                    stmt.is_some_and(|s| s.info.is_lwt) && self.view.node.shards == 0;
                if let Some(stmt) = stmt.filter(|_| !cassandra_lwt) {
                    let same = rows.columns[..] == stmt.info.result_columns[..];
                    if version >= 5 || self.metadata_id_ext {
                        let current = if same {
                            stmt.info.result_metadata_id.clone()
                        } else {
                            self.view.shared.engine.current_result_metadata(stmt).0
                        };
                        if client_metadata_id != Some(&current[..]) {
                            new_id = Some(current);
                        } else {
                            opts.no_metadata = params.skip_metadata;
                        }
                    } else {
                        opts.no_metadata = params.skip_metadata && same;
                    }
                }
                opts.new_metadata_id = new_id.as_deref();
                response::result_rows(out, rows, opts);
            }
            QueryResult::SetKeyspace(ks) => {
                self.session.keyspace = Some(ks.clone());
                response::result_set_keyspace(out, ks);
            }
            QueryResult::SchemaChange(sc) => {
                response::result_schema_change(out, sc);
                event = Some(Event::Schema(sc.clone()));
            }
        }
        response::end(out, s, self.body_compression());
        if let Some(e) = event {
            self.view.shared.broadcast(e, None);
        }
    }

    fn supported(&self) -> Vec<(String, Vec<String>)> {
        let shared = &self.view.shared;
        let node = &self.view.node;
        let one = |k: &str, v: String| (k.to_string(), vec![v]);
        let mut m = vec![
            one("CQL_VERSION", shared.engine.identity().cql_version),
            ("COMPRESSION".into(), vec!["lz4".into(), "snappy".into()]),
            (
                "PROTOCOL_VERSIONS".into(),
                (4..=shared.config.max_version)
                    .map(|v| format!("{v}/v{v}"))
                    .collect(),
            ),
        ];
        if node.shards > 0 {
            m.extend([
                one("SCYLLA_SHARD", self.shard.to_string()),
                one("SCYLLA_NR_SHARDS", node.shards.to_string()),
                one(
                    "SCYLLA_PARTITIONER",
                    "org.apache.cassandra.dht.Murmur3Partitioner".into(),
                ),
                one(
                    "SCYLLA_SHARDING_ALGORITHM",
                    "biased-token-round-robin".into(),
                ),
                one("SCYLLA_SHARDING_IGNORE_MSB", IGNORE_MSB.to_string()),
                one(
                    "SCYLLA_LWT_ADD_METADATA_MARK",
                    format!("LWT_OPTIMIZATION_META_BIT_MASK={}", response::LWT_FLAG),
                ),
                one(
                    "SCYLLA_RATE_LIMIT_ERROR",
                    format!("ERROR_CODE={}", response::RATE_LIMIT_ERROR_CODE),
                ),
                one("SCYLLA_HOST_ID", node.host_id.to_string()),
                one("SCYLLA_USE_METADATA_ID", String::new()),
                // cql_protocol_extension.cc: announced with an empty value.
                one("TABLETS_ROUTING_V1", String::new()),
            ]);
            if shared.shard_port() != 0 {
                // With TLS the shard-aware port serves TLS only: announced under its own key.
                let key = if shared.config.tls.is_some() {
                    "SCYLLA_SHARD_AWARE_PORT_SSL"
                } else {
                    "SCYLLA_SHARD_AWARE_PORT"
                };
                m.push(one(key, shared.shard_port().to_string()));
            }
        }
        m
    }

    fn startup(
        &mut self,
        version: u8,
        stream: i16,
        opts: &std::collections::HashMap<String, String>,
        out: &mut Vec<u8>,
    ) -> Flow {
        let compression = match opts.get("COMPRESSION").map(|c| c.to_ascii_lowercase()) {
            None => Compression::None,
            Some(c) if c == "lz4" => Compression::Lz4,
            Some(c) if c == "snappy" && version < 5 => Compression::Snappy,
            Some(c) => {
                let e = SimError::ProtocolError(format!("Unknown compression algorithm: {c}"));
                self.reply_error(out, version, stream, &e);
                return Flow::Continue;
            }
        };
        if opts.get("CQL_VERSION").is_none() {
            let e = SimError::ProtocolError("CQL_VERSION is mandatory".into());
            self.reply_error(out, version, stream, &e);
            return Flow::Continue;
        }
        let sharded = self.view.node.shards > 0;
        self.lwt_mark = sharded && opts.contains_key("SCYLLA_LWT_ADD_METADATA_MARK");
        self.rate_limit_ext = sharded && opts.contains_key("SCYLLA_RATE_LIMIT_ERROR");
        self.metadata_id_ext = sharded && opts.contains_key("SCYLLA_USE_METADATA_ID");
        self.tablets_routing = sharded && opts.contains_key("TABLETS_ROUTING_V1");
        self.version = Some(version);
        self.compression = compression;
        if self.view.shared.config.users.is_some() {
            let s = response::begin(out, version, stream, response::OP_AUTHENTICATE);
            response::string(out, "org.apache.cassandra.auth.PasswordAuthenticator");
            response::end(out, s, Compression::None);
            self.phase = Phase::Authenticating;
        } else {
            let s = response::begin(out, version, stream, response::OP_READY);
            response::end(out, s, Compression::None);
            self.phase = Phase::Ready;
        }
        // The answer to STARTUP goes out as it is; framing (v5) starts after it.
        self.send_envelopes(std::mem::take(out));
        let framed = version >= 5;
        self.framed = framed;
        self.lz4 = framed && compression == Compression::Lz4;
        let _ = self.tx.send(Out::Switch {
            version,
            compression: if framed {
                Compression::None
            } else {
                compression
            },
            framed,
            lz4: self.lz4,
        });
        Flow::Continue
    }

    fn auth_response(
        &mut self,
        version: u8,
        stream: i16,
        token: Option<Vec<u8>>,
        out: &mut Vec<u8>,
    ) {
        let token = token.unwrap_or_default();
        // SASL PLAIN: [authzid] NUL authcid NUL password.
        let mut parts = token.split(|b| *b == 0);
        let (user, pass) = match (parts.next(), parts.next(), parts.next()) {
            (Some(_), Some(u), Some(p)) => (u, p),
            _ => (&[][..], &[][..]),
        };
        let user = String::from_utf8_lossy(user).into_owned();
        let ok = self
            .view
            .shared
            .config
            .users
            .as_ref()
            .is_some_and(|us| us.iter().any(|(u, p)| *u == user && p.as_bytes() == pass));
        if ok {
            self.phase = Phase::Ready;
            let s = response::begin(out, version, stream, response::OP_AUTH_SUCCESS);
            response::bytes(out, None);
            response::end(out, s, self.body_compression());
        } else {
            let e = SimError::BadCredentials(format!(
                "Provided username {user} and/or password are incorrect"
            ));
            self.reply_error(out, version, stream, &e);
        }
    }
}
