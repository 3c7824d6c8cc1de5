//! The official Python driver (cassandra-driver) against in-process clusters: protocol v4 and
//! v5, every compression, 1 and 3 nodes, and v5→v4 negotiation. Runs with the system
//! `python3` when it has the packages of /requirements-test.txt, otherwise with a virtual
//! environment it sets up once under the target directory (see `python_env`); fails when
//! `python3` is missing, unless SCYLLA2_SKIP_PYTHON=1.

mod python_env;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use scylla2_sim::Cluster;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_python_driver.py")
}

fn config(
    name: &str,
    c: &Cluster,
    protocol: Option<u8>,
    compression: Option<&str>,
    negotiated: Option<u8>,
) -> String {
    let hosts: Vec<String> = c
        .contact_points()
        .iter()
        .map(|a| format!("\"{}\"", a.ip()))
        .collect();
    format!(
        "{{\"name\": \"{name}\", \"hosts\": [{}], \"port\": {}, \"protocol\": {}, \"compression\": {}, \"negotiated\": {}}}",
        hosts.join(", "),
        c.port(),
        protocol.map_or("null".to_string(), |p| p.to_string()),
        compression.map_or("null".to_string(), |c| format!("\"{c}\"")),
        negotiated.map_or("null".to_string(), |p| p.to_string()),
    )
}

fn with_auth(config: String, user: &str, password: &str) -> String {
    let body = config.trim_end_matches('}');
    format!("{body}, \"auth\": [\"{user}\", \"{password}\"]}}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_driver_matrix() {
    // Blocks (pip may run for a while the first time), before any cluster is started.
    let Some(python) = python_env::interpreter() else {
        eprintln!("SCYLLA2_SKIP_PYTHON=1: python driver test skipped");
        return;
    };

    let one = Cluster::builder()
        .nodes(1)
        .port(0)
        .base_ip(Ipv4Addr::new(127, 0, 11, 1))
        .start()
        .await
        .unwrap();
    let three = Cluster::builder()
        .nodes(3)
        .shards(2)
        .port(0)
        .shard_aware_port(0)
        .base_ip(Ipv4Addr::new(127, 0, 12, 1))
        .start()
        .await
        .unwrap();
    let v4_only = Cluster::builder()
        .nodes(1)
        .port(0)
        .max_protocol_version(4)
        .base_ip(Ipv4Addr::new(127, 0, 13, 1))
        .start()
        .await
        .unwrap();

    let secured = Cluster::builder()
        .nodes(1)
        .port(0)
        .password_auth([("cassandra", "s3cret")])
        .base_ip(Ipv4Addr::new(127, 0, 14, 1))
        .start()
        .await
        .unwrap();

    let mut configs = Vec::new();
    for (label, c) in [("1 node", &one), ("3 nodes", &three)] {
        for (p, comp) in [
            (4, None),
            (4, Some("lz4")),
            (4, Some("snappy")),
            (5, None),
            (5, Some("lz4")),
        ] {
            let name = format!("{label} v{p} {}", comp.unwrap_or("uncompressed"));
            configs.push(config(&name, c, Some(p), comp, None));
        }
    }
    configs.push(config(
        "negotiate down to v4",
        &v4_only,
        None,
        None,
        Some(4),
    ));
    for p in [4, 5] {
        let name = format!("password auth v{p}");
        let cfg = config(&name, &secured, Some(p), Some("lz4"), None);
        configs.push(with_auth(cfg, "cassandra", "s3cret"));
    }
    let json = format!("[{}]", configs.join(", "));

    let run = tokio::process::Command::new(&python)
        .arg(script())
        .arg(&json)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("python driver checks finish within 4 minutes")
        .unwrap_or_else(|e| panic!("{} could not be run: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "python driver checks failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(&format!("{} passed, 0 failed", configs.len())));
}
