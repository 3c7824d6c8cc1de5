//! The send path: size, stream id, serialize into the write queue (compressing v4 bodies
//! through thread-local scratch buffers when negotiated), then [`ResponseFuture`] polls the
//! stream's slot.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use crate::clock::Stamp;
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{Compressor, EnvelopeHeader, HEADER_SIZE, HeaderFlags};
use scylla2_cql::request::{Request, write_envelope};
use swap_buffer_queue::error::TryEnqueueError;

use super::Inner;
use super::error::ConnectionError;
use super::slots::{self, AllocError};

/// v4 bodies shorter than this are sent uncompressed even when compression is negotiated
/// (v4 §2.2: the flag is per frame).
const MIN_COMPRESSED_BODY: usize = 512;

thread_local! {
    /// The v4 compression path's scratch: plain body, compressed frame, and the compressor
    /// whose tables are reused across requests (created on the first compressed request).
    static SCRATCH: RefCell<(Vec<u8>, Vec<u8>, Option<Compressor>)> =
        const { RefCell::new((Vec::new(), Vec::new(), None)) };
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
            Stage::Sent => match self.inner.slots.abandon(self.id) {
                slots::Abandoned::Orphaned => self.inner.note_orphaned(),
                // Delivered on some thread and never taken: counted there as a follower.
                slots::Abandoned::ResponseDropped => super::writer::note_taken(),
                slots::Abandoned::Nothing => {}
            },
            Stage::Done => {}
        }
    }
}

/// Where a frame went.
enum Queued {
    /// Into the write queue.
    Done,
    /// Still to be queued from this owned copy (queue full, or too large for it).
    Owned(Vec<u8>),
}

/// The rest of the queueing of a frame that could not be queued at once (the write queue was
/// full, or the frame needs its own buffer): boxed, so that the common path's future does not
/// carry room for it.
type Queueing<'a> = Pin<Box<dyn Future<Output = Result<(), ConnectionError>> + Send + 'a>>;

/// The response of a request queued on a connection: resolves when the response arrives, the
/// request's deadline passes, or the connection dies.
///
/// Created with the frame already serialized into the write queue (in the common case), so
/// that awaiting it only polls the request's stream slot. Dropping it before the response
/// arrives leaves the stream id reserved until the late response is discarded.
#[must_use = "a response future does nothing unless awaited"]
pub struct ResponseFuture<'a> {
    guard: StreamGuard<'a>,
    /// Set when the frame still has to be queued (see [`Queueing`]).
    queueing: Option<Queueing<'a>>,
}

impl std::fmt::Debug for ResponseFuture<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("stream", &self.guard.id)
            .field("queueing", &self.queueing.is_some())
            .finish()
    }
}

impl Future for ResponseFuture<'_> {
    type Output = Result<super::Envelope, ConnectionError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.guard.stage == Stage::Done {
            // Polled again after it completed (which the `Future` contract forbids): the id
            // may belong to another request by now, so its slot must not be touched.
            return Poll::Ready(Err(ConnectionError::Closed));
        }
        if let Some(queueing) = this.queueing.as_mut() {
            match queueing.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => {
                    // Nothing was queued: the id is free again at once.
                    this.queueing = None;
                    this.guard.inner.slots.release(this.guard.id);
                    this.guard.stage = Stage::Done;
                    return Poll::Ready(Err(e));
                }
                Poll::Ready(Ok(())) => {
                    this.queueing = None;
                    this.guard.inner.mark_queued(&mut this.guard);
                }
            }
        }
        let inner = this.guard.inner;
        let result = match inner.slots.poll(this.guard.id, cx.waker()) {
            slots::Poll::Pending => return Poll::Pending,
            slots::Poll::Ready(envelope) => {
                super::writer::note_taken();
                Ok(envelope)
            }
            slots::Poll::Failed => Err(inner.broken()),
            // An expired slot is orphaned by `poll` itself: the id waits for the late
            // response.
            slots::Poll::Expired => {
                inner.note_orphaned();
                Err(ConnectionError::DeadlinePassed)
            }
        };
        this.guard.stage = Stage::Done;
        Poll::Ready(result)
    }
}

