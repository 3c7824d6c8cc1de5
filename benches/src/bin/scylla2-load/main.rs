//! `scylla2-load`: a load tool measuring scylla2 against the official `scylla` driver.
//!
//! ```text
//! scylla2-load [--uri host:port[,host:port...]] [--workload insert|select|mixed[,...]]
//!              [--requests N] [--concurrency C[,C...]] [--threads T]
//!              [--driver scylla2|scylla|both] [--keys K] [--time-limit SECS] [--json]
//!              [--warmup N] [--compression lz4|snappy] [--sim PATH] [--no-progress]
//!              [--write-coalescing yield|next-read] [--rate R]
//! ```
//!
//! Without `--uri` it starts `scylla2-sim` (3 nodes × 4 shards on 127.0.77.x) in a separate
//! process. It creates the schema, prefills `K` keys when a workload reads, then runs each
//! (workload, concurrency, driver) in a fresh child process (itself, re-executed with the
//! hidden `--child` flag) so each driver's CPU, allocations, write syscalls and RSS are its
//! own. Each child first runs `--warmup` requests of the same workload and concurrency (not
//! measured: buffers, stream-id slots and runtime queues reach their steady size, every node
//! learns the prepared statements), then the measured `--requests`. Prints a plain-text table
//! with ratios scylla2 / scylla, and JSON with `--json`.
//!
//! With `--rate R` the load is open-loop: request `i` of a phase is due `i / R` seconds after
//! the phase starts, whenever the previous ones answered; the concurrency only caps the
//! requests in flight. Due times are honoured with tokio's timer, whose resolution is 1 ms,
//! so requests leave in bursts of about `R / 1000`, and a request's latency counts from when
//! it is sent, not from its due time (the timer's lateness is not the driver's). A client
//! that cannot keep up shows as a throughput below `R`.
//!
//! `SCYLLA2_LOAD_ALLOC_TRACE=N` in the environment makes each child record a backtrace of
//! every allocation of its measured phase and print the `N` most frequent stacks on stderr
//! (see `alloc.rs`; the figures of such a run are slower but the counts are exact).

mod alloc;
mod coordinator;
mod drivers;
mod report;
mod run;
mod sys;
mod writes;

use std::process::ExitCode;
use std::time::Duration;

use run::{RunParams, Workload};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

const USAGE: &str = "usage: scylla2-load [--uri host:port[,host:port...]] \
[--workload insert|select|mixed[,...]] [--requests N] [--concurrency C[,C...]] [--threads T] \
[--driver scylla2|scylla|both] [--keys K] [--time-limit SECS] [--json] [--warmup N] \
[--compression lz4|snappy] [--sim PATH] [--no-progress] [--write-coalescing yield|next-read] \
[--rate R]";

/// Parsed command line.
#[derive(Debug, Clone)]
pub struct Args {
    /// Contact points; empty: start the simulator.
    pub uri: Vec<String>,
    /// Workloads to run, in order.
    pub workloads: Vec<Workload>,
    /// Requests per (workload, concurrency, driver).
    pub requests: u64,
    /// Concurrency levels, in order.
    pub concurrency: Vec<usize>,
    /// Tokio worker threads of each driver process.
    pub threads: usize,
    /// Drivers to run.
    pub drivers: Vec<&'static str>,
    /// Key space size.
    pub keys: Option<u64>,
    /// Time limit of each measured run.
    pub time_limit: Duration,
    /// Requests run before each measured run; `None`: [`Args::warmup`]'s default.
    pub warmup: Option<u64>,
    /// Compression both drivers ask for in the measured runs (`lz4` or `snappy`).
    pub compression: Option<drivers::Compression>,
    /// scylla2 holds write batches until the next read
    /// (`WriteCoalescing::until_next_read`, opt-in) instead of its default.
    pub hold_writes: bool,
    /// Open-loop rate, requests per second per child (`None`: closed loop).
    pub rate: Option<f64>,
    /// Print JSON after the table.
    pub json: bool,
    /// Path of the simulator binary.
    pub sim: Option<String>,
    /// Live progress line.
    pub progress: bool,
    /// Hidden: run as the child process of this driver.
    pub child: Option<String>,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        uri: Vec::new(),
        workloads: vec![Workload::Insert],
        requests: 100_000,
        concurrency: vec![128],
        threads: 1,
        drivers: vec!["scylla2", "scylla"],
        keys: None,
        time_limit: Duration::from_secs(600),
        warmup: None,
        compression: None,
        hold_writes: false,
        rate: None,
        json: false,
        sim: None,
        progress: true,
        child: None,
    };
    fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
        v.parse()
            .map_err(|_| format!("{name}: invalid value {v:?}"))
    }
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--uri" => a.uri = value()?.split(',').map(str::to_owned).collect(),
            "--workload" => {
                a.workloads = value()?
                    .split(',')
                    .map(|w| Workload::parse(w).ok_or_else(|| format!("unknown workload {w:?}")))
                    .collect::<Result<_, _>>()?
            }
            "--requests" => a.requests = num("--requests", &value()?)?,
            "--concurrency" => {
                a.concurrency = value()?
                    .split(',')
                    .map(|c| num("--concurrency", c))
                    .collect::<Result<_, _>>()?
            }
            "--threads" => a.threads = num("--threads", &value()?)?,
            "--driver" => {
                a.drivers = match value()?.as_str() {
                    "scylla2" => vec!["scylla2"],
                    "scylla" => vec!["scylla"],
                    "both" => vec!["scylla2", "scylla"],
                    other => return Err(format!("unknown driver {other:?}")),
                }
            }
            "--keys" => a.keys = Some(num("--keys", &value()?)?),
            "--time-limit" => a.time_limit = Duration::from_secs(num("--time-limit", &value()?)?),
            "--warmup" => a.warmup = Some(num("--warmup", &value()?)?),
            "--compression" => {
                let v = value()?;
                a.compression = Some(
                    drivers::Compression::parse(&v)
                        .ok_or_else(|| format!("unknown compression {v:?}"))?,
                )
            }
            "--write-coalescing" => {
                a.hold_writes = match value()?.as_str() {
                    "yield" => false,
                    "next-read" => true,
                    other => return Err(format!("unknown write coalescing {other:?}")),
                }
            }
            "--rate" => {
                let rate: f64 = num("--rate", &value()?)?;
                if !(rate.is_finite() && rate > 0.0) {
                    return Err("--rate must be a positive number of requests per second".into());
                }
                a.rate = Some(rate);
            }
            "--json" => a.json = true,
            "--sim" => a.sim = Some(value()?),
            "--no-progress" => a.progress = false,
            "--child" => a.child = Some(value()?),
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if a.requests == 0 || a.threads == 0 || a.concurrency.contains(&0) {
        return Err("--requests, --threads and --concurrency must be positive".to_owned());
    }
    if a.keys == Some(0) {
        return Err("--keys must be positive".to_owned());
    }
    Ok(a)
}

