//! ERROR (v4 §4.2.1 / §9, v5 §4.2.1 / §8): an `[int]` code, a `[string]` message, then fields
//! that depend on the code. Also Scylla's per-partition rate-limit error, whose code is learned
//! from SUPPORTED (`SCYLLA_RATE_LIMIT_ERROR`). Unknown codes are kept, not rejected.

use std::net::IpAddr;

use bytes::Bytes;

use super::{ResponseContext, ResponseError, slice_of};
use crate::consistency::Consistency;
use crate::frame::ProtocolVersion;
use crate::wire::WireReader;

/// An ERROR response: what failed and the server's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {message}")]
pub struct ErrorResponse {
    /// The typed error, with its code's fields.
    pub error: DbError,
    /// The server's message.
    pub message: String,
}

/// Why replicas failed a read or write (the body changed between v4 and v5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReasons {
    /// v4: how many replicas failed.
    Count(i32),
    /// v5: each failed replica's address and failure code.
    ReasonMap(Vec<(IpAddr, u16)>),
}

impl FailureReasons {
    /// Number of replicas that failed.
    pub fn num_failures(&self) -> usize {
        match self {
            Self::Count(n) => (*n).max(0) as usize,
            Self::ReasonMap(m) => m.len(),
        }
    }
}

/// The kind of write that timed out or failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WriteType {
    /// A non-batched, non-counter write.
    Simple,
    /// A logged batch (the batch log was written).
    Batch,
    /// An unlogged batch.
    UnloggedBatch,
    /// A counter write.
    Counter,
    /// The write to the batch log.
    BatchLog,
    /// A compare-and-set (LWT) write.
    Cas,
    /// A materialized view update.
    View,
    /// A CDC write over its space limit.
    Cdc,
    /// A write type this crate does not know.
    Other(String),
}

