//! The one attempt loop of every execution, generic over its plan (the routed plan of the
//! topology or the unrouted contact-point rotation, both allocation-free iterators of
//! connections, each knowing its node): attempts on the plan's connections, decisions of the
//! retry policy (never resending a non-idempotent request that may have reached a server),
//! and speculative attempts for idempotent statements — up to three attempts in flight; the
//! first answer wins and the others are dropped. The first attempt is polled in place; the
//! ones beside it (only ever started by speculation) are boxed, so that a plain execution
//! neither allocates nor carries room for three attempts in its future.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::time::Sleep;

use crate::clock::Stamp;

use super::retry::{RetryDecision, RetryRequest, may_have_been_applied};
use super::speculative::LatencyTracker;
use super::{ExecutionInfo, ExecutionPolicies};
use crate::connection::{Connection, ConnectionError};
use crate::error::{AttemptError, ExecuteError, ExecutionError};
use crate::result::QueryResult;
use crate::statement::{ExecutionDefaults, Resolved, Statement};

/// Retries of one execution, whatever the policy says.
const MAX_RETRIES: usize = 16;

type Outcome = (Arc<Connection>, Result<QueryResult, ExecutionError>);

/// One attempt, answering with its connection. A function returning an `async
/// move` block rather than an `async fn`: an `async fn` keeps its arguments twice in its
/// future (as captured and as locals), and this future is held by every execution.
#[allow(clippy::manual_async_fn)]
fn one<'a, S, V>(
    conn: Arc<Connection>,
    statement: &'a S,
    values: &'a V,
    opts: Resolved<'a>,
) -> impl Future<Output = Outcome> + 'a
where
    S: Statement<V> + ?Sized,
    V: ?Sized,
{
    async move {
        let result = crate::execution::attempt(&conn, statement, values, &opts).await;
        (conn, result)
    }
}

fn poll_slot<F: Future>(slot: &mut Pin<&mut Option<F>>, cx: &mut Context<'_>) -> Option<F::Output> {
    let out = match slot.as_mut().as_pin_mut() {
        Some(f) => match f.poll(cx) {
            Poll::Ready(o) => Some(o),
            Poll::Pending => None,
        },
        None => None,
    };
    if out.is_some() {
        slot.set(None);
    }
    out
}

/// Polls a boxed extra attempt, dropping (and freeing) it once it answered.
fn poll_boxed<F: Future>(
    slot: &mut Option<Pin<Box<F>>>,
    cx: &mut Context<'_>,
) -> Option<F::Output> {
    let out = match slot.as_mut()?.as_mut().poll(cx) {
        Poll::Ready(o) => o,
        Poll::Pending => return None,
    };
    *slot = None;
    Some(out)
}

// Boxing the outcome would allocate per response; the enum lives on the stack briefly.
#[allow(clippy::large_enum_variant)]
enum Event {
    Done(Outcome),
    /// The speculation timer fired: the next speculative attempt is due.
    Timer,
}

/// What an execution settles before its first attempt: its statement's values checked, its
/// options and policies read (a profile handle once, so that both come from the same
/// profile), the clock read once. The request deadline, the speculative attempts' start
/// times and the latency all derive from that reading. The deadline travels with the
/// attempts into their connections' stream slots, where each connection's expiry task
/// enforces it, so an execution registers no timer unless it speculates; latencies are
/// recorded only when a percentile-based speculative policy reads them.
pub(crate) struct Setup<'a> {
    /// The options every attempt sends (with the deadline).
    pub(crate) opts: Resolved<'a>,
    /// The statement's profile, when it has one (its policies override the session's).
    profile: Option<crate::policies::profile_handle::ProfileRef<'a>>,
    /// Whether the execution's latency is recorded (a policy reads latencies).
    pub(crate) track: bool,
    /// When the execution started.
    pub(crate) started: Stamp,
}

/// The speculative attempts an execution may start, kept apart from its [`Setup`]: a plain
/// execution (the default) holds only the setup across its attempt's await.
pub(crate) struct Speculation {
    /// Speculative attempts allowed (at least 1).
    max_extra: usize,
    /// The speculative delay.
    delay: std::time::Duration,
    /// When the first speculative attempt is due.
    first: Stamp,
}

