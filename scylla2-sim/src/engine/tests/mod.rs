//! Engine execution tests: CRUD, LWT, TTL, timestamps, collections, counters, statics,
//! clustering order and ranges, IN, paging, COUNT, writetime/ttl, batches, system tables,
//! schema changes. Schema, DDL and system table tests are in [`schema`].

mod cql_features;
mod dml;
mod fixtures;
mod fuzz;
mod schema;
mod system_modes;

use std::net::{IpAddr, Ipv4Addr};

use bytes::Bytes;
use uuid::Uuid;

use super::*;
use crate::model::{
    BoundValue, ClusterView, NodeInfo, QueryParams, QueryResult, RequestStats, Rows, SimError,
};

pub(super) struct FakeCluster {
    pub(super) nodes: Vec<NodeInfo>,
}

impl FakeCluster {
    pub(super) fn new(n: usize) -> Self {
        let nodes = (0..n)
            .map(|i| NodeInfo {
                index: i,
                address: IpAddr::V4(Ipv4Addr::new(127, 0, 0, i as u8 + 1)),
                port: 9042,
                datacenter: "dc1".into(),
                rack: "rack1".into(),
                tokens: vec![
                    (i as i64) * 1000 - 5000,
                    (i as i64) * 7_000_000_000_000_000 / 3,
                ],
                host_id: Uuid::from_u64_pair(1, i as u64),
                release_version: "3.0.8".into(),
                schema_version: Uuid::nil(),
                up: true,
                shards: 2,
            })
            .collect();
        FakeCluster { nodes }
    }
}

impl ClusterView for FakeCluster {
    fn local(&self) -> NodeInfo {
        self.nodes[0].clone()
    }
    fn peers(&self) -> Vec<NodeInfo> {
        self.nodes[1..].to_vec()
    }
    fn request_stats(&self) -> Vec<RequestStats> {
        vec![
            RequestStats {
                node: 0,
                shard: 0,
                received: 5,
                owned: 3,
                with_token: 4,
                prepared: 0,
            },
            RequestStats {
                node: 0,
                shard: 1,
                received: 2,
                owned: 1,
                with_token: 2,
                prepared: 0,
            },
        ]
    }
}

pub(super) struct Env {
    pub(super) engine: Engine,
    pub(super) session: SessionState,
    pub(super) cluster: FakeCluster,
}

pub(super) fn env() -> Env {
    let mut e = Env {
        engine: Engine::new(),
        session: SessionState::default(),
        cluster: FakeCluster::new(3),
    };
    e.q("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    e.q("USE ks");
    e
}

pub(super) fn int(v: i32) -> BoundValue {
    BoundValue::Set(Bytes::copy_from_slice(&v.to_be_bytes()))
}
pub(super) fn big(v: i64) -> BoundValue {
    BoundValue::Set(Bytes::copy_from_slice(&v.to_be_bytes()))
}
pub(super) fn txt(v: &str) -> BoundValue {
    BoundValue::Set(Bytes::copy_from_slice(v.as_bytes()))
}
pub(super) fn ci(v: i32) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(&v.to_be_bytes()))
}
pub(super) fn cb(v: i64) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(&v.to_be_bytes()))
}
pub(super) fn ct(v: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(v.as_bytes()))
}

/// The names of a result's columns, in order.
pub(super) fn column_names(r: &Rows) -> Vec<&str> {
    r.columns.iter().map(|c| c.name.as_str()).collect()
}

/// The names of a prepared statement's bind markers, in order.
pub(super) fn bind_names(p: &Prepared) -> Vec<&str> {
    p.info
        .bind_columns
        .iter()
        .map(|c| c.name.as_str())
        .collect()
}

