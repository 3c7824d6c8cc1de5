//! Aggregates of SELECT (`count(*)`, `count(col)`, `min`, `max`, `sum`, `avg`) and the
//! argument-less time functions usable as selectors (`now()`, `uuid()`, `currentTimestamp()`,
//! `toTimestamp(now())`, `currentDate()`...).

use bytes::Bytes;

use super::timeuuid_now;
use crate::engine::storage::now_micros;
use crate::engine::types::order::compare;
use crate::model::{ColumnType, SimError};

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    /// count(*).
    CountAll,
    /// count(col): non-null values.
    Count,
    /// min(col).
    Min,
    /// max(col).
    Max,
    /// sum(col).
    Sum,
    /// avg(col).
    Avg,
}

/// A planned aggregate: function and argument type.
#[derive(Debug, Clone)]
pub struct Agg {
    /// Function.
    pub kind: AggKind,
    /// Argument type (result type of min/max/sum/avg).
    pub typ: ColumnType,
}

impl Agg {
    /// Plans `name(arg)`; returns the aggregate and its result type.
    pub fn plan(name: &str, typ: &ColumnType) -> Result<Option<(Agg, ColumnType)>, SimError> {
        let kind = match name {
            "count" => AggKind::Count,
            "min" => AggKind::Min,
            "max" => AggKind::Max,
            "sum" => AggKind::Sum,
            "avg" => AggKind::Avg,
            _ => return Ok(None),
        };
        if matches!(kind, AggKind::Sum | AggKind::Avg) && numeric(typ).is_none() {
            return Err(SimError::Invalid(format!(
                "Invalid call to function {name}, none of its type signatures match"
            )));
        }
        let result = if kind == AggKind::Count {
            ColumnType::BigInt
        } else {
            typ.clone()
        };
        Ok(Some((
            Agg {
                kind,
                typ: typ.clone(),
            },
            result,
        )))
    }
}

#[derive(Clone, Copy)]
enum Num {
    Int(u8),
    Float(u8),
    /// varint (kept in 128 bits).
    Big,
    /// decimal: unscaled value and scale.
    Decimal,
}

fn numeric(t: &ColumnType) -> Option<Num> {
    Some(match t {
        ColumnType::TinyInt => Num::Int(1),
        ColumnType::SmallInt => Num::Int(2),
        ColumnType::Int => Num::Int(4),
        ColumnType::BigInt | ColumnType::Counter => Num::Int(8),
        ColumnType::Float => Num::Float(4),
        ColumnType::Double => Num::Float(8),
        ColumnType::Varint => Num::Big,
        ColumnType::Decimal => Num::Decimal,
        _ => return None,
    })
}

/// A two's complement big-endian integer of up to 16 bytes.
fn big_of(b: &[u8]) -> Option<i128> {
    if b.is_empty() || b.len() > 16 {
        return None;
    }
    let mut v: i128 = if b[0] & 0x80 != 0 { -1 } else { 0 };
    for x in b {
        v = (v << 8) | i128::from(*x);
    }
    Some(v)
}

/// The minimal two's complement bytes of `v` (varint).
fn big_bytes(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 15
        && ((bytes[start] == 0 && bytes[start + 1] & 0x80 == 0)
            || (bytes[start] == 0xff && bytes[start + 1] & 0x80 != 0))
    {
        start += 1;
    }
    bytes[start..].to_vec()
}

/// A decimal as (unscaled, scale).
fn decimal_of(b: &[u8]) -> Option<(i128, i32)> {
    let scale = i32::from_be_bytes(b.get(..4)?.try_into().ok()?);
    Some((big_of(&b[4..])?, scale))
}

fn decimal_bytes((unscaled, scale): (i128, i32)) -> Bytes {
    let mut out = scale.to_be_bytes().to_vec();
    out.extend_from_slice(&big_bytes(unscaled));
    Bytes::from(out)
}

/// `a` and `b` at the larger scale.
fn align(a: (i128, i32), b: (i128, i32)) -> Option<(i128, i128, i32)> {
    let scale = a.1.max(b.1);
    let up = |v: (i128, i32)| -> Option<i128> {
        let shift = u32::try_from(i64::from(scale) - i64::from(v.1)).ok()?;
        v.0.checked_mul(10i128.checked_pow(shift)?)
    };
    Some((up(a)?, up(b)?, scale))
}

/// `v / d` rounded half to even (Java's `RoundingMode.HALF_EVEN`).
fn div_half_even(v: i128, d: i128) -> i128 {
    let (q, r) = (v / d, v % d);
    let twice = (r.abs() * 2).cmp(&d.abs());
    let away = match twice {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => q % 2 != 0,
        std::cmp::Ordering::Less => false,
    };
    if !away {
        q
    } else if (v < 0) != (d < 0) {
        q - 1
    } else {
        q + 1
    }
}

fn int_of(b: &[u8]) -> i128 {
    match b.len() {
        1 => i128::from(b[0] as i8),
        2 => i128::from(i16::from_be_bytes([b[0], b[1]])),
        4 => i128::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        8 => i128::from(i64::from_be_bytes(b.try_into().unwrap_or_default())),
        _ => 0,
    }
}

fn float_of(b: &[u8]) -> f64 {
    match b.len() {
        4 => f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        8 => f64::from_be_bytes(b.try_into().unwrap_or_default()),
        _ => 0.0,
    }
}

