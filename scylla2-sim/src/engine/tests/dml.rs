//! More DML tests: conditional batches, unset and null values, row liveness, marker count
//! errors, paging over DESC clustering and static rows, plan cache invalidation, now().

use bytes::Bytes;

use super::*;
use crate::model::{BoundValue, QueryParams, QueryResult, SimError};

#[test]
fn conditional_batch_applies_all_or_nothing() {
    let mut e = env();
    e.q("CREATE TABLE cb (k int, c int, v int, PRIMARY KEY (k, c))");
    e.q("INSERT INTO cb (k, c, v) VALUES (1, 1, 10)");
    let r = e.rows("BEGIN BATCH UPDATE cb SET v = 11 WHERE k = 1 AND c = 1 IF v = 10; INSERT INTO cb (k, c, v) VALUES (1, 2, 20); APPLY BATCH");
    assert_eq!(r.rows[0][0], Some(Bytes::from_static(&[1])));
    let r = e.rows("BEGIN BATCH UPDATE cb SET v = 12 WHERE k = 1 AND c = 1 IF v = 10; INSERT INTO cb (k, c, v) VALUES (1, 3, 30); APPLY BATCH");
    assert_eq!(r.rows[0][0], Some(Bytes::from_static(&[0])));
    assert_eq!(r.rows[0][1], ci(11));
    assert_eq!(e.rows("SELECT c FROM cb WHERE k = 1").rows.len(), 2);
    assert!(e.try_q("BEGIN BATCH UPDATE cb SET v = 1 WHERE k = 1 AND c = 1 IF v = 11; INSERT INTO cb (k, c, v) VALUES (2, 1, 1); APPLY BATCH").is_err());
    assert!(
        e.try_q("UPDATE cb USING TIMESTAMP 5 SET v = 1 WHERE k = 1 AND c = 1 IF v = 11")
            .is_err()
    );
}

#[test]
fn unset_null_and_row_liveness() {
    let mut e = env();
    e.q("CREATE TABLE un (k int PRIMARY KEY, a int, b int)");
    e.q("INSERT INTO un (k, a, b) VALUES (1, 1, 1)");
    e.qv(
        "INSERT INTO un (k, a, b) VALUES (?, ?, ?)",
        vec![int(1), BoundValue::Unset, int(2)],
    );
    e.assert_rows("SELECT a, b FROM un WHERE k = 1", vec![vec![ci(1), ci(2)]]);
    e.qv(
        "INSERT INTO un (k, a, b) VALUES (?, ?, ?)",
        vec![int(1), BoundValue::Null, int(3)],
    );
    e.assert_rows("SELECT a, b FROM un WHERE k = 1", vec![vec![None, ci(3)]]);
    // A row created by INSERT survives with every cell null; one created by UPDATE does not.
    e.q("INSERT INTO un (k) VALUES (2)");
    e.assert_rows("SELECT k, a FROM un WHERE k = 2", vec![vec![ci(2), None]]);
    e.q("UPDATE un SET a = 5 WHERE k = 3");
    e.q("DELETE a FROM un WHERE k = 3");
    assert!(e.rows("SELECT * FROM un WHERE k = 3").rows.is_empty());
    let params = QueryParams {
        values: vec![int(1)],
        ..QueryParams::default()
    };
    let err = e
        .engine
        .query(
            &mut e.session,
            "SELECT * FROM un WHERE k = ? AND a = ? ALLOW FILTERING",
            &params,
            &e.cluster,
        )
        .unwrap_err();
    assert!(matches!(err, SimError::Invalid(m) if m.contains("markers")));
    assert!(
        matches!(e.try_q("INSERT INTO un (a) VALUES (1)"), Err(SimError::Invalid(m)) if m.contains("partition key"))
    );
}

