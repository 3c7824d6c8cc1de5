//! What one driver's run measured, how a child process hands it to the coordinator (one
//! `RESULT key=value ...` line), and the plain-text table and JSON the coordinator prints.

use std::fmt::Write as _;

/// The figures of one driver for one workload and concurrency.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// `scylla2` or `scylla`.
    pub driver: String,
    /// `insert`, `select` or `mixed`.
    pub workload: String,
    /// Requests in flight.
    pub concurrency: u64,
    /// Runtime worker threads.
    pub threads: u64,
    /// Requests completed (successful or not).
    pub requests: u64,
    /// Requests that returned an error.
    pub errors: u64,
    /// Wall-clock seconds of the measured phase.
    pub elapsed_s: f64,
    /// Latency percentiles and maximum, in microseconds.
    pub p50_us: f64,
    /// p90.
    pub p90_us: f64,
    /// p99.
    pub p99_us: f64,
    /// p99.9.
    pub p999_us: f64,
    /// Maximum.
    pub max_us: f64,
    /// User CPU seconds of the client process during the measured phase.
    pub cpu_user_s: f64,
    /// System CPU seconds of the client process during the measured phase.
    pub cpu_sys_s: f64,
    /// Heap allocations during the measured phase.
    pub allocs: u64,
    /// Heap bytes requested during the measured phase.
    pub alloc_bytes: u64,
    /// Write-family syscalls during the measured phase (`None`: `/proc/self/io` unreadable).
    pub write_syscalls: Option<u64>,
    /// Peak RSS of the client process, KiB.
    pub peak_rss_kib: u64,
    /// Requests run before the measured phase (fixed warm-up plus steady-state windows).
    pub warmup_requests: u64,
    /// The first error's message, if any.
    pub first_error: Option<String>,
}

impl Report {
    /// Requests per second.
    pub fn throughput(&self) -> f64 {
        per(self.requests as f64, self.elapsed_s)
    }
    /// Client CPU seconds per 1 000 requests.
    pub fn cpu_per_1k(&self) -> f64 {
        per(
            (self.cpu_user_s + self.cpu_sys_s) * 1000.0,
            self.requests as f64,
        )
    }
    /// Client user-space CPU seconds per 1 000 requests (the driver's and the tool's own
    /// work; the rest of [`Self::cpu_per_1k`] is in the kernel, mostly the sockets).
    pub fn cpu_user_per_1k(&self) -> f64 {
        per(self.cpu_user_s * 1000.0, self.requests as f64)
    }
    /// Allocations per request.
    pub fn allocs_per_req(&self) -> f64 {
        per(self.allocs as f64, self.requests as f64)
    }
    /// Allocated bytes per request.
    pub fn bytes_per_req(&self) -> f64 {
        per(self.alloc_bytes as f64, self.requests as f64)
    }
    /// Write syscalls per request.
    pub fn writes_per_req(&self) -> Option<f64> {
        self.write_syscalls
            .map(|w| per(w as f64, self.requests as f64))
    }

    /// The one-line form a child prints on stdout.
    pub fn to_line(&self) -> String {
        let mut s = String::from("RESULT");
        let mut kv = |k: &str, v: String| {
            let _ = write!(s, " {k}={v}");
        };
        kv("driver", self.driver.clone());
        kv("workload", self.workload.clone());
        kv("concurrency", self.concurrency.to_string());
        kv("threads", self.threads.to_string());
        kv("requests", self.requests.to_string());
        kv("errors", self.errors.to_string());
        kv("elapsed_s", self.elapsed_s.to_string());
        kv("p50_us", self.p50_us.to_string());
        kv("p90_us", self.p90_us.to_string());
        kv("p99_us", self.p99_us.to_string());
        kv("p999_us", self.p999_us.to_string());
        kv("max_us", self.max_us.to_string());
        kv("cpu_user_s", self.cpu_user_s.to_string());
        kv("cpu_sys_s", self.cpu_sys_s.to_string());
        kv("allocs", self.allocs.to_string());
        kv("alloc_bytes", self.alloc_bytes.to_string());
        if let Some(w) = self.write_syscalls {
            kv("write_syscalls", w.to_string());
        }
        kv("peak_rss_kib", self.peak_rss_kib.to_string());
        kv("warmup_requests", self.warmup_requests.to_string());
        if let Some(e) = &self.first_error {
            // Last field: the message runs to the end of the line.
            kv("first_error", e.replace('\n', " "));
        }
        s
    }

