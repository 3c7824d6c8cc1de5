//! The simulator in a process of its own, for the tools that measure a client apart from its
//! server: `scylla2-sim --nodes 3 --shards 4` on free ports, killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The simulator process, killed when dropped.
pub struct Sim(Child);

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the simulator at `path` (3 nodes × 4 shards, free ports, nodes from `base_ip` up,
/// and `extra` flags such as `--current-thread`) and returns it with its contact points
/// (`host:port`).
pub fn start(path: &Path, base_ip: &str, extra: &[&str]) -> Result<(Sim, Vec<String>), String> {
    let mut child = Command::new(path)
        .args(["--nodes", "3", "--shards", "4"])
        .args(["--port", "0", "--shard-aware-port", "0"])
        .args(["--base-ip", base_ip])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
    let stdout = child.stdout.take().ok_or("simulator has no stdout")?;
    let sim = Sim(child);
    let mut lines = BufReader::new(stdout).lines();
    let points = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(p) = line.strip_prefix("contact points: ") {
                    break p.split(',').map(str::to_owned).collect::<Vec<_>>();
                }
            }
            _ => return Err("simulator exited before printing its contact points".to_owned()),
        }
    };
    // Keep draining its output so that it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok((sim, points))
}
