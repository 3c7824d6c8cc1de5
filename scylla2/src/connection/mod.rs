//! One CQL connection: socket, handshake, write queue and writer task, reader task, stream-id
//! slots, server events and heartbeat.
//!
//! Sending a request sizes its frame, takes a stream id, and serializes the frame straight
//! into a slot of the connection's swap-buffer write queue; the writer task dequeues
//! everything queued and writes it in one call (on plain TCP, a request that is the
//! connection's only one in flight writes the queue itself instead: `Inner::write_direct`). The reader task splits whole frames off a
//! large read buffer as `Bytes` (no copy) and hands each to the slot of its stream id, waking
//! the request future that polls it. Nothing on this path allocates in steady state.
//!
//! With a [`TlsContext`] (feature `rustls-023`) the same reader and writer
//! run over the halves of a TLS stream; without one they are compiled for the plain TCP
//! halves and contain no TLS code.

pub(crate) mod config;
pub(crate) mod error;
pub(crate) mod framing;
pub(crate) mod handshake;
mod health;
mod reader;
mod send;
pub(crate) mod slots;
mod socket;
pub(crate) mod spin;
#[cfg(feature = "rustls-023")]
pub(crate) mod tls;
mod writer;

#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_direct;
#[cfg(test)]
mod tests_handshake;
#[cfg(test)]
mod tests_wakers;

/// A response envelope (header + `body`) of protocol `version`, as test servers write it.
#[cfg(test)]
pub(crate) fn test_response_frame(
    version: ProtocolVersion,
    stream: i16,
    opcode: scylla2_cql::frame::Opcode,
    body: &[u8],
) -> Vec<u8> {
    test_response_frame_flagged(version, HeaderFlags::default(), stream, opcode, body)
}

/// [`test_response_frame`] with header `flags` (tracing, warning, …).
#[cfg(test)]
pub(crate) fn test_response_frame_flagged(
    version: ProtocolVersion,
    flags: HeaderFlags,
    stream: i16,
    opcode: scylla2_cql::frame::Opcode,
    body: &[u8],
) -> Vec<u8> {
    let header = scylla2_cql::frame::EnvelopeHeader {
        version,
        is_response: true,
        flags,
        stream,
        opcode,
        length: body.len() as u32,
    };
    let mut h = [0u8; scylla2_cql::frame::HEADER_SIZE];
    header.encode(&mut h);
    let mut out = h.to_vec();
    out.extend_from_slice(body);
    out
}

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::BytesMut;
use scylla2_cql::ProtocolVersion;
use scylla2_cql::request::Request;
use tokio::io::AsyncRead;
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

pub use config::{Compression, ConnectionConfig, WriteCoalescing};
// Errors have their one path in `crate::error`.
/// The `rustls` crate this feature is built on (version 0.23), for building a
/// [`rustls::ClientConfig`] of the same version as the driver's.
#[cfg(feature = "rustls-023")]
pub use ::rustls;
pub(crate) use error::{ConnectionError, HandshakeError};
pub use framing::Envelope;
pub use handshake::{ConnectionInfo, ShardingInfo};
pub use scylla2_cql::frame::{EnvelopeHeader, HeaderFlags};
pub use scylla2_cql::response::{ResponseContext, Supported};
#[cfg(feature = "unstable")]
pub use send::ResponseFuture;
#[cfg(not(feature = "unstable"))]
pub(crate) use send::ResponseFuture;
pub use slots::MAX_STREAMS;
#[cfg(feature = "rustls-023")]
pub use tls::TlsContext;

use crate::clock::Stamp;
use slots::Slots;
use writer::{LargeFrames, WriteQueue};

/// Capacity of the server event channel of a connection.
const EVENT_CHANNEL_CAPACITY: usize = 64;

/// A live CQL connection. Dropping it closes the socket and fails requests still in flight.
/// An internal of the driver: public with the `unstable` feature only (the project's tests
/// and benches); applications go through `Session`.
#[cfg(feature = "unstable")]
#[derive(Debug)]
pub struct Connection {
    inner: Arc<Inner>,
    info: ConnectionInfo,
    /// The node's address (see [`Connection::node_addr`]).
    node: SocketAddr,
}