#[test]
fn paging_desc_clustering_and_static_rows() {
    let mut e = env();
    e.q("CREATE TABLE pd (p int, c int, s int static, PRIMARY KEY (p, c)) WITH CLUSTERING ORDER BY (c DESC)");
    for p in 0..3 {
        for c in 0..4 {
            e.q(&format!("INSERT INTO pd (p, c) VALUES ({p}, {c})"));
        }
    }
    e.q("UPDATE pd SET s = 9 WHERE p = 7");
    let full = e.rows("SELECT p, c, s FROM pd").rows;
    assert_eq!(full.len(), 13);
    for page in [1, 2, 3, 4, 5] {
        let mut all = Vec::new();
        let mut state = None;
        loop {
            let params = QueryParams {
                page_size: Some(page),
                paging_state: state.take(),
                ..QueryParams::default()
            };
            let r = e.rows_p("SELECT p, c, s FROM pd", &params);
            all.extend(r.rows);
            match r.paging_state {
                Some(s) => state = Some(s),
                None => break,
            }
        }
        assert_eq!(all, full, "page {page}");
    }
    let r = e.rows("SELECT c FROM pd WHERE p = 1");
    assert_eq!(
        r.rows,
        vec![vec![ci(3)], vec![ci(2)], vec![ci(1)], vec![ci(0)]]
    );
    let garbage = QueryParams {
        page_size: Some(2),
        paging_state: Some(Bytes::from_static(&[9, 9])),
        ..QueryParams::default()
    };
    let err = e
        .engine
        .query(&mut e.session, "SELECT * FROM pd", &garbage, &e.cluster)
        .unwrap_err();
    assert!(matches!(err, SimError::ProtocolError(_)));
}

#[test]
fn dropped_tables_invalidate_cached_plans() {
    let mut e = env();
    e.q("CREATE TABLE d (k int PRIMARY KEY, v int)");
    e.q("INSERT INTO d (k, v) VALUES (1, 1)");
    let p = e.prepare("SELECT v FROM d WHERE k = 1");
    e.q("DROP TABLE d");
    e.q("CREATE TABLE d (k int PRIMARY KEY, x text, v int)");
    e.q("INSERT INTO d (k, v) VALUES (1, 2)");
    e.assert_rows("SELECT v FROM d WHERE k = 1", vec![vec![ci(2)]]);
    let err = e
        .engine
        .execute(&mut e.session, &p, &QueryParams::default(), &e.cluster)
        .unwrap_err();
    assert_eq!(err, SimError::Invalid("table d does not exist".into()));
}

#[test]
fn now_and_timeuuid_ordering() {
    let mut e = env();
    e.q("CREATE TABLE tu (k int, t timeuuid, PRIMARY KEY (k, t))");
    for _ in 0..5 {
        e.q("INSERT INTO tu (k, t) VALUES (1, now())");
    }
    let r = e.rows("SELECT t FROM tu WHERE k = 1");
    assert_eq!(r.rows.len(), 5);
    let ts: Vec<u64> = r
        .rows
        .iter()
        .map(|row| {
            uuid::Uuid::from_slice(row[0].as_deref().unwrap())
                .unwrap()
                .get_timestamp()
                .unwrap()
                .to_gregorian()
                .0
        })
        .collect();
    assert!(ts.windows(2).all(|w| w[0] < w[1]), "{ts:?}");
    let r = e.rows("SELECT t FROM tu WHERE k = 1 ORDER BY t DESC LIMIT 1");
    assert_eq!(r.rows[0], e.rows("SELECT t FROM tu WHERE k = 1").rows[4]);
}

#[test]
fn query_results_shape() {
    let mut e = env();
    e.q("CREATE TABLE qs (k int PRIMARY KEY, v int)");
    assert!(matches!(
        e.q("INSERT INTO qs (k, v) VALUES (1, 1)"),
        QueryResult::Void
    ));
    assert!(matches!(e.q("USE ks"), QueryResult::SetKeyspace(k) if k == "ks"));
    let r = e.rows("SELECT k AS key, writetime(v) AS w, ttl(v) FROM qs WHERE k = 1");
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["key", "w", "ttl(v)"]);
    assert_eq!(r.columns[0].keyspace, "ks");
    assert_eq!(r.columns[0].table, "qs");
}

