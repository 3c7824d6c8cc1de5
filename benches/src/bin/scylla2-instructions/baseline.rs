//! The committed baseline (`benches/instructions-baseline.txt`) and the gate.
//!
//! The file holds scylla2's instructions per request at 1 in flight with default features,
//! one `workload figure` line each, after `#` comments.

/// How much a gated figure may grow: 3 %.
pub const TOLERANCE: f64 = 0.03;

/// The comment heading a written baseline.
const HEADER: &str = "\
# scylla2's instructions per request at 1 in flight, default features: user-space
# instructions of the client's measured phase counted by `valgrind --tool=callgrind`,
# (long run - short run) / (extra requests), prepared single-row statements, tokio
# current_thread runtime, scylla2-sim (3 nodes x 4 shards) in another process.
# `scylla2-instructions --check` (CI) fails when a figure grows more than 3 % over this.
# Written by `scylla2-instructions --write-baseline`; change it only in a commit that says
# why.
";

/// Parses the baseline: `(workload, instructions per request)` in file order.
pub fn parse(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(value), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!("line {}: expected `workload figure`", n + 1));
        };
        let value: f64 = value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v > 0.0)
            .ok_or_else(|| format!("line {}: invalid figure {value:?}", n + 1))?;
        out.push((name.to_owned(), value));
    }
    if out.is_empty() {
        return Err("no figures".to_owned());
    }
    Ok(out)
}

/// The baseline file for `figures`, rounded to whole instructions.
pub fn format(figures: &[(String, f64)]) -> String {
    let mut s = HEADER.to_owned();
    for (name, value) in figures {
        s.push_str(&format!("{name} {}\n", value.round() as u64));
    }
    s
}

/// One gate: `measured` against `reference`; `Err` with the verdict when it grew more than
/// [`TOLERANCE`].
pub fn gate(what: &str, measured: f64, reference: f64) -> Result<String, String> {
    let change = measured / reference - 1.0;
    let line = format!(
        "{what}: {measured:.0} against {reference:.0} ({:+.2} %, limit +{:.0} %)",
        change * 100.0,
        TOLERANCE * 100.0
    );
    if change > TOLERANCE {
        Err(format!("FAIL {line}"))
    } else {
        Ok(format!("ok   {line}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let figures = vec![
            ("insert".to_owned(), 9938.4),
            ("select".to_owned(), 10665.0),
        ];
        let text = format(&figures);
        assert!(text.starts_with("# "));
        assert_eq!(
            parse(&text).expect("valid"),
            vec![
                ("insert".to_owned(), 9938.0),
                ("select".to_owned(), 10665.0)
            ]
        );
        assert!(parse("# only a comment\n").is_err());
        assert!(parse("insert\n").is_err());
        assert!(parse("insert 12 13\n").is_err());
        assert!(parse("insert -5\n").is_err());
        assert!(parse("insert many\n").is_err());
    }

    #[test]
    fn gates_at_three_percent() {
        assert!(gate("x", 1029.9, 1000.0).is_ok());
        assert!(gate("x", 900.0, 1000.0).is_ok());
        let fail = gate("x", 1031.0, 1000.0).expect_err("over the limit");
        assert!(
            fail.starts_with("FAIL x: 1031 against 1000 (+3.10 %"),
            "{fail}"
        );
    }
}
