//! The simulator in a process of its own, for the tools that measure a client apart from its
//! server: `scylla2-sim --nodes 3 --shards 4` on free ports, killed when dropped, its heap on
//! huge pages when asked (and the system allows), and what it got of them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The simulator process, killed when dropped.
pub struct Sim(Child);

/// How the simulator's heap is backed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heap {
    /// The system allocator's defaults.
    Default,
    /// Transparent huge pages: glibc's allocator is asked to advise them for its heap
    /// (`GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, added to the tunables already set). Under a
    /// load spread over a large table, point accesses on 4 KiB pages pay for address
    /// translation (TLB misses, each a page walk, costly in a virtual machine): at 2 048
    /// INSERTs in flight over 100 000 keys, huge pages cut the simulator's CPU per request
    /// by 20–30 % (benches/README.md). A system without glibc, or with transparent huge
    /// pages off, runs on 4 KiB pages: see [`Sim::huge_pages`].
    HugePages,
}

/// The tunable [`Heap::HugePages`] adds.
const HUGETLB_TUNABLE: &str = "glibc.malloc.hugetlb=1";

/// `GLIBC_TUNABLES` for the simulator: `current` (this process's) with huge pages added, or
/// unchanged when it already sets `glibc.malloc.hugetlb`.
fn tunables_with_huge_pages(current: Option<&str>) -> String {
    match current {
        Some(t)
            if t.split(':')
                .any(|kv| kv.starts_with("glibc.malloc.hugetlb=")) =>
        {
            t.to_owned()
        }
        Some(t) if !t.is_empty() => format!("{t}:{HUGETLB_TUNABLE}"),
        _ => HUGETLB_TUNABLE.to_owned(),
    }
}

/// Resident memory of a process: in all, and on transparent huge pages (KiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resident {
    /// Resident set (`Rss` of `/proc/PID/smaps_rollup`).
    pub rss_kib: u64,
    /// Of which anonymous huge pages (`AnonHugePages`).
    pub huge_kib: u64,
}

/// Parses `/proc/PID/smaps_rollup`; `None` without both fields.
fn parse_smaps_rollup(text: &str) -> Option<Resident> {
    Some(Resident {
        rss_kib: crate::procfs::kib_field(text, "Rss")?,
        huge_kib: crate::procfs::kib_field(text, "AnonHugePages")?,
    })
}

impl Sim {
    /// The simulator's resident memory and its part on huge pages, now; `None` where
    /// `/proc` cannot tell (not Linux, or the process is gone).
    pub fn huge_pages(&self) -> Option<Resident> {
        let path = format!("/proc/{}/smaps_rollup", self.0.id());
        parse_smaps_rollup(&std::fs::read_to_string(path).ok()?)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the simulator at `path` (3 nodes × 4 shards, free ports, nodes from `base_ip` up,
/// `extra` flags such as `--current-thread`, its heap as `heap` asks) and returns it with its
/// contact points (`host:port`).
pub fn start(
    path: &Path,
    base_ip: &str,
    extra: &[&str],
    heap: Heap,
) -> Result<(Sim, Vec<String>), String> {
    let mut cmd = Command::new(path);
    if heap == Heap::HugePages {
        // Tunables that are not UTF-8 are passed on untouched (the child inherits them).
        match std::env::var_os("GLIBC_TUNABLES").map(|t| t.into_string()) {
            None => {
                cmd.env("GLIBC_TUNABLES", tunables_with_huge_pages(None));
            }
            Some(Ok(t)) => {
                cmd.env("GLIBC_TUNABLES", tunables_with_huge_pages(Some(&t)));
            }
            Some(Err(_)) => {}
        }
    }
    let mut child = cmd
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_pages_are_added_to_the_tunables_already_set() {
        assert_eq!(tunables_with_huge_pages(None), "glibc.malloc.hugetlb=1");
        assert_eq!(tunables_with_huge_pages(Some("")), "glibc.malloc.hugetlb=1");
        assert_eq!(
            tunables_with_huge_pages(Some("glibc.malloc.arena_max=1")),
            "glibc.malloc.arena_max=1:glibc.malloc.hugetlb=1"
        );
        // A hugetlb setting of the caller's own is kept as it is (0 turns them off).
        assert_eq!(
            tunables_with_huge_pages(Some("glibc.malloc.hugetlb=0:glibc.malloc.arena_max=1")),
            "glibc.malloc.hugetlb=0:glibc.malloc.arena_max=1"
        );
    }

    #[test]
    fn smaps_rollup_gives_resident_and_huge_pages() {
        let text = "55d0c0000000-7ffd00000000 ---p 00000000 00:00 0    [rollup]\n\
                    Rss:               91336 kB\n\
                    Pss:               90000 kB\n\
                    AnonHugePages:     79872 kB\n\
                    ShmemPmdMapped:        0 kB\n";
        assert_eq!(
            parse_smaps_rollup(text),
            Some(Resident {
                rss_kib: 91336,
                huge_kib: 79872
            })
        );
        assert_eq!(parse_smaps_rollup("Rss: 12 kB\n"), None);
        assert_eq!(parse_smaps_rollup("Rss: x kB\nAnonHugePages: 0 kB\n"), None);
    }
}
