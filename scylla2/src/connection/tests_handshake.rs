//! Handshake tests against an in-test fake CQL server on 127.0.0.1 that speaks OPTIONS,
//! STARTUP, AUTH_RESPONSE and QUERY (echo), v4 and v5 (segment framing after
//! READY/AUTHENTICATE, v5 §2.3.1), with optional lz4/snappy compression.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{
    Compression, EnvelopeDecoder, HeaderFlags, Opcode, SegmentDecoder, SegmentFormat,
    encode_envelopes,
};
use scylla2_cql::request::{Request, RequestError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::auth::PlainTextAuthenticator;

type Startups = Arc<Mutex<Vec<Vec<(String, String)>>>>;

#[derive(Clone)]
struct Server {
    versions: Vec<u8>,
    credentials: Option<(&'static str, &'static str)>,
    scylla: bool,
    /// STARTUP options received, per connection.
    startups: Startups,
    /// Versions of the OPTIONS requests received.
    options_versions: Arc<Mutex<Vec<u8>>>,
}

impl Server {
    fn new(versions: &[u8]) -> Self {
        Self {
            versions: versions.to_vec(),
            credentials: None,
            scylla: false,
            startups: Default::default(),
            options_versions: Default::default(),
        }
    }

    async fn start(self) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(self.clone().serve(sock));
            }
        });
        addr
    }

    async fn serve(self, mut sock: TcpStream) {
        let mut buf = BytesMut::new();
        let mut envelopes = EnvelopeDecoder::new(1 << 24);
        let mut segments: Option<SegmentDecoder> = None;
        let mut pending_switch: Option<SegmentFormat> = None;
        let mut version = 4u8;
        loop {
            let next = match &mut segments {
                Some(d) => d.decode(&mut buf),
                None => envelopes.decode(&mut buf),
            };
            let env = match next {
                Ok(Some(env)) => env,
                Ok(None) => {
                    if sock.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                        return;
                    }
                    continue;
                }
                Err(e) => panic!("fake server got a bad frame: {e}"),
            };
            let h = env.header;
            let v = h.version.number();
            let (opcode, body): (Opcode, Vec<u8>) = match h.opcode {
                Opcode::Options => {
                    self.options_versions.lock().unwrap().push(v);
                    if !self.versions.contains(&v) {
                        let mut b = Vec::new();
                        b.put_i32(0x000A);
                        put_str(
                            &mut b,
                            &format!("Invalid or unsupported protocol version ({v})"),
                        );
                        // Answered in the highest version this server speaks, like Cassandra.
                        let f = raw_frame(4, h.stream, Opcode::Error, &b);
                        sock.write_all(&f).await.unwrap();
                        return;
                    }
                    version = v;
                    (Opcode::Supported, self.supported())
                }
                Opcode::Startup => {
                    let opts = parse_string_map(&env.body);
                    let compression = opts
                        .iter()
                        .find(|(k, _)| k == "COMPRESSION")
                        .map(|(_, v)| Compression::from_name(v).unwrap());
                    envelopes.set_compression(compression);
                    self.startups.lock().unwrap().push(opts);
                    if version == 5 {
                        pending_switch = Some(match compression {
                            Some(Compression::Lz4) => SegmentFormat::Lz4,
                            _ => SegmentFormat::Uncompressed,
                        });
                    }
                    match self.credentials {
                        Some(_) => {
                            let mut b = Vec::new();
                            put_str(&mut b, "org.apache.cassandra.auth.PasswordAuthenticator");
                            (Opcode::Authenticate, b)
                        }
                        None => (Opcode::Ready, Vec::new()),
                    }
                }
                Opcode::AuthResponse => {
                    let (user, pw) = self.credentials.unwrap();
                    let expected = format!("\0{user}\0{pw}");
                    let len = i32::from_be_bytes(env.body[..4].try_into().unwrap());
                    if len >= 0 && &env.body[4..] == expected.as_bytes() {
                        (Opcode::AuthSuccess, (-1i32).to_be_bytes().to_vec())
                    } else {
                        let mut b = Vec::new();
                        b.put_i32(0x0100);
                        put_str(&mut b, "Provided username and/or password are incorrect");
                        (Opcode::Error, b)
                    }
                }
                // Echo.
                _ => (Opcode::Result, env.body.to_vec()),
            };
            let frame = raw_frame(version, h.stream, opcode, &body);
            match segments.as_ref().map(SegmentDecoder::format) {
                None => sock.write_all(&frame).await.unwrap(),
                Some(format) => {
                    let mut out = BytesMut::new();
                    encode_envelopes(&frame, format, &mut out).unwrap();
                    sock.write_all(&out).await.unwrap();
                }
            }
            // v5 §2.3.1: framing starts after READY/AUTHENTICATE, in both directions.
            if let Some(format) = pending_switch.take() {
                segments = Some(SegmentDecoder::new(format, 1 << 24));
            }
        }
    }

    fn supported(&self) -> Vec<u8> {
        let mut entries: Vec<(&str, Vec<&str>)> = vec![
            ("CQL_VERSION", vec!["3.4.5"]),
            ("COMPRESSION", vec!["lz4", "snappy"]),
        ];
        if self.scylla {
            entries.extend([
                ("SCYLLA_SHARD", vec!["3"]),
                ("SCYLLA_NR_SHARDS", vec!["8"]),
                ("SCYLLA_SHARDING_IGNORE_MSB", vec!["12"]),
                ("SCYLLA_SHARD_AWARE_PORT", vec!["19042"]),
                (
                    "SCYLLA_PARTITIONER",
                    vec!["org.apache.cassandra.dht.Murmur3Partitioner"],
                ),
                (
                    "SCYLLA_LWT_ADD_METADATA_MARK",
                    vec!["LWT_OPTIMIZATION_META_BIT_MASK=2147483648"],
                ),
                ("SCYLLA_RATE_LIMIT_ERROR", vec!["ERROR_CODE=61440"]),
            ]);
        }
        let mut b = Vec::new();
        b.put_u16(entries.len() as u16);
        for (k, vs) in entries {
            put_str(&mut b, k);
            b.put_u16(vs.len() as u16);
            for v in vs {
                put_str(&mut b, v);
            }
        }
        b
    }
}

