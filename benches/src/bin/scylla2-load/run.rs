//! The measured phase in a child process: `concurrency` tasks share a request counter, each
//! sends one request at a time with a uniformly random key (in open loop, at its due time),
//! latencies go to per-thread HDR
//! histograms (preallocated, so recording allocates nothing), and the process's CPU time,
//! allocations and write syscalls are read before and after. A warm-up phase of the same
//! shape runs first, unmeasured. Nothing the tool does between the two readings allocates:
//! tasks are spawned and the histograms built before, the progress line formats on the
//! locked stderr, and error text is built only when a request fails.

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::drivers::Driver;
use crate::report::Report;
use crate::{alloc, sys};

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Prepared INSERTs.
    Insert,
    /// Prepared single-row SELECTs of prefilled keys.
    Select,
    /// Half and half, drawn at random.
    Mixed,
}

impl Workload {
    /// Parses `insert`, `select` or `mixed`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "insert" => Some(Self::Insert),
            "select" => Some(Self::Select),
            "mixed" => Some(Self::Mixed),
            _ => None,
        }
    }

    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Select => "select",
            Self::Mixed => "mixed",
        }
    }
}

/// Warm-up windows run after the fixed warm-up at most, until one allocates nothing.
const MAX_STEADY_WINDOWS: usize = 4;

/// The parameters of one measured run.
#[derive(Debug, Clone, Copy)]
pub struct RunParams {
    /// Workload.
    pub workload: Workload,
    /// Requests to send.
    pub requests: u64,
    /// Requests in flight.
    pub concurrency: usize,
    /// Runtime worker threads (for the report).
    pub threads: usize,
    /// Keys are drawn uniformly from `0..keys`.
    pub keys: u64,
    /// Stop starting requests after this long.
    pub time_limit: Duration,
    /// Requests run (same workload, same concurrency) before the measured phase.
    pub warmup: u64,
    /// Print a progress line every second on stderr.
    pub progress: bool,
    /// Open loop at this many requests per second (`None`: closed loop).
    pub rate: Option<f64>,
}

/// Latency histograms, one per runtime thread (indexed by a thread-local slot).
struct Histograms(Vec<Mutex<Histogram<u64>>>);

static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static SLOT: usize = NEXT_SLOT.fetch_add(1, Relaxed);
}

impl Histograms {
    fn new(n: usize) -> Result<Self, String> {
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            // 1 ns to 60 s at 3 significant digits.
            let h = Histogram::new_with_bounds(1, 60_000_000_000, 3).map_err(|e| e.to_string())?;
            v.push(Mutex::new(h));
        }
        Ok(Self(v))
    }

    fn record(&self, nanos: u64) {
        let slot = SLOT.with(|s| *s) % self.0.len();
        if let Ok(mut h) = self.0[slot].lock() {
            h.saturating_record(nanos.max(1));
        }
    }

    fn merged(&self) -> Option<Histogram<u64>> {
        let mut all = self.0.first()?.lock().ok()?.clone();
        all.reset();
        for h in &self.0 {
            all.add(&*h.lock().ok()?).ok()?;
        }
        Some(all)
    }
}

struct Shared {
    next: AtomicU64,
    done: AtomicU64,
    errors: AtomicU64,
    first_error: OnceLock<String>,
    deadline: Instant,
    /// When the phase started (set just before the workers are released): the origin of
    /// the open-loop schedule.
    origin: OnceLock<Instant>,
    params: RunParams,
    hist: Histograms,
}

/// A xorshift64* generator (no allocation, no lock).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

async fn worker<D: Driver>(driver: Arc<D>, shared: Arc<Shared>, seed: u64) {
    let mut rng = Rng(seed | 1);
    let p = shared.params;
    loop {
        let i = shared.next.fetch_add(1, Relaxed);
        if i >= p.requests {
            break;
        }
        let mut now = Instant::now();
        if now >= shared.deadline {
            break;
        }
        // Open loop: wait for this request's due time. Its latency counts from when it is
        // sent: the timer wakes up to 1 ms late (its resolution), which is not the driver's.
        if let (Some(rate), Some(&origin)) = (p.rate, shared.origin.get()) {
            let due = origin + Duration::from_secs_f64(i as f64 / rate);
            if due > now {
                tokio::time::sleep_until(due.into()).await;
                now = Instant::now();
            }
        }
        let key = (rng.next() % p.keys) as i64;
        let insert = match p.workload {
            Workload::Insert => true,
            Workload::Select => false,
            Workload::Mixed => rng.next() & 1 == 0,
        };
        let result = if insert {
            driver.insert(key).await
        } else {
            driver.select(key).await
        };
        shared.hist.record(now.elapsed().as_nanos() as u64);
        if let Err(e) = result {
            shared.errors.fetch_add(1, Relaxed);
            let _ = shared.first_error.set(e);
        }
        shared.done.fetch_add(1, Relaxed);
    }
}

/// Process counters read around a phase.
struct Counters {
    cpu_user: f64,
    cpu_sys: f64,
    writes: u64,
    allocs: u64,
    alloc_bytes: u64,
}

impl Counters {
    fn read() -> Self {
        let (cpu_user, cpu_sys, _) = sys::rusage();
        let (allocs, alloc_bytes) = alloc::snapshot();
        Self {
            cpu_user,
            cpu_sys,
            writes: crate::writes::count(),
            allocs,
            alloc_bytes,
        }
    }
}