    /// Parses [`Self::to_line`]'s output.
    pub fn from_line(line: &str) -> Option<Self> {
        let rest = line.strip_prefix("RESULT ")?;
        let (fields, error) = match rest.split_once(" first_error=") {
            Some((f, e)) => (f, Some(e.to_owned())),
            None => (rest, None),
        };
        let mut r = Report {
            first_error: error,
            ..Report::default()
        };
        for field in fields.split(' ') {
            let (k, v) = field.split_once('=')?;
            let f = || v.parse::<f64>().ok();
            let u = || v.parse::<u64>().ok();
            match k {
                "driver" => r.driver = v.to_owned(),
                "workload" => r.workload = v.to_owned(),
                "concurrency" => r.concurrency = u()?,
                "threads" => r.threads = u()?,
                "requests" => r.requests = u()?,
                "errors" => r.errors = u()?,
                "elapsed_s" => r.elapsed_s = f()?,
                "p50_us" => r.p50_us = f()?,
                "p90_us" => r.p90_us = f()?,
                "p99_us" => r.p99_us = f()?,
                "p999_us" => r.p999_us = f()?,
                "max_us" => r.max_us = f()?,
                "cpu_user_s" => r.cpu_user_s = f()?,
                "cpu_sys_s" => r.cpu_sys_s = f()?,
                "allocs" => r.allocs = u()?,
                "alloc_bytes" => r.alloc_bytes = u()?,
                "write_syscalls" => r.write_syscalls = Some(u()?),
                "peak_rss_kib" => r.peak_rss_kib = u()?,
                "warmup_requests" => r.warmup_requests = u()?,
                _ => {}
            }
        }
        Some(r)
    }

    /// The JSON object of this report (hand-written: numbers and escaped strings only).
    pub fn to_json(&self) -> String {
        let opt = |v: Option<f64>| v.map_or("null".to_owned(), |v| format!("{v:.6}"));
        format!(
            "{{\"driver\":{},\"workload\":{},\"concurrency\":{},\"threads\":{},\"requests\":{},\
             \"errors\":{},\"elapsed_s\":{:.6},\"throughput\":{:.1},\"p50_us\":{:.1},\
             \"p90_us\":{:.1},\"p99_us\":{:.1},\"p999_us\":{:.1},\"max_us\":{:.1},\
             \"cpu_s_per_1k\":{:.6},\"cpu_user_s_per_1k\":{:.6},\"allocs\":{},\"allocs_per_req\":{:.6},\
             \"alloc_bytes_per_req\":{:.1},\"write_syscalls_per_req\":{},\"peak_rss_kib\":{},\
             \"warmup_requests\":{},\"first_error\":{}}}",
            json_str(&self.driver),
            json_str(&self.workload),
            self.concurrency,
            self.threads,
            self.requests,
            self.errors,
            self.elapsed_s,
            self.throughput(),
            self.p50_us,
            self.p90_us,
            self.p99_us,
            self.p999_us,
            self.max_us,
            self.cpu_per_1k(),
            self.cpu_user_per_1k(),
            self.allocs,
            self.allocs_per_req(),
            self.bytes_per_req(),
            opt(self.writes_per_req()),
            self.peak_rss_kib,
            self.warmup_requests,
            self.first_error
                .as_deref()
                .map_or("null".to_owned(), json_str),
        )
    }
}

