//! The handshake on a fresh socket, before the reader and writer tasks start:
//! OPTIONS → SUPPORTED (Scylla extension data kept), STARTUP (CQL_VERSION, COMPRESSION if
//! offered, DRIVER_NAME/VERSION, echoed Scylla extensions) → READY or AUTHENTICATE, then the
//! SASL-style exchange (AUTH_RESPONSE → AUTH_CHALLENGE… → AUTH_SUCCESS).
//!
//! Protocol v5 framing (v5 spec §2.3.1 "Initial Handshake"): OPTIONS, STARTUP and their
//! responses (SUPPORTED, and READY or AUTHENTICATE) are unframed envelopes; once the server
//! has sent READY or AUTHENTICATE it frames everything in segments, and so must the client:
//! the AUTH_RESPONSE exchange of a v5 connection is already framed. Compression (§2.3.2)
//! also starts after STARTUP, which is never compressed.

use bytes::BytesMut;
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{
    Compression, Envelope, HEADER_SIZE, HeaderFlags, Opcode, SegmentFormat, encode_envelopes,
};
use scylla2_cql::request::{AuthResponse, Options, Request, Startup, write_envelope};
use scylla2_cql::response::{DbError, Response, ResponseContext, Supported};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::config::ConnectionConfig;
use super::error::{ConnectionError, HandshakeError};
use super::framing::{ReadFramer, envelope_framer, segment_format};
use crate::error::AuthError;

/// Limit on AUTH_CHALLENGE rounds, so that a confused server cannot keep us forever.
const MAX_AUTH_ROUNDS: usize = 16;

/// Scylla's sharding parameters, from SUPPORTED.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShardingInfo {
    /// The shard that owns this connection.
    pub shard: u32,
    /// Shards on the node.
    pub nr_shards: u32,
    /// The `ignore_msb` parameter of the sharding algorithm.
    pub ignore_msb: u8,
    /// The shard-aware port, if the node has one.
    pub shard_aware_port: Option<u16>,
    /// The TLS shard-aware port, if any.
    pub shard_aware_port_ssl: Option<u16>,
}

impl ShardingInfo {
    /// The shard-aware port for a connection with TLS (`tls`) or without: each is a
    /// separate port on ScyllaDB (`SCYLLA_SHARD_AWARE_PORT_SSL`, `SCYLLA_SHARD_AWARE_PORT`).
    pub fn shard_aware_port_for(&self, tls: bool) -> Option<u16> {
        if tls {
            self.shard_aware_port_ssl
        } else {
            self.shard_aware_port
        }
    }
}

/// What the handshake negotiated and learned about the server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The protocol version in use.
    pub version: ProtocolVersion,
    /// The compression in use.
    pub compression: Option<Compression>,
    /// Scylla sharding, when the server is Scylla.
    pub sharding: Option<ShardingInfo>,
    /// Decoding context from the Scylla extensions this driver enabled (LWT mark,
    /// rate-limit error code).
    pub response_context: ResponseContext,
    /// The partitioner the server announced (Scylla only).
    pub partitioner: Option<String>,
    /// Whether the server announced tablets routing (`TABLETS_ROUTING_V1`).
    pub tablets_routing: bool,
    /// The complete SUPPORTED options.
    pub supported: Supported,
}

impl ConnectionInfo {
    /// Information for a connection whose handshake was done elsewhere (tests).
    #[cfg(test)]
    pub(crate) fn assumed(version: ProtocolVersion, compression: Option<Compression>) -> Self {
        Self {
            version,
            compression,
            sharding: None,
            response_context: ResponseContext::default(),
            partitioner: None,
            tablets_routing: false,
            supported: Supported::default(),
        }
    }
}

/// Result of one handshake attempt at one version on a stream `S` (TCP, or TLS over TCP).
pub(crate) enum Attempt<S> {
    /// Established: the stream, the bytes read past the handshake, and what was negotiated.
    Done(S, BytesMut, ConnectionInfo),
    /// The server refused this protocol version: reconnect with a lower one.
    VersionRefused,
}

struct HandshakeIo<'c, S> {
    stream: S,
    read: BytesMut,
    framer: ReadFramer,
    version: ProtocolVersion,
    /// v5 segment framing once READY/AUTHENTICATE arrived.
    segments: Option<SegmentFormat>,
    out: Vec<u8>,
    framed_out: BytesMut,
    config: &'c ConnectionConfig,
}

