//! Server behaviours that need the engine: statistics through `system_sim.requests`,
//! UNPREPARED after a restart, injected errors matched by query text, schema events, and the
//! LWT metadata bit.

mod common;

use std::net::SocketAddr;

use common::*;
use scylla2_sim::{Cluster, FaultRule, RequestKind, SimError};

const PREPARE: u8 = 0x09;
const EXECUTE: u8 = 0x0A;

async fn cluster(nodes: usize, shards: u32) -> Cluster {
    Cluster::builder()
        .nodes(nodes)
        .shards(shards)
        .port(0)
        .shard_aware_port(0)
        .start()
        .await
        .expect("cluster starts")
}

async fn ready(addr: SocketAddr, extra: &[(&str, &str)]) -> Client {
    let mut cl = Client::connect(addr, 4).await;
    assert_eq!(cl.handshake(extra).await.opcode, READY);
    cl
}

async fn query(cl: &mut Client, q: &str) -> Frame {
    cl.send(1, QUERY, &query_body(q)).await;
    cl.recv().await.expect("answer")
}

async fn ok(cl: &mut Client, q: &str) -> Frame {
    let f = query(cl, q).await;
    assert_eq!(
        f.opcode,
        RESULT,
        "{q}: {:?}",
        String::from_utf8_lossy(&f.body)
    );
    f
}

fn long_string(s: &str) -> Vec<u8> {
    let mut b = (s.len() as i32).to_be_bytes().to_vec();
    b.extend_from_slice(s.as_bytes());
    b
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
    ok(cl, "CREATE KEYSPACE eb WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
    ok(cl, "CREATE TABLE eb.t (k int PRIMARY KEY, v int)").await;
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
    let f = ok(&mut cl, "SELECT * FROM system_sim.requests").await;
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
    ok(&mut cl, "SELECT * FROM eb.t").await;
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
    ok(&mut cl, "SELECT * FROM eb.t").await;
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
