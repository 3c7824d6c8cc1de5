//! Tablets (Scylla): `tablets-routing-v1` custom payload entries are decoded into tablets
//! (token range with replicas as host id + shard) and kept per table, replacing overlapping
//! ranges; plans for tablet tables use them instead of the token ring.

use std::sync::Arc;

use ahash::AHashMap;
use arc_swap::ArcSwap;
use uuid::Uuid;

use super::Token;
use super::sharding::Shard;

/// The custom payload key carrying tablet routing information.
pub const TABLETS_ROUTING_V1: &str = "tablets-routing-v1";

/// One replica of a tablet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TabletReplica {
    /// Host id of the node.
    pub host_id: Uuid,
    /// Shard on that node.
    pub shard: Shard,
}

/// A tablet: tokens in `(first_token, last_token]` and their replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tablet {
    /// First token, exclusive.
    pub first_token: i64,
    /// Last token, inclusive.
    pub last_token: i64,
    /// Replicas.
    pub replicas: Vec<TabletReplica>,
}

impl Tablet {
    /// Whether `token` is in the tablet.
    pub fn contains(&self, token: Token) -> bool {
        self.first_token < token.0 && token.0 <= self.last_token
    }

    fn overlaps(&self, other: &Tablet) -> bool {
        self.first_token < other.last_token && other.first_token < self.last_token
    }
}

/// Why a `tablets-routing-v1` payload could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TabletPayloadError {
    /// The payload ended early.
    #[error("tablet payload truncated")]
    Truncated,
    /// A field had an unexpected length or was null.
    #[error("tablet payload field {field} has length {len}")]
    BadLength {
        /// Which field.
        field: &'static str,
        /// Its length.
        len: i32,
    },
    /// Bytes were left after the tuple.
    #[error("{0} trailing bytes after the tablet payload")]
    Trailing(usize),
    /// The range is empty (`first >= last`).
    #[error("empty tablet range ({first}, {last}]")]
    EmptyRange {
        /// First token.
        first: i64,
        /// Last token.
        last: i64,
    },
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn int(&mut self) -> Result<i32, TabletPayloadError> {
        let (b, rest) = self
            .0
            .split_first_chunk::<4>()
            .ok_or(TabletPayloadError::Truncated)?;
        self.0 = rest;
        Ok(i32::from_be_bytes(*b))
    }

    /// A `[value]` of exactly `want` bytes (or any length when `want` is `None`).
    fn value(
        &mut self,
        field: &'static str,
        want: Option<usize>,
    ) -> Result<&'a [u8], TabletPayloadError> {
        let len = self.int()?;
        let bad = TabletPayloadError::BadLength { field, len };
        let n = usize::try_from(len).map_err(|_| bad.clone())?;
        if want.is_some_and(|w| w != n) {
            return Err(bad);
        }
        if n > self.0.len() {
            return Err(TabletPayloadError::Truncated);
        }
        let (v, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(v)
    }

    fn bigint(&mut self, field: &'static str) -> Result<i64, TabletPayloadError> {
        let v = self.value(field, Some(8))?;
        let mut b = [0u8; 8];
        b.copy_from_slice(v);
        Ok(i64::from_be_bytes(b))
    }
}

