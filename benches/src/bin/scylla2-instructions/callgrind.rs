//! One client run under `valgrind --tool=callgrind`, and the total it counted.

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

/// Runs `client args` under callgrind (profile and log written under `dir` as `label.*`) and
/// returns the user-space instructions it executed (callgrind's `totals:` line, event `Ir`):
/// within the client's measured phase, or in the whole process with `whole_process`.
pub fn run(
    client: &Path,
    args: &[String],
    dir: &Path,
    label: &str,
    whole_process: bool,
) -> Result<u64, String> {
    let out = dir.join(format!("{label}.callgrind"));
    let log = dir.join(format!("{label}.log"));
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(format!("--log-file={}", log.display()))
        // Only the totals are read: no per-line or per-instruction data to write.
        .args(["--dump-line=no", "--dump-instr=no"])
        .args((!whole_process).then(|| format!("--toggle-collect={MEASURED}")))
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
    let total = totals(&profile).ok_or_else(|| format!("{}: no totals line", out.display()))?;
    if total == 0 {
        return Err(format!(
            "{label}: callgrind counted nothing (is `{MEASURED}` in the client, not inlined?)"
        ));
    }
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&log);
    Ok(total)
}

/// The first event of the `totals:` line (or, failing that, `summary:`) of a callgrind profile.
pub fn totals(profile: &str) -> Option<u64> {
    let find = |prefix: &str| {
        profile
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    find("totals:").or_else(|| find("summary:"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_totals_line() {
        let profile = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\n\nfn=(1) main\n\
                       0 12\n\nsummary: 123456\n\n\ntotals: 123457\n";
        assert_eq!(super::totals(profile), Some(123_457));
        assert_eq!(super::totals("events: Ir\nsummary: 99 1\n"), Some(99));
        assert_eq!(super::totals("events: Ir\n"), None);
    }
}