impl<'a> Setup<'a> {
    /// Settles the execution of `statement` with `_values` (checked before; here for their
    /// type), see the type, and its speculation (`None`: a plain execution). Inlined, so
    /// that its fields are written in place in the execution's future.
    #[inline(always)]
    pub(crate) fn new<S, V>(
        statement: &'a S,
        _values: &V,
        defaults: &'a ExecutionDefaults,
        paging: crate::statement::Paging<'a>,
        policies: &ExecutionPolicies,
        latencies: &LatencyTracker,
    ) -> (Self, Option<Speculation>)
    where
        S: Statement<V> + ?Sized,
        V: ?Sized,
    {
        let options = statement.options();
        // Read once: the options and the policies come from the same profile.
        let profile = options.current_profile(defaults);
        let mut opts = options.resolve_with(defaults, paging, profile.as_deref());
        let session_policies = policies;
        let policies = profile
            .as_deref()
            .and_then(|p| p.policies.as_ref())
            .unwrap_or(policies);
        // The session's percentile policy reads every execution's latency, as does a profile's.
        let track = uses_latencies(session_policies) || uses_latencies(policies);
        let speculative = policies.speculative.as_deref().filter(|_| opts.idempotent);
        let max_extra = speculative.map_or(0, |s| s.max_speculative().min(2));
        let delay = speculative
            .filter(|_| max_extra > 0)
            .map(|s| s.delay(latencies));
        let started = Stamp::now();
        // A deadline beyond the clock's range is no deadline (as `tokio::time::timeout` does).
        // The attempts' stream slots hold it; the connections' expiry tasks enforce it.
        opts.deadline = opts.timeout.and_then(|t| started.checked_add(t));
        // A first speculation beyond the clock's range is none.
        let speculation = delay.and_then(|delay| {
            Some(Speculation {
                max_extra,
                delay,
                first: started.checked_add(delay)?,
            })
        });
        let setup = Self {
            opts,
            profile,
            track,
            started,
        };
        (setup, speculation)
    }
}

/// How [`run_loop`] takes over an execution.
pub(crate) enum First {
    /// The first attempt, awaited alone (see [`run_attempts!`]), failed: the loop starts
    /// with the retry policy's decision on it.
    Failed(Arc<Connection>, ExecutionError),
    /// The first attempt starts in the loop, which starts speculative ones beside it.
    Start(Arc<Connection>, Speculation),
}

/// Runs `statement` over the plan `$make_plan` builds (a closure, called after the values
/// are checked) with the retry and speculative policies (a statement's profile overrides
/// `$policies`), and records the execution metadata on the result.
///
/// Without speculation (the default) the first attempt is awaited right here, in the
/// caller's future: no future of the loop's own lies between the session and the attempt,
/// so the result reaches the caller without being moved through one more future level
/// (each a copy of it). Only the plan's first connection is kept across that await, not the
/// plan nor the node's address: whatever an execution holds there, every request in flight
/// holds, and at thousands in flight each cache line of it is a miss when the answer comes.
/// A failure goes to [`run_loop`], as if it had come from there, with the plan made again
/// by `$make_plan` without the connection that failed ([`Rest`]; the driver's plan rotates
/// per request and a policy plans anew, so the order of the rest may differ from the first
/// plan's). A speculating execution runs in the loop from its first attempt, over its one
/// plan.
macro_rules! run_attempts {
    (
        $make_plan:expr,
        $statement:expr,
        $values:expr,
        $defaults:expr,
        $paging:expr,
        $policies:expr,
        $latencies:expr $(,)?
    ) => {{
        let statement = $statement;
        let values = $values;
        let policies = $policies;
        let latencies = $latencies;
        'checked: {
            // The check's result ends with this statement: a `match` on it would keep it
            // (over a hundred bytes) in the execution's future across the attempt's await.
            if let Err(e) = statement.check_values(values) {
                break 'checked Err(e.into());
            }
            let (setup, speculation) = $crate::policies::Setup::new(
                statement, values, $defaults, $paging, policies, latencies,
            );
            if let Some(speculation) = speculation {
                let mut plan = $crate::policies::Rest::all(($make_plan)());
                match plan.next() {
                    None => Err($crate::error::ExecutionError::NoConnection.into()),
                    Some(conn) => {
                        $crate::policies::run_loop(
                            plan,
                            statement,
                            values,
                            setup,
                            policies,
                            latencies,
                            $crate::policies::First::Start(conn, speculation),
                        )
                        .await
                    }
                }
            } else {
                // Only the first target's connection (which knows its node's address) is kept
                // across the attempt's await, not the plan (after a failure the plan is made
                // again, without the connection that failed).
                let Some(conn) = ($make_plan)().next() else {
                    break 'checked Err($crate::error::ExecutionError::NoConnection.into());
                };
                // The attempt's outcome is matched in a statement of its own: a `match` whose
                // arm awaits would keep its scrutinee (the whole outcome, a result's size) in
                // the execution's future across that await, and every answer would be
                // written there, on lines of its own, instead of on the stack.
                let error =
                    match $crate::execution::attempt(&conn, statement, values, &setup.opts).await {
                        Ok(mut result) => {
                            // Completed in place: the result is not moved through `finish`.
                            $crate::policies::finish(
                                &mut result,
                                &conn,
                                1,
                                0,
                                setup.started,
                                setup.track,
                                latencies,
                            );
                            break 'checked Ok(result);
                        }
                        Err(error) => error,
                    };
                // The loop's future shares its room in the caller's future with the
                // attempt's, which has ended.
                let rest = $crate::policies::Rest::without(($make_plan)(), &conn);
                $crate::policies::run_loop(
                    rest,
                    statement,
                    values,
                    setup,
                    policies,
                    latencies,
                    $crate::policies::First::Failed(conn, error),
                )
                .await
            }
        }
    }};
}
pub(crate) use run_attempts;

