//! Statement planning and execution: value expressions ([`Expr`]) with bind markers,
//! WHERE-clause key resolution, and the statement families in [`write`](mod@write), [`select`] and
//! [`ddl`].

pub mod aggregate;
pub mod ddl;
pub mod fn_terms;
pub mod func;
pub mod group_by;
pub mod json;
pub mod paging;
pub mod read;
pub mod select;
pub mod selection;
pub mod where_;
pub mod write;

use bytes::Bytes;

use super::schema::TableSchema;
use super::types::literal::encode_literal;
use super::types::{order, validate::validate, write_value};
use crate::cql::ast::{BindMarker, Term};
use crate::model::{BoundValue, ColumnSpec, ColumnType, SimError};

/// A value expression of a plan.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A constant (None = null).
    Const(Option<Bytes>),
    /// A bind marker by index.
    Bind(usize),
    /// A collection, tuple, UDT or vector literal with non-constant parts.
    Build(ColumnType, Vec<Expr>),
    /// now() (timeuuid).
    Now,
    /// uuid().
    RandomUuid,
    /// currentTimestamp() / toTimestamp(now()).
    CurrentTimestamp,
    /// A function of other expressions (arithmetic, casts, fromJson, blobAsX...).
    Fn(Box<fn_terms::FnExpr>),
    /// One column of an INSERT JSON map.
    JsonField(Box<fn_terms::JsonFieldExpr>),
}

/// An evaluated value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    /// Bytes.
    Set(Bytes),
    /// NULL.
    Null,
    /// Not set.
    Unset,
}

impl Val {
    /// The bytes, if any.
    pub fn bytes(&self) -> Option<&Bytes> {
        match self {
            Val::Set(b) => Some(b),
            _ => None,
        }
    }
}

/// Bind marker specs collected while planning.
#[derive(Debug, Default)]
pub struct Binds {
    /// Spec per marker index.
    pub specs: Vec<Option<ColumnSpec>>,
}

impl Binds {
    /// Records the spec of a marker (a named marker uses its own name).
    pub fn set(&mut self, m: &BindMarker, mut spec: ColumnSpec) {
        if let BindMarker::Named(n, _) = m {
            spec.name = n.clone();
        }
        let i = m.index();
        if self.specs.len() <= i {
            self.specs.resize(i + 1, None);
        }
        self.specs[i] = Some(spec);
    }
}

/// [`compile_value`] of every item, all of type `typ`.
fn compile_all(
    items: &[Term],
    typ: &ColumnType,
    name: &str,
    schema: &TableSchema,
    binds: &mut Binds,
) -> Result<Vec<Expr>, SimError> {
    items
        .iter()
        .map(|i| compile_value(i, typ, name, schema, binds))
        .collect()
}

/// [`compile_value`] of an optional term.
pub fn compile_opt(
    term: Option<&Term>,
    typ: &ColumnType,
    name: &str,
    schema: &TableSchema,
    binds: &mut Binds,
) -> Result<Option<Expr>, SimError> {
    term.map(|t| compile_value(t, typ, name, schema, binds))
        .transpose()
}