#[test]
fn oversized_keys_are_rejected() {
    let mut e = env();
    e.q("CREATE TABLE big (k blob PRIMARY KEY, v int)");
    let key = BoundValue::Set(Bytes::from(vec![7u8; 70_000]));
    let params = QueryParams {
        values: vec![key],
        ..QueryParams::default()
    };
    let err = e
        .engine
        .query(
            &mut e.session,
            "INSERT INTO big (k, v) VALUES (?, 1)",
            &params,
            &e.cluster,
        )
        .unwrap_err();
    assert!(matches!(err, SimError::Invalid(m) if m.contains("65535")));
}

#[test]
fn frozen_sets_are_stored_sorted() {
    let mut e = env();
    e.q("CREATE TABLE fz (k frozen<set<int>>, c frozen<map<int, int>>, v frozen<set<text>>, PRIMARY KEY (k, c))");
    let set = |v: &[i32]| {
        let mut out = (v.len() as i32).to_be_bytes().to_vec();
        for x in v {
            out.extend_from_slice(&4i32.to_be_bytes());
            out.extend_from_slice(&x.to_be_bytes());
        }
        Bytes::from(out)
    };
    let values = vec![
        BoundValue::Set(set(&[3, 1, 2])),
        BoundValue::Set(Bytes::from_static(&[0, 0, 0, 0])),
        BoundValue::Set(Bytes::from_static(&[
            0, 0, 0, 2, 0, 0, 0, 1, b'b', 0, 0, 0, 1, b'a',
        ])),
    ];
    e.qv("INSERT INTO fz (k, c, v) VALUES (?, ?, ?)", values);
    let r = e.rows("SELECT k, v FROM fz WHERE k = {1, 2, 3}");
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0][0].as_ref(), Some(&set(&[1, 2, 3])));
    assert_eq!(
        r.rows[0][1].as_deref(),
        Some(&[0, 0, 0, 2, 0, 0, 0, 1, b'a', 0, 0, 0, 1, b'b'][..])
    );
}

#[test]
fn aggregates_and_time_functions() {
    let mut e = env();
    e.q("CREATE TABLE ag (k int, c int, v int, d double, t text, PRIMARY KEY (k, c))");
    for (c, v) in [(1, 5), (2, -3), (3, 10)] {
        e.q(&format!(
            "INSERT INTO ag (k, c, v, d, t) VALUES (1, {c}, {v}, {v}.5, 't{c}')"
        ));
    }
    e.q("INSERT INTO ag (k, c) VALUES (1, 4)");
    let r = e.rows("SELECT count(*), count(v), min(v), max(v), sum(v), avg(v), max(t), sum(d) FROM ag WHERE k = 1");
    let names: Vec<&str> = r.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "count",
            "system.count(v)",
            "system.min(v)",
            "system.max(v)",
            "system.sum(v)",
            "system.avg(v)",
            "system.max(t)",
            "system.sum(d)"
        ]
    );
    assert_eq!(
        r.rows,
        vec![vec![
            cb(4),
            cb(3),
            ci(-3),
            ci(10),
            ci(12),
            ci(4),
            ct("t3"),
            Some(Bytes::copy_from_slice(&12.5f64.to_be_bytes()))
        ]]
    );
    let r = e.rows("SELECT max(v) FROM ag WHERE k = 2");
    assert_eq!(r.rows, vec![vec![None]]);
    assert!(e.try_q("SELECT sum(t) FROM ag").is_err());
    let r = e.rows("SELECT now(), toTimestamp(now()), uuid() FROM system.local");
    assert_eq!(r.columns[0].name, "system.now()");
    assert_eq!(r.columns[1].name, "system.totimestamp(system.now())");
    assert_eq!(r.rows[0][0].as_ref().unwrap().len(), 16);
    let ms = i64::from_be_bytes(r.rows[0][1].as_deref().unwrap().try_into().unwrap());
    assert!(ms > 1_600_000_000_000);
}

