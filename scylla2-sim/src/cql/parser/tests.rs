//! Parser tests: every statement form, bind markers, literals, and error positions.

use super::parse;
use crate::cql::ast::*;

fn st(q: &str) -> Statement {
    parse(q).unwrap_or_else(|e| panic!("{q}: {e}")).statement
}

fn qn(ks: Option<&str>, name: &str) -> QualifiedName {
    QualifiedName {
        keyspace: ks.map(str::to_string),
        name: name.into(),
    }
}

fn lit_int(s: &str) -> Term {
    Term::Literal(Literal::Int(s.into()))
}

#[test]
fn use_and_keyspaces() {
    assert_eq!(st("USE \"MyKs\";"), Statement::Use("MyKs".into()));
    assert_eq!(st("use Ks"), Statement::Use("ks".into()));
    let Statement::CreateKeyspace {
        name,
        if_not_exists,
        properties,
    } = st(
        "CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3} AND durable_writes = false",
    )
    else {
        panic!()
    };
    assert_eq!(name, "ks");
    assert!(if_not_exists);
    assert_eq!(properties.len(), 2);
    assert_eq!(
        properties[1],
        (
            "durable_writes".into(),
            PropValue::Term(Term::Literal(Literal::Bool(false)))
        )
    );
    assert_eq!(
        st("DROP KEYSPACE IF EXISTS ks"),
        Statement::DropKeyspace {
            name: "ks".into(),
            if_exists: true
        }
    );
}

#[test]
fn create_table_forms() {
    let Statement::CreateTable(t) = st(
        "CREATE TABLE IF NOT EXISTS ks.t (a int, b text, c timeuuid, d bigint, s text static, \
         l list<int>, fl frozen<list<int>>, m map<text, frozen<set<int>>>, tu tuple<int, text>, \
         u frozen<addr>, v vector<float, 3>, PRIMARY KEY ((a, b), c, d)) \
         WITH CLUSTERING ORDER BY (c DESC, d ASC) AND comment = 'x' AND gc_grace_seconds = 10 \
         AND compaction = {'class': 'LeveledCompactionStrategy'}",
    ) else {
        panic!()
    };
    assert_eq!(t.name, qn(Some("ks"), "t"));
    assert!(t.if_not_exists);
    assert_eq!(t.partition_key, ["a", "b"]);
    assert_eq!(t.clustering, ["c", "d"]);
    assert_eq!(
        t.clustering_order,
        [("c".into(), true), ("d".into(), false)]
    );
    assert!(t.columns[4].is_static);
    assert_eq!(
        t.columns[6].typ,
        CqlType::Frozen(Box::new(CqlType::List(Box::new(CqlType::Native(
            "int".into()
        )))))
    );
    assert_eq!(
        t.columns[10].typ,
        CqlType::Vector(Box::new(CqlType::Native("float".into())), 3)
    );
    assert_eq!(
        t.columns[9].typ,
        CqlType::Frozen(Box::new(CqlType::Udt(qn(None, "addr"))))
    );
    assert_eq!(t.options.len(), 3);
    let Statement::CreateTable(t) = st("CREATE TABLE t (k varchar PRIMARY KEY, v int)") else {
        panic!()
    };
    assert_eq!(t.partition_key, ["k"]);
    assert_eq!(t.columns[0].typ, CqlType::Native("text".into()));
    assert_eq!(
        st("DROP TABLE IF EXISTS t"),
        Statement::DropTable {
            name: qn(None, "t"),
            if_exists: true
        }
    );
    assert_eq!(
        st("TRUNCATE TABLE ks.t"),
        Statement::Truncate(qn(Some("ks"), "t"))
    );
    assert_eq!(st("TRUNCATE t"), Statement::Truncate(qn(None, "t")));
}

#[test]
fn types_and_alter() {
    let Statement::CreateType { name, fields, .. } =
        st("CREATE TYPE ks.addr (street text, zip int)")
    else {
        panic!()
    };
    assert_eq!(name, qn(Some("ks"), "addr"));
    assert_eq!(fields.len(), 2);
    assert_eq!(
        st("DROP TYPE IF EXISTS addr"),
        Statement::DropType {
            name: qn(None, "addr"),
            if_exists: true
        }
    );
    assert_eq!(
        st("ALTER TABLE t ADD x set<int>"),
        Statement::AlterTableAdd {
            name: qn(None, "t"),
            columns: vec![(
                "x".into(),
                CqlType::Set(Box::new(CqlType::Native("int".into()))),
                false
            )]
        }
    );
    let Statement::AlterTableAdd { columns, .. } = st("ALTER TABLE t ADD (a int, b text)") else {
        panic!()
    };
    assert_eq!(columns.len(), 2);
}

