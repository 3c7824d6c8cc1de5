//! Planning of SELECT's selectors as Cassandra 4.0 does it (`Selectable`, `Selection`):
//! columns, `writetime` / `ttl`, `token`, aggregates, argument-less time functions, and
//! expressions: `CAST(x AS type)`, type hints, literals and bind markers, arithmetic, and the
//! native scalar functions of [`func`] (`blobAsText`, `intAsBlob`, `toJson`, `toDate`...).
//! Result column names follow the server: `system.blobastext(b)`, `cast(v as text)`,
//! `v + 1`, `-v`, `system.sum(v)`, `count`.

use bytes::Bytes;

use super::aggregate::{Agg, AggKind, TimeFn};
use super::fn_terms::infer;
use super::func::{self, Scalar, cast_allowed, is_numeric, native_type, operation_type};
use super::group_by::Out;
use super::select::SelItem;
use super::{Binds, Eval, Expr, Val, compile_value};
use crate::cql::ast::{CqlType, Literal, Selector, Term};
use crate::engine::schema::{ColumnKind, TableSchema};
use crate::engine::types::names::type_name;
use crate::model::{ColumnSpec, ColumnType, SimError};

/// A selected expression computed from a row.
#[derive(Debug, Clone)]
pub enum SelExpr {
    /// A row value (column, writetime, ttl, token, time function).
    Item(SelItem),
    /// A literal or bind marker.
    Value(Expr),
    /// A scalar function of other expressions.
    Apply(Scalar, Vec<SelExpr>),
}

impl SelExpr {
    /// Evaluates the expression; `item` reads a row value.
    pub fn eval(
        &self,
        item: &dyn Fn(&SelItem) -> Result<Option<Bytes>, SimError>,
        ev: &Eval<'_>,
    ) -> Result<Option<Bytes>, SimError> {
        match self {
            SelExpr::Item(i) => item(i),
            SelExpr::Value(e) => Ok(match ev.eval(e)? {
                Val::Set(b) => Some(b),
                _ => None,
            }),
            SelExpr::Apply(f, args) => {
                let vals = args
                    .iter()
                    .map(|a| a.eval(item, ev))
                    .collect::<Result<Vec<_>, _>>()?;
                f.apply(&vals)
            }
        }
    }

    fn into_item(self) -> SelItem {
        match self {
            SelExpr::Item(i) => i,
            other => SelItem::Expr(Box::new(other)),
        }
    }
}

fn col(schema: &TableSchema, name: &str) -> Result<usize, SimError> {
    schema
        .by_name
        .get(name)
        .copied()
        .ok_or_else(|| schema.unknown_column(name, false))
}

fn is_aggregate(f: &str) -> bool {
    matches!(f, "count" | "min" | "max" | "sum" | "avg")
}

fn native(t: &CqlType) -> Result<ColumnType, SimError> {
    match t {
        CqlType::Native(n) => {
            native_type(n).ok_or_else(|| SimError::Invalid(format!("Unknown type {n}")))
        }
        _ => Err(SimError::Invalid(
            "Only native types can be used in casts and type hints".into(),
        )),
    }
}

fn unknown(f: &str) -> SimError {
    SimError::Invalid(format!("Unknown function '{f}'"))
}

