//! One client connection: a reader that decodes every complete frame in its buffer and
//! answers them into one output chunk, and a writer that batches queued chunks (and pushed
//! events) into one socket write, wrapping them in v5 segments once framing is on.
//!
//! Both halves run inside a single tokio task, so a panic anywhere in the connection ends only
//! that task (and the connection); the node forgets it through a drop guard. With TLS the
//! task first runs the TLS handshake, then the same halves over the TLS stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use bytes::{Buf, BytesMut};
use cassandra_protocol::compression::Compression;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};

use super::eng::SessionState;
use super::node::{NodeView, PreparedEntry, lock};
use super::response::{self, Event};
use super::wire::{self, HEADER_LEN, Payload, SegmentWriter, WireError};

/// What the writer is asked to send.
pub(crate) enum Out {
    /// Whole envelopes back to back.
    Envelopes(Vec<u8>),
    /// Bytes written as they are, outside any framing (fault injection).
    Raw(Vec<u8>),
    /// From now on: this version, v4 body compression, v5 framing.
    Switch {
        version: u8,
        compression: Compression,
        framed: bool,
        lz4: bool,
    },
    /// A pushed event.
    Event(Arc<Event>),
    /// Flush and close.
    Close,
}

/// Answer bytes queued for the writer but not yet written; the reader stops reading past
/// [`BACKLOG_LIMIT`] (backpressure on a client that sends without reading).
#[derive(Default)]
pub(crate) struct Backlog {
    bytes: AtomicUsize,
    written: Notify,
    /// Answer buffers handed back by the writer for reuse (no allocation per batch).
    pool: std::sync::Mutex<Vec<Vec<u8>>>,
}

/// Queued answer bytes above which the reader pauses.
const BACKLOG_LIMIT: usize = 8 << 20;

impl Backlog {
    fn take_buffer(&self) -> Vec<u8> {
        lock(&self.pool)
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(4096))
    }

    fn give_back(&self, mut v: Vec<u8>) {
        if v.capacity() <= (1 << 20) {
            v.clear();
            let mut pool = lock(&self.pool);
            if pool.len() < 8 {
                pool.push(v);
            }
        }
    }

    async fn wait_below_limit(&self) {
        loop {
            let written = self.written.notified();
            if self.bytes.load(Ordering::Acquire) <= BACKLOG_LIMIT {
                return;
            }
            written.await;
        }
    }
}

/// Whether to keep reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    AwaitStartup,
    Authenticating,
    Ready,
}

/// Per-connection protocol state.
pub(crate) struct Conn {
    pub view: NodeView,
    pub shard: u32,
    pub tx: mpsc::UnboundedSender<Out>,
    pub events: Arc<AtomicU8>,
    pub version: Option<u8>,
    pub phase: Phase,
    pub compression: Compression,
    pub framed: bool,
    pub lz4: bool,
    pub session: SessionState,
    pub lwt_mark: bool,
    pub rate_limit_ext: bool,
    /// SCYLLA_USE_METADATA_ID negotiated: result metadata ids on v4 too.
    pub metadata_id_ext: bool,
    /// TABLETS_ROUTING_V1 negotiated: misrouted requests get a `tablets-routing-v1` payload.
    pub tablets_routing: bool,
    /// The tablet to attach to the answer being built (a misrouted EXECUTE).
    pub tablet_hint: Option<crate::engine::tablets::TabletInfo>,
    pub cache: ahash::HashMap<bytes::Bytes, Arc<PreparedEntry>>,
    /// The request being answered asked for tracing: answers carry a tracing id.
    pub trace: bool,
    /// The tracing id of the request being answered (when `trace`).
    pub trace_id: [u8; 16],
    /// The client's address (`system_traces.sessions.client`).
    pub client: std::net::IpAddr,
    pub backlog: Arc<Backlog>,
    /// A large v5 envelope being assembled from non-self-contained segments.
    partial: Vec<u8>,
}

