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
}

fn numeric(t: &ColumnType) -> Option<Num> {
    Some(match t {
        ColumnType::TinyInt => Num::Int(1),
        ColumnType::SmallInt => Num::Int(2),
        ColumnType::Int => Num::Int(4),
        ColumnType::BigInt | ColumnType::Counter => Num::Int(8),
        ColumnType::Float => Num::Float(4),
        ColumnType::Double => Num::Float(8),
        _ => return None,
    })
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
