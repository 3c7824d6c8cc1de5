//! The official Python driver (cassandra-driver) sends CQL that Apache Cassandra 4.0 accepts:
//! prepared INSERT JSON, GROUP BY with aggregates, SELECT JSON with CAST, a hinted marker in
//! arithmetic and blobAsText, and IN with ORDER BY: merged across partitions unpaged, and
//! refused under the driver's default paging exactly as Cassandra's `SelectStatement`
//! refuses it. Skipped with SCYLLA2_SKIP_PYTHON=1, like the other Python driver tests.

mod python_env;

use std::net::Ipv4Addr;
use std::time::Duration;

use scylla2_sim::Cluster;

const SCRIPT: &str = r#"
import sys
from cassandra import InvalidRequest
from cassandra.cluster import Cluster
from cassandra.query import SimpleStatement, tuple_factory

host, port, version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cluster = Cluster([host], port=port, protocol_version=version)
s = cluster.connect()
s.row_factory = tuple_factory
ks = "pj%d" % version
s.execute("CREATE KEYSPACE %s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}" % ks)
s.execute("CREATE TABLE %s.t (p int, c int, v int, b blob, PRIMARY KEY (p, c))" % ks)
ins = s.prepare("INSERT INTO %s.t JSON ?" % ks)
for p, c, v in [(1, 1, 10), (1, 4, 40), (2, 2, 20), (2, 3, 30)]:
    s.execute(ins, ['{"p": %d, "c": %d, "v": %d, "b": "0x6869"}' % (p, c, v)])
rows = sorted(s.execute("SELECT p, count(*), sum(v) FROM %s.t WHERE p IN (1, 2) GROUP BY p" % ks))
assert rows == [(1, 2, 50), (2, 2, 50)], rows
sel = s.prepare("SELECT JSON c, cast(v as text) AS t, v * (int)? AS w, blobAsText(b) AS s FROM %s.t WHERE p = ?" % ks)
rows = list(s.execute(sel, [2, 1]))
want = [('{"c": 1, "t": "10", "w": 20, "s": "hi"}',), ('{"c": 4, "t": "40", "w": 80, "s": "hi"}',)]
assert rows == want, rows
merged = "SELECT c FROM %s.t WHERE p IN (1, 2) ORDER BY c DESC" % ks
rows = list(s.execute(SimpleStatement(merged, fetch_size=None)))
assert rows == [(4,), (3,), (2,), (1,)], rows
try:
    s.execute(merged)
    raise AssertionError("a paged IN + ORDER BY must be refused")
except InvalidRequest as e:
    assert "Cannot page queries with both ORDER BY and a IN restriction" in str(e), e
cluster.shutdown()
print("v%d: ok" % version)
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_driver_uses_json_group_by_cast_and_in_order_by() {
    let Some(python) = python_env::interpreter() else {
        eprintln!("SCYLLA2_SKIP_PYTHON=1: python driver CQL test skipped");
        return;
    };
    let cluster = Cluster::builder()
        .nodes(1)
        .port(0)
        .base_ip(Ipv4Addr::new(127, 0, 58, 1))
        .start()
        .await
        .unwrap();
    let addr = cluster.contact_points()[0];
    for version in [4, 5] {
        let run = tokio::process::Command::new(&python)
            .arg("-c")
            .arg(SCRIPT)
            .arg(addr.ip().to_string())
            .arg(addr.port().to_string())
            .arg(version.to_string())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(120), run)
            .await
            .expect("the python checks finish within 2 minutes")
            .unwrap_or_else(|e| panic!("{} could not be run: {e}", python.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains(&format!("v{version}: ok")),
            "python driver CQL checks failed (v{version}):\n{stdout}\n{stderr}"
        );
    }
}
