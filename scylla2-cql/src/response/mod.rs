//! Response messages (v4 §4.2, v5 §4.2), decoded from a body [`Bytes`] (the bytes after the
//! 9-byte header, decompressed) without copying payloads: row contents, paging states, ids,
//! tokens and custom payload values are [`Bytes`] slices of the body. Strings of rare messages
//! (errors, events, schema changes) are owned so that they can outlive the frame.
//!
//! [`Response::decode`] first strips the optional prefixes that any response can carry
//! (v4 §2.2, v5 §2.4.2), in this order: tracing id (`[uuid]`, flag TRACING), warnings
//! (`[string list]`, flag WARNING), custom payload (`[bytes map]`, flag CUSTOM_PAYLOAD).

use bytes::Bytes;

use crate::frame::{HeaderFlags, Opcode, ProtocolVersion};
use crate::types::TypeParseError;
use crate::value::DeserializeError;
use crate::wire::{WireError, WireReader};

pub(crate) mod auth;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod result;
pub(crate) mod supported;
pub(crate) mod tablets;

pub use auth::{AuthChallenge, AuthSuccess, Authenticate};
pub use error::{DbError, ErrorResponse, FailureReasons, RateLimitOperation, WriteType};
pub use event::{Event, StatusChange, TopologyChange};
pub use result::{
    PagingState, Prepared, PreparedMetadata, RawRowIter, ResultMetadata, ResultResponse, RowCursor,
    Rows, SchemaChange, SchemaChangeTarget, SchemaChangeType, TableSpec, TypedRowIter,
};
pub use supported::Supported;
pub use tablets::{TABLETS_ROUTING_V1_KEY, TabletRouting};

/// An error decoding a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// Truncated or malformed primitives.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A malformed column type.
    #[error(transparent)]
    Type(#[from] TypeParseError),
    /// A row could not be decoded into the requested Rust type.
    #[error(transparent)]
    Deserialize(#[from] DeserializeError),
    /// A request opcode arrived where a response was expected.
    #[error("opcode {0:?} is not a response")]
    UnexpectedOpcode(Opcode),
    /// An unknown RESULT kind.
    #[error("unknown result kind {0:#06x}")]
    UnknownResultKind(i32),
    /// A field holds a value the spec does not allow (e.g. an unknown schema change target).
    #[error("invalid {field}: {value:?}")]
    InvalidField {
        /// Which field.
        field: &'static str,
        /// The value received.
        value: String,
    },
    /// A count that cannot be right for the bytes that follow (e.g. more rows than bytes).
    #[error("invalid {what} count {count} for {remaining} remaining bytes")]
    InvalidCount {
        /// What is counted.
        what: &'static str,
        /// The count received.
        count: i64,
        /// Bytes left after it.
        remaining: usize,
    },
    /// Rows were iterated with column specs of a different length than the result's.
    #[error("the result has {columns_count} columns but {specs} column specs were given")]
    ColumnSpecsMismatch {
        /// Columns in the result.
        columns_count: usize,
        /// Specs given.
        specs: usize,
    },
    /// A decoder was given a reader over other bytes than the body it slices values from
    /// (a bug of the caller, reported rather than panicking).
    #[error("the {what} decoded lie outside the response body they were read from")]
    SliceOutsideBody {
        /// What was decoded (e.g. "rows").
        what: &'static str,
    },
    /// Bytes left after a message that should have consumed them all.
    #[error("{count} trailing bytes after a {opcode:?} message")]
    TrailingBytes {
        /// The message.
        opcode: Opcode,
        /// Bytes left.
        count: usize,
    },
}

/// What decoding needs to know about the connection, learned from SUPPORTED
/// (see [`Supported::response_context`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseContext {
    /// The error code of Scylla's per-partition rate-limit error (`SCYLLA_RATE_LIMIT_ERROR`).
    pub rate_limit_error_code: Option<i32>,
    /// The bit of PREPARED metadata flags marking a conditional (LWT) statement
    /// (`SCYLLA_LWT_ADD_METADATA_MARK`).
    pub lwt_mask: Option<u32>,
    /// Whether PREPARED carries a result metadata id on v4 too (`SCYLLA_USE_METADATA_ID`).
    pub use_metadata_id: bool,
}

/// A `[bytes map]` custom payload, values sliced from the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomPayload {
    /// Entries in wire order; a value is `None` when sent as a null `[bytes]`.
    pub entries: Vec<(String, Option<Bytes>)>,
}

impl CustomPayload {
    /// The value of `key`, if present and not null.
    pub fn get(&self, key: &str) -> Option<&Bytes> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_ref())
    }
}

