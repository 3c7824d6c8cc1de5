//! Function calls, arithmetic, casts and INSERT JSON fields in values (INSERT / UPDATE /
//! WHERE terms), as Cassandra 4.0 resolves them (`FunctionCall`, `TypeCast`,
//! `FunctionResolver`, `Json`): each compiles to an [`Expr`] evaluated per execution.

use std::sync::Arc;

use super::func::{self, Scalar, cast_allowed, is_numeric, native_type, operation_type};
use super::{Binds, Expr, compile_value};
use crate::cql::ast::{CqlType, Literal, Term};
use crate::engine::schema::TableSchema;
use crate::engine::types::names::type_name;
use crate::model::{ColumnType, SimError};

/// A function applied to value expressions.
#[derive(Debug, Clone)]
pub struct FnExpr {
    /// The function.
    pub f: Scalar,
    /// Its arguments.
    pub args: Vec<Expr>,
}

/// One column's value in the JSON map of `INSERT JSON`.
#[derive(Debug, Clone)]
pub struct JsonFieldExpr {
    /// The JSON text.
    pub json: Expr,
    /// The column.
    pub column: String,
    /// Its type.
    pub typ: ColumnType,
    /// Every column of the table (other keys are rejected).
    pub columns: Arc<[String]>,
    /// DEFAULT UNSET.
    pub default_unset: bool,
}

fn cql_native(t: &CqlType) -> Result<ColumnType, SimError> {
    match t {
        CqlType::Native(n) => {
            native_type(n).ok_or_else(|| SimError::Invalid(format!("Unknown type {n}")))
        }
        _ => Err(SimError::Invalid(
            "Only native types can be used in casts and type hints".into(),
        )),
    }
}

/// The text of a term as Cassandra's messages show it.
pub fn term_text(t: &Term) -> String {
    match t {
        Term::Literal(Literal::Str(s)) => format!("'{s}'"),
        Term::Literal(Literal::Int(s) | Literal::Float(s) | Literal::Duration(s)) => s.clone(),
        Term::Literal(Literal::Bool(b)) => b.to_string(),
        Term::Literal(Literal::Null) => "null".into(),
        Term::Literal(Literal::Uuid(u)) => u.to_string(),
        Term::Literal(Literal::Blob(b)) => {
            format!(
                "0x{}",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            )
        }
        Term::Bind(crate::cql::ast::BindMarker::Named(n, _)) => format!(":{n}"),
        Term::Bind(_) => "?".into(),
        Term::Ident(i) => i.clone(),
        Term::Arith(op, a, b) => format!("{} {op} {}", term_text(a), term_text(b)),
        Term::Neg(a) => format!("-{}", term_text(a)),
        Term::Cast(CqlType::Native(t), a, false) => format!("({t}){}", term_text(a)),
        Term::Cast(CqlType::Native(t), a, true) => format!("cast({} as {t})", term_text(a)),
        Term::Cast(_, a, _) => term_text(a),
        Term::Call(f, args) => format!(
            "{f}({})",
            args.iter().map(term_text).collect::<Vec<_>>().join(", ")
        ),
        _ => "?".into(),
    }
}

/// The type a term has on its own (Cassandra's preferred type of a literal), None when only
/// the receiver can tell (bind markers, null, collections).
pub fn infer(t: &Term) -> Option<ColumnType> {
    Some(match t {
        Term::Literal(Literal::Int(s)) => {
            if s.parse::<i32>().is_ok() {
                ColumnType::Int
            } else if s.parse::<i64>().is_ok() {
                ColumnType::BigInt
            } else {
                ColumnType::Varint
            }
        }
        Term::Literal(Literal::Float(_)) => ColumnType::Double,
        Term::Literal(Literal::Str(s)) => {
            if s.is_ascii() {
                ColumnType::Ascii
            } else {
                ColumnType::Text
            }
        }
        Term::Literal(Literal::Bool(_)) => ColumnType::Boolean,
        Term::Literal(Literal::Blob(_)) => ColumnType::Blob,
        Term::Literal(Literal::Uuid(u)) => {
            if u.get_version_num() == 1 {
                ColumnType::Timeuuid
            } else {
                ColumnType::Uuid
            }
        }
        Term::Literal(Literal::Duration(_)) => ColumnType::Duration,
        Term::Cast(t, _, _) => cql_native(t).ok()?,
        Term::Arith(op, a, b) => operation_type(*op, &infer(a)?, &infer(b)?)?.result_type()?,
        Term::Neg(a) => infer(a)?,
        Term::Call(f, args) => match (f.as_str(), args.as_slice()) {
            ("now" | "currenttimeuuid", []) => ColumnType::Timeuuid,
            ("uuid", []) => ColumnType::Uuid,
            ("currenttimestamp", []) => ColumnType::Timestamp,
            ("currentdate", []) => ColumnType::Date,
            (_, [a]) => func::resolve(f, infer(a).as_ref())?.2,
            _ => return None,
        },
        _ => return None,
    })
}

