//! Native scalar functions of Apache Cassandra 4.0 usable in selectors and in values:
//! arithmetic (`OperationFcts`: `+ - * / %`, negation), `CAST` (`CastFcts`), the
//! `blobAsX` / `XAsBlob` family (`BytesConversionFcts`), `toJson` / `fromJson`, and the time
//! conversions `toDate`, `toTimestamp`, `toUnixTimestamp` (`TimeFcts`).

use bytes::Bytes;

use super::json;
use crate::engine::types::names::type_name;
use crate::engine::types::read_signed_vint;
use crate::engine::types::validate::validate;
use crate::model::{ColumnType, SimError};

/// A scalar function with its argument types resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `l op r` computed in `result` (`OperationFcts.returnType`).
    Arith {
        /// `+ - * / %`.
        op: char,
        /// Left operand type.
        left: ColumnType,
        /// Right operand type.
        right: ColumnType,
        /// Result type.
        result: ColumnType,
    },
    /// `temporal + duration` / `temporal - duration` of a timestamp or date.
    Temporal {
        /// `+` or `-`.
        op: char,
        /// timestamp or date (also the result type).
        typ: ColumnType,
    },
    /// `-x`.
    Neg(ColumnType),
    /// `CAST(x AS to)`.
    Cast(ColumnType, ColumnType),
    /// `blobAs<type>(b)`: checks the bytes are a valid value of the type.
    BlobAs(ColumnType),
    /// `<type>AsBlob(x)`: the bytes as they are.
    AsBlob(ColumnType),
    /// `toJson(x)`.
    ToJson(ColumnType),
    /// `fromJson(text)` into a value of the type.
    FromJson(ColumnType),
    /// toDate / toTimestamp / toUnixTimestamp of a timeuuid, timestamp or date.
    Time(ColumnType, ColumnType),
}

/// A number decoded from its type.
#[derive(Debug, Clone, Copy)]
enum Num {
    I(i128),
    F(f64),
}

/// Byte size of an integer type, or None for the other types.
fn int_size(t: &ColumnType) -> Option<usize> {
    Some(match t {
        ColumnType::TinyInt => 1,
        ColumnType::SmallInt => 2,
        ColumnType::Int => 4,
        ColumnType::BigInt | ColumnType::Counter => 8,
        ColumnType::Varint => 16,
        _ => return None,
    })
}

/// The result type of `l op r` (`OperationFcts`): numbers, or a timestamp / date plus or
/// minus a duration; None when no such operation exists.
pub fn operation_type(op: char, l: &ColumnType, r: &ColumnType) -> Option<Scalar> {
    if is_numeric(l) && is_numeric(r) {
        return Some(Scalar::Arith {
            op,
            left: l.clone(),
            right: r.clone(),
            result: arith_type(l, r),
        });
    }
    let temporal = matches!(l, ColumnType::Timestamp | ColumnType::Date);
    (temporal && *r == ColumnType::Duration && matches!(op, '+' | '-'))
        .then(|| Scalar::Temporal { op, typ: l.clone() })
}

impl Scalar {
    /// The type of the function's result.
    pub fn result_type(&self) -> Option<ColumnType> {
        match self {
            Scalar::Arith { result, .. } => Some(result.clone()),
            Scalar::Temporal { typ, .. } => Some(typ.clone()),
            _ => None,
        }
    }
}