/// A live CQL connection (see the `unstable` declaration above).
#[cfg(not(feature = "unstable"))]
#[derive(Debug)]
pub(crate) struct Connection {
    inner: Arc<Inner>,
    info: ConnectionInfo,
    /// The node's address (see [`Connection::node_addr`]).
    node: SocketAddr,
}

/// State shared by the connection handle and its reader and writer tasks.
#[derive(Debug)]
pub(crate) struct Inner {
    version: ProtocolVersion,
    compression: Option<Compression>,
    peer: SocketAddr,
    #[cfg_attr(not(feature = "unstable"), allow(dead_code))]
    local: SocketAddr,
    slots: Slots,
    queue: WriteQueue,
    /// Frames queued since the writer last took a batch (a hint for write coalescing, see
    /// `writer::write_loop`; races only make the hint slightly off).
    queued_frames: AtomicUsize,
    /// The idle writer's wake-up: by the request that moves `queued_frames` from 0, by a
    /// large frame, by closing.
    writer_wake: writer::WriterWake,
    large: LargeFrames,
    /// The socket, for requests that write their frame themselves (plain TCP only; see
    /// `Inner::write_direct`).
    direct: Option<Arc<tokio::net::tcp::OwnedWriteHalf>>,
    /// The framer and what a direct write left: held by whoever writes to the socket.
    write_side: writer::WriteSideCell,
    /// The writer holds a batch until the next read ([`WriteCoalescing::UntilNextRead`]).
    holding: AtomicBool,
    /// Signalled by the reader after a read while `holding`.
    hold_notify: tokio::sync::Notify,
    max_frame_size: usize,
    error: OnceLock<ConnectionError>,
    tasks: Mutex<Vec<AbortHandle>>,
    events: broadcast::Sender<Envelope>,
    /// Whole frames received (the heartbeat compares it across its interval: no clock
    /// reading per frame; bytes of a frame that never completes do not count).
    frames: AtomicU64,
    /// Suspect / retiring flags and the owner's notification ([`health`]).
    health: health::Health,
    /// The counters of the connection's node (feature `metrics`), attached by its pool.
    #[cfg(feature = "metrics")]
    metrics: OnceLock<Arc<crate::metrics::NodeMetrics>>,
}

impl Inner {
    /// Kills the connection with `error` (the first error wins): fails every waiter, closes
    /// the write queue and stops the tasks.
    pub(crate) fn kill(&self, error: ConnectionError) {
        let _ = self.error.set(error);
        self.slots.fail_all();
        self.queue.close();
        self.large.close();
        self.writer_wake.notify(writer::WriterWake::LARGE);
        // The handle requests write through keeps the socket open after the tasks stop: shut
        // it down, so that the server sees the connection end now.
        if let Some(socket) = self.direct.as_deref() {
            let stream: &tokio::net::TcpStream = socket.as_ref();
            let _ = socket2::SockRef::from(stream).shutdown(std::net::Shutdown::Both);
        }
        // Stopping the tasks drops both socket halves, which closes the socket.
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            task.abort();
        }
        self.notify_death();
    }

    /// The error every request on this dead connection gets.
    fn broken(&self) -> ConnectionError {
        match self.error.get() {
            Some(ConnectionError::Closed) | None => ConnectionError::Closed,
            Some(e) => ConnectionError::Broken(Arc::new(e.clone())),
        }
    }

    /// Registers a background task to stop when the connection dies.
    fn adopt_task(&self, task: AbortHandle) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        if self.slots.is_closed() {
            task.abort();
        } else {
            tasks.push(task);
        }
    }

    /// Publishes the reader's count of whole frames received (only the reader writes it).
    fn set_frames(&self, frames: u64) {
        self.frames.store(frames, Ordering::Relaxed);
    }

    fn frames(&self) -> u64 {
        self.frames.load(Ordering::Relaxed)
    }
}