/// A plan for [`run_loop`]: the whole plan, or the plan made again after its first target
/// failed, without that target's connection (a routed plan has one connection per node, the
/// unrouted rotation every connection once, so the failed one is tried neither twice nor
/// again first). Holding the `Arc` keeps the comparison sound: a connection dropped
/// meanwhile cannot be replaced by another at the same address in memory.
pub(crate) struct Rest<P> {
    plan: P,
    skip: Option<Arc<Connection>>,
}

impl<P> Rest<P> {
    /// The whole of `plan`.
    pub(crate) fn all(plan: P) -> Self {
        Self { plan, skip: None }
    }

    /// `plan` without the connection `failed`.
    pub(crate) fn without(plan: P, failed: &Arc<Connection>) -> Self {
        Self {
            plan,
            skip: Some(failed.clone()),
        }
    }
}

impl<P: Iterator<Item = Arc<Connection>>> Iterator for Rest<P> {
    type Item = Arc<Connection>;

    fn next(&mut self) -> Option<Self::Item> {
        let skip = self.skip.as_ref();
        self.plan
            .find(|conn| skip.is_none_or(|s| !Arc::ptr_eq(s, conn)))
    }
}

/// The attempt loop after (or, when speculating, from) the first attempt: retries as the
/// retry policy decides, speculative attempts of idempotent statements (the first polled in
/// place, the ones beside it boxed when they start), the first answer wins.
// A function returning an `async move` block rather than an `async fn`, so that the
// arguments are not kept twice in the future (see `one`).
#[allow(clippy::manual_async_fn)]
pub(crate) fn run_loop<'a, S, V, P>(
    mut plan: P,
    statement: &'a S,
    values: &'a V,
    setup: Setup<'a>,
    session_policies: &'a ExecutionPolicies,
    latencies: &'a LatencyTracker,
    first: First,
) -> impl Future<Output = Result<QueryResult, ExecuteError>> + 'a
where
    S: Statement<V> + ?Sized,
    V: ?Sized,
    P: Iterator<Item = Arc<Connection>> + 'a,
{
    async move {
        let Setup {
            opts,
            profile,
            track,
            started,
        } = setup;
        let policies = profile
            .as_deref()
            .and_then(|p| p.policies.as_ref())
            .unwrap_or(session_policies);
        let (failed, first) = match first {
            First::Failed(conn, error) => (Some((conn, error)), None),
            First::Start(conn, speculation) => (None, Some((conn, speculation))),
        };
        // The attempt that failed and awaits the retry policy's decision.
        let mut failed = failed;
        let mut s0 = pin!(None);
        // Speculation only from a first attempt started here.
        let (max_extra, delay, mut next_speculation) = match first {
            Some((conn, speculation)) => {
                s0.set(Some(one(conn, statement, values, opts)));
                (
                    speculation.max_extra,
                    Some(speculation.delay),
                    Some(speculation.first),
                )
            }
            None => (0, None, None),
        };
        // The first attempt lives in this future; the attempts running beside it (speculative
        // ones, or a retry while a speculative one is still out) are boxed when they start, so
        // that every execution's future does not carry room for three attempts: a speculative
        // attempt allocates, a plain execution does not.
        let mut s1 = None;
        let mut s2 = None;
        // The first attempt: running in `s0`, or failed and waiting in `failed` for the
        // loop's retry decision (which counts it out like any answered attempt).
        let mut in_flight = 1usize;
        let mut attempts = 1u16;
        let mut extra = 0usize;
        let mut retries = 0usize;
        let mut last: Option<ExecutionError> = None;
        // Failed attempts, for the error (allocated only once an attempt failed).
        let mut tried: Vec<AttemptError> = Vec::new();
        // The execution's error, with its metadata and attempts.
        let fail = |error: ExecutionError,
                    tried: Vec<AttemptError>,
                    attempts: u16,
                    extra: usize|
         -> ExecuteError {
            let last = tried.last();
            let info = ExecutionInfo {
                node: last.map(|a| a.node),
                shard: last.and_then(|a| a.shard),
                attempts,
                speculative: extra as u16,
                latency: started.elapsed(),
            };
            ExecuteError::after_attempts(error, info, tried)
        };
        // Only speculation needs a timer of the execution's own.
        let mut timer = pin!(None::<Sleep>);
        let mut timer_at: Option<Stamp> = None;
        // Sets the timer to the next speculation (none: no timer).
        macro_rules! arm {
            () => {{
                let at = next_speculation;
                if at != timer_at {
                    timer_at = at;
                    match (at, timer.as_mut().as_pin_mut()) {
                        (Some(at), Some(t)) => t.reset(at.to_instant()),
                        (Some(at), None) => {
                            timer.set(Some(tokio::time::sleep_until(at.to_instant())))
                        }
                        (None, _) => timer.set(None),
                    }
                }
            }};
        }
        arm!();
        loop {
            let event = if let Some((conn, error)) = failed.take() {
                Event::Done((conn, Err(error)))
            } else {
                poll_fn(|cx| {
                    if let Some(out) = poll_slot(&mut s0, cx) {
                        return Poll::Ready(Event::Done(out));
                    }
                    for slot in [&mut s1, &mut s2] {
                        if let Some(out) = poll_boxed(slot, cx) {
                            return Poll::Ready(Event::Done(out));
                        }
                    }
                    if let Some(t) = timer.as_mut().as_pin_mut()
                        && t.poll(cx).is_ready()
                    {
                        return Poll::Ready(Event::Timer);
                    }
                    Poll::Pending
                })
                .await
            };
            // The future of a new attempt goes into the first free slot.
            macro_rules! start {
                ($conn:expr, $opts:expr) => {{
                    let fut = one($conn, statement, values, $opts);
                    if s0.is_none() {
                        s0.set(Some(fut));
                    } else if s1.is_none() {
                        s1 = Some(Box::pin(fut));
                    } else {
                        s2 = Some(Box::pin(fut));
                    }
                    in_flight += 1;
                    attempts += 1;
                }};
            }
            match event {
                Event::Timer => {
                    // Speculating at or past the deadline would only add a doomed attempt.
                    if opts.deadline.is_some_and(|d| next_speculation >= Some(d)) {
                        next_speculation = None;
                        arm!();
                        continue;
                    }
                    let mut speculating = true;
                    // Every slot busy (retries in flight): try again after the next delay.
                    if in_flight < 3 {
                        match plan.next() {
                            Some(conn) => {
                                #[cfg(feature = "tracing")]
                                tracing::debug!(
                                    target: "scylla2",
                                    node = %conn.node_addr(),
                                    attempts,
                                    "speculative attempt: no answer within the delay"
                                );
                                #[cfg(feature = "metrics")]
                                if let Some(m) = conn.metrics() {
                                    m.speculative();
                                }
                                start!(conn, opts);
                                extra += 1;
                            }
                            None => speculating = false,
                        }
                    }
                    next_speculation = match (next_speculation, delay) {
                        (Some(s), Some(d)) if speculating && extra < max_extra => s.checked_add(d),
                        _ => None,
                    };
                    arm!();
                }
                Event::Done((conn, Ok(mut result))) => {
                    let speculative = extra as u16;
                    finish(
                        &mut result,
                        &conn,
                        attempts,
                        speculative,
                        started,
                        track,
                        latencies,
                    );
                    return Ok(result);
                }
                Event::Done((
                    conn,
                    Err(ExecutionError::Connection(ConnectionError::DeadlinePassed)),
                )) => {
                    let error = ExecutionError::Timeout(opts.timeout.unwrap_or_default());
                    #[cfg(feature = "metrics")]
                    if let Some(m) = conn.metrics() {
                        m.error(&error);
                    }
                    #[cfg(feature = "tracing")]
                    tracing::debug!(
                        target: "scylla2",
                        node = %conn.node_addr(),
                        attempts,
                        "request timed out"
                    );
                    tried.push(attempt_error(&conn, error.clone()));
                    return Err(fail(error, tried, attempts, extra));
                }
                Event::Done((conn, Err(error))) => {
                    in_flight -= 1;
                    #[cfg(feature = "metrics")]
                    if let Some(m) = conn.metrics() {
                        m.error(&error);
                    }
                    tried.push(attempt_error(&conn, error.clone()));
                    let decision = policies.retry.decide(&RetryRequest {
                        error: &error,
                        idempotent: opts.idempotent,
                        retries,
                        consistency: opts.consistency,
                    });
                    // Never resend a non-idempotent request that may have been applied; never
                    // loop forever on a policy that always retries.
                    let decision = if (!opts.idempotent && may_have_been_applied(&error))
                        || retries >= MAX_RETRIES
                    {
                        RetryDecision::DontRetry
                    } else {
                        decision
                    };
                    #[cfg(feature = "tracing")]
                    tracing::debug!(
                        target: "scylla2",
                        node = %conn.node_addr(),
                        %error,
                        ?decision,
                        retries,
                        idempotent = opts.idempotent,
                        "attempt failed"
                    );
                    match decision {
                        RetryDecision::RetrySameNode(cl) => {
                            retries += 1;
                            let mut o = opts;
                            if let Some(cl) = cl {
                                o.consistency = cl;
                            }
                            #[cfg(feature = "metrics")]
                            if let Some(m) = conn.metrics() {
                                m.retry();
                            }
                            start!(conn, o);
                        }
                        RetryDecision::RetryNextNode(cl) => {
                            retries += 1;
                            let mut o = opts;
                            if let Some(cl) = cl {
                                o.consistency = cl;
                            }
                            match plan.next() {
                                Some(conn) => {
                                    #[cfg(feature = "metrics")]
                                    if let Some(m) = conn.metrics() {
                                        m.retry();
                                    }
                                    start!(conn, o)
                                }
                                None => {
                                    if in_flight == 0 {
                                        return Err(fail(error, tried, attempts, extra));
                                    }
                                    last = Some(error);
                                }
                            }
                        }
                        _ => {
                            if in_flight == 0 {
                                return Err(fail(error, tried, attempts, extra));
                            }
                            last = Some(error);
                        }
                    }
                }
            }
            if in_flight == 0 {
                let error = last.unwrap_or(ExecutionError::NoConnection);
                return Err(fail(error, tried, attempts, extra));
            }
        }
    }
}

/// Records the execution's latency (when a policy reads latencies) and its metadata on the
/// result.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    result: &mut QueryResult,
    conn: &Connection,
    attempts: u16,
    speculative: u16,
    started: Stamp,
    track: bool,
    latencies: &LatencyTracker,
) {
    let latency = started.elapsed();
    if track {
        latencies.record(latency);
    }
    #[cfg(feature = "metrics")]
    if let Some(m) = conn.metrics() {
        m.success(latency);
    }
    result.set_execution(ExecutionInfo {
        node: Some(conn.node_addr()),
        shard: conn.info().sharding.as_ref().map(|s| s.shard),
        attempts,
        speculative,
        latency,
    });
}

/// A failed attempt on `conn`, for the execution's error.
fn attempt_error(conn: &Connection, error: ExecutionError) -> AttemptError {
    AttemptError {
        node: conn.node_addr(),
        shard: conn.info().sharding.as_ref().map(|s| s.shard),
        error,
    }
}

/// Whether `policies` speculate after a latency percentile (and so need recorded latencies).
fn uses_latencies(policies: &ExecutionPolicies) -> bool {
    policies
        .speculative
        .as_deref()
        .is_some_and(|s| s.reads_latencies())
}
