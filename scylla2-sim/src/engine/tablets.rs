//! Tablets (ScyllaDB mode): the token ranges of each table of a keyspace created
//! `WITH tablets = {'enabled': true}`, each with its replicas as (node, shard).
//!
//! Like ScyllaDB's `locator::tablet_map`, a table has a power-of-two number of tablets that
//! split the token space evenly (`dht::last_token_of_compaction_group`): tablet `i` of `2^k`
//! holds the tokens `(last(i - 1), last(i)]`, the first one starting at the minimum token.
//! Maps are made when a table is first used, from the nodes of that moment, and change only
//! through [`Engine::move_tablet`](super::Engine::move_tablet) (a simulated migration).

use std::collections::HashMap;
use std::sync::Arc;

use super::ring::Replication;
use crate::model::{NodeInfo, SimError};

/// One replica of a tablet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TabletReplica {
    /// Index of the node ([`NodeInfo::index`]).
    pub node: usize,
    /// Shard on that node.
    pub shard: u32,
}

/// The tablets of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabletMap {
    /// Last token (inclusive) of each tablet, ascending; the last one is `i64::MAX`.
    last_tokens: Vec<i64>,
    /// Replicas of each tablet.
    replicas: Vec<Vec<TabletReplica>>,
}

/// A tablet as the `tablets-routing-v1` payload describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabletInfo {
    /// First token, exclusive (`i64::MIN` for the first tablet).
    pub first_token: i64,
    /// Last token, inclusive.
    pub last_token: i64,
    /// Replicas.
    pub replicas: Vec<TabletReplica>,
}

/// The tablet count ScyllaDB would use: `initial` rounded up to a power of two (at least 1).
pub fn tablet_count(initial: usize) -> usize {
    initial.max(1).next_power_of_two()
}

/// Last token of tablet `i` of `2^bits` (ScyllaDB's `last_token_of_compaction_group`: the
/// unsigned token space split evenly, then biased back to signed tokens).
fn last_token(bits: u32, i: usize) -> i64 {
    let count = 1u128 << bits;
    let unsigned = if i as u128 + 1 >= count {
        u64::MAX
    } else {
        (((i as u128 + 1) << (64 - bits)) - 1) as u64
    };
    unsigned.wrapping_sub(1 << 63) as i64
}

impl TabletMap {
    /// `count` tablets (a power of two) over `nodes`, replicated as `replication` says:
    /// tablet `i`'s replicas are consecutive nodes (by position, per data center) starting at
    /// node `i mod n`, on shard `(i / n) mod shards`, so tablets spread over nodes and shards.
    pub fn new(count: usize, replication: &Replication, nodes: &[NodeInfo]) -> Self {
        let count = tablet_count(count);
        let bits = count.trailing_zeros();
        let last_tokens = (0..count).map(|i| last_token(bits, i)).collect();
        let replicas = (0..count).map(|i| place(i, replication, nodes)).collect();
        TabletMap {
            last_tokens,
            replicas,
        }
    }

    /// Number of tablets.
    pub fn len(&self) -> usize {
        self.last_tokens.len()
    }

    /// Index of the tablet holding `token`.
    pub fn tablet_of(&self, token: i64) -> usize {
        self.last_tokens
            .partition_point(|last| *last < token)
            .min(self.len().saturating_sub(1))
    }

    /// The tablet holding `token`, with its range and replicas.
    pub fn info(&self, token: i64) -> TabletInfo {
        let i = self.tablet_of(token);
        TabletInfo {
            first_token: if i == 0 {
                i64::MIN
            } else {
                self.last_tokens[i - 1]
            },
            last_token: self.last_tokens[i],
            replicas: self.replicas[i].clone(),
        }
    }

    fn set_replicas(&mut self, token: i64, replicas: Vec<TabletReplica>) {
        let i = self.tablet_of(token);
        self.replicas[i] = replicas;
    }
}

