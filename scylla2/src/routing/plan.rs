//! Query plans: the nodes (and shards) to try for one request, in order.
//!
//! With a token: the replicas from the snapshot's precomputed table (or the table's tablet),
//! class by class (preferred-rack local, local, remote), rotated within each class by a
//! per-thread counter — or in placement order for LWT statements — then every other
//! non-ignored node as fallback, class by class. Without a token: non-ignored nodes, local
//! ones first, rotated. Building and iterating a plan allocates nothing and takes no lock.

use std::cell::Cell;

use super::Token;
use super::distance::PLAN_CLASSES;
use super::sharding::Shard;
use super::snapshot::{KeyspaceSlot, TopologySnapshot};
use super::tablets::{TableTablets, TabletReplica};

/// What a request tells routing about itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct RoutingInfo<'a> {
    /// Token of the partition key, when known.
    pub token: Option<Token>,
    /// Keyspace of the statement, when known.
    pub keyspace: Option<&'a str>,
    /// Table of the statement, when known (tablets are kept per table).
    pub table: Option<&'a str>,
    /// Whether the statement is a conditional (LWT) one: replicas in placement order.
    pub is_lwt: bool,
    /// The statement's memo of where its keyspace is in the routing snapshot (prepared
    /// statements keep one; `None` looks the keyspace's name up every time). One slot per
    /// keyspace name: it is keyed by the snapshot only.
    pub keyspace_slot: Option<&'a KeyspaceSlot>,
}

/// One step of a plan: a node (index into [`TopologySnapshot::nodes`]) and, when known, the
/// shard the request should go to on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Node index in the snapshot.
    pub node: u32,
    /// Shard owning the token on that node (Scylla nodes with a token only).
    pub shard: Option<Shard>,
}

/// A query plan, see the module documentation.
#[derive(Debug, Clone)]
pub struct QueryPlan<'a> {
    snap: &'a TopologySnapshot,
    /// Ring replicas, classes in plan order, class `c` ending at `replica_ends[c]` (empty
    /// when a tablet holds the token).
    replicas: &'a [u32],
    replica_ends: [u16; PLAN_CLASSES],
    /// The replicas of the tablet holding the token, if any.
    tablet: Option<&'a [TabletReplica]>,
    token: Option<Token>,
    /// The plan's rotation: a stage of `len` targets starts at `rotation * len >> 32` (a
    /// multiplication instead of a division per stage).
    rotation: u32,
    lwt: bool,
    /// Next stage to enter: 0..3 replica classes, 3..6 fallback classes.
    next_stage: u8,
    /// Whether the current stage walks the tablet's replicas of class `next_stage - 1`.
    tablet_stage: bool,
    /// Whether the current stage is a fallback one (replicas are skipped there).
    fallback: bool,
    /// Offset of the current stage in `replicas` (replica stages) or in the snapshot's
    /// class nodes (fallback stages).
    offset: u32,
    /// Length of the current stage.
    len: u32,
    /// Targets of the current stage already produced.
    index: u32,
    /// Where the current stage starts (its rotation; 0 for LWT replicas).
    start: u32,
    /// Bit `n` set for every replica node `n < 64` (filled on entering the fallback).
    replica_mask: u64,
}

const STAGES: u8 = 2 * PLAN_CLASSES as u8;

impl<'a> QueryPlan<'a> {
    /// A plan over `snap` for a request; `tablets` are the learned tablets of the request's
    /// table, if any (used when one holds the token).
    #[inline]
    pub fn new(
        snap: &'a TopologySnapshot,
        info: &RoutingInfo<'_>,
        tablets: Option<&'a TableTablets>,
    ) -> Self {
        let tablet = match (info.token, tablets) {
            (Some(t), Some(tabs)) => tabs.find(t).map(|t| t.replicas.as_slice()),
            _ => None,
        };
        let (replicas, replica_ends) = match (tablet, info.token, info.keyspace) {
            (None, Some(token), Some(ks)) => snap.replica_range_with(ks, info.keyspace_slot, token),
            _ => (&[] as &[u32], [0; PLAN_CLASSES]),
        };
        let rotation = next_rotation();
        let mut plan = Self {
            snap,
            replicas,
            replica_ends,
            tablet,
            token: info.token,
            rotation,
            lwt: info.is_lwt,
            next_stage: 0,
            tablet_stage: false,
            fallback: false,
            offset: 0,
            len: 0,
            index: 0,
            start: 0,
            replica_mask: 0,
        };
        // The first stage (the ring replicas of the first non-empty class) entered here, as
        // `enter_next_stage` would: most plans end in it, and entering it inline saves the
        // call and the stage loop.
        if tablet.is_none() {
            let mut begin = 0;
            for (class, &end) in replica_ends.iter().enumerate() {
                if end > begin {
                    plan.next_stage = class as u8 + 1;
                    plan.offset = u32::from(begin);
                    plan.len = u32::from(end - begin);
                    plan.start = plan.stage_start(true, plan.len);
                    break;
                }
                begin = end;
            }
        }
        plan
    }