impl Env {
    pub(super) fn try_q(&mut self, q: &str) -> Result<QueryResult, SimError> {
        self.engine
            .query(&mut self.session, q, &QueryParams::default(), &self.cluster)
    }
    pub(super) fn q(&mut self, q: &str) -> QueryResult {
        self.try_q(q).unwrap_or_else(|e| panic!("{q}: {e:?}"))
    }
    pub(super) fn qv(&mut self, q: &str, values: Vec<BoundValue>) -> QueryResult {
        let params = QueryParams {
            values,
            ..QueryParams::default()
        };
        self.engine
            .query(&mut self.session, q, &params, &self.cluster)
            .unwrap_or_else(|e| panic!("{q}: {e:?}"))
    }
    pub(super) fn rows(&mut self, q: &str) -> Rows {
        match self.q(q) {
            QueryResult::Rows(r) => r,
            other => panic!("{q}: not rows: {other:?}"),
        }
    }
    /// Prepares `q` in keyspace `ks`.
    pub(super) fn prepare(&self, q: &str) -> Arc<Prepared> {
        self.engine
            .prepare(q, Some("ks"))
            .unwrap_or_else(|e| panic!("{q}: {e:?}"))
    }
    /// Asserts that `q` answers exactly `expected` rows.
    pub(super) fn assert_rows(&mut self, q: &str, expected: Vec<Vec<Option<Bytes>>>) {
        assert_eq!(self.rows(q).rows, expected, "{q}");
    }
    /// Asserts that `q` fails with an Invalid error.
    pub(super) fn assert_invalid(&mut self, q: &str) {
        let result = self.try_q(q);
        assert!(
            matches!(result, Err(SimError::Invalid(_))),
            "{q}: {result:?}"
        );
    }
    pub(super) fn rows_p(&mut self, q: &str, params: &QueryParams) -> Rows {
        match self
            .engine
            .query(&mut self.session, q, params, &self.cluster)
        {
            Ok(QueryResult::Rows(r)) => r,
            other => panic!("{q}: not rows: {other:?}"),
        }
    }
}

#[test]
fn insert_select_round_trip() {
    let mut e = env();
    e.q("CREATE TABLE kv (k int PRIMARY KEY, v text)");
    e.q("INSERT INTO kv (k, v) VALUES (1, 'one')");
    e.qv(
        "INSERT INTO kv (k, v) VALUES (?, ?)",
        vec![int(2), txt("two")],
    );
    let r = e.rows("SELECT * FROM kv WHERE k = 1");
    assert_eq!(column_names(&r), ["k", "v"]);
    assert_eq!(r.rows, vec![vec![ci(1), ct("one")]]);
    let r = e.rows("SELECT v FROM kv WHERE k = 2");
    assert_eq!(r.rows, vec![vec![ct("two")]]);
    assert!(e.rows("SELECT * FROM kv WHERE k = 3").rows.is_empty());
    let r = e.rows("SELECT count(*) FROM kv");
    assert_eq!(r.rows, vec![vec![cb(2)]]);
}

fn applied(r: &Rows) -> bool {
    assert_eq!(r.columns[0].name, "[applied]");
    r.rows[0][0].as_deref() == Some(&[1][..])
}