/// The running state of one aggregate.
#[derive(Debug, Default, Clone)]
pub struct Acc {
    count: i64,
    best: Option<Bytes>,
    sum_int: i128,
    sum_float: f64,
    /// Decimal sum (or running average, as Cassandra computes `avg`).
    dec: (i128, i32),
    /// A varint or decimal too large for 128 bits was seen.
    overflow: bool,
}

impl Acc {
    /// Feeds one row's value of the argument column (`None` = null or count(*)).
    pub fn feed(&mut self, agg: &Agg, v: Option<&Bytes>) {
        if agg.kind == AggKind::CountAll {
            self.count += 1;
            return;
        }
        let Some(v) = v.filter(|v| !v.is_empty()) else {
            return;
        };
        self.count += 1;
        match agg.kind {
            AggKind::Min | AggKind::Max => {
                let better = self.best.as_ref().is_none_or(|b| {
                    let ord = compare(&agg.typ, v, b);
                    if agg.kind == AggKind::Min {
                        ord.is_lt()
                    } else {
                        ord.is_gt()
                    }
                });
                if better {
                    self.best = Some(v.clone());
                }
            }
            AggKind::Sum | AggKind::Avg => match numeric(&agg.typ) {
                Some(Num::Int(_)) => self.sum_int += int_of(v),
                Some(Num::Float(_)) => self.sum_float += float_of(v),
                Some(Num::Big) => match big_of(v).and_then(|x| self.sum_int.checked_add(x)) {
                    Some(s) => self.sum_int = s,
                    None => self.overflow = true,
                },
                Some(Num::Decimal) => {
                    let next = decimal_of(v).and_then(|x| {
                        if agg.kind == AggKind::Sum {
                            let (a, b, scale) = align(self.dec, x)?;
                            Some((a.checked_add(b)?, scale))
                        } else {
                            // Cassandra's avg: avg + (value - avg) / count, each division
                            // rounded half even at the difference's scale.
                            let (a, b, scale) = align(self.dec, x)?;
                            let step = div_half_even(b.checked_sub(a)?, i128::from(self.count));
                            let (a, s, scale) = align(self.dec, (step, scale))?;
                            Some((a.checked_add(s)?, scale))
                        }
                    });
                    match next {
                        Some(d) => self.dec = d,
                        None => self.overflow = true,
                    }
                }
                None => {}
            },
            _ => {}
        }
    }

    /// The aggregate's value.
    pub fn finish(&self, agg: &Agg) -> Option<Bytes> {
        match agg.kind {
            AggKind::CountAll | AggKind::Count => {
                Some(Bytes::copy_from_slice(&self.count.to_be_bytes()))
            }
            AggKind::Min | AggKind::Max => self.best.clone(),
            AggKind::Sum | AggKind::Avg => {
                let avg = agg.kind == AggKind::Avg;
                Some(match numeric(&agg.typ)? {
                    Num::Int(size) => {
                        let v = if avg && self.count > 0 {
                            self.sum_int / i128::from(self.count)
                        } else {
                            self.sum_int
                        };
                        let bytes = (v as i64).to_be_bytes();
                        Bytes::copy_from_slice(&bytes[8 - usize::from(size)..])
                    }
                    Num::Big => {
                        if self.overflow {
                            return None;
                        }
                        let v = if avg && self.count > 0 {
                            self.sum_int / i128::from(self.count)
                        } else {
                            self.sum_int
                        };
                        Bytes::from(big_bytes(v))
                    }
                    Num::Decimal => {
                        if self.overflow {
                            return None;
                        }
                        decimal_bytes(self.dec)
                    }
                    Num::Float(size) => {
                        let v = if avg && self.count > 0 {
                            self.sum_float / self.count as f64
                        } else {
                            self.sum_float
                        };
                        if size == 4 {
                            Bytes::copy_from_slice(&(v as f32).to_be_bytes())
                        } else {
                            Bytes::copy_from_slice(&v.to_be_bytes())
                        }
                    }
                })
            }
        }
    }
}

/// An argument-less function usable as a selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFn {
    /// now() / currentTimeUUID().
    Now,
    /// uuid().
    Uuid,
    /// currentTimestamp() / toTimestamp(now()).
    Timestamp,
    /// currentDate().
    Date,
}

impl TimeFn {
    /// Recognizes `name()` (or `totimestamp(now())`); returns the function and its type.
    pub fn plan(name: &str, nested_now: bool) -> Option<(TimeFn, ColumnType)> {
        Some(match (name, nested_now) {
            ("now" | "currenttimeuuid", false) => (TimeFn::Now, ColumnType::Timeuuid),
            ("uuid", false) => (TimeFn::Uuid, ColumnType::Uuid),
            ("currenttimestamp", false) | ("totimestamp", true) => {
                (TimeFn::Timestamp, ColumnType::Timestamp)
            }
            ("currentdate", false) | ("todate", true) => (TimeFn::Date, ColumnType::Date),
            _ => return None,
        })
    }

    /// Evaluates the function now.
    pub fn eval(self) -> Bytes {
        match self {
            TimeFn::Now => Bytes::copy_from_slice(timeuuid_now().as_bytes()),
            TimeFn::Uuid => Bytes::copy_from_slice(uuid::Uuid::new_v4().as_bytes()),
            TimeFn::Timestamp => Bytes::copy_from_slice(&(now_micros() / 1000).to_be_bytes()),
            TimeFn::Date => {
                let days = now_micros().div_euclid(86_400_000_000);
                Bytes::copy_from_slice(&((days + (1i64 << 31)) as u32).to_be_bytes())
            }
        }
    }
}