impl WriteType {
    /// Parses the `[string]` write type.
    pub fn parse(s: &str) -> Self {
        match s {
            "SIMPLE" => Self::Simple,
            "BATCH" => Self::Batch,
            "UNLOGGED_BATCH" => Self::UnloggedBatch,
            "COUNTER" => Self::Counter,
            "BATCH_LOG" => Self::BatchLog,
            "CAS" => Self::Cas,
            "VIEW" => Self::View,
            "CDC" => Self::Cdc,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// The operation a Scylla rate-limit error rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateLimitOperation {
    /// A read (0).
    Read,
    /// A write (1).
    Write,
    /// A value this crate does not know.
    Other(u8),
}

/// The error of an ERROR response, by code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// 0x0000: a server-side bug.
    #[error("server error")]
    ServerError,
    /// 0x000A: the client violated the protocol.
    #[error("protocol error")]
    ProtocolError,
    /// 0x0100: authentication failed (bad credentials).
    #[error("authentication error")]
    AuthenticationError,
    /// 0x1000: not enough replicas alive for the consistency level.
    #[error("unavailable: {consistency} needs {required} replicas, {alive} alive")]
    Unavailable {
        /// Requested consistency.
        consistency: Consistency,
        /// Replicas required.
        required: i32,
        /// Replicas alive.
        alive: i32,
    },
    /// 0x1001: the coordinator is overloaded.
    #[error("overloaded")]
    Overloaded,
    /// 0x1002: the coordinator is bootstrapping.
    #[error("bootstrapping")]
    IsBootstrapping,
    /// 0x1003: a truncation failed.
    #[error("truncate error")]
    TruncateError,
    /// 0x1100: a write timed out.
    #[error("write timeout: {consistency}, {received}/{block_for} acknowledged, {write_type:?}")]
    WriteTimeout {
        /// Requested consistency.
        consistency: Consistency,
        /// Replicas that acknowledged.
        received: i32,
        /// Replicas needed.
        block_for: i32,
        /// Kind of write.
        write_type: WriteType,
        /// CAS contentions (v5, for [`WriteType::Cas`]).
        contentions: Option<u16>,
    },
    /// 0x1200: a read timed out.
    #[error(
        "read timeout: {consistency}, {received}/{block_for} answered, data present: {data_present}"
    )]
    ReadTimeout {
        /// Requested consistency.
        consistency: Consistency,
        /// Replicas that answered.
        received: i32,
        /// Replicas needed.
        block_for: i32,
        /// Whether the replica asked for data answered.
        data_present: bool,
    },
    /// 0x1300: replicas failed a read.
    #[error("read failure: {consistency}, {received}/{block_for} answered, {} failed", reasons.num_failures())]
    ReadFailure {
        /// Requested consistency.
        consistency: Consistency,
        /// Replicas that answered.
        received: i32,
        /// Replicas needed.
        block_for: i32,
        /// Failures (count in v4, reason map in v5).
        reasons: FailureReasons,
        /// Whether the replica asked for data answered.
        data_present: bool,
    },
    /// 0x1400: a user-defined function failed.
    #[error("function failure: {keyspace}.{function}({})", arg_types.join(", "))]
    FunctionFailure {
        /// Keyspace of the function.
        keyspace: String,
        /// Function name.
        function: String,
        /// Argument types as CQL type names.
        arg_types: Vec<String>,
    },
    /// 0x1500: replicas failed a write.
    #[error("write failure: {consistency}, {received}/{block_for} acknowledged, {} failed, {write_type:?}", reasons.num_failures())]
    WriteFailure {
        /// Requested consistency.
        consistency: Consistency,
        /// Replicas that acknowledged.
        received: i32,
        /// Replicas needed.
        block_for: i32,
        /// Failures (count in v4, reason map in v5).
        reasons: FailureReasons,
        /// Kind of write.
        write_type: WriteType,
    },
    /// 0x1600: a CDC write failed.
    #[error("CDC write failure")]
    CdcWriteFailure,
    /// 0x1700: a contended CAS write may or may not have been applied.
    #[error("CAS write unknown: {consistency}, {received}/{block_for} acknowledged")]
    CasWriteUnknown {
        /// Requested consistency.
        consistency: Consistency,
        /// Replicas that acknowledged.
        received: i32,
        /// Replicas needed.
        block_for: i32,
    },
    /// 0x2000: the query has a syntax error.
    #[error("syntax error")]
    SyntaxError,
    /// 0x2100: the user may not run the query.
    #[error("unauthorized")]
    Unauthorized,
    /// 0x2200: the query is invalid.
    #[error("invalid query")]
    Invalid,
    /// 0x2300: a configuration issue.
    #[error("configuration error")]
    ConfigError,
    /// 0x2400: the keyspace or table already exists (`table` empty for a keyspace).
    #[error("already exists: {keyspace}.{table}")]
    AlreadyExists {
        /// Keyspace.
        keyspace: String,
        /// Table, empty when the keyspace exists.
        table: String,
    },
    /// 0x2500: the prepared id is unknown to this node.
    #[error("unprepared statement")]
    Unprepared {
        /// The unknown id.
        id: Bytes,
    },
    /// Scylla's per-partition rate limit was exceeded (code from SUPPORTED). Not retryable.
    #[error("rate limit reached ({op:?}, rejected by coordinator: {rejected_by_coordinator})")]
    RateLimitReached {
        /// The code this server uses for the error.
        code: i32,
        /// The rejected operation.
        op: RateLimitOperation,
        /// Whether the coordinator itself rejected it.
        rejected_by_coordinator: bool,
    },
    /// A code this crate does not know.
    #[error("unknown error code {code:#06x}")]
    Other {
        /// The code.
        code: i32,
    },
}

impl DbError {
    /// The error code on the wire.
    pub fn code(&self) -> i32 {
        match self {
            Self::ServerError => 0x0000,
            Self::ProtocolError => 0x000A,
            Self::AuthenticationError => 0x0100,
            Self::Unavailable { .. } => 0x1000,
            Self::Overloaded => 0x1001,
            Self::IsBootstrapping => 0x1002,
            Self::TruncateError => 0x1003,
            Self::WriteTimeout { .. } => 0x1100,
            Self::ReadTimeout { .. } => 0x1200,
            Self::ReadFailure { .. } => 0x1300,
            Self::FunctionFailure { .. } => 0x1400,
            Self::WriteFailure { .. } => 0x1500,
            Self::CdcWriteFailure => 0x1600,
            Self::CasWriteUnknown { .. } => 0x1700,
            Self::SyntaxError => 0x2000,
            Self::Unauthorized => 0x2100,
            Self::Invalid => 0x2200,
            Self::ConfigError => 0x2300,
            Self::AlreadyExists { .. } => 0x2400,
            Self::Unprepared { .. } => 0x2500,
            Self::RateLimitReached { code, .. } | Self::Other { code } => *code,
        }
    }
}