#[test]
fn lwt_insert_and_update_both_ways() {
    let mut e = env();
    e.q("CREATE TABLE kv (k text PRIMARY KEY, v text)");
    let r = e.rows("INSERT INTO kv (k, v) VALUES ('lwt', 'first') IF NOT EXISTS");
    assert!(applied(&r));
    assert_eq!(r.columns.len(), 1);
    let r = e.rows("INSERT INTO kv (k, v) VALUES ('lwt', 'second') IF NOT EXISTS");
    assert!(!applied(&r));
    assert_eq!(column_names(&r), ["[applied]", "k", "v"]);
    assert_eq!(r.rows[0][1..], [ct("lwt"), ct("first")]);
    let r = e.rows("UPDATE kv SET v = 'third' WHERE k = 'lwt' IF v = 'nope'");
    assert!(!applied(&r));
    assert_eq!(column_names(&r), ["[applied]", "v"]);
    assert_eq!(r.rows[0][1], ct("first"));
    let r = e.rows("UPDATE kv SET v = 'third' WHERE k = 'lwt' IF v = 'first'");
    assert!(applied(&r));
    assert_eq!(
        e.rows("SELECT v FROM kv WHERE k = 'lwt'").rows[0][0],
        ct("third")
    );
    let r = e.rows("UPDATE kv SET v = 'x' WHERE k = 'missing' IF v = 'y'");
    assert!(!applied(&r));
    assert_eq!(r.columns.len(), 1);
    let r = e.rows("UPDATE kv SET v = 'x' WHERE k = 'missing' IF EXISTS");
    assert!(!applied(&r));
    assert!(
        e.rows("SELECT v FROM kv WHERE k = 'missing'")
            .rows
            .is_empty()
    );
    let r = e.rows("DELETE FROM kv WHERE k = 'lwt' IF EXISTS");
    assert!(applied(&r));
    assert!(e.rows("SELECT v FROM kv WHERE k = 'lwt'").rows.is_empty());
    let p = e.prepare("UPDATE kv SET v = ? WHERE k = ? IF v != ?");
    assert!(p.info.is_lwt);
    assert!(!e.prepare("UPDATE kv SET v = ? WHERE k = ?").info.is_lwt);
}

#[test]
fn timestamps_tombstones_and_ttl() {
    let mut e = env();
    e.q("CREATE TABLE t (k int PRIMARY KEY, v int)");
    e.q("INSERT INTO t (k, v) VALUES (1, 10) USING TIMESTAMP 1000");
    e.q("INSERT INTO t (k, v) VALUES (1, 5) USING TIMESTAMP 500");
    e.assert_rows(
        "SELECT v, writetime(v) FROM t WHERE k = 1",
        vec![vec![ci(10), cb(1000)]],
    );
    e.q("DELETE FROM t USING TIMESTAMP 2000 WHERE k = 1");
    e.q("INSERT INTO t (k, v) VALUES (1, 7) USING TIMESTAMP 1500");
    assert!(e.rows("SELECT * FROM t WHERE k = 1").rows.is_empty());
    e.q("INSERT INTO t (k, v) VALUES (1, 8) USING TIMESTAMP 2500");
    e.assert_rows("SELECT v FROM t WHERE k = 1", vec![vec![ci(8)]]);
    // Equal timestamps: the greater value wins, in either order, whether a value is kept
    // inside its cell (up to 64 bytes) or apart; every length around that limit.
    e.q("CREATE TABLE tt (k int PRIMARY KEY, v text)");
    for (k, len) in [1, 63, 64, 65, 200].into_iter().enumerate() {
        let low = format!("{}a", "x".repeat(len - 1));
        let high = format!("{}b", "x".repeat(len - 1));
        for (first, second) in [(&low, &high), (&high, &low)] {
            for v in [first, second] {
                e.q(&format!(
                    "INSERT INTO tt (k, v) VALUES ({k}, '{v}') USING TIMESTAMP 3000"
                ));
            }
            e.assert_rows(
                &format!("SELECT v FROM tt WHERE k = {k}"),
                vec![vec![ct(&high)]],
            );
        }
    }
    // A short value against a longer one: compared by their bytes ('y' > 'xx…').
    e.q("INSERT INTO tt (k, v) VALUES (9, 'y') USING TIMESTAMP 3000");
    let long = "x".repeat(100);
    e.q(&format!(
        "INSERT INTO tt (k, v) VALUES (9, '{long}') USING TIMESTAMP 3000"
    ));
    e.assert_rows("SELECT v FROM tt WHERE k = 9", vec![vec![ct("y")]]);
    // TTL: remaining shown by ttl(); expiry by now_in_seconds.
    e.q("INSERT INTO t (k, v) VALUES (2, 20) USING TTL 100");
    let r = e.rows("SELECT ttl(v) FROM t WHERE k = 2");
    let ttl = i32::from_be_bytes(r.rows[0][0].as_deref().unwrap().try_into().unwrap());
    assert!((99..=100).contains(&ttl), "{ttl}");
    let later = QueryParams {
        now_in_seconds: Some(
            (std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 200) as i32,
        ),
        ..QueryParams::default()
    };
    assert!(
        e.rows_p("SELECT * FROM t WHERE k = 2", &later)
            .rows
            .is_empty()
    );
    e.assert_rows("SELECT ttl(v) FROM t WHERE k = 1", vec![vec![None]]);
    // Client timestamp from the parameters.
    let p = QueryParams {
        timestamp: Some(42),
        ..QueryParams::default()
    };
    e.engine
        .query(
            &mut e.session,
            "INSERT INTO t (k, v) VALUES (3, 1)",
            &p,
            &e.cluster,
        )
        .unwrap();
    e.assert_rows("SELECT writetime(v) FROM t WHERE k = 3", vec![vec![cb(42)]]);
    e.assert_invalid("INSERT INTO t (k, v) VALUES (4, 1) USING TTL -1");
}