/// One phase: `p.requests` requests at `p.concurrency`; returns the shared state, the time
/// it took and the counters read just before and just after it. With `trace`, allocations
/// in between are traced (see `alloc.rs`).
async fn phase<D: Driver>(
    driver: &Arc<D>,
    p: RunParams,
    trace: bool,
) -> Result<(Arc<Shared>, Duration, Counters, Counters), String> {
    let shared = Arc::new(Shared {
        next: AtomicU64::new(0),
        done: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        first_error: OnceLock::new(),
        deadline: Instant::now() + p.time_limit,
        origin: OnceLock::new(),
        params: p,
        hist: Histograms::new(p.threads + 2)?,
    });
    // Every task waits for the start signal so that spawning is outside the measured phase.
    let start = Arc::new(tokio::sync::Barrier::new(p.concurrency + 1));
    let mut tasks = Vec::with_capacity(p.concurrency);
    for w in 0..p.concurrency {
        let (driver, shared, start) = (driver.clone(), shared.clone(), start.clone());
        let seed = 0x5EED_0000 + w as u64 * 0x9E37_79B9 + p.requests;
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            worker(driver, shared, seed).await;
        }));
    }
    let progress = p.progress.then(|| {
        let shared = shared.clone();
        tokio::spawn(async move { progress_loop(&shared).await })
    });
    // Let every task reach the barrier before the counters are read.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let before = Counters::read();
    if trace {
        alloc::set_tracing(true);
    }
    let t0 = Instant::now();
    let _ = shared.origin.set(t0);
    start.wait().await;
    for t in tasks.iter_mut() {
        if let Err(e) = t.await {
            alloc::set_tracing(false);
            return Err(format!("worker task: {e}"));
        }
    }
    let elapsed = t0.elapsed();
    alloc::set_tracing(false);
    let after = Counters::read();
    if let Some(handle) = progress {
        handle.abort();
        eprintln!();
    }
    Ok((shared, elapsed, before, after))
}

/// Runs the warm-up, then the measured phase with `driver`, and returns the figures.
pub async fn measure<D: Driver>(driver: D, name: &str, p: RunParams) -> Result<Report, String> {
    let driver = Arc::new(driver);
    let mut warmup_requests = 0;
    if p.warmup > 0 {
        let warm = RunParams {
            requests: p.warmup,
            progress: false,
            ..p
        };
        // The fixed warm-up, then more windows of the same size while the previous one still
        // allocated: one-off growth (buffers, stream slots reaching their high-water mark)
        // belongs to the warm-up, not to the steady state measured next. Bounded, since a
        // client that allocates per request never has a window without allocation.
        for _ in 0..=MAX_STEADY_WINDOWS {
            let (_, _, c0, c1) = phase(&driver, warm, false).await?;
            warmup_requests += p.warmup;
            if c1.allocs == c0.allocs {
                break;
            }
        }
    }
    let trace_top = alloc::trace_top();
    let (shared, elapsed, c0, c1) = phase(&driver, p, trace_top.is_some()).await?;
    if let Some(top) = trace_top {
        alloc::report_traces(top);
    }
    let maxrss = sys::peak_rss_kib();
    let hist = shared.hist.merged().ok_or("cannot merge histograms")?;
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    Ok(Report {
        driver: name.to_owned(),
        workload: p.workload.name().to_owned(),
        concurrency: p.concurrency as u64,
        threads: p.threads as u64,
        requests: shared.done.load(Relaxed),
        errors: shared.errors.load(Relaxed),
        elapsed_s: elapsed.as_secs_f64(),
        p50_us: us(0.5),
        p90_us: us(0.9),
        p99_us: us(0.99),
        p999_us: us(0.999),
        max_us: hist.max() as f64 / 1000.0,
        cpu_user_s: c1.cpu_user - c0.cpu_user,
        cpu_sys_s: c1.cpu_sys - c0.cpu_sys,
        allocs: c1.allocs - c0.allocs,
        alloc_bytes: c1.alloc_bytes - c0.alloc_bytes,
        write_syscalls: Some(c1.writes - c0.writes),
        peak_rss_kib: maxrss,
        warmup_requests,
        first_error: shared.first_error.get().cloned(),
    })
}

/// One `\r`-refreshed line per second: requests done, rate, errors. Written with `write!` on
/// the locked stderr, which formats without allocating.
async fn progress_loop(shared: &Shared) {
    let start = Instant::now();
    let mut last = 0u64;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let done = shared.done.load(Relaxed);
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r  {:>9}/{} requests, {:>8} req/s, {} errors, {:.0} s   ",
            done,
            shared.params.requests,
            done - last,
            shared.errors.load(Relaxed),
            start.elapsed().as_secs_f64()
        );
        let _ = err.flush();
        last = done;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drivers::DriverError;

    /// Answers every request at once: what remains is the tool's own pacing.
    struct Instant0;

    impl Driver for Instant0 {
        async fn insert(&self, _k: i64) -> Result<(), DriverError> {
            Ok(())
        }
        async fn select(&self, _k: i64) -> Result<(), DriverError> {
            Ok(())
        }
    }

    fn params(rate: Option<f64>) -> RunParams {
        RunParams {
            workload: Workload::Insert,
            requests: 100,
            concurrency: 8,
            threads: 1,
            keys: 10,
            time_limit: Duration::from_secs(60),
            warmup: 0,
            progress: false,
            rate,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn open_loop_paces_requests_at_the_rate() {
        // 100 requests at 2 000 per second: the last one is due 49.5 ms after the start.
        let paced = measure(Instant0, "noop", params(Some(2_000.0)))
            .await
            .expect("runs");
        assert_eq!((paced.requests, paced.errors), (100, 0));
        assert!(paced.elapsed_s >= 0.049, "{}", paced.elapsed_s);
        // Closed loop, the same driver: no pacing, far quicker.
        let free = measure(Instant0, "noop", params(None)).await.expect("runs");
        assert_eq!((free.requests, free.errors), (100, 0));
        assert!(free.elapsed_s < 0.049, "{}", free.elapsed_s);
    }
}