/// Plans a value of type `typ` for the column (or marker name) `name`.
pub fn compile_value(
    term: &Term,
    typ: &ColumnType,
    name: &str,
    schema: &TableSchema,
    binds: &mut Binds,
) -> Result<Expr, SimError> {
    let invalid = |m: String| SimError::Invalid(m);
    let wrong_literal = |what: &str| {
        invalid(format!(
            "Invalid {what} literal for {name} of type {}",
            super::types::names::type_name(typ)
        ))
    };
    match term {
        Term::Bind(m) => {
            binds.set(m, schema.spec(name, typ.clone()));
            Ok(Expr::Bind(m.index()))
        }
        Term::Literal(l) => encode_literal(typ, l, name)
            .map(|v| Expr::Const(v.map(Bytes::from)))
            .map_err(invalid),
        Term::Ident(i) => Err(invalid(format!(
            "Invalid identifier {i} for \"{name}\" of type {}",
            super::types::names::type_name(typ)
        ))),
        Term::Call(f, args) => match (f.as_str(), typ) {
            ("now", ColumnType::Timeuuid) if args.is_empty() => Ok(Expr::Now),
            ("uuid", ColumnType::Uuid) if args.is_empty() => Ok(Expr::RandomUuid),
            ("currenttimestamp", ColumnType::Timestamp) if args.is_empty() => {
                Ok(Expr::CurrentTimestamp)
            }
            ("totimestamp", ColumnType::Timestamp) if matches!(args.as_slice(), [Term::Call(n, a)] if n == "now" && a.is_empty()) => {
                Ok(Expr::CurrentTimestamp)
            }
            _ => match fn_terms::compile(term, typ, name, schema, binds)? {
                Some(e) => Ok(e),
                None => Err(invalid(format!(
                    "Unknown function {f} or wrong argument types for \"{name}\""
                ))),
            },
        },
        Term::Arith(..) | Term::Neg(_) | Term::Cast(..) | Term::JsonField { .. } => {
            fn_terms::compile(term, typ, name, schema, binds)?
                .ok_or_else(|| invalid(format!("Invalid expression for \"{name}\"")))
        }
        Term::List(items) => match typ {
            ColumnType::List(t, _) | ColumnType::Vector(t, _) | ColumnType::Set(t, _) => {
                if let ColumnType::Vector(_, n) = typ
                    && items.len() != *n as usize
                {
                    return Err(invalid(format!(
                        "Invalid vector literal for {name}: expected {n} elements, got {}",
                        items.len()
                    )));
                }
                if matches!(typ, ColumnType::Set(..)) && !items.is_empty() {
                    return Err(wrong_literal("list"));
                }
                build(typ, compile_all(items, t, name, schema, binds)?)
            }
            _ => Err(wrong_literal("list")),
        },
        Term::Set(items) => match typ {
            ColumnType::Set(t, _) => build(typ, compile_all(items, t, name, schema, binds)?),
            _ => Err(wrong_literal("set")),
        },
        Term::Map(entries) => match typ {
            ColumnType::Map(k, v, _) => {
                let mut parts = Vec::with_capacity(entries.len() * 2);
                for (a, b) in entries {
                    parts.push(compile_value(a, k, name, schema, binds)?);
                    parts.push(compile_value(b, v, name, schema, binds)?);
                }
                build(typ, parts)
            }
            ColumnType::Set(..) | ColumnType::List(..) if entries.is_empty() => {
                build(typ, Vec::new())
            }
            ColumnType::Udt { fields, .. } => {
                let mut parts = vec![Expr::Const(None); fields.len()];
                for (k, v) in entries {
                    let Term::Ident(field) = k else {
                        return Err(invalid(format!("Invalid user type literal for {name}")));
                    };
                    let pos = fields.iter().position(|(f, _)| f == field).ok_or_else(|| {
                        invalid(format!(
                            "Unknown field '{field}' in value of user defined type"
                        ))
                    })?;
                    parts[pos] = compile_value(v, &fields[pos].1, name, schema, binds)?;
                }
                build(typ, parts)
            }
            _ => Err(wrong_literal("map")),
        },
        Term::Tuple(items) => match typ {
            ColumnType::Tuple(ts) if items.len() <= ts.len() => build(
                typ,
                items
                    .iter()
                    .zip(ts)
                    .map(|(i, t)| compile_value(i, t, name, schema, binds))
                    .collect::<Result<_, _>>()?,
            ),
            _ => Err(wrong_literal("tuple")),
        },
    }
}

/// A Build expression, folded to a constant when every part is constant.
fn build(typ: &ColumnType, parts: Vec<Expr>) -> Result<Expr, SimError> {
    if parts.iter().all(|p| matches!(p, Expr::Const(_))) {
        let vals: Vec<Val> = parts
            .into_iter()
            .map(|p| match p {
                Expr::Const(Some(b)) => Val::Set(b),
                _ => Val::Null,
            })
            .collect();
        return serialize_parts(typ, &vals).map(|b| Expr::Const(Some(b)));
    }
    Ok(Expr::Build(typ.clone(), parts))
}