#[test]
fn collections_operations() {
    let mut e = env();
    e.q("CREATE TABLE c (k int PRIMARY KEY, l list<int>, s set<text>, m map<text, int>, f frozen<list<int>>)");
    e.q("INSERT INTO c (k, l, s, m, f) VALUES (1, [1, 2], {'b', 'a'}, {'x': 1}, [9, 8])");
    e.q("UPDATE c SET l = l + [3], s = s + {'c'}, m['y'] = 2 WHERE k = 1");
    e.q("UPDATE c SET l = [0] + l WHERE k = 1");
    e.qv(
        "UPDATE c SET l = l + ? WHERE k = ?",
        vec![
            BoundValue::Set(Bytes::from_static(&[0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 4])),
            int(1),
        ],
    );
    e.q("UPDATE c SET s = s - {'a'}, m = m - {'x'} WHERE k = 1");
    e.q("UPDATE c SET l[1] = 10 WHERE k = 1");
    e.q("DELETE l[0] FROM c WHERE k = 1");
    let r = e.rows("SELECT l, s, m, f FROM c WHERE k = 1");
    let list = |v: &[i32]| {
        let mut out = (v.len() as i32).to_be_bytes().to_vec();
        for x in v {
            out.extend_from_slice(&4i32.to_be_bytes());
            out.extend_from_slice(&x.to_be_bytes());
        }
        Some(Bytes::from(out))
    };
    assert_eq!(r.rows[0][0], list(&[10, 2, 3, 4]));
    assert_eq!(
        r.rows[0][1],
        Some(Bytes::from_static(&[
            0, 0, 0, 2, 0, 0, 0, 1, b'b', 0, 0, 0, 1, b'c'
        ]))
    );
    assert_eq!(
        r.rows[0][2],
        Some(Bytes::from_static(&[
            0, 0, 0, 1, 0, 0, 0, 1, b'y', 0, 0, 0, 4, 0, 0, 0, 2
        ]))
    );
    assert_eq!(r.rows[0][3], list(&[9, 8]));
    e.q("UPDATE c SET l = l - [2, 3] WHERE k = 1");
    assert_eq!(
        e.rows("SELECT l FROM c WHERE k = 1").rows[0][0],
        list(&[10, 4])
    );
    e.q("UPDATE c SET s = {} WHERE k = 1");
    assert_eq!(e.rows("SELECT s FROM c WHERE k = 1").rows[0][0], None);
    e.assert_invalid("UPDATE c SET l[7] = 1 WHERE k = 1");
}

