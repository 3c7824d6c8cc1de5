//! Schema tests: ALTER TABLE ADD and result metadata, DDL errors and schema changes, UDTs,
//! tuples and vectors, system tables, replica placement, filtering and scans.

use bytes::Bytes;

use super::*;
use crate::engine::murmur3_token;
use crate::model::{BoundValue, QueryParams, QueryResult, SimError};

use crate::model::{ChangeType, SchemaChange};

#[test]
fn alter_table_add_changes_result_metadata() {
    let mut e = env();
    e.q("CREATE TABLE al (k int PRIMARY KEY, a int)");
    let p = e.prepare("SELECT * FROM al");
    let (id1, cols1) = e.engine.current_result_metadata(&p);
    assert_eq!(cols1.len(), 2);
    let v1 = e.engine.schema_version();
    let r = e.q("ALTER TABLE al ADD b text");
    assert!(matches!(r, QueryResult::SchemaChange(_)));
    assert_ne!(v1, e.engine.schema_version());
    let (id2, cols2) = e.engine.current_result_metadata(&p);
    assert_eq!(
        cols2.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["k", "a", "b"]
    );
    assert_ne!(id1, id2);
    e.q("INSERT INTO al (k, a, b) VALUES (1, 2, 'x')");
    let r = e
        .engine
        .execute(&mut e.session, &p, &QueryParams::default(), &e.cluster)
        .unwrap();
    let QueryResult::Rows(r) = r else { panic!() };
    assert_eq!(r.rows, vec![vec![ci(1), ci(2), ct("x")]]);
}

#[test]
fn ddl_errors_and_schema_changes() {
    let mut e = env();
    assert!(matches!(e.try_q("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"), Err(SimError::AlreadyExists { .. })));
    assert!(matches!(e.q("CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"), QueryResult::Void));
    e.q("CREATE TABLE t1 (k int PRIMARY KEY)");
    assert_eq!(
        e.try_q("CREATE TABLE t1 (k int PRIMARY KEY)").unwrap_err(),
        SimError::AlreadyExists {
            keyspace: "ks".into(),
            table: "t1".into(),
            message: "Cannot add already existing table \"t1\" to keyspace \"ks\"".into()
        }
    );
    assert_eq!(
        e.try_q("SELECT * FROM nope").unwrap_err(),
        SimError::Invalid("table nope does not exist".into())
    );
    assert_eq!(
        e.try_q("SELECT * FROM zz.nope").unwrap_err(),
        SimError::Invalid("keyspace zz does not exist".into())
    );
    assert!(
        matches!(e.try_q("SELEC * FROM t1"), Err(SimError::SyntaxError(m)) if m.starts_with("line 1:0"))
    );
    assert!(
        matches!(e.try_q("INSERT INTO t1 (k) VALUES ('x')"), Err(SimError::Invalid(m)) if m.contains("Invalid STRING constant"))
    );
    e.assert_invalid("SELECT * FROM t1 WHERE k = 1 AND x = 2");
    let r = e.q("DROP TABLE t1");
    assert!(matches!(
        r,
        QueryResult::SchemaChange(SchemaChange {
            change: ChangeType::Dropped,
            ..
        })
    ));
    e.q("CREATE TYPE addr (street text, zip int)");
    e.q("CREATE TABLE u (k int PRIMARY KEY, a frozen<addr>, v vector<float, 3>, t tuple<int, text>)");
    e.q("INSERT INTO u (k, a, v, t) VALUES (1, {street: 'main', zip: 5}, [1.0, 2.0, 3.0], (1, 'x'))");
    let r = e.rows("SELECT a, v, t FROM u WHERE k = 1");
    assert_eq!(
        r.rows[0][0],
        Some(Bytes::from_static(&[
            0, 0, 0, 4, b'm', b'a', b'i', b'n', 0, 0, 0, 4, 0, 0, 0, 5
        ]))
    );
    assert_eq!(r.rows[0][1].as_ref().unwrap().len(), 12);
    assert_eq!(
        r.rows[0][2],
        Some(Bytes::from_static(&[
            0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, b'x'
        ]))
    );
    e.q("TRUNCATE u");
    assert!(e.rows("SELECT * FROM u").rows.is_empty());
    let r = e.q("DROP KEYSPACE ks");
    assert!(matches!(r, QueryResult::SchemaChange(_)));
    assert!(e.try_q("SELECT * FROM ks.u").is_err());
}