/// Plans all selectors: each becomes a row value or, when any selector aggregates, an
/// aggregate or the group's first value (Cassandra's `SimpleSelector` keeps the first).
pub fn plan(
    s: &TableSchema,
    selectors: &[(Selector, Option<String>)],
    binds: &mut Binds,
) -> Result<Vec<(Out, ColumnSpec)>, SimError> {
    let mut out = Vec::with_capacity(selectors.len());
    for (selector, alias) in selectors {
        // COUNT(literal) counts rows, like COUNT(*) (Cassandra `Selectable.WithFunction.Raw`).
        let count_rows = matches!(selector, Selector::Call(f, a) if f == "count"
            && matches!(a.as_slice(), [Selector::Term(Term::Literal(l), _)] if *l != Literal::Null));
        let (o, name, typ) = match selector {
            _ if count_rows => (
                Out::Agg(
                    Agg {
                        kind: AggKind::CountAll,
                        typ: ColumnType::BigInt,
                    },
                    None,
                ),
                "count".to_string(),
                ColumnType::BigInt,
            ),
            Selector::CountAll => (
                Out::Agg(
                    Agg {
                        kind: AggKind::CountAll,
                        typ: ColumnType::BigInt,
                    },
                    None,
                ),
                "count".to_string(),
                ColumnType::BigInt,
            ),
            Selector::Call(f, args) if is_aggregate(f) => {
                let [arg] = args.as_slice() else {
                    return Err(SimError::Invalid(format!(
                        "Invalid number of arguments in call to function system.{f}: 1 required but {} provided",
                        args.len()
                    )));
                };
                let (e, typ, argname) = expr(s, arg, None, binds)?;
                let Some((agg, result)) = Agg::plan(f, &typ)? else {
                    return Err(unknown(f));
                };
                (
                    Out::Agg(agg, Some(e.into_item())),
                    format!("system.{f}({argname})"),
                    result,
                )
            }
            other => {
                let (e, typ, name) = expr(s, other, None, binds)?;
                (Out::Item(e.into_item()), name, typ)
            }
        };
        out.push((o, s.spec(alias.as_deref().unwrap_or(&name), typ)));
    }
    Ok(out)
}

