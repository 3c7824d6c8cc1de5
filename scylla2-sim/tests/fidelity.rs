//! The simulator against what real servers send, with hand-written frames: UNAVAILABLE for
//! consistency levels too few live replicas can meet, client warnings, `duration` on v4,
//! UNPREPARED after DROP / ALTER, LWT result metadata and ScyllaDB's rate-limit error. Each
//! test names the server code it follows.

mod common;

use std::net::SocketAddr;

use common::*;
use scylla2_sim::{Cluster, FaultRule, RequestKind, SimError};

const PREPARE: u8 = 0x09;
const EXECUTE: u8 = 0x0A;
const ONE: u16 = 1;
const QUORUM: u16 = 4;
const ALL: u16 = 5;

fn addr(c: &Cluster, i: usize) -> SocketAddr {
    c.contact_points()[i]
}

async fn ready(c: &Cluster, i: usize, version: u8, extra: &[(&str, &str)]) -> Client {
    let mut cl = Client::connect(addr(c, i), version).await;
    let f = cl.handshake(extra).await;
    assert_eq!(f.opcode, READY, "{f:?}");
    cl
}

/// QUERY `q` at `consistency`, no values.
async fn query_at(cl: &mut Client, q: &str, consistency: u16) -> Frame {
    let mut b = long_string(q);
    b.extend_from_slice(&consistency.to_be_bytes());
    if cl.version >= 5 {
        b.extend_from_slice(&0u32.to_be_bytes());
    } else {
        b.push(0);
    }
    cl.send(2, QUERY, &b).await;
    cl.recv().await.expect("answer")
}

async fn ok(cl: &mut Client, q: &str) -> Frame {
    let f = query_at(cl, q, ONE).await;
    assert_eq!(
        f.opcode,
        RESULT,
        "{q}: {:?}",
        String::from_utf8_lossy(&f.body)
    );
    f
}

/// The warnings of a response and the body after them.
fn split_warnings(f: &Frame) -> (Vec<String>, &[u8]) {
    if f.flags & 0x08 == 0 {
        return (Vec::new(), &f.body);
    }
    let b = &f.body;
    let n = u16::from_be_bytes([b[0], b[1]]) as usize;
    let mut p = 2;
    let mut out = Vec::new();
    for _ in 0..n {
        let len = u16::from_be_bytes([b[p], b[p + 1]]) as usize;
        out.push(String::from_utf8_lossy(&b[p + 2..p + 2 + len]).into_owned());
        p += 2 + len;
    }
    (out, &b[p..])
}

/// (code, message, consistency, required, alive) of an UNAVAILABLE error.
fn unavailable(f: &Frame) -> (String, u16, i32, i32) {
    let (code, msg) = f.error();
    assert_eq!(code, 0x1000, "{msg}");
    let p = 6 + msg.len();
    let b = &f.body;
    (
        msg,
        u16::from_be_bytes([b[p], b[p + 1]]),
        i32::from_be_bytes(b[p + 2..p + 6].try_into().unwrap()),
        i32::from_be_bytes(b[p + 6..p + 10].try_into().unwrap()),
    )
}