/// The prefixes a response body may carry before its message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseExtras {
    /// Tracing session id (flag TRACING).
    pub tracing_id: Option<uuid::Uuid>,
    /// Server warnings (flag WARNING); empty (and not allocated) when absent.
    pub warnings: Vec<String>,
    /// Custom payload (flag CUSTOM_PAYLOAD).
    pub custom_payload: Option<CustomPayload>,
}

/// A response message.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Response {
    /// ERROR.
    Error(ErrorResponse),
    /// READY.
    Ready,
    /// AUTHENTICATE.
    Authenticate(Authenticate),
    /// SUPPORTED.
    Supported(Supported),
    /// RESULT.
    Result(ResultResponse),
    /// EVENT.
    Event(Event),
    /// AUTH_CHALLENGE.
    AuthChallenge(AuthChallenge),
    /// AUTH_SUCCESS.
    AuthSuccess(AuthSuccess),
}

/// A decoded response with its prefixes.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedResponse {
    /// Tracing id, warnings, custom payload.
    pub extras: ResponseExtras,
    /// The message.
    pub response: Response,
}

impl Response {
    /// Decodes the body of a response envelope: `flags`, `opcode` and `version` come from its
    /// header, `body` is everything after the header (decompressed), `ctx` comes from the
    /// connection's SUPPORTED.
    pub fn decode(
        opcode: Opcode,
        flags: HeaderFlags,
        version: ProtocolVersion,
        body: Bytes,
        ctx: &ResponseContext,
    ) -> Result<DecodedResponse, ResponseError> {
        let mut r = WireReader::new(&body);
        let extras = decode_extras(flags, &body, &mut r)?;
        let start = body.len() - r.len();
        let message = body.slice(start..);
        let response = Self::decode_message(opcode, version, message, ctx)?;
        Ok(DecodedResponse { extras, response })
    }

    /// Decodes a message body whose prefixes were already stripped.
    pub fn decode_message(
        opcode: Opcode,
        version: ProtocolVersion,
        body: Bytes,
        ctx: &ResponseContext,
    ) -> Result<Self, ResponseError> {
        let mut r = WireReader::new(&body);
        let response = match opcode {
            Opcode::Error => Self::Error(ErrorResponse::decode(&mut r, &body, version, ctx)?),
            Opcode::Ready => Self::Ready,
            Opcode::Authenticate => Self::Authenticate(Authenticate::decode(&mut r)?),
            Opcode::Supported => Self::Supported(Supported::decode(&mut r)?),
            Opcode::Result => Self::Result(ResultResponse::decode(&mut r, &body, version, ctx)?),
            Opcode::Event => Self::Event(Event::decode(&mut r, &body)?),
            Opcode::AuthChallenge => Self::AuthChallenge(AuthChallenge::decode(&mut r, &body)?),
            Opcode::AuthSuccess => Self::AuthSuccess(AuthSuccess::decode(&mut r, &body)?),
            other => return Err(ResponseError::UnexpectedOpcode(other)),
        };
        // ERROR bodies may grow fields across server versions (spec: extra content at the end
        // is safe to ignore); every other message must be consumed exactly.
        if opcode != Opcode::Error && !r.is_empty() {
            return Err(ResponseError::TrailingBytes {
                opcode,
                count: r.len(),
            });
        }
        Ok(response)
    }
}

fn decode_extras(
    flags: HeaderFlags,
    body: &Bytes,
    r: &mut WireReader<'_>,
) -> Result<ResponseExtras, ResponseError> {
    let mut extras = ResponseExtras::default();
    if flags.contains(HeaderFlags::TRACING) {
        extras.tracing_id = Some(r.read_uuid()?);
    }
    if flags.contains(HeaderFlags::WARNING) {
        extras.warnings = r.read_string_list()?.map(str::to_owned).collect();
    }
    if flags.contains(HeaderFlags::CUSTOM_PAYLOAD) {
        let n = r.read_count_u16()?;
        // Each entry takes at least 6 bytes.
        let mut entries = Vec::with_capacity(n.min(r.len() / 6));
        for _ in 0..n {
            let key = r.read_string()?.to_owned();
            let value = r.read_bytes()?.map(|v| slice_of(body, v));
            entries.push((key, value));
        }
        extras.custom_payload = Some(CustomPayload { entries });
    }
    Ok(extras)
}

/// A `Bytes` slice of `body` for a sub-slice `s` of it, or empty for an empty `s` (which may
/// not point inside `body`).
pub(crate) fn slice_of(body: &Bytes, s: &[u8]) -> Bytes {
    if s.is_empty() {
        Bytes::new()
    } else {
        body.slice_ref(s)
    }
}
