//! Planning allocates nothing on a real request path: the core allocation test extended to
//! a 3-node × 4-shard simulated cluster with token- and shard-aware routing. A counting global
//! allocator counts only on the driver's thread (a current-thread runtime runs the session,
//! its pools, readers and writers); the simulator runs on its own runtime and threads. After
//! a warm-up, 10 000 prepared INSERTs and 10 000 prepared SELECTs (128 in flight) — each
//! computing its token, loading the topology snapshot and building a plan — are counted, and
//! the simulator confirms every one of them landed on an owning node and shard.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use scylla2::{PreparedStatement, Session};
use scylla2_sim::Cluster;

struct Counting;

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

#[global_allocator]
static GLOBAL: Counting = Counting;

const IN_FLIGHT: usize = 128;
const OPS: usize = 10_000;

/// Runs `op(i)` for i in 0..n with IN_FLIGHT workers; returns the allocations counted on
/// this thread while they ran (the worker futures are boxed before counting starts).
async fn measure<'a, F, Fut>(n: usize, op: F) -> u64
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

async fn insert(session: &Session, stmt: &PreparedStatement, i: usize) {
    let k = i as i32;
    let r = session
        .execute(stmt, (k, k, "value-of-the-row"))
        .await
        .unwrap();
    assert!(r.is_void());
}

async fn select(session: &Session, stmt: &PreparedStatement, i: usize) {
    let k = i as i32;
    let r = session.execute(stmt, (k,)).await.unwrap();
    let (ck, v): (i32, &str) = r.single_row().unwrap();
    assert_eq!(ck, k);
    assert_eq!(v, "value-of-the-row");
}

#[test]
fn routed_prepared_statements_do_not_allocate() {
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sim = sim_rt.block_on(async {
        Cluster::builder()
            .nodes(3)
            .shards(4)
            .port(0)
            .shard_aware_port(0)
            .start()
            .await
            .unwrap()
    });
    let uri = sim.contact_points()[0].to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let session = Session::builder()
            .contact_point(uri)
            .connect()
            .await
            .unwrap();
        assert!(session.is_routing());
        assert_eq!(session.open_connections(), 12);
        session
            .execute(
                "CREATE KEYSPACE ralloc WITH replication = \
                 {'class': 'SimpleStrategy', 'replication_factor': 1}",
                (),
            )
            .await
            .unwrap();
        session
            .execute(
                "CREATE TABLE ralloc.t (pk int PRIMARY KEY, ck int, v text)",
                (),
            )
            .await
            .unwrap();
        let ins = session
            .prepare("INSERT INTO ralloc.t (pk, ck, v) VALUES (?, ?, ?)")
            .await
            .unwrap();
        let sel = session
            .prepare("SELECT ck, v FROM ralloc.t WHERE pk = ?")
            .await
            .unwrap();
        let (s, i, q) = (&session, &ins, &sel);
        measure(OPS, move |n| insert(s, i, n)).await;
        measure(OPS, move |n| select(s, q, n)).await;

        sim.reset_stats();
        let inserts = measure(OPS, move |n| insert(s, i, n)).await;
        let selects = measure(OPS, move |n| select(s, q, n)).await;
        let per_insert = inserts as f64 / OPS as f64;
        let per_select = selects as f64 / OPS as f64;
        println!(
            "3 nodes x 4 shards, routed: {inserts} allocations over {OPS} INSERTs \
             ({per_insert:.4} each), {selects} over {OPS} SELECTs ({per_select:.4} each), \
             {IN_FLIGHT} in flight"
        );
        let (with_token, owned) = sim
            .request_stats()
            .iter()
            .fold((0, 0), |(w, o), st| (w + st.with_token, o + st.owned));
        assert_eq!(with_token, 2 * OPS as u64);
        assert_eq!(owned, with_token, "every measured request was owned");
        assert!(per_insert <= 0.05, "{per_insert} allocations per INSERT");
        assert!(per_select <= 0.5, "{per_select} allocations per SELECT");
    });
    // Stop the simulator on its own runtime.
    let _enter = sim_rt.enter();
    drop(sim);
}