struct Unregister {
    view: NodeView,
    id: u64,
}

impl Drop for Unregister {
    fn drop(&mut self) {
        lock(&self.view.node.rt).conns.remove(&self.id);
    }
}

/// Longest TLS handshake a connection is given.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A connection's queue to its writer, the writer's end of it, and its event registrations.
pub(crate) type Channels = (
    mpsc::UnboundedSender<Out>,
    mpsc::UnboundedReceiver<Out>,
    Arc<AtomicU8>,
);

/// Runs a connection to its end (after the TLS handshake with `tls`).
pub(crate) async fn run(
    view: NodeView,
    (stream, tls): (TcpStream, Option<tokio_rustls::TlsAcceptor>),
    shard: u32,
    id: u64,
    channels: Channels,
) {
    let _guard = Unregister {
        view: view.clone(),
        id,
    };
    let client = stream
        .peer_addr()
        .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |a| a.ip());
    match tls {
        None => {
            let (rd, wr) = stream.into_split();
            serve(view, rd, wr, (shard, client), channels).await;
        }
        Some(acceptor) => {
            let accepted = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
            // A failed handshake (wrong CA, no client certificate) only closes the socket;
            // rustls has sent the client its alert.
            if let Ok(Ok(stream)) = accepted.await {
                let (rd, wr) = tokio::io::split(stream);
                serve(view, rd, wr, (shard, client), channels).await;
            }
        }
    }
}

/// Serves the protocol on a connection's two halves.
async fn serve<R, W>(
    view: NodeView,
    rd: R,
    wr: W,
    (shard, client): (u32, std::net::IpAddr),
    (tx, rx, events): Channels,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let backlog = Arc::new(Backlog::default());
    let conn = Conn {
        backlog: backlog.clone(),
        view,
        shard,
        tx,
        events,
        version: None,
        phase: Phase::AwaitStartup,
        compression: Compression::None,
        framed: false,
        lz4: false,
        session: SessionState::default(),
        lwt_mark: false,
        rate_limit_ext: false,
        metadata_id_ext: false,
        tablets_routing: false,
        tablet_hint: None,
        cache: ahash::HashMap::default(),
        trace: false,
        trace_id: [0; 16],
        client,
        partial: Vec::new(),
    };
    let reader = conn.read_loop(rd);
    let writer = write_loop(wr, rx, backlog);
    tokio::pin!(reader, writer);
    tokio::select! {
        _ = &mut reader => {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), writer).await;
        }
        _ = &mut writer => {}
    }
}

