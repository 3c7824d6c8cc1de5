//! Zero allocations on the hot path, measured: a counting global allocator counts only on
//! the driver's thread (a current-thread runtime runs the session, its reader and writer
//! tasks); the simulator runs on its own runtime and threads, uncounted. After a warm-up,
//! 10 000 prepared single-row INSERTs and 10 000 prepared single-row SELECTs decoded into
//! borrowed types, 128 in flight, on a routed session and on an unrouted one (same attempt
//! loop, contact-point plan). Goal: 0 per INSERT, < 0.05 per SELECT; asserted: at most
//! 0.05 and 0.5.

mod common;

use common::counting::{OPS, check_insert_select, create_table, measure};
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
        let ks = create_table(&session, "alloc").await;
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
            check_insert_select(session, &ks, &format!("protocol v{version} {mode}")).await;
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