/// `ms` plus `months`, `days` and `nanos` as Cassandra's `Duration.addTo` computes it with a
/// UTC calendar (a day of month past the new month's end is clamped).
fn add_duration(ms: i64, months: i64, days: i64, nanos: i64) -> Option<i64> {
    let mut ms = ms;
    if months != 0 {
        let day = ms.div_euclid(86_400_000);
        let time = ms.rem_euclid(86_400_000);
        let (y, m, d) = crate::engine::types::literal::civil_from_days(day);
        let total = y.checked_mul(12)? + i64::from(m) - 1 + months;
        let (ny, nm) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        let last = days_in_month(ny, nm);
        let nd = d.min(last);
        ms = crate::engine::types::literal::days_from_civil(ny, nm, nd)
            .checked_mul(86_400_000)?
            .checked_add(time)?;
    }
    ms.checked_add(days.checked_mul(86_400_000)?)?
        .checked_add(nanos / 1_000_000)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Whether `t` is a number type.
pub fn is_numeric(t: &ColumnType) -> bool {
    int_size(t).is_some()
        || matches!(
            t,
            ColumnType::Float | ColumnType::Double | ColumnType::Decimal
        )
}

/// The result type of an arithmetic operation (`OperationFcts.returnType`): floating point if
/// either is, of the larger size (varint / decimal when unbounded).
pub fn arith_type(l: &ColumnType, r: &ColumnType) -> ColumnType {
    let size = |t: &ColumnType| match t {
        ColumnType::Float => 4,
        ColumnType::Double => 8,
        ColumnType::Decimal => usize::MAX,
        ColumnType::Varint => usize::MAX,
        t => int_size(t).unwrap_or(8),
    };
    let float = |t: &ColumnType| {
        matches!(
            t,
            ColumnType::Float | ColumnType::Double | ColumnType::Decimal
        )
    };
    let n = size(l).max(size(r));
    if float(l) || float(r) {
        match n {
            4 => ColumnType::Float,
            8 => ColumnType::Double,
            _ => ColumnType::Decimal,
        }
    } else {
        match n {
            1 => ColumnType::TinyInt,
            2 => ColumnType::SmallInt,
            4 => ColumnType::Int,
            8 => ColumnType::BigInt,
            _ => ColumnType::Varint,
        }
    }
}

fn decode(t: &ColumnType, b: &[u8]) -> Option<Num> {
    match t {
        ColumnType::Float => Some(Num::F(f64::from(f32::from_be_bytes(b.try_into().ok()?)))),
        ColumnType::Double => Some(Num::F(f64::from_be_bytes(b.try_into().ok()?))),
        _ if int_size(t).is_some() => {
            if b.is_empty() || b.len() > 16 {
                return None;
            }
            let mut v: i128 = if b[0] & 0x80 != 0 { -1 } else { 0 };
            for x in b {
                v = (v << 8) | i128::from(*x);
            }
            Some(Num::I(v))
        }
        _ => None,
    }
}

/// Encodes `v` as `t`, with Java's narrowing (integers wrap, floating point saturates to int).
fn encode(t: &ColumnType, v: Num) -> Option<Bytes> {
    let i = |v: Num| match v {
        Num::I(i) => i,
        Num::F(f) => f as i128,
    };
    Some(match t {
        ColumnType::TinyInt => Bytes::copy_from_slice(&(i(v) as i8).to_be_bytes()),
        ColumnType::SmallInt => Bytes::copy_from_slice(&(i(v) as i16).to_be_bytes()),
        ColumnType::Int => Bytes::copy_from_slice(
            &(match v {
                Num::F(f) => f as i32,
                Num::I(x) => x as i32,
            })
            .to_be_bytes(),
        ),
        ColumnType::BigInt | ColumnType::Counter => Bytes::copy_from_slice(
            &(match v {
                Num::F(f) => f as i64,
                Num::I(x) => x as i64,
            })
            .to_be_bytes(),
        ),
        ColumnType::Varint => {
            let x = i(v);
            let bytes = x.to_be_bytes();
            // Minimal two's complement.
            let mut start = 0;
            while start < 15
                && ((bytes[start] == 0 && bytes[start + 1] & 0x80 == 0)
                    || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0))
            {
                start += 1;
            }
            Bytes::copy_from_slice(&bytes[start..])
        }
        ColumnType::Float => Bytes::copy_from_slice(
            &(match v {
                Num::F(f) => f as f32,
                Num::I(x) => x as f32,
            })
            .to_be_bytes(),
        ),
        ColumnType::Double => Bytes::copy_from_slice(
            &(match v {
                Num::F(f) => f,
                Num::I(x) => x as f64,
            })
            .to_be_bytes(),
        ),
        _ => return None,
    })
}

fn unsupported(what: &str) -> SimError {
    SimError::Invalid(format!("{what} is not supported by the simulator"))
}

/// Whether CAST from `from` to `to` exists (`CastFcts.addFunctionsTo`).
pub fn cast_allowed(from: &ColumnType, to: &ColumnType) -> bool {
    let text = matches!(to, ColumnType::Text | ColumnType::Ascii);
    match from {
        f if is_numeric(f) => is_numeric(to) && *to != ColumnType::Counter || text,
        ColumnType::Ascii => *to == ColumnType::Text,
        ColumnType::Inet | ColumnType::Boolean | ColumnType::Time | ColumnType::Uuid => text,
        ColumnType::Timeuuid => text || matches!(to, ColumnType::Date | ColumnType::Timestamp),
        ColumnType::Timestamp => text || *to == ColumnType::Date,
        ColumnType::Date => text || *to == ColumnType::Timestamp,
        _ => false,
    }
}