/// Converts a value expression of type `from` into the receiver type `to` (a numeric
/// widening or narrowing as the function chosen by Cassandra would give).
fn coerce(e: Expr, from: &ColumnType, to: &ColumnType, what: &str) -> Result<Expr, SimError> {
    let same = from == to
        || matches!((from, to), (ColumnType::Ascii, ColumnType::Text))
        || matches!((from, to), (ColumnType::BigInt, ColumnType::Counter));
    if same {
        return Ok(e);
    }
    if is_numeric(from) && is_numeric(to) && cast_allowed(from, to) {
        return Ok(Expr::Fn(Box::new(FnExpr {
            f: Scalar::Cast(from.clone(), to.clone()),
            args: vec![e],
        })));
    }
    Err(SimError::Invalid(format!(
        "Type error: {what} of type {} cannot be assigned to a value of type {}",
        type_name(from),
        type_name(to)
    )))
}

/// Compiles the terms [`compile_value`] leaves to this module: arithmetic, negation, casts
/// and type hints, INSERT JSON fields, and calls of `fromJson`, `toJson`, `blobAsX`,
/// `XAsBlob` and the time conversions. `Ok(None)`: not a term of this module.
pub fn compile(
    term: &Term,
    typ: &ColumnType,
    name: &str,
    schema: &TableSchema,
    binds: &mut Binds,
) -> Result<Option<Expr>, SimError> {
    Ok(Some(match term {
        Term::Arith(op, a, b) => {
            let (Some(lt), Some(rt)) = (infer(a), infer(b)) else {
                return Err(SimError::Invalid(format!(
                    "Ambiguous '{op}' operation with args {} and {}: use type hint to disambiguate, example '(int) ?'",
                    term_text(a),
                    term_text(b)
                )));
            };
            let Some(f) = operation_type(*op, &lt, &rt) else {
                return Err(SimError::Invalid(format!(
                    "the '{op}' operation is not supported between {} and {}",
                    term_text(a),
                    term_text(b)
                )));
            };
            let result = f.result_type().unwrap_or_else(|| lt.clone());
            let ea = compile_value(a, &lt, name, schema, binds)?;
            let eb = compile_value(b, &rt, name, schema, binds)?;
            let e = Expr::Fn(Box::new(FnExpr {
                f,
                args: vec![ea, eb],
            }));
            coerce(e, &result, typ, &term_text(term))?
        }
        Term::Neg(a) => {
            let t = infer(a).unwrap_or_else(|| typ.clone());
            if !is_numeric(&t) {
                return Err(SimError::Invalid(format!(
                    "Invalid negation of {} of type {}",
                    term_text(a),
                    type_name(&t)
                )));
            }
            let e = Expr::Fn(Box::new(FnExpr {
                f: Scalar::Neg(t.clone()),
                args: vec![compile_value(a, &t, name, schema, binds)?],
            }));
            coerce(e, &t, typ, &term_text(term))?
        }
        Term::Cast(t, inner, is_cast) => {
            let to = cql_native(t)?;
            let e = if *is_cast {
                let from = infer(inner).ok_or_else(|| {
                    SimError::Invalid(format!(
                        "Cannot infer type for term {} in CAST",
                        term_text(inner)
                    ))
                })?;
                if !cast_allowed(&from, &to) && from != to {
                    return Err(SimError::Invalid(format!(
                        "{} cannot be cast to {}",
                        term_text(inner),
                        type_name(&to)
                    )));
                }
                let e = compile_value(inner, &from, name, schema, binds)?;
                if from == to {
                    e
                } else {
                    Expr::Fn(Box::new(FnExpr {
                        f: Scalar::Cast(from, to.clone()),
                        args: vec![e],
                    }))
                }
            } else {
                compile_value(inner, &to, name, schema, binds)?
            };
            coerce(e, &to, typ, &term_text(term))?
        }
        Term::JsonField {
            json,
            column,
            default_unset,
        } => {
            let columns: Arc<[String]> = schema.columns.iter().map(|c| c.name.clone()).collect();
            Expr::JsonField(Box::new(JsonFieldExpr {
                json: compile_value(json, &ColumnType::Text, "[json]", schema, binds)?,
                column: column.clone(),
                typ: typ.clone(),
                columns,
                default_unset: *default_unset,
            }))
        }
        Term::Call(f, args) if f == "fromjson" => {
            let [arg] = args.as_slice() else {
                return Err(SimError::Invalid(format!(
                    "fromJson() only accepts one argument (got {})",
                    args.len()
                )));
            };
            Expr::Fn(Box::new(FnExpr {
                f: Scalar::FromJson(typ.clone()),
                args: vec![compile_value(arg, &ColumnType::Text, name, schema, binds)?],
            }))
        }
        Term::Call(f, args) => {
            let [arg] = args.as_slice() else {
                return Ok(None);
            };
            let Some((scalar, arg_type, result)) = func::resolve(f, infer(arg).as_ref()) else {
                return Ok(None);
            };
            let e = Expr::Fn(Box::new(FnExpr {
                f: scalar,
                args: vec![compile_value(arg, &arg_type, name, schema, binds)?],
            }));
            coerce(e, &result, typ, &term_text(term))?
        }
        _ => return Ok(None),
    }))
}
