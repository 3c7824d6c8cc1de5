//! The reader's buffers: one large current [`BytesMut`] that frames (or decompressed bodies)
//! are split off as `Bytes`, plus a few retired buffers that frames still pinned when the
//! reader needed room. A buffer is reused in place ([`BytesMut::try_reclaim`]) as soon as
//! every slice split off it is dropped; while the current one is still pinned the reader
//! switches to a retired buffer that is free again, moving the partial frame at the front
//! (at most one frame or segment) over. A new buffer is allocated only when none is free or
//! a frame is larger than every buffer, so a connection reaches a steady state in which
//! reading and decompressing allocate nothing.

use bytes::BytesMut;
use scylla2_cql::frame::OutputBuffer;

/// Yields before a new buffer is allocated: with thousands of requests in flight the
/// requests that still pin every buffer may need a few scheduler rounds to run and drop
/// their frames (each yield lets every ready task run). Measured with scylla2-load (INSERT,
/// 2 048 in flight over 12 connections, client and simulator sharing 2 cores, 1 M requests
/// per run, allocations traced): with 8 yields a new 64 KiB buffer was still allocated in 3
/// of 4 runs after the steady-state warm-up; with 32, in none of 6.
const ROOM_YIELDS: usize = 32;
/// Retired buffers kept for reuse, per pool.
const MAX_RETIRED: usize = 4;
/// Below this much free space the reader switches buffers rather than keep reading into the
/// tail of a pinned one.
const MIN_READ_SPACE: usize = 2048;
/// Buffers up to this size (or four read buffers, if larger) are kept for reuse; larger ones
/// (for rare large frames) are freed once their frames are dropped.
const RETAIN_MIN: usize = 512 * 1024;

/// A buffer and the size of its allocation (what a full reclaim gives back: `BytesMut`
/// forgets it once split).
#[derive(Debug)]
struct Buf {
    bytes: BytesMut,
    cap: usize,
}

impl Buf {
    /// A new buffer, already in the shared representation that splitting needs (so that its
    /// first split does not allocate the shared header then).
    fn with_capacity(cap: usize) -> Self {
        let mut bytes = BytesMut::with_capacity(cap);
        drop(bytes.split_to(0));
        Self { bytes, cap }
    }

    fn spare(&self) -> usize {
        self.bytes.capacity() - self.bytes.len()
    }

    /// Reclaims the whole allocation (moving the bytes held to the front) when nothing split
    /// off it is alive any more and it then has `min_spare` free bytes.
    fn reclaim(&mut self, min_spare: usize) -> bool {
        let len = self.bytes.len();
        self.cap >= len.saturating_add(min_spare) && self.bytes.try_reclaim(self.cap - len)
    }
}

/// The current buffer and the retired ones of one kind (read or decompressed).
#[derive(Debug)]
pub(super) struct Buffers {
    current: Buf,
    retired: Vec<Buf>,
    /// The configured read buffer size: size of new buffers and unit of free space.
    size: usize,
    /// A one-off buffer for a decompressed body too large to keep a buffer for.
    oversize: BytesMut,
}

impl Buffers {
    /// Starts with `current` (the handshake's read buffer, or an empty one, allocated on
    /// first use), new buffers of `size` bytes.
    pub(super) fn new(current: BytesMut, size: usize) -> Self {
        let cap = current.capacity();
        Self {
            current: Buf {
                bytes: current,
                cap,
            },
            retired: Vec::new(),
            size,
            oversize: BytesMut::new(),
        }
    }

    /// Adds a spare buffer of the configured size up front (with the retired list), so that
    /// the first time frames pin the current buffer costs no allocation either.
    pub(super) fn with_spare(mut self) -> Self {
        self.add_spare();
        self
    }

    fn add_spare(&mut self) {
        self.retired.reserve_exact(MAX_RETIRED);
        self.retired.push(Buf::with_capacity(self.size));
    }

    /// The current buffer, which reads append to and frames are split off.
    pub(super) fn current(&mut self) -> &mut BytesMut {
        &mut self.current.bytes
    }

