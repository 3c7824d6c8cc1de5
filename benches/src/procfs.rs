//! Reading `/proc` files of the `Name:   1234 kB` form (`/proc/PID/status`,
//! `/proc/PID/smaps_rollup`), shared by the tools that report a process's memory.

/// The value in KiB of the field `name` in `text` (a line `name:   N kB`); `None` when the
/// field is missing or not a number of kB.
///
/// ```
/// let status = "VmPeak:\t  20480 kB\nVmHWM:\t   9216 kB\n";
/// assert_eq!(scylla2_benches::procfs::kib_field(status, "VmHWM"), Some(9216));
/// assert_eq!(scylla2_benches::procfs::kib_field(status, "VmRSS"), None);
/// ```
pub fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::kib_field;

    #[test]
    fn only_a_whole_field_name_with_a_kib_value_matches() {
        let text = "RssAnon:  5 kB\nRss:   91336 kB\nPss: x kB\nAnonHugePages: 12 MB\n";
        assert_eq!(kib_field(text, "Rss"), Some(91336));
        assert_eq!(kib_field(text, "Pss"), None);
        assert_eq!(kib_field(text, "AnonHugePages"), None);
        assert_eq!(kib_field(text, "Swap"), None);
    }
}