/// Milliseconds since the epoch of a timeuuid, timestamp or date value.
fn epoch_ms(t: &ColumnType, b: &[u8]) -> Option<i64> {
    match t {
        ColumnType::Timestamp => Some(i64::from_be_bytes(b.try_into().ok()?)),
        ColumnType::Date => {
            let d = u32::from_be_bytes(b.try_into().ok()?);
            Some((i64::from(d) - (1i64 << 31)) * 86_400_000)
        }
        ColumnType::Timeuuid => {
            let u = uuid::Uuid::from_slice(b).ok()?;
            let (secs, nanos) = u.get_timestamp()?.to_unix();
            Some(secs as i64 * 1000 + i64::from(nanos / 1_000_000))
        }
        _ => None,
    }
}

fn time_to(to: &ColumnType, ms: i64) -> Option<Bytes> {
    Some(match to {
        ColumnType::Timestamp | ColumnType::BigInt => Bytes::copy_from_slice(&ms.to_be_bytes()),
        ColumnType::Date => {
            let days = ms.div_euclid(86_400_000);
            Bytes::copy_from_slice(&((days + (1i64 << 31)) as u32).to_be_bytes())
        }
        _ => return None,
    })
}

impl Scalar {
    /// The function's name as errors show it (`system.<name>`).
    pub fn name(&self) -> String {
        match self {
            Scalar::Arith { op, .. } => format!(
                "_{}",
                match op {
                    '+' => "add",
                    '-' => "substract",
                    '*' => "multiply",
                    '/' => "divide",
                    _ => "modulo",
                }
            ),
            Scalar::Temporal { op, .. } => {
                if *op == '+' {
                    "_add".into()
                } else {
                    "_substract".into()
                }
            }
            Scalar::Neg(_) => "_negate".into(),
            Scalar::Cast(_, to) => format!("castas{}", type_name(to)),
            Scalar::BlobAs(t) => format!("blobas{}", type_name(t)),
            Scalar::AsBlob(t) => format!("{}asblob", type_name(t)),
            Scalar::ToJson(_) => "tojson".into(),
            Scalar::FromJson(_) => "fromjson".into(),
            Scalar::Time(_, to) => match to {
                ColumnType::Date => "todate".into(),
                ColumnType::BigInt => "tounixtimestamp".into(),
                _ => "totimestamp".into(),
            },
        }
    }