#[test]
fn static_only_insert() {
    let mut e = env();
    e.q("CREATE TABLE so (p int, c int, s text static, v int, PRIMARY KEY (p, c))");
    e.q("INSERT INTO so (p, s) VALUES (1, 'st')");
    e.assert_rows(
        "SELECT p, c, s, v FROM so WHERE p = 1",
        vec![vec![ci(1), None, ct("st"), None]],
    );
    assert!(e.try_q("INSERT INTO so (p, v) VALUES (1, 2)").is_err());
    e.q("INSERT INTO so (p, c, v) VALUES (1, 5, 6)");
    e.assert_rows(
        "SELECT p, c, s, v FROM so WHERE p = 1",
        vec![vec![ci(1), ci(5), ct("st"), ci(6)]],
    );
}

#[test]
fn default_time_to_live_applies_unless_overridden() {
    let mut e = env();
    e.q("CREATE TABLE dt (k int PRIMARY KEY, v int) WITH default_time_to_live = 100 AND comment = 'x'");
    e.q("INSERT INTO dt (k, v) VALUES (1, 1)");
    e.q("INSERT INTO dt (k, v) VALUES (2, 2) USING TTL 0");
    let ttl = |e: &mut Env, k: i32| {
        e.rows(&format!("SELECT ttl(v) FROM dt WHERE k = {k}")).rows[0][0].clone()
    };
    let t1 = i32::from_be_bytes(ttl(&mut e, 1).unwrap()[..].try_into().unwrap());
    assert!((99..=100).contains(&t1));
    assert_eq!(ttl(&mut e, 2), None);
    e.q("ALTER TABLE dt WITH default_time_to_live = 0");
    e.q("INSERT INTO dt (k, v) VALUES (3, 3)");
    assert_eq!(ttl(&mut e, 3), None);
    let r = e.rows("SELECT default_time_to_live FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = 'dt'");
    assert_eq!(r.rows, vec![vec![ci(0)]]);
}

/// Page sizes of every page of `q` (paging with `page` rows) and whether each said "more".
fn page_shape(e: &mut Env, q: &str, page: i32) -> Vec<(usize, bool)> {
    let mut out = Vec::new();
    let mut state = None;
    loop {
        let params = QueryParams {
            page_size: Some(page),
            paging_state: state.take(),
            ..QueryParams::default()
        };
        let r = e.rows_p(q, &params);
        out.push((r.rows.len(), r.paging_state.is_some()));
        match r.paging_state {
            Some(s) if out.len() < 20 => state = Some(s),
            _ => return out,
        }
    }
}

/// A page that ends exactly with the data still says "more pages" and the next request
/// returns an empty last page: Cassandra's pagers (`AbstractQueryPager`,
/// `DataLimits.isExhausted`: exhausted only when a page comes back short) and ScyllaDB's
/// `query_pager` (`_exhausted = rows < page_size || _max == 0`). Exceptions as in Cassandra:
/// LIMIT reached, a single partition whose last row has no clustering
/// (`SinglePartitionPager`), PER PARTITION LIMIT reached; an IN list says "more" while a
/// later key remains (`MultiPartitionPager`).
#[test]
fn full_last_page_says_more_and_an_empty_page_follows() {
    let mut e = env();
    e.q("CREATE TABLE pb (p int, c int, PRIMARY KEY (p, c))");
    e.q("CREATE TABLE flat (k int PRIMARY KEY, v int)");
    for c in 0..4 {
        e.q(&format!("INSERT INTO pb (p, c) VALUES (1, {c})"));
        e.q(&format!("INSERT INTO flat (k, v) VALUES ({c}, {c})"));
    }
    let boundary = vec![(2, true), (2, true), (0, false)];
    assert_eq!(
        page_shape(&mut e, "SELECT * FROM pb WHERE p = 1", 2),
        boundary
    );
    assert_eq!(page_shape(&mut e, "SELECT * FROM pb", 2), boundary);
    assert_eq!(page_shape(&mut e, "SELECT * FROM flat", 2), boundary);
    assert_eq!(
        page_shape(&mut e, "SELECT * FROM pb WHERE p = 1", 3),
        vec![(3, true), (1, false)]
    );
    // LIMIT reached with the page: done.
    assert_eq!(
        page_shape(&mut e, "SELECT * FROM pb WHERE p = 1 LIMIT 4", 2),
        vec![(2, true), (2, false)]
    );
    // One partition without clustering: its only row ends it.
    assert_eq!(
        page_shape(&mut e, "SELECT * FROM flat WHERE k = 1", 1),
        vec![(1, false)]
    );
    // PER PARTITION LIMIT reached in the only partition.
    assert_eq!(
        page_shape(
            &mut e,
            "SELECT * FROM pb WHERE p = 1 PER PARTITION LIMIT 2",
            2
        ),
        vec![(2, false)]
    );
    // IN: a later key keeps the pager going; the last key's only row ends it.
    assert_eq!(
        page_shape(&mut e, "SELECT * FROM flat WHERE k IN (1, 2, 3)", 2),
        vec![(2, true), (1, false)]
    );
    assert_eq!(
        page_shape(&mut e, "SELECT * FROM flat WHERE k IN (1, 2)", 2),
        vec![(2, false)]
    );
}

