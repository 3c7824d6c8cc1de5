//! The prepared-statement cache: [`CachingSession`] prepares each query text once and keeps
//! the statement, so that executing by text costs one PREPARE per text (per node, as
//! [`Session::prepare`] does) and then only EXECUTEs.
//!
//! The cache is bounded (clock eviction: a hit sets the entry's reference bit, an insertion
//! into a full cache sweeps the ring, clearing bits, and evicts the first entry without one),
//! and safe under concurrency: concurrent first uses of one text share one preparation
//! (single-flight through a per-entry `OnceCell`). A hit takes a read lock, hashes the
//! borrowed `&str` (ahash) and clones an `Arc`: it does not allocate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use scylla2_cql::value::SerializeRow;

use super::Session;
use crate::error::{ExecuteError, ExecutionError};
use crate::result::QueryResult;
use crate::statement::PreparedStatement;

/// The default number of statements a [`CachingSession`] keeps.
pub const DEFAULT_CACHE_CAPACITY: usize = 512;

/// One cached text: its statement once prepared, and the clock's reference bit.
#[derive(Debug, Default)]
struct Entry {
    statement: tokio::sync::OnceCell<Arc<PreparedStatement>>,
    referenced: AtomicBool,
}

#[derive(Debug)]
struct Cache {
    map: HashMap<Arc<str>, Arc<Entry>, ahash::RandomState>,
    /// The keys in clock order; `hand` is the next one the sweep looks at.
    ring: Vec<Arc<str>>,
    hand: usize,
}

impl Cache {
    /// A new entry for `key`, being prepared: in the map (so that concurrent callers find
    /// it), not yet in the ring (a failed preparation evicts nothing).
    fn insert_pending(&mut self, key: &str) -> Arc<Entry> {
        let entry = Arc::new(Entry::default());
        self.map.insert(Arc::from(key), entry.clone());
        entry
    }

    /// `entry`, now prepared, joins the ring, evicting one entry first when the ring holds
    /// `capacity` already; nothing when `key` was removed or replaced meanwhile.
    fn admit(&mut self, key: &str, entry: &Arc<Entry>, capacity: usize) {
        let Some((key, current)) = self.map.get_key_value(key) else {
            return;
        };
        if !Arc::ptr_eq(current, entry) {
            return;
        }
        let key = key.clone();
        if self.ring.len() < capacity {
            self.ring.push(key);
        } else {
            let slot = self.victim();
            if let Some(old) = self.ring.get_mut(slot) {
                self.map.remove(&**old);
                *old = key;
            }
        }
    }

    /// The ring slot to evict: the first (from the hand) whose entry was not referenced
    /// since the last sweep (a sweep clears the bits it passes, so two turns always find
    /// one).
    fn victim(&mut self) -> usize {
        let len = self.ring.len();
        for _ in 0..2 * len {
            let slot = self.hand % len;
            self.hand = (slot + 1) % len;
            let evictable = match self.map.get(&*self.ring[slot]) {
                Some(entry) => !entry.referenced.swap(false, Ordering::Relaxed),
                None => true,
            };
            if evictable {
                return slot;
            }
        }
        let slot = self.hand % len;
        self.hand = (slot + 1) % len;
        slot
    }

    /// Removes `key` if it still maps to `entry` (a failed preparation, or `remove`).
    fn remove_if(&mut self, key: &str, entry: &Arc<Entry>) {
        if self.map.get(key).is_some_and(|e| Arc::ptr_eq(e, entry)) {
            self.map.remove(key);
            if let Some(pos) = self.ring.iter().position(|k| &**k == key) {
                self.ring.swap_remove(pos);
                if self.hand >= self.ring.len() {
                    self.hand = 0;
                }
            }
        }
    }
}

