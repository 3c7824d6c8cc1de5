// The measured process of the instruction benchmark (`scylla2-instructions`, see
// `benches/README.md`): one driver runs one workload on a tokio current_thread runtime with
// prepared single-row statements, `--concurrency` requests in flight, first `--warmup`
// requests, then `--requests` more, and exits. The coordinator runs it under
// `valgrind --tool=callgrind` twice, with a short and a long `--requests`, counting only
// `measured_phase` (see there), and divides the difference of the two instruction totals by
// the difference of the request counts, so that what the phase's start and end cost cancels
// out.
//
//   scylla2-instructions-client --contact host:port[,host:port...] --driver scylla2|official
//       --workload insert|select --concurrency C --requests N [--warmup W] [--keys K]
//   scylla2-instructions-client --contact ... --setup [--keys K]   (schema and keys 0..K)
//   scylla2-instructions-client --features     (whether it has all-driver-features)
//
// Request `i` (counting the warm-up) uses key `splitmix64(i) % K`: the short and the long run
// send the same sequence, the long one further. Plain comments, no inner doc comments: the
// all-features twin (`scylla2-instructions-client-all-features.rs`) includes this file.

#[allow(dead_code)] // the load tool's drivers: this client uses only part of them
#[path = "scylla2-load/drivers.rs"]
mod drivers;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use drivers::Driver;
use tokio::runtime::Runtime;

/// Whether scylla2 was built with every optional feature (the benches crate's
/// `all-driver-features`, which forwards to each of them).
const ALL_DRIVER_FEATURES: bool = cfg!(feature = "all-driver-features");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    Insert,
    Select,
}

#[derive(Debug)]
struct Args {
    contact: Vec<String>,
    driver: String,
    workload: Workload,
    concurrency: usize,
    requests: u64,
    warmup: u64,
    keys: u64,
    setup: bool,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        contact: Vec::new(),
        driver: "scylla2".to_owned(),
        workload: Workload::Insert,
        concurrency: 1,
        requests: 1000,
        warmup: 2000,
        keys: 1000,
        setup: false,
    };
    fn num(name: &str, v: String) -> Result<u64, String> {
        v.parse()
            .map_err(|_| format!("{name}: invalid value {v:?}"))
    }
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--contact" => a.contact = value()?.split(',').map(str::to_owned).collect(),
            "--driver" => {
                a.driver = value()?;
                if a.driver != "scylla2" && a.driver != "official" {
                    return Err(format!("unknown driver {:?}", a.driver));
                }
            }
            "--workload" => {
                a.workload = match value()?.as_str() {
                    "insert" => Workload::Insert,
                    "select" => Workload::Select,
                    other => return Err(format!("unknown workload {other:?}")),
                }
            }
            "--concurrency" => a.concurrency = num(&arg, value()?)?.max(1) as usize,
            "--requests" => a.requests = num(&arg, value()?)?,
            "--warmup" => a.warmup = num(&arg, value()?)?,
            "--keys" => a.keys = num(&arg, value()?)?.max(1),
            "--setup" => a.setup = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if a.contact.is_empty() {
        return Err("--contact host:port is required".to_owned());
    }
    Ok(a)
}

/// The key of request `i`: splitmix64, so consecutive requests spread over nodes and shards.
fn key(i: u64, keys: u64) -> i64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) % keys) as i64
}

struct Shared {
    next: AtomicU64,
    end: u64,
    keys: u64,
    workload: Workload,
    errors: AtomicU64,
    first_error: OnceLock<String>,
}

async fn worker<D: Driver>(driver: Arc<D>, shared: Arc<Shared>) {
    loop {
        let i = shared.next.fetch_add(1, Relaxed);
        if i >= shared.end {
            return;
        }
        let k = key(i, shared.keys);
        let result = match shared.workload {
            Workload::Insert => driver.insert(k).await,
            Workload::Select => driver.select(k).await,
        };
        if let Err(e) = result {
            shared.errors.fetch_add(1, Relaxed);
            let _ = shared.first_error.set(e);
        }
    }
}