fn per(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The plain-text table of all reports, with a ratio row (scylla2 / scylla) after each pair.
pub fn table(reports: &[Report]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<8} {:<8} {:>6} {:>8} {:>6} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "workload",
        "driver",
        "in-fl",
        "requests",
        "errors",
        "req/s",
        "p50 µs",
        "p90 µs",
        "p99 µs",
        "p99.9 µs",
        "max µs",
        "CPU s/1k",
        "user s/1k",
        "allocs/rq",
        "bytes/rq",
        "writes/rq",
        "RSS MiB"
    );
    // Which way each figure (and so each ratio) is better, under its column.
    let _ = writeln!(
        s,
        "{:<8} {:<8} {:>6} {:>8} {:>6} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "",
        "better",
        "",
        "",
        "",
        UP,
        DOWN,
        DOWN,
        DOWN,
        DOWN,
        DOWN,
        DOWN,
        DOWN,
        DOWN,
        DOWN,
        DOWN,
        DOWN
    );
    let row = |s: &mut String, r: &Report| {
        let _ = writeln!(
            s,
            "{:<8} {:<8} {:>6} {:>8} {:>6} {:>10.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>9.1} {:>10.4} {:>10.4} {:>9.5} {:>9.1} {:>9} {:>8.1}",
            r.workload,
            r.driver,
            r.concurrency,
            r.requests,
            r.errors,
            r.throughput(),
            r.p50_us,
            r.p90_us,
            r.p99_us,
            r.p999_us,
            r.max_us,
            r.cpu_per_1k(),
            r.cpu_user_per_1k(),
            r.allocs_per_req(),
            r.bytes_per_req(),
            r.writes_per_req()
                .map_or("n/a".to_owned(), |w| format!("{w:.3}")),
            r.peak_rss_kib as f64 / 1024.0
        );
    };
    for r in reports {
        row(&mut s, r);
        if r.driver != "scylla" {
            continue;
        }
        let Some(ours) = reports.iter().find(|o| {
            o.driver == "scylla2" && o.workload == r.workload && o.concurrency == r.concurrency
        }) else {
            continue;
        };
        let ratio = |a: f64, b: f64| {
            if b > 0.0 {
                format!("{:.2}", a / b)
            } else {
                "-".to_owned()
            }
        };
        let _ = writeln!(
            s,
            "{:<8} {:<8} {:>6} {:>8} {:>6} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10} {:>10} {:>9} {:>9} {:>9} {:>8}",
            r.workload,
            "ratio",
            r.concurrency,
            "",
            "",
            ratio(ours.throughput(), r.throughput()),
            ratio(ours.p50_us, r.p50_us),
            ratio(ours.p90_us, r.p90_us),
            ratio(ours.p99_us, r.p99_us),
            ratio(ours.p999_us, r.p999_us),
            ratio(ours.max_us, r.max_us),
            ratio(ours.cpu_per_1k(), r.cpu_per_1k()),
            ratio(ours.cpu_user_per_1k(), r.cpu_user_per_1k()),
            ratio(ours.allocs_per_req(), r.allocs_per_req()),
            ratio(ours.bytes_per_req(), r.bytes_per_req()),
            match (ours.writes_per_req(), r.writes_per_req()) {
                (Some(a), Some(b)) => ratio(a, b),
                _ => "-".to_owned(),
            },
            ratio(ours.peak_rss_kib as f64, r.peak_rss_kib as f64)
        );
    }
    let _ = writeln!(
        s,
        "ratio rows: scylla2 / scylla. ↑ higher is better (throughput): above 1 is scylla2 \
         ahead. ↓ lower is better (latency, CPU, allocations, bytes, write syscalls, \
         RSS): below 1 is scylla2 ahead."
    );
    s
}

/// The mark of a column where higher is better.
const UP: &str = "↑ higher";
/// The mark of a column where lower is better.
const DOWN: &str = "↓ lower";

