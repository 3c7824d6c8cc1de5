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
    /// Send OPTIONS on a connection that received no whole frame for this long; `None`
    /// disables periodic heartbeats (probes after request timeouts are still sent).
    pub heartbeat_interval: Option<Duration>,
    /// A heartbeat or probe unanswered for this long kills the connection (default 5 s).
    /// A probe is sent as soon as a request on the connection passes its deadline; until it
    /// is answered the connection is *suspect* and pools route around it.
    pub heartbeat_timeout: Duration,
    /// Longest wait for the rest of a partly received frame (default 5 s; counted from the
    /// last whole frame received, so it is a bound on one frame's transfer): a server that
    /// sends a header and stalls kills the connection with
    /// [`ConnectionError::FrameReadTimeout`](super::ConnectionError::FrameReadTimeout)
    /// instead of blocking it forever. Raise it with `max_frame_size` on slow links.
    pub frame_read_timeout: Duration,
    /// Stream ids held by requests whose answers never came (cancelled or past their
    /// deadline) from which the connection asks its pool to replace it: a new connection is
    /// opened, new requests go to it, and the old one closes once the requests still on it
    /// are done. `None` (default): a quarter of `max_streams`.
    pub max_orphaned_streams: Option<usize>,
    /// How the writer gathers queued frames into one write (default
    /// [`WriteCoalescing::Yield`]).
    pub write_coalescing: WriteCoalescing,
    /// Client TLS for every connection (feature `rustls-023`); `None` (default): plain TCP.
    #[cfg(feature = "rustls-023")]
    pub tls: Option<super::tls::TlsContext>,
    /// DRIVER_NAME sent in STARTUP.
    pub driver_name: &'static str,
    /// DRIVER_VERSION sent in STARTUP.
    pub driver_version: &'static str,
}

impl ConnectionConfig {
    /// Whether connections are opened with TLS (always `false` without the `rustls-023`
    /// feature).
    pub fn uses_tls(&self) -> bool {
        #[cfg(feature = "rustls-023")]
        {
            self.tls.is_some()
        }
        #[cfg(not(feature = "rustls-023"))]
        {
            false
        }
    }
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
            heartbeat_timeout: Duration::from_secs(5),
            frame_read_timeout: Duration::from_secs(5),
            max_orphaned_streams: None,
            write_coalescing: WriteCoalescing::Yield,
            #[cfg(feature = "rustls-023")]
            tls: None,
            driver_name: "scylla2",
            driver_version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// How a connection's writer gathers the frames requests queue into one socket write.
///
/// Every write costs a system call (on loopback, where the kernel also runs the receiver's
/// TCP input in the sender's time, several microseconds), so frames written together save
/// CPU; holding frames back adds latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteCoalescing {
    /// Write once the other tasks ready to run have run (a few `yield_now`), so that the
    /// frames they queue go out in the same write; never wait for the network.
    Yield,
    /// [`Self::Yield`], then, while at least `min_outstanding` requests sent on the
    /// connection await their answers, hold the batch until the connection's reader has
    /// handled its next read (its responses let the tasks waiting on them queue their next
    /// requests), for at most `max_delay`, rounded up to the timer's resolution (1 ms on
    /// tokio).
    UntilNextRead {
        /// Requests sent and unanswered on the connection for a batch to be held.
        min_outstanding: usize,
        /// Longest hold.
        max_delay: Duration,
    },
    /// [`Self::UntilNextRead`] only while holding pays: a hold pays when frames were queued
    /// on the connection while it lasted (the answers it waited for let their tasks send
    /// their next requests: a closed loop, such as a loader's or a pipeline's, or requests
    /// arriving faster than answers). The writer keeps a moving score of its last holds
    /// (each weighing 1/8); while fewer than half of them paid it holds only one batch in
    /// `probe_every` that could be held, to notice when holding pays again. Requests sent
    /// independently of the answers and seldom (a quiet service's, behind slow ones) pay
    /// for a few holds, then for one in `probe_every`.
    Adaptive {
        /// Requests sent and unanswered on the connection for a batch to be held.
        min_outstanding: usize,
        /// Longest hold.
        max_delay: Duration,
        /// While holding does not pay, one batch in this many that could be held is.
        probe_every: u32,
    },
}

impl WriteCoalescing {
    /// [`Self::UntilNextRead`] with 4 requests outstanding and a 1 ms bound: measured with
    /// scylla2-load (3 nodes x 4 shards, 128 in flight, one client thread on its own core),
    /// it cut write system calls from 0.30-0.37 to 0.15 per request and client CPU by about
    /// 12 %, with the same median latency. It suits throughput-bound work whose tasks send
    /// their next request when an answer arrives (loaders, batch jobs); a service whose
    /// requests arrive independently of answers sees the held ones wait for other answers.
    pub fn until_next_read() -> Self {
        Self::UntilNextRead {
            min_outstanding: 4,
            max_delay: Duration::from_millis(1),
        }
    }

    /// [`Self::Adaptive`] with [`Self::until_next_read`]'s hold (4 requests outstanding, a
    /// 1 ms bound), probing one batch in 16 while holding does not pay. Measured with
    /// scylla2-load (3 nodes x 4 shards, one client thread, 3 interleaved pairs against
    /// [`Self::Yield`]): write system calls per request 0.015-0.031 against 0.027-0.039 at
    /// 2 048 in flight and 0.186-0.189 against 0.240-0.346 at 128, median and 99th
    /// percentile latencies in the same ranges; open loop at 100 000 requests per second,
    /// latencies in the same ranges as well. Opt-in, not the default: a held batch waits
    /// for answers to requests sent before it, about one round trip, which requests with
    /// deadlines shorter than that pay in full (64 tasks sending with 0-60 µs timeouts
    /// saw every request time out in one run of three, where the default answers some).
    ///
    /// ```
    /// use scylla2::connection::WriteCoalescing;
    ///
    /// let session_builder = scylla2::Session::builder()
    ///     .write_coalescing(WriteCoalescing::adaptive());
    /// # let _ = session_builder;
    /// ```
    pub fn adaptive() -> Self {
        Self::Adaptive {
            min_outstanding: 4,
            max_delay: Duration::from_millis(1),
            probe_every: 16,
        }
    }
}