#[test]
fn insert_update_delete() {
    let Statement::Insert(i) =
        st("INSERT INTO kv (k, v) VALUES (?, :val) IF NOT EXISTS USING TTL ? AND TIMESTAMP 123")
    else {
        panic!()
    };
    assert_eq!(i.columns, ["k", "v"]);
    assert_eq!(
        i.values,
        vec![
            Term::Bind(BindMarker::Anonymous(0)),
            Term::Bind(BindMarker::Named("val".into(), 1))
        ]
    );
    assert!(i.if_not_exists);
    assert_eq!(i.using.ttl, Some(Term::Bind(BindMarker::Anonymous(2))));
    assert_eq!(i.using.timestamp, Some(lit_int("123")));
    let Statement::Update(u) = st(
        "UPDATE t USING TTL 5 SET l = l + [1], l = [0] + l, s = s - {'a'}, m['k'] = 'v', c = c + ?, x = 3 \
         WHERE k = 1 AND c IN (1, 2) IF x = 4 AND y != null",
    ) else {
        panic!()
    };
    assert_eq!(u.assignments.len(), 6);
    assert!(matches!(&u.assignments[0], Assignment::Add(c, Term::List(_)) if c == "l"));
    assert!(matches!(&u.assignments[1], Assignment::Prepend(c, Term::List(_)) if c == "l"));
    assert!(matches!(&u.assignments[2], Assignment::Remove(c, Term::Set(_)) if c == "s"));
    assert!(matches!(&u.assignments[3], Assignment::SetElement(c, _, _) if c == "m"));
    assert!(matches!(&u.assignments[4], Assignment::Add(c, Term::Bind(_)) if c == "c"));
    assert_eq!(u.where_.len(), 2);
    assert!(matches!(&u.where_[1], Relation::In(c, InValues::List(v)) if c == "c" && v.len() == 2));
    assert!(matches!(&u.conditions, Conditions::Columns(c) if c.len() == 2 && c[1].1 == Op::Ne));
    let Statement::Update(u) = st("UPDATE t SET v = 1 WHERE k = 1 IF EXISTS") else {
        panic!()
    };
    assert_eq!(u.conditions, Conditions::Exists);
    let Statement::Delete(d) =
        st("DELETE a, m['x'] FROM ks.t USING TIMESTAMP 9 WHERE k = ? AND c >= 3 IF EXISTS")
    else {
        panic!()
    };
    assert_eq!(d.columns.len(), 2);
    assert!(matches!(&d.columns[1], Deletion::Element(c, _) if c == "m"));
    assert!(matches!(&d.where_[1], Relation::Compare(c, Op::Ge, _) if c == "c"));
    let Statement::Delete(d) = st("DELETE FROM t WHERE k IN ?") else {
        panic!()
    };
    assert!(d.columns.is_empty());
    assert!(matches!(
        &d.where_[0],
        Relation::In(_, InValues::Bind(BindMarker::Anonymous(0)))
    ));
}

#[test]
fn select_forms() {
    let Statement::Select(s) = st(
        "SELECT a AS x, writetime(b), ttl(b), COUNT(*), token(k) FROM ks.t WHERE k = ? AND (c, d) > (1, 2) \
         AND token(k) > -5 ORDER BY c DESC PER PARTITION LIMIT 2 LIMIT ? ALLOW FILTERING",
    ) else {
        panic!()
    };
    assert_eq!(s.selectors.len(), 5);
    assert_eq!(
        s.selectors[0],
        (Selector::Column("a".into()), Some("x".into()))
    );
    assert_eq!(s.selectors[1].0, Selector::WriteTime("b".into()));
    assert_eq!(s.selectors[2].0, Selector::Ttl("b".into()));
    assert_eq!(s.selectors[3].0, Selector::CountAll);
    assert!(
        matches!(&s.where_[1], Relation::MultiCompare(c, Op::Gt, Term::Tuple(v)) if c.len() == 2 && v.len() == 2)
    );
    assert!(matches!(&s.where_[2], Relation::Token(c, Op::Gt, _) if c == &["k"]));
    assert_eq!(s.order_by, [("c".into(), true)]);
    assert_eq!(s.per_partition_limit, Some(lit_int("2")));
    assert_eq!(s.limit, Some(Term::Bind(BindMarker::Anonymous(1))));
    assert!(s.allow_filtering);
    let Statement::Select(s) = st("select * from t") else {
        panic!()
    };
    assert!(s.selectors.is_empty() && s.where_.is_empty());
    let Statement::Select(s) = st("SELECT count(1) FROM t WHERE (c, d) IN ((1, 2), (3, 4))") else {
        panic!()
    };
    assert_eq!(s.selectors[0].0, Selector::CountAll);
    assert!(matches!(&s.where_[0], Relation::MultiIn(_, InValues::List(v)) if v.len() == 2));
    let Statement::Select(s) = st("SELECT DISTINCT k FROM t") else {
        panic!()
    };
    assert!(s.distinct);
}

