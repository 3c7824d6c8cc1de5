//! Consistency levels against live replicas: which replicas a request needs (from the
//! keyspace's replication and the request's consistency level) and whether enough of them
//! are up, answering UNAVAILABLE as the servers do when they are not.
//!
//! Follows Apache Cassandra 4.0's `ConsistencyLevel.blockFor` and
//! `ReplicaPlans.assureSufficientLiveReplicas` (LOCAL_* count the coordinator's data center,
//! EACH_QUORUM each data center of a `NetworkTopologyStrategy`), `ReplicaPlans.forPaxos` for
//! SERIAL / LOCAL_SERIAL (a majority of the natural replicas in scope), and ScyllaDB's
//! `db/consistency_level.cc` (the same rules; a replication factor of 0 needs 0). The
//! replication factor counts as configured, so RF 3 on one node needs 2 replicas for QUORUM
//! and finds 1 alive. Down nodes are those the cluster stopped or paused.

use crate::engine::ring::{self, Replication};
use crate::model::{Flavor, NodeInfo, SimError};

/// ANY.
pub const ANY: u16 = 0;
/// QUORUM.
pub const QUORUM: u16 = 4;
/// LOCAL_QUORUM.
pub const LOCAL_QUORUM: u16 = 6;
/// EACH_QUORUM.
pub const EACH_QUORUM: u16 = 7;
/// SERIAL.
pub const SERIAL: u16 = 8;
/// LOCAL_SERIAL.
pub const LOCAL_SERIAL: u16 = 9;
/// LOCAL_ONE.
pub const LOCAL_ONE: u16 = 10;

/// What a request does with its replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A SELECT.
    Read,
    /// INSERT / UPDATE / DELETE / BATCH without conditions.
    Write,
}

/// The partitions a request touches.
#[derive(Debug, Clone, Copy)]
pub enum Tokens<'a> {
    /// These partitions' tokens.
    Some(&'a [i64]),
    /// A range scan: every token range of the ring.
    All,
}

/// The cluster as the check sees it.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    /// Every node, `up` false when down.
    pub nodes: &'a [NodeInfo],
    /// The ring of `nodes`, when at hand ([`ring::Ring::with`]); sorted for each use otherwise.
    pub ring: Option<&'a ring::Ring>,
    /// The coordinator's `index`.
    pub local: usize,
    /// Whose rules apply where they differ.
    pub flavor: Flavor,
}

impl Placement<'_> {
    fn local_dc(&self) -> &str {
        self.nodes
            .iter()
            .find(|n| n.index == self.local)
            .map_or("", |n| n.datacenter.as_str())
    }
}

/// Live and natural replica counts of one token range.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    natural: usize,
    live: usize,
    local_natural: usize,
    local_live: usize,
    /// Live replicas per data center of the strategy.
    per_dc: Vec<(String, usize)>,
}

/// The replication factor per data center (`*` expanded over the cluster's data centers).
fn dc_factors(repl: &Replication, nodes: &[NodeInfo]) -> Vec<(String, usize)> {
    let Replication::NetworkTopology(dcs) = repl else {
        return Vec::new();
    };
    let mut out: Vec<(String, usize)> = dcs.iter().filter(|(d, _)| d != "*").cloned().collect();
    if let Some((_, rf)) = dcs.iter().find(|(d, _)| d == "*") {
        for n in nodes {
            if !out.iter().any(|(d, _)| *d == n.datacenter) {
                out.push((n.datacenter.clone(), *rf));
            }
        }
    }
    out
}

fn quorum(rf: usize, flavor: Flavor) -> usize {
    match flavor {
        Flavor::Scylla if rf == 0 => 0,
        _ => rf / 2 + 1,
    }
}

