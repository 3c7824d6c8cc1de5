//! Server behaviours that need the engine: statistics through `system_sim.requests`,
//! UNPREPARED after a restart, injected errors matched by query text, schema events, and the
//! LWT metadata bit.

mod common;

use std::net::SocketAddr;

use common::*;
use scylla2_sim::{FaultRule, RequestKind, SimError};

const PREPARE: u8 = 0x09;
const EXECUTE: u8 = 0x0A;

async fn ready(addr: SocketAddr, extra: &[(&str, &str)]) -> Client {
    let mut cl = Client::connect(addr, 4).await;
    assert_eq!(cl.handshake(extra).await.opcode, READY);
    cl
}

async fn query(cl: &mut Client, q: &str) -> Frame {
    cl.send(1, QUERY, &query_body(q)).await;
    cl.recv().await.expect("answer")
}

async fn prepare(cl: &mut Client, q: &str) -> Frame {
    cl.send(2, PREPARE, &long_string(q)).await;
    let f = cl.recv().await.unwrap();
    assert_eq!(
        f.opcode,
        RESULT,
        "{q}: {:?}",
        String::from_utf8_lossy(&f.body)
    );
    f
}

fn prepared_id(f: &Frame) -> Vec<u8> {
    let n = u16::from_be_bytes([f.body[4], f.body[5]]) as usize;
    f.body[6..6 + n].to_vec()
}

fn execute_body(id: &[u8], values: &[&[u8]]) -> Vec<u8> {
    let mut b = (id.len() as u16).to_be_bytes().to_vec();
    b.extend_from_slice(id);
    b.extend_from_slice(&[0, 1, 0x01]);
    b.extend_from_slice(&(values.len() as u16).to_be_bytes());
    for v in values {
        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
        b.extend_from_slice(v);
    }
    b
}

