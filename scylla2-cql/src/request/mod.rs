//! Request messages (v4 §4.1, v5 §4.1). Each request states its exact body size for a protocol
//! version and writes itself into a caller-provided slice of that size (a write-queue slot in
//! the driver), so nothing is serialized twice or into a temporary buffer.

use crate::frame::header::{EnvelopeHeader, HEADER_SIZE, HeaderFlags, Opcode, ProtocolVersion};
use crate::value::SerializeError;

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
    /// A bound value does not fit.
    #[error(transparent)]
    Serialize(#[from] SerializeError),
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
