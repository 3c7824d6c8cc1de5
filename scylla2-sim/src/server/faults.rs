//! Fault injection rules: answer matching requests with an error, no answer, a closed
//! connection, a malformed frame, a delay, a handler panic or a frame that never completes.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::model::SimError;

/// The kind of a request, for matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// STARTUP.
    Startup,
    /// OPTIONS.
    Options,
    /// QUERY.
    Query,
    /// PREPARE.
    Prepare,
    /// EXECUTE.
    Execute,
    /// BATCH.
    Batch,
    /// REGISTER.
    Register,
    /// AUTH_RESPONSE.
    AuthResponse,
}

/// What to do with a matching request.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer with this error.
    Error(SimError),
    /// Never answer this request (others on the connection still are).
    NoAnswer,
    /// Close the connection without answering.
    CloseConnection,
    /// Answer with a malformed frame (bad version byte), then keep going.
    Malformed,
    /// Answer normally after this delay.
    Delay(Duration),
    /// Panic in the connection handler (kills only that connection).
    Panic,
    /// Start an answer and never finish it: write a frame header announcing this many body
    /// bytes (on v5, a segment header announcing this many payload bytes, at most 131 071),
    /// then nothing more of it. Later answers on the connection are still written, so a
    /// client reads them as the missing body bytes: traffic flows, but no frame completes.
    StallFrame(u32),
}

/// A rule: the next `times` requests matching every given criterion get `action`.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// Only on this node.
    pub node: Option<usize>,
    /// Only on connections of this shard.
    pub shard: Option<u32>,
    /// Only this request kind.
    pub kind: Option<RequestKind>,
    /// Only requests whose CQL text contains this (EXECUTE: the prepared text).
    pub query_contains: Option<String>,
    /// How many requests to hit.
    pub times: u32,
    /// What to do.
    pub action: FaultAction,
}

impl FaultRule {
    /// The next request of any kind on any node gets `action`.
    pub fn new(action: FaultAction) -> Self {
        FaultRule {
            node: None,
            shard: None,
            kind: None,
            query_contains: None,
            times: 1,
            action,
        }
    }
    /// Shorthand for [`FaultAction::Error`].
    pub fn error(e: SimError) -> Self {
        Self::new(FaultAction::Error(e))
    }
    /// Restrict to a node.
    pub fn node(mut self, node: usize) -> Self {
        self.node = Some(node);
        self
    }
    /// Restrict to a shard.
    pub fn shard(mut self, shard: u32) -> Self {
        self.shard = Some(shard);
        self
    }
    /// Restrict to a request kind.
    pub fn kind(mut self, kind: RequestKind) -> Self {
        self.kind = Some(kind);
        self
    }
    /// Restrict to queries containing `s`.
    pub fn query_contains(mut self, s: impl Into<String>) -> Self {
        self.query_contains = Some(s.into());
        self
    }
    /// Hit this many requests (default 1).
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }
}

/// The active rules of a cluster.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    active: AtomicBool,
    rules: Mutex<Vec<FaultRule>>,
}

impl Faults {
    pub(crate) fn add(&self, rule: FaultRule) {
        if rule.times == 0 {
            return;
        }
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.push(rule);
        self.active.store(true, Ordering::Release);
    }

    pub(crate) fn clear(&self) {
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        rules.clear();
        self.active.store(false, Ordering::Release);
    }

    /// Whether any rule is active (cheap; checked before building match inputs).
    pub(crate) fn is_active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    /// The action for a request, consuming one hit of the first matching rule.
    pub(crate) fn check(
        &self,
        node: usize,
        shard: u32,
        kind: RequestKind,
        query: Option<&str>,
    ) -> Option<FaultAction> {
        if !self.active.load(Ordering::Acquire) {
            return None;
        }
        let mut rules = self.rules.lock().unwrap_or_else(|p| p.into_inner());
        let pos = rules.iter().position(|r| {
            r.node.is_none_or(|n| n == node)
                && r.shard.is_none_or(|s| s == shard)
                && r.kind.is_none_or(|k| k == kind)
                && r.query_contains
                    .as_deref()
                    .is_none_or(|s| query.is_some_and(|q| q.contains(s)))
        })?;
        let rule = &mut rules[pos];
        let action = rule.action.clone();
        rule.times -= 1;
        if rule.times == 0 {
            rules.remove(pos);
        }
        if rules.is_empty() {
            self.active.store(false, Ordering::Release);
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_and_expire() {
        let f = Faults::default();
        assert_eq!(f.check(0, 0, RequestKind::Query, Some("x")), None);
        f.add(
            FaultRule::new(FaultAction::NoAnswer)
                .node(1)
                .kind(RequestKind::Query)
                .query_contains("INSERT")
                .times(2),
        );
        assert_eq!(f.check(0, 0, RequestKind::Query, Some("INSERT")), None);
        assert_eq!(f.check(1, 0, RequestKind::Execute, Some("INSERT")), None);
        assert_eq!(f.check(1, 0, RequestKind::Query, Some("SELECT")), None);
        assert_eq!(
            f.check(1, 0, RequestKind::Query, Some("INSERT x")),
            Some(FaultAction::NoAnswer)
        );
        assert_eq!(
            f.check(1, 3, RequestKind::Query, Some("INSERT")),
            Some(FaultAction::NoAnswer)
        );
        assert_eq!(f.check(1, 0, RequestKind::Query, Some("INSERT")), None);
    }
}