impl Conn {
    async fn read_loop(mut self, mut rd: impl AsyncRead + Unpin) {
        let mut buf = BytesMut::with_capacity(64 * 1024);
        let mut paused = self.view.node.paused.subscribe();
        loop {
            self.backlog.wait_below_limit().await;
            if buf.capacity() - buf.len() < 16 * 1024 {
                buf.reserve(64 * 1024);
            }
            match rd.read_buf(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            while *paused.borrow_and_update() {
                if paused.changed().await.is_err() {
                    break;
                }
            }
            let mut out = self.backlog.take_buffer();
            let flow = self.process(&mut buf, &mut out);
            self.flush(out);
            if flow == Flow::Close {
                break;
            }
        }
        let _ = self.tx.send(Out::Close);
    }

    /// Queues `out` for the writer, after the configured delay when there is one.
    pub(crate) fn flush(&self, out: Vec<u8>) {
        match self.view.node.delay(self.shard) {
            Some(d) if self.phase == Phase::Ready => self.send_later(out, d),
            _ => self.send_envelopes(out),
        }
    }

    /// Queues answer envelopes for the writer.
    pub(crate) fn send_envelopes(&self, out: Vec<u8>) {
        if out.is_empty() {
            self.backlog.give_back(out);
            return;
        }
        self.backlog.bytes.fetch_add(out.len(), Ordering::AcqRel);
        let _ = self.tx.send(Out::Envelopes(out));
    }

    /// Queues answer envelopes for the writer after `delay`.
    pub(crate) fn send_later(&self, out: Vec<u8>, delay: std::time::Duration) {
        if out.is_empty() {
            return;
        }
        self.backlog.bytes.fetch_add(out.len(), Ordering::AcqRel);
        let tx = self.tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = tx.send(Out::Envelopes(out));
        });
    }

    /// Answers every complete frame in `buf`.
    fn process(&mut self, buf: &mut BytesMut, out: &mut Vec<u8>) -> Flow {
        loop {
            if self.framed {
                let seg = match wire::decode_segment(buf, self.lz4) {
                    Ok(None) => return Flow::Continue,
                    Ok(Some(s)) => s,
                    Err(e) => return self.fatal(out, 0, &e.to_string()),
                };
                let flow = match &seg.payload {
                    Payload::Range(r) => self.segment(&buf[r.clone()], seg.self_contained, out),
                    Payload::Owned(v) => self.segment(v, seg.self_contained, out),
                };
                buf.advance(seg.consumed);
                if flow == Flow::Close {
                    return flow;
                }
            } else {
                let h = match wire::parse_header(buf) {
                    Ok(None) => return Flow::Continue,
                    Ok(Some(h)) => h,
                    Err(e) => {
                        let stream = i16::from_be_bytes([buf[2], buf[3]]);
                        return self.fatal(out, stream, &e.to_string());
                    }
                };
                // Refuse a bad version before waiting for a body that may never come.
                if let Some(flow) = self.check_version(&h, out) {
                    return flow;
                }
                if buf.len() < HEADER_LEN + h.body_len {
                    return Flow::Continue;
                }
                let total = HEADER_LEN + h.body_len;
                let flow = self.envelope(&h, &buf[HEADER_LEN..total], out);
                buf.advance(total);
                if flow == Flow::Close {
                    return flow;
                }
            }
        }
    }

    /// Handles the envelopes of one v5 segment payload.
    fn segment(&mut self, data: &[u8], self_contained: bool, out: &mut Vec<u8>) -> Flow {
        if self_contained {
            if !self.partial.is_empty() {
                return self.fatal(out, 0, &WireError::UnexpectedSelfContained.to_string());
            }
            let mut pos = 0;
            while pos < data.len() {
                let h = match wire::parse_header(&data[pos..]) {
                    Ok(Some(h)) if data.len() - pos >= HEADER_LEN + h.body_len => h,
                    Ok(_) => return self.fatal(out, 0, &WireError::PartialEnvelope.to_string()),
                    Err(e) => return self.fatal(out, 0, &e.to_string()),
                };
                if let Some(flow) = self.check_version(&h, out) {
                    return flow;
                }
                let body = &data[pos + HEADER_LEN..pos + HEADER_LEN + h.body_len];
                pos += HEADER_LEN + h.body_len;
                if self.envelope(&h, body, out) == Flow::Close {
                    return Flow::Close;
                }
            }
            Flow::Continue
        } else {
            self.partial.extend_from_slice(data);
            let h = match wire::parse_header(&self.partial) {
                Ok(None) => return Flow::Continue,
                Ok(Some(h)) => h,
                Err(e) => return self.fatal(out, 0, &e.to_string()),
            };
            if let Some(flow) = self.check_version(&h, out) {
                return flow;
            }
            let total = HEADER_LEN + h.body_len;
            if self.partial.len() < total {
                return Flow::Continue;
            }
            if self.partial.len() > total {
                return self.fatal(out, h.stream, "bytes after a large envelope");
            }
            let whole = std::mem::take(&mut self.partial);
            self.envelope(&h, &whole[HEADER_LEN..], out)
        }
    }

    /// A PROTOCOL_ERROR then close.
    pub(crate) fn fatal(&mut self, out: &mut Vec<u8>, stream: i16, msg: &str) -> Flow {
        let version = self.version.unwrap_or(4);
        self.protocol_error(out, version, stream, msg);
        Flow::Close
    }

    /// Checks the version of an incoming header; `Some(Close)` after answering a refusal.
    fn check_version(&mut self, h: &wire::RawHeader, out: &mut Vec<u8>) -> Option<Flow> {
        let v = h.version();
        let max = self.view.shared.config.max_version;
        if !(4..=max).contains(&v) {
            let reply = if v > max { max } else { 4 };
            let supported = (4..=max)
                .map(|v| format!("{v}/v{v}"))
                .collect::<Vec<_>>()
                .join(", ");
            let msg = format!(
                "Invalid or unsupported protocol version ({v}); supported versions are ({supported})"
            );
            self.protocol_error(out, reply, h.stream, &msg);
            return Some(Flow::Close);
        }
        if h.version_byte & 0x80 != 0 {
            return Some(self.fatal(out, h.stream, "received a response frame"));
        }
        if let Some(cur) = self.version.filter(|cur| *cur != v) {
            let msg = format!(
                "Invalid message version. Got v{v} but previous messages on this connection had version v{cur}"
            );
            return Some(self.fatal(out, h.stream, &msg));
        }
        None
    }

    pub(crate) fn protocol_error(&self, out: &mut Vec<u8>, version: u8, stream: i16, msg: &str) {
        let s = response::begin(out, version, stream, response::OP_ERROR);
        response::int(out, 0x000A);
        response::string(out, msg);
        response::end(out, s, Compression::None);
    }
}