    fn retain_limit(&self) -> usize {
        self.size.saturating_mul(4).max(RETAIN_MIN)
    }

    /// Ensures room to read at least `needed` bytes (and a quarter buffer): reclaims the
    /// current buffer in place, or after a few yields (the frames just dispatched are usually
    /// still waiting in their slots; yielding lets their requests take and drop them), or
    /// switches to a free retired buffer; keeps reading into the tail while it has some
    /// room; allocates a new buffer only when none of that works. A current buffer grown
    /// past the retention limit (for one large frame) is left for a retired one as soon as
    /// one is free.
    pub(super) async fn make_room(&mut self, needed: usize) {
        let min = needed.max(self.size / 4);
        if self.current.cap > self.retain_limit() && self.switch_to_retired(min) {
            return;
        }
        if self.current.spare() >= min || self.current.reclaim(min) {
            return;
        }
        for _ in 0..ROOM_YIELDS {
            tokio::task::yield_now().await;
            if self.current.reclaim(min) || self.switch_to_retired(min) {
                return;
            }
        }
        let spare = self.current.spare();
        if spare >= MIN_READ_SPACE && spare >= needed {
            return;
        }
        let total = self.current.bytes.len().saturating_add(min);
        self.switch_to_new(total.max(self.size).next_power_of_two());
    }

    /// Switches to a retired buffer that is free again and can hold the current buffer's
    /// bytes plus `min_spare`; moves those bytes over.
    fn switch_to_retired(&mut self, min_spare: usize) -> bool {
        let keep = self.current.bytes.len();
        let Some(i) = self
            .retired
            .iter_mut()
            .position(|b| b.reclaim(keep.saturating_add(min_spare)))
        else {
            return false;
        };
        let mut next = self.retired.swap_remove(i);
        // Fits: the reclaim above left at least `keep + min_spare` bytes free.
        next.bytes.extend_from_slice(&self.current.bytes);
        let old = std::mem::replace(&mut self.current, next);
        self.retire(old);
        true
    }

    /// Allocates a new current buffer of `cap` bytes and moves the current bytes over.
    fn switch_to_new(&mut self, cap: usize) {
        let mut next = Buf::with_capacity(cap.max(self.current.bytes.len()));
        next.bytes.extend_from_slice(&self.current.bytes);
        let old = std::mem::replace(&mut self.current, next);
        self.retire(old);
    }

    /// Keeps `old` for reuse (its frames still pin it), unless it is too large or enough are
    /// kept already: then it is freed once its frames are dropped.
    fn retire(&mut self, mut old: Buf) {
        if old.cap == 0 || old.cap > self.retain_limit() || self.retired.len() >= MAX_RETIRED {
            return;
        }
        old.bytes.clear();
        // The first retirement allocates the list (capacity MAX_RETIRED), once.
        if self.retired.capacity() == 0 {
            self.retired.reserve_exact(MAX_RETIRED);
        }
        self.retired.push(old);
    }
}

