//! The coordinating process: starts the simulator (unless `--uri`), creates the schema,
//! prefills the keys reads need, runs every (workload, concurrency, driver) in a child
//! process of its own, and prints the table, the machine's load average (and JSON).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::Args;
use crate::drivers::{self, Driver};
use crate::report::{self, Report};
use crate::run::Workload;
use crate::sys;
use scylla2_benches::sim_process::{self, Heap, Sim};

/// Where the simulator binary is: `--sim`, else next to this executable, else built with cargo
/// into the same target directory and profile.
fn sim_path(args: &Args) -> Result<PathBuf, String> {
    if let Some(p) = &args.sim {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    let dir = exe
        .parent()
        .ok_or("executable has no directory")?
        .to_path_buf();
    let path = dir.join("scylla2-sim");
    if path.exists() {
        return Ok(path);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "-p",
        "scylla2-sim",
        "--bin",
        "scylla2-sim",
        "--manifest-path",
    ])
    .arg(manifest);
    if dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    eprintln!("building scylla2-sim ...");
    let status = cmd.status().map_err(|e| format!("cargo: {e}"))?;
    if !status.success() || !path.exists() {
        return Err(format!(
            "cannot build scylla2-sim (expected at {})",
            path.display()
        ));
    }
    Ok(path)
}

/// Starts `scylla2-sim --nodes 3 --shards 4` on 127.0.77.x with free ports (on a
/// current_thread runtime unless `--sim-multi-thread`, its heap on huge pages unless
/// `--sim-no-huge-pages`) and returns it with its contact points.
fn start_sim(args: &Args) -> Result<(Sim, Vec<String>), String> {
    let extra: &[&str] = if args.sim_multi_thread {
        &[]
    } else {
        &["--current-thread"]
    };
    let heap = if args.sim_no_huge_pages {
        Heap::Default
    } else {
        Heap::HugePages
    };
    sim_process::start(&sim_path(args)?, "127.0.77.1", extra, heap)
}

/// The line under the table that says how the simulator ran: its runtime, and its resident
/// memory with the part on huge pages (read at the end of the runs).
fn sim_note(args: &Args, sim: &Sim) -> String {
    let runtime = if args.sim_multi_thread {
        "multi-thread"
    } else {
        "current_thread"
    };
    let asked = if args.sim_no_huge_pages {
        "default pages"
    } else {
        "huge pages asked"
    };
    let pages = match sim.huge_pages() {
        Some(r) => format!(
            "{} MiB of its {} MiB resident on huge pages",
            r.huge_kib / 1024,
            r.rss_kib / 1024
        ),
        None => "its pages unknown (no /proc)".to_owned(),
    };
    format!("scylla2-sim: {runtime} runtime, {asked}; {pages}")
}

/// Creates the keyspace and table, and inserts keys `0..keys` when a workload reads.
async fn prepare_cluster(points: &[String], keys: u64, prefill: bool) -> Result<(), String> {
    let session = drivers::Scylla2::connect_bare(points).await?;
    for cql in [drivers::KEYSPACE_CQL, drivers::TABLE_CQL] {
        session
            .execute(cql, ())
            .await
            .map_err(|e| format!("{cql}: {e}"))?;
    }
    drop(session);
    if !prefill {
        return Ok(());
    }
    eprintln!("prefilling {keys} keys ...");
    let driver =
        Arc::new(drivers::Scylla2::connect(points, None, drivers::WriteRule::Yield).await?);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..256 {
        let (driver, next) = (driver.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, Relaxed);
                if k >= keys {
                    return Ok::<(), String>(());
                }
                driver.insert(k as i64).await?;
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| format!("prefill task: {e}"))??;
    }
    Ok(())
}

/// Runs one child process and parses its report.
fn run_child(
    args: &Args,
    points: &[String],
    driver: &str,
    workload: Workload,
    concurrency: usize,
) -> Result<Report, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.args(["--child", driver, "--uri", &points.join(",")])
        .args(["--workload", workload.name()])
        .args(["--requests", &args.requests.to_string()])
        .args(["--concurrency", &concurrency.to_string()])
        .args(["--threads", &args.threads.to_string()])
        .args(["--keys", &args.keys().to_string()])
        .args(["--time-limit", &args.time_limit.as_secs().to_string()])
        .args(["--warmup", &args.warmup(concurrency).to_string()]);
    if let Some(c) = args.compression {
        cmd.args(["--compression", c.name()]);
    }
    if args.writes != drivers::WriteRule::Yield {
        cmd.args(["--write-coalescing", args.writes.name()]);
    }
    if let Some(rate) = args.rate {
        cmd.args(["--rate", &rate.to_string()]);
    }
    if !args.progress {
        cmd.arg("--no-progress");
    }
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run the {driver} child: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().find_map(Report::from_line) {
        Some(r) if out.status.success() => Ok(r),
        _ => Err(format!("{driver} child failed ({})", out.status)),
    }
}

/// Coordinator mode.
pub fn run(args: &Args) -> Result<(), String> {
    // Sampled before the simulator starts: the load of the rest of the machine.
    let load_before = sys::load_average();
    let (sim, points) = if args.uri.is_empty() {
        let (sim, points) = start_sim(args)?;
        eprintln!("scylla2-sim started: {}", points.join(","));
        (Some(sim), points)
    } else {
        (None, args.uri.clone())
    };
    let prefill = args.workloads.iter().any(|w| *w != Workload::Insert);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(prepare_cluster(&points, args.keys(), prefill))?;
    drop(rt);

    let mut reports = Vec::new();
    let mut failures = Vec::new();
    for &workload in &args.workloads {
        for &concurrency in &args.concurrency {
            for &driver in &args.drivers {
                eprintln!(
                    "{driver}: {} x {} at {concurrency} in flight, {} thread(s)",
                    args.requests,
                    workload.name(),
                    args.threads
                );
                match run_child(args, &points, driver, workload, concurrency) {
                    Ok(r) => reports.push(r),
                    Err(e) => {
                        eprintln!("{e}");
                        failures.push(e);
                    }
                }
            }
        }
    }
    let sim_line = sim.as_ref().map(|s| sim_note(args, s));
    drop(sim);
    println!("{}", report::table(&reports));
    println!(
        "{}",
        report::load_note(load_before, sys::load_average(), sys::cpus())
    );
    if let Some(line) = sim_line {
        println!("{line}");
    }
    for r in reports.iter().filter(|r| r.errors > 0) {
        println!(
            "{} {} at {}: {} errors, first: {}",
            r.driver,
            r.workload,
            r.concurrency,
            r.errors,
            r.first_error.as_deref().unwrap_or("?")
        );
    }
    if args.json {
        let items: Vec<String> = reports.iter().map(Report::to_json).collect();
        println!("[{}]", items.join(",\n "));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("{} run(s) failed", failures.len()))
    }
}