fn put_str(b: &mut Vec<u8>, s: &str) {
    b.put_u16(s.len() as u16);
    b.put_slice(s.as_bytes());
}

fn parse_string_map(body: &[u8]) -> Vec<(String, String)> {
    let mut r = scylla2_cql::wire::WireReader::new(body);
    let n = r.read_u16().unwrap();
    (0..n)
        .map(|_| {
            (
                r.read_string().unwrap().to_owned(),
                r.read_string().unwrap().to_owned(),
            )
        })
        .collect()
}

fn raw_frame(version: u8, stream: i16, opcode: Opcode, body: &[u8]) -> Vec<u8> {
    let version = ProtocolVersion::from_number(version).unwrap();
    super::test_response_frame(version, stream, opcode, body)
}

/// Test-only stand-in request: a QUERY opcode and raw body bytes.
struct Raw(Vec<u8>);

impl Request for Raw {
    fn opcode(&self) -> Opcode {
        Opcode::Query
    }
    fn body_size(&self, _: ProtocolVersion) -> Result<usize, RequestError> {
        Ok(self.0.len())
    }
    fn write_body(&self, _: ProtocolVersion, buf: &mut &mut [u8]) {
        buf.put_slice(&self.0);
    }
}

async fn echo_many(conn: &Connection, sizes: &[usize]) {
    for (i, &size) in sizes.iter().enumerate() {
        let payload: Vec<u8> = (0..size).map(|j| (i * 31 + j % 7) as u8).collect();
        let env = conn
            .send(&Raw(payload.clone()), HeaderFlags::default())
            .await
            .unwrap();
        assert_eq!(env.header.opcode, Opcode::Result);
        assert_eq!(env.body.len(), payload.len());
        assert!(env.body[..] == payload[..], "payload {i} of {size} bytes");
    }
}

const SIZES: &[usize] = &[0, 1, 100, 600, 5000, 70_000, 131_000, 200_000, 400_000];

