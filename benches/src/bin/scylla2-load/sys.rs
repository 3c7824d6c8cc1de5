//! Process figures from the kernel: CPU time (`getrusage`) and peak RSS (`VmHWM` in
//! `/proc/self/status`: `ru_maxrss` would keep the pre-`exec` high-water mark of the
//! coordinator that spawned this child), and the machine's load average (`/proc/loadavg`).

/// CPU seconds (user, system) and peak resident set in KiB of this process so far.
pub fn rusage() -> (f64, f64, u64) {
    // SAFETY: `getrusage` only writes the zeroed struct we pass; RUSAGE_SELF is valid.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pointer to a live, properly aligned `rusage`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc != 0 {
        return (0.0, 0.0, 0);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (
        secs(ru.ru_utime),
        secs(ru.ru_stime),
        ru.ru_maxrss.max(0) as u64,
    )
}

/// Peak resident set of this process image in KiB (`VmHWM`), else `ru_maxrss`.
pub fn peak_rss_kib() -> u64 {
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| scylla2_benches::procfs::kib_field(&s, "VmHWM"));
    hwm.unwrap_or_else(|| rusage().2)
}

/// The 1, 5 and 15 minute load averages (`/proc/loadavg`); `None` where unreadable.
pub fn load_average() -> Option<[f64; 3]> {
    parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)
}

/// The first three fields of a `/proc/loadavg` line.
fn parse_loadavg(s: &str) -> Option<[f64; 3]> {
    let mut it = s.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// The CPUs this process may run on; `None` where unknown.
pub fn cpus() -> Option<usize> {
    std::thread::available_parallelism().ok().map(|n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loadavg() {
        assert_eq!(
            parse_loadavg("3.25 2.50 1.00 4/1234 56789\n"),
            Some([3.25, 2.5, 1.0])
        );
        assert_eq!(parse_loadavg("3.25 x 1.00"), None);
        assert_eq!(parse_loadavg(""), None);
    }
}