/// `blockFor` of a non-serial consistency level.
fn block_for(cl: u16, repl: &Replication, factors: &[(String, usize)], p: &Placement<'_>) -> usize {
    let total: usize = match repl {
        Replication::Simple(rf) => *rf,
        Replication::NetworkTopology(_) => factors.iter().map(|(_, f)| f).sum(),
        Replication::Local => 1,
    };
    let local_rf = || match repl {
        Replication::NetworkTopology(_) => factors
            .iter()
            .find(|(d, _)| d == p.local_dc())
            .map_or(0, |(_, f)| *f),
        _ => total,
    };
    match cl {
        ANY | 1 | LOCAL_ONE => 1,
        2 => 2,
        3 => 3,
        QUORUM | SERIAL => quorum(total, p.flavor),
        5 => total,
        LOCAL_QUORUM | LOCAL_SERIAL => quorum(local_rf(), p.flavor),
        EACH_QUORUM => match repl {
            Replication::NetworkTopology(_) => {
                factors.iter().map(|(_, f)| quorum(*f, p.flavor)).sum()
            }
            _ => quorum(total, p.flavor),
        },
        _ => 1,
    }
}

/// The natural and live replicas of the range holding `token`.
fn counts(
    repl: &Replication,
    factors: &[(String, usize)],
    token: i64,
    p: &Placement<'_>,
) -> Counts {
    if uniform(repl, p) {
        return uniform_counts(repl, factors, p);
    }
    ring_counts(repl, factors, token, p)
}

/// [`counts`] by walking the ring from `token`.
fn ring_counts(
    repl: &Replication,
    factors: &[(String, usize)],
    token: i64,
    p: &Placement<'_>,
) -> Counts {
    let local_dc = p.local_dc();
    let mut c = Counts {
        per_dc: factors.iter().map(|(d, _)| (d.clone(), 0)).collect(),
        ..Counts::default()
    };
    let replicas = match p.ring {
        Some(r) => ring::replicas_in(repl, token, p.nodes, r),
        None => ring::replicas(repl, token, p.nodes),
    };
    for index in replicas {
        let Some(n) = p.nodes.iter().find(|n| n.index == index) else {
            continue;
        };
        let local = n.datacenter == local_dc;
        c.natural += 1;
        c.local_natural += usize::from(local);
        if n.up {
            c.live += 1;
            c.local_live += usize::from(local);
            if let Some((_, k)) = c.per_dc.iter_mut().find(|(d, _)| *d == n.datacenter) {
                *k += 1;
            }
        }
    }
    c
}

/// Whether every token range has the same replica counts: every node up, and a strategy
/// whose local counts do not depend on the range (NetworkTopologyStrategy, or SimpleStrategy
/// with every node in one data center).
fn uniform(repl: &Replication, p: &Placement<'_>) -> bool {
    p.nodes.iter().all(|n| n.up)
        && match repl {
            Replication::NetworkTopology(_) => true,
            Replication::Simple(_) => p
                .nodes
                .windows(2)
                .all(|w| w[0].datacenter == w[1].datacenter),
            Replication::Local => false,
        }
}

/// [`counts`] of any range when they are [`uniform`], without walking the ring (a ring walk
/// per request was most of the check's cost): SimpleStrategy places min(rf, nodes) replicas,
/// NetworkTopologyStrategy min(rf, the data center's nodes) in each data center of `factors`
/// (its distinct-racks-first rule only orders them). Nodes without tokens own no range.
fn uniform_counts(repl: &Replication, factors: &[(String, usize)], p: &Placement<'_>) -> Counts {
    let local_dc = p.local_dc();
    let owners = |dc: Option<&str>| {
        p.nodes
            .iter()
            .filter(|n| !n.tokens.is_empty() && dc.is_none_or(|d| n.datacenter == d))
            .count()
    };
    match repl {
        Replication::Simple(rf) => {
            let n = (*rf).min(owners(None));
            // One data center (`uniform`): every replica is local, or none is.
            let local = if p.nodes.first().is_some_and(|f| f.datacenter == local_dc) {
                n
            } else {
                0
            };
            Counts {
                natural: n,
                live: n,
                local_natural: local,
                local_live: local,
                per_dc: factors.iter().map(|(d, _)| (d.clone(), 0)).collect(),
            }
        }
        _ => {
            let mut c = Counts {
                per_dc: factors.iter().map(|(d, _)| (d.clone(), 0)).collect(),
                ..Counts::default()
            };
            for (d, rf) in factors {
                let n = (*rf).min(owners(Some(d)));
                c.natural += n;
                c.live += n;
                if *d == local_dc {
                    c.local_natural += n;
                    c.local_live += n;
                }
                // As the ring walk does: a data center's live replicas count in its first entry.
                if let Some((_, k)) = c.per_dc.iter_mut().find(|(pd, _)| pd == d) {
                    *k += n;
                }
            }
            c
        }
    }
}