impl Args {
    /// Keys drawn from `0..keys`: given, or the request count capped at 100 000.
    pub fn keys(&self) -> u64 {
        self.keys.unwrap_or(self.requests.min(100_000))
    }

    /// Warm-up requests before a measured run at `concurrency`: given, or 20 rounds of the
    /// concurrency but at least 20 000, capped at the measured request count.
    pub fn warmup(&self, concurrency: usize) -> u64 {
        self.warmup
            .unwrap_or_else(|| (concurrency as u64 * 20).max(20_000).min(self.requests))
    }
}

/// Child mode: one driver, one workload, one concurrency; prints one `RESULT` line.
fn child(args: &Args, driver: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (Some(&workload), Some(&concurrency)) = (args.workloads.first(), args.concurrency.first())
    else {
        return Err("child needs one workload and one concurrency".to_owned());
    };
    let params = RunParams {
        workload,
        requests: args.requests,
        concurrency,
        threads: args.threads,
        keys: args.keys(),
        time_limit: args.time_limit,
        warmup: args.warmup(concurrency),
        progress: args.progress,
        rate: args.rate,
    };
    let report = rt.block_on(async {
        match driver {
            "scylla2" => {
                let d = drivers::Scylla2::connect(&args.uri, args.compression, args.hold_writes)
                    .await?;
                run::measure(d, driver, params).await
            }
            "scylla" => {
                let d = drivers::Official::connect(&args.uri, args.compression).await?;
                run::measure(d, driver, params).await
            }
            other => Err(format!("unknown driver {other:?}")),
        }
    })?;
    println!("{}", report.to_line());
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let result = match args.child.clone() {
        Some(driver) => child(&args, &driver),
        None => coordinator::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scylla2-load: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        parse(s.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_lists_and_defaults() {
        let a = args("--workload insert,select --concurrency 128,2048 --requests 10 --json")
            .expect("valid");
        assert_eq!(a.workloads, vec![Workload::Insert, Workload::Select]);
        assert_eq!(a.concurrency, vec![128, 2048]);
        assert_eq!(a.keys(), 10);
        assert!(a.json && a.uri.is_empty());
        assert_eq!(a.drivers, vec!["scylla2", "scylla"]);
        assert_eq!(args("--requests 1000000").expect("valid").keys(), 100_000);
        assert_eq!(a.warmup(128), 10);
        let a = args("--requests 1000000").expect("valid");
        assert_eq!((a.warmup(128), a.warmup(2048)), (20_000, 40_960));
        assert_eq!(args("--warmup 0").expect("valid").warmup(128), 0);
        assert_eq!(
            args("--compression snappy").expect("valid").compression,
            Some(drivers::Compression::Snappy)
        );
        assert!(args("--compression zstd").is_err());
        assert!(!args("").expect("valid").hold_writes);
        assert!(
            args("--write-coalescing next-read")
                .expect("valid")
                .hold_writes
        );
        assert!(args("--write-coalescing nagle").is_err());
        assert_eq!(args("").expect("valid").rate, None);
        assert_eq!(args("--rate 150000").expect("valid").rate, Some(150_000.0));
    }

    #[test]
    fn rejects_bad_input() {
        assert!(args("--workload delete").is_err());
        assert!(args("--concurrency 0").is_err());
        assert!(args("--driver java").is_err());
        assert!(args("--requests").is_err());
        assert!(args("--bogus").is_err());
        assert!(args("--rate 0").is_err());
        assert!(args("--rate -5").is_err());
        assert!(args("--rate inf").is_err());
        assert!(args("--rate fast").is_err());
    }
}