/// RF 3 on a one-node cluster: a real node answers a write at ALL and a read at QUORUM
/// with UNAVAILABLE (consistency, required, alive), ONE succeeds (Cassandra's
/// `ReplicaPlans.assureSufficientLiveReplicas` / `UnavailableException`; ScyllaDB's
/// `db::assure_sufficient_live_nodes` words it its own way).
#[tokio::test]
async fn rf3_on_one_node_is_unavailable_at_quorum_and_all() {
    for shards in [0, 2] {
        let c = cluster(1, shards).await;
        let mut cl = ready(&c, 0, 4, &[]).await;
        let f = ok(&mut cl, "CREATE KEYSPACE u WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}").await;
        // Cassandra warns (`SimpleStrategy.maybeWarnOnOptions`); ScyllaDB does not.
        let (warnings, _) = split_warnings(&f);
        if shards == 0 {
            assert_eq!(
                warnings,
                ["Your replication factor 3 for keyspace u is higher than the number of nodes 1"]
            );
        } else {
            assert!(warnings.is_empty());
        }
        ok(&mut cl, "CREATE TABLE u.t (k int PRIMARY KEY, v int)").await;
        let f = query_at(&mut cl, "INSERT INTO u.t (k, v) VALUES (1, 1)", ALL).await;
        let (msg, cl_code, required, alive) = unavailable(&f);
        assert_eq!((cl_code, required, alive), (ALL, 3, 1));
        if shards == 0 {
            assert_eq!(msg, "Cannot achieve consistency level ALL");
        } else {
            assert_eq!(
                msg,
                "Cannot achieve consistency level for cl ALL. Requires 3, alive 1"
            );
        }
        let f = query_at(&mut cl, "SELECT * FROM u.t WHERE k = 1", QUORUM).await;
        let (_, code, required, alive) = unavailable(&f);
        assert_eq!((code, required, alive), (QUORUM, 2, 1));
        let f = query_at(&mut cl, "INSERT INTO u.t (k, v) VALUES (1, 1)", ONE).await;
        assert_eq!(f.opcode, RESULT);
        let f = query_at(&mut cl, "SELECT * FROM u.t", ONE).await;
        assert_eq!(f.opcode, RESULT);
        // Counters refuse ANY (`ConsistencyLevel.validateCounterForWrite`).
        ok(&mut cl, "CREATE TABLE u.c (k int PRIMARY KEY, n counter)").await;
        let f = query_at(&mut cl, "UPDATE u.c SET n = n + 1 WHERE k = 1", 0).await;
        assert_eq!(
            f.error(),
            (
                0x2200,
                "Consistency level ANY is not yet supported for counter table c".into()
            )
        );
        // System tables are local: any level reads them.
        let f = query_at(&mut cl, "SELECT * FROM system.local", ALL).await;
        assert_eq!(f.opcode, RESULT);
    }
}

/// Stopped and paused nodes are down for consistency levels; a resumed one counts again.
#[tokio::test]
async fn stopped_and_paused_replicas_are_down() {
    let c = cluster(3, 0).await;
    let mut cl = ready(&c, 0, 4, &[]).await;
    ok(
        &mut cl,
        "CREATE KEYSPACE d WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
    )
    .await;
    ok(&mut cl, "CREATE TABLE d.t (k int PRIMARY KEY, v int)").await;
    assert_eq!(
        query_at(&mut cl, "INSERT INTO d.t (k, v) VALUES (1, 1)", ALL)
            .await
            .opcode,
        RESULT
    );
    c.stop_node(2).await.unwrap();
    let f = query_at(&mut cl, "INSERT INTO d.t (k, v) VALUES (1, 1)", ALL).await;
    let (_, code, required, alive) = unavailable(&f);
    assert_eq!((code, required, alive), (ALL, 3, 2));
    assert_eq!(
        query_at(&mut cl, "SELECT * FROM d.t", QUORUM).await.opcode,
        RESULT
    );
    c.pause_node(1).unwrap();
    let f = query_at(&mut cl, "SELECT * FROM d.t WHERE k = 1", QUORUM).await;
    let (_, code, required, alive) = unavailable(&f);
    assert_eq!((code, required, alive), (QUORUM, 2, 1));
    assert_eq!(
        query_at(&mut cl, "SELECT * FROM d.t WHERE k = 1", ONE)
            .await
            .opcode,
        RESULT
    );
    c.resume_node(1).unwrap();
    assert_eq!(
        query_at(&mut cl, "SELECT * FROM d.t WHERE k = 1", QUORUM)
            .await
            .opcode,
        RESULT
    );
}

