//! Engine execution tests: CRUD, LWT, TTL, timestamps, collections, counters, statics,
//! clustering order and ranges, IN, paging, COUNT, writetime/ttl, batches, system tables,
//! schema changes.

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
            },
            RequestStats {
                node: 0,
                shard: 1,
                received: 2,
                owned: 1,
                with_token: 2,
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
    assert_eq!(
        r.columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["k", "v"]
    );
    assert_eq!(r.rows, vec![vec![ci(1), ct("one")]]);
    let r = e.rows("SELECT v FROM kv WHERE k = 2");
    assert_eq!(r.rows, vec![vec![ct("two")]]);
    assert!(e.rows("SELECT * FROM kv WHERE k = 3").rows.is_empty());
    let r = e.rows("SELECT count(*) FROM kv");
    assert_eq!(r.rows, vec![vec![cb(2)]]);
}
