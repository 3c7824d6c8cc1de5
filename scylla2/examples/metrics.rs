//! The session's metrics (feature `metrics`) exported in the Prometheus text format, as a
//! `/metrics` endpoint would serve them.
//!
//! `cargo run -p scylla2 --features metrics --example metrics` runs a short load against an
//! embedded simulated cluster (or `SCYLLA_URI=host:port`) and prints the export.

use std::fmt::Write as _;

use scylla2::Session;
use scylla2::metrics::{Latency, MetricsSnapshot};

/// The Prometheus text exposition format of `m`.
fn prometheus(m: &MetricsSnapshot) -> String {
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, values: &[(String, u64)]| {
        let _ = writeln!(
            out,
            "# HELP scylla2_{name} {help}\n# TYPE scylla2_{name} counter"
        );
        for (labels, value) in values {
            let _ = writeln!(out, "scylla2_{name}{labels} {value}");
        }
    };
    let per_node = |f: fn(&scylla2::metrics::NodeMetricsSnapshot) -> u64| -> Vec<(String, u64)> {
        m.per_node
            .iter()
            .map(|n| (format!("{{node=\"{}\"}}", n.node), f(n)))
            .collect()
    };
    counter(
        "requests_total",
        "Attempts answered or failed.",
        &per_node(|n| n.requests),
    );
    counter(
        "timeouts_total",
        "Attempts that timed out.",
        &per_node(|n| n.timeouts),
    );
    counter("retries_total", "Retries sent.", &per_node(|n| n.retries));
    counter(
        "speculative_total",
        "Speculative attempts sent.",
        &per_node(|n| n.speculative),
    );
    let errors = [
        ("server", m.errors.server),
        ("connection", m.errors.connection),
        ("timeout", m.errors.timeout),
        ("other", m.errors.other),
    ];
    counter(
        "errors_total",
        "Failed attempts by kind.",
        &errors.map(|(k, v)| (format!("{{kind=\"{k}\"}}"), v)),
    );
    counter(
        "connections_opened_total",
        "Connections opened.",
        &[(String::new(), m.connections_opened)],
    );
    counter(
        "connections_closed_total",
        "Connections closed or dead.",
        &[(String::new(), m.connections_closed)],
    );
    counter(
        "connections_replaced_total",
        "Connections replaced for stream ids held by answers that never came.",
        &[(String::new(), m.connections_replaced)],
    );
    for (name, help, value) in [
        ("in_flight", "Requests waiting for an answer.", m.in_flight),
        ("connections_open", "Open connections.", m.connections_open),
        (
            "orphaned_streams",
            "Stream ids held by answers that never came.",
            m.orphaned_streams,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP scylla2_{name} {help}\n# TYPE scylla2_{name} gauge\nscylla2_{name} {value}"
        );
    }
    let latency = |out: &mut String, labels: &str, l: &Latency| {
        for (q, d) in [
            ("0.5", l.p50),
            ("0.9", l.p90),
            ("0.99", l.p99),
            ("0.999", l.p999),
        ] {
            let sep = if labels.is_empty() { "" } else { "," };
            let _ = writeln!(
                out,
                "scylla2_latency_seconds{{{labels}{sep}quantile=\"{q}\"}} {}",
                d.as_secs_f64()
            );
        }
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "scylla2_latency_seconds_count{braces} {}", l.count);
    };
    let _ = writeln!(
        out,
        "# HELP scylla2_latency_seconds Latency of successful executions.\n\
         # TYPE scylla2_latency_seconds summary"
    );
    for n in &m.per_node {
        latency(&mut out, &format!("node=\"{}\"", n.node), &n.latency);
    }
    out
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (uri, _sim) = match std::env::var("SCYLLA_URI") {
        Ok(uri) => (uri, None),
        Err(_) => {
            let sim = scylla2_sim::Cluster::builder()
                .nodes(2)
                .port(0)
                .start()
                .await?;
            (sim.contact_points()[0].to_string(), Some(sim))
        }
    };
    let session = Session::builder().contact_point(uri).connect().await?;
    for _ in 0..1_000 {
        session
            .execute("SELECT release_version FROM system.local", ())
            .await?;
    }
    print!("{}", prometheus(&session.metrics()));
    Ok(())
}
