//! BATCH (v4/v5 §4.1.7): `<type><n><query_1>...<query_n><consistency><flags>` then the
//! optional serial consistency, default timestamp and, in v5, keyspace and now-in-seconds.
//! Flags are a `[byte]` in v4 and an `[int]` in v5.
//!
//! Values are always sent by position: the spec's names-for-values flag (0x40) "does not work
//! and should not be used" (CASSANDRA-10246), so named values are rejected.

use bytes::BufMut;

use super::params::{TrailingOptions, flags_size, put_flags, trailing_options, values_are_named};
use super::{
    Request, RequestError, check_short_count, checked_long_string_size, checked_short_bytes_size,
};
use crate::consistency::{Consistency, SerialConsistency};
use crate::frame::{Opcode, ProtocolVersion};
use crate::value::SerializeRow;
use crate::wire::{put_long_string, put_short_bytes};

/// The kind of batch (`<type>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
#[non_exhaustive]
pub enum BatchType {
    /// A logged (atomic) batch.
    #[default]
    Logged = 0,
    /// An unlogged batch.
    Unlogged = 1,
    /// A counter batch.
    Counter = 2,
}

/// What one statement of a batch runs.
#[derive(Debug, Clone, Copy)]
pub enum BatchStatementKind<'a> {
    /// An unprepared query string (kind 0).
    Query(&'a str),
    /// A prepared statement id (kind 1).
    Prepared(&'a [u8]),
}

/// One statement of a batch with its values.
#[derive(Debug, Clone, Copy)]
pub struct BatchStatement<'a, V: ?Sized> {
    /// Query string or prepared id.
    pub kind: BatchStatementKind<'a>,
    /// Bound values, by position.
    pub values: &'a V,
}

/// BATCH. `V` defaults to `dyn SerializeRow` so that statements of different value types mix.
#[derive(Debug, Clone, Copy)]
pub struct Batch<'a, V: ?Sized = dyn SerializeRow + 'a> {
    /// Logged, unlogged or counter.
    pub batch_type: BatchType,
    /// The statements, in order.
    pub statements: &'a [BatchStatement<'a, V>],
    /// Consistency level.
    pub consistency: Consistency,
    /// Serial consistency of conditional statements.
    pub serial_consistency: Option<SerialConsistency>,
    /// Default timestamp in microseconds.
    pub timestamp: Option<i64>,
    /// Keyspace to run in (v5 only).
    pub keyspace: Option<&'a str>,
    /// The server's "now" in seconds (v5 only).
    pub now_in_seconds: Option<i32>,
}

impl<'a, V: SerializeRow + ?Sized> Batch<'a, V> {
    /// A batch of `statements` with every option unset.
    pub fn new(
        batch_type: BatchType,
        statements: &'a [BatchStatement<'a, V>],
        consistency: Consistency,
    ) -> Self {
        Self {
            batch_type,
            statements,
            consistency,
            serial_consistency: None,
            timestamp: None,
            keyspace: None,
            now_in_seconds: None,
        }
    }

    fn trailing(&self) -> TrailingOptions<'a> {
        trailing_options!(self)
    }

    fn flags(&self, version: ProtocolVersion) -> Result<u32, RequestError> {
        self.trailing().flags(version, "keyspace in BATCH")
    }
}

impl<V: SerializeRow + ?Sized> Request for Batch<'_, V> {
    fn opcode(&self) -> Opcode {
        Opcode::Batch
    }

    fn body_size(&self, version: ProtocolVersion) -> Result<usize, RequestError> {
        check_short_count("batch statements", self.statements.len())?;
        self.flags(version)?;
        let mut size = 1 + 2;
        for statement in self.statements {
            size += 1;
            size += match statement.kind {
                BatchStatementKind::Query(q) => checked_long_string_size("query", q)?,
                BatchStatementKind::Prepared(id) => checked_short_bytes_size("prepared id", id)?,
            };
            if values_are_named(statement.values)? {
                return Err(RequestError::Unsupported {
                    what: "named values in BATCH",
                    version,
                });
            }
            size += 2 + statement.values.values_size();
        }
        size += 2 + flags_size(version) + self.trailing().size()?;
        Ok(size)
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut &mut [u8]) {
        buf.put_u8(self.batch_type as u8);
        buf.put_u16(self.statements.len() as u16);
        for statement in self.statements {
            match statement.kind {
                BatchStatementKind::Query(q) => {
                    buf.put_u8(0);
                    put_long_string(buf, q);
                }
                BatchStatementKind::Prepared(id) => {
                    buf.put_u8(1);
                    put_short_bytes(buf, id);
                }
            }
            buf.put_u16(statement.values.value_count() as u16);
            statement.values.write_values(buf);
        }
        buf.put_u16(self.consistency.code());
        put_flags(version, self.flags(version).unwrap_or(0), buf);
        self.trailing().write(buf);
    }
}
