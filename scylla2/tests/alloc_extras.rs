//! The hot path of the additive APIs allocates nothing in steady state, measured with the
//! counting allocator of `tests/alloc.rs` (counted on the driver's thread only; the
//! simulator runs on its own runtime):
//! - `CachingSession` hits: the lookup of a `&str` makes zero allocations, and 10 000
//!   INSERTs executed by text, 128 in flight, ≤ 0.05 each (goal: 0);
//! - execution profile handles: 10 000 INSERTs with a statement's profile handle and a
//!   session default profile (re-pointed during the run), ≤ 0.05 each (goal: 0).

mod common;

use common::counting::{OPS, allocations, create_table, measure};
use scylla2::CachingSession;
use scylla2::Session;
use scylla2::policies::{ExecutionProfile, ExecutionProfileHandle};

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

#[test]
fn cache_hits_do_not_allocate() {
    if std::env::var_os("SCYLLA_URI").is_some() {
        return;
    }
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let c = sim_rt.block_on(common::cluster(5));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let session = Session::builder()
            .contact_point(c.uri.clone())
            .connect()
            .await
            .unwrap();
        let ks = create_table(&session, "cache_alloc").await;
        let cached = CachingSession::new(session, 64);
        let text = format!("INSERT INTO {ks}.t (pk, ck, v) VALUES (?, ?, ?)");
        // Other texts in the cache, so that the lookup is not trivially the only entry.
        for i in 0..16 {
            cached
                .prepare(&format!(
                    "SELECT v FROM {ks}.t WHERE pk = ? LIMIT {}",
                    i + 1
                ))
                .await
                .unwrap();
        }
        let (cached, text) = (&cached, text.as_str());
        let op = move |i: usize| async move {
            let k = i as i32;
            let r = cached
                .execute(text, (k, k, "value-of-the-row"))
                .await
                .unwrap();
            assert!(r.is_void());
        };
        // Warm-up: the miss, buffers, slots.
        measure(OPS, op).await;
        let lookups = allocations(|| {
            for _ in 0..1000 {
                assert!(cached.cached(text).is_some());
            }
        });
        assert_eq!(lookups, 0, "a cache lookup allocates nothing");
        let n = measure(OPS, op).await;
        let per = n as f64 / OPS as f64;
        println!("{n} allocations over {OPS} cached INSERTs by text ({per:.4} each)");
        assert!(per <= 0.05, "{per} allocations per cached execution");
        assert_eq!(cached.preparations(), 17, "one preparation per text");
    });
}

#[test]
fn profile_handles_do_not_allocate() {
    if std::env::var_os("SCYLLA_URI").is_some() {
        return;
    }
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let c = sim_rt.block_on(common::cluster(5));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let profile =
            |ms| ExecutionProfile::new().with_timeout(std::time::Duration::from_millis(ms));
        let session_profile = ExecutionProfileHandle::new(profile(20_000));
        let session = Session::builder()
            .contact_point(c.uri.clone())
            .default_execution_profile(session_profile.clone())
            .connect()
            .await
            .unwrap();
        let ks = create_table(&session, "profile_alloc").await;
        let text = format!("INSERT INTO {ks}.t (pk, ck, v) VALUES (?, ?, ?)");
        let own = ExecutionProfileHandle::new(profile(10_000));
        let plain = common::prepare(&session, &text).await;
        let handled = plain.clone().with_profile_handle(own.clone());
        let (s, plain, handled) = (&session, &plain, &handled);
        let op = move |i: usize| async move {
            let k = i as i32;
            let stmt = if i.is_multiple_of(2) { plain } else { handled };
            let r = s.execute(stmt, (k, k, "value-of-the-row")).await.unwrap();
            assert!(r.is_void());
        };
        measure(OPS, op).await;
        // Re-pointed before the measurement (the new profiles' allocation is not counted).
        session_profile.map_to(profile(30_000));
        own.map_to(profile(15_000));
        let n = measure(OPS, op).await;
        let per = n as f64 / OPS as f64;
        println!("{n} allocations over {OPS} INSERTs with profile handles ({per:.4} each)");
        assert!(
            per <= 0.05,
            "{per} allocations per execution with a profile handle"
        );
    });
}
