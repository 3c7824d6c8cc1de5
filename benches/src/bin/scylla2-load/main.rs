//! `scylla2-load`: a load tool measuring scylla2 against the official `scylla` driver.
//!
//! ```text
//! scylla2-load [--uri host:port[,host:port...]] [--workload insert|select|mixed[,...]]
//!              [--requests N] [--concurrency C[,C...]] [--threads T]
//!              [--driver scylla2|scylla|both] [--keys K] [--time-limit SECS] [--json]
//!              [--warmup N] [--compression lz4|snappy] [--sim PATH] [--sim-multi-thread]
//!              [--sim-no-huge-pages] [--no-progress]
//!              [--write-coalescing yield|next-read|adaptive] [--rate R]
//! ```
//!
//! `--help` describes each flag and its default (the `FLAGS` table below).
//!
//! Without `--uri` it starts `scylla2-sim` (3 nodes × 4 shards on 127.0.77.x) in a separate
//! process, on one thread and with its heap on huge pages unless told otherwise. It creates
//! the schema, prefills `K` keys when a workload reads, then runs each
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

/// One command-line flag, as `--help` shows it.
struct Flag {
    /// The flag, e.g. `--requests`.
    name: &'static str,
    /// Its value's placeholder; `None`: a switch without a value.
    value: Option<&'static str>,
    /// What it does, ending with its default.
    help: &'static str,
    /// A valid value (tests pass it to the parser); empty for a switch.
    #[cfg_attr(not(test), allow(dead_code))]
    example: &'static str,
}

/// Every flag the parser accepts but `--help` and `--child`, in the order `--help` lists them.
/// [`parse`] refuses any flag not here, so the parser and the help cannot drift apart.
const FLAGS: &[Flag] = &[
    Flag {
        name: "--uri",
        value: Some("HOST:PORT[,HOST:PORT...]"),
        help: "contact points of a running cluster. Default: none; start scylla2-sim \
               (3 nodes x 4 shards on 127.0.77.x) for the run",
        example: "127.0.0.1:9042",
    },
    Flag {
        name: "--workload",
        value: Some("insert|select|mixed[,...]"),
        help: "workloads, run in this order; a reading one prefills the keys first. \
               Default: insert",
        example: "insert,select,mixed",
    },
    Flag {
        name: "--requests",
        value: Some("N"),
        help: "measured requests per (workload, concurrency, driver). Default: 100000",
        example: "10",
    },
    Flag {
        name: "--concurrency",
        value: Some("C[,C...]"),
        help: "requests in flight; each level is a run of its own. Default: 128",
        example: "128,2048",
    },
    Flag {
        name: "--threads",
        value: Some("T"),
        help: "tokio worker threads of each driver process. Default: 1",
        example: "2",
    },
    Flag {
        name: "--driver",
        value: Some("scylla2|scylla|both"),
        help: "drivers to measure, each in a process of its own. Default: both",
        example: "scylla2",
    },
    Flag {
        name: "--keys",
        value: Some("K"),
        help: "requests use keys 0..K. Default: --requests, at most 100000",
        example: "1000",
    },
    Flag {
        name: "--time-limit",
        value: Some("SECS"),
        help: "each measured run stops after this many seconds. Default: 600",
        example: "60",
    },
    Flag {
        name: "--warmup",
        value: Some("N"),
        help: "unmeasured requests before each measured run. Default: 20 x the \
               concurrency, at least 20000, at most --requests",
        example: "0",
    },
    Flag {
        name: "--compression",
        value: Some("lz4|snappy"),
        help: "both drivers compress frames in the measured runs. Default: none",
        example: "lz4",
    },
    Flag {
        name: "--write-coalescing",
        value: Some("yield|next-read|adaptive"),
        help: "scylla2 flushes its write batch when its task yields, holds it until \
               the next read (WriteCoalescing::until_next_read), or does so while holding \
               pays (WriteCoalescing::adaptive). Default: yield (the driver's default)",
        example: "adaptive",
    },
    Flag {
        name: "--rate",
        value: Some("R"),
        help: "open loop: R requests per second per driver process, the concurrency only \
               caps those in flight. Default: none (closed loop)",
        example: "1000.5",
    },
    Flag {
        name: "--json",
        value: None,
        help: "print the reports as JSON after the table. Default: off",
        example: "",
    },
    Flag {
        name: "--sim",
        value: Some("PATH"),
        help: "the scylla2-sim binary to start. Default: next to this executable, \
               else built with cargo",
        example: "/bin/true",
    },
    Flag {
        name: "--sim-multi-thread",
        value: None,
        help: "start the simulator on its tokio multi-thread runtime (its own default) instead \
               of a current_thread one: on a 2-core machine its threads then share both cores \
               with the client, and each request costs it more (cache lines moving between \
               cores). Default: current_thread (one core, as a shard of ScyllaDB is one thread)",
        example: "",
    },
    Flag {
        name: "--sim-no-huge-pages",
        value: None,
        help: "leave the simulator's heap on the allocator's default pages. Default: transparent \
               huge pages asked from glibc (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): its point \
               accesses to a large table then pay less for address translation (20-30 % less \
               CPU per INSERT at 2 048 in flight, benches/README.md); the line under the \
               table says how much of its memory got them",
        example: "",
    },
    Flag {
        name: "--no-progress",
        value: None,
        help: "no live progress line on stderr. Default: a line every second",
        example: "",
    },
];

