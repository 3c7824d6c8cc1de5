//! A counting global allocator and the concurrent measuring harness shared by the
//! allocation tests: allocations are counted only on a thread that turned counting on
//! (inside [`measure`]), so a simulator on its own runtime and threads stays uncounted.
//! A test registers it with
//! `#[global_allocator] static GLOBAL: common::counting::Counting = common::counting::Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use scylla2::{PreparedStatement, Session};

/// The counting allocator: forwards to [`System`], counting on counted threads.
pub struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    // Const-initialized without destructor: reading it never allocates.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn note() {
    if COUNTED.try_with(Cell::get).unwrap_or(false) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call forwards to the system allocator with the same arguments; counting
// touches only an atomic and a const thread-local.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations made by `f`, run synchronously on this thread.
pub fn allocations(f: impl FnOnce()) -> u64 {
    COUNTED.set(true);
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTED.set(false);
    after - before
}

/// Requests in flight during a measurement.
pub const IN_FLIGHT: usize = 128;
/// Requests per measurement.
pub const OPS: usize = 10_000;

/// Runs `op(i)` for i in 0..n with IN_FLIGHT workers; returns the allocations counted on
/// this thread while they ran (the worker futures are boxed before counting starts).
pub async fn measure<'a, F, Fut>(n: usize, op: F) -> u64
where
    F: Fn(usize) -> Fut + Copy + 'a,
    Fut: Future<Output = ()> + 'a,
{
    let mut workers: Vec<Pin<Box<dyn Future<Output = ()> + 'a>>> = (0..IN_FLIGHT)
        .map(|w| {
            Box::pin(async move {
                let mut i = w;
                while i < n {
                    op(i).await;
                    i += IN_FLIGHT;
                }
            }) as Pin<Box<dyn Future<Output = ()> + 'a>>
        })
        .collect();
    let mut done = [false; IN_FLIGHT];
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTED.set(true);
    poll_fn(|cx| {
        let mut pending = false;
        for (worker, done) in workers.iter_mut().zip(done.iter_mut()) {
            if !*done {
                match worker.as_mut().poll(cx) {
                    Poll::Ready(()) => *done = true,
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    COUNTED.set(false);
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

/// One prepared single-row INSERT `(k, k, "value-of-the-row")`.
pub async fn insert(session: &Session, stmt: &PreparedStatement, i: usize) {
    let k = i as i32;
    let r = session
        .execute(stmt, (k, k, "value-of-the-row"))
        .await
        .unwrap();
    assert!(r.is_void());
}

/// One prepared single-row SELECT of `k`, decoded into borrowed types and checked.
pub async fn select(session: &Session, stmt: &PreparedStatement, i: usize) {
    let k = i as i32;
    let r = session.execute(stmt, (k,)).await.unwrap();
    let (ck, v): (i32, &str) = r.single_row().unwrap();
    assert_eq!(ck, k);
    assert_eq!(v, "value-of-the-row");
}

/// Creates `{ks}.t (pk int PRIMARY KEY, ck int, v text)` in a new keyspace named after
/// `prefix`; returns the keyspace.
pub async fn create_table(session: &Session, prefix: &str) -> String {
    let ks = super::keyspace(prefix);
    super::query(session, &super::create_keyspace(&ks)).await;
    super::query(
        session,
        &format!("CREATE TABLE {ks}.t (pk int PRIMARY KEY, ck int, v text)"),
    )
    .await;
    ks
}

/// The allocation check of a session: prepares the INSERT and SELECT of [`insert`] and
/// [`select`] on `{ks}.t`, warms up (buffers, slot chunks, wakers, thread-local caches reach
/// steady state), then measures [`OPS`] of each with [`IN_FLIGHT`] in flight, prints the
/// figures under `label` and asserts at most 0.05 allocations per INSERT and 0.5 per SELECT.
pub async fn check_insert_select(session: &Session, ks: &str, label: &str) {
    let ins = super::prepare(
        session,
        &format!("INSERT INTO {ks}.t (pk, ck, v) VALUES (?, ?, ?)"),
    )
    .await;
    let sel = super::prepare(session, &format!("SELECT ck, v FROM {ks}.t WHERE pk = ?")).await;
    let (s, i, q) = (session, &ins, &sel);
    measure(OPS, move |n| insert(s, i, n)).await;
    measure(OPS, move |n| select(s, q, n)).await;

    let inserts = measure(OPS, move |n| insert(s, i, n)).await;
    let selects = measure(OPS, move |n| select(s, q, n)).await;
    let per_insert = inserts as f64 / OPS as f64;
    let per_select = selects as f64 / OPS as f64;
    println!(
        "{label}: {inserts} allocations over {OPS} INSERTs ({per_insert:.4} each), \
         {selects} over {OPS} SELECTs ({per_select:.4} each), {IN_FLIGHT} in flight"
    );
    assert!(
        per_insert <= 0.05,
        "{label}: {per_insert} allocations per INSERT"
    );
    assert!(
        per_select <= 0.5,
        "{label}: {per_select} allocations per SELECT"
    );
}