/// Decompression output: bodies are split off the current buffer like frames off the read
/// buffer (see [`Buffers`]).
impl OutputBuffer for Buffers {
    fn output(&mut self, len: usize) -> &mut BytesMut {
        if len > self.retain_limit() {
            // Rare and large: its own allocation of the exact size.
            self.oversize = BytesMut::with_capacity(len);
            return &mut self.oversize;
        }
        // One byte more than needed, so that a body never takes the whole buffer (which
        // would hand the allocation out and lose it for reuse).
        let min = len + 1;
        if self.current.cap == 0 && self.retired.is_empty() {
            // First use (compression negotiated): the current buffer and a spare.
            self.current = Buf::with_capacity(min.max(self.size).next_power_of_two());
            self.add_spare();
        }
        self.current.bytes.clear();
        if !(self.current.spare() >= min
            || self.current.reclaim(min)
            || self.switch_to_retired(min))
        {
            self.switch_to_new(min.max(self.size).next_power_of_two());
        }
        &mut self.current.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffers(initial: usize, size: usize) -> Buffers {
        Buffers::new(BytesMut::with_capacity(initial), size)
    }

    #[tokio::test]
    async fn reuses_the_current_buffer_once_frames_are_dropped() {
        let mut b = buffers(8192, 8192);
        let base = b.current().as_ptr();
        b.current().extend_from_slice(&[1; 8000]);
        let frame = b.current().split_to(7990).freeze();
        drop(frame);
        // 10 bytes of a partial frame stay; the rest is reclaimed in place.
        b.make_room(100).await;
        assert_eq!(b.current().as_ptr(), base);
        assert_eq!(&b.current()[..], &[1; 10]);
        assert!(b.current().capacity() >= 8192);
        assert!(b.retired.is_empty());
    }

    #[tokio::test]
    async fn rotates_through_retired_buffers_while_frames_pin_them() {
        let mut b = buffers(8192, 8192);
        let first = b.current().as_ptr();
        b.current().extend_from_slice(&[1; 8000]);
        let pinned = b.current().split_to(7990).freeze();
        b.current()[..].copy_from_slice(&[2; 10]);
        // Pinned: a new buffer, the partial frame moved over, the old one retired.
        b.make_room(100).await;
        let second = b.current().as_ptr();
        assert_ne!(second, first);
        assert_eq!(&b.current()[..], &[2; 10]);
        assert_eq!(b.retired.len(), 1);
        // Fill and pin the second; the first is free again once its frame is dropped.
        let fill = b.current().capacity() - b.current().len();
        b.current().extend_from_slice(&vec![3; fill]);
        let pinned2 = b.current().split_to(8000).freeze();
        drop(pinned);
        b.make_room(100).await;
        assert_eq!(b.current().as_ptr(), first);
        assert_eq!(b.current().len(), fill + 10 - 8000);
        assert!(b.current().capacity() >= 8192);
        assert_eq!(b.retired.len(), 1);
        drop(pinned2);
    }

    #[tokio::test]
    async fn grows_for_a_partial_frame_larger_than_the_buffer() {
        let mut b = buffers(4096, 4096);
        b.current().extend_from_slice(&[7; 100]);
        b.make_room(10_000).await;
        assert_eq!(&b.current()[..], &[7; 100]);
        assert!(b.current().capacity() - b.current().len() >= 10_000);
    }

    #[tokio::test]
    async fn leaves_a_buffer_grown_for_a_large_frame() {
        let mut b = buffers(4096, 4096);
        let first = b.current().as_ptr();
        b.current().extend_from_slice(&[1; 100]);
        // A frame of 1 MiB: a buffer for it, the first one retired.
        b.make_room(1 << 20).await;
        assert!(b.current().capacity() >= (1 << 20) + 100);
        let fill = (1 << 20) + 100 - b.current().len();
        b.current().extend_from_slice(&vec![2; fill]);
        let frame = b.current().split_to((1 << 20) + 100).freeze();
        // Back to the small buffer (the large one is freed with its frame).
        b.make_room(100).await;
        assert_eq!(b.current().as_ptr(), first);
        assert!(b.retired.iter().all(|r| r.cap <= b.retain_limit()));
        drop(frame);
    }

    #[test]
    fn decompression_output_is_reused() {
        let mut b = Buffers::new(BytesMut::new(), 4096);
        let out = b.output(100);
        out.resize(100, 5);
        let body = out.split_to(100).freeze();
        let base = body.as_ptr();
        drop(body);
        // The rest of the buffer first, then the reclaimed front.
        let out = b.output(4000);
        assert!(out.capacity() > 4000);
        out.resize(4000, 6);
        let body = out.split_to(4000).freeze();
        drop(body);
        let out = b.output(4000);
        assert_eq!(out.as_ptr(), base);
        // Too large to keep: a one-off buffer.
        let huge = b.output(4 << 20);
        assert!(huge.capacity() >= 4 << 20);
        assert!(b.retired.len() <= 1);
    }
}
