//! CQL that Cassandra 4.0 accepts and drivers' users send: GROUP BY, CAST, SELECT JSON /
//! INSERT JSON, toJson / fromJson, the blobAsX family, arithmetic, and IN with ORDER BY.
//! Each test cites the server behaviour it checks.

use super::*;
use crate::model::ColumnType;

fn names(e: &mut Env, q: &str) -> Vec<String> {
    e.rows(q).columns.iter().map(|c| c.name.clone()).collect()
}

fn invalid_msg(e: &mut Env, q: &str) -> String {
    match e.try_q(q) {
        Err(SimError::Invalid(m)) => m,
        other => panic!("{q}: expected Invalid, got {other:?}"),
    }
}

fn grouped_table(e: &mut Env) {
    e.q("CREATE TABLE g (p int, c1 int, c2 int, v int, PRIMARY KEY (p, c1, c2))");
    for (p, c1, c2, v) in [
        (1, 1, 1, 10),
        (1, 1, 2, 20),
        (1, 2, 1, 30),
        (2, 1, 1, 40),
        (2, 2, 1, 50),
        (2, 2, 2, 60),
    ] {
        e.q(&format!(
            "INSERT INTO g (p, c1, c2, v) VALUES ({p}, {c1}, {c2}, {v})"
        ));
    }
}

/// Cassandra 4.0 `SelectStatement.getAggregationSpecification` / `GroupMaker`: one row per
/// primary key prefix, aggregates per group, other selectors from the group's first row;
/// LIMIT counts groups.
#[test]
fn group_by_partition_and_clustering_prefix() {
    let mut e = env();
    grouped_table(&mut e);
    let r = e.rows("SELECT p, count(*), sum(v), max(v) FROM g WHERE p IN (1, 2) GROUP BY p");
    assert_eq!(
        column_names(&r),
        ["p", "count", "system.sum(v)", "system.max(v)"]
    );
    let mut rows = r.rows.clone();
    rows.sort();
    assert_eq!(
        rows,
        vec![
            vec![ci(1), cb(3), ci(60), ci(30)],
            vec![ci(2), cb(3), ci(150), ci(60)]
        ]
    );
    let r = e.rows("SELECT c1, c2, avg(v), min(v) FROM g WHERE p = 2 GROUP BY p, c1");
    assert_eq!(
        r.rows,
        vec![
            vec![ci(1), ci(1), ci(40), ci(40)],
            vec![ci(2), ci(1), ci(55), ci(50)]
        ]
    );
    // The partition key fixed by `=`, grouping may start at the clustering columns.
    let r = e.rows("SELECT c1, count(v) FROM g WHERE p = 1 GROUP BY c1 LIMIT 1");
    assert_eq!(r.rows, vec![vec![ci(1), cb(2)]]);
    // Without aggregates each group shows its first row.
    let r = e.rows("SELECT c2, v FROM g WHERE p = 2 GROUP BY c1");
    assert_eq!(r.rows, vec![vec![ci(1), ci(40)], vec![ci(1), ci(50)]]);
    // No rows: no group at all; without GROUP BY one row of empty aggregates.
    assert!(
        e.rows("SELECT count(*) FROM g WHERE p = 9 GROUP BY p")
            .rows
            .is_empty()
    );
    assert_eq!(
        e.rows("SELECT count(*) FROM g WHERE p = 9").rows,
        vec![vec![cb(0)]]
    );
    // COUNT of any literal counts rows and is named `count`.
    let r = e.rows("SELECT count('x') FROM g WHERE p = 1");
    assert_eq!(column_names(&r), ["count"]);
    assert_eq!(r.rows, vec![vec![cb(3)]]);
    // LIMIT does not cut the rows an aggregate reads.
    assert_eq!(
        e.rows("SELECT count(*) FROM g LIMIT 1").rows,
        vec![vec![cb(6)]]
    );
    assert_eq!(
        invalid_msg(&mut e, "SELECT count(*) FROM g GROUP BY v"),
        "Group by is currently only supported on the columns of the PRIMARY KEY, got v"
    );
    assert_eq!(
        invalid_msg(&mut e, "SELECT count(*) FROM g GROUP BY p, c2"),
        "Group by currently only support groups of columns following their declared order in the PRIMARY KEY"
    );
    e.q("CREATE TABLE g2 (a int, b int, c int, PRIMARY KEY ((a, b), c))");
    assert_eq!(
        invalid_msg(&mut e, "SELECT count(*) FROM g2 GROUP BY a"),
        "Group by is not supported on only a part of the partition key"
    );
}