/// Warnings travel before the result body with flag 0x08 on v4 and v5 (Cassandra's
/// `ClientWarn`, `SelectStatement.execute`); ScyllaDB sends none for this.
#[tokio::test]
async fn warnings_come_with_the_warning_flag() {
    for (shards, version) in [(0, 4), (0, 5), (2, 4)] {
        let c = cluster(1, shards).await;
        let mut cl = ready(&c, 0, version, &[]).await;
        ok(&mut cl, "CREATE KEYSPACE w WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
        ok(&mut cl, "CREATE TABLE w.t (k int PRIMARY KEY, v int)").await;
        let f = ok(&mut cl, "SELECT count(*) FROM w.t").await;
        let (warnings, body) = split_warnings(&f);
        if shards == 0 {
            assert_eq!(warnings, ["Aggregation query used without partition key"]);
        } else {
            assert!(warnings.is_empty());
        }
        assert_eq!(&body[..4], &[0, 0, 0, 2], "a Rows result follows");
        let f = ok(&mut cl, "SELECT count(*) FROM w.t WHERE k = 1").await;
        assert_eq!(
            f.flags & 0x08,
            0,
            "warnings belong to the request that raised them"
        );
    }
}

/// A v4 Cassandra node sends `duration` as CUSTOM DurationType (`DataType.fromType`);
/// v5 and ScyllaDB (`type_codec::encode`) use id 0x0015.
#[tokio::test]
async fn duration_type_per_version_and_server() {
    let class = b"org.apache.cassandra.db.marshal.DurationType";
    for (shards, version, custom) in [(0, 4, true), (0, 5, false), (2, 4, false)] {
        let c = cluster(1, shards).await;
        let mut cl = ready(&c, 0, version, &[]).await;
        ok(&mut cl, "CREATE KEYSPACE du WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
        ok(&mut cl, "CREATE TABLE du.t (k int PRIMARY KEY, d duration)").await;
        let f = ok(&mut cl, "SELECT d FROM du.t").await;
        let has_class = f.body.windows(class.len()).any(|w| w == class);
        assert_eq!(has_class, custom, "shards {shards} v{version}");
        if !custom {
            // ..."d" then the type option 0x0015.
            assert!(f.body.windows(5).any(|w| w == [0, 1, b'd', 0, 0x15]));
        }
    }
}

/// PREPARE `q`: (id, result metadata id (v5 or with SCYLLA_USE_METADATA_ID), flags,
/// result column count).
async fn prepare(cl: &mut Client, q: &str, with_meta_id: bool) -> (Vec<u8>, Vec<u8>, u32, i32) {
    let mut b = long_string(q);
    if cl.version >= 5 {
        b.extend_from_slice(&0u32.to_be_bytes());
    }
    cl.send(3, PREPARE, &b).await;
    let f = cl.recv().await.unwrap();
    assert_eq!(
        f.opcode,
        RESULT,
        "{q}: {:?}",
        String::from_utf8_lossy(&f.body)
    );
    let b = &f.body;
    let short = |p: usize| u16::from_be_bytes([b[p], b[p + 1]]) as usize;
    let int = |p: usize| i32::from_be_bytes(b[p..p + 4].try_into().unwrap());
    let mut p = 4;
    let id = b[p + 2..p + 2 + short(p)].to_vec();
    p += 2 + id.len();
    let mut meta_id = Vec::new();
    if with_meta_id {
        meta_id = b[p + 2..p + 2 + short(p)].to_vec();
        p += 2 + meta_id.len();
    }
    let flags = int(p) as u32;
    let binds = int(p + 4);
    let pks = int(p + 8) as usize;
    p += 12 + 2 * pks;
    if flags & 1 != 0 && binds > 0 {
        p += 2 + short(p);
        p += 2 + short(p);
    }
    for _ in 0..binds {
        if flags & 1 == 0 {
            p += 2 + short(p);
            p += 2 + short(p);
        }
        p += 2 + short(p);
        p += 2; // simple types only here
    }
    let result_cols = int(p + 4);
    (id, meta_id, flags, result_cols)
}

/// EXECUTE `id` with int values; `skip` asks for SKIP_METADATA.
async fn execute(
    cl: &mut Client,
    id: &[u8],
    meta_id: Option<&[u8]>,
    values: &[i32],
    skip: bool,
) -> Frame {
    let mut b = (id.len() as u16).to_be_bytes().to_vec();
    b.extend_from_slice(id);
    if let Some(m) = meta_id {
        b.extend_from_slice(&(m.len() as u16).to_be_bytes());
        b.extend_from_slice(m);
    }
    b.extend_from_slice(&ONE.to_be_bytes());
    let flags = 0x01 | if skip { 0x02 } else { 0 };
    if cl.version >= 5 {
        b.extend_from_slice(&(flags as u32).to_be_bytes());
    } else {
        b.push(flags);
    }
    b.extend_from_slice(&(values.len() as u16).to_be_bytes());
    for v in values {
        b.extend_from_slice(&4i32.to_be_bytes());
        b.extend_from_slice(&v.to_be_bytes());
    }
    cl.send(4, EXECUTE, &b).await;
    cl.recv().await.unwrap()
}

/// The flags of a Rows result.
fn rows_flags(f: &Frame) -> u32 {
    assert_eq!(f.opcode, RESULT, "{:?}", String::from_utf8_lossy(&f.body));
    let (_, body) = split_warnings(f);
    assert_eq!(&body[..4], &[0, 0, 0, 2]);
    u32::from_be_bytes(body[4..8].try_into().unwrap())
}

/// After DROP + CREATE or ALTER ADD, a real node has forgotten the table's prepared
/// statements and answers UNPREPARED (Cassandra's `QueryProcessor.MigrationSubscriber`,
/// ScyllaDB's `query_processor::migration_subscriber`). Once re-prepared (new result
/// metadata id for `SELECT *`), a client still holding the old id gets the new metadata
/// with METADATA_CHANGED (`ExecuteMessage.execute`, CASSANDRA-13992).
#[tokio::test]
async fn dropped_or_altered_tables_make_prepared_statements_unprepared() {
    let c = cluster(1, 0).await;
    let mut a = ready(&c, 0, 5, &[]).await;
    let mut b = ready(&c, 0, 5, &[]).await;
    ok(
        &mut a,
        "CREATE KEYSPACE p WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await;
    ok(&mut a, "CREATE TABLE p.t (k int PRIMARY KEY, v int)").await;
    let q = "SELECT * FROM p.t WHERE k = ?";
    let (id, meta, _, cols) = prepare(&mut a, q, true).await;
    assert_eq!(cols, 2);
    assert_eq!(
        execute(&mut a, &id, Some(&meta), &[1], true).await.opcode,
        RESULT
    );
    assert_eq!(
        execute(&mut b, &id, Some(&meta), &[1], true).await.opcode,
        RESULT
    );
    ok(&mut a, "DROP TABLE p.t").await;
    ok(&mut a, "CREATE TABLE p.t (k int PRIMARY KEY, v int)").await;
    let f = execute(&mut a, &id, Some(&meta), &[1], true).await;
    assert_eq!(f.error().0, 0x2500, "UNPREPARED after DROP + CREATE");
    let (id2, meta2, _, _) = prepare(&mut a, q, true).await;
    assert_eq!(
        (id2.clone(), meta2.clone()),
        (id.clone(), meta.clone()),
        "same statement, same columns"
    );
    assert_eq!(
        execute(&mut a, &id, Some(&meta), &[1], true).await.opcode,
        RESULT
    );
    ok(&mut a, "ALTER TABLE p.t ADD w int").await;
    assert_eq!(
        execute(&mut a, &id, Some(&meta), &[1], true)
            .await
            .error()
            .0,
        0x2500,
        "UNPREPARED after ALTER ADD"
    );
    let (_, meta3, _, cols3) = prepare(&mut a, q, true).await;
    assert_eq!(cols3, 3);
    assert_ne!(meta3, meta, "new result metadata id");
    assert_eq!(
        rows_flags(&execute(&mut a, &id, Some(&meta3), &[1], true).await) & 0x0C,
        0x04,
        "current id: metadata skipped"
    );
    // b still holds the old metadata id: the re-prepared statement answers with the new one.
    let f = execute(&mut b, &id, Some(&meta), &[1], true).await;
    assert_eq!(
        rows_flags(&f) & 0x0C,
        0x08,
        "METADATA_CHANGED, metadata sent"
    );
}

/// Conditional updates: Cassandra sends their result metadata whatever SKIP_METADATA says
/// (`ExecuteMessage.execute`: the columns depend on whether it applied). ScyllaDB marks
/// the PREPARED answer with the LWT bit (`SCYLLA_LWT_ADD_METADATA_MARK`, bit 31 of the
/// flags), gives fixed result columns there (`build_cas_result_set_metadata`) and honours
/// SKIP_METADATA (`cql_server::response::write`).
#[tokio::test]
async fn lwt_result_metadata_per_server() {
    let q = "INSERT INTO l.t (k, v) VALUES (?, ?) IF NOT EXISTS";
    // Cassandra, v5.
    let c = cluster(1, 0).await;
    let mut cl = ready(&c, 0, 5, &[]).await;
    ok(
        &mut cl,
        "CREATE KEYSPACE l WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await;
    ok(&mut cl, "CREATE TABLE l.t (k int PRIMARY KEY, v int)").await;
    let (id, meta, flags, cols) = prepare(&mut cl, q, true).await;
    assert_eq!((flags & 0x8000_0000, cols), (0, 0));
    for v in [1, 2] {
        let f = execute(&mut cl, &id, Some(&meta), &[1, v], true).await;
        assert_eq!(
            rows_flags(&f) & 0x0C,
            0,
            "metadata sent, no METADATA_CHANGED"
        );
    }
    // ScyllaDB, v4 with the LWT mark.
    let c = cluster(1, 2).await;
    let mut cl = ready(&c, 0, 4, &[("SCYLLA_LWT_ADD_METADATA_MARK", "")]).await;
    ok(
        &mut cl,
        "CREATE KEYSPACE l WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    )
    .await;
    ok(&mut cl, "CREATE TABLE l.t (k int PRIMARY KEY, v int)").await;
    let (id, _, flags, cols) = prepare(&mut cl, q, false).await;
    assert_eq!(
        (flags & 0x8000_0000, cols),
        (0x8000_0000, 3),
        "[applied], k, v"
    );
    for v in [1, 2] {
        let f = execute(&mut cl, &id, None, &[1, v], true).await;
        assert_eq!(rows_flags(&f) & 0x04, 0x04, "NO_METADATA as asked");
    }
    let (_, _, plain, _) = prepare(&mut cl, "SELECT * FROM l.t WHERE k = ?", false).await;
    assert_eq!(plain & 0x8000_0000, 0);
}

/// ScyllaDB's rate-limit error (`cql_server::make_rate_limit_error`): code 0xF000, the
/// message of `rate_limit_exception`, op type and coordinator bytes with
/// `SCYLLA_RATE_LIMIT_ERROR`; a CONFIG_ERROR with the same message without it.
#[tokio::test]
async fn rate_limit_error_as_scylla_sends_it() {
    let c = cluster(1, 2).await;
    c.inject(
        FaultRule::error(SimError::RateLimitReached {
            keyspace: "ks".into(),
            table: "t".into(),
            op_type: 1,
            rejected_by_coordinator: true,
        })
        .kind(RequestKind::Query)
        .query_contains("system.local")
        .times(2),
    );
    let msg = "Per-partition rate limit reached for write in table ks.t, rejected by coordinator";
    let mut ext = ready(&c, 0, 4, &[("SCYLLA_RATE_LIMIT_ERROR", "")]).await;
    let f = query_at(&mut ext, "SELECT * FROM system.local", ONE).await;
    assert_eq!(f.error(), (0xF000, msg.to_string()));
    assert_eq!(&f.body[f.body.len() - 2..], &[1, 1]);
    let mut plain = ready(&c, 0, 4, &[]).await;
    let f = query_at(&mut plain, "SELECT * FROM system.local", ONE).await;
    assert_eq!(f.error(), (0x2300, msg.to_string()));
    assert_eq!(f.body.len(), 6 + msg.len());
}
