//! Zero allocations on the hot path with compressed responses, measured like `alloc.rs`: a
//! counting global allocator counts only on the driver's thread (a current-thread runtime
//! runs the session, its reader and writer tasks); the simulator runs on its own runtime
//! and threads, uncounted. Covered: protocol v4 with lz4 and with snappy (every response
//! body compressed by the simulator), and v5 with lz4 (every segment compressed). The reader
//! decompresses into a large reused buffer and splits bodies off it, so decompression
//! allocates nothing in steady state (before: one allocation per v4 response, one per v5
//! segment, i.e. at least 1 per request). After a warm-up, 10 000 prepared single-row
//! INSERTs and 10 000 prepared single-row SELECTs decoded into borrowed types, 128 in
//! flight, then 10 000 OPTIONS round trips on a bare connection. Asserted: at most 0.05
//! allocations per INSERT and per round trip, 0.5 per SELECT (as in `alloc.rs`). Measured
//! here: 0-0.0002 per request on v4 and v5 (1.0 per round trip with the previous
//! one-buffer-per-body decompression; 0.008 on v5 lz4 while the writer used
//! `lz4_flex::block::compress_into`, which allocates a hash table per outgoing segment —
//! the writer now keeps a `Compressor`).

mod common;

use common::counting::{OPS, check_insert_select, create_table, measure};
use scylla2::Session;
use scylla2::connection::{Compression, Connection, ConnectionConfig};
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{HeaderFlags, Opcode};
use scylla2_cql::request::Options;

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

/// (protocol version, compression) pairs measured.
const CASES: [(u8, Compression); 3] = [
    (4, Compression::Lz4),
    (4, Compression::Snappy),
    (5, Compression::Lz4),
];

fn protocol(version: u8) -> ProtocolVersion {
    match version {
        4 => ProtocolVersion::V4,
        _ => ProtocolVersion::V5,
    }
}

#[test]
fn compressed_responses_do_not_allocate() {
    if std::env::var_os("SCYLLA_URI").is_some() {
        // A real cluster: whatever version it negotiates, once per algorithm.
        for compression in [Compression::Lz4, Compression::Snappy] {
            compressed_at(None, compression);
        }
    } else {
        for (version, compression) in CASES {
            compressed_at(Some(version), compression);
        }
    }
}

fn compressed_at(version: Option<u8>, compression: Compression) {
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let cluster = sim_rt.block_on(common::cluster(version.unwrap_or(5)));
    let uri = cluster.uri.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if !common::engine_available(&uri).await {
            return;
        }
        let label = format!("v{} {}", version.unwrap_or(0), compression.name());
        let mut builder = Session::builder()
            .contact_point(uri.clone())
            .compression(Some(compression));
        if let Some(v) = version {
            builder = builder.protocol_versions(ProtocolVersion::V4, protocol(v));
        }
        let session = builder.connect().await.unwrap();

        // The bare connection first: it shows what was negotiated.
        let addr = tokio::net::lookup_host(uri.as_str())
            .await
            .unwrap()
            .next()
            .unwrap();
        let mut config = ConnectionConfig::default();
        config.compression = Some(compression);
        config.max_protocol_version = version.map_or(ProtocolVersion::V5, protocol);
        let conn = Connection::open(addr, None, &config).await.unwrap();
        let info = conn.info();
        if let Some(v) = version {
            assert_eq!(info.version, protocol(v), "{label}");
        }
        if info.version == ProtocolVersion::V4 || compression == Compression::Lz4 {
            assert_eq!(info.compression, Some(compression), "{label}: negotiated");
        } else {
            eprintln!("{label}: not negotiated on {:?}, skipped", info.version);
            return;
        }
        let conn = &conn;
        let op = move |_| async move {
            let env = conn.send(&Options, HeaderFlags::default()).await.unwrap();
            assert_eq!(env.header.opcode, Opcode::Supported);
            assert!(!env.body.is_empty());
        };
        measure(OPS, op).await;
        let n = measure(OPS, op).await;
        let per = n as f64 / OPS as f64;
        println!("{label}: {n} allocations over {OPS} OPTIONS round trips ({per:.4} each)");
        assert!(per <= 0.05, "{label}: {per} allocations per round trip");

        let ks = create_table(&session, "alloc_compressed").await;
        check_insert_select(&session, &ks, &label).await;
    });
    drop(cluster);
    drop(sim_rt);
}