#[test]
fn system_tables() {
    let mut e = env();
    e.q("CREATE TABLE st (k int, c text, v list<int>, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)");
    let r = e.rows("SELECT key, partitioner, rpc_address, tokens, schema_version FROM system.local WHERE key='local'");
    assert_eq!(r.rows.len(), 1);
    assert_eq!(
        r.rows[0][1],
        ct("org.apache.cassandra.dht.Murmur3Partitioner")
    );
    assert_eq!(r.rows[0][2], Some(Bytes::from_static(&[127, 0, 0, 1])));
    let r = e.rows("SELECT peer, host_id, data_center FROM system.peers");
    assert_eq!(r.rows.len(), 2);
    // Cassandra mode (the engine's default) has peers_v2; ScyllaDB mode's absence is tested
    // in `system_modes`.
    assert_eq!(e.rows("SELECT peer FROM system.peers_v2").rows.len(), 2);
    let r = e.rows("SELECT keyspace_name, replication FROM system_schema.keyspaces");
    assert!(r.rows.iter().any(|row| row[0] == ct("ks")));
    let params = QueryParams {
        values: vec![BoundValue::Set(Bytes::from_static(&[
            0, 0, 0, 1, 0, 0, 0, 2, b'k', b's',
        ]))],
        ..QueryParams::default()
    };
    let r = e.rows_p("SELECT keyspace_name, table_name, column_name, kind, position, type FROM system_schema.columns where keyspace_name in ?", &params);
    let cols: Vec<(Option<Bytes>, Option<Bytes>, Option<Bytes>)> = r
        .rows
        .iter()
        .map(|row| (row[2].clone(), row[3].clone(), row[5].clone()))
        .collect();
    assert_eq!(
        cols,
        vec![
            (ct("c"), ct("clustering"), ct("text")),
            (ct("k"), ct("partition_key"), ct("int")),
            (ct("v"), ct("regular"), ct("list<int>")),
        ]
    );
    let r = e.rows("SELECT clustering_order FROM system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 'st' AND column_name = 'c'");
    assert_eq!(r.rows, vec![vec![ct("desc")]]);
    let r = e.rows(
        "SELECT keyspace_name, table_name FROM system_schema.tables WHERE keyspace_name = 'ks'",
    );
    assert_eq!(r.rows, vec![vec![ct("ks"), ct("st")]]);
    assert!(e.rows("SELECT * FROM system_schema.views").rows.is_empty());
    assert!(
        e.rows(
            "SELECT keyspace_name, type_name, field_names, field_types FROM system_schema.types"
        )
        .rows
        .is_empty()
    );
    let r = e.rows("SELECT node, shard, received, owned, with_token FROM system_sim.requests");
    assert_eq!(r.rows[0], vec![ci(0), ci(0), cb(5), cb(3), cb(4)]);
    let peer = BoundValue::Set(Bytes::from_static(&[127, 0, 0, 2]));
    let r = e.rows_p(
        "SELECT rpc_address FROM system.peers WHERE peer = ?",
        &QueryParams {
            values: vec![peer],
            ..QueryParams::default()
        },
    );
    assert_eq!(r.rows.len(), 1);
    assert!(matches!(
        e.try_q("INSERT INTO system.local (key) VALUES ('x')"),
        Err(SimError::Unauthorized(_))
    ));
}

#[test]
fn replicas_for_keyspaces() {
    let mut e = env();
    e.q("CREATE KEYSPACE nts WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 2}");
    e.q("CREATE KEYSPACE ntsall WITH replication = {'class': 'NetworkTopologyStrategy', 'replication_factor': 3}");
    let nodes = e.cluster.nodes.clone();
    assert_eq!(e.engine.replicas("ks", 0, &nodes).len(), 1);
    assert_eq!(e.engine.replicas("nts", 0, &nodes).len(), 2);
    assert_eq!(e.engine.replicas("ntsall", 0, &nodes).len(), 3);
    assert!(e.engine.replicas("missing", 0, &nodes).is_empty());
}

#[test]
fn filtering_and_scans() {
    let mut e = env();
    e.q("CREATE TABLE f (k int, c int, v int, PRIMARY KEY (k, c))");
    for k in 0..4 {
        e.q(&format!(
            "INSERT INTO f (k, c, v) VALUES ({k}, 1, {})",
            k % 2
        ));
    }
    assert!(
        matches!(e.try_q("SELECT * FROM f WHERE v = 1"), Err(SimError::Invalid(m)) if m.contains("ALLOW FILTERING"))
    );
    assert_eq!(
        e.rows("SELECT k FROM f WHERE v = 1 ALLOW FILTERING")
            .rows
            .len(),
        2
    );
    assert_eq!(
        e.rows("SELECT k FROM f WHERE c = 1 ALLOW FILTERING")
            .rows
            .len(),
        4
    );
    assert_eq!(e.rows("SELECT DISTINCT k FROM f").rows.len(), 4);
    let r = e.rows("SELECT k FROM f WHERE token(k) > 0");
    assert!(
        r.rows
            .iter()
            .all(|row| murmur3_token(row[0].as_deref().unwrap()) > 0)
    );
}

#[test]
fn alter_table_drop_hides_the_column_for_good() {
    let mut e = env();
    e.q("CREATE TABLE dr (k int PRIMARY KEY, a int, b int)");
    e.q("INSERT INTO dr (k, a, b) VALUES (1, 2, 3)");
    let before = e.prepare("SELECT b FROM dr WHERE k = 1 AND b = 3 ALLOW FILTERING");
    e.q("ALTER TABLE dr DROP a");
    let QueryResult::Rows(r) = e
        .engine
        .execute(&mut e.session, &before, &QueryParams::default(), &e.cluster)
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(r.rows, vec![vec![ci(3)]]);
    let r = e.rows("SELECT * FROM dr WHERE k = 1");
    assert_eq!(column_names(&r), ["k", "b"]);
    assert_eq!(r.rows, vec![vec![ci(1), ci(3)]]);
    assert!(e.try_q("SELECT a FROM dr").is_err());
    assert!(e.try_q("ALTER TABLE dr DROP k").is_err());
    e.q("ALTER TABLE dr ADD a int");
    e.assert_rows("SELECT a FROM dr WHERE k = 1", vec![vec![None]]);
}