// Some methods serve only the tests and benches (the `unstable` feature).
#[cfg_attr(not(feature = "unstable"), allow(dead_code))]
impl Connection {
    /// Opens a connection to `addr`: TCP connect (optionally from local port `local_port`),
    /// then the TLS handshake when the configuration has TLS, then the CQL handshake, trying
    /// protocol versions from the configured maximum down to the minimum (a server refusing
    /// v5 gets a new connection at v4).
    pub async fn open(
        addr: SocketAddr,
        local_port: Option<u16>,
        config: &ConnectionConfig,
    ) -> Result<Self, ConnectionError> {
        Self::open_node(addr, addr, local_port, config).await
    }

    /// [`Self::open`] to `target`, a port of `node` (its shard-aware port, say): TLS
    /// verifies the server name of `node`.
    pub(crate) async fn open_node(
        node: SocketAddr,
        target: SocketAddr,
        local_port: Option<u16>,
        config: &ConnectionConfig,
    ) -> Result<Self, ConnectionError> {
        let mut version = config.max_protocol_version;
        loop {
            let stream = socket::connect(target, local_port, config).await?;
            let attempt = tokio::time::timeout(
                config.handshake_timeout,
                Self::establish(node, stream, version, config),
            )
            .await
            .map_err(|_| ConnectionError::HandshakeTimeout(config.handshake_timeout))??;
            match attempt {
                Some(mut connection) => {
                    connection.node = node;
                    return Ok(connection);
                }
                None => {
                    match lower_version(version).filter(|v| *v >= config.min_protocol_version) {
                        Some(lower) => version = lower,
                        None => {
                            return Err(HandshakeError::NoCommonVersion {
                                lowest_tried: version,
                            }
                            .into());
                        }
                    }
                }
            }
        }
    }

    /// The handshakes at `version` on a fresh socket (TLS first when configured); `None`
    /// when the server refused the version.
    async fn establish(
        node: SocketAddr,
        stream: TcpStream,
        version: ProtocolVersion,
        config: &ConnectionConfig,
    ) -> Result<Option<Self>, ConnectionError> {
        #[cfg(feature = "rustls-023")]
        if let Some(tls) = &config.tls {
            return tls::establish(tls, node, stream, version, config).await;
        }
        let _ = node;
        match handshake::handshake(stream, version, config).await? {
            handshake::Attempt::Done(stream, read_buf, info) => {
                Self::start(stream, read_buf, info, config).map(Some)
            }
            handshake::Attempt::VersionRefused => Ok(None),
        }
    }

    /// Starts the reader and writer tasks (and the heartbeat) on a handshaken TCP stream.
    pub(crate) fn start(
        stream: TcpStream,
        read_buf: BytesMut,
        info: ConnectionInfo,
        config: &ConnectionConfig,
    ) -> Result<Self, ConnectionError> {
        let addrs = (stream.peer_addr()?, stream.local_addr()?);
        let (read_half, write_half) = stream.into_split();
        let write_half = writer::SharedWrite(Arc::new(write_half));
        Ok(Self::start_halves(
            read_half, write_half, addrs, read_buf, info, config,
        ))
    }