    /// Applies the function to its arguments' values (None = null).
    pub fn apply(&self, args: &[Option<Bytes>]) -> Result<Option<Bytes>, SimError> {
        let arg = args.first().cloned().flatten();
        match self {
            Scalar::Arith {
                op,
                left,
                right,
                result,
            } => {
                let (Some(a), Some(b)) = (arg, args.get(1).cloned().flatten()) else {
                    return Ok(None);
                };
                if a.is_empty() || b.is_empty() {
                    return Ok(None);
                }
                if matches!(result, ColumnType::Decimal) {
                    return Err(unsupported("decimal arithmetic"));
                }
                let (Some(x), Some(y)) = (decode(left, &a), decode(right, &b)) else {
                    return Err(unsupported("arithmetic on values this large"));
                };
                let failure = || SimError::FunctionFailure {
                    keyspace: "system".into(),
                    function: self.name(),
                    arg_types: vec![type_name(left), type_name(right)],
                };
                let v = if matches!(result, ColumnType::Float | ColumnType::Double) {
                    let f = |n: Num| match n {
                        Num::I(i) => i as f64,
                        Num::F(f) => f,
                    };
                    let (x, y) = (f(x), f(y));
                    Num::F(match op {
                        '+' => x + y,
                        '-' => x - y,
                        '*' => x * y,
                        '/' => x / y,
                        _ => x % y,
                    })
                } else {
                    let (Num::I(x), Num::I(y)) = (x, y) else {
                        return Err(failure());
                    };
                    if matches!(op, '/' | '%') && y == 0 {
                        // Java integer division by zero: ArithmeticException.
                        return Err(failure());
                    }
                    let r = match op {
                        '+' => x.checked_add(y),
                        '-' => x.checked_sub(y),
                        '*' => x.checked_mul(y),
                        '/' => x.checked_div(y),
                        _ => x.checked_rem(y),
                    };
                    Num::I(r.ok_or_else(failure)?)
                };
                encode(result, v)
                    .map(Some)
                    .ok_or_else(|| unsupported("this arithmetic"))
            }
            Scalar::Temporal { op, typ } => {
                let (Some(a), Some(b)) = (arg, args.get(1).cloned().flatten()) else {
                    return Ok(None);
                };
                if a.is_empty() || b.is_empty() {
                    return Ok(None);
                }
                let bad = || SimError::Invalid("Invalid temporal or duration value".into());
                let (months, rest) = read_signed_vint(&b).ok_or_else(bad)?;
                let (days, rest) = read_signed_vint(rest).ok_or_else(bad)?;
                let (nanos, _) = read_signed_vint(rest).ok_or_else(bad)?;
                if *typ == ColumnType::Date && nanos != 0 {
                    return Err(SimError::Invalid(format!(
                        "The duration must have a day precision. Was: {}",
                        json::cql_text(&ColumnType::Duration, &b).unwrap_or_default()
                    )));
                }
                let sign = if *op == '+' { 1 } else { -1 };
                let ms = epoch_ms(typ, &a).ok_or_else(bad)?;
                let out = add_duration(ms, sign * months, sign * days, sign * nanos)
                    .ok_or_else(|| SimError::Invalid("Temporal value out of range".into()))?;
                Ok(time_to(typ, out))
            }
            Scalar::Neg(t) => {
                let Some(a) = arg.filter(|a| !a.is_empty()) else {
                    return Ok(None);
                };
                let v = match decode(t, &a) {
                    Some(Num::I(i)) => Num::I(-i),
                    Some(Num::F(f)) => Num::F(-f),
                    None => return Err(unsupported("negation of this value")),
                };
                encode(t, v)
                    .map(Some)
                    .ok_or_else(|| unsupported("negation of this type"))
            }
            Scalar::Cast(from, to) => {
                let Some(a) = arg.filter(|a| !a.is_empty()) else {
                    return Ok(None);
                };
                if matches!(to, ColumnType::Text | ColumnType::Ascii) {
                    return Ok(json::cql_text(from, &a).map(Bytes::from));
                }
                if let Some(ms) = epoch_ms(from, &a) {
                    return Ok(time_to(to, ms));
                }
                if matches!(to, ColumnType::Decimal) || matches!(from, ColumnType::Decimal) {
                    return Err(unsupported("CAST from or to decimal"));
                }
                let v = decode(from, &a).ok_or_else(|| unsupported("CAST of this value"))?;
                Ok(encode(to, v))
            }
            Scalar::BlobAs(t) => {
                if let Some(a) = &arg
                    && validate(t, a).is_err()
                {
                    let hex: String = a.iter().map(|x| format!("{x:02x}")).collect();
                    return Err(SimError::Invalid(format!(
                        "In call to function system.{}, value 0x{hex} is not a valid binary representation for type {}",
                        self.name(),
                        type_name(t)
                    )));
                }
                Ok(arg)
            }
            Scalar::AsBlob(_) => Ok(arg),
            Scalar::ToJson(t) => Ok(Some(Bytes::from(match &arg {
                Some(a) => json::to_json(t, a),
                None => "null".to_string(),
            }))),
            Scalar::FromJson(t) => {
                let Some(a) = arg else { return Ok(None) };
                let text = String::from_utf8_lossy(&a);
                let doc = json::parse(&text).map_err(|e| {
                    SimError::Invalid(format!("Could not decode JSON string '{text}': {e}"))
                })?;
                json::from_json(t, &doc).map_err(SimError::Invalid)
            }
            Scalar::Time(from, to) => {
                let Some(a) = arg.filter(|a| !a.is_empty()) else {
                    return Ok(None);
                };
                Ok(epoch_ms(from, &a).and_then(|ms| time_to(to, ms)))
            }
        }
    }
}

/// Resolves a one-argument native function by name for an argument of type `arg` (None: not
/// known yet); returns the function and its result type, or None if `name` is no such
/// function. `<type>AsBlob` and `blobAs<type>` need their own argument type.
pub fn resolve(name: &str, arg: Option<&ColumnType>) -> Option<(Scalar, ColumnType, ColumnType)> {
    if let Some(t) = name.strip_prefix("blobas").and_then(native_type) {
        return Some((Scalar::BlobAs(t.clone()), ColumnType::Blob, t));
    }
    if let Some(t) = name.strip_suffix("asblob").and_then(native_type) {
        return Some((Scalar::AsBlob(t.clone()), t, ColumnType::Blob));
    }
    let arg = arg?;
    let time = matches!(
        arg,
        ColumnType::Timeuuid | ColumnType::Timestamp | ColumnType::Date
    );
    match name {
        "tojson" => Some((Scalar::ToJson(arg.clone()), arg.clone(), ColumnType::Text)),
        "totimestamp" | "dateof" if time => Some((
            Scalar::Time(arg.clone(), ColumnType::Timestamp),
            arg.clone(),
            ColumnType::Timestamp,
        )),
        "todate" if time => Some((
            Scalar::Time(arg.clone(), ColumnType::Date),
            arg.clone(),
            ColumnType::Date,
        )),
        "tounixtimestamp" | "unixtimestampof" if time => Some((
            Scalar::Time(arg.clone(), ColumnType::BigInt),
            arg.clone(),
            ColumnType::BigInt,
        )),
        _ => None,
    }
}

pub(crate) use crate::engine::schema::native_type;
