//! Stream ids and the slot table through which each response reaches its waiting request.
//!
//! - Stream ids come from a lock-free bitmap (one bit per id, lowest free id first, so that
//!   a connection with little concurrency touches only the first words and slot chunks).
//! - Each id owns a [`Slot`] in a table of lazily allocated chunks; no allocation per request,
//!   no map and no channel: the reader stores the envelope in the slot and wakes the waker the
//!   request future left there.
//! - A request future dropped before its response arrived (cancelled, timed out) marks its
//!   slot *orphaned*: the id stays taken until the late response arrives (and is discarded)
//!   or the connection dies, so a late response can never reach the next user of the id.
//! - When the connection dies every slot is failed at once and every waiter woken.
//! - Request deadlines live in the slots too: a waiting slot holds its request's deadline,
//!   and one task per connection ([`Slots::expire`], driven by `super::expire_requests`)
//!   wakes at the earliest one and fails the requests whose deadline passed. A request pays
//!   one atomic `fetch_min` for its deadline instead of registering a timer of its own.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::Waker;

use tokio::time::Instant;

use crate::clock::Stamp;

use super::framing::Envelope;
use super::spin::{SpinGuard, SpinLock};

/// Largest number of streams a connection can have in flight (v4/v5: ids 0..=32767).
pub const MAX_STREAMS: usize = 32_768;

/// Slots per chunk. A connection allocates its first chunk (56 KiB; less with a lower
/// `max_streams`) with its first request and another only when more than this many requests
/// are in flight on it at once: sized so that a loaded connection reaches its high-water mark
/// early instead of growing in steady state (measured with scylla2-load at 2 048 in flight
/// over 12 connections: chunks of 256 were still first crossed after a 164 000-request
/// warm-up, chunks of 512 after the tool's steady-state warm-up).
const CHUNK: usize = 1024;

/// A deadline in microseconds since the table's epoch.
pub(crate) type Ticks = u64;

/// The deadline of a request without one (and of an idle expiry task).
pub(crate) const NO_DEADLINE: Ticks = Ticks::MAX;

/// How far the expiry task's timer is set for ticks beyond the clock's range.
const FAR: std::time::Duration = std::time::Duration::from_secs(30 * 365 * 86_400);

/// State of one stream id's slot.
#[derive(Debug, Default)]
enum SlotState {
    /// Not in use.
    #[default]
    Free,
    /// A request was sent (or is being sent) and waits: the waker to call on arrival, and
    /// the request's deadline ([`NO_DEADLINE`] for none).
    Waiting(Option<Waker>, Ticks),
    /// The request's deadline passed before its response (its waiter was woken); the next
    /// poll reports it and orphans the slot. A response arriving first is still delivered.
    Expired,
    /// The response arrived and waits for its request future to take it.
    Ready(Envelope),
    /// The request future was dropped before its response; discard the response on arrival.
    Orphaned,
    /// The connection died while this slot was in use.
    Failed,
}

/// One stream id's state, behind a spin lock of its own ([`SpinLock`]: every critical
/// section here is a few moves, a state assignment, a waker clone or drop).
#[derive(Debug, Default)]
struct Slot(SpinLock<SlotState>);

impl Slot {
    #[inline]
    fn lock(&self) -> SpinGuard<'_, SlotState> {
        self.0.lock()
    }
}

/// What abandoning a request's stream id did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abandoned {
    /// No response yet: the id waits for the late one.
    Orphaned,
    /// The response had arrived and was not taken: dropped, the id freed.
    ResponseDropped,
    /// Nothing to do (the connection failed, or the id was already released).
    Nothing,
}

/// What the reader did with a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Handed to the waiting request.
    Delivered,
    /// The request had been dropped; the response was discarded and the id released.
    Discarded,
    /// No request used that stream id.
    Unexpected,
}