async fn setup(cl: &mut Client) {
    query_ok(cl, "CREATE KEYSPACE eb WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    query_ok(cl, "CREATE TABLE eb.t (k int PRIMARY KEY, v int)").await;
}

#[tokio::test]
async fn stats_are_readable_through_cql_and_reset() {
    let c = cluster(1, 2).await;
    let mut cl = ready(c.contact_points()[0], &[]).await;
    setup(&mut cl).await;
    c.reset_stats();
    let f = prepare(&mut cl, "INSERT INTO eb.t (k, v) VALUES (?, ?)").await;
    let id = prepared_id(&f);
    for k in 0..10i32 {
        cl.send(
            3,
            EXECUTE,
            &execute_body(&id, &[&k.to_be_bytes(), &k.to_be_bytes()]),
        )
        .await;
        assert_eq!(cl.recv().await.unwrap().opcode, RESULT);
    }
    let stats = c.request_stats();
    assert_eq!(stats.iter().map(|s| s.received).sum::<u64>(), 10);
    assert_eq!(stats.iter().map(|s| s.with_token).sum::<u64>(), 10);
    let f = query_ok(&mut cl, "SELECT * FROM system_sim.requests").await;
    // Rows result with one row per shard.
    assert_eq!(&f.body[..4], &[0, 0, 0, 2]);
    c.reset_stats();
    assert!(
        c.request_stats()
            .iter()
            .all(|s| s.received == 0 && s.owned == 0)
    );
}

#[tokio::test]
async fn restart_forgets_prepared_statements() {
    let c = cluster(1, 0).await;
    let addr = c.contact_points()[0];
    let mut cl = ready(addr, &[]).await;
    setup(&mut cl).await;
    let id = prepared_id(&prepare(&mut cl, "SELECT v FROM eb.t WHERE k = ?").await);
    c.restart_node(0).await.unwrap();
    assert!(cl.closed().await);
    let mut cl = ready(addr, &[]).await;
    cl.send(4, EXECUTE, &execute_body(&id, &[&1i32.to_be_bytes()]))
        .await;
    let f = cl.recv().await.unwrap();
    assert_eq!(f.error().0, 0x2500);
    // The id comes back in the body.
    let n = f.body.len();
    assert_eq!(&f.body[n - id.len()..], &id[..]);
    // Data survived the restart (keyspace still there).
    query_ok(&mut cl, "SELECT * FROM eb.t").await;
}

#[tokio::test]
async fn errors_matched_by_query_text() {
    let c = cluster(1, 0).await;
    let mut cl = ready(c.contact_points()[0], &[]).await;
    setup(&mut cl).await;
    let id = prepared_id(&prepare(&mut cl, "INSERT INTO eb.t (k, v) VALUES (?, ?)").await);
    c.inject(
        FaultRule::error(SimError::WriteTimeout {
            consistency: 1,
            received: 0,
            block_for: 1,
            write_type: scylla2_sim::WriteType::Simple,
        })
        .kind(RequestKind::Execute)
        .query_contains("INSERT INTO eb.t"),
    );
    c.inject(FaultRule::error(SimError::Overloaded("busy".into())).query_contains("FROM eb.t"));
    cl.send(
        5,
        EXECUTE,
        &execute_body(&id, &[&1i32.to_be_bytes(), &2i32.to_be_bytes()]),
    )
    .await;
    let f = cl.recv().await.unwrap();
    assert_eq!(f.error().0, 0x1100);
    let f = query(&mut cl, "SELECT * FROM eb.t").await;
    assert_eq!(f.error(), (0x1001, "busy".to_string()));
    query_ok(&mut cl, "SELECT * FROM eb.t").await;
    // Syntax errors come from the engine with their code.
    let f = query(&mut cl, "SELEC nonsense").await;
    assert_eq!(f.error().0, 0x2000);
}

#[tokio::test]
async fn schema_events_reach_every_node() {
    let c = cluster(2, 0).await;
    let mut listener = ready(c.contact_points()[1], &[]).await;
    let mut body = 1u16.to_be_bytes().to_vec();
    string(&mut body, "SCHEMA_CHANGE");
    listener.send(1, REGISTER, &body).await;
    assert_eq!(listener.recv().await.unwrap().opcode, READY);
    let mut cl = ready(c.contact_points()[0], &[]).await;
    setup(&mut cl).await;
    let ev = listener.recv().await.unwrap();
    assert_eq!((ev.opcode, ev.stream), (EVENT, -1));
    let mut expected = Vec::new();
    string(&mut expected, "SCHEMA_CHANGE");
    string(&mut expected, "CREATED");
    string(&mut expected, "KEYSPACE");
    string(&mut expected, "eb");
    assert_eq!(ev.body, expected);
    let ev = listener.recv().await.unwrap();
    assert!(String::from_utf8_lossy(&ev.body).contains("TABLE"));
}

#[tokio::test]
async fn lwt_bit_only_when_echoed() {
    let c = cluster(1, 2).await;
    let addr = c.contact_points()[0];
    let mut cl = ready(addr, &[]).await;
    setup(&mut cl).await;
    let q = "INSERT INTO eb.t (k, v) VALUES (?, ?) IF NOT EXISTS";
    let flags = |f: &Frame| {
        let n = u16::from_be_bytes([f.body[4], f.body[5]]) as usize;
        u32::from_be_bytes(f.body[6 + n..10 + n].try_into().unwrap())
    };
    let plain = prepare(&mut cl, q).await;
    assert_eq!(flags(&plain) & 0x8000_0000, 0);
    let mut marked = ready(
        addr,
        &[(
            "SCYLLA_LWT_ADD_METADATA_MARK",
            "LWT_OPTIMIZATION_META_BIT_MASK=2147483648",
        )],
    )
    .await;
    let f = prepare(&mut marked, q).await;
    assert_ne!(flags(&f) & 0x8000_0000, 0);
    let f = prepare(&mut marked, "INSERT INTO eb.t (k, v) VALUES (?, ?)").await;
    assert_eq!(flags(&f) & 0x8000_0000, 0);
}

/// Reads `[short bytes]` at `pos`; returns (bytes, next position).
fn short_bytes_at(b: &[u8], pos: usize) -> (Vec<u8>, usize) {
    let n = u16::from_be_bytes([b[pos], b[pos + 1]]) as usize;
    (b[pos + 2..pos + 2 + n].to_vec(), pos + 2 + n)
}

#[tokio::test]
async fn scylla_use_metadata_id_on_v4() {
    let c = cluster(1, 2).await;
    let addr = c.contact_points()[0];
    let mut cl = ready(addr, &[("SCYLLA_USE_METADATA_ID", "")]).await;
    setup(&mut cl).await;
    query_ok(&mut cl, "INSERT INTO eb.t (k, v) VALUES (1, 2)").await;
    let f = prepare(&mut cl, "SELECT * FROM eb.t WHERE k = ?").await;
    let (id, pos) = short_bytes_at(&f.body, 4);
    let (meta, _) = short_bytes_at(&f.body, pos);
    assert_eq!(
        meta.len(),
        16,
        "PREPARED carries a result metadata id on v4"
    );
    let exec = |meta: &[u8]| {
        let mut b = (id.len() as u16).to_be_bytes().to_vec();
        b.extend_from_slice(&id);
        b.extend_from_slice(&(meta.len() as u16).to_be_bytes());
        b.extend_from_slice(meta);
        b.extend_from_slice(&[0, 1, 0x01 | 0x02, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1]);
        b
    };
    let rows_flags = |f: &Frame| i32::from_be_bytes(f.body[4..8].try_into().unwrap());
    cl.send(5, EXECUTE, &exec(&meta)).await;
    let f = cl.recv().await.unwrap();
    assert_eq!(f.opcode, RESULT, "{:?}", String::from_utf8_lossy(&f.body));
    assert_eq!(rows_flags(&f) & 0x0C, 0x04, "same id + skip: NO_METADATA");
    query_ok(&mut cl, "ALTER TABLE eb.t ADD extra int").await;
    // ScyllaDB forgets the table's prepared statements on ALTER
    // (`query_processor::migration_subscriber::on_update_column_family`): UNPREPARED, and
    // once prepared again, the old metadata id gets METADATA_CHANGED.
    cl.send(6, EXECUTE, &exec(&meta)).await;
    let f = cl.recv().await.unwrap();
    assert_eq!(f.error().0, 0x2500, "UNPREPARED after ALTER");
    prepare(&mut cl, "SELECT * FROM eb.t WHERE k = ?").await;
    cl.send(6, EXECUTE, &exec(&meta)).await;
    let f = cl.recv().await.unwrap();
    assert_eq!(
        rows_flags(&f) & 0x0C,
        0x08,
        "METADATA_CHANGED with full metadata"
    );
    assert_eq!(i32::from_be_bytes(f.body[8..12].try_into().unwrap()), 3);
    let (new_meta, _) = short_bytes_at(&f.body, 12);
    assert_ne!(new_meta, meta);
    cl.send(7, EXECUTE, &exec(&new_meta)).await;
    let f = cl.recv().await.unwrap();
    assert_eq!(rows_flags(&f) & 0x0C, 0x04);

    // Without the extension, v4 PREPARED has no metadata id: flags follow the id.
    let mut plain = ready(addr, &[]).await;
    let f = prepare(&mut plain, "SELECT * FROM eb.t WHERE k = ?").await;
    let (_, pos) = short_bytes_at(&f.body, 4);
    let prepared_flags = i32::from_be_bytes(f.body[pos..pos + 4].try_into().unwrap());
    let columns = i32::from_be_bytes(f.body[pos + 4..pos + 8].try_into().unwrap());
    assert_eq!((prepared_flags & 1, columns), (1, 1));
}