struct WriterState {
    backlog: Arc<Backlog>,
    /// Backlog bytes taken in this batch.
    counted: usize,
    version: u8,
    compression: Compression,
    segments: Option<SegmentWriter>,
}

impl WriterState {
    /// Adds `m` to `buf`; true when the connection must close after the write.
    fn add(&mut self, m: Out, buf: &mut Vec<u8>) -> bool {
        match m {
            Out::Envelopes(v) => {
                self.counted += v.len();
                self.envelopes(&v, buf);
                self.backlog.give_back(v);
            }
            Out::Raw(v) => buf.extend_from_slice(&v),
            Out::Switch {
                version,
                compression,
                framed,
                lz4,
            } => {
                self.version = version;
                self.compression = compression;
                self.segments = framed.then(|| SegmentWriter::new(lz4));
            }
            Out::Event(e) => {
                let mut v = Vec::with_capacity(64);
                let s = response::begin(&mut v, self.version, -1, response::OP_EVENT);
                response::event(&mut v, &e);
                response::end(&mut v, s, self.compression);
                self.envelopes(&v, buf);
            }
            Out::Close => return true,
        }
        false
    }

    fn envelopes(&mut self, v: &[u8], buf: &mut Vec<u8>) {
        match &mut self.segments {
            Some(w) => w.write(v, buf),
            None => buf.extend_from_slice(v),
        }
    }
}

async fn write_loop(
    mut wr: impl AsyncWrite + Unpin,
    mut rx: mpsc::UnboundedReceiver<Out>,
    backlog: Arc<Backlog>,
) {
    let mut st = WriterState {
        backlog: backlog.clone(),
        counted: 0,
        version: 4,
        compression: Compression::None,
        segments: None,
    };
    let mut buf = Vec::with_capacity(64 * 1024);
    while let Some(first) = rx.recv().await {
        let mut close = st.add(first, &mut buf);
        while !close && buf.len() < (1 << 20) {
            match rx.try_recv() {
                Ok(m) => close = st.add(m, &mut buf),
                Err(_) => break,
            }
        }
        // The flush sends what TLS still holds (nothing to do on plain TCP).
        if !buf.is_empty() && (wr.write_all(&buf).await.is_err() || wr.flush().await.is_err()) {
            return;
        }
        buf.clear();
        backlog
            .bytes
            .fetch_sub(std::mem::take(&mut st.counted), Ordering::AcqRel);
        backlog.written.notify_waiters();
        if close {
            let _ = wr.shutdown().await;
            return;
        }
    }
}
