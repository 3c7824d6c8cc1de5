//! Session behaviour that needs no CQL engine, against an in-test fake server on 127.0.0.1
//! that answers the handshake, `USE` (Set_keyspace) and any other QUERY with Void: rotation
//! over connections, moving to the next connection when safe, timeouts, reconnection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{EnvelopeDecoder, Opcode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::error::{ExecuteError, ExecutionError};
use crate::{Query, Session};

#[derive(Default)]
struct Fake {
    /// QUERY count per accepted connection, in accept order.
    queries: Mutex<Vec<Arc<AtomicUsize>>>,
    accepted: AtomicUsize,
}

fn frame(stream: i16, opcode: Opcode, body: &[u8]) -> Vec<u8> {
    crate::connection::test_response_frame(ProtocolVersion::V4, stream, opcode, body)
}

impl Fake {
    async fn start() -> (Arc<Self>, String) {
        let fake = Arc::new(Self::default());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let f = fake.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                f.accepted.fetch_add(1, Ordering::SeqCst);
                let counter = Arc::new(AtomicUsize::new(0));
                f.queries.lock().unwrap().push(counter.clone());
                tokio::spawn(serve(sock, counter));
            }
        });
        (fake, addr)
    }

    fn counts(&self) -> Vec<usize> {
        let q = self.queries.lock().unwrap();
        q.iter().map(|c| c.load(Ordering::SeqCst)).collect()
    }
}

async fn serve(mut sock: TcpStream, queries: Arc<AtomicUsize>) {
    let mut buf = BytesMut::new();
    let mut decoder = EnvelopeDecoder::new(1 << 20);
    loop {
        let env = match decoder.decode(&mut buf) {
            Ok(Some(env)) => env,
            Ok(None) => {
                if sock.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
                continue;
            }
            Err(_) => return,
        };
        let h = env.header;
        if h.version != ProtocolVersion::V4 {
            // Refuse v5 like an older server.
            let mut b = Vec::new();
            b.put_i32(0x000A);
            let msg = b"unsupported protocol version";
            b.put_u16(msg.len() as u16);
            b.put_slice(msg);
            let _ = sock.write_all(&frame(h.stream, Opcode::Error, &b)).await;
            return;
        }
        let reply = match h.opcode {
            Opcode::Options => frame(h.stream, Opcode::Supported, &[0, 0]),
            Opcode::Startup => frame(h.stream, Opcode::Ready, &[]),
            Opcode::Query => {
                queries.fetch_add(1, Ordering::SeqCst);
                let text_len = u32::from_be_bytes(env.body[..4].try_into().unwrap()) as usize;
                let text = std::str::from_utf8(&env.body[4..4 + text_len]).unwrap();
                if let Some(ks) = text.strip_prefix("USE ") {
                    let mut b = vec![0, 0, 0, 3];
                    b.put_u16(ks.len() as u16);
                    b.put_slice(ks.as_bytes());
                    frame(h.stream, Opcode::Result, &b)
                } else if text.contains("paged") {
                    // v4 §4.2.5.2: one int row and a paging state (Has_more_pages), whatever
                    // the request asked for: a server that pages an unpaged request.
                    let mut b = vec![0, 0, 0, 2];
                    b.put_i32(0x0001 | 0x0002);
                    b.put_i32(1);
                    b.put_i32(3);
                    b.put_slice(b"abc");
                    for name in ["ks", "t", "v"] {
                        b.put_u16(name.len() as u16);
                        b.put_slice(name.as_bytes());
                    }
                    b.put_u16(0x0009);
                    b.put_i32(1);
                    b.put_i32(4);
                    b.put_i32(42);
                    frame(h.stream, Opcode::Result, &b)
                } else if text.contains("kill") {
                    return;
                } else if text.contains("slow") {
                    continue;
                } else if text.contains("warn") {
                    // v4 §2.2: tracing id, then warnings, then the message.
                    let mut b = vec![7u8; 16];
                    b.put_u16(2);
                    for w in ["first warning", "second"] {
                        b.put_u16(w.len() as u16);
                        b.put_slice(w.as_bytes());
                    }
                    b.put_i32(1);
                    let flags = scylla2_cql::frame::HeaderFlags::default()
                        .with(scylla2_cql::frame::HeaderFlags::TRACING)
                        .with(scylla2_cql::frame::HeaderFlags::WARNING);
                    crate::connection::test_response_frame_flagged(
                        ProtocolVersion::V4,
                        flags,
                        h.stream,
                        Opcode::Result,
                        &b,
                    )
                } else {
                    frame(h.stream, Opcode::Result, &[0, 0, 0, 1])
                }
            }
            _ => return,
        };
        if sock.write_all(&reply).await.is_err() {
            return;
        }
    }
}