#[test]
fn secondary_indexes() {
    let mut e = env();
    e.q("CREATE TABLE ix (k int PRIMARY KEY, v int, m map<text, int>)");
    for k in 0..5 {
        e.q(&format!("INSERT INTO ix (k, v) VALUES ({k}, {})", k % 2));
    }
    assert!(e.try_q("SELECT k FROM ix WHERE v = 1").is_err());
    let r = e.q("CREATE INDEX ON ix (v)");
    assert!(matches!(
        r,
        QueryResult::SchemaChange(SchemaChange {
            change: ChangeType::Updated,
            ..
        })
    ));
    e.q("CREATE INDEX IF NOT EXISTS ix_v_idx ON ix (v)");
    e.q("CREATE INDEX mkeys ON ks.ix (keys(m))");
    assert!(matches!(
        e.try_q("CREATE INDEX mkeys ON ix (v)"),
        Err(SimError::AlreadyExists { .. })
    ));
    assert_eq!(e.rows("SELECT k FROM ix WHERE v = 1").rows.len(), 2);
    let r = e.rows(
        "SELECT index_name, kind, options FROM system_schema.indexes WHERE keyspace_name = 'ks'",
    );
    assert_eq!(r.rows.len(), 2);
    assert_eq!(r.rows[0][0], ct("ix_v_idx"));
    assert_eq!(
        r.rows[1][2],
        Some(Bytes::from_static(
            b"\0\0\0\x01\0\0\0\x06target\0\0\0\x07keys(m)"
        ))
    );
    e.q("DROP INDEX ix_v_idx");
    assert!(e.try_q("SELECT k FROM ix WHERE v = 1").is_err());
    assert!(e.try_q("DROP INDEX ix_v_idx").is_err());
    e.q("DROP INDEX IF EXISTS ix_v_idx");
}

/// Error wordings per server: Apache Cassandra 4.0 (`Schema.validateTable`,
/// `TableMetadata.getExistingColumn`, `StatementRestrictions`, `DropTableStatement`,
/// `CreateTableStatement`) and ScyllaDB (`validation.cc`, `unrecognized_entity_exception`,
/// `update_statement.cc`, `modification_statement.cc`).
#[test]
fn error_wording_follows_the_flavor() {
    use crate::model::Flavor;
    let cases: [(&str, &str, &str); 9] = [
        (
            "TRUNCATE nope",
            "table nope does not exist",
            "unconfigured table nope",
        ),
        (
            "SELECT * FROM nope",
            "table nope does not exist",
            "unconfigured table nope",
        ),
        (
            "SELECT * FROM zz.t",
            "keyspace zz does not exist",
            "Keyspace zz does not exist",
        ),
        (
            "SELECT nope FROM t",
            "Undefined column name nope in table ks.t",
            "Unrecognized name nope",
        ),
        (
            "SELECT * FROM t WHERE nope = 1",
            "Undefined column name nope in table ks.t",
            "Unrecognized name nope",
        ),
        (
            "INSERT INTO t (k, nope) VALUES (1, 2)",
            "Undefined column name nope in table ks.t",
            "Unknown identifier nope",
        ),
        (
            "INSERT INTO t (v) VALUES (1)",
            "Some partition key parts are missing: k",
            "Missing mandatory PRIMARY KEY part k",
        ),
        (
            "DROP TABLE nope",
            "Table 'ks.nope' doesn't exist",
            "unconfigured table nope",
        ),
        (
            "CREATE TABLE zz.t (k int PRIMARY KEY)",
            "Keyspace 'zz' doesn't exist",
            "Keyspace zz does not exist",
        ),
    ];
    for flavor in [Flavor::Cassandra, Flavor::Scylla] {
        let mut e = Env {
            engine: Engine::with_flavor(flavor),
            session: SessionState::default(),
            cluster: FakeCluster::new(1),
        };
        e.q("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        e.q("USE ks");
        e.q("CREATE TABLE t (k int PRIMARY KEY, v int)");
        for (q, cassandra, scylla) in cases {
            let want = if flavor == Flavor::Cassandra {
                cassandra
            } else {
                scylla
            };
            assert_eq!(
                e.try_q(q).unwrap_err(),
                SimError::Invalid(want.into()),
                "{q}"
            );
        }
        // Bad literal types are worded alike (`Constants.Literal` / `prepare_expr.cc`).
        assert_eq!(
            e.try_q("INSERT INTO t (k, v) VALUES (1, 'x')").unwrap_err(),
            SimError::Invalid("Invalid STRING constant (x) for \"v\" of type int".into())
        );
    }
}