/// Serializes the parts of a composite literal (sets and maps sorted and deduplicated).
pub fn serialize_parts(typ: &ColumnType, parts: &[Val]) -> Result<Bytes, SimError> {
    let null_in = || SimError::Invalid("null is not supported inside collections".into());
    let out = match typ {
        ColumnType::List(..) => {
            let items: Vec<&[u8]> = parts
                .iter()
                .map(|p| p.bytes().map(|b| &b[..]).ok_or_else(null_in))
                .collect::<Result<_, _>>()?;
            super::types::write_collection(items.len(), items.into_iter().map(Some))
        }
        ColumnType::Set(t, _) => {
            let mut items: Vec<&[u8]> = parts
                .iter()
                .map(|p| p.bytes().map(|b| &b[..]).ok_or_else(null_in))
                .collect::<Result<_, _>>()?;
            items.sort_by(|a, b| order::compare(t, a, b));
            items.dedup();
            super::types::write_collection(items.len(), items.into_iter().map(Some))
        }
        ColumnType::Map(k, _, _) => {
            let mut pairs: Vec<(&[u8], &[u8])> = Vec::new();
            for pair in parts.chunks(2) {
                let a = pair[0].bytes().ok_or_else(null_in)?;
                let b = pair.get(1).and_then(Val::bytes).ok_or_else(null_in)?;
                pairs.push((a, b));
            }
            pairs.sort_by(|a, b| order::compare(k, a.0, b.0));
            pairs.dedup_by(|a, b| a.0 == b.0);
            let mut out = (pairs.len() as i32).to_be_bytes().to_vec();
            for (a, b) in pairs {
                write_value(&mut out, Some(a));
                write_value(&mut out, Some(b));
            }
            out
        }
        ColumnType::Vector(t, _) => {
            let mut out = Vec::new();
            let fixed = super::types::validate::fixed_size(t).is_some();
            for p in parts {
                let b = p.bytes().ok_or_else(null_in)?;
                if !fixed {
                    super::types::write_unsigned_vint(&mut out, b.len() as u64);
                }
                out.extend_from_slice(b);
            }
            out
        }
        _ => {
            let mut out = Vec::new();
            for p in parts {
                write_value(&mut out, p.bytes().map(|b| &b[..]));
            }
            out
        }
    };
    Ok(Bytes::from(out))
}

/// Evaluates expressions against the bound values of one execution.
pub struct Eval<'a> {
    /// Bound values by marker index.
    pub values: &'a [BoundValue],
}