/// Cassandra 4.0 `CastFcts`: column name `cast(x as type)`, numbers narrowed as Java does,
/// `CAST(x AS text)` the CQL literal text (`TypeSerializer.toCQLLiteral`: timestamps with
/// `T`, as `TimestampSerializer` formats them), a cast to the own type ignored, others refused.
#[test]
fn cast_in_selectors() {
    let mut e = env();
    e.q("CREATE TABLE ct (k int PRIMARY KEY, d double, b bigint, t timestamp, u uuid, f boolean)");
    e.q("INSERT INTO ct (k, d, b, t, u, f) VALUES (1, 2.75, 5000000000, '2024-02-29 12:34:56.789+0000', 123e4567-e89b-12d3-a456-426614174000, true)");
    let r = e.rows("SELECT cast(d as int), cast(b as int), cast(k as double), cast(d as text), cast(t as date), cast(u as text), cast(f as text), cast(k as int) FROM ct WHERE k = 1");
    assert_eq!(
        column_names(&r),
        [
            "cast(d as int)",
            "cast(b as int)",
            "cast(k as double)",
            "cast(d as text)",
            "cast(t as date)",
            "cast(u as text)",
            "cast(f as text)",
            "k"
        ]
    );
    assert_eq!(r.columns[0].typ, ColumnType::Int);
    assert_eq!(r.columns[3].typ, ColumnType::Text);
    let days_2024_02_29: u32 = 19_782 + (1u32 << 31);
    assert_eq!(
        r.rows[0],
        vec![
            ci(2),
            ci(5_000_000_000i64 as i32),
            Some(Bytes::copy_from_slice(&1.0f64.to_be_bytes())),
            ct("2.75"),
            Some(Bytes::copy_from_slice(&days_2024_02_29.to_be_bytes())),
            ct("123e4567-e89b-12d3-a456-426614174000"),
            ct("true"),
            ci(1),
        ]
    );
    assert_eq!(
        e.rows("SELECT cast(t as text) FROM ct WHERE k = 1").rows[0],
        vec![ct("2024-02-29T12:34:56.789Z")]
    );
    assert_eq!(
        invalid_msg(&mut e, "SELECT cast(u as int) FROM ct WHERE k = 1"),
        "u cannot be cast to int"
    );
}

