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
            let cfg = config(&name, c, Some(p), comp, None);
            // ScyllaDB mode (shards): its own warnings and wordings.
            configs.push(if c.shard_aware_port() != 0 {
                format!("{}, \"scylla\": true}}", cfg.trim_end_matches('}'))
            } else {
                cfg
            });
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

/// The official Python driver as an independent TLS client: `ssl_context` trusting the
/// simulator's test CA (hostname checked against the node's IP address), protocol v4 and v5,
/// then mutual TLS with a client certificate signed by that CA; and a context trusting
/// another CA must fail.
const TLS_SCRIPT: &str = r#"
import ssl, sys, uuid
from cassandra.cluster import Cluster, NoHostAvailable

host, port, ca, other_ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
client = sys.argv[5:7] if len(sys.argv) > 5 else None

def context(ca_file):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the certificate and the name
    ctx.load_verify_locations(ca_file)
    if client:
        ctx.load_cert_chain(client[0], client[1])
    return ctx

for protocol in (4, 5):
    cluster = Cluster([host], port=port, ssl_context=context(ca), protocol_version=protocol,
                      connect_timeout=5, control_connection_timeout=5)
    session = cluster.connect()
    ks = "tls_" + uuid.uuid4().hex[:8]
    session.execute("CREATE KEYSPACE %s WITH replication = "
                    "{'class': 'SimpleStrategy', 'replication_factor': 1}" % ks)
    session.execute("CREATE TABLE %s.t (k int PRIMARY KEY, v text)" % ks)
    insert = session.prepare("INSERT INTO %s.t (k, v) VALUES (?, ?)" % ks)
    for k in range(10):
        session.execute(insert, (k, "value %d" % k))
    row = session.execute("SELECT v FROM %s.t WHERE k = 7" % ks).one()
    assert row.v == "value 7", row
    assert cluster.protocol_version == protocol, cluster.protocol_version
    cluster.shutdown()
    print("TLS v%d: ok" % protocol)

cluster = Cluster([host], port=port, ssl_context=context(other_ca), connect_timeout=5,
                  control_connection_timeout=5)
try:
    cluster.connect()
    raise AssertionError("a certificate from another CA must be refused")
except NoHostAvailable as e:
    assert "CERTIFICATE_VERIFY_FAILED" in repr(e) or "certificate verify failed" in repr(e), repr(e)
    print("TLS another CA: refused")
finally:
    cluster.shutdown()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_driver_over_tls() {
    use scylla2_sim::SimTls;

    let Some(python) = python_env::interpreter() else {
        eprintln!("SCYLLA2_SKIP_PYTHON=1: python driver TLS test skipped");
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("python-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let script = write("check_tls.py", TLS_SCRIPT);
    let other_ca = write(
        "other-ca.pem",
        &SimTls::self_signed().unwrap().ca_pem().unwrap(),
    );

    let plain_tls = SimTls::self_signed().unwrap();
    let mutual = SimTls::self_signed().unwrap().require_client_cert();
    let (cert, key) = mutual.client_identity("python").unwrap();
    let (cert, key) = (write("client.pem", &cert), write("client.key", &key));
    for (name, tls, base, client) in [
        ("server TLS", plain_tls, Ipv4Addr::new(127, 0, 15, 1), None),
        (
            "mutual TLS",
            mutual,
            Ipv4Addr::new(127, 0, 16, 1),
            Some([&cert, &key]),
        ),
    ] {
        let cluster = Cluster::builder()
            .nodes(1)
            .port(0)
            .base_ip(base)
            .tls(tls)
            .start()
            .await
            .unwrap();
        let ca = write(&format!("ca-{}.pem", base), &cluster.tls_ca_pem().unwrap());
        let addr = cluster.contact_points()[0];
        let mut command = tokio::process::Command::new(&python);
        command
            .arg(&script)
            .arg(addr.ip().to_string())
            .arg(addr.port().to_string())
            .arg(&ca)
            .arg(&other_ca)
            .args(client.into_iter().flatten())
            .kill_on_drop(true);
        let out = tokio::time::timeout(Duration::from_secs(120), command.output())
            .await
            .expect("the python TLS checks finish within 2 minutes")
            .unwrap_or_else(|e| panic!("{} could not be run: {e}", python.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!("{name}:\n{stdout}");
        assert!(
            out.status.success(),
            "{name}: python TLS checks failed:\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains("TLS v5: ok") && stdout.contains("another CA: refused"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
