//! Parser tests of expressions: arithmetic precedence, negation, type hints and CAST in terms
//! and selectors, literals and markers as selectors, GROUP BY, INSERT JSON, and column
//! operations that must stay column operations (Cassandra 4.0 `Parser.g`).

use super::parse;
use crate::cql::ast::*;

fn st(q: &str) -> Statement {
    parse(q).unwrap_or_else(|e| panic!("{q}: {e}")).statement
}

fn int(s: &str) -> Box<Term> {
    Box::new(Term::Literal(Literal::Int(s.into())))
}

fn selectors(q: &str) -> Vec<Selector> {
    match st(q) {
        Statement::Select(s) => s.selectors.into_iter().map(|(s, _)| s).collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn term_arithmetic_binds_tighter_for_products() {
    let Statement::Update(u) = st("UPDATE t SET v = 1 + 2 * 3 - -4 WHERE k = (int)? % 2") else {
        panic!()
    };
    let Assignment::Set(_, v) = &u.assignments[0] else {
        panic!()
    };
    let product = Term::Arith('*', int("2"), int("3"));
    let sum = Term::Arith('+', int("1"), Box::new(product));
    assert_eq!(*v, Term::Arith('-', Box::new(sum), int("-4")));
    let Relation::Compare(_, Op::Eq, k) = &u.where_[0] else {
        panic!()
    };
    let hinted = Term::Cast(
        CqlType::Native("int".into()),
        Box::new(Term::Bind(BindMarker::Anonymous(0))),
        false,
    );
    assert_eq!(*k, Term::Arith('%', Box::new(hinted), int("2")));
}

#[test]
fn column_operations_stay_column_operations() {
    let Statement::Update(u) =
        st("UPDATE t SET c = c + 1, d = d -1, l = [1] + l, s = s - {'a'}, x = -y WHERE k = 1")
    else {
        panic!()
    };
    assert!(matches!(&u.assignments[0], Assignment::Add(c, _) if c == "c"));
    assert!(matches!(&u.assignments[1], Assignment::Remove(c, _) if c == "d"));
    assert!(matches!(&u.assignments[2], Assignment::Prepend(c, _) if c == "l"));
    assert!(matches!(&u.assignments[3], Assignment::Remove(c, _) if c == "s"));
    assert!(
        matches!(&u.assignments[4], Assignment::Set(c, Term::Neg(y)) if c == "x" && **y == Term::Ident("y".into()))
    );
}

#[test]
fn selector_expressions() {
    let s =
        selectors("SELECT -v + 1, cast(v AS text), (bigint)?, 'a', blobAsText(b), count(1) FROM t");
    assert_eq!(
        s[0],
        Selector::Arith(
            '+',
            Box::new(Selector::Neg(Box::new(Selector::Column("v".into())))),
            Box::new(Selector::Term(
                Term::Literal(Literal::Int("1".into())),
                "1".into()
            ))
        )
    );
    assert_eq!(
        s[1],
        Selector::Cast(
            Box::new(Selector::Column("v".into())),
            CqlType::Native("text".into())
        )
    );
    assert!(
        matches!(&s[2], Selector::Hint(CqlType::Native(t), inner) if t == "bigint"
        && matches!(**inner, Selector::Term(Term::Bind(_), ref text) if text == "?"))
    );
    assert!(
        matches!(&s[3], Selector::Term(Term::Literal(Literal::Str(a)), text) if a == "a" && text == "'a'")
    );
    assert!(matches!(&s[4], Selector::Call(f, a) if f == "blobastext" && a.len() == 1));
    assert_eq!(s[5], Selector::CountAll);
}

#[test]
fn group_by_and_json() {
    let Statement::Select(s) =
        st("SELECT JSON p, max(v) FROM t WHERE p = 1 GROUP BY p, c ORDER BY c DESC")
    else {
        panic!()
    };
    assert!(s.json);
    assert_eq!(s.group_by, ["p", "c"]);
    assert_eq!(s.order_by, [("c".to_string(), true)]);
    let Statement::Insert(i) = st("INSERT INTO t JSON ? DEFAULT UNSET IF NOT EXISTS USING TTL 5")
    else {
        panic!()
    };
    assert_eq!(i.json, Some((Term::Bind(BindMarker::Anonymous(0)), true)));
    assert!(i.if_not_exists && i.using.ttl.is_some());
    let Statement::Insert(i) = st("INSERT INTO t JSON '{\"k\": 1}' DEFAULT NULL") else {
        panic!()
    };
    assert_eq!(
        i.json,
        Some((Term::Literal(Literal::Str("{\"k\": 1}".into())), false))
    );
    assert!(parse("INSERT INTO t JSON '{}' DEFAULT 1").is_err());
}

#[test]
fn long_operator_chains_are_bounded() {
    // Each operator nests the tree: untrusted input must not build one deep enough to
    // overflow the stack when planned or dropped.
    let chain = vec!["1"; 10_000].join(" + ");
    assert!(parse(&format!("UPDATE t SET v = {chain} WHERE k = 1")).is_err());
    assert!(parse(&format!("SELECT {chain} FROM t")).is_err());
    let short = vec!["1"; 20].join(" * ");
    assert!(parse(&format!("SELECT {short} FROM t")).is_ok());
}
