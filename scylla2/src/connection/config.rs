//! Connection configuration: socket options, timeouts, protocol bounds, compression,
//! authentication, buffer sizes and heartbeat.

use std::sync::Arc;
use std::time::Duration;

use scylla2_cql::ProtocolVersion;

use crate::auth::AuthenticatorProvider;

pub use scylla2_cql::frame::Compression;

/// How one connection is opened and run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionConfig {
    /// Limit for establishing the TCP connection.
    pub connect_timeout: Duration,
    /// Limit for the whole handshake (OPTIONS, STARTUP, authentication).
    pub handshake_timeout: Duration,
    /// TCP_NODELAY (default on: requests are batched by the write queue already).
    pub tcp_nodelay: bool,
    /// TCP keepalive idle time; `None` disables keepalive.
    pub tcp_keepalive: Option<Duration>,
    /// SO_SNDBUF, if set.
    pub send_buffer_size: Option<usize>,
    /// SO_RCVBUF, if set.
    pub recv_buffer_size: Option<usize>,
    /// Highest protocol version to try.
    pub max_protocol_version: ProtocolVersion,
    /// Lowest protocol version to accept.
    pub min_protocol_version: ProtocolVersion,
    /// Compression to use if the server offers it (lz4 on v4 and v5, snappy on v4 only: a v5
    /// connection asked for snappy runs uncompressed).
    pub compression: Option<Compression>,
    /// Authentication, when the server asks for it.
    pub authenticator: Option<Arc<dyn AuthenticatorProvider>>,
    /// Capacity of each of the two write-queue buffers (v4; v5 uses one segment's payload).
    pub write_buffer_size: usize,
    /// Initial capacity of the read buffer.
    pub read_buffer_size: usize,
    /// Stream ids (requests in flight) per connection, at most 32 768.
    pub max_streams: usize,
    /// Largest frame (header + body) accepted in either direction.
    pub max_frame_size: usize,
    /// Send OPTIONS on a connection idle for this long; `None` disables heartbeats.
    pub heartbeat_interval: Option<Duration>,
    /// A heartbeat unanswered for this long kills the connection.
    pub heartbeat_timeout: Duration,
    /// DRIVER_NAME sent in STARTUP.
    pub driver_name: &'static str,
    /// DRIVER_VERSION sent in STARTUP.
    pub driver_version: &'static str,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(5),
            tcp_nodelay: true,
            tcp_keepalive: None,
            send_buffer_size: None,
            recv_buffer_size: None,
            max_protocol_version: ProtocolVersion::V5,
            min_protocol_version: ProtocolVersion::V4,
            compression: None,
            authenticator: None,
            write_buffer_size: 256 * 1024,
            read_buffer_size: 64 * 1024,
            max_streams: super::slots::MAX_STREAMS,
            max_frame_size: 256 * 1024 * 1024,
            heartbeat_interval: Some(Duration::from_secs(30)),
            heartbeat_timeout: Duration::from_secs(30),
            driver_name: "scylla2",
            driver_version: env!("CARGO_PKG_VERSION"),
        }
    }
}