async fn session(addr: &str, per_node: usize) -> Session {
    Session::builder()
        .contact_point(addr)
        .connections_per_node(per_node)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn requests_rotate_over_connections() {
    let (fake, addr) = Fake::start().await;
    let s = session(&addr, 3).await;
    assert_eq!(s.open_connections(), 3);
    for _ in 0..30 {
        assert!(s.execute("INSERT x", ()).await.unwrap().is_void());
    }
    // Each connection got some (every connection refused v5 first: 6 accepted).
    let counts: Vec<usize> = fake.counts().into_iter().filter(|c| *c > 0).collect();
    assert_eq!(counts, [10, 10, 10]);
}

#[tokio::test]
async fn keyspace_is_used_on_every_connection() {
    let (fake, addr) = Fake::start().await;
    let s = Session::builder()
        .contact_point(addr.as_str())
        .keyspace("ks1")
        .connections_per_node(2)
        .connect()
        .await
        .unwrap();
    assert_eq!(s.keyspace().as_deref().map(String::as_str), Some("ks1"));
    assert_eq!(fake.counts().iter().filter(|c| **c == 1).count(), 2);
    s.use_keyspace("ks2").await.unwrap();
    assert_eq!(fake.counts().iter().filter(|c| **c == 2).count(), 2);
    // A USE through execute switches every connection too (the one that ran it again).
    s.execute("USE ks3", ()).await.unwrap();
    let mut counts: Vec<usize> = fake.counts().into_iter().filter(|c| *c > 0).collect();
    counts.sort();
    assert_eq!(counts, [3, 4]);
    assert_eq!(s.keyspace().as_deref().map(String::as_str), Some("ks3"));
}

#[tokio::test]
async fn moves_on_only_when_safe_and_reconnects() {
    let (fake, addr) = Fake::start().await;
    let s = session(&addr, 2).await;
    // Not idempotent: the dead connection's error is returned.
    let err = s.execute("UPDATE kill", ()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ExecutionError::Connection(_)),
        "{err:?}"
    );
    // The dead connection is replaced in the background.
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            for _ in 0..2 {
                let _ = s.execute("SELECT ok", ()).await;
            }
            if s.open_connections() == 2 && fake.accepted.load(Ordering::SeqCst) >= 6 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap();
    // Idempotent: a connection dying under the request moves it to the next one... which
    // dies too with this server, so the last error comes back after both were tried.
    let q = Query::new("SELECT kill").with_idempotent(true);
    let before: usize = fake.counts().iter().sum();
    let err = s.execute(&q, ()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ExecutionError::Connection(_)),
        "{err:?}"
    );
    let after: usize = fake.counts().iter().sum();
    assert_eq!(after - before, 2, "tried on both connections");
}

#[tokio::test]
async fn tracing_id_and_warnings_reach_the_result() {
    let (_fake, addr) = Fake::start().await;
    let s = session(&addr, 1).await;
    let r = s.execute("SELECT warn", ()).await.unwrap();
    assert!(r.is_void());
    assert_eq!(r.tracing_id(), Some(uuid::Uuid::from_bytes([7; 16])));
    assert_eq!(r.warnings(), ["first warning", "second"]);
    assert!(r.custom_payload().is_none());
    // Without any: nothing attached (and nothing boxed).
    let plain = s.execute("SELECT ok", ()).await.unwrap();
    assert_eq!(plain.tracing_id(), None);
    assert!(plain.warnings().is_empty());
}

