//! One client run under `valgrind --tool=callgrind`, and the totals it counted: instructions,
//! and with its cache simulation the data-cache misses of a modelled first and last level.

use std::path::Path;
use std::process::{Command, Stdio};

/// Whether `valgrind` can be run.
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The client's function whose calls are counted (see `measured_phase` in
/// `scylla2-instructions-client.rs`), as a callgrind `--toggle-collect` pattern.
const MEASURED: &str = "*measured_phase*";

/// The simulated caches of `--cache-sim`: a 32 KiB, 8-way first level and, as the last level,
/// a 1 MiB, 16-way cache (a core's L2 on the machine the benches README describes; what misses
/// it goes to a shared L3 or memory), 64-byte lines.
pub const CACHES: [&str; 2] = ["--D1=32768,8,64", "--LL=1048576,16,64"];

/// What a run counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Instructions executed (event `Ir`).
    pub instructions: u64,
    /// With the cache simulation: data reads and writes that missed the first level
    /// (`D1mr + D1mw`) and the last level (`DLmr + DLmw`).
    pub misses: Option<(u64, u64)>,
}

/// Runs `client args` under callgrind (profile and log written under `dir` as `label.*`) and
/// returns what it counted in user space: within the client's measured phase, or in the whole
/// process with `whole_process`; with `cache_sim`, the data-cache misses of [`CACHES`] too.
pub fn run(
    client: &Path,
    args: &[String],
    dir: &Path,
    label: &str,
    whole_process: bool,
    cache_sim: bool,
) -> Result<Totals, String> {
    let out = dir.join(format!("{label}.callgrind"));
    let log = dir.join(format!("{label}.log"));
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(format!("--log-file={}", log.display()))
        // Only the totals are read: no per-line or per-instruction data to write.
        .args(["--dump-line=no", "--dump-instr=no"])
        .args((!whole_process).then(|| format!("--toggle-collect={MEASURED}")))
        .args(if cache_sim {
            &["--cache-sim=yes", CACHES[0], CACHES[1]][..]
        } else {
            &[]
        })
        .arg(client)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let done = String::from_utf8_lossy(&output.stdout)
        .lines()
        .any(|l| l == "done");
    if !output.status.success() || !done {
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(20).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{label}: the client under callgrind failed ({}); valgrind's log ends with:\n{}",
            output.status,
            tail.join("\n")
        ));
    }
    let profile = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let totals = totals(&profile).ok_or_else(|| {
        format!(
            "{}: no `events:` line naming `Ir`, or no counts on the `totals:` (or `summary:`) line",
            out.display()
        )
    })?;
    if totals.instructions == 0 {
        return Err(format!(
            "{label}: callgrind counted nothing (is `{MEASURED}` in the client, not inlined?)"
        ));
    }
    if cache_sim && totals.misses.is_none() {
        return Err(format!(
            "{}: no cache events (D1mr, D1mw, DLmr, DLmw) in the profile",
            out.display()
        ));
    }
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&log);
    Ok(totals)
}

/// The counts of a callgrind profile: its `totals:` line (or, failing that, `summary:`),
/// named by its `events:` line. `None` without both lines or without an `Ir` count.
pub fn totals(profile: &str) -> Option<Totals> {
    let line = |prefix: &str| profile.lines().find_map(|l| l.strip_prefix(prefix));
    let names: Vec<&str> = line("events:")?.split_whitespace().collect();
    let values: Vec<u64> = line("totals:")
        .or_else(|| line("summary:"))?
        .split_whitespace()
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    if values.is_empty() {
        return None;
    }
    // Trailing events counting zero may be left out of the line.
    let event = |name: &str| {
        let i = names.iter().position(|n| *n == name)?;
        Some(values.get(i).copied().unwrap_or(0))
    };
    let sum = |a: &str, b: &str| Some(event(a)? + event(b)?);
    Some(Totals {
        instructions: event("Ir")?,
        misses: sum("D1mr", "D1mw").zip(sum("DLmr", "DLmw")),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_totals_line() {
        use super::{Totals, totals};
        let profile = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\n\nfn=(1) main\n\
                       0 12\n\nsummary: 123456\n\n\ntotals: 123457\n";
        let ir = |n| {
            Some(Totals {
                instructions: n,
                misses: None,
            })
        };
        assert_eq!(totals(profile), ir(123_457));
        assert_eq!(totals("events: Ir\nsummary: 99 1\n"), ir(99));
        assert_eq!(totals("events: Ir\n"), None);
        assert_eq!(totals("totals: 5\n"), None, "no events line");
        assert_eq!(totals("events: Ir\ntotals: x\n"), None);
        assert_eq!(totals("events: Ir\ntotals:\n"), None, "no counts");
        // With the cache simulation, in callgrind's order; a trailing zero may be left out.
        let cache = "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\n";
        assert_eq!(
            totals(&format!("{cache}totals: 1000 300 200 4 30 10 1 17 8\n")),
            Some(Totals {
                instructions: 1000,
                misses: Some((40, 25)),
            })
        );
        assert_eq!(
            totals(&format!("{cache}totals: 1000 300 200 4 30 10 1 17\n")),
            Some(Totals {
                instructions: 1000,
                misses: Some((40, 17)),
            })
        );
    }
}
