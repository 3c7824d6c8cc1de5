//! The write path: the swap-buffer write queue requests serialize into, the side queue for
//! frames larger than a queue buffer, the writer task that drains both to the socket, and
//! the direct write a lone request makes itself.
//!
//! Each dequeue returns every frame queued since the previous one as one contiguous slice,
//! written with a single call (on TLS: encrypted at once by rustls, then flushed, so that no
//! record waits in rustls' buffer). Before dequeuing, the writer gathers the frames other ready
//! tasks are about to queue and, opted in with [`WriteCoalescing::UntilNextRead`], holds a
//! batch until its reader handled the next read. The queue buffers reserve room before and
//! after the data for a v5 segment header and CRC32 trailer, so that a v5 segment is
//! written in place.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker, ready};

use scylla2_cql::ProtocolVersion;
use swap_buffer_queue::SynchronizedQueue;
use swap_buffer_queue::error::TryDequeueError;
use swap_buffer_queue::write::WriteVecBuffer;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;

use super::Inner;
use super::config::WriteCoalescing;
use super::error::ConnectionError;
use super::framing::WriteFramer;

/// Bytes reserved before the queued data (room for a v5 segment header, lz4 format being the
/// larger one).
pub(crate) const SEGMENT_HEADER: usize = scylla2_cql::frame::LZ4_HEADER_SIZE;
/// Bytes reserved after the queued data (a v5 segment's CRC32).
pub(crate) const SEGMENT_TRAILER: usize = 4;
use scylla2_cql::frame::MAX_SEGMENT_PAYLOAD;

/// The buffer type of a connection's write queue.
pub(crate) type WriteBuffer = WriteVecBuffer<SEGMENT_HEADER, SEGMENT_TRAILER>;

/// The write queue of a connection.
pub(crate) type WriteQueue = SynchronizedQueue<WriteBuffer>;

/// Capacity of each queue buffer: on v5 one dequeue must fit one self-contained segment.
pub(crate) fn queue_capacity(version: ProtocolVersion, configured: usize) -> usize {
    match version {
        ProtocolVersion::V4 => configured.max(1024),
        _ => configured.clamp(1024, MAX_SEGMENT_PAYLOAD),
    }
}

/// The socket half the writer task writes to: the plain TCP half, or (feature `rustls-023`)
/// the TLS stream's write half. Monomorphized: the plain TCP writer has no TLS code in it.
pub(crate) trait Sink: AsyncWrite + Unpin + Send + 'static {
    /// Whether written bytes may wait in a buffer of the sink until it is flushed (TLS
    /// records that the socket did not take at once); the writer then flushes each batch.
    const BUFFERED: bool;

    /// The socket requests may write to themselves ([`Inner::write_direct`]): plain TCP only.
    fn direct(&self) -> Option<Arc<OwnedWriteHalf>> {
        None
    }
}

/// Plain TCP's write half, shared by the writer task and the direct writes of requests
/// (both write through `&TcpStream`: readiness, then a non-blocking write).
#[derive(Debug, Clone)]
pub(crate) struct SharedWrite(pub(crate) Arc<OwnedWriteHalf>);

impl SharedWrite {
    fn stream(&self) -> &TcpStream {
        (*self.0).as_ref()
    }
}

impl AsyncWrite for SharedWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let stream = self.stream();
        loop {
            ready!(stream.poll_write_ready(cx))?;
            match stream.try_write(buf) {
                // Readiness was stale: `try_write` cleared it, so the next poll waits.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                result => return Poll::Ready(result),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(socket2::SockRef::from(self.stream()).shutdown(std::net::Shutdown::Write))
    }
}

impl Sink for SharedWrite {
    const BUFFERED: bool = false;

    fn direct(&self) -> Option<Arc<OwnedWriteHalf>> {
        Some(self.0.clone())
    }
}

/// What writing to the socket needs beside the socket, owned by whoever writes (the writer
/// task, or a request writing directly): the framer, and what a direct write left unwritten.
pub(crate) struct WriteSide {
    framer: WriteFramer,
    /// Bytes a direct write could not hand to the socket at once (it was full): the writer
    /// task writes them before anything else, and no direct write happens until it did.
    /// Reused, so that it allocates only the first time a socket is full.
    pub(super) pending: Vec<u8>,
}