impl Eval<'_> {
    /// Evaluates one expression.
    pub fn eval(&self, e: &Expr) -> Result<Val, SimError> {
        Ok(match e {
            Expr::Const(Some(b)) => Val::Set(b.clone()),
            Expr::Const(None) => Val::Null,
            Expr::Bind(i) => match self.values.get(*i) {
                Some(BoundValue::Set(b)) => Val::Set(b.clone()),
                Some(BoundValue::Null) => Val::Null,
                Some(BoundValue::Unset) => Val::Unset,
                None => return Err(SimError::Invalid(format!("No value bound for marker {i}"))),
            },
            Expr::Build(typ, parts) => {
                let vals: Vec<Val> = parts
                    .iter()
                    .map(|p| self.eval(p))
                    .collect::<Result<_, _>>()?;
                if vals.contains(&Val::Unset) {
                    return Err(SimError::Invalid(
                        "Invalid unset value in a collection or tuple literal".into(),
                    ));
                }
                Val::Set(serialize_parts(typ, &vals)?)
            }
            Expr::Now => Val::Set(Bytes::copy_from_slice(timeuuid_now().as_bytes())),
            Expr::RandomUuid => Val::Set(Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes())),
            Expr::CurrentTimestamp => Val::Set(Bytes::copy_from_slice(
                &(super::storage::now_micros() / 1000).to_be_bytes(),
            )),
            Expr::Fn(f) => {
                let mut args = Vec::with_capacity(f.args.len());
                for a in &f.args {
                    args.push(match self.eval(a)? {
                        Val::Set(b) => Some(b),
                        Val::Null => None,
                        Val::Unset => {
                            return Err(SimError::Invalid(format!(
                                "Invalid unset value for argument in call to function system.{}",
                                f.f.name()
                            )));
                        }
                    });
                }
                match f.f.apply(&args)? {
                    Some(b) => Val::Set(b),
                    None => Val::Null,
                }
            }
            Expr::JsonField(j) => {
                let text = match self.eval(&j.json)? {
                    Val::Set(b) => b,
                    _ => return Err(SimError::Invalid("Got null for INSERT JSON values".into())),
                };
                let text = std::str::from_utf8(&text)
                    .map_err(|_| SimError::Invalid("Invalid UTF-8 in INSERT JSON values".into()))?;
                match json::json_field(text, &j.column, &j.typ, &j.columns)? {
                    None if j.default_unset => Val::Unset,
                    None | Some(None) => Val::Null,
                    Some(Some(b)) => Val::Set(b),
                }
            }
        })
    }

    /// Evaluates an expression that must be a non-null value.
    pub fn required(&self, e: &Expr, what: &str) -> Result<Bytes, SimError> {
        match self.eval(e)? {
            Val::Set(b) => Ok(b),
            Val::Null => Err(SimError::Invalid(format!(
                "Invalid null value in condition for column {what}"
            ))),
            Val::Unset => Err(SimError::Invalid(format!(
                "Invalid unset value for column {what}"
            ))),
        }
    }

    /// Evaluates an optional int expression (LIMIT, TTL).
    pub fn int(&self, e: Option<&Expr>, what: &str) -> Result<Option<i32>, SimError> {
        let Some(e) = e else { return Ok(None) };
        match self.eval(e)? {
            Val::Set(b) => {
                let arr: [u8; 4] = b[..]
                    .try_into()
                    .map_err(|_| SimError::Invalid(format!("Invalid value for {what}")))?;
                Ok(Some(i32::from_be_bytes(arr)))
            }
            Val::Null => Err(SimError::Invalid(format!("Invalid null value of {what}"))),
            Val::Unset => Ok(None),
        }
    }

    /// Evaluates an optional bigint expression (TIMESTAMP).
    pub fn bigint(&self, e: Option<&Expr>, what: &str) -> Result<Option<i64>, SimError> {
        let Some(e) = e else { return Ok(None) };
        match self.eval(e)? {
            Val::Set(b) => {
                let arr: [u8; 8] = b[..]
                    .try_into()
                    .map_err(|_| SimError::Invalid(format!("Invalid value for {what}")))?;
                Ok(Some(i64::from_be_bytes(arr)))
            }
            Val::Null => Err(SimError::Invalid(format!("Invalid null value of {what}"))),
            Val::Unset => Ok(None),
        }
    }
}

/// A version 1 (time-based) UUID for now().
pub fn timeuuid_now() -> uuid::Uuid {
    // 100ns intervals since 1582-10-15.
    let micros = super::storage::now_micros();
    let ts = (micros as u64) * 10 + 0x01b2_1dd2_1381_4000;
    let time_low = (ts & 0xffff_ffff) as u32;
    let time_mid = ((ts >> 32) & 0xffff) as u16;
    let time_hi = (((ts >> 48) & 0x0fff) as u16) | 0x1000;
    let node: [u8; 8] = [0x80 | 0x13, 0x37, 0x5c, 0x11, 0xa2, 0x00, 0x00, 0x01];
    uuid::Uuid::from_fields(time_low, time_mid, time_hi, &node)
}

/// Validates the bound values against the marker types.
pub fn check_values(specs: &[ColumnSpec], values: &[BoundValue]) -> Result<(), SimError> {
    if specs.len() != values.len() {
        return Err(SimError::Invalid(format!(
            "There were {} markers(?) in CQL but {} bound variables",
            specs.len(),
            values.len()
        )));
    }
    for (s, v) in specs.iter().zip(values) {
        if let BoundValue::Set(b) = v {
            validate(&s.typ, b).map_err(|m| {
                SimError::Invalid(format!("Exception while binding column {}: {m}", s.name))
            })?;
        }
    }
    Ok(())
}

/// One of two iterators of the same item, chosen at run time without a box (a request's
/// read picks its partitions', ranges' and rows' iterators this way: boxing them cost an
/// allocation each per request).
#[derive(Debug)]
pub enum Either<L, R> {
    /// The first kind.
    Left(L),
    /// The second kind.
    Right(R),
}

impl<T, L: Iterator<Item = T>, R: Iterator<Item = T>> Iterator for Either<L, R> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        match self {
            Either::Left(l) => l.next(),
            Either::Right(r) => r.next(),
        }
    }
}
