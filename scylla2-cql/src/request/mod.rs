//! Request messages (v4 §4.1, v5 §4.1). Each request states its exact body size for a protocol
//! version and writes itself into a caller-provided slice of that size (a write-queue slot in
//! the driver), so nothing is serialized twice or into a temporary buffer.
//!
//! Requests borrow everything they send; sizing validates every length and count (typed
//! [`RequestError`]) and neither sizing nor writing allocates. Bound values are written as
//! given: checking them against a prepared statement's bind markers
//! ([`crate::value::SerializeRow::check_types`]) is the caller's step, done once per execution.
//! Tracing is only a header flag; a custom payload is a body prefix written by
//! [`WithCustomPayload`]; [`request_flags`] gives the matching header flags.

use bytes::BufMut;

use crate::frame::header::{EnvelopeHeader, HEADER_SIZE, HeaderFlags, Opcode, ProtocolVersion};
use crate::value::SerializeError;

pub(crate) mod auth_response;
pub(crate) mod batch;
pub(crate) mod execute;
pub(crate) mod options;
pub(crate) mod params;
pub(crate) mod prepare;
pub(crate) mod query;
pub(crate) mod register;
pub(crate) mod startup;

pub use auth_response::AuthResponse;
pub use batch::{Batch, BatchStatement, BatchStatementKind, BatchType};
pub use execute::Execute;
pub use options::Options;
pub use params::QueryParameters;
pub use prepare::Prepare;
pub use query::Query;
pub use register::Register;
pub use startup::Startup;

/// An error found while sizing a request, before anything is written or sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A `[string]` longer than 65 535 bytes, or a `[long string]`/`[bytes]` over `i32::MAX`.
    #[error("{what} too long: {len} bytes (at most {max})")]
    TooLong {
        /// Which field.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// More elements than a `[short]` count can say (values, batch statements, map entries).
    #[error("too many {what}: {count} (at most {max})")]
    TooMany {
        /// Which elements.
        what: &'static str,
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A field that this protocol version cannot carry.
    #[error("{what} is not supported by protocol {version:?}")]
    Unsupported {
        /// Which field.
        what: &'static str,
        /// The version.
        version: ProtocolVersion,
    },
    /// A field that this protocol version requires was not given.
    #[error("{what} is required by protocol {version:?}")]
    Missing {
        /// Which field.
        what: &'static str,
        /// The version.
        version: ProtocolVersion,
    },
    /// Some values were given names and others not (all or none must be named).
    #[error("value {index} has no name while others do")]
    MixedNamedValues {
        /// Index of the first value without a name.
        index: usize,
    },
    /// A bound value does not fit.
    #[error(transparent)]
    Serialize(#[from] SerializeError),
}

/// Size of a `[string]` after checking its length fits a `[short]`.
pub(crate) fn checked_string_size(what: &'static str, s: &str) -> Result<usize, RequestError> {
    check_max(what, s.len(), u16::MAX as usize)?;
    Ok(2 + s.len())
}

/// Size of a `[long string]` after checking its length fits an `[int]`.
pub(crate) fn checked_long_string_size(what: &'static str, s: &str) -> Result<usize, RequestError> {
    check_max(what, s.len(), i32::MAX as usize)?;
    Ok(4 + s.len())
}

/// Size of a `[short bytes]` after checking its length fits a `[short]`.
pub(crate) fn checked_short_bytes_size(
    what: &'static str,
    b: &[u8],
) -> Result<usize, RequestError> {
    check_max(what, b.len(), u16::MAX as usize)?;
    Ok(2 + b.len())
}

/// Size of a `[bytes]` after checking its length fits an `[int]`.
pub(crate) fn checked_bytes_size(
    what: &'static str,
    b: Option<&[u8]>,
) -> Result<usize, RequestError> {
    match b {
        Some(b) => {
            check_max(what, b.len(), i32::MAX as usize)?;
            Ok(4 + b.len())
        }
        None => Ok(4),
    }
}

fn check_max(what: &'static str, len: usize, max: usize) -> Result<(), RequestError> {
    if len > max {
        return Err(RequestError::TooLong { what, len, max });
    }
    Ok(())
}

/// Checks that `count` elements fit a `[short]` count.
pub(crate) fn check_short_count(what: &'static str, count: usize) -> Result<(), RequestError> {
    if count > u16::MAX as usize {
        return Err(RequestError::TooMany {
            what,
            count,
            max: u16::MAX as usize,
        });
    }
    Ok(())
}

/// A request preceded by a custom payload (header flag [`HeaderFlags::CUSTOM_PAYLOAD`]): the
/// body becomes `<custom_payload [bytes map]><request body>`. Only QUERY, PREPARE, EXECUTE
/// and BATCH carry one (v4 §2.2, v5 §2.4.2).
///
/// Requests never carry a tracing id or warnings in their body: tracing is only the
/// [`HeaderFlags::TRACING`] flag, see [`request_flags`].
#[derive(Debug, Clone, Copy)]
pub struct WithCustomPayload<'a, R: ?Sized> {
    /// The payload entries, written in order.
    pub payload: &'a [(&'a str, &'a [u8])],
    /// The request.
    pub request: &'a R,
}

impl<'a, R: Request + ?Sized> WithCustomPayload<'a, R> {
    /// `request` preceded by `payload`.
    pub fn new(payload: &'a [(&'a str, &'a [u8])], request: &'a R) -> Self {
        Self { payload, request }
    }

    fn payload_size(&self) -> Result<usize, RequestError> {
        check_short_count("custom payload entries", self.payload.len())?;
        let mut size = 2;
        for (k, v) in self.payload {
            size += checked_string_size("custom payload key", k)?;
            size += checked_bytes_size("custom payload value", Some(v))?;
        }
        Ok(size)
    }
}

impl<R: Request + ?Sized> Request for WithCustomPayload<'_, R> {
    fn opcode(&self) -> Opcode {
        self.request.opcode()
    }

    fn body_size(&self, version: ProtocolVersion) -> Result<usize, RequestError> {
        Ok(self.payload_size()? + self.request.body_size(version)?)
    }

    fn write_body(&self, version: ProtocolVersion, buf: &mut &mut [u8]) {
        buf.put_u16(self.payload.len() as u16);
        for (k, v) in self.payload {
            crate::wire::put_string(buf, k);
            crate::wire::put_bytes(buf, Some(v));
        }
        self.request.write_body(version, buf);
    }
}

