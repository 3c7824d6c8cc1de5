//! `scylla2-instructions`: instructions per request of scylla2 and of the official `scylla`
//! driver, counted by `valgrind --tool=callgrind`, and the CI gate on scylla2's.
//!
//! ```text
//! scylla2-instructions [--check] [--write-baseline] [--baseline PATH]
//!                      [--driver scylla2|official[,...]] [--workload insert|select[,...]]
//!                      [--concurrency C[,...]] [--short N] [--long N] [--warmup N]
//!                      [--repeat R] [--no-all-features] [--whole-process] [--no-build]
//!                      [--sim PATH] [--client PATH] [--all-features-client PATH]
//!                      [--contact host:port,...] [--cache-sim]
//! ```
//!
//! It builds the simulator and the two clients (`scylla2-instructions-client`, and the same
//! source with every optional scylla2 feature found in `scylla2/Cargo.toml`, TLS aside,
//! `scylla2-instructions-client-all-features`) with cargo in release mode and the packages of
//! the README's build command (`-p scylla2-sim -p scylla2-benches`), starts `scylla2-sim`
//! (3 nodes × 4 shards) in a process of its own, creates the schema and the keys, then for
//! each (workload, in flight, driver) runs the client under callgrind twice, a short run and a
//! long one with the same warm-up, and reports
//! `(long total - short total) / (long requests - short requests)`. Callgrind counts only the
//! client's measured phase (`--toggle-collect`), so that connection set-up and warm-up, whose
//! cost varies from run to run, stay out; the subtraction cancels the phase's own start and
//! end. `--whole-process` counts the whole process instead. The official driver runs from
//! the default client only (scylla2's features do not change it).
//!
//! `--cache-sim` adds callgrind's cache simulation (a 32 KiB first level and a 1 MiB last
//! level, see [`callgrind::CACHES`]) and a second table: data-cache misses per request, by
//! the same subtraction. At high concurrency each request's state (its task, its futures, its
//! stream slot) has gone cold by the time its answer comes, and these misses, which an
//! instruction count does not show, are much of a request's cost.
//!
//! `--check` (CI) measures scylla2 at 1 in flight, INSERT and SELECT, default and all
//! features, and fails when a default figure is more than 3 % over the committed baseline
//! (`benches/instructions-baseline.txt`) or an all-features figure more than 3 % over the
//! default one. `--write-baseline` writes the measured default figures to the baseline file.

mod baseline;
mod build;
mod callgrind;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

const USAGE: &str = "usage: scylla2-instructions [--check] [--write-baseline] \
[--baseline PATH] [--driver scylla2|official[,...]] [--workload insert|select[,...]] \
[--concurrency C[,...]] [--short N] [--long N] [--warmup N] [--repeat R] [--no-all-features] \
[--whole-process] [--no-build] [--sim PATH] [--client PATH] [--all-features-client PATH] \
[--contact host:port,...] [--cache-sim]";

/// The measured client, default build.
const CLIENT: &str = "scylla2-instructions-client";
/// The measured client with the benches crate's `all-driver-features`.
const CLIENT_ALL: &str = "scylla2-instructions-client-all-features";
/// Keys written by the set-up and used by both workloads.
const KEYS: u64 = 1000;

/// What one column measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Variant {
    /// scylla2, default features.
    Scylla2,
    /// scylla2 with every optional feature (TLS aside).
    Scylla2All,
    /// The official driver.
    Official,
}

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Self::Scylla2 => "scylla2",
            Self::Scylla2All => "scylla2 (all features)",
            Self::Official => "official",
        }
    }

    fn driver(self) -> &'static str {
        match self {
            Self::Scylla2 | Self::Scylla2All => "scylla2",
            Self::Official => "official",
        }
    }
}

/// Parsed command line.
#[derive(Debug, Clone)]
struct Args {
    check: bool,
    write_baseline: bool,
    baseline: PathBuf,
    drivers: Vec<&'static str>,
    workloads: Vec<&'static str>,
    concurrency: Vec<usize>,
    short: Option<u64>,
    long: Option<u64>,
    warmup: Option<u64>,
    repeat: usize,
    all_features: bool,
    whole_process: bool,
    build: bool,
    sim: Option<PathBuf>,
    client: Option<PathBuf>,
    client_all: Option<PathBuf>,
    contact: Vec<String>,
    cache_sim: bool,
}