impl WriteSide {
    pub(crate) fn new(framer: WriteFramer) -> Self {
        Self {
            framer,
            pending: Vec::new(),
        }
    }
}

/// The [`WriteSide`], handed between the writer task and direct writes. A direct write uses
/// it in place under the lock, never waiting (`try_lock`, synchronous work only); the writer
/// task takes it out for a batch (its writes await the socket) and puts it back after, so
/// that a direct write finds it missing meanwhile and leaves its frame to the writer. A
/// plain mutex: `tokio::sync::Mutex` (a semaphore with a waiter list) cost about 110
/// instructions per request at 1 in flight, this about 40 (callgrind).
#[derive(Debug)]
pub(crate) struct WriteSideCell(Mutex<Option<Box<WriteSide>>>);

impl WriteSideCell {
    pub(crate) fn new(side: WriteSide) -> Self {
        Self(Mutex::new(Some(Box::new(side))))
    }

    /// The side, for the writer task's batch. Only the writer task takes it, so it is
    /// there (a direct write using it holds the lock for a short synchronous section, which
    /// this waits for); `None` only after the writer stopped with it taken (a failed write,
    /// or the queue closed), when the connection is dead or closing.
    fn take(&self) -> Option<Box<WriteSide>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    /// Puts back what [`Self::take`] took.
    fn put(&self, side: Box<WriteSide>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(side);
    }

    /// Runs `f` on the side if nobody holds the lock and the writer task has not taken it.
    fn try_with<R>(&self, f: impl FnOnce(&mut WriteSide) -> R) -> Option<R> {
        let mut guard = self.0.try_lock().ok()?;
        guard.as_deref_mut().map(f)
    }

    /// Bytes a direct write left for the writer task (tests).
    #[cfg(test)]
    pub(crate) fn pending_len(&self) -> Option<usize> {
        self.try_with(|side| side.pending.len())
    }
}

impl std::fmt::Debug for WriteSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteSide")
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

/// Flushes what a buffering sink still holds (nothing to do on plain TCP: compiled out).
async fn flush<S: Sink>(sink: &mut S) -> Result<(), ConnectionError> {
    if S::BUFFERED {
        sink.flush().await?;
    }
    Ok(())
}

/// Frames larger than a queue buffer, each in its own allocation.
#[derive(Debug, Default)]
pub(crate) struct LargeFrames {
    frames: Mutex<(VecDeque<Vec<u8>>, bool)>,
    pub(crate) notify: Notify,
    closed: AtomicBool,
}

impl LargeFrames {
    /// Queues a frame; `false` when the connection is closed.
    pub(crate) fn push(&self, frame: Vec<u8>) -> bool {
        let mut guard = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.1 {
            return false;
        }
        guard.0.push_back(frame);
        drop(guard);
        self.notify.notify_one();
        true
    }

    fn pop(&self) -> Option<Vec<u8>> {
        let mut guard = self.frames.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0.pop_front()
    }

    /// Refuses further frames.
    pub(crate) fn close(&self) {
        self.frames.lock().unwrap_or_else(PoisonError::into_inner).1 = true;
        self.closed.store(true, Ordering::Release);
        self.notify.notify_one();
    }
}

/// The idle writer's wake-up: what it has to do (bits set by the request that queues the
/// first frame since the last batch, by a large frame, by the connection closing) and the
/// waker of its wait. One atomic read-modify-write per side and a lock only around the
/// waker: at one request in flight the writer sleeps and wakes once per request, and
/// `tokio::sync::Notify` (a waiter list registered and unregistered under a lock for each of
/// the two events) cost about 450 instructions of each request's 9 500 (callgrind).
#[derive(Debug, Default)]
pub(crate) struct WriterWake {
    pending: AtomicU8,
    waker: Mutex<Option<Waker>>,
}

impl WriterWake {
    /// A frame was queued into an empty write queue.
    pub(crate) const QUEUED: u8 = 1;
    /// A large frame was queued, or the connection is closing.
    pub(crate) const LARGE: u8 = 2;
    /// A direct write left bytes for the writer.
    pub(crate) const PENDING: u8 = 4;

