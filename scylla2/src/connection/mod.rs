//! One CQL connection: socket, handshake, write queue and writer task, reader task, stream-id
//! slots, server events and heartbeat.
//!
//! Sending a request sizes its frame, takes a stream id, and serializes the frame straight
//! into a slot of the connection's swap-buffer write queue; the writer task dequeues
//! everything queued and writes it in one call. The reader task splits whole frames off a
//! large read buffer as `Bytes` (no copy) and hands each to the slot of its stream id, waking
//! the request future that polls it. Nothing on this path allocates in steady state.

pub mod config;
pub mod error;
mod framing;
mod reader;
pub(crate) mod slots;
mod socket;
mod writer;

#[cfg(test)]
mod tests;

use std::future::poll_fn;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::Poll;
use std::time::Instant;

use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{HEADER_SIZE, HeaderFlags};
use scylla2_cql::request::{Request, write_envelope};
use tokio::net::TcpStream;
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

pub use config::{Compression, ConnectionConfig};
pub use error::{ConnectionError, FrameError, HandshakeError};
pub use framing::Envelope;
pub use slots::MAX_STREAMS;

use slots::{AllocError, Slots};
use writer::{LargeFrames, WriteQueue};

/// Capacity of the server event channel of a connection.
const EVENT_CHANNEL_CAPACITY: usize = 64;

/// A live CQL connection. Dropping it closes the socket and fails requests still in flight.
#[derive(Debug)]
pub struct Connection {
    inner: Arc<Inner>,
}

/// State shared by the connection handle and its reader and writer tasks.
#[derive(Debug)]
pub(crate) struct Inner {
    version: ProtocolVersion,
    peer: SocketAddr,
    local: SocketAddr,
    slots: Slots,
    queue: WriteQueue,
    large: LargeFrames,
    max_frame_size: usize,
    compression: Option<Compression>,
    error: OnceLock<ConnectionError>,
    tasks: Mutex<Vec<AbortHandle>>,
    events: broadcast::Sender<Envelope>,
    created: Instant,
    last_read_ms: AtomicU64,
}

impl Inner {
    /// Kills the connection with `error` (the first error wins): fails every waiter, closes
    /// the write queue and stops the tasks.
    pub(crate) fn kill(&self, error: ConnectionError) {
        let _ = self.error.set(error);
        self.slots.fail_all();
        self.queue.close();
        self.large.close();
        // Stopping the tasks drops both socket halves, which closes the socket.
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            task.abort();
        }
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

    fn mark_read(&self) {
        let ms = self.created.elapsed().as_millis() as u64;
        self.last_read_ms.store(ms, Ordering::Relaxed);
    }
}

/// Releases or orphans a request's stream id when its future ends or is dropped.
struct StreamGuard<'a> {
    inner: &'a Inner,
    id: i16,
    stage: Stage,
}

#[derive(PartialEq, Eq)]
enum Stage {
    /// Not written anywhere yet: the id can be freed at once.
    Unsent,
    /// Queued or written: a response may come; the id is orphaned if we stop waiting.
    Sent,
    /// The response was taken (or the connection died): nothing left to do.
    Done,
}

impl Drop for StreamGuard<'_> {
    fn drop(&mut self) {
        match self.stage {
            Stage::Unsent => self.inner.slots.release(self.id),
            Stage::Sent => self.inner.slots.abandon(self.id),
            Stage::Done => {}
        }
    }
}

impl Connection {
    /// Starts the reader and writer tasks on an established, handshaken stream.
    pub(crate) fn start(
        stream: TcpStream,
        read_buf: bytes::BytesMut,
        version: ProtocolVersion,
        config: &ConnectionConfig,
    ) -> Result<Self, ConnectionError> {
        let peer = stream.peer_addr()?;
        let local = stream.local_addr()?;
        let capacity = writer::queue_capacity(version, config.write_buffer_size);
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        let inner = Arc::new(Inner {
            version,
            peer,
            local,
            slots: Slots::new(config.max_streams),
            queue: WriteQueue::with_capacity(capacity),
            large: LargeFrames::default(),
            max_frame_size: config.max_frame_size,
            compression: None,
            error: OnceLock::new(),
            tasks: Mutex::new(Vec::new()),
            events,
            created: Instant::now(),
            last_read_ms: AtomicU64::new(0),
        });
        let (read_half, write_half) = stream.into_split();
        let writer = tokio::spawn(writer::run(inner.clone(), write_half));
        let reader = tokio::spawn(reader::run(
            inner.clone(),
            read_half,
            read_buf,
            config.read_buffer_size,
        ));
        inner.adopt_task(writer.abort_handle());
        inner.adopt_task(reader.abort_handle());
        Ok(Self { inner })
    }

    /// The negotiated protocol version.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.version
    }

    /// The server's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.inner.peer
    }

    /// The local address (its port decides the shard on Scylla's shard-aware port).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.local
    }

    /// Whether the connection died or was closed.
    pub fn is_closed(&self) -> bool {
        self.inner.slots.is_closed()
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
        let inner = &*self.inner;
        let version = inner.version;
        let body_size = request.body_size(version)?;
        let size = HEADER_SIZE + body_size;
        if size > inner.max_frame_size {
            return Err(ConnectionError::FrameTooLarge {
                size,
                max: inner.max_frame_size,
            });
        }
        let id = match inner.slots.allocate() {
            Ok(id) => id,
            Err(AllocError::Exhausted) => {
                return Err(ConnectionError::StreamsExhausted(inner.slots.max_streams()));
            }
            Err(AllocError::Closed) => return Err(inner.broken()),
        };
        let mut guard = StreamGuard {
            inner,
            id,
            stage: Stage::Unsent,
        };
        let write = |slot: &mut [u8]| write_envelope(request, version, flags, id, body_size, slot);
        if size <= inner.queue.capacity() {
            if inner.queue.enqueue_async((size, write)).await.is_err() {
                return Err(inner.broken());
            }
        } else {
            // Larger than a queue buffer: its own allocation, written by the writer task.
            let mut frame = vec![0u8; size];
            write(&mut frame);
            if !inner.large.push(frame) {
                return Err(inner.broken());
            }
        }
        guard.stage = Stage::Sent;
        let result = poll_fn(|cx| match inner.slots.poll(id, cx.waker()) {
            slots::Poll::Ready(envelope) => Poll::Ready(Ok(envelope)),
            slots::Poll::Pending => Poll::Pending,
            slots::Poll::Failed => Poll::Ready(Err(inner.broken())),
        })
        .await;
        guard.stage = Stage::Done;
        result
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.inner.kill(ConnectionError::Closed);
    }
}