    /// Starts the reader and writer tasks (and the heartbeat) on the two halves of a
    /// handshaken stream whose (peer, local) addresses are `addrs`.
    pub(crate) fn start_halves<R, W>(
        read_half: R,
        write_half: W,
        (peer, local): (SocketAddr, SocketAddr),
        read_buf: BytesMut,
        info: ConnectionInfo,
        config: &ConnectionConfig,
    ) -> Self
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: writer::Sink,
    {
        let capacity = writer::queue_capacity(info.version, config.write_buffer_size);
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        let inner = Arc::new(Inner {
            version: info.version,
            compression: info.compression,
            peer,
            local,
            slots: Slots::new(config.max_streams),
            queue: WriteQueue::with_capacity(capacity),
            queued_frames: AtomicUsize::new(0),
            writer_wake: writer::WriterWake::default(),
            large: LargeFrames::default(),
            direct: write_half.direct(),
            write_side: writer::WriteSideCell::new(writer::WriteSide::new(
                framing::WriteFramer::new(info.version, info.compression),
            )),
            holding: AtomicBool::new(false),
            hold_notify: tokio::sync::Notify::new(),
            max_frame_size: config.max_frame_size,
            error: OnceLock::new(),
            tasks: Mutex::new(Vec::new()),
            events,
            frames: AtomicU64::new(0),
            health: health::Health::new(
                config
                    .max_orphaned_streams
                    .unwrap_or(config.max_streams.clamp(1, MAX_STREAMS) / 4),
            ),
            #[cfg(feature = "metrics")]
            metrics: OnceLock::new(),
        });
        let framer =
            framing::established_framer(info.version, config.max_frame_size, info.compression);
        let writer = tokio::spawn(writer::run(
            inner.clone(),
            write_half,
            config.write_coalescing,
        ));
        let reader = tokio::spawn(reader::run(
            inner.clone(),
            read_half,
            read_buf,
            framer,
            reader::ReaderConfig {
                buffer_size: config.read_buffer_size,
                frame_timeout: config.frame_read_timeout,
            },
        ));
        let expiry = tokio::spawn(health::expire_requests(inner.clone()));
        let heartbeat = tokio::spawn(health::heartbeat(
            inner.clone(),
            config.heartbeat_interval,
            config.heartbeat_timeout,
        ));
        inner.adopt_task(writer.abort_handle());
        inner.adopt_task(reader.abort_handle());
        inner.adopt_task(expiry.abort_handle());
        inner.adopt_task(heartbeat.abort_handle());
        // The peer until `open_node` names the node (the peer may be its shard-aware port).
        Self {
            inner,
            info,
            node: peer,
        }
    }

    /// What the handshake negotiated (version, compression, Scylla sharding, …).
    pub fn info(&self) -> &ConnectionInfo {
        &self.info
    }