#[tokio::test]
async fn v5_handshake_then_segment_framing() {
    let server = Server::new(&[4, 5]);
    let addr = server.clone().start().await;
    let conn = Connection::open(addr, None, &ConnectionConfig::default())
        .await
        .unwrap();
    assert_eq!(conn.protocol_version(), ProtocolVersion::V5);
    assert_eq!(conn.info().compression, None);
    echo_many(&conn, SIZES).await;
    let startup = &server.startups.lock().unwrap()[0];
    assert!(startup.contains(&("CQL_VERSION".into(), "3.0.0".into())));
    assert!(startup.contains(&("DRIVER_NAME".into(), "scylla2".into())));
    assert!(!startup.iter().any(|(k, _)| k == "COMPRESSION"));
}

#[tokio::test]
async fn v5_lz4_segments() {
    let server = Server::new(&[4, 5]);
    let addr = server.clone().start().await;
    let config = ConnectionConfig {
        compression: Some(Compression::Lz4),
        ..ConnectionConfig::default()
    };
    let conn = Connection::open(addr, None, &config).await.unwrap();
    assert_eq!(conn.protocol_version(), ProtocolVersion::V5);
    assert_eq!(conn.info().compression, Some(Compression::Lz4));
    echo_many(&conn, SIZES).await;
}

#[tokio::test]
async fn v5_snappy_request_runs_uncompressed() {
    let server = Server::new(&[4, 5]);
    let addr = server.clone().start().await;
    let config = ConnectionConfig {
        compression: Some(Compression::Snappy),
        ..ConnectionConfig::default()
    };
    let conn = Connection::open(addr, None, &config).await.unwrap();
    assert_eq!(conn.info().compression, None);
    echo_many(&conn, &[10, 1000]).await;
}

#[tokio::test]
async fn v4_compressed_bodies() {
    for c in [Compression::Lz4, Compression::Snappy] {
        let server = Server::new(&[4]);
        let addr = server.clone().start().await;
        let config = ConnectionConfig {
            compression: Some(c),
            ..ConnectionConfig::default()
        };
        let conn = Connection::open(addr, None, &config).await.unwrap();
        assert_eq!(conn.protocol_version(), ProtocolVersion::V4);
        assert_eq!(conn.info().compression, Some(c));
        echo_many(&conn, SIZES).await;
        let startup = &server.startups.lock().unwrap()[0];
        assert!(startup.contains(&("COMPRESSION".into(), c.name().into())));
    }
}