#[test]
fn batches() {
    let Statement::Batch {
        kind,
        using,
        statements,
    } = st(
        "BEGIN UNLOGGED BATCH USING TIMESTAMP 5 INSERT INTO t (k) VALUES (1); UPDATE t SET v = 2 WHERE k = 1; \
         DELETE FROM t WHERE k = 3 APPLY BATCH;",
    )
    else {
        panic!()
    };
    assert_eq!(kind, BatchType::Unlogged);
    assert_eq!(using.timestamp, Some(lit_int("5")));
    assert_eq!(statements.len(), 3);
    assert!(matches!(
        st("BEGIN COUNTER BATCH UPDATE c SET n = n + 1 WHERE k = 1 APPLY BATCH"),
        Statement::Batch {
            kind: BatchType::Counter,
            ..
        }
    ));
    assert!(matches!(
        st("BEGIN BATCH APPLY BATCH"),
        Statement::Batch {
            kind: BatchType::Logged,
            ..
        }
    ));
}

#[test]
fn literals() {
    let Statement::Insert(i) = st(
        "INSERT INTO t (a, b, c, d, e, f, g, h, i, j, k, l, m) VALUES ('it''s', $$raw'$$, -12, 1.5, NaN, -Infinity, \
         0xff00, 123e4567-e89b-12d3-a456-426614174000, true, null, {'k': [1, 2]}, (1, 'x'), {f1: 1, \"F2\": 'y'}) -- done",
    ) else {
        panic!()
    };
    let v = &i.values;
    assert_eq!(v[0], Term::Literal(Literal::Str("it's".into())));
    assert_eq!(v[1], Term::Literal(Literal::Str("raw'".into())));
    assert_eq!(v[2], lit_int("-12"));
    assert_eq!(v[3], Term::Literal(Literal::Float("1.5".into())));
    assert_eq!(v[4], Term::Literal(Literal::Float("NaN".into())));
    assert_eq!(v[5], Term::Literal(Literal::Float("-Infinity".into())));
    assert_eq!(v[6], Term::Literal(Literal::Blob(vec![0xff, 0])));
    assert!(matches!(v[7], Term::Literal(Literal::Uuid(_))));
    assert_eq!(v[8], Term::Literal(Literal::Bool(true)));
    assert_eq!(v[9], Term::Literal(Literal::Null));
    assert!(
        matches!(&v[10], Term::Map(e) if e.len() == 1 && matches!(&e[0].1, Term::List(l) if l.len() == 2))
    );
    assert!(matches!(&v[11], Term::Tuple(t) if t.len() == 2));
    assert!(
        matches!(&v[12], Term::Map(e) if e[0].0 == Term::Ident("f1".into()) && e[1].0 == Term::Ident("F2".into()))
    );
}

#[test]
fn errors_carry_positions() {
    let e = parse("SELEC * FROM all_types").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 1:0 no viable alternative at input 'SELEC' ([SELEC]...)"
    );
    let e = parse("SELECT * FRM t").unwrap_err();
    assert!(e.message.ends_with("(SELECT * [FRM]...)"), "{e}");
    assert_eq!((e.line, e.col), (1, 9));
    assert!(e.to_string().starts_with("line 1:9 "), "{e}");
    let e = parse("SELECT *\nFROM t WHERE k = = 1").unwrap_err();
    assert_eq!((e.line, e.col), (2, 17));
    let e = parse("INSERT INTO t (k) VALUES (1").unwrap_err();
    assert_eq!((e.line, e.col), (1, 27));
    assert!(e.to_string().contains("<EOF>"));
    let e = parse("SELECT * FROM t; extra").unwrap_err();
    assert_eq!(e.col, 17);
    assert!(parse("CREATE TABLE t (k vector<float, 0> PRIMARY KEY)").is_err());
    assert!(parse("FOO BAR").is_err());
    assert!(parse("SELECT 'unterminated FROM t").is_err());
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "INSERT INTO t (k) VALUES ({}1{})",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(
        parse(&deep)
            .unwrap_err()
            .message
            .contains("nested too deeply")
    );
    let deep_type = format!(
        "CREATE TABLE t (k {}int{} PRIMARY KEY)",
        "frozen<list<".repeat(1000),
        ">>".repeat(1000)
    );
    assert!(parse(&deep_type).is_err());
    let ok = format!(
        "INSERT INTO t (k) VALUES ({}1{})",
        "[".repeat(10),
        "]".repeat(10)
    );
    assert!(parse(&ok).is_ok());
}
