//! System tables per emulated server (Apache Cassandra 4.0 by default, ScyllaDB after
//! `set_scylla_mode(true)`): `system.local` / `peers` / `peers_v2` columns,
//! `system.size_estimates`, `system_schema.tables` options, `system_schema.scylla_keyspaces`,
//! `system_auth.roles`, and the `tablets` keyspace option.

use super::*;

fn names(r: &Rows) -> Vec<String> {
    r.columns.iter().map(|c| c.name.clone()).collect()
}

fn env_in(scylla: bool, nodes: usize) -> Env {
    let engine = Engine::new();
    engine.set_scylla_mode(scylla);
    let mut e = Env {
        engine,
        session: SessionState::default(),
        cluster: FakeCluster::new(nodes),
    };
    e.q("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    e.q("USE ks");
    e
}

#[test]
fn local_has_the_columns_of_the_server_emulated() {
    // Cassandra 4.0 SystemKeyspace.Local: broadcast_port, listen_port, rpc_port (the native
    // port, persistLocalMetadata), no supported_features.
    let mut e = env_in(false, 3);
    let r = e.rows("SELECT * FROM system.local");
    let cols = names(&r);
    for c in ["broadcast_port", "listen_port", "rpc_port", "truncated_at"] {
        assert!(cols.iter().any(|n| n == c), "{c} in {cols:?}");
    }
    assert!(!cols.iter().any(|n| n == "supported_features"));
    let r = e.rows("SELECT broadcast_port, listen_port, rpc_port, cql_version FROM system.local");
    assert_eq!(
        r.rows,
        vec![vec![ci(7000), ci(7000), ci(9042), ct("3.4.5")]]
    );
    // ScyllaDB's system.local: supported_features, no 4.0 ports.
    let mut e = env_in(true, 3);
    let cols = names(&e.rows("SELECT * FROM system.local"));
    assert!(cols.iter().any(|n| n == "supported_features"));
    assert!(
        !cols
            .iter()
            .any(|n| n == "broadcast_port" || n == "rpc_port")
    );
    assert!(!names(&e.rows("SELECT * FROM system.peers")).is_empty());
}

#[test]
fn peers_v2_exists_in_cassandra_mode_only() {
    // Cassandra 4.0 SystemKeyspace.PeersV2: keyed by (peer, peer_port), native address/port.
    let mut e = env_in(false, 3);
    let r =
        e.rows("SELECT peer, peer_port, native_address, native_port, host_id FROM system.peers_v2");
    assert_eq!(r.rows.len(), 2);
    let peers = e.rows("SELECT peer, host_id FROM system.peers");
    for (v2, v1) in r.rows.iter().zip(&peers.rows) {
        assert_eq!(
            (&v2[0], &v2[4]),
            (&v1[0], &v1[1]),
            "same peers, same host ids"
        );
        assert_eq!(v2[0], v2[2], "native_address is the peer's address");
        assert_eq!((v2[1].clone(), v2[3].clone()), (ci(7000), ci(9042)));
    }
    // ScyllaDB has no system.peers_v2: an unknown table, Invalid worded as its
    // validation.cc `validate_column_family` says, which drivers take as "read
    // system.peers instead".
    let mut e = env_in(true, 3);
    let r = e.try_q("SELECT * FROM system.peers_v2");
    assert!(
        matches!(&r, Err(SimError::Invalid(m)) if m == "unconfigured table peers_v2"),
        "{r:?}"
    );
}

#[test]
fn size_estimates_count_partitions_of_local_ranges() {
    // SizeEstimatesRecorder: one row per table and local primary range; with one node every
    // range is local, so the counts add up to every partition.
    let mut e = env_in(false, 1);
    e.q("CREATE TABLE se (k int PRIMARY KEY, v int)");
    for k in 0..50 {
        e.q(&format!("INSERT INTO se (k, v) VALUES ({k}, 1)"));
    }
    let r = e.rows(
        "SELECT table_name, range_start, range_end, partitions_count FROM system.size_estimates \
         WHERE keyspace_name = 'ks'",
    );
    assert_eq!(r.rows.len(), e.cluster.nodes[0].tokens.len());
    let total: i64 = r
        .rows
        .iter()
        .map(|row| {
            let b = row[3].as_deref().expect("count");
            i64::from_be_bytes(b.try_into().expect("bigint"))
        })
        .sum();
    assert_eq!(total, 50);
    assert!(r.rows.iter().all(|row| row[0] == ct("se")));
}

#[test]
fn schema_tables_options_follow_the_server() {
    // Cassandra 4.0 SchemaKeyspace.Tables / TableParams defaults: speculative_retry and
    // additional_write_policy '99p', read_repair 'BLOCKING', STCS with its thresholds,
    // LZ4 with 16 KiB chunks.
    let mut e = env_in(false, 1);
    e.q("CREATE TABLE o (k int PRIMARY KEY)");
    let r = e.rows(
        "SELECT speculative_retry, additional_write_policy, read_repair, compression, compaction \
         FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 'o'",
    );
    let row = &r.rows[0];
    assert_eq!(&row[..3], &[ct("99p"), ct("99p"), ct("BLOCKING")]);
    let compression = row[3].as_deref().expect("compression");
    assert!(compression.windows(2).any(|w| w == b"16"));
    assert!(
        row[4]
            .as_deref()
            .expect("compaction")
            .windows(13)
            .any(|w| w == b"min_threshold")
    );
    // ScyllaDB: no 4.0-only columns, its own speculative_retry and compression keys.
    let mut e = env_in(true, 1);
    e.q("CREATE TABLE o (k int PRIMARY KEY)");
    let r = e.rows("SELECT * FROM system_schema.tables WHERE keyspace_name = 'ks'");
    assert!(!names(&r).iter().any(|n| n == "read_repair"));
    let r = e.rows("SELECT speculative_retry FROM system_schema.tables WHERE keyspace_name = 'ks'");
    assert_eq!(r.rows, vec![vec![ct("99.0PERCENTILE")]]);
}

#[test]
fn tablets_option_per_mode() {
    let create = "CREATE KEYSPACE tk WITH replication = {'class': 'NetworkTopologyStrategy', \
                  'replication_factor': 1} AND tablets = {'enabled': true, 'initial': 5}";
    // Cassandra 4.0 KeyspaceAttributes: an unknown property is a syntax error.
    let mut e = env_in(false, 3);
    assert!(matches!(e.try_q(create), Err(SimError::SyntaxError(_))));
    let mut e = env_in(true, 3);
    e.q(create);
    e.q("CREATE TABLE tk.t (k int PRIMARY KEY)");
    // scylla_keyspaces.initial_tablets: set for tablet keyspaces only (how drivers tell).
    let r = e.rows("SELECT keyspace_name, initial_tablets FROM system_schema.scylla_keyspaces");
    assert!(r.rows.contains(&vec![ct("tk"), ci(5)]));
    assert!(r.rows.contains(&vec![ct("ks"), None]));
    // 5 rounds up to 8 tablets splitting the ring evenly.
    let nodes = e.cluster.nodes.clone();
    let first = e
        .engine
        .tablet("tk", "t", i64::MIN + 1, &nodes)
        .expect("tablet");
    assert_eq!(
        (first.first_token, first.last_token),
        (i64::MIN, i64::MIN / 4 * 3 - 1)
    );
    let last = e
        .engine
        .tablet("tk", "t", i64::MAX, &nodes)
        .expect("tablet");
    assert_eq!(
        (last.first_token, last.last_token),
        (3 * (1i64 << 61) - 1, i64::MAX)
    );
    assert!(
        e.engine.tablet("ks", "t", 0, &nodes).is_none(),
        "vnode keyspace"
    );
    // Without 'initial': scylla_keyspaces shows 0 (ks_prop_defs::get_initial_tablets) and
    // the table gets one tablet per shard of the cluster (3 nodes × 2), rounded up to 8.
    e.q(
        "CREATE KEYSPACE ta WITH replication = {'class': 'NetworkTopologyStrategy', \
         'replication_factor': 1} AND tablets = {'enabled': true}",
    );
    e.q("CREATE TABLE ta.t (k int PRIMARY KEY)");
    let r = e.rows(
        "SELECT initial_tablets FROM system_schema.scylla_keyspaces WHERE keyspace_name = 'ta'",
    );
    assert_eq!(r.rows, vec![vec![ci(0)]]);
    let auto = e
        .engine
        .tablet("ta", "t", i64::MIN + 1, &nodes)
        .expect("tablet");
    assert_eq!(auto.last_token, i64::MIN / 4 * 3 - 1);
    // ks_prop_defs::get_initial_tablets wording for bad options.
    let bad = e.try_q(
        "CREATE KEYSPACE tb WITH replication = {'class': 'NetworkTopologyStrategy', \
         'replication_factor': 1} AND tablets = {'initial': 'x'}",
    );
    assert!(
        matches!(&bad, Err(SimError::ConfigError(m)) if m == "Initial tablets value should be numeric; found x"),
        "{bad:?}"
    );
    // alter_keyspace_statement.cc: no switching between vnodes and tablets.
    let alter = e.try_q(
        "ALTER KEYSPACE tk WITH replication = {'class': 'NetworkTopologyStrategy', \
         'replication_factor': 1} AND tablets = {'enabled': false}",
    );
    assert!(
        matches!(&alter, Err(SimError::Invalid(m)) if m == "Cannot alter replication strategy vnode/tablets flavor"),
        "{alter:?}"
    );
    // Dropping the table forgets its tablets; a new table gets a fresh map.
    e.engine
        .move_tablet(
            "tk",
            "t",
            0,
            vec![tablets::TabletReplica { node: 2, shard: 1 }],
            &nodes,
        )
        .expect("moves");
    assert_eq!(
        e.engine.tablet("tk", "t", 0, &nodes).expect("t").replicas[0].node,
        2
    );
    e.q("DROP TABLE tk.t");
    e.q("CREATE TABLE tk.t (k int PRIMARY KEY)");
    let fresh = e.engine.tablet("tk", "t", 0, &nodes).expect("t");
    assert_eq!(fresh, first_map_tablet(&e, 0));
}

/// The tablet of `token` in a fresh map of `tk.t`.
fn first_map_tablet(e: &Env, token: i64) -> tablets::TabletInfo {
    let map = tablets::TabletMap::new(
        5,
        &ring::Replication::NetworkTopology(vec![("*".into(), 1)]),
        &e.cluster.nodes,
    );
    map.info(token)
}

#[test]
fn roles_show_the_identity() {
    let mut e = env_in(false, 1);
    assert!(e.rows("SELECT role FROM system_auth.roles").rows.is_empty());
    e.engine.set_identity(system_tables::Identity {
        cql_version: "3.4.5".into(),
        roles: vec!["cassandra".into(), "app".into()],
    });
    let r = e.rows("SELECT role, can_login, is_superuser FROM system_auth.roles");
    let mut rows = r.rows.clone();
    rows.sort();
    assert_eq!(
        rows,
        vec![
            vec![
                ct("app"),
                Some(Bytes::from_static(&[1])),
                Some(Bytes::from_static(&[0]))
            ],
            vec![
                ct("cassandra"),
                Some(Bytes::from_static(&[1])),
                Some(Bytes::from_static(&[1]))
            ],
        ]
    );
}