/// LWT result shapes. Cassandra: `[applied]` alone when applied, plus the current row or
/// condition columns when not (`ModificationStatement.buildCasResultSet`), and no result
/// metadata in PREPARE. ScyllaDB: always `[applied]` plus every column (IF [NOT] EXISTS)
/// or the condition's columns, from the row as it was (nulls when there was none), and the
/// same columns in PREPARE (`modification_statement::build_cas_result_set_metadata`,
/// `cas_request::build_cas_result_set`).
#[test]
fn lwt_result_shapes_per_flavor() {
    use crate::model::Flavor;
    for flavor in [Flavor::Cassandra, Flavor::Scylla] {
        let mut e = Env {
            engine: Engine::with_flavor(flavor),
            session: SessionState::default(),
            cluster: FakeCluster::new(1),
        };
        e.q("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        e.q("USE ks");
        e.q("CREATE TABLE l (k int PRIMARY KEY, v int, w int)");
        let ins = e.prepare("INSERT INTO l (k, v) VALUES (?, ?) IF NOT EXISTS");
        let upd = e.prepare("UPDATE l SET w = 1 WHERE k = ? IF v = ?");
        let first = e.rows("INSERT INTO l (k, v) VALUES (1, 5) IF NOT EXISTS");
        let again = e.rows("INSERT INTO l (k, v) VALUES (1, 6) IF NOT EXISTS");
        let cond_ok = e.rows("UPDATE l SET w = 2 WHERE k = 1 IF v = 5");
        let yes = Some(Bytes::from_static(&[1]));
        let no = Some(Bytes::from_static(&[0]));
        match flavor {
            Flavor::Cassandra => {
                assert!(ins.info.result_columns.is_empty());
                assert!(upd.info.result_columns.is_empty());
                assert_eq!(column_names(&first), ["[applied]"]);
                assert_eq!(first.rows, vec![vec![yes.clone()]]);
                assert_eq!(column_names(&again), ["[applied]", "k", "v", "w"]);
                assert_eq!(again.rows, vec![vec![no, ci(1), ci(5), None]]);
                assert_eq!(column_names(&cond_ok), ["[applied]"]);
            }
            Flavor::Scylla => {
                let names = |p: &Prepared| -> Vec<String> {
                    p.info
                        .result_columns
                        .iter()
                        .map(|c| c.name.clone())
                        .collect()
                };
                assert_eq!(names(&ins), ["[applied]", "k", "v", "w"]);
                assert_eq!(names(&upd), ["[applied]", "v"]);
                assert_eq!(column_names(&first), ["[applied]", "k", "v", "w"]);
                assert_eq!(first.rows, vec![vec![yes.clone(), None, None, None]]);
                assert_eq!(again.rows, vec![vec![no, ci(1), ci(5), None]]);
                assert_eq!(column_names(&cond_ok), ["[applied]", "v"]);
                assert_eq!(cond_ok.rows, vec![vec![yes, ci(5)]]);
            }
        }
    }
}

/// Client warnings as Apache Cassandra 4.0 words them (`BatchStatement.verifyBatchType` /
/// `verifyBatchSize`, `SelectStatement.execute`); ScyllaDB sends none of them and only
/// fails batches past its own threshold (`batch_statement::verify_batch_size`).
#[test]
fn warnings_for_batches_and_aggregates() {
    use crate::engine::warnings;
    use crate::model::Flavor;
    for flavor in [Flavor::Cassandra, Flavor::Scylla] {
        let mut e = Env {
            engine: Engine::with_flavor(flavor),
            session: SessionState::default(),
            cluster: FakeCluster::new(1),
        };
        e.q("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        e.q("USE ks");
        e.q("CREATE TABLE wb (k int PRIMARY KEY, v blob)");
        drop(warnings::take());
        let ins = e.prepare("INSERT INTO wb (k, v) VALUES (?, ?)");
        let batch = |e: &mut Env, kind: BatchKind, n: i32, blob: usize| {
            let stmts: Vec<BatchStatement> = (0..n)
                .map(|k| BatchStatement::Prepared {
                    stmt: ins.clone(),
                    values: vec![int(k), BoundValue::Set(Bytes::from(vec![7u8; blob]))],
                })
                .collect();
            let r = e.engine.batch(
                &mut e.session,
                kind,
                &stmts,
                &QueryParams::default(),
                &e.cluster,
            );
            (r, warnings::take())
        };
        let cassandra = flavor == Flavor::Cassandra;
        // 10 partitions: no warning; 11: the unlogged-batch one (Cassandra).
        let (r, w) = batch(&mut e, BatchKind::Unlogged, 10, 1);
        assert!(r.is_ok() && w.is_empty(), "{w:?}");
        let (r, w) = batch(&mut e, BatchKind::Unlogged, 11, 1);
        assert!(r.is_ok());
        let unlogged = "Unlogged batch covering 11 partitions detected against table [ks.wb]. You should use a logged batch for atomicity, or asynchronous writes for performance.";
        assert_eq!(
            w,
            if cassandra {
                vec![unlogged.to_string()]
            } else {
                vec![]
            }
        );
        let (_, w) = batch(&mut e, BatchKind::Logged, 11, 1);
        assert!(w.is_empty(), "logged batches do not get it: {w:?}");
        // Over 5 KiB: the size warning (Cassandra); over the fail threshold: "Batch too large".
        let (r, w) = batch(&mut e, BatchKind::Logged, 2, 3000);
        assert!(r.is_ok());
        if cassandra {
            assert_eq!(w.len(), 1, "{w:?}");
            assert!(w[0].starts_with("Batch for [ks.wb] is of size "), "{w:?}");
            assert!(
                w[0].contains("exceeding specified threshold of 5120 by "),
                "{w:?}"
            );
        } else {
            assert!(w.is_empty());
        }
        let (r, _) = batch(&mut e, BatchKind::Logged, 2, 30_000);
        assert_eq!(r.is_err(), cassandra, "50 KiB fails on Cassandra only");
        let (r, _) = batch(&mut e, BatchKind::Logged, 2, 600_000);
        assert_eq!(r.unwrap_err(), SimError::Invalid("Batch too large".into()));
        // A single partition never warns.
        let (_, w) = batch(&mut e, BatchKind::Unlogged, 1, 6000);
        assert!(w.is_empty());
        // Aggregates.
        e.q("SELECT count(*) FROM wb");
        let w = warnings::take();
        assert_eq!(
            w,
            if cassandra {
                vec!["Aggregation query used without partition key".to_string()]
            } else {
                vec![]
            }
        );
        e.q("SELECT count(*) FROM wb WHERE k IN (1, 2)");
        let w = warnings::take();
        let multi = "Aggregation query used on multiple partition keys (IN restriction)";
        assert_eq!(
            w,
            if cassandra {
                vec![multi.to_string()]
            } else {
                vec![]
            }
        );
        e.q("SELECT count(*) FROM wb WHERE k = 1");
        e.q("SELECT * FROM wb");
        assert!(warnings::take().is_empty());
    }
}