#[tokio::test]
async fn execute_never_returns_part_of_a_result_as_the_whole() {
    let (_fake, addr) = Fake::start().await;
    let s = session(&addr, 1).await;
    // The server answers an unpaged request with a page and a paging state: an error that
    // says so, not one page presented as the result.
    let err = s.execute("SELECT paged", ()).await.unwrap_err();
    assert!(
        matches!(err.kind(), ExecutionError::IncompleteResult { rows: 1 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("execute_paged"), "{err}");
    // The same answer to a paged request is a page, with the state to go on.
    let (page, paging) = s
        .execute_single_page("SELECT paged", (), None)
        .await
        .unwrap();
    assert_eq!(page.first_row::<(i32,)>().unwrap(), (42,));
    assert!(!paging.finished());
}

#[tokio::test]
async fn request_timeout_is_typed() {
    let (_fake, addr) = Fake::start().await;
    let s = session(&addr, 1).await;
    let q = Query::new("SELECT slow").with_timeout(Duration::from_millis(50));
    let err = s.execute(&q, ()).await.unwrap_err();
    assert!(matches!(err.kind(), ExecutionError::Timeout(_)), "{err:?}");
    // The message names what ran and the node it timed out on.
    assert_eq!(
        err.to_string(),
        format!("request timed out after 50ms (query; failed attempts: {addr})")
    );
    assert_eq!(err.statement_kind(), Some("query"));
    // The connection is still usable.
    assert!(s.execute("SELECT ok", ()).await.unwrap().is_void());
}

#[tokio::test]
async fn contact_points_are_resolved_and_checked() {
    let (_fake, addr) = Fake::start().await;
    let port = addr.rsplit_once(':').unwrap().1;
    // A name: resolved, every address tried, the reachable one kept.
    let s = session(&format!("localhost:{port}"), 1).await;
    assert_eq!(s.open_connections(), 1);
    assert!(s.execute("SELECT ok", ()).await.unwrap().is_void());
    let err = Session::builder().connect().await.unwrap_err();
    assert!(
        matches!(err, crate::error::SessionError::NoContactPoints),
        "{err:?}"
    );
    let err = Session::builder()
        .contact_point("no-port")
        .connect()
        .await
        .unwrap_err();
    assert!(
        matches!(err, crate::error::SessionError::InvalidContactPoint(_)),
        "{err:?}"
    );
    // Nothing listening: every failure is reported with its address.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_addr = closed.local_addr().unwrap();
    drop(closed);
    let err = Session::builder()
        .contact_point(closed_addr.to_string())
        .connect()
        .await
        .unwrap_err();
    match err {
        crate::error::SessionError::Connect(failures) => assert_eq!(failures[0].0, closed_addr),
        other => panic!("{other:?}"),
    }
}

async fn speculating_session(
    addr: &str,
    policy: crate::policies::SpeculativeExecutionPolicy,
) -> Session {
    Session::builder()
        .contact_point(addr)
        .connections_per_node(3)
        .execution_policies(
            crate::policies::ExecutionPolicies::default().with_speculative(Some(policy)),
        )
        .connect()
        .await
        .unwrap()
}

/// QUERYs received by the fake server while `f` runs (after it returned).
async fn queries_during<F: std::future::Future>(fake: &Fake, f: F) -> (F::Output, usize) {
    let before: usize = fake.counts().iter().sum();
    let out = f.await;
    // Let the server count what was written just before the end.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after: usize = fake.counts().iter().sum();
    (out, after - before)
}

#[tokio::test]
async fn speculative_attempts_follow_each_other_until_the_deadline() {
    use crate::policies::SpeculativeExecutionPolicy;
    let (fake, addr) = Fake::start().await;
    // Two speculative attempts, 200 ms apart: both sent long before the 2 s deadline (a
    // machine stalled past the deadline would send fewer: the deadline wins).
    let policy =
        SpeculativeExecutionPolicy::constant(Duration::from_millis(200)).with_max_speculative(2);
    let s = speculating_session(&addr, policy).await;
    let slow = Query::new("SELECT slow")
        .with_idempotent(true)
        .with_timeout(Duration::from_secs(2));
    let start = std::time::Instant::now();
    let (err, sent) = queries_during(&fake, s.execute(&slow, ())).await;
    assert!(
        matches!(
            err.as_ref().map_err(ExecuteError::kind),
            Err(ExecutionError::Timeout(_))
        ),
        "{err:?}"
    );
    assert!(start.elapsed() >= Duration::from_secs(2));
    assert_eq!(sent, 3, "the first attempt and two speculative ones");
    // Not idempotent: never speculated.
    let once = Query::new("SELECT slow").with_timeout(Duration::from_millis(100));
    let (err, sent) = queries_during(&fake, s.execute(&once, ())).await;
    assert!(
        matches!(
            err.as_ref().map_err(ExecuteError::kind),
            Err(ExecutionError::Timeout(_))
        ),
        "{err:?}"
    );
    assert_eq!(sent, 1);
    // A deadline before the first speculative delay: one attempt only.
    let short = Query::new("SELECT slow")
        .with_idempotent(true)
        .with_timeout(Duration::from_millis(100));
    let (err, sent) = queries_during(&fake, s.execute(&short, ())).await;
    assert!(
        matches!(
            err.as_ref().map_err(ExecuteError::kind),
            Err(ExecutionError::Timeout(_))
        ),
        "{err:?}"
    );
    assert_eq!(sent, 1);
    // A fast answer wins before any speculation and reports one attempt.
    let ok = Query::new("SELECT ok").with_idempotent(true);
    let result = s.execute(&ok, ()).await.unwrap();
    assert_eq!(result.execution().attempts, 1);
    assert_eq!(result.execution().speculative, 0);
}

#[tokio::test]
async fn percentile_speculation_uses_its_fallback_while_warming_up() {
    use crate::policies::SpeculativeExecutionPolicy;
    let (fake, addr) = Fake::start().await;
    let policy = SpeculativeExecutionPolicy::percentile(99.0, Duration::from_millis(40));
    let s = speculating_session(&addr, policy).await;
    // Recorded latencies (fast answers) stay below the sample threshold: the fallback rules.
    for _ in 0..5 {
        let ok = Query::new("SELECT ok").with_idempotent(true);
        s.execute(&ok, ()).await.unwrap();
    }
    let slow = Query::new("SELECT slow")
        .with_idempotent(true)
        .with_timeout(Duration::from_secs(2));
    let (err, sent) = queries_during(&fake, s.execute(&slow, ())).await;
    assert!(
        matches!(
            err.as_ref().map_err(ExecuteError::kind),
            Err(ExecutionError::Timeout(_))
        ),
        "{err:?}"
    );
    assert_eq!(sent, 2, "one speculative attempt after the 40 ms fallback");
}

/// A speculative policy of its own: `attempts` extra attempts, each after `delay`, counting
/// how often the driver asked for the delay.
#[derive(Debug)]
struct CountingSpeculation {
    attempts: usize,
    delay: Duration,
    asked: AtomicUsize,
}

impl crate::policies::SpeculativeExecution for CountingSpeculation {
    fn max_speculative(&self) -> usize {
        self.attempts
    }
    fn delay(&self, _latencies: &crate::policies::LatencyTracker) -> Duration {
        self.asked.fetch_add(1, Ordering::SeqCst);
        self.delay
    }
}

#[tokio::test]
async fn a_speculative_policy_of_its_own_drives_the_attempts() {
    let (fake, addr) = Fake::start().await;
    let policy = Arc::new(CountingSpeculation {
        attempts: 2,
        delay: Duration::from_millis(25),
        asked: AtomicUsize::new(0),
    });
    let s = Session::builder()
        .contact_point(addr)
        .connections_per_node(3)
        .execution_policies(
            crate::policies::ExecutionPolicies::default().with_speculative_policy(policy.clone()),
        )
        .connect()
        .await
        .unwrap();
    let slow = Query::new("SELECT slow")
        .with_idempotent(true)
        .with_timeout(Duration::from_secs(2));
    let (err, sent) = queries_during(&fake, s.execute(&slow, ())).await;
    assert!(err.is_err());
    assert_eq!(sent, 3, "the first attempt and the policy's two");
    assert!(policy.asked.load(Ordering::SeqCst) >= 1);
    // A statement that is not idempotent never asks the policy.
    let before = policy.asked.load(Ordering::SeqCst);
    let once = Query::new("SELECT ok");
    s.execute(&once, ()).await.unwrap();
    assert_eq!(policy.asked.load(Ordering::SeqCst), before);
}