    /// Where a stage of `len` targets starts: its rotation, or 0 for LWT replicas.
    #[inline]
    fn stage_start(&self, replica_stage: bool, len: u32) -> u32 {
        if replica_stage && self.lwt {
            0
        } else {
            // `rotation < 2^32`, so `rotation * len >> 32 < len`.
            ((u64::from(self.rotation) * u64::from(len)) >> 32) as u32
        }
    }

    /// Enters the next non-empty stage; false when none is left.
    fn enter_next_stage(&mut self) -> bool {
        while self.next_stage < STAGES {
            let stage = usize::from(self.next_stage);
            self.next_stage += 1;
            self.index = 0;
            let replica_stage = stage < PLAN_CLASSES;
            let (offset, end) = if replica_stage {
                match self.tablet {
                    Some(t) => {
                        self.tablet_stage = true;
                        let n = t
                            .iter()
                            .filter(|r| self.tablet_class(r) == Some(stage))
                            .count();
                        (0, n)
                    }
                    None => {
                        let a = if stage == 0 {
                            0
                        } else {
                            self.replica_ends[stage - 1]
                        };
                        (usize::from(a), usize::from(self.replica_ends[stage]))
                    }
                }
            } else {
                if !self.fallback {
                    self.fallback = true;
                    self.tablet_stage = false;
                    self.replica_mask = self.replica_mask();
                }
                let c = stage - PLAN_CLASSES;
                let (_, ends) = self.snap.class_nodes_all();
                (if c == 0 { 0 } else { ends[c - 1] }, ends[c])
            };
            let len = end.saturating_sub(offset);
            if len == 0 {
                continue;
            }
            // Plans never hold more than u32::MAX targets (node indexes are u32).
            self.offset = offset as u32;
            self.len = len as u32;
            self.start = self.stage_start(replica_stage, len as u32);
            return true;
        }
        false
    }

    fn tablet_class(&self, r: &TabletReplica) -> Option<usize> {
        let node = self.snap.node_by_host_id(&r.host_id)?;
        Some(usize::from(self.snap.class_of(node)))
    }

    /// The replica nodes below 64 as a bit set.
    fn replica_mask(&self) -> u64 {
        let bit = |n: u32| if n < 64 { 1u64 << n } else { 0 };
        match self.tablet {
            Some(t) => t
                .iter()
                .filter_map(|r| self.snap.node_by_host_id(&r.host_id))
                .fold(0, |m, n| m | bit(n)),
            None => self.replicas.iter().fold(0, |m, &n| m | bit(n)),
        }
    }

    #[inline]
    fn is_replica(&self, node: u32) -> bool {
        if node < 64 {
            return self.replica_mask & (1 << node) != 0;
        }
        match self.tablet {
            Some(t) => t
                .iter()
                .any(|r| self.snap.node_by_host_id(&r.host_id) == Some(node)),
            None => self.replicas.contains(&node),
        }
    }

    #[inline]
    fn token_shard(&self, node: u32) -> Option<Shard> {
        let token = self.token?;
        Some(self.snap.sharder(node)?.shard_of(token))
    }

    /// The `k`-th replica of the tablet in the current stage's class.
    #[cold]
    fn tablet_replica(&self, k: usize) -> Option<Target> {
        let class = usize::from(self.next_stage) - 1;
        let r = self
            .tablet?
            .iter()
            .filter(|r| self.tablet_class(r) == Some(class))
            .nth(k)?;
        let node = self.snap.node_by_host_id(&r.host_id)?;
        Some(Target {
            node,
            shard: Some(r.shard),
        })
    }
}

/// The next rotation of this thread's plans: a per-thread counter (spreading plans over
/// the replicas as evenly as a shared one, without a contended atomic per request) mapped
/// to 32 bits by Fibonacci hashing — the fractional parts of multiples of the golden ratio
/// are evenly spread, so consecutive plans start on different targets of every stage.
#[inline]
fn next_rotation() -> u32 {
    thread_local! {
        static ROTATION: Cell<u64> = const { Cell::new(0) };
    }
    let counter = ROTATION.with(|r| {
        let v = r.get();
        r.set(v.wrapping_add(1));
        v
    });
    (counter.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
}

impl Iterator for QueryPlan<'_> {
    type Item = Target;

    #[inline]
    fn next(&mut self) -> Option<Target> {
        loop {
            while self.index < self.len {
                let k = self.start + self.index;
                let k = if k >= self.len { k - self.len } else { k };
                self.index += 1;
                if self.tablet_stage {
                    if let Some(target) = self.tablet_replica(k as usize) {
                        return Some(target);
                    }
                    continue;
                }
                let nodes = if self.fallback {
                    self.snap.class_nodes_all().0
                } else {
                    self.replicas
                };
                let Some(&node) = nodes.get((self.offset + k) as usize) else {
                    continue;
                };
                if self.fallback && self.is_replica(node) {
                    continue;
                }
                return Some(Target {
                    node,
                    shard: self.token_shard(node),
                });
            }
            if !self.enter_next_stage() {
                return None;
            }
        }
    }
}
