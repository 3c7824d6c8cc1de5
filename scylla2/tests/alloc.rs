//! Zero allocations on the hot path, measured: a counting global allocator counts only on
//! the driver's thread (a current-thread runtime runs the session, its reader and writer
//! tasks); the simulator runs on its own runtime and threads, uncounted. After a warm-up,
//! 10 000 prepared single-row INSERTs and 10 000 prepared single-row SELECTs decoded into
//! borrowed types, 128 in flight, on a routed session and on an unrouted one (same attempt
//! loop, contact-point plan). Goal: 0 per INSERT, < 0.05 per SELECT; asserted: at most
//! 0.05 and 0.5.

mod common;

use common::counting::{IN_FLIGHT, OPS, insert, measure, select};
use scylla2::Session;

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

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
            .contact_point(uri.clone())
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
        // The routed session, then an unrouted one (topology disabled): both go through the
        // one attempt loop, over a routed plan or the contact-point rotation.
        let unrouted = Session::builder()
            .contact_point(uri.clone())
            .topology(None)
            .connect()
            .await
            .unwrap();
        for (mode, session) in [("routed", &session), ("unrouted", &unrouted)] {
            assert_eq!(session.is_routing(), mode == "routed");
            let ins = session
                .prepare(format!("INSERT INTO {ks}.t (pk, ck, v) VALUES (?, ?, ?)").as_str())
                .await
                .unwrap();
            let sel = session
                .prepare(format!("SELECT ck, v FROM {ks}.t WHERE pk = ?").as_str())
                .await
                .unwrap();
            let (s, i, q) = (session, &ins, &sel);
            // Warm-up: buffers, slot chunks, wakers, thread-local caches reach steady state.
            measure(OPS, move |n| insert(s, i, n)).await;
            measure(OPS, move |n| select(s, q, n)).await;

            let inserts = measure(OPS, move |n| insert(s, i, n)).await;
            let selects = measure(OPS, move |n| select(s, q, n)).await;
            let per_insert = inserts as f64 / OPS as f64;
            let per_select = selects as f64 / OPS as f64;
            println!(
                "protocol v{version} {mode}: {inserts} allocations over {OPS} INSERTs \
                 ({per_insert:.4} each), {selects} over {OPS} SELECTs ({per_select:.4} each), \
                 {IN_FLIGHT} in flight"
            );
            assert!(
                per_insert <= 0.05,
                "{mode}: {per_insert} allocations per INSERT"
            );
            assert!(
                per_select <= 0.5,
                "{mode}: {per_select} allocations per SELECT"
            );
        }
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