fn unavailable(consistency: u16, required: usize, alive: usize) -> SimError {
    SimError::Unavailable {
        consistency,
        required: i32::try_from(required).unwrap_or(i32::MAX),
        alive: i32::try_from(alive).unwrap_or(i32::MAX),
    }
}

/// `assureSufficientLiveReplicas` for one range.
fn sufficient(
    cl: u16,
    repl: &Replication,
    factors: &[(String, usize)],
    c: &Counts,
    p: &Placement<'_>,
) -> Result<(), SimError> {
    let need = block_for(cl, repl, factors, p);
    match cl {
        ANY => Ok(()),
        LOCAL_ONE | LOCAL_QUORUM if c.local_live < need => Err(unavailable(cl, need, c.local_live)),
        LOCAL_ONE | LOCAL_QUORUM => Ok(()),
        EACH_QUORUM if matches!(repl, Replication::NetworkTopology(_)) => {
            for ((_, live), (_, rf)) in c.per_dc.iter().zip(factors) {
                let dc_need = quorum(*rf, p.flavor);
                if *live < dc_need {
                    return Err(unavailable(cl, dc_need, *live));
                }
            }
            Ok(())
        }
        _ if c.live < need => Err(unavailable(cl, need, c.live)),
        _ => Ok(()),
    }
}

/// The tokens to check: the request's, or one per vnode range for a scan. With every node
/// up, every range has the same replica counts (but for SimpleStrategy across several data
/// centers, whose local counts vary): one token stands for all.
fn each_token(
    tokens: Tokens<'_>,
    repl: &Replication,
    p: &Placement<'_>,
    f: &mut dyn FnMut(i64) -> Result<(), SimError>,
) -> Result<(), SimError> {
    if uniform(repl, p) {
        let any = match tokens {
            Tokens::Some(ts) => ts.first().copied(),
            Tokens::All => p
                .nodes
                .iter()
                .flat_map(|n| n.tokens.first())
                .next()
                .copied(),
        };
        return any.map_or(Ok(()), f);
    }
    match tokens {
        Tokens::Some(ts) => ts.iter().try_for_each(|t| f(*t)),
        Tokens::All => p
            .nodes
            .iter()
            .flat_map(|n| n.tokens.iter())
            .try_for_each(|t| f(*t)),
    }
}

/// Checks a read or a write at `cl`: Invalid for a level the access cannot use, UNAVAILABLE
/// when too few replicas of a touched range are alive.
pub fn check(
    access: Access,
    cl: u16,
    repl: &Replication,
    tokens: Tokens<'_>,
    p: &Placement<'_>,
) -> Result<(), SimError> {
    if *repl == Replication::Local {
        return Ok(());
    }
    match (access, cl) {
        // `ConsistencyLevel.validateForRead` / `validateForWrite`.
        (Access::Read, ANY) => {
            return Err(SimError::Invalid(
                "ANY ConsistencyLevel is only supported for writes".into(),
            ));
        }
        (Access::Write, SERIAL | LOCAL_SERIAL) => {
            return Err(SimError::Invalid(
                "You must use conditional updates for serializable writes".into(),
            ));
        }
        (Access::Read, SERIAL | LOCAL_SERIAL) => {
            // A read at SERIAL runs a Paxos round, then reads at (LOCAL_)QUORUM.
            paxos(cl, repl, tokens, p)?;
            return check(access, paxos_read_level(cl, p), repl, tokens, p);
        }
        (Access::Write, ANY) => return Ok(()),
        _ => {}
    }
    let verdict = || {
        let factors = dc_factors(repl, p.nodes);
        each_token(tokens, repl, p, &mut |t| {
            let c = counts(repl, &factors, t, p);
            sufficient(cl, repl, &factors, &c, p)
        })
    };
    let Some(ring) = p.ring else {
        return verdict();
    };
    // While every node is up the verdict is the same for every token range (`uniform`): it
    // follows from the node list snapshot, the coordinator, the replication, the level, the
    // access, the flavor and whether the request names any partition. Remembered with the
    // snapshot's ring, it costs a lookup instead of a check per request.
    let kind = match tokens {
        Tokens::Some([]) => 0,
        Tokens::Some(_) => 1,
        Tokens::All => 2,
    };
    let key = ring::MemoKey {
        question: u32::from(cl)
            | u32::from(access == Access::Write) << 16
            | u32::from(p.flavor == Flavor::Scylla) << 17
            | kind << 18,
        local: p.local,
        replication: repl.clone(),
    };
    if let Some(v) = ring.recall(&key) {
        return v;
    }
    let v = verdict();
    if uniform(repl, p) {
        ring.keep(key, &v);
    }
    v
}