/// The load-average line printed under the table: the 1, 5 and 15 minute load averages
/// sampled `before` and `after` the runs (`None`: unknown, e.g. no `/proc/loadavg`), the
/// CPUs this process may use, and a warning when a 1-minute load average exceeds them:
/// other work then competed for the CPUs, so timings (throughput, latency) drift between
/// runs, while the counts (allocations, bytes, write syscalls per request) stay comparable.
pub fn load_note(before: Option<[f64; 3]>, after: Option<[f64; 3]>, cpus: Option<usize>) -> String {
    let fmt = |l: Option<[f64; 3]>| {
        l.map_or("unknown".to_owned(), |[a, b, c]| {
            format!("{a:.2} {b:.2} {c:.2}")
        })
    };
    let mut s = format!(
        "load average (1, 5, 15 min): {} before the runs, {} after; {} CPUs",
        fmt(before),
        fmt(after),
        cpus.map_or("unknown".to_owned(), |n| n.to_string())
    );
    let busiest = [before, after]
        .into_iter()
        .flatten()
        .map(|l| l[0])
        .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
    if let (Some(load), Some(cpus)) = (busiest, cpus)
        && load > cpus as f64
    {
        let _ = write!(
            s,
            "\nWARNING: a load average of {load:.2} exceeds the {cpus} CPUs: other processes \
             competed for them, so throughput, latency and CPU time are noisy; compare the \
             counts (allocations, bytes, write syscalls per request) rather than the timings."
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_round_trip_keeps_every_field() {
        let r = Report {
            driver: "scylla2".into(),
            workload: "insert".into(),
            concurrency: 128,
            threads: 1,
            requests: 1000,
            errors: 2,
            elapsed_s: 0.5,
            p50_us: 10.0,
            p90_us: 20.0,
            p99_us: 30.0,
            p999_us: 40.0,
            max_us: 50.0,
            cpu_user_s: 0.25,
            cpu_sys_s: 0.125,
            allocs: 10,
            alloc_bytes: 640,
            write_syscalls: Some(7),
            peak_rss_kib: 2048,
            warmup_requests: 81_920,
            first_error: Some("timed out after 1 s".into()),
        };
        let back = Report::from_line(&r.to_line()).expect("parses");
        assert_eq!(back.to_line(), r.to_line());
        assert_eq!(back.warmup_requests, 81_920);
        assert!(r.to_json().contains("\"allocs\":10,"), "{}", r.to_json());
        assert_eq!(back.throughput(), 2000.0);
        assert!((back.cpu_per_1k() - 0.375).abs() < 1e-12);
        assert!((back.cpu_user_per_1k() - 0.25).abs() < 1e-12);
        assert!(
            r.to_json().contains("\"cpu_user_s_per_1k\":0.250000,"),
            "{}",
            r.to_json()
        );
        assert_eq!(back.writes_per_req(), Some(0.007));
        assert!(Report::from_line("garbage").is_none());
    }

    #[test]
    fn load_note_warns_above_the_cpu_count() {
        let quiet = load_note(Some([0.5, 0.4, 0.3]), Some([1.5, 0.9, 0.4]), Some(2));
        assert!(quiet.contains("0.50 0.40 0.30 before"), "{quiet}");
        assert!(quiet.contains("1.50 0.90 0.40 after; 2 CPUs"), "{quiet}");
        assert!(!quiet.contains("WARNING"), "{quiet}");
        let busy = load_note(Some([0.5, 0.4, 0.3]), Some([6.25, 3.0, 1.0]), Some(4));
        assert!(
            busy.contains("WARNING: a load average of 6.25 exceeds the 4 CPUs"),
            "{busy}"
        );
        let unknown = load_note(None, None, None);
        assert!(unknown.contains("unknown before the runs, unknown after; unknown CPUs"));
        assert!(!unknown.contains("WARNING"), "{unknown}");
        assert!(load_note(Some([3.0; 3]), None, Some(2)).contains("WARNING"));
    }

    #[test]
    fn table_has_a_ratio_row_per_pair() {
        let a = Report {
            driver: "scylla2".into(),
            workload: "select".into(),
            concurrency: 8,
            requests: 100,
            elapsed_s: 1.0,
            ..Report::default()
        };
        let b = Report {
            driver: "scylla".into(),
            elapsed_s: 2.0,
            cpu_user_s: 0.4,
            cpu_sys_s: 0.1,
            ..a.clone()
        };
        let a = Report {
            cpu_user_s: 0.1,
            cpu_sys_s: 0.15,
            ..a
        };
        let t = table(&[a, b]);
        let header = t.lines().next().expect("header");
        let ratio = t.lines().find(|l| l.contains("ratio")).expect("ratio row");
        assert!(ratio.contains("2.00"), "{ratio}");
        // CPU 0.25 / 0.5, user 0.1 / 0.4: each ratio under its own column.
        // Columns are aligned in characters (the header has `µ`s): compare char positions.
        let column = |name: &str| {
            let start = header.find(name).expect("column");
            header[..start].chars().count() + name.chars().count()
        };
        let cell = |end: usize| {
            let head: String = ratio.chars().take(end).collect();
            head.split_whitespace().last().expect("cell").to_owned()
        };
        assert_eq!(cell(column("CPU s/1k")), "0.50", "{t}");
        assert_eq!(cell(column("user s/1k")), "0.25", "{t}");
        // The direction row: throughput up, the rest down, each under its column.
        let better = t.lines().nth(1).expect("direction row");
        let mark = |end: usize| better.chars().take(end).collect::<String>();
        assert!(mark(column("req/s")).ends_with("↑ higher"), "{t}");
        for name in ["p50 µs", "CPU s/1k", "allocs/rq", "writes/rq", "RSS MiB"] {
            assert!(mark(column(name)).ends_with("↓ lower"), "{name}:\n{t}");
        }
        assert!(t.contains("higher is better (throughput)"), "{t}");
        assert_eq!(json_str("a\"b\n"), "\"a\\\"b\\u000a\"");
    }
}