#[test]
fn counters() {
    let mut e = env();
    e.q("CREATE TABLE cnt (k int PRIMARY KEY, c counter)");
    e.q("UPDATE cnt SET c = c + 5 WHERE k = 1");
    e.qv("UPDATE cnt SET c = c - ? WHERE k = ?", vec![big(2), int(1)]);
    e.q("UPDATE cnt SET c = c -1 WHERE k = 1");
    e.assert_rows("SELECT c FROM cnt WHERE k = 1", vec![vec![cb(2)]]);
    assert!(e.try_q("INSERT INTO cnt (k, c) VALUES (1, 1)").is_err());
    e.q("BEGIN COUNTER BATCH UPDATE cnt SET c = c + 1 WHERE k = 2; UPDATE cnt SET c = c + 1 WHERE k = 2; APPLY BATCH");
    e.assert_rows("SELECT c FROM cnt WHERE k = 2", vec![vec![cb(2)]]);
    assert!(
        e.try_q("BEGIN BATCH UPDATE cnt SET c = c + 1 WHERE k = 2; APPLY BATCH")
            .is_err()
    );
}

#[test]
fn clustering_order_ranges_in_and_statics() {
    let mut e = env();
    e.q("CREATE TABLE ts (p int, c int, d text, v int, s text static, PRIMARY KEY (p, c, d)) WITH CLUSTERING ORDER BY (c DESC, d ASC)");
    for c in 0..5 {
        for d in ["a", "b"] {
            e.q(&format!(
                "INSERT INTO ts (p, c, d, v) VALUES (1, {c}, '{d}', {})",
                c * 10
            ));
        }
    }
    e.q("UPDATE ts SET s = 'stat' WHERE p = 1");
    let cs = |r: &Rows| {
        r.rows
            .iter()
            .map(|row| i32::from_be_bytes(row[0].as_deref().unwrap().try_into().unwrap()))
            .collect::<Vec<_>>()
    };
    let r = e.rows("SELECT c, d, s FROM ts WHERE p = 1");
    assert_eq!(cs(&r), [4, 4, 3, 3, 2, 2, 1, 1, 0, 0]);
    assert_eq!(r.rows[0][1], ct("a"));
    assert_eq!(r.rows[0][2], ct("stat"));
    assert_eq!(
        cs(&e.rows("SELECT c FROM ts WHERE p = 1 AND c > 1 AND c <= 3")),
        [3, 3, 2, 2]
    );
    assert_eq!(
        cs(&e.rows("SELECT c FROM ts WHERE p = 1 AND c >= 3")),
        [4, 4, 3, 3]
    );
    assert_eq!(
        cs(&e.rows("SELECT c FROM ts WHERE p = 1 AND c < 1")),
        [0, 0]
    );
    assert_eq!(
        cs(&e.rows("SELECT c FROM ts WHERE p = 1 ORDER BY c ASC LIMIT 3")),
        [0, 0, 1]
    );
    assert_eq!(
        cs(&e.rows("SELECT c FROM ts WHERE p = 1 AND c IN (0, 3)")),
        [3, 3, 0, 0]
    );
    let r = e.rows("SELECT c, d FROM ts WHERE p = 1 AND c = 2 AND d > 'a'");
    assert_eq!(r.rows, vec![vec![ci(2), ct("b")]]);
    assert!(
        e.try_q("SELECT c, d FROM ts WHERE p = 1 AND (c, d) > (3, 'a')")
            .is_err()
    );
    e.q("CREATE TABLE asc2 (p int, c int, d int, PRIMARY KEY (p, c, d))");
    for c in 0..3 {
        for d in 0..3 {
            e.q(&format!("INSERT INTO asc2 (p, c, d) VALUES (0, {c}, {d})"));
        }
    }
    let r = e.rows("SELECT c, d FROM asc2 WHERE p = 0 AND (c, d) > (0, 1) AND (c, d) <= (2, 0)");
    assert_eq!(
        r.rows,
        vec![
            vec![ci(0), ci(2)],
            vec![ci(1), ci(0)],
            vec![ci(1), ci(1)],
            vec![ci(1), ci(2)],
            vec![ci(2), ci(0)]
        ]
    );
    let r = e.rows("SELECT c, d FROM asc2 WHERE p = 0 AND (c, d) IN ((1, 1), (0, 2))");
    assert_eq!(r.rows, vec![vec![ci(0), ci(2)], vec![ci(1), ci(1)]]);
    assert_eq!(
        cs(&e.rows("SELECT c FROM ts WHERE p = 1 PER PARTITION LIMIT 2")),
        [4, 4]
    );
    // Range delete.
    e.q("DELETE FROM ts WHERE p = 1 AND c >= 3");
    assert_eq!(
        cs(&e.rows("SELECT c FROM ts WHERE p = 1")),
        [2, 2, 1, 1, 0, 0]
    );
    e.q("DELETE FROM ts WHERE p = 1 AND c = 2 AND d = 'a'");
    assert_eq!(cs(&e.rows("SELECT c FROM ts WHERE p = 1")), [2, 1, 1, 0, 0]);
    // Static-only partition.
    e.q("UPDATE ts SET s = 'only' WHERE p = 2");
    let r = e.rows("SELECT p, c, s FROM ts WHERE p = 2");
    assert_eq!(r.rows, vec![vec![ci(2), None, ct("only")]]);
    // IN on the partition key, tokens ordered.
    let r = e.rows("SELECT p FROM ts WHERE p IN (2, 1) AND c = 0");
    assert_eq!(r.rows.len(), 2);
}