fn place(i: usize, replication: &Replication, nodes: &[NodeInfo]) -> Vec<TabletReplica> {
    let n = nodes.len();
    if n == 0 {
        return Vec::new();
    }
    let shard_of = |node: &NodeInfo| ((i / n) % node.shards.max(1) as usize) as u32;
    let walk = |filter: &dyn Fn(&NodeInfo) -> bool, rf: usize| -> Vec<TabletReplica> {
        (0..n)
            .map(|k| &nodes[(i + k) % n])
            .filter(|node| filter(node))
            .take(rf)
            .map(|node| TabletReplica {
                node: node.index,
                shard: shard_of(node),
            })
            .collect()
    };
    match replication {
        Replication::Local => walk(&|_| true, 1),
        Replication::Simple(rf) => walk(&|_| true, *rf),
        Replication::NetworkTopology(dcs) => {
            let mut out = Vec::new();
            let mut seen: Vec<&str> = Vec::new();
            for node in nodes {
                let dc = node.datacenter.as_str();
                if seen.contains(&dc) {
                    continue;
                }
                seen.push(dc);
                let rf = dcs
                    .iter()
                    .find(|(d, _)| d == dc)
                    .or_else(|| dcs.iter().find(|(d, _)| d == "*"))
                    .map_or(0, |(_, rf)| *rf);
                out.extend(walk(&|m: &NodeInfo| m.datacenter == dc, rf));
            }
            out
        }
    }
}

/// Every table's tablet map, by keyspace then table (looked up by `&str`: no allocation
/// on the request path once a map exists).
#[derive(Debug, Default)]
pub(crate) struct Tablets {
    maps: HashMap<String, HashMap<String, Arc<TabletMap>>>,
}

impl Tablets {
    /// The map of a table, made with `make` when missing (allocates the names: not on the
    /// path of an existing map).
    fn entry(
        &mut self,
        keyspace: &str,
        table: &str,
        make: impl FnOnce() -> TabletMap,
    ) -> &mut Arc<TabletMap> {
        self.maps
            .entry(keyspace.to_string())
            .or_default()
            .entry(table.to_string())
            .or_insert_with(|| Arc::new(make()))
    }

    /// The map of a table, made on first use with `make`.
    pub(crate) fn get_or_make(
        &mut self,
        keyspace: &str,
        table: &str,
        make: impl FnOnce() -> TabletMap,
    ) -> Arc<TabletMap> {
        if let Some(map) = self.maps.get(keyspace).and_then(|t| t.get(table)) {
            return map.clone();
        }
        self.entry(keyspace, table, make).clone()
    }

    /// Replaces the replicas of the tablet of `token`.
    pub(crate) fn move_tablet(
        &mut self,
        keyspace: &str,
        table: &str,
        token: i64,
        replicas: Vec<TabletReplica>,
        make: impl FnOnce() -> TabletMap,
    ) {
        Arc::make_mut(self.entry(keyspace, table, make)).set_replicas(token, replicas);
    }

    /// Forgets the maps of tables `exists` says are gone (dropped tables and keyspaces).
    pub(crate) fn retain(&mut self, exists: impl Fn(&str, &str) -> bool) {
        for (ks, tables) in &mut self.maps {
            tables.retain(|t, _| exists(ks, t));
        }
        self.maps.retain(|_, tables| !tables.is_empty());
    }
}

/// The `tablets` keyspace option: `Some(initial count)` when tablets are enabled.
///
/// ScyllaDB's `ks_prop_defs::get_initial_tablets`: `tablets = {'enabled': bool,
/// 'initial': N}`; bad values and other keys are configuration errors worded as there.
pub(crate) fn parse_option(entries: &[(String, String)]) -> Result<Option<usize>, SimError> {
    let mut enabled = true;
    let mut initial = None;
    for (k, v) in entries {
        match k.as_str() {
            "enabled" => {
                enabled = match v.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(SimError::ConfigError(format!(
                            "Tablets enabled value must be true or false; found: {v}"
                        )));
                    }
                }
            }
            "initial" => {
                let n = v.parse::<usize>().map_err(|_| {
                    SimError::ConfigError(format!(
                        "Initial tablets value should be numeric; found {v}"
                    ))
                })?;
                initial = Some(n);
            }
            other => {
                return Err(SimError::ConfigError(format!(
                    "Unrecognized tablets option {other}"
                )));
            }
        }
    }
    Ok(enabled.then_some(initial.unwrap_or(0)))
}

/// Where a token lives ([`super::Engine::home`]).
#[derive(Debug, Clone)]
pub enum Home {
    /// A tablet keyspace: the token's tablet.
    Tablet(TabletInfo),
    /// A vnode keyspace: its replication (replicas from the ring).
    Replicas(Replication),
}

/// Makes a table's tablet map: `initial` tablets (0: one per shard of the cluster, rounded up
/// to a power of two).
fn maker(
    initial: usize,
    replication: Replication,
    nodes: &[NodeInfo],
) -> impl FnOnce() -> TabletMap + '_ {
    move || {
        let count = if initial == 0 {
            nodes.iter().map(|n| n.shards.max(1) as usize).sum()
        } else {
            initial
        };
        TabletMap::new(count, &replication, nodes)
    }
}