/// Flags the parser accepts that `--help` does not list: the coordinator passes them to the
/// child processes it starts.
const HIDDEN_FLAGS: &[&str] = &["--child"];

/// The `--help` text: every flag of [`FLAGS`] with its value and default.
fn usage() -> String {
    let mut s = String::from(
        "scylla2-load: throughput, latency, CPU, allocations, write syscalls and memory per \
         request of scylla2 and the official `scylla` driver, each (workload, concurrency, \
         driver) in a process of its own; prints a table with the ratios scylla2 / scylla.\n\n\
         usage: scylla2-load [FLAGS]\n\nflags:\n",
    );
    for f in FLAGS {
        s.push_str("  ");
        s.push_str(f.name);
        if let Some(v) = f.value {
            s.push(' ');
            s.push_str(v);
        }
        s.push_str("\n      ");
        s.push_str(f.help);
        s.push('\n');
    }
    s.push_str(
        "  -h, --help\n      print this help and exit\n\n\
         environment:\n  SCYLLA2_LOAD_ALLOC_TRACE=N\n      each driver process prints the N \
         most frequent allocation stacks of its measured run on stderr (slower run, exact \
         counts)\n",
    );
    s
}

/// What the command line asks for.
#[derive(Debug)]
enum Command {
    /// Run (or, with `--child`, be one driver's child process).
    Run(Box<Args>),
    /// Print [`usage`] and exit successfully.
    Help,
}

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
    /// How scylla2 gathers its write batches (`--write-coalescing`).
    pub writes: drivers::WriteRule,
    /// Open-loop rate, requests per second per child (`None`: closed loop).
    pub rate: Option<f64>,
    /// Print JSON after the table.
    pub json: bool,
    /// Path of the simulator binary.
    pub sim: Option<String>,
    /// Start the simulator on its multi-thread runtime (without `--current-thread`).
    pub sim_multi_thread: bool,
    /// Leave the simulator's heap on default pages.
    pub sim_no_huge_pages: bool,
    /// Live progress line.
    pub progress: bool,
    /// Hidden: run as the child process of this driver.
    pub child: Option<String>,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Command, String> {
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
        writes: drivers::WriteRule::Yield,
        rate: None,
        json: false,
        sim: None,
        sim_multi_thread: false,
        sim_no_huge_pages: false,
        progress: true,
        child: None,
    };
    fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
        v.parse()
            .map_err(|_| format!("{name}: invalid value {v:?}"))
    }
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        if !FLAGS.iter().any(|f| f.name == arg) && !HIDDEN_FLAGS.contains(&arg.as_str()) {
            return Err(format!(
                "unknown argument {arg:?} (scylla2-load --help lists the flags)"
            ));
        }
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
                let v = value()?;
                a.writes = drivers::WriteRule::parse(&v)
                    .ok_or_else(|| format!("unknown write coalescing {v:?}"))?;
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
            "--sim-multi-thread" => a.sim_multi_thread = true,
            "--sim-no-huge-pages" => a.sim_no_huge_pages = true,
            "--no-progress" => a.progress = false,
            "--child" => a.child = Some(value()?),
            other => return Err(format!("flag {other:?} is listed but not handled")),
        }
    }
    if a.requests == 0 || a.threads == 0 || a.concurrency.contains(&0) {
        return Err("--requests, --threads and --concurrency must be positive".to_owned());
    }
    if a.keys == Some(0) {
        return Err("--keys must be positive".to_owned());
    }
    Ok(Command::Run(Box::new(a)))
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
                let d = drivers::Scylla2::connect(&args.uri, args.compression, args.writes).await?;
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
        Ok(Command::Run(a)) => a,
        Ok(Command::Help) => {
            print!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("scylla2-load: {msg}");
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
        match parse(s.split_whitespace().map(str::to_owned))? {
            Command::Run(a) => Ok(*a),
            Command::Help => Err("help".to_owned()),
        }
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
        assert_eq!(args("").expect("valid").writes, drivers::WriteRule::Yield);
        for rule in [drivers::WriteRule::NextRead, drivers::WriteRule::Adaptive] {
            let flag = format!("--write-coalescing {}", rule.name());
            assert_eq!(args(&flag).expect("valid").writes, rule);
        }
        assert!(args("--write-coalescing nagle").is_err());
        assert_eq!(args("").expect("valid").rate, None);
        assert_eq!(args("--rate 150000").expect("valid").rate, Some(150_000.0));
    }

    /// Every flag the parser's `match` names (its string literals starting with `-`) is in
    /// `--help` or is hidden, and every flag `--help` lists is accepted with its example
    /// value: a flag added to one and not the other fails here.
    #[test]
    fn help_lists_every_flag_the_parser_accepts() {
        let help = usage();
        let listed = |flag: &str| {
            help.lines().any(|l| {
                let l = l.trim_start();
                l.split([' ', ',']).next() == Some(flag) || l.starts_with(&format!("-h, {flag}"))
            })
        };
        let source = include_str!("main.rs");
        let body_start = source.find("fn parse(").expect("parse fn");
        let body_end = body_start + source[body_start..].find("\n}\n").expect("parse end");
        let mut handled = Vec::new();
        for line in source[body_start..body_end].lines() {
            let line = line.trim();
            if !(line.contains("=>") || line.starts_with("if arg ==")) {
                continue;
            }
            for lit in line.split('"').skip(1).step_by(2) {
                if lit.starts_with('-') && lit.len() > 1 {
                    handled.push(lit.to_owned());
                }
            }
        }
        assert!(handled.len() > FLAGS.len(), "{handled:?}");
        for flag in &handled {
            assert!(
                listed(flag) || HIDDEN_FLAGS.contains(&flag.as_str()),
                "the parser accepts {flag} but --help does not list it:\n{help}"
            );
        }
        for f in FLAGS {
            assert!(listed(f.name), "{} missing from --help:\n{help}", f.name);
            assert!(f.help.contains("Default: "), "{} gives no default", f.name);
            assert!(
                handled.contains(&f.name.to_owned()),
                "{} is not parsed",
                f.name
            );
            let line = match f.value {
                Some(_) => format!("{} {}", f.name, f.example),
                None => f.name.to_owned(),
            };
            assert!(args(&line).is_ok(), "{line}: {:?}", args(&line).err());
        }
        assert!(matches!(
            parse(["--help".to_owned()].into_iter()),
            Ok(Command::Help)
        ));
        assert!(matches!(
            parse(["-h".to_owned()].into_iter()),
            Ok(Command::Help)
        ));
        let d = args("").expect("defaults");
        for (flag, default) in [
            ("--requests", d.requests.to_string()),
            ("--concurrency", d.concurrency[0].to_string()),
            ("--threads", d.threads.to_string()),
            ("--time-limit", d.time_limit.as_secs().to_string()),
        ] {
            let f = FLAGS.iter().find(|f| f.name == flag).expect("flag");
            assert!(
                f.help.ends_with(&format!("Default: {default}")),
                "{flag}: help says {:?}, the parser defaults to {default}",
                f.help
            );
        }
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