/// Plans one non-aggregate selector expression; returns it, its type and its column name.
fn expr(
    s: &TableSchema,
    sel: &Selector,
    expected: Option<&ColumnType>,
    binds: &mut Binds,
) -> Result<(SelExpr, ColumnType, String), SimError> {
    Ok(match sel {
        Selector::Column(c) => {
            let ci = col(s, c)?;
            (
                SelExpr::Item(SelItem::Col(ci)),
                s.columns[ci].typ.clone(),
                c.clone(),
            )
        }
        Selector::WriteTime(c) | Selector::Ttl(c) => {
            let ci = col(s, c)?;
            let column = &s.columns[ci];
            if matches!(
                column.kind,
                ColumnKind::PartitionKey | ColumnKind::Clustering
            ) {
                return Err(SimError::Invalid(format!(
                    "Cannot use selection function writetime on PRIMARY KEY part {c}"
                )));
            }
            if matches!(
                column.typ,
                ColumnType::List(_, false)
                    | ColumnType::Set(_, false)
                    | ColumnType::Map(_, _, false)
            ) {
                return Err(SimError::Invalid(format!(
                    "Cannot use selection function writetime on non-frozen collection {c}"
                )));
            }
            if matches!(sel, Selector::Ttl(_)) {
                (
                    SelExpr::Item(SelItem::Ttl(ci)),
                    ColumnType::Int,
                    format!("ttl({c})"),
                )
            } else {
                (
                    SelExpr::Item(SelItem::WriteTime(ci)),
                    ColumnType::BigInt,
                    format!("writetime({c})"),
                )
            }
        }
        Selector::Token(cols) => {
            let names: Vec<&str> = s.pk.iter().map(|i| s.columns[*i].name.as_str()).collect();
            if cols.iter().map(String::as_str).ne(names.iter().copied()) {
                return Err(SimError::Invalid(
                    "The token function arguments must be the partition key columns in order"
                        .into(),
                ));
            }
            (
                SelExpr::Item(SelItem::Token),
                ColumnType::BigInt,
                format!("system.token({})", cols.join(", ")),
            )
        }
        Selector::CountAll => return Err(nested_aggregate()),
        Selector::Term(term, text) => {
            let typ = match expected.cloned().or_else(|| infer(term)) {
                Some(t) => t,
                None => {
                    return Err(SimError::Invalid(format!(
                        "Cannot infer type for term {text} in selection clause (try using a cast to force a type)"
                    )));
                }
            };
            let e = compile_value(term, &typ, text, s, binds)?;
            (SelExpr::Value(e), typ, text.clone())
        }
        Selector::Hint(t, inner) => {
            let to = native(t)?;
            let (e, from, name) = expr(s, inner, Some(&to), binds)?;
            let name = format!("({}){name}", type_name(&to));
            // A hint does not convert: the value must already be of the type
            // (Cassandra `Selectable.WithTypeHint`).
            if from == to || (from == ColumnType::Ascii && to == ColumnType::Text) {
                (e, to, name)
            } else {
                return Err(SimError::Invalid(format!(
                    "Cannot assign value {name} to {name} of type {}",
                    type_name(&to)
                )));
            }
        }
        Selector::Cast(inner, t) => {
            let to = native(t)?;
            let (e, from, name) = expr(s, inner, None, binds)?;
            // Casting a value to its own type is ignored (Selectable.WithCast).
            if from == to {
                return Ok((e, from, name));
            }
            if !cast_allowed(&from, &to) {
                return Err(SimError::Invalid(format!(
                    "{name} cannot be cast to {}",
                    type_name(&to)
                )));
            }
            let name = format!("cast({name} as {})", type_name(&to));
            (
                SelExpr::Apply(Scalar::Cast(from, to.clone()), vec![e]),
                to,
                name,
            )
        }
        Selector::Arith(op, a, b) => {
            let is_marker = |x: &Selector| matches!(x, Selector::Term(Term::Bind(_), _));
            let text = |x: &Selector| match x {
                Selector::Term(_, t) => t.clone(),
                Selector::Column(c) => c.clone(),
                _ => "expression".into(),
            };
            if is_marker(a) || is_marker(b) {
                return Err(SimError::Invalid(format!(
                    "Ambiguous '{op}' operation with args {} and {}: use type hint to disambiguate, example '(int) ?'",
                    text(a),
                    text(b)
                )));
            }
            let (ea, lt, na) = expr(s, a, None, binds)?;
            let (eb, rt, nb) = expr(s, b, None, binds)?;
            let Some(f) = operation_type(*op, &lt, &rt) else {
                return Err(SimError::Invalid(format!(
                    "the '{op}' operation is not supported between {na} and {nb}"
                )));
            };
            let result = f.result_type().unwrap_or(lt);
            (
                SelExpr::Apply(f, vec![ea, eb]),
                result,
                format!("{na} {op} {nb}"),
            )
        }
        Selector::Neg(a) => {
            let (e, t, n) = expr(s, a, expected, binds)?;
            if !is_numeric(&t) {
                return Err(SimError::Invalid(format!(
                    "Invalid negation of {n} of type {}",
                    type_name(&t)
                )));
            }
            (
                SelExpr::Apply(Scalar::Neg(t.clone()), vec![e]),
                t,
                format!("-{n}"),
            )
        }
        Selector::Call(f, _) if is_aggregate(f) => return Err(nested_aggregate()),
        Selector::Call(f, args) if f == "fromjson" && !args.is_empty() => {
            return Err(SimError::Invalid(
                "fromJson() cannot be used in the selection clause of a SELECT statement".into(),
            ));
        }
        Selector::Call(f, args) => match args.as_slice() {
            [] | [Selector::Call(_, _)]
                if args.is_empty()
                    || matches!(args.as_slice(), [Selector::Call(n, a)] if n == "now" && a.is_empty()) =>
            {
                let nested_now = !args.is_empty();
                let Some((tf, typ)) = TimeFn::plan(f, nested_now) else {
                    return Err(unknown(f));
                };
                let name = if nested_now {
                    format!("system.{f}(system.now())")
                } else {
                    format!("system.{f}()")
                };
                (SelExpr::Item(SelItem::Fn(tf)), typ, name)
            }
            [arg] => {
                // blobAsX takes a blob, XAsBlob an X; the others take their argument's type.
                let declared = func::resolve(f, None).map(|(_, arg_type, _)| arg_type);
                let (e, at, an) = expr(s, arg, declared.as_ref(), binds)?;
                let Some((scalar, arg_type, result)) = func::resolve(f, Some(&at)) else {
                    return Err(unknown(f));
                };
                let compatible = at == arg_type
                    || matches!((&at, &arg_type), (ColumnType::Ascii, ColumnType::Text));
                if !compatible {
                    return Err(SimError::Invalid(format!(
                        "Type error: {an} cannot be passed as argument 0 of function system.{f} of type {}",
                        type_name(&arg_type)
                    )));
                }
                (
                    SelExpr::Apply(scalar, vec![e]),
                    result,
                    format!("system.{f}({an})"),
                )
            }
            _ => return Err(unknown(f)),
        },
    })
}

fn nested_aggregate() -> SimError {
    SimError::Invalid(
        "Aggregates inside other expressions are not supported by the simulator".into(),
    )
}