/// The stream-id allocator and slot table of one connection.
#[derive(Debug)]
pub(crate) struct Slots {
    bitmap: Box<[AtomicU64]>,
    chunks: Box<[OnceLock<Box<[Slot]>>]>,
    max_streams: usize,
    closed: AtomicBool,
    /// Ids taken, kept beside the bitmap so that the writer can read it per yield without
    /// scanning the bitmap (512 words at the default `max_streams`).
    taken: AtomicUsize,
    /// Ids held by requests that stopped waiting (dropped or past their deadline) until
    /// their late answers arrive: a server that never answers them fills the connection.
    orphaned: AtomicUsize,
    /// The reading deadlines count from.
    epoch: Stamp,
    /// When the expiry task is due: at most the earliest deadline of a waiting slot
    /// ([`NO_DEADLINE`]: no deadline pending, or a sweep in progress).
    armed: AtomicU64,
    /// Wakes the expiry task when a deadline earlier than `armed` appears.
    pub(crate) rearm: tokio::sync::Notify,
}

/// Outcome of polling a slot.
pub(crate) enum Poll {
    Ready(Envelope),
    Pending,
    Failed,
    /// The request's deadline passed.
    Expired,
}

impl Slots {
    /// A table for `max_streams` ids (clamped to 1..=[`MAX_STREAMS`]).
    pub(crate) fn new(max_streams: usize) -> Self {
        let max_streams = max_streams.clamp(1, MAX_STREAMS);
        let words = max_streams.div_ceil(64);
        let bitmap: Box<[AtomicU64]> = (0..words)
            .map(|w| {
                // Bits past max_streams in the last word are permanently taken.
                let valid = (max_streams - w * 64).min(64);
                AtomicU64::new(if valid == 64 { 0 } else { !0u64 << valid })
            })
            .collect();
        let chunks = (0..max_streams.div_ceil(CHUNK))
            .map(|_| OnceLock::new())
            .collect();
        Self {
            bitmap,
            chunks,
            max_streams,
            closed: AtomicBool::new(false),
            taken: AtomicUsize::new(0),
            orphaned: AtomicUsize::new(0),
            epoch: Stamp::now(),
            armed: AtomicU64::new(NO_DEADLINE),
            rearm: tokio::sync::Notify::new(),
        }
    }

    /// `deadline` in this table's ticks, rounded up so that nothing expires early (a
    /// deadline before the epoch is due at once).
    #[inline]
    pub(crate) fn ticks(&self, deadline: Option<Stamp>) -> Ticks {
        // Microseconds: at most `u64::MAX / 1000`, never `NO_DEADLINE`.
        deadline.map_or(NO_DEADLINE, |d| {
            d.nanos().saturating_sub(self.epoch.nanos()).div_ceil(1000)
        })
    }

    /// The instant of `ticks` (for the expiry task's timer).
    pub(crate) fn instant(&self, ticks: Ticks) -> Instant {
        self.epoch
            .checked_add(std::time::Duration::from_micros(ticks))
            .map_or_else(|| Stamp::now().to_instant() + FAR, Stamp::to_instant)
    }

    /// When the expiry task is due ([`NO_DEADLINE`]: when notified).
    pub(crate) fn armed(&self) -> Ticks {
        self.armed.load(Ordering::Acquire)
    }

    /// The configured number of ids.
    pub(crate) fn max_streams(&self) -> usize {
        self.max_streams
    }

    /// The slot of an id taken from the bitmap (always below `max_streams`), its chunk
    /// allocated on first use (never more slots than `max_streams` allows).
    fn slot(&self, id: usize) -> &Slot {
        let base = id / CHUNK * CHUNK;
        let len = CHUNK.min(self.max_streams - base);
        let chunk =
            self.chunks[id / CHUNK].get_or_init(|| (0..len).map(|_| Slot::default()).collect());
        &chunk[id % CHUNK]
    }

    fn existing_slot(&self, id: usize) -> Option<&Slot> {
        self.chunks.get(id / CHUNK)?.get()?.get(id % CHUNK)
    }