    /// The negotiated protocol version.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.version
    }

    /// The server's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.inner.peer
    }

    /// The address of the node this connection is to, as the driver knows the node: the
    /// address the connection was opened to, or the node's CQL address when it was opened
    /// to another of the node's ports (Scylla's shard-aware port). Kept here, beside what a
    /// request reads of the connection anyway, so that an execution need not keep it.
    pub fn node_addr(&self) -> SocketAddr {
        self.node
    }

    /// The local address (its port decides the shard on Scylla's shard-aware port).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// Whether the connection died or was closed.
    pub fn is_closed(&self) -> bool {
        self.inner.slots.is_closed()
    }

    /// Whether requests should be routed to this connection: open, and not suspect (a
    /// request on it passed its deadline and the probe that follows is not answered yet).
    pub fn is_usable(&self) -> bool {
        !self.is_closed() && !self.inner.health.is_suspect()
    }

    /// Whether a request on this connection passed its deadline unanswered and the probe
    /// sent since (OPTIONS) is not answered yet; an unanswered probe kills the connection
    /// after [`ConnectionConfig::heartbeat_timeout`].
    pub fn is_suspect(&self) -> bool {
        self.inner.health.is_suspect()
    }

    /// Whether too many stream ids are held by requests whose answers never came
    /// ([`ConnectionConfig::max_orphaned_streams`]): the connection still works, but its
    /// owner should replace it.
    pub fn is_retiring(&self) -> bool {
        self.inner.health.is_retiring()
    }

    /// Stream ids held by requests that stopped waiting (cancelled or past their deadline)
    /// until their late answers arrive.
    pub fn orphaned_streams(&self) -> usize {
        self.inner.slots.orphaned()
    }

    /// Requests still waiting for their answers: stream ids taken, orphaned ones left out
    /// (0 once the connection is closed).
    pub fn live_requests(&self) -> usize {
        if self.is_closed() {
            return 0;
        }
        self.in_flight().saturating_sub(self.orphaned_streams())
    }

    /// Sends a probe (OPTIONS) now; no answer within the heartbeat timeout kills the
    /// connection.
    pub fn probe(&self) {
        self.inner.probe();
    }

    /// Notifies `notify` on every change of the connection's health (suspect, retiring,
    /// dead). One watcher per connection: later calls are ignored.
    pub(crate) fn watch(&self, notify: Arc<tokio::sync::Notify>) {
        self.inner.watch(notify);
    }

    /// Attaches the counters of the connection's node (once; later calls are ignored).
    #[cfg(feature = "metrics")]
    pub(crate) fn set_metrics(&self, metrics: Arc<crate::metrics::NodeMetrics>) {
        let _ = self.inner.metrics.set(metrics);
    }

    /// The counters of the connection's node, when its pool attached them.
    #[cfg(feature = "metrics")]
    pub(crate) fn metrics(&self) -> Option<&crate::metrics::NodeMetrics> {
        self.inner.metrics.get().map(|m| &**m)
    }

    /// The error that killed the connection, if it died.
    pub fn error(&self) -> Option<&ConnectionError> {
        self.inner.error.get()
    }

    /// Requests currently holding a stream id (waiting, or cancelled and awaiting their late
    /// response).
    pub fn in_flight(&self) -> usize {
        self.inner.slots.in_use()
    }

    /// Server events (envelopes on stream -1) received on this connection.
    pub fn events(&self) -> broadcast::Receiver<Envelope> {
        self.inner.events.subscribe()
    }

    /// Closes the connection: requests in flight fail with [`ConnectionError::Closed`].
    pub fn close(&self) {
        self.inner.kill(ConnectionError::Closed);
    }

    /// Sends `request` and waits for its response envelope.
    ///
    /// The frame is serialized directly into the write queue. Errors found while sizing the
    /// request are returned before anything is sent. Dropping the future before the response
    /// arrives leaves the stream id reserved until the late response is discarded.
    pub async fn send<R>(
        &self,
        request: &R,
        flags: HeaderFlags,
    ) -> Result<Envelope, ConnectionError>
    where
        R: Request + Sync + ?Sized,
    {
        self.inner.send(request, flags, None).await
    }

    /// Serializes `request` into the write queue now and returns the future of its response,
    /// failing with [`ConnectionError::DeadlinePassed`] when none arrived by `deadline`.
    /// Errors found while sizing the request are returned before anything is queued.
    pub fn start_send<'a, R>(
        &'a self,
        request: &R,
        flags: HeaderFlags,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<ResponseFuture<'a>, ConnectionError>
    where
        R: Request + Sync + ?Sized,
    {
        self.inner
            .start_send(request, flags, deadline.map(Stamp::from_instant), None)
    }

    /// [`Self::start_send`] with a deadline read from the driver's own clock (an execution's)
    /// and, when given, the waker of the task that awaits the response next, registered
    /// with the stream id (see [`Inner::start_send`]).
    pub(crate) fn start_send_by<'a, R>(
        &'a self,
        request: &R,
        flags: HeaderFlags,
        deadline: Option<Stamp>,
        waker: Option<&std::task::Waker>,
    ) -> Result<ResponseFuture<'a>, ConnectionError>
    where
        R: Request + Sync + ?Sized,
    {
        self.inner.start_send(request, flags, deadline, waker)
    }

    /// [`Self::send`], failing with [`ConnectionError::DeadlinePassed`] when no response
    /// arrived by `deadline` (the connection stays usable). The deadline costs no timer of
    /// the request's own: the connection's expiry task enforces it.
    pub async fn send_until<R>(
        &self,
        request: &R,
        flags: HeaderFlags,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Envelope, ConnectionError>
    where
        R: Request + Sync + ?Sized,
    {
        self.inner
            .send(request, flags, deadline.map(Stamp::from_instant))
            .await
    }
}

fn lower_version(version: ProtocolVersion) -> Option<ProtocolVersion> {
    match version {
        ProtocolVersion::V4 => None,
        _ => Some(ProtocolVersion::V4),
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.inner.kill(ConnectionError::Closed);
    }
}