/// Requests `start..end` with `concurrency` tasks sharing the request counter.
async fn phase<D: Driver>(driver: &Arc<D>, a: &Args, start: u64, end: u64) -> Result<(), String> {
    let shared = Arc::new(Shared {
        next: AtomicU64::new(start),
        end,
        keys: a.keys,
        workload: a.workload,
        errors: AtomicU64::new(0),
        first_error: OnceLock::new(),
    });
    let tasks: Vec<_> = (0..a.concurrency)
        .map(|_| tokio::spawn(worker(driver.clone(), shared.clone())))
        .collect();
    for t in tasks {
        t.await.map_err(|e| format!("worker task: {e}"))?;
    }
    match shared.errors.load(Relaxed) {
        0 => Ok(()),
        n => Err(format!(
            "{n} request(s) failed, first: {}",
            shared.first_error.get().map_or("?", String::as_str)
        )),
    }
}

/// The warm-up, then the measured requests in [`measured_phase`].
fn measure<D: Driver>(rt: &Runtime, driver: D, a: &Args) -> Result<(), String> {
    let driver = Arc::new(driver);
    rt.block_on(phase(&driver, a, 0, a.warmup))?;
    measured_phase(rt, &driver, a)
}

/// The measured requests. Everything this thread runs while this function is on its stack
/// (the requests, and the driver's tasks: the current_thread runtime polls them all here) is
/// what the coordinator counts, with callgrind's `--toggle-collect` on this function's
/// name: the process's start-up, connection set-up, warm-up and exit are left out (their
/// cost varies from run to run with the allocator's state and the timing of the pool's
/// concurrent connects, which the short and long runs would not cancel).
#[inline(never)]
fn measured_phase<D: Driver>(rt: &Runtime, driver: &Arc<D>, a: &Args) -> Result<(), String> {
    rt.block_on(phase(driver, a, a.warmup, a.warmup + a.requests))
}

/// Creates the schema and inserts keys `0..keys` (so that every SELECT finds its row).
async fn setup(a: &Args) -> Result<(), String> {
    let session = drivers::Scylla2::connect_bare(&a.contact).await?;
    for cql in [drivers::KEYSPACE_CQL, drivers::TABLE_CQL] {
        session
            .execute(cql, ())
            .await
            .map_err(|e| format!("{cql}: {e}"))?;
    }
    drop(session);
    let driver = drivers::Scylla2::connect(&a.contact, None, drivers::WriteRule::Yield).await?;
    for k in 0..a.keys {
        driver.insert(k as i64).await?;
    }
    Ok(())
}

fn run(rt: &Runtime, a: &Args) -> Result<(), String> {
    if a.setup {
        return rt.block_on(setup(a));
    }
    if a.driver == "scylla2" {
        let driver = rt.block_on(drivers::Scylla2::connect(
            &a.contact,
            None,
            drivers::WriteRule::Yield,
        ))?;
        measure(rt, driver, a)
    } else {
        let driver = rt.block_on(drivers::Official::connect(&a.contact, None))?;
        measure(rt, driver, a)
    }
}

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1).peekable();
    if argv.peek().is_some_and(|a| a == "--features") {
        let on = if ALL_DRIVER_FEATURES { "on" } else { "off" };
        println!("all-driver-features: {on}");
        return ExitCode::SUCCESS;
    }
    let args = match parse(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("scylla2-instructions-client: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("scylla2-instructions-client: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(&rt, &args) {
        Ok(()) => {
            println!("done");
            // Exit without dropping the session and the runtime: the same in both runs, and
            // less time under valgrind.
            std::process::exit(0)
        }
        Err(e) => {
            eprintln!("scylla2-instructions-client: {e}");
            ExitCode::FAILURE
        }
    }
}