impl ResponseFuture<'_> {
    /// Whether the frame is in the write queue (or with the writer) already: false while
    /// it still waits for room, which only polling this future makes progress on.
    #[inline]
    pub(crate) fn is_queued(&self) -> bool {
        self.queueing.is_none()
    }
}

impl Inner {
    /// Sends `request` and waits for its response until `deadline` (then
    /// [`ConnectionError::DeadlinePassed`]): [`Self::start_send`], then its response.
    pub(crate) async fn send<R>(
        &self,
        request: &R,
        flags: HeaderFlags,
        deadline: Option<Stamp>,
    ) -> Result<super::Envelope, ConnectionError>
    where
        R: Request + Sync + ?Sized,
    {
        let response = self.start_send(request, flags, deadline, None)?;
        response.await
    }

    /// Sizes `request`, takes a stream id and serializes the frame into the write queue; the
    /// returned future then waits for the response until `deadline`. The deadline is kept in
    /// the stream's slot and enforced by the connection's expiry task, so that a request
    /// registers no timer of its own, not even while it waits for room in a full write queue.
    /// Errors found while sizing are returned before anything is queued.
    ///
    /// `waker`, when given, is registered with the stream id at once: the waker of the task
    /// that polls the response next, which then need not poll it until woken (the attempt's
    /// [`Exchange`](crate::execution::Exchange)).
    pub(crate) fn start_send<'a, R>(
        &'a self,
        request: &R,
        flags: HeaderFlags,
        deadline: Option<Stamp>,
        waker: Option<&Waker>,
    ) -> Result<ResponseFuture<'a>, ConnectionError>
    where
        R: Request + Sync + ?Sized,
    {
        let version = self.version;
        let body_size = request.body_size(version)?;
        let size = HEADER_SIZE + body_size;
        if size > self.max_frame_size {
            return Err(ConnectionError::FrameTooLarge {
                size,
                max: self.max_frame_size,
                largest_value: None,
            });
        }
        let id = match self.slots.allocate(self.slots.ticks(deadline), waker) {
            Ok(id) => id,
            Err(AllocError::Exhausted) => {
                return Err(ConnectionError::StreamsExhausted(self.slots.max_streams()));
            }
            Err(AllocError::Closed) => return Err(self.broken()),
        };
        let mut guard = StreamGuard {
            inner: self,
            id,
            stage: Stage::Unsent,
        };
        let compression = self
            .compression
            .filter(|_| version == ProtocolVersion::V4 && body_size >= MIN_COMPRESSED_BODY);
        let queued = match compression {
            Some(c) => self.queue_compressed(request, flags, id, body_size, c)?,
            None if size <= self.queue.capacity() => {
                let write = move |slot: &mut [u8]| {
                    write_envelope(request, version, flags, id, body_size, slot)
                };
                match self.queue.try_enqueue((size, write)) {
                    Ok(()) => Queued::Done,
                    Err(TryEnqueueError::Closed(_)) => return Err(self.broken()),
                    // The writer is behind (the socket is full): the frame waits for room
                    // in an owned copy (below), so that the response future does not
                    // borrow the request.
                    Err(TryEnqueueError::InsufficientCapacity(_)) => {
                        let mut frame = vec![0u8; size];
                        write_envelope(request, version, flags, id, body_size, &mut frame);
                        Queued::Owned(frame)
                    }
                }
            }
            None => {
                let mut frame = vec![0u8; size];
                write_envelope(request, version, flags, id, body_size, &mut frame);
                Queued::Owned(frame)
            }
        };
        if let Queued::Owned(frame) = queued {
            if frame.len() <= self.queue.capacity() {
                let queueing: Queueing<'a> =
                    Box::pin(async move { self.enqueue_until(frame.as_slice(), id).await });
                return Ok(ResponseFuture {
                    guard,
                    queueing: Some(queueing),
                });
            }
            if !self.large.push(frame) {
                // Larger than a queue buffer: its own allocation, written by the writer task.
                return Err(self.broken());
            }
            self.writer_wake.notify(super::writer::WriterWake::LARGE);
        }
        self.mark_queued(&mut guard);
        Ok(ResponseFuture {
            guard,
            queueing: None,
        })
    }

    /// The frame of `guard`'s request is queued: a response may come from now on; wakes the
    /// writer if this is the first frame since its last batch.
    fn mark_queued(&self, guard: &mut StreamGuard<'_>) {
        guard.stage = Stage::Sent;
        super::writer::note_activity();
        if self.queued_frames.fetch_add(1, Ordering::Relaxed) == 0
            && !(super::writer::no_followers() && self.write_direct())
        {
            self.writer_wake.notify(super::writer::WriterWake::QUEUED);
        }
    }

    /// Waits for room in the write queue (the writer is behind: the socket is full) until
    /// the request's deadline, which the slot of `id` holds: the expiry task wakes this wait
    /// through the slot, so waiting for room costs no timer either.
    async fn enqueue_until(&self, frame: &[u8], id: i16) -> Result<(), ConnectionError> {
        let mut enqueue = pin!(self.queue.enqueue_async(frame));
        poll_fn(|cx| {
            if let Poll::Ready(queued) = enqueue.as_mut().poll(cx) {
                return Poll::Ready(queued.map_err(|_| self.broken()));
            }
            match self.slots.poll_unsent(id, cx.waker()) {
                slots::Unsent::Waiting => Poll::Pending,
                slots::Unsent::Expired => Poll::Ready(Err(ConnectionError::DeadlinePassed)),
                slots::Unsent::Failed => Poll::Ready(Err(self.broken())),
            }
        })
        .await
    }

    /// v4 compression (v4 §2.2, flag 0x01): the body is serialized and compressed in
    /// thread-local scratch buffers, and the frame queued from there without an allocation
    /// unless the queue is full at that moment.
    fn queue_compressed<R>(
        &self,
        request: &R,
        flags: HeaderFlags,
        id: i16,
        body_size: usize,
        compression: super::Compression,
    ) -> Result<Queued, ConnectionError>
    where
        R: Request + ?Sized,
    {
        SCRATCH.with(|cell| {
            let mut scratch = cell.borrow_mut();
            let (plain, packed, compressor) = &mut *scratch;
            // Both buffers only ever grow: no zero-filling per request in steady state.
            if plain.len() < body_size {
                plain.resize(body_size, 0);
            }
            let body = &mut plain[..body_size];
            request.write_body(self.version, &mut &mut *body);
            let bound = compression.compress_bound(body_size)?;
            if packed.len() < HEADER_SIZE + bound {
                packed.resize(HEADER_SIZE + bound, 0);
            }
            let n = compressor
                .get_or_insert_with(Compressor::new)
                .compress_into(
                    compression,
                    body,
                    &mut packed[HEADER_SIZE..HEADER_SIZE + bound],
                )?;
            let header = EnvelopeHeader {
                version: self.version,
                is_response: false,
                flags: flags.with(HeaderFlags::COMPRESSION),
                stream: id,
                opcode: request.opcode(),
                length: n as u32,
            };
            let mut h = [0u8; HEADER_SIZE];
            header.encode(&mut h);
            packed[..HEADER_SIZE].copy_from_slice(&h);
            let frame = &packed[..HEADER_SIZE + n];
            if frame.len() <= self.queue.capacity() {
                match self.queue.try_enqueue(frame) {
                    Ok(()) => return Ok(Queued::Done),
                    Err(TryEnqueueError::Closed(_)) => return Err(self.broken()),
                    Err(TryEnqueueError::InsufficientCapacity(_)) => {}
                }
            }
            Ok(Queued::Owned(frame.to_vec()))
        })
    }
}