/// The header flags of a request: [`HeaderFlags::TRACING`] when `tracing`, and
/// [`HeaderFlags::CUSTOM_PAYLOAD`] when the body is a [`WithCustomPayload`].
pub const fn request_flags(tracing: bool, custom_payload: bool) -> HeaderFlags {
    let mut flags = 0;
    if tracing {
        flags |= HeaderFlags::TRACING;
    }
    if custom_payload {
        flags |= HeaderFlags::CUSTOM_PAYLOAD;
    }
    HeaderFlags(flags)
}

/// A request message body.
pub trait Request {
    /// The message's opcode.
    fn opcode(&self) -> Opcode;

    /// Exact size of the body for `version`, validating every length and count on the way.
    fn body_size(&self, version: ProtocolVersion) -> Result<usize, RequestError>;

    /// Writes the body at the front of `buf`, advancing it by exactly the size that
    /// [`Self::body_size`] returned for the same version. Call only after `body_size` succeeded.
    fn write_body(&self, version: ProtocolVersion, buf: &mut &mut [u8]);
}

/// Writes a whole envelope (header then body) for `request` into `out`, which must be exactly
/// `HEADER_SIZE + body_size` bytes long, as returned by [`Request::body_size`].
pub fn write_envelope(
    request: &(impl Request + ?Sized),
    version: ProtocolVersion,
    flags: HeaderFlags,
    stream: i16,
    body_size: usize,
    out: &mut [u8],
) {
    let (head, mut body) = out.split_at_mut(HEADER_SIZE);
    let header = EnvelopeHeader {
        version,
        is_response: false,
        flags,
        stream,
        opcode: request.opcode(),
        length: body_size as u32,
    };
    let mut h = [0u8; HEADER_SIZE];
    header.encode(&mut h);
    head.copy_from_slice(&h);
    request.write_body(version, &mut body);
    debug_assert!(body.is_empty(), "request wrote fewer bytes than it sized");
}