/// Cassandra 4.0 `Selection.rowToJson`: SELECT JSON answers one text column `[json]` holding
/// an object per row (keys quoted when not lowercase, values as `toJSONString`); INSERT JSON
/// fills every column from the map (absent keys null, or left alone with DEFAULT UNSET), and
/// its bind marker is the text `[json]`.
#[test]
fn select_json_and_insert_json() {
    let mut e = env();
    e.q("CREATE TABLE js (k int PRIMARY KEY, \"Name\" text, l list<int>, m map<text, int>, ts timestamp, b blob, v int)");
    e.q(r#"INSERT INTO js JSON '{"k": 1, "\"Name\"": "a\"b", "l": [1, 2], "m": {"x": 3}, "ts": "2024-02-29 12:34:56.789Z", "b": "0xcafe", "v": 7}'"#);
    let r = e.rows("SELECT JSON * FROM js WHERE k = 1");
    assert_eq!(column_names(&r), ["[json]"]);
    assert_eq!(r.columns[0].typ, ColumnType::Text);
    assert_eq!(
        r.rows,
        vec![vec![ct(
            r#"{"k": 1, "\"Name\"": "a\"b", "b": "0xcafe", "l": [1, 2], "m": {"x": 3}, "ts": "2024-02-29 12:34:56.789Z", "v": 7}"#
        )]]
    );
    // `json` stays usable as a column name.
    e.q("CREATE TABLE jc (k int PRIMARY KEY, json int)");
    e.q("INSERT INTO jc (k, json) VALUES (1, 2)");
    assert_eq!(names(&mut e, "SELECT json FROM jc"), ["json"]);
    assert_eq!(names(&mut e, "SELECT json, k FROM jc"), ["json", "k"]);
    assert_eq!(names(&mut e, "SELECT JSON json FROM jc"), ["[json]"]);
    assert_eq!(
        e.rows("SELECT JSON k, v AS value FROM js WHERE k = 1").rows,
        vec![vec![ct(r#"{"k": 1, "value": 7}"#)]]
    );
    // DEFAULT UNSET keeps v; the default (NULL) clears it.
    e.q(r#"INSERT INTO js JSON '{"k": 1, "l": [5]}' DEFAULT UNSET"#);
    assert_eq!(e.rows("SELECT v, l FROM js WHERE k = 1").rows[0][0], ci(7));
    e.q(r#"INSERT INTO js JSON '{"k": 1}'"#);
    assert_eq!(
        e.rows("SELECT v FROM js WHERE k = 1").rows,
        vec![vec![None]]
    );
    // A bound JSON document.
    let p = e.prepare("INSERT INTO js JSON ?");
    assert_eq!(bind_names(&p), ["[json]"]);
    e.qv("INSERT INTO js JSON ?", vec![txt(r#"{"k": 2, "v": -4}"#)]);
    assert_eq!(
        e.rows("SELECT v FROM js WHERE k = 2").rows,
        vec![vec![ci(-4)]]
    );
    assert_eq!(
        invalid_msg(&mut e, r#"INSERT INTO js JSON '{"k": 3, "nope": 1}'"#),
        "JSON values map contains unrecognized column: nope"
    );
    assert!(
        invalid_msg(&mut e, r#"INSERT INTO js JSON '{"k": 3, "v": "x"}'"#)
            .starts_with("Error decoding JSON value for v")
    );
}

/// Cassandra 4.0 `ToJsonFct` / `FromJsonFct`: `system.tojson(x)` is text; fromJson() turns a
/// JSON text into a value of the receiving column in INSERT and UPDATE.
#[test]
fn to_json_and_from_json() {
    let mut e = env();
    e.q("CREATE TABLE tj (k int PRIMARY KEY, s set<text>, v int)");
    e.q(r#"INSERT INTO tj (k, s, v) VALUES (1, fromJson('["b", "a"]'), fromJson('5'))"#);
    e.q("UPDATE tj SET v = fromJson('6') WHERE k = 1");
    let r = e.rows("SELECT toJson(s), toJson(v), toJson(k) FROM tj WHERE k = 1");
    assert_eq!(
        column_names(&r),
        ["system.tojson(s)", "system.tojson(v)", "system.tojson(k)"]
    );
    assert_eq!(r.rows, vec![vec![ct(r#"["a", "b"]"#), ct("6"), ct("1")]]);
}

/// Cassandra 4.0 `BytesConversionFcts`: `system.blobastext(b)`, `<type>AsBlob` return the
/// bytes as they are; `blobAs<type>` refuses bytes that are no value of the type.
#[test]
fn blob_conversion_functions() {
    let mut e = env();
    e.q("CREATE TABLE bl (k int PRIMARY KEY, b blob, t text)");
    e.q("INSERT INTO bl (k, b, t) VALUES (1, textAsBlob('hi'), 'yo')");
    e.q("INSERT INTO bl (k, b) VALUES (2, intAsBlob(7))");
    e.q("INSERT INTO bl (k, b) VALUES (3, bigintAsBlob(8))");
    let r =
        e.rows("SELECT blobAsText(b), textAsBlob(t), blobAsInt(intAsBlob(k)) FROM bl WHERE k = 1");
    assert_eq!(
        column_names(&r),
        [
            "system.blobastext(b)",
            "system.textasblob(t)",
            "system.blobasint(system.intasblob(k))"
        ]
    );
    assert_eq!(r.columns[0].typ, ColumnType::Text);
    assert_eq!(r.rows, vec![vec![ct("hi"), ct("yo"), ci(1)]]);
    // Cassandra resolves by exact argument type: an int is no bigint.
    assert_eq!(
        invalid_msg(&mut e, "SELECT bigintAsBlob(k) FROM bl WHERE k = 1"),
        "Type error: k cannot be passed as argument 0 of function system.bigintasblob of type bigint"
    );
    assert_eq!(
        e.rows("SELECT blobAsInt(b) FROM bl WHERE k = 2").rows,
        vec![vec![ci(7)]]
    );
    assert_eq!(
        e.rows("SELECT blobAsBigint(b) FROM bl WHERE k = 3").rows,
        vec![vec![cb(8)]]
    );
    assert_eq!(
        invalid_msg(&mut e, "SELECT blobAsInt(b) FROM bl WHERE k = 3"),
        "In call to function system.blobasint, value 0x0000000000000008 is not a valid binary representation for type int"
    );
}

/// Cassandra 4.0 `OperationFcts`: `+ - * / %` and negation over numbers, the result type of
/// the larger operand (floating point if either is), column name `a + b`; a bare marker is
/// ambiguous (a type hint fixes it); integer division by zero fails.
#[test]
fn arithmetic_in_selectors_and_values() {
    let mut e = env();
    e.q("CREATE TABLE ar (k int PRIMARY KEY, v int, b bigint, d double)");
    e.q("INSERT INTO ar (k, v, b, d) VALUES (1, 7, 10, 0.5)");
    let r = e.rows_p(
        "SELECT v + 1, v * b, v % 4, d / 2, -v, v - 2 * 3, k + (int)? FROM ar WHERE k = 1",
        &QueryParams {
            values: vec![int(100)],
            ..QueryParams::default()
        },
    );
    assert_eq!(
        column_names(&r),
        [
            "v + 1",
            "v * b",
            "v % 4",
            "d / 2",
            "-v",
            "v - 2 * 3",
            "k + (int)?"
        ]
    );
    assert_eq!(r.columns[1].typ, ColumnType::BigInt);
    assert_eq!(r.columns[3].typ, ColumnType::Double);
    assert_eq!(
        r.rows[0],
        vec![
            ci(8),
            cb(70),
            ci(3),
            Some(Bytes::copy_from_slice(&0.25f64.to_be_bytes())),
            ci(-7),
            ci(1),
            ci(101)
        ]
    );
    assert!(
        invalid_msg(&mut e, "SELECT v + ? FROM ar WHERE k = 1")
            .starts_with("Ambiguous '+' operation")
    );
    // A type hint does not convert (Cassandra `Selectable.WithTypeHint`).
    assert_eq!(
        invalid_msg(&mut e, "SELECT (bigint)v FROM ar WHERE k = 1"),
        "Cannot assign value (bigint)v to (bigint)v of type bigint"
    );
    assert!(matches!(
        e.try_q("SELECT v / 0 FROM ar WHERE k = 1"),
        Err(SimError::FunctionFailure { .. })
    ));
    // In values: literals computed in the receiver's type, markers with a type hint.
    e.q(
        "UPDATE ar SET v = 2 * 3 + 1, b = (bigint)? * 2 WHERE k = 1 + 1"
            .replace('?', "4")
            .as_str(),
    );
    assert_eq!(
        e.rows("SELECT v, b FROM ar WHERE k = 2").rows,
        vec![vec![ci(7), cb(8)]]
    );
    e.qv(
        "INSERT INTO ar (k, v) VALUES (3, (int)? - 1)",
        vec![int(10)],
    );
    assert_eq!(
        e.rows("SELECT v FROM ar WHERE k = 3").rows,
        vec![vec![ci(9)]]
    );
    // Counters still use the column operation.
    e.q("CREATE TABLE cn (k int PRIMARY KEY, c counter)");
    e.q("UPDATE cn SET c = c + 5 WHERE k = 1");
    e.q("UPDATE cn SET c = c - 2 WHERE k = 1");
    assert_eq!(
        e.rows("SELECT c FROM cn WHERE k = 1").rows,
        vec![vec![cb(3)]]
    );
}

/// Cassandra 4.0 `SelectStatement.orderResults`: with IN on the partition key and ORDER BY,
/// the rows of all partitions are sorted together by the ORDER BY columns (then LIMIT);
/// such a query cannot be paged (ScyllaDB's `select_statement.cc` refuses it with the same
/// message); an IN of one literal is an `=` (`SingleColumnRelation.newINRestriction`).
#[test]
fn in_with_order_by_merges_partitions() {
    let mut e = env();
    e.q("CREATE TABLE io (p int, c int, v text, PRIMARY KEY (p, c))");
    for (p, c) in [(1, 1), (1, 4), (2, 2), (2, 3), (3, 0)] {
        e.q(&format!("INSERT INTO io (p, c, v) VALUES ({p}, {c}, 'x')"));
    }
    let cs = |r: &Rows| -> Vec<Option<Bytes>> { r.rows.iter().map(|r| r[0].clone()).collect() };
    let r = e.rows("SELECT c, p FROM io WHERE p IN (1, 2, 3) ORDER BY c DESC");
    assert_eq!(cs(&r), vec![ci(4), ci(3), ci(2), ci(1), ci(0)]);
    let r = e.rows("SELECT c FROM io WHERE p IN (1, 2) ORDER BY c ASC LIMIT 3");
    assert_eq!(cs(&r), vec![ci(1), ci(2), ci(3)]);
    assert_eq!(
        names(&mut e, "SELECT c FROM io WHERE p IN (1, 2) ORDER BY c"),
        ["c"]
    );
    let paged = QueryParams {
        page_size: Some(100),
        ..QueryParams::default()
    };
    // IN of one literal value is an `=`: paging is fine.
    let r = e.rows_p("SELECT c FROM io WHERE p IN (2) ORDER BY c DESC", &paged);
    assert_eq!(cs(&r), vec![ci(3), ci(2)]);
    let err = e
        .engine
        .query(
            &mut e.session,
            "SELECT c FROM io WHERE p IN (1, 2) ORDER BY c",
            &paged,
            &e.cluster,
        )
        .unwrap_err();
    assert!(
        matches!(&err, SimError::Invalid(m) if m.starts_with("Cannot page queries with both ORDER BY and a IN restriction")),
        "{err:?}"
    );
}

/// Cassandra 4.0 `AbstractType.toJSONString` per type: NaN / infinities as null (JSON has
/// none), dates, times and inets as strings (IPv6 as Java's `getHostAddress` writes it),
/// sets and tuples as arrays, UDTs as objects, non-text map keys quoted.
#[test]
fn json_values_of_every_kind() {
    let mut e = env();
    e.q("CREATE TYPE pt (x int, \"Y\" text)");
    e.q("CREATE TABLE jv (k int PRIMARY KEY, d double, dt date, tm time, ip inet, ip6 inet, s set<int>, tp tuple<int, text>, u frozen<pt>, m map<int, boolean>, du duration)");
    e.q("INSERT INTO jv (k, d, dt, tm, ip, ip6, s, tp, u, m, du) VALUES (1, NaN, '2024-02-29', '12:34:56.789', '10.0.0.1', '2001:db8::1', {3, 1}, (1, 'a'), {x: 2, \"Y\": 'b'}, {5: true}, 1h30m)");
    let r = e.rows("SELECT JSON d, dt, tm, ip, ip6, s, tp, u, m, du FROM jv WHERE k = 1");
    assert_eq!(
        r.rows[0][0],
        ct(
            r#"{"d": null, "dt": "2024-02-29", "tm": "12:34:56.789000000", "ip": "10.0.0.1", "ip6": "2001:db8:0:0:0:0:0:1", "s": [1, 3], "tp": [1, "a"], "u": {"x": 2, "\"Y\"": "b"}, "m": {"5": true}, "du": "1h30m"}"#
        )
    );
    // And back: INSERT JSON reads the same shapes.
    e.q(r#"INSERT INTO jv JSON '{"k": 2, "dt": "2024-02-29", "tm": "12:34:56.789", "ip6": "2001:db8::1", "s": [3, 1], "tp": [1, "a"], "u": {"x": 2, "\"Y\"": "b"}, "m": {"5": true}, "du": "1h30m"}'"#);
    let a = e.rows("SELECT dt, tm, ip6, s, tp, u, m, du FROM jv WHERE k = 1");
    let b = e.rows("SELECT dt, tm, ip6, s, tp, u, m, du FROM jv WHERE k = 2");
    assert_eq!(a.rows, b.rows);
}

/// Cassandra 4.0 `OperationFcts.TemporalOperationFunction` and `Duration.addTo`: a timestamp
/// or date plus or minus a duration (months on a UTC calendar, the day clamped to the month's
/// end); a date only takes whole days.
#[test]
fn temporal_plus_duration() {
    let mut e = env();
    e.q("CREATE TABLE tm (k int PRIMARY KEY, t timestamp, d date)");
    e.q("INSERT INTO tm (k, t, d) VALUES (1, '2024-01-31 10:00:00+0000', '2024-03-01')");
    let r = e.rows("SELECT t + 1mo, d - 1d, t - 2h FROM tm WHERE k = 1");
    assert_eq!(column_names(&r), ["t + 1mo", "d - 1d", "t - 2h"]);
    assert_eq!(r.columns[0].typ, ColumnType::Timestamp);
    let ms = |s: &str| crate::engine::types::literal::parse_timestamp(s).unwrap();
    let day = |days: i64| {
        Some(Bytes::copy_from_slice(
            &((days + (1i64 << 31)) as u32).to_be_bytes(),
        ))
    };
    assert_eq!(
        r.rows[0],
        vec![
            cb(ms("2024-02-29 10:00:00+0000")),
            day(19_782),
            cb(ms("2024-01-31 08:00:00+0000")),
        ]
    );
    assert_eq!(
        invalid_msg(&mut e, "SELECT d + 1h FROM tm WHERE k = 1"),
        "The duration must have a day precision. Was: 1h"
    );
    // In values and restrictions, current time functions included.
    e.q("INSERT INTO tm (k, t) VALUES (2, toTimestamp(now()) - 1d)");
    let r = e.rows("SELECT k FROM tm WHERE t > currentTimestamp() - 2d AND t < currentTimestamp() ALLOW FILTERING");
    assert_eq!(r.rows, vec![vec![ci(2)]]);
}

/// Cassandra 4.0 pages GROUP BY results by groups (`GroupByLimits`, the page size counts
/// groups; LIMIT counts groups across pages); aggregates over everything answer one row.
#[test]
fn group_by_pages_by_groups() {
    let mut e = env();
    grouped_table(&mut e);
    let collect = |e: &mut Env, q: &str, page: i32| {
        let mut all = Vec::new();
        let mut state = None;
        for _ in 0..50 {
            let params = QueryParams {
                page_size: Some(page),
                paging_state: state.clone(),
                ..QueryParams::default()
            };
            let r = e.rows_p(q, &params);
            assert!(
                r.rows.len() <= page as usize,
                "{q}: page of {}",
                r.rows.len()
            );
            all.extend(r.rows);
            match r.paging_state {
                Some(s) => state = Some(s),
                None => return all,
            }
        }
        panic!("{q}: paging never ended");
    };
    let q = "SELECT p, c1, count(*), sum(v) FROM g GROUP BY p, c1";
    let full = e.rows(q).rows;
    assert_eq!(full.len(), 4);
    for page in [1, 2, 3, 4, 5] {
        assert_eq!(collect(&mut e, q, page), full, "page {page}");
    }
    let limited = "SELECT p, c1, count(*) FROM g GROUP BY p, c1 LIMIT 3";
    assert_eq!(collect(&mut e, limited, 2).len(), 3);
    let r = e.rows_p(
        "SELECT count(*) FROM g",
        &QueryParams {
            page_size: Some(1),
            ..QueryParams::default()
        },
    );
    assert_eq!((r.rows, r.paging_state), (vec![vec![cb(6)]], None));
}

/// Cassandra 4.0 `AggregateFcts`: sum and avg exist for varint (exact, avg truncated) and
/// decimal (exact sum; avg as `avg + (value - avg) / count`, rounded half even).
#[test]
fn sum_and_avg_of_varint_and_decimal() {
    let mut e = env();
    e.q("CREATE TABLE nv (p int, c int, n varint, d decimal, PRIMARY KEY (p, c))");
    e.q("INSERT INTO nv (p, c, n, d) VALUES (1, 1, 100000000000000000000, 1.5)");
    e.q("INSERT INTO nv (p, c, n, d) VALUES (1, 2, 3, 2.25)");
    e.q("INSERT INTO nv (p, c, n, d) VALUES (1, 3, 2, 3)");
    let r = e.rows("SELECT sum(n), avg(n), sum(d), avg(d) FROM nv WHERE p = 1");
    assert_eq!(r.columns[0].typ, ColumnType::Varint);
    assert_eq!(r.columns[2].typ, ColumnType::Decimal);
    let varint = |s: &str| {
        Some(Bytes::from(
            crate::engine::types::literal::varint_from_decimal(s).unwrap(),
        ))
    };
    let dec = |scale: i32, unscaled: &[u8]| {
        let mut b = scale.to_be_bytes().to_vec();
        b.extend_from_slice(unscaled);
        Some(Bytes::from(b))
    };
    assert_eq!(
        r.rows[0],
        vec![
            varint("100000000000000000005"),
            varint("33333333333333333335"),
            dec(2, &[0x02, 0xa3]),
            dec(2, &[0x00, 0xe1]),
        ]
    );
}

/// Cassandra 4.0's own `SelectGroupByTest.testGroupByWithoutPaging` data and expectations
/// (range, single- and multi-partition queries; LIMIT, PER PARTITION LIMIT, DISTINCT, ORDER
/// BY), checked against the simulator.
#[test]
fn group_by_matches_cassandra_select_group_by_test() {
    let mut e = env();
    e.q("CREATE TABLE gb (a int, b int, c int, d int, e int, PRIMARY KEY (a, b, c, d))");
    for (a, b, c, d, v) in [
        (1, 2, 1, 3, 6),
        (1, 2, 2, 6, 12),
        (1, 3, 2, 12, 24),
        (1, 4, 2, 12, 24),
        (1, 4, 2, 6, 12),
        (2, 2, 3, 3, 6),
        (2, 4, 3, 6, 12),
        (3, 3, 2, 12, 24),
        (4, 8, 2, 12, 24),
    ] {
        e.q(&format!(
            "INSERT INTO gb (a, b, c, d, e) VALUES ({a}, {b}, {c}, {d}, {v})"
        ));
    }
    e.q("DELETE FROM gb WHERE a = 1 AND b = 3 AND c = 2 AND d = 12");
    e.q("DELETE FROM gb WHERE a = 3");
    // Rows as i64: columns named count are bigint, the others int.
    let cases: &[(&str, &[&[i64]])] = &[
        (
            "SELECT a, b, e, count(b), max(e) FROM gb GROUP BY a",
            &[&[1, 2, 6, 4, 24], &[2, 2, 6, 2, 12], &[4, 8, 24, 1, 24]],
        ),
        (
            "SELECT a, b, e, count(b), max(e) FROM gb GROUP BY a, b",
            &[
                &[1, 2, 6, 2, 12],
                &[1, 4, 12, 2, 24],
                &[2, 2, 6, 1, 6],
                &[2, 4, 12, 1, 12],
                &[4, 8, 24, 1, 24],
            ],
        ),
        (
            "SELECT a, b, e, count(b), max(e) FROM gb WHERE b = 2 GROUP BY a, b ALLOW FILTERING",
            &[&[1, 2, 6, 2, 12], &[2, 2, 6, 1, 6]],
        ),
        (
            "SELECT a, b, c, d FROM gb GROUP BY a, b",
            &[
                &[1, 2, 1, 3],
                &[1, 4, 2, 6],
                &[2, 2, 3, 3],
                &[2, 4, 3, 6],
                &[4, 8, 2, 12],
            ],
        ),
        (
            "SELECT * FROM gb GROUP BY a, b LIMIT 3",
            &[&[1, 2, 1, 3, 6], &[1, 4, 2, 6, 12], &[2, 2, 3, 3, 6]],
        ),
        (
            "SELECT a, b, e, count(b), max(e) FROM gb GROUP BY a, b PER PARTITION LIMIT 1 LIMIT 2",
            &[&[1, 2, 6, 2, 12], &[2, 2, 6, 1, 6]],
        ),
        (
            "SELECT a, b, e, count(b), max(e) FROM gb GROUP BY a PER PARTITION LIMIT 2",
            &[&[1, 2, 6, 4, 24], &[2, 2, 6, 2, 12], &[4, 8, 24, 1, 24]],
        ),
        (
            "SELECT DISTINCT a, count(a) FROM gb GROUP BY a LIMIT 2",
            &[&[1, 1], &[2, 1]],
        ),
        (
            "SELECT a, b, e, count(b), max(e) FROM gb WHERE a = 1 AND b = 2 GROUP BY c",
            &[&[1, 2, 6, 1, 6], &[1, 2, 12, 1, 12]],
        ),
        (
            "SELECT count(b), max(e) FROM gb WHERE a = 1 GROUP BY a, b, c LIMIT 1",
            &[&[1, 6]],
        ),
        (
            "SELECT a, b, e, count(b), max(e) FROM gb WHERE a = 1 GROUP BY a, b, c PER PARTITION LIMIT 2",
            &[&[1, 2, 6, 1, 6], &[1, 2, 12, 1, 12]],
        ),
        (
            "SELECT a, b, e, count(b), max(e) FROM gb WHERE a = 1 GROUP BY a, b, c ORDER BY b DESC, c DESC",
            &[&[1, 4, 24, 2, 24], &[1, 2, 12, 1, 12], &[1, 2, 6, 1, 6]],
        ),
        (
            "SELECT a, b, e, count(b), max(e) FROM gb WHERE a IN (1, 2, 4) AND b = 2 GROUP BY a, b, c",
            &[&[1, 2, 6, 1, 6], &[1, 2, 12, 1, 12], &[2, 2, 6, 1, 6]],
        ),
        (
            "SELECT DISTINCT a, count(a) FROM gb WHERE a IN (1, 2, 4) GROUP BY a",
            &[&[1, 1], &[2, 1], &[4, 1]],
        ),
        (
            "SELECT * FROM gb WHERE a IN (1, 2, 4) GROUP BY a, b, c PER PARTITION LIMIT 2",
            &[
                &[1, 2, 1, 3, 6],
                &[1, 2, 2, 6, 12],
                &[2, 2, 3, 3, 6],
                &[2, 4, 3, 6, 12],
                &[4, 8, 2, 12, 24],
            ],
        ),
    ];
    for (q, want) in cases {
        let r = e.rows(q);
        let want: Vec<Vec<Option<Bytes>>> = want
            .iter()
            .map(|row| {
                row.iter()
                    .zip(r.columns.iter())
                    .map(|(v, c)| match c.typ {
                        ColumnType::BigInt => cb(*v),
                        _ => ci(*v as i32),
                    })
                    .collect()
            })
            .collect();
        assert_eq!(r.rows, want, "{q}");
    }
    assert_eq!(
        invalid_msg(&mut e, "SELECT DISTINCT a, count(a) FROM gb GROUP BY a, b"),
        "Grouping on clustering columns is not allowed for SELECT DISTINCT queries"
    );
}

/// Cassandra 4.0 `SelectGroupByTest.testGroupByWithStaticColumnsWithoutPaging`: partitions
/// holding only static cells form one group each (clustering null, count(b) 0).
#[test]
fn group_by_static_only_partitions() {
    let mut e = env();
    e.q("CREATE TABLE gs (a int, b int, c int, s int static, d int, PRIMARY KEY (a, b, c))");
    for (a, s) in [(1, 1), (2, 2), (4, 3)] {
        e.q(&format!("UPDATE gs SET s = {s} WHERE a = {a}"));
    }
    let row = |a: i32, s: i32| vec![ci(a), None, ci(s), cb(0), cb(1)];
    assert_eq!(
        e.rows("SELECT a, b, s, count(b), count(s) FROM gs GROUP BY a, b")
            .rows,
        vec![row(1, 1), row(2, 2), row(4, 3)]
    );
    assert_eq!(
        e.rows(
            "SELECT a, b, s, count(b), count(s) FROM gs WHERE a IN (1, 2, 3, 4) GROUP BY a LIMIT 2"
        )
        .rows,
        vec![row(1, 1), row(2, 2)]
    );
    assert_eq!(
        e.rows("SELECT DISTINCT a, s, count(s) FROM gs GROUP BY a LIMIT 2")
            .rows,
        vec![vec![ci(1), ci(1), cb(1)], vec![ci(2), ci(2), cb(1)]]
    );
    assert_eq!(
        e.rows("SELECT * FROM gs WHERE a = 1 GROUP BY a, b").rows,
        vec![vec![ci(1), None, None, ci(1), None]]
    );
}
