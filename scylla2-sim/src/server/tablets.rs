//! The cluster's tablet API (ScyllaDB mode): where the tablet of a token lives, and
//! simulated migrations. Placement itself is the engine's (`engine::tablets`); answers carry
//! `tablets-routing-v1` payloads from the request handler.

use super::cluster::{Cluster, StartError};
use crate::engine::murmur3_token;
use crate::engine::tablets::{TabletInfo, TabletReplica};

impl Cluster {
    /// The tablet holding `token` in `keyspace.table`, when the keyspace was created
    /// `WITH tablets = {'enabled': true}` (ScyllaDB mode); replicas name nodes by index.
    pub fn tablet(&self, keyspace: &str, table: &str, token: i64) -> Option<TabletInfo> {
        let infos = self.shared.infos.load();
        self.shared.engine.tablet(keyspace, table, token, &infos)
    }

    /// The Murmur3 token of a serialized partition key (one column: its value bytes).
    pub fn token_of(partition_key: &[u8]) -> i64 {
        murmur3_token(partition_key)
    }

    /// Simulates a finished tablet migration: the tablet holding `token` in
    /// `keyspace.table` now lives on `replicas`, given as (node index, shard). Requests that
    /// reach another node or shard are answered with the new placement in their
    /// `tablets-routing-v1` payload, as ScyllaDB does after a migration.
    ///
    /// ```no_run
    /// # async fn demo(cluster: scylla2_sim::Cluster) -> Result<(), scylla2_sim::StartError> {
    /// let token = scylla2_sim::Cluster::token_of(&7i32.to_be_bytes());
    /// cluster.move_tablet("ks", "t", token, &[(2, 1)])?; // node 2, shard 1
    /// # Ok(())
    /// # }
    /// ```
    pub fn move_tablet(
        &self,
        keyspace: &str,
        table: &str,
        token: i64,
        replicas: &[(usize, u32)],
    ) -> Result<(), StartError> {
        let mut moved = Vec::with_capacity(replicas.len());
        for &(node, shard) in replicas {
            let n = self.get(node)?;
            if shard >= n.shards.max(1) {
                return Err(StartError::Config("no such shard"));
            }
            moved.push(TabletReplica { node, shard });
        }
        let infos = self.shared.infos.load();
        self.shared
            .engine
            .move_tablet(keyspace, table, token, moved, &infos)
            .map_err(|e| StartError::Tablet(e.to_string()))
    }
}