impl super::Engine {
    /// Whether the engine answers as ScyllaDB (set by a cluster with shards).
    pub fn scylla_mode(&self) -> bool {
        self.inner.scylla.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Answers as ScyllaDB (`true`) or Apache Cassandra (`false`, the default): the `tablets`
    /// keyspace option, and the system keyspaces of that server (replaced).
    pub fn set_scylla_mode(&self, scylla: bool) {
        self.inner
            .scylla
            .store(scylla, std::sync::atomic::Ordering::Relaxed);
        let mut schema = self.schema_write();
        schema.flavor = if scylla {
            crate::model::Flavor::Scylla
        } else {
            crate::model::Flavor::Cassandra
        };
        schema
            .keyspaces
            .retain(|name, _| !super::system::is_system_keyspace(name));
        for ks in super::system::system_keyspaces(scylla) {
            schema.keyspaces.insert(ks.name.to_string(), ks);
        }
        drop(schema);
        self.clear_query_cache();
    }

    fn tablet_state(&self) -> std::sync::MutexGuard<'_, Tablets> {
        self.inner.tablets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The tablet map of a table maker, when its keyspace uses tablets: `initial` tablets
    /// (0: one per shard of the cluster, rounded up to a power of two).
    fn tablet_maker<'n>(
        &self,
        keyspace: &str,
        nodes: &'n [NodeInfo],
    ) -> Option<impl FnOnce() -> TabletMap + 'n> {
        let schema = self.schema_read();
        let ks = schema.keyspaces.get(keyspace)?;
        let initial = ks.tablets?;
        let replication = ks.replication.clone();
        drop(schema);
        Some(maker(initial, replication, nodes))
    }

    /// Where `token` of `keyspace.table` lives as the per-shard statistics see it: its tablet
    /// when the keyspace uses tablets, else the keyspace's replication (None: an unknown
    /// keyspace); read under one lock of the schema, as every request asks.
    pub fn home(
        &self,
        keyspace: &str,
        table: &str,
        token: i64,
        nodes: &[NodeInfo],
    ) -> Option<Home> {
        let schema = self.schema_read();
        let ks = schema.keyspaces.get(keyspace)?;
        let replication = ks.replication.clone();
        let Some(initial) = ks.tablets else {
            return Some(Home::Replicas(replication));
        };
        drop(schema);
        let map =
            self.tablet_state()
                .get_or_make(keyspace, table, maker(initial, replication, nodes));
        Some(Home::Tablet(map.info(token)))
    }

    /// The tablet of `token` in `keyspace.table`, when the keyspace uses tablets.
    pub fn tablet(
        &self,
        keyspace: &str,
        table: &str,
        token: i64,
        nodes: &[NodeInfo],
    ) -> Option<TabletInfo> {
        match self.home(keyspace, table, token, nodes)? {
            Home::Tablet(tablet) => Some(tablet),
            Home::Replicas(_) => None,
        }
    }

    /// Moves the tablet of `token` in `keyspace.table` to `replicas` (a finished migration).
    pub fn move_tablet(
        &self,
        keyspace: &str,
        table: &str,
        token: i64,
        replicas: Vec<TabletReplica>,
        nodes: &[NodeInfo],
    ) -> Result<(), SimError> {
        self.schema_read().table(keyspace, table)?;
        let make = self.tablet_maker(keyspace, nodes).ok_or_else(|| {
            SimError::Invalid(format!("Keyspace {keyspace} does not use tablets"))
        })?;
        self.tablet_state()
            .move_tablet(keyspace, table, token, replicas, make);
        Ok(())
    }

    /// Forgets the tablet maps of dropped tables (after DDL).
    pub(crate) fn forget_dropped_tablets(&self) {
        let schema = self.schema_read();
        self.tablet_state().retain(|ks, t| {
            schema
                .keyspaces
                .get(ks)
                .is_some_and(|k| k.tablets.is_some() && k.tables.contains_key(t))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_the_ring_evenly() {
        assert_eq!(last_token(0, 0), i64::MAX);
        assert_eq!(last_token(1, 0), -1);
        assert_eq!(last_token(1, 1), i64::MAX);
        assert_eq!(last_token(2, 0), i64::MIN / 2 - 1);
        assert_eq!(tablet_count(0), 1);
        assert_eq!(tablet_count(5), 8);
    }
}