    /// Takes the lowest free id and puts its slot in the waiting state with `deadline` and a
    /// clone of `waker`, which the answer, the deadline or the connection's death then wakes
    /// (`None`: the request's first poll registers its waker); an error when all ids are in
    /// use or the connection is closed.
    pub(crate) fn allocate(
        &self,
        deadline: Ticks,
        waker: Option<&Waker>,
    ) -> Result<i16, AllocError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(AllocError::Closed);
        }
        for (w, word) in self.bitmap.iter().enumerate() {
            let mut current = word.load(Ordering::Relaxed);
            while current != u64::MAX {
                let bit = (!current).trailing_zeros() as usize;
                let mask = 1u64 << bit;
                let previous = word.fetch_or(mask, Ordering::AcqRel);
                if previous & mask == 0 {
                    self.taken.fetch_add(1, Ordering::Relaxed);
                    let id = w * 64 + bit;
                    *self.slot(id).lock() = SlotState::Waiting(waker.cloned(), deadline);
                    // Release: the slot's deadline is visible to the sweep that next takes
                    // `armed`; a sweep in progress left NO_DEADLINE there, so this notifies.
                    if deadline != NO_DEADLINE
                        && self.armed.fetch_min(deadline, Ordering::AcqRel) > deadline
                    {
                        self.rearm.notify_one();
                    }
                    // Checked after the slot is waiting: `fail_all` sets `closed` before it
                    // sweeps the slots, so either it sees this slot or this sees `closed`.
                    if self.closed.load(Ordering::SeqCst) {
                        self.release(id as i16);
                        return Err(AllocError::Closed);
                    }
                    return Ok(id as i16);
                }
                current = previous | mask;
            }
        }
        Err(AllocError::Exhausted)
    }

    /// Frees an id whose request was never written (or whose response was consumed).
    pub(crate) fn release(&self, id: i16) {
        if let Some(slot) = self.existing_slot(id as usize) {
            *slot.lock() = SlotState::Free;
        }
        self.free_id(id);
    }

    /// Returns `id` to the bitmap (its slot was set free already, under its lock).
    fn free_id(&self, id: i16) {
        let id = id as usize;
        let mask = 1u64 << (id % 64);
        if self.bitmap[id / 64].fetch_and(!mask, Ordering::AcqRel) & mask != 0 {
            self.taken.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Polls the slot of `id` for its response, registering `waker`.
    pub(crate) fn poll(&self, id: i16, waker: &Waker) -> Poll {
        let Some(slot) = self.existing_slot(id as usize) else {
            return Poll::Failed;
        };
        let mut state = slot.lock();
        match &mut *state {
            SlotState::Ready(_) => {
                let taken = std::mem::take(&mut *state);
                drop(state);
                self.free_id(id);
                match taken {
                    SlotState::Ready(env) => Poll::Ready(env),
                    _ => Poll::Failed,
                }
            }
            SlotState::Waiting(w, _) => {
                match w {
                    Some(w) if w.will_wake(waker) => {}
                    _ => *w = Some(waker.clone()),
                }
                Poll::Pending
            }
            SlotState::Expired => {
                // The id stays taken until the late response (or the connection's death).
                *state = SlotState::Orphaned;
                self.orphaned.fetch_add(1, Ordering::Relaxed);
                Poll::Expired
            }
            SlotState::Failed | SlotState::Free | SlotState::Orphaned => Poll::Failed,
        }
    }

    /// Polls the slot of a request not sent yet (waiting for room in the write queue) for
    /// its deadline or the connection's death, registering `waker`. Never takes a response:
    /// one arriving for an id not sent yet stays for the request's own later poll.
    pub(crate) fn poll_unsent(&self, id: i16, waker: &Waker) -> Unsent {
        let Some(slot) = self.existing_slot(id as usize) else {
            return Unsent::Failed;
        };
        let mut state = slot.lock();
        match &mut *state {
            SlotState::Waiting(w, _) => {
                match w {
                    Some(w) if w.will_wake(waker) => {}
                    _ => *w = Some(waker.clone()),
                }
                Unsent::Waiting
            }
            SlotState::Ready(_) => Unsent::Waiting,
            SlotState::Expired => Unsent::Expired,
            SlotState::Failed | SlotState::Free | SlotState::Orphaned => Unsent::Failed,
        }
    }

    /// The request future of `id` is dropped before it took its response: its id is orphaned
    /// (held until a late response), or freed with the response it did not take.
    pub(crate) fn abandon(&self, id: i16) -> Abandoned {
        let Some(slot) = self.existing_slot(id as usize) else {
            return Abandoned::Nothing;
        };
        let mut state = slot.lock();
        match &*state {
            SlotState::Waiting(..) | SlotState::Expired => {
                *state = SlotState::Orphaned;
                self.orphaned.fetch_add(1, Ordering::Relaxed);
                Abandoned::Orphaned
            }
            SlotState::Ready(_) => {
                *state = SlotState::Free;
                drop(state);
                self.free_id(id);
                Abandoned::ResponseDropped
            }
            SlotState::Failed | SlotState::Free | SlotState::Orphaned => Abandoned::Nothing,
        }
    }

    /// Hands a response to the request waiting on `id` (called by the reader).
    pub(crate) fn deliver(&self, id: i16, envelope: Envelope) -> Delivery {
        let Some(slot) = usize::try_from(id)
            .ok()
            .and_then(|id| self.existing_slot(id))
        else {
            return Delivery::Unexpected;
        };
        let mut state = slot.lock();
        match &mut *state {
            SlotState::Waiting(w, _) => {
                let waker = w.take();
                *state = SlotState::Ready(envelope);
                drop(state);
                if let Some(w) = waker {
                    w.wake();
                }
                Delivery::Delivered
            }
            // Woken already by the expiry; the answer still beats the deadline's report.
            SlotState::Expired => {
                *state = SlotState::Ready(envelope);
                Delivery::Delivered
            }
            SlotState::Orphaned => {
                *state = SlotState::Free;
                drop(state);
                self.orphaned.fetch_sub(1, Ordering::Relaxed);
                self.free_id(id);
                Delivery::Discarded
            }
            SlotState::Free | SlotState::Ready(_) | SlotState::Failed => Delivery::Unexpected,
        }
    }

    /// Marks the connection closed and fails every slot in use, waking all waiters at once.
    /// Responses that already arrived stay deliverable.
    pub(crate) fn fail_all(&self) {
        self.closed.store(true, Ordering::SeqCst);
        for chunk in self.chunks.iter().filter_map(OnceLock::get) {
            for slot in chunk.iter() {
                let mut state = slot.lock();
                match &mut *state {
                    SlotState::Waiting(w, _) => {
                        let waker = w.take();
                        *state = SlotState::Failed;
                        drop(state);
                        if let Some(w) = waker {
                            w.wake();
                        }
                    }
                    SlotState::Orphaned => {
                        *state = SlotState::Failed;
                        self.orphaned.fetch_sub(1, Ordering::Relaxed);
                    }
                    SlotState::Expired => *state = SlotState::Failed,
                    SlotState::Free | SlotState::Ready(_) | SlotState::Failed => {}
                }
            }
        }
    }

    /// Expires every waiting request whose deadline is at most `now` (waking it), and
    /// returns when the expiry task is next due ([`NO_DEADLINE`]: no deadline pending) and
    /// how many requests it expired.
    ///
    /// `armed` is taken (left at [`NO_DEADLINE`]) before the scan, so a request allocated
    /// during the scan either is seen by it or finds `armed` above its deadline and
    /// notifies `rearm`; the earliest deadline left is put back after the scan.
    pub(crate) fn expire(&self, now: Ticks) -> (Ticks, usize) {
        self.armed.swap(NO_DEADLINE, Ordering::AcqRel);
        let mut next = NO_DEADLINE;
        let mut expired = 0;
        // Only the words of chunks in use: a slot waits only in an allocated chunk (usually
        // the first: 16 words rather than the whole bitmap).
        let words = self
            .chunks
            .iter()
            .enumerate()
            .filter(|(_, chunk)| chunk.get().is_some())
            .flat_map(|(c, _)| c * CHUNK / 64..((c + 1) * CHUNK).div_ceil(64));
        for w in words {
            let Some(word) = self.bitmap.get(w) else {
                break;
            };
            let mut bits = word.load(Ordering::Acquire);
            while bits != 0 {
                let id = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let Some(slot) = self.existing_slot(id) else {
                    continue;
                };
                let mut state = slot.lock();
                if let SlotState::Waiting(waker, deadline) = &mut *state {
                    if *deadline <= now {
                        let waker = waker.take();
                        *state = SlotState::Expired;
                        drop(state);
                        expired += 1;
                        if let Some(w) = waker {
                            w.wake();
                        }
                    } else {
                        next = next.min(*deadline);
                    }
                }
            }
        }
        self.armed.fetch_min(next, Ordering::AcqRel);
        (self.armed(), expired)
    }

    /// Whether [`Self::fail_all`] ran.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Number of ids currently taken (waiting, orphaned or holding a response).
    pub(crate) fn in_use(&self) -> usize {
        self.taken.load(Ordering::Relaxed)
    }

    /// Number of ids held by requests that stopped waiting, until their late answers.
    pub(crate) fn orphaned(&self) -> usize {
        self.orphaned.load(Ordering::Relaxed)
    }
}

/// Outcome of polling the slot of a request not sent yet.
pub(crate) enum Unsent {
    /// Still within its deadline.
    Waiting,
    /// Its deadline passed (the id is released when the request's guard drops).
    Expired,
    /// The connection died.
    Failed,
}

/// Why no stream id could be allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AllocError {
    /// All ids in use.
    Exhausted,
    /// The connection is closed.
    Closed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use scylla2_cql::ProtocolVersion;
    use scylla2_cql::frame::{EnvelopeHeader, HeaderFlags, Opcode};
    use std::sync::Arc;
    use std::task::Wake;

    fn env(stream: i16) -> Envelope {
        Envelope {
            header: EnvelopeHeader {
                version: ProtocolVersion::V4,
                is_response: true,
                flags: HeaderFlags::default(),
                stream,
                opcode: Opcode::Ready,
                length: 0,
            },
            body: Bytes::new(),
        }
    }

    struct CountWake(std::sync::atomic::AtomicUsize);
    impl Wake for CountWake {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn allocates_lowest_first_and_exhausts() {
        let slots = Slots::new(130);
        let ids: Vec<_> = (0..130)
            .map(|_| slots.allocate(NO_DEADLINE, None).unwrap())
            .collect();
        assert_eq!(ids, (0..130).collect::<Vec<i16>>());
        assert_eq!(
            slots.allocate(NO_DEADLINE, None),
            Err(AllocError::Exhausted)
        );
        assert_eq!(slots.in_use(), 130);
        slots.release(64);
        assert_eq!(slots.allocate(NO_DEADLINE, None), Ok(64));
    }

    #[test]
    fn orphaned_id_is_held_until_its_late_response() {
        let slots = Slots::new(4);
        let id = slots.allocate(NO_DEADLINE, None).unwrap();
        assert_eq!(slots.abandon(id), Abandoned::Orphaned);
        assert_eq!(slots.orphaned(), 1);
        // Still taken: the next allocation must not reuse it.
        assert_ne!(slots.allocate(NO_DEADLINE, None).unwrap(), id);
        assert_eq!(slots.deliver(id, env(id)), Delivery::Discarded);
        assert_eq!(slots.orphaned(), 0);
        assert_eq!(slots.allocate(NO_DEADLINE, None).unwrap(), id);
        // A second response on the same id now belongs to the new user only.
        assert_eq!(slots.deliver(id, env(id)), Delivery::Delivered);
    }

    #[test]
    fn deliver_wakes_and_poll_takes() {
        let slots = Slots::new(4);
        let counter = Arc::new(CountWake(Default::default()));
        let waker = Waker::from(counter.clone());
        let id = slots.allocate(NO_DEADLINE, None).unwrap();
        assert!(matches!(slots.poll(id, &waker), Poll::Pending));
        assert_eq!(slots.deliver(id, env(id)), Delivery::Delivered);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(matches!(slots.poll(id, &waker), Poll::Ready(e) if e.header.stream == id));
        assert_eq!(slots.in_use(), 0);
        assert_eq!(slots.deliver(id, env(id)), Delivery::Unexpected);
        assert_eq!(slots.deliver(-1, env(-1)), Delivery::Unexpected);
        assert_eq!(slots.deliver(30000, env(30000)), Delivery::Unexpected);
    }

    #[test]
    fn a_waker_given_at_allocation_is_woken_without_a_poll() {
        let slots = Slots::new(4);
        let counter = Arc::new(CountWake(Default::default()));
        let waker = Waker::from(counter.clone());
        let id = slots.allocate(NO_DEADLINE, Some(&waker)).unwrap();
        assert_eq!(slots.deliver(id, env(id)), Delivery::Delivered);
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        // Expiry and death wake it too.
        let late = slots.allocate(10, Some(&waker)).unwrap();
        assert_eq!(slots.expire(10).1, 1);
        assert_eq!(counter.0.load(Ordering::SeqCst), 2);
        assert!(matches!(slots.poll(id, &waker), Poll::Ready(_)));
        assert!(matches!(slots.poll(late, &waker), Poll::Expired));
        let dying = slots.allocate(NO_DEADLINE, Some(&waker)).unwrap();
        slots.fail_all();
        assert_eq!(counter.0.load(Ordering::SeqCst), 3);
        assert!(matches!(slots.poll(dying, &waker), Poll::Failed));
    }

    #[test]
    fn fail_all_wakes_everyone_and_refuses_new_ids() {
        let slots = Slots::new(1000);
        let counter = Arc::new(CountWake(Default::default()));
        let waker = Waker::from(counter.clone());
        let ids: Vec<_> = (0..600)
            .map(|_| slots.allocate(NO_DEADLINE, None).unwrap())
            .collect();
        for &id in &ids {
            assert!(matches!(slots.poll(id, &waker), Poll::Pending));
        }
        slots.fail_all();
        assert_eq!(counter.0.load(Ordering::SeqCst), 600);
        assert!(
            ids.iter()
                .all(|&id| matches!(slots.poll(id, &waker), Poll::Failed))
        );
        assert_eq!(slots.allocate(NO_DEADLINE, None), Err(AllocError::Closed));
    }

    /// The slot lock under contention: a requester thread allocates, polls and takes while a
    /// reader thread delivers, and every response reaches its request exactly once.
    #[test]
    fn responses_cross_threads_through_the_slot_locks() {
        const ROUNDS: usize = 20_000;
        let slots = Arc::new(Slots::new(64));
        let (tx, rx) = std::sync::mpsc::channel::<i16>();
        let reader = {
            let slots = slots.clone();
            std::thread::spawn(move || {
                let mut delivered = 0;
                while let Ok(id) = rx.recv() {
                    assert_eq!(slots.deliver(id, env(id)), Delivery::Delivered);
                    delivered += 1;
                }
                delivered
            })
        };
        let counter = Arc::new(CountWake(Default::default()));
        let waker = Waker::from(counter.clone());
        let mut received = 0;
        for _ in 0..ROUNDS / 8 {
            let ids: Vec<_> = (0..8)
                .map(|_| slots.allocate(NO_DEADLINE, None).unwrap())
                .collect();
            for &id in &ids {
                tx.send(id).unwrap();
                // Races the delivery: pending (waker registered) or ready.
                if let Poll::Ready(e) = slots.poll(id, &waker) {
                    assert_eq!(e.header.stream, id);
                    received += 1;
                    continue;
                }
                loop {
                    match slots.poll(id, &waker) {
                        Poll::Ready(e) => {
                            assert_eq!(e.header.stream, id);
                            received += 1;
                            break;
                        }
                        Poll::Pending => std::thread::yield_now(),
                        Poll::Failed | Poll::Expired => panic!("slot {id} failed"),
                    }
                }
            }
        }
        drop(tx);
        assert_eq!(reader.join().unwrap(), ROUNDS);
        assert_eq!(received, ROUNDS);
        assert_eq!(slots.in_use(), 0);
    }

    #[test]
    fn full_range_of_ids() {
        let slots = Slots::new(MAX_STREAMS);
        for i in 0..MAX_STREAMS {
            assert_eq!(slots.allocate(NO_DEADLINE, None).unwrap() as usize, i);
        }
        assert_eq!(
            slots.allocate(NO_DEADLINE, None),
            Err(AllocError::Exhausted)
        );
    }

    #[test]
    fn expiry_wakes_due_requests_and_rearms_at_the_next_deadline() {
        let slots = Slots::new(2 * CHUNK);
        let counter = Arc::new(CountWake(Default::default()));
        let waker = Waker::from(counter.clone());
        assert_eq!(slots.armed(), NO_DEADLINE);
        let late = slots.allocate(500, None).unwrap();
        assert_eq!(slots.armed(), 500);
        // An earlier deadline lowers the arming and notifies the expiry task.
        let early = slots.allocate(100, None).unwrap();
        assert_eq!(slots.armed(), 100);
        let none = slots.allocate(NO_DEADLINE, None).unwrap();
        // One past the first chunk, to cover the scan of a second chunk.
        let far: Vec<_> = (0..CHUNK)
            .map(|_| slots.allocate(900, None).unwrap())
            .collect();
        for id in [late, early, none] {
            assert!(matches!(slots.poll(id, &waker), Poll::Pending));
        }
        assert_eq!(slots.expire(99), (100, 0), "nothing due yet");
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        assert_eq!(slots.expire(100), (500, 1));
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(matches!(slots.poll(early, &waker), Poll::Expired));
        // The expired id stays taken until its late response, which is then discarded.
        assert_eq!(slots.in_use(), CHUNK + 3);
        assert_eq!(slots.deliver(early, env(early)), Delivery::Discarded);
        assert_eq!(slots.in_use(), CHUNK + 2);
        // A response that beats the report of an expiry is still delivered.
        assert_eq!(slots.expire(600), (900, 1));
        assert_eq!(slots.deliver(late, env(late)), Delivery::Delivered);
        assert!(matches!(slots.poll(late, &waker), Poll::Ready(_)));
        assert_eq!(slots.expire(1000), (NO_DEADLINE, CHUNK));
        assert!(
            far.iter()
                .all(|&id| matches!(slots.poll(id, &waker), Poll::Expired))
        );
        // A request without a deadline never expires.
        assert!(matches!(slots.poll(none, &waker), Poll::Pending));
        // Dying fails expired-but-unreported slots too.
        let again = slots.allocate(5, None).unwrap();
        slots.expire(10);
        slots.fail_all();
        assert!(matches!(slots.poll(again, &waker), Poll::Failed));
    }

    #[test]
    fn a_small_table_allocates_only_its_slots() {
        let slots = Slots::new(100);
        let id = slots.allocate(5, None).unwrap();
        assert_eq!(slots.chunks[0].get().map(|c| c.len()), Some(100));
        // The bits past 100 in the last word are permanently taken and have no slot.
        assert_eq!(slots.expire(10), (NO_DEADLINE, 1));
        assert!(slots.existing_slot(127).is_none());
        assert_eq!(slots.deliver(120, env(120)), Delivery::Unexpected);
        let counter = Arc::new(CountWake(Default::default()));
        assert!(matches!(
            slots.poll(id, &Waker::from(counter)),
            Poll::Expired
        ));
    }

    #[test]
    fn deadlines_convert_to_ticks_and_back() {
        let slots = Slots::new(4);
        assert_eq!(slots.ticks(None), NO_DEADLINE);
        let at = slots
            .epoch
            .checked_add(std::time::Duration::from_millis(1500))
            .unwrap();
        assert_eq!(slots.ticks(Some(at)), 1_500_000);
        assert_eq!(slots.instant(1_500_000), at.to_instant());
        // Rounded up: nothing expires early.
        let just_after = at.checked_add(std::time::Duration::from_nanos(1));
        assert_eq!(slots.ticks(just_after), 1_500_001);
        // Before the epoch: due at once.
        let before = slots
            .epoch
            .to_instant()
            .checked_sub(std::time::Duration::from_secs(1));
        if let Some(before) = before {
            assert_eq!(slots.ticks(Some(Stamp::from_instant(before))), 0);
        }
        // Beyond the clock's range: a timer far in the future, no panic.
        assert!(slots.instant(NO_DEADLINE - 1) > tokio::time::Instant::now());
    }
}
