//! TEMPORARY stand-in for `crate::engine` with the agreed signatures, so the server compiles
//! before the engine branch lands. Removed at the merge.
#![allow(dead_code, missing_docs, clippy::all)]

use std::sync::Arc;

use bytes::Bytes;
use uuid::Uuid;

use crate::model::*;

#[derive(Clone, Default)]
pub struct Engine;
pub struct Prepared {
    pub info: PreparedInfo,
}
#[derive(Default)]
pub struct SessionState {
    pub keyspace: Option<String>,
}
pub enum BatchStatement {
    Query {
        query: String,
        values: Vec<BoundValue>,
    },
    Prepared {
        stmt: Arc<Prepared>,
        values: Vec<BoundValue>,
    },
}
#[derive(Clone, Copy, Debug)]
pub enum BatchKind {
    Logged,
    Unlogged,
    Counter,
}
fn unsupported() -> SimError {
    SimError::ServerError("engine stub".into())
}
impl Engine {
    pub fn new() -> Self {
        Engine
    }
    pub fn prepare(&self, _q: &str, _k: Option<&str>) -> Result<Arc<Prepared>, SimError> {
        Err(unsupported())
    }
    pub fn execute(
        &self,
        _s: &mut SessionState,
        _p: &Prepared,
        _q: &QueryParams,
        _c: &dyn ClusterView,
    ) -> Result<QueryResult, SimError> {
        Err(unsupported())
    }
    pub fn query(
        &self,
        _s: &mut SessionState,
        _q: &str,
        _p: &QueryParams,
        _c: &dyn ClusterView,
    ) -> Result<QueryResult, SimError> {
        Err(unsupported())
    }
    pub fn batch(
        &self,
        _s: &mut SessionState,
        _k: BatchKind,
        _st: &[BatchStatement],
        _p: &QueryParams,
        _c: &dyn ClusterView,
    ) -> Result<QueryResult, SimError> {
        Err(unsupported())
    }
    pub fn routing_token(&self, _s: &Prepared, _p: &QueryParams) -> Option<(Arc<str>, i64)> {
        None
    }
    pub fn replicas(&self, _k: &str, _t: i64, _n: &[NodeInfo]) -> Vec<usize> {
        Vec::new()
    }
    pub fn schema_version(&self) -> Uuid {
        Uuid::nil()
    }
    pub fn current_result_metadata(&self, s: &Prepared) -> (Bytes, Vec<ColumnSpec>) {
        (
            s.info.result_metadata_id.clone(),
            s.info.result_columns.clone(),
        )
    }
}
pub fn murmur3_token(_key: &[u8]) -> i64 {
    0
}