/// Cassandra reads the current values of a conditional update at QUORUM (LOCAL_QUORUM for
/// LOCAL_SERIAL), `StorageProxy.cas`; ScyllaDB reads them in the Paxos round itself.
fn paxos_read_level(serial: u16, _p: &Placement<'_>) -> u16 {
    if serial == LOCAL_SERIAL {
        LOCAL_QUORUM
    } else {
        QUORUM
    }
}

/// The Paxos round of SERIAL / LOCAL_SERIAL: a majority of the natural replicas in scope
/// (the local data center for LOCAL_SERIAL) must be alive.
fn paxos(
    serial: u16,
    repl: &Replication,
    tokens: Tokens<'_>,
    p: &Placement<'_>,
) -> Result<(), SimError> {
    let factors = dc_factors(repl, p.nodes);
    each_token(tokens, repl, p, &mut |t| {
        let c = counts(repl, &factors, t, p);
        let (participants, live) = if serial == LOCAL_SERIAL {
            (c.local_natural, c.local_live)
        } else {
            (c.natural, c.live)
        };
        let required = participants / 2 + 1;
        if live < required {
            return Err(unavailable(serial, required, live));
        }
        Ok(())
    })
}

/// Checks a conditional update before it runs: the levels are valid
/// (`ConsistencyLevel.validateForCas` / `validateForCasCommit`), the Paxos round has its
/// majority and, in Cassandra mode, the read of the current values its replicas. The commit
/// is checked after the update applied ([`check_commit`]).
pub fn check_cas(
    cl: u16,
    serial: u16,
    repl: &Replication,
    tokens: Tokens<'_>,
    p: &Placement<'_>,
) -> Result<(), SimError> {
    if *repl == Replication::Local {
        return Ok(());
    }
    if !matches!(serial, SERIAL | LOCAL_SERIAL) {
        return Err(SimError::Invalid(
            "Invalid consistency for conditional update. Must be one of SERIAL or LOCAL_SERIAL"
                .into(),
        ));
    }
    if matches!(cl, SERIAL | LOCAL_SERIAL) {
        return Err(SimError::Invalid(format!(
            "{} is not supported as conditional update commit consistency. Use ANY if you mean \"make sure it is accepted but I don't care how many replicas commit it for non-SERIAL reads\"",
            crate::model::consistency_name(cl)
        )));
    }
    if cl == EACH_QUORUM && !matches!(repl, Replication::NetworkTopology(_)) {
        return Err(SimError::Invalid(
            "consistency level EACH_QUORUM not compatible with replication strategy (org.apache.cassandra.locator.SimpleStrategy)".into(),
        ));
    }
    paxos(serial, repl, tokens, p)?;
    if p.flavor == Flavor::Cassandra {
        check(Access::Read, paxos_read_level(serial, p), repl, tokens, p)?;
    }
    Ok(())
}

/// The commit of an applied conditional update, at the statement's consistency level.
pub fn check_commit(
    cl: u16,
    repl: &Replication,
    tokens: Tokens<'_>,
    p: &Placement<'_>,
) -> Result<(), SimError> {
    check(Access::Write, cl, repl, tokens, p)
}

#[cfg(test)]
mod tests;