impl<S: AsyncRead + AsyncWrite + Unpin> HandshakeIo<'_, S> {
    async fn send(&mut self, request: &(impl Request + ?Sized)) -> Result<(), ConnectionError> {
        let body = request.body_size(self.version)?;
        self.out.clear();
        self.out.resize(HEADER_SIZE + body, 0);
        write_envelope(
            request,
            self.version,
            HeaderFlags::default(),
            0,
            body,
            &mut self.out,
        );
        match self.segments {
            None => self.stream.write_all(&self.out).await?,
            Some(format) => {
                self.framed_out.clear();
                encode_envelopes(&self.out, format, &mut self.framed_out)?;
                self.stream.write_all(&self.framed_out).await?;
            }
        }
        // TLS may hold records back until flushed (a no-op on TCP).
        self.stream.flush().await?;
        Ok(())
    }

    async fn recv(&mut self) -> Result<Envelope, ConnectionError> {
        loop {
            if let Some(envelope) = self.framer.decode(&mut self.read)? {
                if envelope.header.stream == 0 {
                    return Ok(envelope);
                }
                // Events cannot come before REGISTER; anything else is not ours: skip it.
                continue;
            }
            self.read.reserve(self.config.read_buffer_size.max(4096));
            if self.stream.read_buf(&mut self.read).await? == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
            }
        }
    }

    async fn request(
        &mut self,
        request: &(impl Request + ?Sized),
        ctx: &ResponseContext,
    ) -> Result<(Envelope, Response), ConnectionError> {
        self.send(request).await?;
        let envelope = self.recv().await?;
        let h = envelope.header;
        let response = Response::decode(h.opcode, h.flags, h.version, envelope.body.clone(), ctx)?;
        Ok((envelope, response.response))
    }
}

fn server_error(request: &'static str, error: DbError, message: String) -> ConnectionError {
    HandshakeError::ServerError {
        request,
        error,
        message,
    }
    .into()
}

fn unexpected(request: &'static str, opcode: Opcode) -> ConnectionError {
    HandshakeError::UnexpectedResponse { request, opcode }.into()
}

/// Whether an OPTIONS/STARTUP answer says the server does not speak `version`: a protocol
/// error naming the version, or an answer framed in a lower version.
fn refuses_version(envelope: &Envelope, response: &Response, version: ProtocolVersion) -> bool {
    match response {
        Response::Error(e) => {
            matches!(e.error, DbError::ProtocolError)
                && (envelope.header.version < version
                    || e.message.to_ascii_lowercase().contains("version"))
        }
        _ => false,
    }
}