#[tokio::test]
async fn falls_back_to_v4_when_v5_is_refused() {
    let server = Server::new(&[3, 4]);
    let addr = server.clone().start().await;
    let conn = Connection::open(addr, None, &ConnectionConfig::default())
        .await
        .unwrap();
    assert_eq!(conn.protocol_version(), ProtocolVersion::V4);
    assert_eq!(*server.options_versions.lock().unwrap(), vec![5, 4]);
    echo_many(&conn, &[3, 300_000]).await;

    let config = ConnectionConfig {
        min_protocol_version: ProtocolVersion::V5,
        ..ConnectionConfig::default()
    };
    let err = Connection::open(addr, None, &config).await.unwrap_err();
    assert!(
        matches!(
            err,
            ConnectionError::Handshake(HandshakeError::NoCommonVersion {
                lowest_tried: ProtocolVersion::V5
            })
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn scylla_extensions_are_kept_and_echoed() {
    let mut server = Server::new(&[4, 5]);
    server.scylla = true;
    let addr = server.clone().start().await;
    let conn = Connection::open(addr, None, &ConnectionConfig::default())
        .await
        .unwrap();
    let info = conn.info();
    let sharding = info.sharding.as_ref().unwrap();
    assert_eq!((sharding.shard, sharding.nr_shards), (3, 8));
    assert_eq!(sharding.ignore_msb, 12);
    assert_eq!(sharding.shard_aware_port, Some(19042));
    assert_eq!(info.response_context.lwt_mask, Some(0x8000_0000));
    assert_eq!(info.response_context.rate_limit_error_code, Some(61440));
    let startup = &server.startups.lock().unwrap()[0];
    assert!(startup.contains(&(
        "SCYLLA_LWT_ADD_METADATA_MARK".into(),
        "LWT_OPTIMIZATION_META_BIT_MASK=2147483648".into()
    )));
    assert!(startup.contains(&("SCYLLA_RATE_LIMIT_ERROR".into(), "ERROR_CODE=61440".into())));
}

#[tokio::test]
async fn authentication_v4_and_v5() {
    for version in [ProtocolVersion::V4, ProtocolVersion::V5] {
        let mut server = Server::new(&[4, 5]);
        server.credentials = Some(("cassandra", "secret"));
        let addr = server.clone().start().await;
        let base = ConnectionConfig {
            max_protocol_version: version,
            ..ConnectionConfig::default()
        };
        // No authenticator.
        let err = Connection::open(addr, None, &base).await.unwrap_err();
        assert!(
            matches!(
                err,
                ConnectionError::Handshake(HandshakeError::AuthenticationRequired { .. })
            ),
            "{err:?}"
        );
        // Wrong password.
        let config = ConnectionConfig {
            authenticator: Some(Arc::new(PlainTextAuthenticator::new("cassandra", "nope"))),
            ..base.clone()
        };
        let err = Connection::open(addr, None, &config).await.unwrap_err();
        assert!(
            matches!(
                err,
                ConnectionError::Handshake(HandshakeError::Authentication(
                    crate::error::AuthError::Rejected(_)
                ))
            ),
            "{err:?}"
        );
        // Right password (on v5 the AUTH_RESPONSE exchange is already framed).
        let config = ConnectionConfig {
            authenticator: Some(Arc::new(PlainTextAuthenticator::new("cassandra", "secret"))),
            ..base
        };
        let conn = Connection::open(addr, None, &config).await.unwrap();
        assert_eq!(conn.protocol_version(), version);
        echo_many(&conn, &[5, 2000]).await;
    }
}

#[tokio::test]
async fn connect_and_handshake_timeouts() {
    // A server that accepts but never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut socks = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            socks.push(s);
        }
    });
    let config = ConnectionConfig {
        handshake_timeout: Duration::from_millis(100),
        ..ConnectionConfig::default()
    };
    let err = Connection::open(addr, None, &config).await.unwrap_err();
    assert!(
        matches!(err, ConnectionError::HandshakeTimeout(_)),
        "{err:?}"
    );
    hold.abort();
    // Nothing listens on a just-closed port: connection refused, typed as I/O.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = Connection::open(addr, None, &config).await.unwrap_err();
    assert!(matches!(err, ConnectionError::Io(_)), "{err:?}");
}

#[tokio::test]
async fn binds_the_requested_local_port() {
    let server = Server::new(&[4, 5]);
    let addr = server.start().await;
    // Find a free port, then ask for it.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let conn = Connection::open(addr, Some(port), &ConnectionConfig::default())
        .await
        .unwrap();
    assert_eq!(conn.local_addr().port(), port);
}

#[tokio::test]
async fn heartbeat_keeps_an_idle_connection_alive() {
    let server = Server::new(&[4, 5]);
    let addr = server.clone().start().await;
    let config = ConnectionConfig {
        heartbeat_interval: Some(Duration::from_millis(20)),
        heartbeat_timeout: Duration::from_secs(5),
        ..ConnectionConfig::default()
    };
    let conn = Connection::open(addr, None, &config).await.unwrap();
    // The handshake's OPTIONS plus heartbeats (about 150 ms on an idle machine).
    let sent = || server.options_versions.lock().unwrap().len();
    let waited = tokio::time::Instant::now();
    while sent() < 8 && waited.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(sent() >= 8, "{} OPTIONS", sent());
    assert!(!conn.is_closed());
    echo_many(&conn, &[10]).await;
}

#[tokio::test]
async fn falls_back_to_v4_when_the_server_hangs_up_on_v5() {
    // Closes the socket on any v5 frame; speaks v4 otherwise.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let v4 = Server::new(&[4]);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let mut first = [0u8; 1];
            if sock.peek(&mut first).await.is_ok() && first[0] == 5 {
                drop(sock);
                continue;
            }
            tokio::spawn(v4.clone().serve(sock));
        }
    });
    let conn = Connection::open(addr, None, &ConnectionConfig::default())
        .await
        .unwrap();
    assert_eq!(conn.protocol_version(), ProtocolVersion::V4);
    echo_many(&conn, &[10]).await;
}
