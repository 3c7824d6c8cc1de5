//! Zero allocations on the hot path, measured: a counting global allocator counts only on
//! the driver's thread (a current-thread runtime runs the session, its reader and writer
//! tasks); the simulator runs on its own runtime and threads, uncounted. After a warm-up,
//! 10 000 prepared single-row INSERTs and 10 000 prepared single-row SELECTs decoded into
//! borrowed types, 128 in flight. Goal: 0 per INSERT, < 0.05 per SELECT; asserted: at most
//! 0.05 and 0.5.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use scylla2::{PreparedStatement, Session};

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
fn prepared_statements_do_not_allocate() {
    // Protocol v4 and v5 (segment framing) against the simulator; a real cluster once.
    if std::env::var_os("SCYLLA_URI").is_some() {
        prepared_statements_at(5);
    } else {
        prepared_statements_at(4);
        prepared_statements_at(5);
    }
}

fn prepared_statements_at(version: u8) {
    // The cluster: SCYLLA_URI, or the simulator on its own runtime (other threads).
    let (uri, _sim_runtime, _sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => (uri, None, None),
        Err(_) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let c = rt.block_on(common::cluster(version));
            let uri = c.uri.clone();
            (uri, Some(rt), Some(c))
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if !common::engine_available(&uri).await {
            return;
        }
        let session = Session::builder()
            .contact_point(uri)
            .connect()
            .await
            .unwrap();
        let ks = common::keyspace("alloc");
        session
            .execute(common::create_keyspace(&ks).as_str(), ())
            .await
            .unwrap();
        session
            .execute(
                format!("CREATE TABLE {ks}.t (pk int PRIMARY KEY, ck int, v text)").as_str(),
                (),
            )
            .await
            .unwrap();
        let ins = session
            .prepare(format!("INSERT INTO {ks}.t (pk, ck, v) VALUES (?, ?, ?)").as_str())
            .await
            .unwrap();
        let sel = session
            .prepare(format!("SELECT ck, v FROM {ks}.t WHERE pk = ?").as_str())
            .await
            .unwrap();
        let (s, i, q) = (&session, &ins, &sel);
        // Warm-up: buffers, slot chunks, wakers, thread-local caches reach steady state.
        measure(OPS, move |n| insert(s, i, n)).await;
        measure(OPS, move |n| select(s, q, n)).await;

        let inserts = measure(OPS, move |n| insert(s, i, n)).await;
        let selects = measure(OPS, move |n| select(s, q, n)).await;
        let per_insert = inserts as f64 / OPS as f64;
        let per_select = selects as f64 / OPS as f64;
        println!(
            "protocol v{}: {inserts} allocations over {OPS} INSERTs ({per_insert:.4} each), \
             {selects} over {OPS} SELECTs ({per_select:.4} each), {IN_FLIGHT} in flight",
            version
        );
        assert!(per_insert <= 0.05, "{per_insert} allocations per INSERT");
        assert!(per_select <= 0.5, "{per_select} allocations per SELECT");
    });
}

#[test]
fn connection_round_trips_do_not_allocate() {
    use scylla2::connection::{Connection, ConnectionConfig};
    use scylla2_cql::frame::{HeaderFlags, Opcode};
    use scylla2_cql::request::Options;

    if std::env::var_os("SCYLLA_URI").is_some() {
        return;
    }
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    for version in [4, 5] {
        let c = sim_rt.block_on(common::cluster(version));
        let addr = c.sim.as_ref().unwrap().contact_points()[0];
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let conn = Connection::open(addr, None, &ConnectionConfig::default())
                .await
                .unwrap();
            let conn = &conn;
            let op = move |_| async move {
                let env = conn.send(&Options, HeaderFlags::default()).await.unwrap();
                assert_eq!(env.header.opcode, Opcode::Supported);
            };
            measure(OPS, op).await;
            let n = measure(OPS, op).await;
            let per = n as f64 / OPS as f64;
            println!("v{version}: {n} allocations over {OPS} OPTIONS round trips ({per:.4} each)");
            assert!(per <= 0.05, "{per} allocations per round trip");
        });
    }
}