impl Args {
    /// Requests of the short run at `c` in flight.
    fn short(&self, c: usize) -> u64 {
        self.short.unwrap_or(if c == 1 { 1000 } else { 4000 })
    }

    /// Requests of the long run at `c` in flight.
    fn long(&self, c: usize) -> u64 {
        self.long
            .unwrap_or(self.short(c) + if c == 1 { 4000 } else { 16_000 })
    }

    /// Unmeasured requests before either run.
    fn warmup(&self, c: usize) -> u64 {
        self.warmup.unwrap_or(2000.max(20 * c as u64))
    }

    fn variants(&self) -> Vec<Variant> {
        let mut v = Vec::new();
        if self.drivers.contains(&"scylla2") {
            v.push(Variant::Scylla2);
            if self.all_features {
                v.push(Variant::Scylla2All);
            }
        }
        if self.drivers.contains(&"official") {
            v.push(Variant::Official);
        }
        v
    }
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        check: false,
        write_baseline: false,
        baseline: Path::new(env!("CARGO_MANIFEST_DIR")).join("instructions-baseline.txt"),
        drivers: vec!["scylla2", "official"],
        workloads: vec!["insert", "select"],
        concurrency: vec![1, 128],
        short: None,
        long: None,
        warmup: None,
        repeat: 1,
        all_features: true,
        whole_process: false,
        build: true,
        sim: None,
        client: None,
        client_all: None,
        contact: Vec::new(),
        cache_sim: false,
    };
    let mut drivers_given = false;
    let mut concurrency_given = false;
    fn num<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
        v.parse()
            .map_err(|_| format!("{name}: invalid value {v:?}"))
    }
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--check" => a.check = true,
            "--write-baseline" => a.write_baseline = true,
            "--baseline" => a.baseline = value()?.into(),
            "--driver" => {
                drivers_given = true;
                a.drivers = value()?
                    .split(',')
                    .map(|d| match d {
                        "scylla2" => Ok("scylla2"),
                        "official" | "scylla" => Ok("official"),
                        other => Err(format!("unknown driver {other:?}")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--workload" => {
                a.workloads = value()?
                    .split(',')
                    .map(|w| match w {
                        "insert" => Ok("insert"),
                        "select" => Ok("select"),
                        other => Err(format!("unknown workload {other:?}")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--concurrency" => {
                concurrency_given = true;
                a.concurrency = value()?
                    .split(',')
                    .map(|c| num::<usize>("--concurrency", c))
                    .collect::<Result<_, _>>()?;
                if a.concurrency.contains(&0) {
                    return Err("--concurrency: must be at least 1".to_owned());
                }
            }
            "--short" => a.short = Some(num(&arg, &value()?)?),
            "--long" => a.long = Some(num(&arg, &value()?)?),
            "--warmup" => a.warmup = Some(num(&arg, &value()?)?),
            "--repeat" => a.repeat = num::<usize>(&arg, &value()?)?.max(1),
            "--no-all-features" => a.all_features = false,
            "--whole-process" => a.whole_process = true,
            "--no-build" => a.build = false,
            "--sim" => a.sim = Some(value()?.into()),
            "--client" => a.client = Some(value()?.into()),
            "--all-features-client" => a.client_all = Some(value()?.into()),
            "--contact" => a.contact = value()?.split(',').map(str::to_owned).collect(),
            "--cache-sim" => a.cache_sim = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if a.check || a.write_baseline {
        // The gated figures: scylla2 at 1 in flight (others only when asked for).
        if !drivers_given {
            a.drivers = vec!["scylla2"];
        }
        if !concurrency_given {
            a.concurrency = vec![1];
        }
        if !a.drivers.contains(&"scylla2") || !a.concurrency.contains(&1) {
            return Err("--check and --write-baseline need scylla2 at 1 in flight".to_owned());
        }
    }
    for &c in &a.concurrency {
        if a.long(c) <= a.short(c) {
            return Err(format!(
                "the long run ({}) must have more requests than the short one ({})",
                a.long(c),
                a.short(c)
            ));
        }
    }
    Ok(a)
}

/// The binaries: built with cargo (unless `--no-build`), or given, or next to this executable.
struct Binaries {
    sim: PathBuf,
    client: PathBuf,
    client_all: Option<PathBuf>,
    /// What the all-features column means: scylla2's features in that build (as cargo
    /// reported them), and those left out.
    features_note: String,
}

fn binaries(a: &Args) -> Result<Binaries, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current exe: {e}"))?;
    let need_all = a.variants().contains(&Variant::Scylla2All);
    let (mut sim, mut client) = (
        exe.with_file_name("scylla2-sim"),
        exe.with_file_name(CLIENT),
    );
    let mut client_all = need_all.then(|| exe.with_file_name(CLIENT_ALL));
    let mut features_note = "all features: as built (--no-build)".to_owned();
    if a.build {
        let built = build::cargo(&["scylla2-sim", CLIENT], &[])?;
        (sim, client) = (built.executables[0].clone(), built.executables[1].clone());
        if need_all {
            let manifest = std::fs::read_to_string(build::SCYLLA2_MANIFEST)
                .map_err(|e| format!("{}: {e}", build::SCYLLA2_MANIFEST))?;
            let (on, off) = build::scylla2_features(&manifest);
            let mut features = vec!["scylla2-benches/all-driver-features".to_owned()];
            features.extend(on.iter().map(|f| format!("scylla2/{f}")));
            let built = build::cargo(&[CLIENT_ALL], &features)?;
            if let Some(f) = on.iter().find(|f| !built.scylla2_features.contains(f)) {
                return Err(format!(
                    "the all-features build of scylla2 lacks `{f}` (cargo says: {:?})",
                    built.scylla2_features
                ));
            }
            client_all = Some(built.executables[0].clone());
            features_note = format!(
                "all features: scylla2 built with {} (left out: {})",
                built
                    .scylla2_features
                    .iter()
                    .filter(|f| *f != "default")
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                off.join(", ")
            );
        }
    }
    sim = a.sim.clone().unwrap_or(sim);
    client = a.client.clone().unwrap_or(client);
    client_all = a.client_all.clone().or(client_all);
    // The all-features client must say so (a wrong path or a stale build would not).
    if let Some(p) = &client_all {
        let out = Command::new(p)
            .arg("--features")
            .output()
            .map_err(|e| format!("cannot run {}: {e}", p.display()))?;
        if String::from_utf8_lossy(&out.stdout).trim() != "all-driver-features: on" {
            return Err(format!("{} lacks all-driver-features", p.display()));
        }
    }
    Ok(Binaries {
        sim,
        client,
        client_all,
        features_note,
    })
}

/// What one measurement gives per request: instructions, and with `--cache-sim` the
/// first-level and last-level data-cache misses.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PerRequest {
    instructions: f64,
    misses: Option<(f64, f64)>,
}

/// Instructions (and misses) per request of one (variant, workload, concurrency): the short
/// run and the long run under callgrind.
fn measure(
    a: &Args,
    bins: &Binaries,
    contact: &[String],
    dir: &Path,
    (variant, workload, c): (Variant, &str, usize),
    rep: usize,
) -> Result<PerRequest, String> {
    let client = match variant {
        Variant::Scylla2All => bins.client_all.as_ref().ok_or("no all-features client")?,
        _ => &bins.client,
    };
    let (short, long) = (a.short(c), a.long(c));
    let mut totals = [callgrind::Totals {
        instructions: 0,
        misses: None,
    }; 2];
    let t0 = Instant::now();
    for (total, requests) in totals.iter_mut().zip([short, long]) {
        let args: Vec<String> = [
            "--contact",
            &contact.join(","),
            "--driver",
            variant.driver(),
            "--workload",
            workload,
            "--concurrency",
            &c.to_string(),
            "--warmup",
            &a.warmup(c).to_string(),
            "--requests",
            &requests.to_string(),
            "--keys",
            &KEYS.to_string(),
        ]
        .map(str::to_owned)
        .to_vec();
        let label = format!("{}-{workload}-{c}-{rep}-{requests}", variant.driver());
        *total = callgrind::run(client, &args, dir, &label, a.whole_process, a.cache_sim)?;
    }
    let per = |long_total: u64, short_total: u64| {
        (long_total as f64 - short_total as f64) / (long - short) as f64
    };
    let [s, l] = totals;
    let per_request = PerRequest {
        instructions: per(l.instructions, s.instructions),
        misses: l
            .misses
            .zip(s.misses)
            .map(|((l1, ll), (s1, sl))| (per(l1, s1), per(ll, sl))),
    };
    eprintln!(
        "{} {workload} at {c} in flight: {} - {} instructions over {} requests: {:.1} per \
         request{} ({:.1} s)",
        variant.label(),
        l.instructions,
        s.instructions,
        long - short,
        per_request.instructions,
        per_request.misses.map_or(String::new(), |(d1, ll)| format!(
            "; data-cache misses per request {d1:.2} first level, {ll:.2} last level"
        )),
        t0.elapsed().as_secs_f64()
    );
    Ok(per_request)
}

/// The median of a non-empty list.
fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

type Results = BTreeMap<(&'static str, usize, Variant), Vec<f64>>;

/// The first two lines of a Markdown table: workload, in flight, each variant's `cells` (with
/// `rule` under them), and a `ratio` column when both drivers are measured; and whether it
/// has that column.
fn head(
    variants: &[Variant],
    cells: impl Fn(Variant) -> String,
    rule: &str,
    ratio: &str,
) -> (String, bool) {
    let mut names = "| workload | in flight |".to_owned();
    let mut rules = "|---|---:|".to_owned();
    for &v in variants {
        names.push_str(&cells(v));
        rules.push_str(rule);
    }
    let with_ratio = variants.contains(&Variant::Scylla2) && variants.contains(&Variant::Official);
    if with_ratio {
        names.push_str(&format!(" {ratio} |"));
        rules.push_str("---:|");
    }
    (format!("{names}\n{rules}\n"), with_ratio)
}

/// First-level and last-level data-cache misses per request, per measurement (`--cache-sim`).
type Misses = BTreeMap<(&'static str, usize, Variant), Vec<(f64, f64)>>;

/// The Markdown table of the medians of the misses per request, with the last level's ratio
/// (where both drivers miss it at least once per request).
fn misses_table(a: &Args, misses: &Misses) -> String {
    let variants = a.variants();
    let (mut s, ratio) = head(
        &variants,
        |v| format!(" {0} first level | {0} last level |", v.label()),
        "---:|---:|",
        "last level scylla2 / official",
    );
    for &w in &a.workloads {
        for &c in &a.concurrency {
            let get = |v: Variant| {
                let m = misses.get(&(w, c, v))?;
                let first: Vec<f64> = m.iter().map(|x| x.0).collect();
                let last: Vec<f64> = m.iter().map(|x| x.1).collect();
                Some((median(&first), median(&last)))
            };
            s.push_str(&format!("| {} | {c} |", w.to_uppercase()));
            for &v in &variants {
                match get(v) {
                    Some((d1, ll)) => s.push_str(&format!(" {d1:.1} | {ll:.1} |")),
                    None => s.push_str(" — | — |"),
                }
            }
            if ratio {
                match (get(Variant::Scylla2), get(Variant::Official)) {
                    // Below one miss per request either way the ratio says nothing.
                    (Some((_, x)), Some((_, o))) if o >= 1.0 && x >= 1.0 => {
                        s.push_str(&format!(" {:.2} |", x / o))
                    }
                    _ => s.push_str(" — |"),
                }
            }
            s.push('\n');
        }
    }
    s
}

/// The Markdown table of the medians, with ratios.
fn table(a: &Args, results: &Results) -> String {
    let variants = a.variants();
    let (mut s, ratio) = head(
        &variants,
        |v| format!(" {} |", v.label()),
        "---:|",
        "scylla2 / official",
    );
    for &w in &a.workloads {
        for &c in &a.concurrency {
            let get = |v: Variant| results.get(&(w, c, v)).map(|r| median(r));
            s.push_str(&format!("| {} | {c} |", w.to_uppercase()));
            for &v in &variants {
                match (get(v), v, get(Variant::Scylla2)) {
                    (Some(x), Variant::Scylla2All, Some(d)) => {
                        s.push_str(&format!(" {x:.0} ({:+.1} %) |", (x / d - 1.0) * 100.0))
                    }
                    (Some(x), ..) => s.push_str(&format!(" {x:.0} |")),
                    (None, ..) => s.push_str(" — |"),
                }
            }
            if ratio {
                match (get(Variant::Scylla2), get(Variant::Official)) {
                    (Some(x), Some(o)) => s.push_str(&format!(" {:.2} |", x / o)),
                    _ => s.push_str(" — |"),
                }
            }
            s.push('\n');
        }
    }
    s
}

/// The spread of repeated measurements: `(max - min) / median`, per cell.
fn spreads(results: &Results) -> String {
    let mut s = String::new();
    for ((w, c, v), r) in results.iter().filter(|(_, r)| r.len() > 1) {
        let (min, max) = r
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let all: Vec<String> = r.iter().map(|x| format!("{x:.1}")).collect();
        s.push_str(&format!(
            "{} {w} at {c}: {} runs: {}; spread {:.3} %\n",
            v.label(),
            r.len(),
            all.join(", "),
            (max - min) / median(r) * 100.0
        ));
    }
    s
}

/// The gates of `--check`; `Err` when one fails.
fn check(a: &Args, results: &Results) -> Result<(), String> {
    let text = std::fs::read_to_string(&a.baseline)
        .map_err(|e| format!("{}: {e}", a.baseline.display()))?;
    let base = baseline::parse(&text).map_err(|e| format!("{}: {e}", a.baseline.display()))?;
    let mut failed = false;
    let mut report = |r: Result<String, String>| {
        failed |= r.is_err();
        println!("{}", r.unwrap_or_else(|e| e));
    };
    for &w in &a.workloads {
        let Some(measured) = results.get(&(w, 1, Variant::Scylla2)).map(|r| median(r)) else {
            continue;
        };
        match base.iter().find(|(name, _)| name == w) {
            Some(&(_, reference)) => report(baseline::gate(
                &format!("scylla2 {w} at 1 in flight against the baseline"),
                measured,
                reference,
            )),
            None => report(Err(format!(
                "FAIL scylla2 {w}: not in {}",
                a.baseline.display()
            ))),
        }
        if let Some(all) = results.get(&(w, 1, Variant::Scylla2All)).map(|r| median(r)) {
            report(baseline::gate(
                &format!("scylla2 {w} at 1 in flight, all features against default features"),
                all,
                measured,
            ));
        }
    }
    if failed {
        Err(
            "instruction gate failed (a change that costs more on purpose updates \
             benches/instructions-baseline.txt with --write-baseline, in a commit that says why)"
                .to_owned(),
        )
    } else {
        Ok(())
    }
}

fn run(a: &Args) -> Result<(), String> {
    let t0 = Instant::now();
    if !callgrind::available() {
        return Err("valgrind not found (install it: apt-get install valgrind)".to_owned());
    }
    let bins = binaries(a)?;
    let (sim, contact) = if a.contact.is_empty() {
        let (sim, points) = scylla2_benches::sim_process::start(
            &bins.sim,
            "127.0.78.1",
            &[],
            scylla2_benches::sim_process::Heap::Default,
        )?;
        eprintln!("scylla2-sim started: {}", points.join(","));
        (Some(sim), points)
    } else {
        (None, a.contact.clone())
    };
    let status = Command::new(&bins.client)
        .args(["--setup", "--contact", &contact.join(",")])
        .args(["--keys", &KEYS.to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", bins.client.display()))?;
    if !status.success() {
        return Err(format!("schema set-up failed ({status})"));
    }
    let dir = std::env::temp_dir().join(format!("scylla2-instructions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut results = Results::new();
    let mut misses = Misses::new();
    let mut outcome = Ok(());
    'all: for &w in &a.workloads {
        for &c in &a.concurrency {
            for v in a.variants() {
                for rep in 0..a.repeat {
                    match measure(a, &bins, &contact, &dir, (v, w, c), rep) {
                        Ok(x) => {
                            results.entry((w, c, v)).or_default().push(x.instructions);
                            if let Some(m) = x.misses {
                                misses.entry((w, c, v)).or_default().push(m);
                            }
                        }
                        Err(e) => {
                            outcome = Err(e);
                            break 'all;
                        }
                    }
                }
            }
        }
    }
    drop(sim);
    outcome?;
    let _ = std::fs::remove_dir(&dir);
    println!(
        "Instructions per request (user space, callgrind; lower is better), tokio \
         current_thread, prepared single-row statements, scylla2-sim 3 nodes x 4 shards:\n"
    );
    println!("{}", table(a, &results));
    if bins.client_all.is_some() {
        println!("{}", bins.features_note);
    }
    print!("{}", spreads(&results));
    if !misses.is_empty() {
        println!(
            "\nData-cache misses per request (reads and writes; callgrind's simulation of a \
             32 KiB first level and a 1 MiB last level, 64-byte lines; lower is better):\n"
        );
        println!("{}", misses_table(a, &misses));
    }
    println!(
        "({:.0} s in all; short/long runs: {})",
        t0.elapsed().as_secs_f64(),
        a.concurrency
            .iter()
            .map(|&c| format!(
                "{}/{} requests at {c} in flight after {} warm-up",
                a.short(c),
                a.long(c),
                a.warmup(c)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if a.write_baseline {
        let figures: Vec<(String, f64)> = a
            .workloads
            .iter()
            .filter_map(|&w| {
                let r = results.get(&(w, 1, Variant::Scylla2))?;
                Some((w.to_owned(), median(r)))
            })
            .collect();
        std::fs::write(&a.baseline, baseline::format(&figures))
            .map_err(|e| format!("{}: {e}", a.baseline.display()))?;
        println!("baseline written to {}", a.baseline.display());
    }
    if a.check {
        check(a, &results)?;
    }
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
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scylla2-instructions: {e}");
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
    fn parses_modes_and_defaults() {
        let a = args("").expect("valid");
        assert_eq!(a.drivers, vec!["scylla2", "official"]);
        assert_eq!(a.concurrency, vec![1, 128]);
        assert_eq!(
            a.variants(),
            vec![Variant::Scylla2, Variant::Scylla2All, Variant::Official]
        );
        let a = args("--check").expect("valid");
        assert_eq!(
            (a.drivers.clone(), a.concurrency.clone()),
            (vec!["scylla2"], vec![1])
        );
        assert_eq!(a.variants(), vec![Variant::Scylla2, Variant::Scylla2All]);
        assert!(args("--check --concurrency 128").is_err());
        assert!(args("--check --driver official").is_err());
        let a = args("--short 10 --long 30 --warmup 5 --no-all-features").expect("valid");
        assert_eq!((a.short(1), a.long(1), a.warmup(1)), (10, 30, 5));
        assert_eq!(a.variants(), vec![Variant::Scylla2, Variant::Official]);
        assert!(args("--short 30 --long 30").is_err());
        assert!(args("--concurrency 0").is_err());
        assert!(args("--driver java").is_err());
        assert!(args("--bogus").is_err());
    }

    #[test]
    fn tables_medians_and_ratios() {
        let a = args("--concurrency 1 --workload insert").expect("valid");
        let mut r = Results::new();
        r.insert(("insert", 1, Variant::Scylla2), vec![1000.0, 1010.0, 990.0]);
        r.insert(("insert", 1, Variant::Scylla2All), vec![1010.0]);
        r.insert(("insert", 1, Variant::Official), vec![2500.0]);
        let t = table(&a, &r);
        assert!(
            t.contains("| INSERT | 1 | 1000 | 1010 (+1.0 %) | 2500 | 0.40 |"),
            "{t}"
        );
        assert!(spreads(&r).contains("3 runs: 1000.0, 1010.0, 990.0; spread 2.000 %"));
    }

    #[test]
    fn misses_table_medians_and_ratio() {
        let a = args("--concurrency 2048 --workload insert --no-all-features --cache-sim")
            .expect("valid");
        assert!(a.cache_sim);
        let mut m = Misses::new();
        m.insert(
            ("insert", 2048, Variant::Scylla2),
            vec![(30.0, 25.0), (29.0, 26.0), (31.0, 24.0)],
        );
        m.insert(("insert", 2048, Variant::Official), vec![(530.0, 100.0)]);
        let t = misses_table(&a, &m);
        assert!(
            t.contains("| INSERT | 2048 | 30.0 | 25.0 | 530.0 | 100.0 | 0.25 |"),
            "{t}"
        );
        // Below one miss per request: no ratio.
        m.insert(("insert", 2048, Variant::Official), vec![(530.0, 0.4)]);
        assert!(misses_table(&a, &m).contains("| 530.0 | 0.4 | — |"));
        // A variant not measured leaves its cells empty, and no ratio.
        m.remove(&("insert", 2048, Variant::Official));
        assert!(
            misses_table(&a, &m).contains("| INSERT | 2048 | 30.0 | 25.0 | — | — | — |"),
            "{}",
            misses_table(&a, &m)
        );
    }
}