/// Decodes the CQL value of `tuple<bigint, bigint, list<tuple<uuid, int>>>` carried by
/// `tablets-routing-v1`.
pub fn decode_tablet_payload(bytes: &[u8]) -> Result<Tablet, TabletPayloadError> {
    let mut r = Reader(bytes);
    let first_token = r.bigint("first_token")?;
    let last_token = r.bigint("last_token")?;
    let list = r.value("replicas", None)?;
    if !r.0.is_empty() {
        return Err(TabletPayloadError::Trailing(r.0.len()));
    }
    if first_token >= last_token {
        return Err(TabletPayloadError::EmptyRange {
            first: first_token,
            last: last_token,
        });
    }
    let mut l = Reader(list);
    let count = l.int()?;
    let count = usize::try_from(count).map_err(|_| TabletPayloadError::BadLength {
        field: "replica count",
        len: count,
    })?;
    // Each element takes at least 4 + 4 + 16 + 4 + 4 bytes: cap the preallocation.
    let mut replicas = Vec::with_capacity(count.min(l.0.len() / 32));
    for _ in 0..count {
        let element = l.value("replica", None)?;
        let mut e = Reader(element);
        let id = e.value("host_id", Some(16))?;
        let shard = e.value("shard", Some(4))?;
        if !e.0.is_empty() {
            return Err(TabletPayloadError::Trailing(e.0.len()));
        }
        let mut id_bytes = [0u8; 16];
        id_bytes.copy_from_slice(id);
        let mut shard_bytes = [0u8; 4];
        shard_bytes.copy_from_slice(shard);
        let shard = i32::from_be_bytes(shard_bytes);
        let shard = u32::try_from(shard).map_err(|_| TabletPayloadError::BadLength {
            field: "shard",
            len: shard,
        })?;
        replicas.push(TabletReplica {
            host_id: Uuid::from_bytes(id_bytes),
            shard,
        });
    }
    if !l.0.is_empty() {
        return Err(TabletPayloadError::Trailing(l.0.len()));
    }
    Ok(Tablet {
        first_token,
        last_token,
        replicas,
    })
}

/// The tablets of one table, sorted by range, never overlapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableTablets {
    tablets: Vec<Tablet>,
}

impl TableTablets {
    /// The tablet holding `token`.
    pub fn find(&self, token: Token) -> Option<&Tablet> {
        let i = self.tablets.partition_point(|t| t.last_token < token.0);
        self.tablets.get(i).filter(|t| t.contains(token))
    }

    /// Inserts `tablet`, dropping every tablet whose range overlaps it.
    pub fn insert(&mut self, tablet: Tablet) {
        self.tablets.retain(|t| !t.overlaps(&tablet));
        let i = self
            .tablets
            .partition_point(|t| t.last_token < tablet.last_token);
        self.tablets.insert(i, tablet);
    }

    /// The tablets, sorted.
    // Used by the tests and benches (the `unstable` feature).
    #[cfg_attr(not(feature = "unstable"), allow(dead_code))]
    pub fn tablets(&self) -> &[Tablet] {
        &self.tablets
    }
}

type Tables = AHashMap<String, AHashMap<String, Arc<TableTablets>>>;

/// Tablets learned so far, per keyspace and table. Reads take no lock; learning copies the
/// affected table (rare: only after a request reached a wrong replica).
#[derive(Debug, Default)]
pub struct TabletStore {
    tables: ArcSwap<Tables>,
}

/// A read guard on the learned tablets.
pub type TabletsGuard = arc_swap::Guard<Arc<Tables>>;

impl TabletStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads the current tablets (no lock, no allocation).
    pub fn load(&self) -> TabletsGuard {
        self.tables.load()
    }

    /// The tablets of `keyspace.table` in a loaded guard.
    // Used by the tests and benches (the `unstable` feature).
    #[cfg_attr(not(feature = "unstable"), allow(dead_code))]
    pub fn table<'g>(
        guard: &'g TabletsGuard,
        keyspace: &str,
        table: &str,
    ) -> Option<&'g TableTablets> {
        guard.get(keyspace)?.get(table).map(|t| &**t)
    }

    /// Records `tablet` for `keyspace.table`.
    pub fn learn(&self, keyspace: &str, table: &str, tablet: Tablet) {
        self.tables.rcu(|current| {
            let mut next: Tables = (**current).clone();
            let tables = next.entry(keyspace.to_owned()).or_default();
            let mut t = tables.get(table).map(|t| (**t).clone()).unwrap_or_default();
            t.insert(tablet.clone());
            tables.insert(table.to_owned(), Arc::new(t));
            next
        });
    }

    /// Decodes a `tablets-routing-v1` payload value and records it.
    pub fn learn_payload(
        &self,
        keyspace: &str,
        table: &str,
        payload: &[u8],
    ) -> Result<(), TabletPayloadError> {
        let tablet = decode_tablet_payload(payload)?;
        self.learn(keyspace, table, tablet);
        Ok(())
    }

    /// Forgets every tablet of `keyspace` (after it was dropped or altered).
    pub fn forget_keyspace(&self, keyspace: &str) {
        self.tables.rcu(|current| {
            let mut next: Tables = (**current).clone();
            next.remove(keyspace);
            next
        });
    }
}