/// A [`Session`] that prepares statements by query text on first use and executes the cached
/// prepared statement afterwards: the official driver's `CachingSession`.
///
/// Cheap to clone: clones share the session and the cache. At most
/// [`capacity`](Self::capacity) texts are kept; the least recently used ones (by clock
/// approximation) are evicted first.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).start().await?;
/// # let session = scylla2::Session::builder().contact_point(sim.contact_points()[0].to_string()).connect().await?;
/// session.execute("CREATE KEYSPACE ks WITH replication = \
///     {'class': 'SimpleStrategy', 'replication_factor': 1}", ()).await?;
/// use scylla2::CachingSession;
///
/// session.execute("CREATE TABLE ks.t (id int PRIMARY KEY, v text)", ()).await?;
/// let cached = CachingSession::new(session, 1024);
/// for id in 0..10i32 {
///     // Prepared on the first iteration only; the others execute the cached statement.
///     cached
///         .execute("INSERT INTO ks.t (id, v) VALUES (?, ?)", (id, "value"))
///         .await?;
/// }
/// assert_eq!(cached.preparations(), 1);
/// assert!(cached.cached("INSERT INTO ks.t (id, v) VALUES (?, ?)").is_some());
/// let count = cached.session().execute("SELECT id FROM ks.t", ()).await?.rows_num();
/// assert_eq!(count, 10);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CachingSession {
    session: Session,
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    cache: RwLock<Cache>,
    capacity: usize,
    /// Preparations completed (misses that prepared).
    prepared: AtomicU64,
}

