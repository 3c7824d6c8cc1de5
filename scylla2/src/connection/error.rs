//! Errors of the connection layer: opening the socket, the handshake, sending a request and
//! receiving its response. Codec errors from `scylla2-cql` nest inside them.

use std::sync::Arc;
use std::time::Duration;

use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{CompressionError, FrameError, SegmentError};
use scylla2_cql::request::RequestError;
use scylla2_cql::response::ResponseError;

/// Why a connection could not be used for a request, or died.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// A socket operation failed (shared so that every waiter of a dead connection gets it).
    #[error("I/O error: {0}")]
    Io(Arc<std::io::Error>),
    /// The TCP connection was not established within the connect timeout.
    #[error("connect timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// The handshake (OPTIONS, STARTUP, authentication) did not finish within its timeout.
    #[error("handshake timed out after {0:?}")]
    HandshakeTimeout(Duration),
    /// The handshake failed.
    #[error("handshake failed: {0}")]
    Handshake(#[from] HandshakeError),
    /// The request could not be sized or serialized; nothing was sent.
    #[error("invalid request: {0}")]
    Request(#[from] RequestError),
    /// The serialized request is larger than the frame limit; nothing was sent.
    #[error(
        "request frame of {size} bytes exceeds the limit of {max} bytes \
         (ConnectionConfig::max_frame_size; the server has its own, e.g. Cassandra's \
         native_transport_max_frame_size){}",
        LargestValue(largest_value.as_ref())
    )]
    FrameTooLarge {
        /// Size of the whole frame.
        size: usize,
        /// The limit.
        max: usize,
        /// The largest bound value, when the request had values: its bind marker's name (or
        /// its position) and its size in bytes.
        largest_value: Option<(String, usize)>,
    },
    /// Every stream id of the connection is in use.
    #[error("all {0} stream ids of the connection are in use")]
    StreamsExhausted(usize),
    /// The server sent bytes that do not form valid frames; the connection was closed.
    #[error("malformed frame from the server: {0}")]
    Frame(#[from] FrameError),
    /// The server broke the protocol with well-formed frames; the connection was closed.
    #[error("protocol violation by the server: {0}")]
    Protocol(#[from] ProtocolViolation),
    /// A response could not be decoded.
    #[error("malformed response: {0}")]
    Response(#[from] ResponseError),
    /// The connection was closed on purpose (dropped by its owner).
    #[error("connection closed")]
    Closed,
    /// The connection is dead; this is the error that killed it.
    #[error("connection broken: {0}")]
    Broken(Arc<ConnectionError>),
    /// Compressing an outgoing frame failed.
    #[error("compression failed: {0}")]
    Compression(#[from] CompressionError),
    /// Framing an outgoing v5 segment failed.
    #[error("segment encoding failed: {0}")]
    Segment(#[from] SegmentError),
    /// The heartbeat got no answer in time; the connection was closed.
    #[error("heartbeat not answered within {0:?}")]
    HeartbeatTimeout(Duration),
    /// A frame started arriving and the rest of it did not come in time (the server sent a
    /// header and stalled); the connection was closed.
    #[error(
        "a partly received frame ({received} of {expected} bytes) got no more bytes within \
         {timeout:?} (setting: frame_read_timeout)"
    )]
    FrameReadTimeout {
        /// Bytes of the frame received.
        received: usize,
        /// Bytes the frame's header announced (header included; 0 while the header itself
        /// is incomplete).
        expected: usize,
        /// The configured limit.
        timeout: Duration,
    },
    /// TLS could not be set up, or a node's TLS handshake failed (feature `rustls-023`).
    /// Shared, which keeps this enum as small as without the feature.
    #[cfg(feature = "rustls-023")]
    #[error("{0}")]
    Tls(Arc<super::tls::TlsError>),
    /// The request's deadline passed before its response arrived. The connection stays
    /// usable; the stream id stays reserved until the late response is discarded.
    #[error("the request's deadline passed before its response arrived")]
    DeadlinePassed,
}

#[cfg(feature = "rustls-023")]
impl From<super::tls::TlsError> for ConnectionError {
    fn from(e: super::tls::TlsError) -> Self {
        Self::Tls(Arc::new(e))
    }
}

impl From<std::io::Error> for ConnectionError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(Arc::new(e))
    }
}

/// Well-formed frames that break the protocol.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// A frame of another protocol version than the negotiated one.
    #[error("frame version {got:?} on a {expected:?} connection")]
    VersionMismatch {
        /// The negotiated version.
        expected: ProtocolVersion,
        /// The frame's version.
        got: ProtocolVersion,
    },
    /// A request (not a response) arrived from the server.
    #[error("the server sent a frame without the response direction bit")]
    NotAResponse,
}

/// Why the handshake failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The server accepts none of the protocol versions allowed by the configuration.
    #[error("no common protocol version (tried down to {lowest_tried:?})")]
    NoCommonVersion {
        /// The lowest version tried.
        lowest_tried: ProtocolVersion,
    },
    /// The server answered with an unexpected message.
    #[error("unexpected {opcode:?} response to {request}")]
    UnexpectedResponse {
        /// The request that got it.
        request: &'static str,
        /// The opcode of the response.
        opcode: scylla2_cql::frame::Opcode,
    },
    /// The server answered with an ERROR.
    #[error("server error in response to {request}: {error}: {message}")]
    ServerError {
        /// The request that got it.
        request: &'static str,
        /// The error, with its fields.
        error: scylla2_cql::response::DbError,
        /// The server's message.
        message: String,
    },
    /// The server requires authentication but no authenticator is configured.
    #[error("the server requires authentication ({authenticator}) but none is configured")]
    AuthenticationRequired {
        /// The server's authenticator class.
        authenticator: String,
    },
    /// The authenticator refused to continue.
    #[error("authentication failed: {0}")]
    Authentication(#[from] crate::error::AuthError),
    /// The configured compression is not offered by the server.
    #[error("compression {0} not offered by the server")]
    CompressionUnsupported(&'static str),
    /// A SUPPORTED value could not be parsed.
    #[error("malformed SUPPORTED: {0}")]
    Supported(ResponseError),
    /// Too many AUTH_CHALLENGE rounds.
    #[error("authentication did not finish within {0} rounds")]
    TooManyAuthRounds(usize),
}

impl ConnectionError {
    /// Whether the connection is unusable after this error (as opposed to an error limited to
    /// one request, found before anything was sent).
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            Self::Request(_)
                | Self::FrameTooLarge { .. }
                | Self::StreamsExhausted(_)
                | Self::DeadlinePassed
        )
    }
}

/// `; the largest bound value is NAME (N bytes)`, or nothing.
struct LargestValue<'a>(Option<&'a (String, usize)>);

impl std::fmt::Display for LargestValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some((name, size)) => write!(f, "; the largest bound value is {name} ({size} bytes)"),
            None => Ok(()),
        }
    }
}