fn consistency(r: &mut WireReader<'_>) -> Result<Consistency, ResponseError> {
    Ok(Consistency::from_code(r.read_u16()?)?)
}

fn reasons(
    r: &mut WireReader<'_>,
    version: ProtocolVersion,
) -> Result<FailureReasons, ResponseError> {
    if version < ProtocolVersion::V5 {
        return Ok(FailureReasons::Count(r.read_i32()?));
    }
    let n = r.read_len_i32()?;
    // Each entry takes at least 7 bytes (1 + 4 + 2).
    let mut map = Vec::with_capacity(n.min(r.len() / 7));
    for _ in 0..n {
        let addr = r.read_inetaddr()?;
        let code = r.read_u16()?;
        map.push((addr, code));
    }
    Ok(FailureReasons::ReasonMap(map))
}

impl ErrorResponse {
    /// Decodes an ERROR body from `r`, a reader over `body`.
    pub fn decode(
        r: &mut WireReader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
        ctx: &ResponseContext,
    ) -> Result<Self, ResponseError> {
        let code = r.read_i32()?;
        let message = r.read_string()?.to_owned();
        let error = if ctx.rate_limit_error_code == Some(code) {
            let op = match r.read_u8()? {
                0 => RateLimitOperation::Read,
                1 => RateLimitOperation::Write,
                other => RateLimitOperation::Other(other),
            };
            let rejected_by_coordinator = r.read_u8()? != 0;
            DbError::RateLimitReached {
                code,
                op,
                rejected_by_coordinator,
            }
        } else {
            Self::decode_fields(code, r, body, version)?
        };
        Ok(Self { error, message })
    }

    fn decode_fields(
        code: i32,
        r: &mut WireReader<'_>,
        body: &Bytes,
        version: ProtocolVersion,
    ) -> Result<DbError, ResponseError> {
        Ok(match code {
            0x0000 => DbError::ServerError,
            0x000A => DbError::ProtocolError,
            0x0100 => DbError::AuthenticationError,
            0x1000 => DbError::Unavailable {
                consistency: consistency(r)?,
                required: r.read_i32()?,
                alive: r.read_i32()?,
            },
            0x1001 => DbError::Overloaded,
            0x1002 => DbError::IsBootstrapping,
            0x1003 => DbError::TruncateError,
            0x1100 => {
                let consistency = consistency(r)?;
                let received = r.read_i32()?;
                let block_for = r.read_i32()?;
                let write_type = WriteType::parse(r.read_string()?);
                let contentions = if write_type == WriteType::Cas && r.len() >= 2 {
                    Some(r.read_u16()?)
                } else {
                    None
                };
                DbError::WriteTimeout {
                    consistency,
                    received,
                    block_for,
                    write_type,
                    contentions,
                }
            }
            0x1200 => DbError::ReadTimeout {
                consistency: consistency(r)?,
                received: r.read_i32()?,
                block_for: r.read_i32()?,
                data_present: r.read_u8()? != 0,
            },
            0x1300 => DbError::ReadFailure {
                consistency: consistency(r)?,
                received: r.read_i32()?,
                block_for: r.read_i32()?,
                reasons: reasons(r, version)?,
                data_present: r.read_u8()? != 0,
            },
            0x1400 => DbError::FunctionFailure {
                keyspace: r.read_string()?.to_owned(),
                function: r.read_string()?.to_owned(),
                arg_types: r.read_string_list()?.map(str::to_owned).collect(),
            },
            0x1500 => DbError::WriteFailure {
                consistency: consistency(r)?,
                received: r.read_i32()?,
                block_for: r.read_i32()?,
                reasons: reasons(r, version)?,
                write_type: WriteType::parse(r.read_string()?),
            },
            0x1600 => DbError::CdcWriteFailure,
            0x1700 => DbError::CasWriteUnknown {
                consistency: consistency(r)?,
                received: r.read_i32()?,
                block_for: r.read_i32()?,
            },
            0x2000 => DbError::SyntaxError,
            0x2100 => DbError::Unauthorized,
            0x2200 => DbError::Invalid,
            0x2300 => DbError::ConfigError,
            0x2400 => DbError::AlreadyExists {
                keyspace: r.read_string()?.to_owned(),
                table: r.read_string()?.to_owned(),
            },
            0x2500 => DbError::Unprepared {
                id: slice_of(body, r.read_short_bytes()?),
            },
            code => DbError::Other { code },
        })
    }
}