/// One handshake attempt at `version` on a fresh `stream`.
pub(crate) async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    version: ProtocolVersion,
    config: &ConnectionConfig,
) -> Result<Attempt<S>, ConnectionError> {
    let mut io = HandshakeIo {
        stream,
        read: BytesMut::with_capacity(config.read_buffer_size.max(4096)),
        framer: envelope_framer(config.max_frame_size, None),
        version,
        segments: None,
        out: Vec::new(),
        framed_out: BytesMut::new(),
        config,
    };
    let none = ResponseContext::default();

    // OPTIONS → SUPPORTED. Some servers close the socket on a version they do not know
    // instead of answering: above v4 that counts as a refusal too.
    let (envelope, response) = match io.request(&Options, &none).await {
        Ok(answer) => answer,
        Err(ConnectionError::Io(e))
            if version > ProtocolVersion::V4
                && matches!(
                    e.kind(),
                    std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
                ) =>
        {
            return Ok(Attempt::VersionRefused);
        }
        Err(e) => return Err(e),
    };
    let supported = match response {
        Response::Supported(s) => s,
        r if refuses_version(&envelope, &r, version) => return Ok(Attempt::VersionRefused),
        Response::Error(e) => return Err(server_error("OPTIONS", e.error, e.message)),
        _ => return Err(unexpected("OPTIONS", envelope.header.opcode)),
    };
    let info_ctx = supported
        .response_context()
        .map_err(HandshakeError::Supported)?;
    let sharding = sharding_info(&supported)?;

    // STARTUP with what we understand.
    let offered = supported.compression();
    let compression = config.compression.filter(|c| {
        offered.iter().any(|o| o.eq_ignore_ascii_case(c.name()))
            && (version == ProtocolVersion::V4 || *c == Compression::Lz4)
    });
    let lwt = supported.first(Supported::SCYLLA_LWT_ADD_METADATA_MARK);
    let rate_limit = supported.first(Supported::SCYLLA_RATE_LIMIT_ERROR);
    let mut options: Vec<(&str, &str)> = vec![
        (scylla2_cql::request::Startup::CQL_VERSION, "3.0.0"),
        (
            scylla2_cql::request::Startup::DRIVER_NAME,
            config.driver_name,
        ),
        (
            scylla2_cql::request::Startup::DRIVER_VERSION,
            config.driver_version,
        ),
    ];
    if let Some(c) = compression {
        options.push((scylla2_cql::request::Startup::COMPRESSION, c.name()));
    }
    if let Some(v) = lwt {
        options.push((Supported::SCYLLA_LWT_ADD_METADATA_MARK, v));
    }
    if let Some(v) = rate_limit {
        options.push((Supported::SCYLLA_RATE_LIMIT_ERROR, v));
    }
    // ScyllaDB attaches `tablets-routing-v1` payloads only to connections that asked for
    // them in STARTUP (client_state's protocol extensions, docs/dev/protocol-extensions.md).
    let tablets = supported.tablets_routing_v1();
    if tablets {
        options.push((Supported::TABLETS_ROUTING_V1, ""));
    }
    let ctx = ResponseContext {
        rate_limit_error_code: info_ctx
            .rate_limit_error_code
            .filter(|_| rate_limit.is_some()),
        lwt_mask: info_ctx.lwt_mask.filter(|_| lwt.is_some()),
        use_metadata_id: false,
    };
    // The server decompresses what follows STARTUP (§2.3.2), so do we for what it sends.
    if version == ProtocolVersion::V4 {
        io.framer = envelope_framer(config.max_frame_size, compression);
    }
    let (envelope, response) = io.request(&Startup { options: &options }, &ctx).await?;
    let switch_to_segments = |io: &mut HandshakeIo<'_, S>| {
        // v5 §2.3.1: after READY or AUTHENTICATE everything is framed, both ways.
        if version != ProtocolVersion::V4 {
            let format = segment_format(compression);
            io.segments = Some(format);
            io.framer.start_segments(format);
        }
    };
    match response {
        Response::Ready => switch_to_segments(&mut io),
        Response::Authenticate(a) => {
            switch_to_segments(&mut io);
            authenticate(&mut io, &a.authenticator, &ctx).await?;
        }
        r if refuses_version(&envelope, &r, version) => return Ok(Attempt::VersionRefused),
        Response::Error(e) => return Err(server_error("STARTUP", e.error, e.message)),
        _ => return Err(unexpected("STARTUP", envelope.header.opcode)),
    }
    let info = ConnectionInfo {
        version,
        compression,
        sharding,
        response_context: ctx,
        partitioner: supported.partitioner().map(str::to_owned),
        tablets_routing: tablets,
        supported,
    };
    Ok(Attempt::Done(io.stream, io.read, info))
}

async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut HandshakeIo<'_, S>,
    server_authenticator: &str,
    ctx: &ResponseContext,
) -> Result<(), ConnectionError> {
    let Some(provider) = io.config.authenticator.clone() else {
        return Err(HandshakeError::AuthenticationRequired {
            authenticator: server_authenticator.to_owned(),
        }
        .into());
    };
    let mut auth = provider
        .start(server_authenticator)
        .map_err(HandshakeError::from)?;
    let mut token = auth.initial_response().map_err(HandshakeError::from)?;
    for _ in 0..MAX_AUTH_ROUNDS {
        let request = AuthResponse {
            token: token.as_deref(),
        };
        let (envelope, response) = io.request(&request, ctx).await?;
        match response {
            Response::AuthSuccess(s) => {
                auth.success(s.token.as_deref())
                    .map_err(HandshakeError::from)?;
                return Ok(());
            }
            Response::AuthChallenge(c) => {
                token = auth
                    .evaluate_challenge(c.token.as_deref())
                    .map_err(HandshakeError::from)?;
            }
            Response::Error(e) if matches!(e.error, DbError::AuthenticationError) => {
                return Err(HandshakeError::Authentication(AuthError::Rejected(e.message)).into());
            }
            Response::Error(e) => return Err(server_error("AUTH_RESPONSE", e.error, e.message)),
            _ => return Err(unexpected("AUTH_RESPONSE", envelope.header.opcode)),
        }
    }
    Err(HandshakeError::TooManyAuthRounds(MAX_AUTH_ROUNDS).into())
}

fn sharding_info(s: &Supported) -> Result<Option<ShardingInfo>, HandshakeError> {
    let e = HandshakeError::Supported;
    let (Some(shard), Some(nr_shards)) = (s.shard().map_err(e)?, s.nr_shards().map_err(e)?) else {
        return Ok(None);
    };
    if nr_shards == 0 || shard >= nr_shards {
        return Ok(None);
    }
    Ok(Some(ShardingInfo {
        shard,
        nr_shards,
        ignore_msb: s.sharding_ignore_msb().map_err(e)?.unwrap_or(0),
        shard_aware_port: s.shard_aware_port().map_err(e)?,
        shard_aware_port_ssl: s.shard_aware_port_ssl().map_err(e)?,
    }))
}