#[test]
fn paging_across_partitions_and_ranges() {
    let mut e = env();
    e.q("CREATE TABLE pg (p int, c int, v int, PRIMARY KEY (p, c))");
    for p in 0..7 {
        for c in 0..5 {
            e.q(&format!(
                "INSERT INTO pg (p, c, v) VALUES ({p}, {c}, {})",
                p * 100 + c
            ));
        }
    }
    let collect = |e: &mut Env, q: &str, page: i32| {
        let mut all = Vec::new();
        let mut state = None;
        let mut pages = 0;
        loop {
            let params = QueryParams {
                page_size: Some(page),
                paging_state: state.clone(),
                ..QueryParams::default()
            };
            let r = e.rows_p(q, &params);
            assert!(r.rows.len() <= page as usize);
            all.extend(r.rows);
            pages += 1;
            match r.paging_state {
                Some(s) => state = Some(s),
                None => break,
            }
            assert!(pages < 100);
        }
        (all, pages)
    };
    let full = e.rows("SELECT v FROM pg").rows;
    assert_eq!(full.len(), 35);
    for page in [1, 3, 5, 7, 34, 35, 100] {
        let (all, _) = collect(&mut e, "SELECT v FROM pg", page);
        assert_eq!(all, full, "page {page}");
    }
    let (all, pages) = collect(&mut e, "SELECT v FROM pg WHERE p IN (1, 2, 3) AND c > 1", 2);
    assert_eq!(all.len(), 9);
    assert_eq!(pages, 5);
    let (all, _) = collect(&mut e, "SELECT v FROM pg WHERE p = 4 ORDER BY c DESC", 2);
    assert_eq!(
        all,
        vec![
            vec![ci(404)],
            vec![ci(403)],
            vec![ci(402)],
            vec![ci(401)],
            vec![ci(400)]
        ]
    );
    let (all, _) = collect(&mut e, "SELECT v FROM pg LIMIT 8", 3);
    assert_eq!(all.len(), 8);
    assert_eq!(all, full[..8].to_vec());
    // COUNT ignores paging.
    let params = QueryParams {
        page_size: Some(2),
        ..QueryParams::default()
    };
    assert_eq!(
        e.rows_p("SELECT COUNT(*) FROM pg", &params).rows,
        vec![vec![cb(35)]]
    );
    // Full scans are in token order.
    let r = e.rows("SELECT token(p), p FROM pg PER PARTITION LIMIT 1");
    let tokens: Vec<i64> = r
        .rows
        .iter()
        .map(|row| i64::from_be_bytes(row[0].as_deref().unwrap().try_into().unwrap()))
        .collect();
    assert!(tokens.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(tokens[0], murmur3_token(r.rows[0][1].as_deref().unwrap()));
}

#[test]
fn batch_with_timestamp_and_prepared() {
    let mut e = env();
    e.q("CREATE TABLE b (k int PRIMARY KEY, v int)");
    e.q("BEGIN BATCH USING TIMESTAMP 77 INSERT INTO b (k, v) VALUES (1, 1); UPDATE b SET v = 2 WHERE k = 2; APPLY BATCH");
    e.assert_rows("SELECT writetime(v) FROM b WHERE k = 2", vec![vec![cb(77)]]);
    let p = e.prepare("INSERT INTO b (k, v) VALUES (?, ?)");
    let stmts = vec![
        BatchStatement::Prepared {
            stmt: p.clone(),
            values: vec![int(3), int(30)],
        },
        BatchStatement::Query {
            query: "DELETE FROM b WHERE k = 1".into(),
            values: vec![],
        },
    ];
    let r = e
        .engine
        .batch(
            &mut e.session,
            BatchKind::Logged,
            &stmts,
            &QueryParams::default(),
            &e.cluster,
        )
        .unwrap();
    assert!(matches!(r, QueryResult::Void));
    assert_eq!(e.rows("SELECT count(*) FROM b").rows, vec![vec![cb(2)]]);
}

#[test]
fn prepared_metadata_and_routing() {
    let mut e = env();
    e.q("CREATE TABLE r (a int, b text, c int, v int, PRIMARY KEY ((a, b), c))");
    let p = e.prepare("SELECT v FROM r WHERE b = ? AND a = ? AND c IN ? LIMIT ?");
    assert_eq!(bind_names(&p), ["b", "a", "in(c)", "[limit]"]);
    assert_eq!(p.info.pk_indexes, vec![1, 0]);
    assert_eq!(p.info.result_columns.len(), 1);
    let again = e.prepare("SELECT v FROM r WHERE b = ? AND a = ? AND c IN ? LIMIT ?");
    assert_eq!(p.info.id, again.info.id);
    assert_eq!(p.info.id.len(), 16);
    let params = QueryParams {
        values: vec![txt("x"), int(1)],
        ..QueryParams::default()
    };
    let (ks, token) = e.engine.routing_token(&p, &params).unwrap();
    assert_eq!(ks, "ks");
    let mut key = vec![0, 4, 0, 0, 0, 1, 0, 0, 1, b'x', 0];
    assert_eq!(token, murmur3_token(&key));
    key.clear();
    let p =
        e.prepare("INSERT INTO r (a, b, c, v) VALUES (:a, :b, ?, ?) USING TTL ? AND TIMESTAMP ?");
    assert_eq!(bind_names(&p), ["a", "b", "c", "v", "[ttl]", "[timestamp]"]);
    assert_eq!(p.info.pk_indexes, vec![0, 1]);
    // Named values are matched by name.
    let params = QueryParams {
        values: vec![int(5), txt("n"), int(1), int(2), int(0), big(9)],
        names: Some(vec![
            "v".into(),
            "b".into(),
            "c".into(),
            "a".into(),
            "[ttl]".into(),
            "[timestamp]".into(),
        ]),
        ..QueryParams::default()
    };
    e.engine
        .execute(&mut e.session, &p, &params, &e.cluster)
        .unwrap();
    assert_eq!(
        e.rows("SELECT v, writetime(v) FROM r WHERE a = 2 AND b = 'n'")
            .rows,
        vec![vec![ci(5), cb(9)]]
    );
    // Wrong length value.
    let bad = QueryParams {
        values: vec![
            BoundValue::Set(Bytes::from_static(&[0, 1])),
            txt("n"),
            int(1),
            int(2),
            int(0),
            big(9),
        ],
        ..QueryParams::default()
    };
    assert!(matches!(
        e.engine.execute(&mut e.session, &p, &bad, &e.cluster),
        Err(SimError::Invalid(_))
    ));
}

#[test]
fn engine_is_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Engine>();
    fn assert_send_sync_arc<T: Send + Sync>() {}
    assert_send_sync_arc::<Prepared>();
    let e = Engine::new();
    let c = e.clone();
    assert!(Arc::ptr_eq(&e.inner, &c.inner));
}