impl CachingSession {
    /// A cache of at most `capacity` statements (at least 1) over `session`.
    pub fn new(session: Session, capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            session,
            shared: Arc::new(Shared {
                cache: RwLock::new(Cache {
                    map: HashMap::with_capacity_and_hasher(capacity, ahash::RandomState::new()),
                    ring: Vec::with_capacity(capacity),
                    hand: 0,
                }),
                capacity,
                prepared: AtomicU64::new(0),
            }),
        }
    }

    /// The session executions go through.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// How many statements the cache keeps at most.
    pub fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// How many texts the cache holds now: at most [`capacity`](Self::capacity) prepared
    /// ones, plus those being prepared.
    pub fn len(&self) -> usize {
        self.read().map.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many preparations this cache made so far (each miss that prepared counts once,
    /// however many nodes the statement was prepared on).
    pub fn preparations(&self) -> u64 {
        self.shared.prepared.load(Ordering::Relaxed)
    }

    /// The prepared statement cached for `query`, if any; never prepares. Does not
    /// allocate.
    pub fn cached(&self, query: &str) -> Option<Arc<PreparedStatement>> {
        let cache = self.read();
        let entry = cache.map.get(query)?;
        entry.referenced.store(true, Ordering::Relaxed);
        entry.statement.get().cloned()
    }

    /// The prepared statement for `query`: the cached one, or prepared now (once, however
    /// many callers ask for the same text concurrently) and cached.
    pub async fn prepare(&self, query: &str) -> Result<Arc<PreparedStatement>, ExecutionError> {
        let entry = {
            let cache = self.read();
            match cache.map.get(query) {
                Some(entry) => {
                    entry.referenced.store(true, Ordering::Relaxed);
                    if let Some(statement) = entry.statement.get() {
                        return Ok(statement.clone());
                    }
                    entry.clone()
                }
                None => {
                    drop(cache);
                    self.entry_for(query)
                }
            }
        };
        // Boxed: only on a miss (or while another caller prepares the same text).
        let prepared = Box::pin(entry.statement.get_or_try_init(|| async {
            let statement = self.session.prepare(query).await?;
            self.shared.prepared.fetch_add(1, Ordering::Relaxed);
            self.write().admit(query, &entry, self.shared.capacity);
            Ok::<_, ExecutionError>(Arc::new(statement))
        }))
        .await;
        match prepared {
            Ok(statement) => Ok(statement.clone()),
            Err(e) => {
                // Errors are not cached: the next use of the text tries again.
                if !entry.statement.initialized() {
                    self.write().remove_if(query, &entry);
                }
                Err(e)
            }
        }
    }

    /// Runs `query` with `values` as a prepared statement, preparing it on first use (see
    /// [`prepare`](Self::prepare)); otherwise as [`Session::execute`].
    pub async fn execute<V>(&self, query: &str, values: V) -> Result<QueryResult, ExecuteError>
    where
        V: SerializeRow + Sync,
    {
        let statement = self.prepare(query).await?;
        self.session.execute(&*statement, values).await
    }

    /// Forgets `query`'s statement; returns whether it was cached.
    pub fn remove(&self, query: &str) -> bool {
        let mut cache = self.write();
        match cache.map.get(query).cloned() {
            Some(entry) => {
                cache.remove_if(query, &entry);
                true
            }
            None => false,
        }
    }

    /// Forgets every statement.
    pub fn clear(&self) {
        let mut cache = self.write();
        cache.map.clear();
        cache.ring.clear();
        cache.hand = 0;
    }

    /// The entry of `query`, inserted if still absent (another caller may have inserted it
    /// between the read and the write lock).
    fn entry_for(&self, query: &str) -> Arc<Entry> {
        let mut cache = self.write();
        if let Some(entry) = cache.map.get(query) {
            entry.referenced.store(true, Ordering::Relaxed);
            return entry.clone();
        }
        cache.insert_pending(query)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cache> {
        // A panic while holding the lock leaves the map consistent (every mutation is one
        // std call), so a poisoned lock is still usable.
        self.shared
            .cache
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Cache> {
        self.shared
            .cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl From<Session> for CachingSession {
    /// A cache of [`DEFAULT_CACHE_CAPACITY`] statements over `session`.
    fn from(session: Session) -> Self {
        Self::new(session, DEFAULT_CACHE_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> Cache {
        Cache {
            map: HashMap::with_hasher(ahash::RandomState::new()),
            ring: Vec::new(),
            hand: 0,
        }
    }

    fn ready(entry: &Arc<Entry>) {
        // An initialized cell stands for a prepared statement; the value is never read here.
        let _ = entry.statement.set(Arc::new(fake_statement()));
    }

    fn fake_statement() -> PreparedStatement {
        use scylla2_cql::response::{PreparedMetadata, ResultMetadata};
        use scylla2_cql::wire::WireReader;
        // No_metadata, no columns.
        let body = bytes::Bytes::from_static(&[0, 0, 0, 4, 0, 0, 0, 0]);
        let result = ResultMetadata::decode(&mut WireReader::new(&body), &body).unwrap();
        PreparedStatement::new(
            "SELECT 1",
            scylla2_cql::response::Prepared {
                id: bytes::Bytes::from_static(b"id"),
                result_metadata_id: None,
                bind: PreparedMetadata {
                    flags: 0,
                    pk_indexes: Vec::new(),
                    global_table_spec: None,
                    columns: Vec::new(),
                },
                result,
                is_lwt: false,
            },
        )
    }

    fn add(c: &mut Cache, key: &str, capacity: usize) -> Arc<Entry> {
        let e = c.insert_pending(key);
        ready(&e);
        c.admit(key, &e, capacity);
        e
    }

    #[test]
    fn eviction_keeps_the_bound_and_spares_referenced_entries() {
        let mut c = cache();
        for key in ["a", "b", "c"] {
            add(&mut c, key, 3);
        }
        // "a" is used again: the sweep clears its bit and evicts "b" instead.
        c.map["a"].referenced.store(true, Ordering::Relaxed);
        add(&mut c, "d", 3);
        assert_eq!(c.map.len(), 3);
        assert!(c.map.contains_key("a") && !c.map.contains_key("b"));
        assert!(c.map.contains_key("c") && c.map.contains_key("d"));
        assert_eq!(c.ring.len(), 3);
        // Every entry referenced: the sweep clears them all and evicts under the hand.
        for e in c.map.values() {
            e.referenced.store(true, Ordering::Relaxed);
        }
        add(&mut c, "e", 3);
        assert_eq!((c.map.len(), c.ring.len()), (3, 3));
    }

    #[test]
    fn an_entry_being_prepared_evicts_nothing() {
        let mut c = cache();
        add(&mut c, "done", 1);
        let pending = c.insert_pending("pending");
        assert!(c.map.contains_key("done") && c.ring.len() == 1);
        // It fails: removed, and "done" stays.
        c.remove_if("pending", &pending);
        assert_eq!(c.map.len(), 1);
        assert!(c.map.contains_key("done"));
    }

    #[test]
    fn a_failed_entry_is_removed_only_if_still_the_same() {
        let mut c = cache();
        let first = c.insert_pending("q");
        c.remove_if("q", &first);
        assert!(c.map.is_empty() && c.ring.is_empty());
        let second = add(&mut c, "q", 4);
        c.remove_if("q", &first);
        assert!(c.map.get("q").is_some_and(|e| Arc::ptr_eq(e, &second)));
        // A replaced entry is not admitted.
        c.admit("q", &first, 4);
        assert_eq!(c.ring.len(), 1);
    }
}