    /// Sets `bit` and wakes the writer if it waits. A bit already set needs no wake-up: its
    /// setter woke the waiter, or the waiter sees it when it checks after registering.
    pub(crate) fn notify(&self, bit: u8) {
        if self.pending.fetch_or(bit, Ordering::AcqRel) & bit != 0 {
            return;
        }
        let guard = self.waker.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(waker) = guard.as_ref() {
            waker.wake_by_ref();
        }
    }

    /// Takes the bits set since the last call, waiting until one is.
    fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<u8> {
        let bits = self.pending.swap(0, Ordering::AcqRel);
        if bits != 0 {
            return Poll::Ready(bits);
        }
        {
            let mut slot = self.waker.lock().unwrap_or_else(PoisonError::into_inner);
            match slot.as_ref() {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        // Registered before this second look: a bit set from now on finds the waker.
        match self.pending.swap(0, Ordering::AcqRel) {
            0 => Poll::Pending,
            bits => Poll::Ready(bits),
        }
    }
}

/// At most this many yields before a write (bounds the latency coalescing adds).
const MAX_YIELDS: usize = 16;

thread_local! {
    /// Work seen on this thread: bumped by every frame queued and every socket read of any
    /// connection. A writer whose yield saw no change knows its thread had nothing else to
    /// do, so no frame is about to come.
    static ACTIVITY: Cell<u64> = const { Cell::new(0) };
}

/// Records work on this thread (a frame queued, a read done).
pub(crate) fn note_activity() {
    ACTIVITY.with(|a| a.set(a.get().wrapping_add(1)));
}

thread_local! {
    /// Responses delivered on this thread to requests whose tasks have not taken them yet:
    /// each such task is about to run, and a loader's or a pipeline's sends its next request
    /// when it does, so while some are pending a frame queued now is likely followed by
    /// more. One more per response delivered, one less per response taken. On a
    /// multi-threaded runtime a response may be taken on another thread than the one that
    /// delivered it: the count then stays high on the first (its frames go through the
    /// writer task, as without direct writes) and floors at zero on the second.
    static FOLLOWERS: Cell<usize> = const { Cell::new(0) };
}

/// Records a response delivered to a waiting request by a reader on this thread.
pub(crate) fn note_delivered() {
    FOLLOWERS.with(|f| f.set(f.get().saturating_add(1)));
}

/// Records a response taken by its request on this thread.
pub(crate) fn note_taken() {
    FOLLOWERS.with(|f| f.set(f.get().saturating_sub(1)));
}

/// Whether no response delivered on this thread is still waiting for its task: nothing
/// suggests that another frame is about to be queued.
pub(crate) fn no_followers() -> bool {
    FOLLOWERS.with(|f| f.get() == 0)
}

/// This thread's activity count, with the thread's identity (a task may move between
/// threads of a multi-threaded runtime between two polls).
fn activity() -> (usize, u64) {
    ACTIVITY.with(|a| (std::ptr::from_ref(a) as usize, a.get()))
}

/// Waits a little for more frames while that is likely to pay off: while the requests holding
/// a stream id outnumber the frames queued for this write (others are about to queue theirs,
/// or responses that trigger new requests are arriving) and the thread is busy. Each
/// `yield_now` lets every other ready task run (and tokio polls the sockets before waking
/// yielded tasks); when a yield saw no frame queued and no read on this thread, the runtime
/// was idle and waiting longer would only add latency and empty polls, so the batch goes.
/// With one request in flight nothing is waited for. Measured with scylla2-load (3 nodes x 4
/// shards, 128 in flight, 1 thread, 4 interleaved runs each): the same write syscalls per
/// request (0.19-0.20) and CPU as the previous rule (at least 4 yields, stop at the first
/// without a new frame), without spinning through empty polls when the thread is idle.
///
/// A frame's enqueue wakes the writer into tokio's LIFO slot, so without yielding it runs
/// right after the first enqueuing task and every write carries a single frame.
async fn gather(inner: &Inner) {
    let mut queued = inner.queued_frames.load(Ordering::Relaxed);
    let mut yields = 0;
    while yields < MAX_YIELDS
        && queued > 0
        && inner.slots.in_use() > queued
        && inner.queue.len() < inner.queue.capacity() / 2
    {
        let before = activity();
        tokio::task::yield_now().await;
        yields += 1;
        let now_queued = inner.queued_frames.load(Ordering::Relaxed);
        // Frames queued during the yield count as work too: on a multi-threaded runtime
        // they come from other threads, whose work this thread's count does not see.
        if activity() == before && now_queued == queued {
            break;
        }
        queued = now_queued;
    }
}

/// Whether the batch gathered so far should wait for the next read: enough requests sent on
/// this connection await answers (so more responses, and the requests they trigger, are on
/// their way) and the write queue has room to spare.
fn should_hold(inner: &Inner, min_outstanding: usize) -> bool {
    let queued = inner.queued_frames.load(Ordering::Relaxed);
    queued > 0
        && inner.slots.in_use().saturating_sub(queued) >= min_outstanding
        && inner.queue.len() < inner.queue.capacity() / 2
}

/// When the writer holds a batch (see [`WriteCoalescing`]).
struct HoldRule {
    /// Outstanding requests for a hold, and its bound; `None`: never.
    config: Option<(usize, std::time::Duration)>,
    /// Adaptive only: one batch in this many is held while holding does not pay.
    probe_every: Option<u32>,
    /// The moving score of the last holds, in 256ths of "every one paid" (adaptive).
    score: u32,
    /// Batches that could have been held since the last probe (adaptive).
    since_probe: u32,
}

/// A score from which holds are taken to pay: half of them, lately.
const PAYS: u32 = 128;

impl HoldRule {
    fn new(coalescing: WriteCoalescing) -> Self {
        let (config, probe_every) = match coalescing {
            WriteCoalescing::Yield => (None, None),
            WriteCoalescing::UntilNextRead {
                min_outstanding,
                max_delay,
            } => (Some((min_outstanding.max(1), max_delay)), None),
            WriteCoalescing::Adaptive {
                min_outstanding,
                max_delay,
                probe_every,
            } => (
                Some((min_outstanding.max(1), max_delay)),
                Some(probe_every.max(1)),
            ),
        };
        Self {
            config,
            probe_every,
            // Holding is taken to pay until holds show otherwise.
            score: 256,
            since_probe: 0,
        }
    }

    /// Whether this batch, which could be held, is.
    fn wants(&mut self) -> bool {
        let Some(every) = self.probe_every else {
            return true;
        };
        if self.score >= PAYS {
            return true;
        }
        self.since_probe += 1;
        if self.since_probe >= every {
            self.since_probe = 0;
            return true;
        }
        false
    }

    /// What a hold gave: whether frames were queued on the connection while it lasted.
    fn record(&mut self, paid: bool) {
        if paid {
            self.score += (256 - self.score) / 8;
        } else {
            self.score -= self.score.div_ceil(8);
        }
    }
}

/// Why a hold ended.
enum HoldEnd {
    /// The connection's reader handled a read, or the bound passed.
    Write,
    /// Large frames were queued, or the connection is closing.
    Large,
}

/// Holds the batch until this connection's reader handled its next read, or `bound`
/// passed. The bound's timer entry is reused from hold to hold: pushing a registered
/// deadline later is one atomic operation, not a timer-wheel insertion.
async fn hold(
    inner: &Inner,
    mut bound: std::pin::Pin<&mut tokio::time::Sleep>,
    max_delay: std::time::Duration,
) -> HoldEnd {
    bound
        .as_mut()
        .reset(tokio::time::Instant::now() + max_delay);
    // Set before waiting: a read handled in between leaves a permit in `hold_notify`, so
    // that it is not missed (a permit left by a read after the hold ends only makes the
    // next hold end at once).
    inner.holding.store(true, Ordering::Relaxed);
    let end = tokio::select! {
        biased;
        () = inner.large.notify.notified() => HoldEnd::Large,
        () = inner.hold_notify.notified() => HoldEnd::Write,
        () = bound => HoldEnd::Write,
    };
    inner.holding.store(false, Ordering::Relaxed);
    end
}

/// Called by the reader once the frames of a read were handed to their requests: ends the
/// writer's hold, if it holds a batch.
pub(crate) fn read_handled(inner: &Inner) {
    if inner.holding.load(Ordering::Relaxed) {
        inner.hold_notify.notify_one();
    }
}

/// The writer task: runs until the queue is closed or a write fails (which kills the
/// connection).
pub(crate) async fn run<S: Sink>(inner: Arc<Inner>, mut sink: S, coalescing: WriteCoalescing) {
    if let Err(error) = write_loop(&inner, &mut sink, coalescing).await {
        inner.kill(error);
    }
    let _ = sink.shutdown().await;
}

async fn write_loop<S: Sink>(
    inner: &Inner,
    sink: &mut S,
    coalescing: WriteCoalescing,
) -> Result<(), ConnectionError> {
    let mut holds = HoldRule::new(coalescing);
    // The hold's bound: one timer entry per connection, created on the first hold.
    let mut bound: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    loop {
        if inner.queued_frames.load(Ordering::Acquire) == 0 {
            // Nothing queued since the last batch: sleep until a request queues a frame, so
            // that the first one can be followed by the others before dequeuing (`gather`).
            let bits = poll_fn(|cx| inner.writer_wake.poll_wait(cx)).await;
            if bits & WriterWake::LARGE != 0 {
                if write_large_frames(inner, sink).await? {
                    return Ok(());
                }
                continue;
            }
            if bits & WriterWake::QUEUED == 0 {
                // Only what a direct write left: write it, and sleep again unless frames
                // were queued meanwhile.
                let Some(mut side) = inner.write_side.take() else {
                    return Ok(());
                };
                write_pending(&mut side, sink).await?;
                inner.write_side.put(side);
                continue;
            }
        }
        gather(inner).await;
        if let Some((min_outstanding, max_delay)) = holds.config
            && should_hold(inner, min_outstanding)
            && holds.wants()
        {
            let bound = bound.get_or_insert_with(|| {
                Box::pin(tokio::time::sleep_until(tokio::time::Instant::now()))
            });
            let before = inner.queued_frames.load(Ordering::Relaxed);
            match hold(inner, bound.as_mut(), max_delay).await {
                HoldEnd::Write => {
                    holds.record(inner.queued_frames.load(Ordering::Relaxed) > before);
                    gather(inner).await;
                }
                HoldEnd::Large => {
                    if write_large_frames(inner, sink).await? {
                        return Ok(());
                    }
                }
            }
        }
        // The write side is taken from here to the end of the batch: a direct write never
        // interleaves with it. It is never taken while waiting for frames: a direct write
        // that finds it missing leaves its frame to this task, which then sleeps until woken.
        // (An error return below drops it: the connection is dead then.)
        let Some(mut side) = inner.write_side.take() else {
            return Ok(());
        };
        write_pending(&mut side, sink).await?;
        inner.queued_frames.store(0, Ordering::Relaxed);
        let mut slice = match inner.queue.try_dequeue() {
            Ok(slice) => slice,
            // A direct write took the frames this task was woken for: sleep again (a frame
            // queued from now on wakes it, or is written directly).
            Err(TryDequeueError::Empty) => {
                inner.write_side.put(side);
                continue;
            }
            Err(TryDequeueError::Closed) => return Ok(()),
            // An enqueue on another thread is still copying its frame: wait for it.
            Err(TryDequeueError::Pending | TryDequeueError::Conflict) => {
                tokio::select! {
                    biased;
                    dequeued = inner.queue.dequeue_async() => match dequeued {
                        Ok(slice) => slice,
                        Err(_) => return Ok(()),
                    },
                    () = inner.large.notify.notified() => {
                        inner.write_side.put(side);
                        if write_large_frames(inner, sink).await? {
                            return Ok(());
                        }
                        continue;
                    }
                }
            }
        };
        side.framer.write_batch(slice.frame_mut(), sink).await?;
        flush(sink).await?;
        drop(slice);
        inner.write_side.put(side);
    }
}

/// Writes what a direct write left unwritten, if anything.
async fn write_pending<S: Sink>(side: &mut WriteSide, sink: &mut S) -> Result<(), ConnectionError> {
    if !side.pending.is_empty() {
        sink.write_all(&side.pending).await?;
        flush(sink).await?;
        side.pending.clear();
    }
    Ok(())
}

impl Inner {
    /// Writes the frames queued so far from the calling request's task, without waking the
    /// writer task, when nothing suggests that another frame is about to come (the request
    /// is the connection's only one in flight, and no response this thread delivered is
    /// still waiting for its task: see `no_followers`), the socket is plain TCP, and
    /// nobody else is writing. The socket takes the bytes at once in the common case; what it
    /// does not take is left to the writer task (copied into a reused buffer), which writes
    /// it before anything else. `false`: the caller wakes the writer task instead.
    ///
    /// At one request in flight this saves the writer task's wake-up and poll per request,
    /// the largest of the three task polls a request costs.
    pub(crate) fn write_direct(&self) -> bool {
        let Some(socket) = self.direct.as_deref() else {
            return false;
        };
        if self.slots.in_use() != 1 {
            return false;
        }
        let result = self.write_side.try_with(|side| {
            if !side.pending.is_empty() {
                return None;
            }
            self.queued_frames.store(0, Ordering::Relaxed);
            // Fails when an enqueue on another thread is still in progress, or the queue
            // closed: the writer task takes over (it is woken by the caller).
            let mut slice = self.queue.try_dequeue().ok()?;
            let WriteSide { framer, pending } = side;
            Some(framer.prepare_batch(slice.frame_mut()).and_then(|bytes| {
                let stream: &TcpStream = socket.as_ref();
                let written = match stream.try_write(bytes) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
                    Err(e) => return Err(e.into()),
                };
                if written < bytes.len() {
                    pending.extend_from_slice(&bytes[written..]);
                }
                Ok(written < bytes.len())
            }))
        });
        match result.flatten() {
            None => return false,
            Some(Ok(false)) => {}
            Some(Ok(true)) => self.writer_wake.notify(WriterWake::PENDING),
            Some(Err(error)) => self.kill(error),
        }
        true
    }
}

/// Writes every queued large frame; `true` when the connection is closed.
async fn write_large_frames<S: Sink>(inner: &Inner, sink: &mut S) -> Result<bool, ConnectionError> {
    let Some(mut side) = inner.write_side.take() else {
        return Ok(true);
    };
    write_pending(&mut side, sink).await?;
    while let Some(frame) = inner.large.pop() {
        side.framer.write_large(&frame, sink).await?;
        flush(sink).await?;
    }
    inner.write_side.put(side);
    Ok(inner.large.closed.load(Ordering::Acquire))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{HoldRule, WriteCoalescing};

    /// The batches held among the next `n` that could be.
    fn held(rule: &mut HoldRule, n: usize) -> Vec<bool> {
        (0..n).map(|_| rule.wants()).collect()
    }

    #[test]
    fn the_hold_rules() {
        assert!(HoldRule::new(WriteCoalescing::Yield).config.is_none());
        // Until the next read: every batch that could be held is, paying or not.
        let mut always = HoldRule::new(WriteCoalescing::until_next_read());
        assert_eq!(always.config, Some((4, Duration::from_millis(1))));
        for _ in 0..20 {
            always.record(false);
        }
        assert!(held(&mut always, 10).iter().all(|&h| h));
        // Adaptive: holds while they pay; a few that do not stop it but for one probe in
        // `probe_every`; holds that pay again bring it back.
        let mut adaptive = HoldRule::new(WriteCoalescing::Adaptive {
            min_outstanding: 0,
            max_delay: Duration::from_millis(2),
            probe_every: 4,
        });
        assert_eq!(adaptive.config, Some((1, Duration::from_millis(2))));
        assert_eq!(held(&mut adaptive, 3), [true; 3]);
        // One failure in a paying run changes nothing.
        for paid in [true, false, true, true] {
            adaptive.record(paid);
            assert!(adaptive.wants());
        }
        let mut failures = 0;
        while adaptive.wants() {
            adaptive.record(false);
            failures += 1;
        }
        assert!((5..=8).contains(&failures), "{failures}");
        assert_eq!(
            held(&mut adaptive, 7),
            [false, false, true, false, false, false, true]
        );
        let mut successes = 0;
        while !adaptive.wants() || successes == 0 {
            adaptive.record(true);
            successes += 1;
        }
        assert!(successes <= 8, "{successes}");
        assert_eq!(held(&mut adaptive, 5), [true; 5]);
    }
}
