//! A counting global allocator: every allocation and reallocation of the process is counted
//! (calls and bytes requested) with relaxed atomics, then forwarded to the system allocator.
//!
//! Tracing mode, for finding where allocations come from: with `SCYLLA2_LOAD_ALLOC_TRACE=N`
//! in the environment, the child captures a backtrace of every allocation made while
//! `start_tracing` is on (the measured phase), and [`report_traces`] prints the `N` most
//! frequent stacks (aggregated by their symbolized frames) on stderr. Capturing allocates;
//! a thread-local guard keeps those allocations out of the counts and out of the traces.

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

/// Whether allocations are being traced (only in tracing mode, during the measured phase).
static TRACING: AtomicBool = AtomicBool::new(false);
/// Backtraces captured while tracing, with the size requested.
static TRACES: Mutex<Vec<(usize, Backtrace)>> = Mutex::new(Vec::new());

thread_local! {
    // Const-initialized without destructor: reading it never allocates.
    static IN_TRACE: Cell<bool> = const { Cell::new(false) };
}

/// The process's allocator (installed with `#[global_allocator]` in `main.rs`).
pub struct Counting;

/// Counts one allocation of `size` bytes, and traces it in tracing mode.
#[inline]
fn note(size: usize) {
    if TRACING.load(Relaxed) {
        trace(size);
    } else {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(size as u64, Relaxed);
    }
}

#[cold]
fn trace(size: usize) {
    // The guard's own allocations (backtrace frames, the vector) are neither counted nor
    // traced.
    if IN_TRACE.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    ALLOCS.fetch_add(1, Relaxed);
    BYTES.fetch_add(size as u64, Relaxed);
    IN_TRACE.set(true);
    let bt = Backtrace::force_capture();
    if let Ok(mut traces) = TRACES.lock() {
        traces.push((size, bt));
    }
    IN_TRACE.set(false);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is `System`'s; the counters and traces have no effect on the memory
// returned.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same layout as ours, forwarded as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same layout as ours, forwarded as is.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was returned by `System` for this `layout` (all our methods forward).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: `ptr`/`layout` come from `System` through us; arguments forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations (calls, bytes requested) counted so far.
pub fn snapshot() -> (u64, u64) {
    (ALLOCS.load(Relaxed), BYTES.load(Relaxed))
}

/// How many stacks to print in tracing mode (`SCYLLA2_LOAD_ALLOC_TRACE`), `None` when off.
pub fn trace_top() -> Option<usize> {
    std::env::var("SCYLLA2_LOAD_ALLOC_TRACE")
        .ok()
        .and_then(|v| v.parse().ok())
}

/// Turns tracing on or off (call only in tracing mode).
pub fn set_tracing(on: bool) {
    TRACING.store(on, Relaxed);
}

/// Frames of the allocator and of the capture itself, skipped at the top of each stack.
fn is_noise(symbol: &str) -> bool {
    symbol.starts_with("std::backtrace")
        || symbol.starts_with("scylla2_load::alloc::")
        || symbol.starts_with("__rustc::")
        || symbol.starts_with("alloc::alloc::")
        || symbol.starts_with("<alloc::alloc::Global")
        || symbol.starts_with("<scylla2_load::alloc::Counting")
}

/// Prints the `top` most frequent allocation stacks captured while tracing, on stderr.
pub fn report_traces(top: usize) {
    let traces = match TRACES.lock() {
        Ok(mut t) => std::mem::take(&mut *t),
        Err(_) => return,
    };
    let total = traces.len();
    let mut by_stack: HashMap<String, (u64, u64)> = HashMap::new();
    for (size, bt) in &traces {
        let key = condense(&bt.to_string());
        let e = by_stack.entry(key).or_default();
        e.0 += 1;
        e.1 += *size as u64;
    }
    let mut stacks: Vec<_> = by_stack.into_iter().collect();
    stacks.sort_by_key(|s| std::cmp::Reverse(s.1.0));
    eprintln!(
        "\n=== {total} allocations traced, {} distinct stacks ===",
        stacks.len()
    );
    for (stack, (count, bytes)) in stacks.into_iter().take(top) {
        eprintln!("--- {count} allocations, {bytes} bytes ---\n{stack}");
    }
}

/// One line per frame, `symbol (file:line)` with the file shortened to its crate-relative
/// path; drops the allocator's frames at the top and stops at the runtime's task polling.
fn condense(bt: &str) -> String {
    let mut out = String::new();
    let mut lines = bt.lines().peekable();
    let mut frames = 0;
    let mut skipping = true;
    while let Some(line) = lines.next() {
        let line = line.trim();
        if line.starts_with("at ") {
            continue;
        }
        let Some((_, symbol)) = line.split_once(": ") else {
            continue;
        };
        let at = match lines.peek() {
            Some(next) if next.trim().starts_with("at ") => short_path(next.trim()),
            _ => "",
        };
        if skipping && is_noise(symbol) {
            continue;
        }
        skipping = false;
        if symbol.starts_with("tokio::runtime::task::core::Core") {
            break;
        }
        out.push_str("    ");
        out.push_str(symbol);
        if !at.is_empty() {
            out.push_str("  (");
            out.push_str(at);
            out.push(')');
        }
        out.push('\n');
        frames += 1;
        if frames >= 40 {
            break;
        }
    }
    out
}

/// `at /long/path/crate-1.2.3/src/x.rs:1:2` -> `crate-1.2.3/src/x.rs:1:2`.
fn short_path(at: &str) -> &str {
    let path = at.trim_start_matches("at ");
    match path.rfind("/src/") {
        Some(i) => {
            let head = &path[..i];
            let start = head.rfind('/').map_or(0, |j| j + 1);
            &path[start..]
        }
        None => path,
    }
}
