//! Connection tests against a tiny in-test fake server on 127.0.0.1 (v4 framing): echo
//! replies matched to their requests, cancellation, connection death, 32k in flight.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use scylla2_cql::ProtocolVersion;
use scylla2_cql::frame::{EnvelopeHeader, HEADER_SIZE, HeaderFlags, Opcode};
use scylla2_cql::request::{Request, RequestError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, Notify};

use super::*;

/// Test-only stand-in request: an opcode and raw body bytes.
pub(super) struct Raw {
    opcode: Opcode,
    body: Vec<u8>,
}

impl Raw {
    pub(super) fn query(body: impl Into<Vec<u8>>) -> Self {
        Self {
            opcode: Opcode::Query,
            body: body.into(),
        }
    }
}

impl Request for Raw {
    fn opcode(&self) -> Opcode {
        self.opcode
    }
    fn body_size(&self, _: ProtocolVersion) -> Result<usize, RequestError> {
        Ok(self.body.len())
    }
    fn write_body(&self, _: ProtocolVersion, buf: &mut &mut [u8]) {
        buf.put_slice(&self.body);
    }
}

/// What the fake server does with each request.
#[derive(Clone)]
pub(crate) enum Mode {
    /// Reply at once with a RESULT whose body echoes the request body.
    Echo,
    /// Echo, but hold requests whose body starts with `slow` until `release` is notified.
    HoldSlow(Arc<Notify>),
    /// Collect `n` requests, wait until `release` is notified, then answer them all in
    /// reverse order.
    BatchReverse(usize, Arc<Notify>),
    /// Never answer; close the socket when `close` is notified.
    Silent(Arc<Notify>),
    /// Read nothing until `go` is notified, then echo.
    EchoAfter(Arc<Notify>),
}

fn frame(stream: i16, opcode: Opcode, body: &[u8]) -> Vec<u8> {
    super::test_response_frame(ProtocolVersion::V4, stream, opcode, body)
}

async fn read_request(sock: &mut tokio::net::tcp::OwnedReadHalf) -> Option<(i16, Vec<u8>)> {
    let mut h = [0u8; HEADER_SIZE];
    sock.read_exact(&mut h).await.ok()?;
    let header = EnvelopeHeader::decode(&h).ok()?;
    let mut body = vec![0u8; header.length as usize];
    sock.read_exact(&mut body).await.ok()?;
    Some((header.stream, body))
}

pub(crate) async fn fake_server(mode: Mode) -> SocketAddr {
    fake_server_on(TcpListener::bind("127.0.0.1:0").await.unwrap(), mode)
}

/// [`fake_server`] accepting its one connection on `listener`.
pub(super) fn fake_server_on(listener: TcpListener, mode: Mode) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (mut rd, wr) = sock.into_split();
        let wr = Arc::new(Mutex::new(wr));
        let mut batch = Vec::new();
        if let Mode::Silent(close) = &mode {
            close.notified().await;
            return;
        }
        if let Mode::EchoAfter(go) = &mode {
            go.notified().await;
        }
        while let Some((stream, body)) = read_request(&mut rd).await {
            match &mode {
                Mode::Echo | Mode::EchoAfter(_) => {
                    let f = frame(stream, Opcode::Result, &body);
                    wr.lock().await.write_all(&f).await.unwrap();
                }
                Mode::HoldSlow(release) if body.starts_with(b"slow") => {
                    let (release, wr) = (release.clone(), wr.clone());
                    tokio::spawn(async move {
                        release.notified().await;
                        let f = frame(stream, Opcode::Result, &body);
                        let _ = wr.lock().await.write_all(&f).await;
                    });
                }
                Mode::HoldSlow(_) => {
                    let f = frame(stream, Opcode::Result, &body);
                    wr.lock().await.write_all(&f).await.unwrap();
                }
                Mode::BatchReverse(n, release) => {
                    batch.push((stream, body));
                    if batch.len() == *n {
                        release.notified().await;
                        let mut out = Vec::new();
                        for (s, b) in batch.drain(..).rev() {
                            out.extend_from_slice(&frame(s, Opcode::Result, &b));
                        }
                        wr.lock().await.write_all(&out).await.unwrap();
                    }
                }
                Mode::Silent(_) => unreachable!(),
            }
        }
    });
    addr
}

/// Waits (5 s at most) until no stream id of `conn` is taken: every late answer arrived.
pub(super) async fn all_ids_freed(conn: &Connection) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while conn.in_flight() != 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("a stream id leaked: a late answer never freed it");
}

pub(crate) async fn client(addr: SocketAddr, config: &ConnectionConfig) -> Connection {
    let stream = TcpStream::connect(addr).await.unwrap();
    let info = ConnectionInfo::assumed(ProtocolVersion::V4, None);
    Connection::start(stream, BytesMut::new(), info, config).unwrap()
}

#[tokio::test]
async fn concurrent_requests_get_their_own_responses() {
    let addr = fake_server(Mode::Echo).await;
    let conn = Arc::new(client(addr, &ConnectionConfig::default()).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..2000u32 {
        let conn = conn.clone();
        tasks.spawn(async move {
            let payload = format!("request-{i}");
            let env = conn
                .send(&Raw::query(payload.as_bytes()), HeaderFlags::default())
                .await
                .unwrap();
            assert_eq!(env.header.opcode, Opcode::Result);
            assert_eq!(&env.body[..], payload.as_bytes());
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert_eq!(conn.in_flight(), 0);
}

#[tokio::test]
async fn cancelled_requests_hold_their_ids_and_never_misdeliver() {
    let release = Arc::new(Notify::new());
    let addr = fake_server(Mode::HoldSlow(release.clone())).await;
    let conn = client(addr, &ConnectionConfig::default()).await;
    // 100 slow requests, each cancelled by a timeout.
    for i in 0..100 {
        let req = Raw::query(format!("slow-{i}"));
        let r = tokio::time::timeout(
            Duration::from_millis(1),
            conn.send(&req, HeaderFlags::default()),
        )
        .await;
        assert!(r.is_err(), "slow request must not be answered");
    }
    assert_eq!(conn.in_flight(), 100, "cancelled ids stay reserved");
    // Fast requests get their own answers, on other ids.
    for i in 0..200 {
        let payload = format!("fast-{i}");
        let env = conn
            .send(&Raw::query(payload.clone()), HeaderFlags::default())
            .await
            .unwrap();
        assert_eq!(&env.body[..], payload.as_bytes());
        assert!(env.header.stream >= 100, "reserved ids are not reused");
    }
    // Late responses arrive and are discarded, freeing their ids.
    release.notify_waiters();
    all_ids_freed(&conn).await;
    // The ids are reused now, and each new user gets its own response.
    for i in 0..100 {
        let payload = format!("again-{i}");
        let env = conn
            .send(&Raw::query(payload.clone()), HeaderFlags::default())
            .await
            .unwrap();
        assert_eq!(&env.body[..], payload.as_bytes());
        assert_eq!(env.header.stream, 0);
    }
}

/// Deadlines follow real time, also when tokio's clock is paused (a test runtime): tokio's
/// auto-advance does not expire a request early (it did while deadlines were tokio instants),
/// and the heartbeat probe that follows a timeout gets its own real-time deadline, so the
/// connection survives. (The expiry timer, on tokio's clock, fires early; the task checks
/// again until real time reaches the deadline.)
#[tokio::test(flavor = "current_thread")]
async fn deadlines_follow_real_time_under_a_paused_tokio_clock() {
    let release = Arc::new(Notify::new());
    let addr = fake_server(Mode::HoldSlow(release.clone())).await;
    let config = ConnectionConfig {
        heartbeat_interval: None,
        ..ConnectionConfig::default()
    };
    let conn = client(addr, &config).await;
    tokio::time::pause();
    let real = std::time::Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
    let r = conn
        .send_until(&Raw::query("slow"), HeaderFlags::default(), Some(deadline))
        .await;
    let waited = real.elapsed();
    assert!(matches!(r, Err(ConnectionError::DeadlinePassed)), "{r:?}");
    assert!(
        waited >= Duration::from_millis(200),
        "expired early: {waited:?}"
    );
    assert!(waited < Duration::from_secs(5), "expired late: {waited:?}");
    // The probe sent after the timeout is answered at once: the connection is usable again.
    let env = conn
        .send_until(&Raw::query("fast"), HeaderFlags::default(), None)
        .await
        .unwrap();
    assert_eq!(&env.body[..], b"fast");
    assert!(!conn.is_closed());
    tokio::time::resume();
    release.notify_waiters();
}

#[tokio::test]
async fn deadlines_expire_in_the_slots_and_late_answers_are_discarded() {
    let release = Arc::new(Notify::new());
    let addr = fake_server(Mode::HoldSlow(release.clone())).await;
    let conn = client(addr, &ConnectionConfig::default()).await;
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let conn = Arc::new(conn);
    // Deadlines out of order: the expiry task is re-armed by the earlier ones.
    for (i, ms) in [(0, 120u64), (1, 40), (2, 80)] {
        let conn = conn.clone();
        tasks.spawn(async move {
            let deadline = start + Duration::from_millis(ms);
            let req = Raw::query(format!("slow-{i}"));
            let r = conn
                .send_until(&req, HeaderFlags::default(), Some(deadline))
                .await;
            (ms, r.map(|_| ()), tokio::time::Instant::now())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (ms, result, at) = joined.unwrap();
        assert!(
            matches!(result, Err(ConnectionError::DeadlinePassed)),
            "{ms} ms: {result:?}"
        );
        let waited = at - start;
        assert!(
            waited >= Duration::from_millis(ms),
            "{ms} ms expired after {waited:?}"
        );
        assert!(
            waited < Duration::from_millis(ms + 3_000),
            "{ms} ms expired after {waited:?}"
        );
    }
    assert!(!conn.is_closed(), "a deadline does not kill the connection");
    // The timeouts made the connection suspect and sent a probe (OPTIONS), which this
    // server answers at once: the connection is usable again.
    tokio::time::timeout(Duration::from_secs(5), async {
        while !conn.is_usable() || conn.in_flight() != 3 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("the probe is answered and only the expired ids stay reserved");
    // A request with a distant deadline is answered normally meanwhile.
    let far = tokio::time::Instant::now() + Duration::from_secs(60);
    let env = conn
        .send_until(&Raw::query("fast"), HeaderFlags::default(), Some(far))
        .await
        .unwrap();
    assert_eq!(&env.body[..], b"fast");
    release.notify_waiters();
    all_ids_freed(&conn).await;
}

/// Requests spawned on a [`client_with_full_queue`]: each checks its echo, if one comes.
type Filling = tokio::task::JoinSet<Result<(), ConnectionError>>;

/// Sends `body` on `conn` from a task of `tasks`, checking the echo if one comes.
fn spawn_echoed(tasks: &mut Filling, conn: &Arc<Connection>, body: String) {
    let conn = conn.clone();
    tasks.spawn(async move {
        let env = conn
            .send(&Raw::query(body.as_bytes()), HeaderFlags::default())
            .await?;
        assert_eq!(&env.body[..], body.as_bytes());
        Ok(())
    });
}

/// A connection with a 1 KiB write queue to a server that reads nothing yet (`mode`), filled
/// with 900-byte requests until fewer than 1 000 bytes of the queue are free (the kernel's
/// socket buffers take a few MB first): a frame of 1 000 bytes or more must wait for room.
async fn client_with_full_queue(mode: Mode) -> (Arc<Connection>, Filling) {
    let addr = fake_server(mode).await;
    let config = ConnectionConfig {
        write_buffer_size: 1024,
        ..ConnectionConfig::default()
    };
    let conn = Arc::new(client(addr, &config).await);
    let mut tasks = Filling::new();
    for i in 0..20_000u32 {
        spawn_echoed(&mut tasks, &conn, format!("{i:0>900}"));
        tokio::task::yield_now().await;
        if conn.inner.queue.len() + 1000 > conn.inner.queue.capacity() {
            return (conn, tasks);
        }
    }
    panic!("the write queue never filled");
}

#[tokio::test]
async fn a_deadline_also_ends_the_wait_for_room_in_the_write_queue() {
    // The server never reads: the socket fills, then the write queue.
    let close = Arc::new(Notify::new());
    let (conn, mut stuck) = client_with_full_queue(Mode::Silent(close.clone())).await;
    let before = conn.in_flight();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(50);
    let started = std::time::Instant::now();
    let r = conn
        .send_until(
            &Raw::query(vec![b'x'; 1000]),
            HeaderFlags::default(),
            Some(deadline),
        )
        .await;
    assert!(matches!(r, Err(ConnectionError::DeadlinePassed)), "{r:?}");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(45), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    // Never sent: its id is free again at once (a sent one would stay reserved). The
    // timeout made the connection suspect: its probe (OPTIONS) takes one id and waits for
    // room too.
    assert!(conn.is_suspect());
    tokio::time::timeout(Duration::from_secs(1), async {
        while conn.in_flight() != before + 1 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("only the probe holds a new id");
    close.notify_one();
    stuck.abort_all();
}

#[tokio::test]
async fn requests_waiting_for_room_are_sent_when_the_queue_drains() {
    // The server reads nothing at first: the socket fills, then the write queue.
    let go = Arc::new(Notify::new());
    let (conn, mut tasks) = client_with_full_queue(Mode::EchoAfter(go.clone())).await;
    // These find the queue full (fewer than 1 000 bytes free, and each frame takes 1 009):
    // they wait for room (boxed) and are sent later.
    for i in 0..3u32 {
        spawn_echoed(&mut tasks, &conn, format!("late-{i:0>995}"));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    go.notify_one();
    let all = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(r) = tasks.join_next().await {
            r.unwrap().unwrap();
        }
    })
    .await;
    assert!(all.is_ok(), "requests waiting for room were never answered");
    all_ids_freed(&conn).await;
}

#[tokio::test]
async fn a_response_future_polled_after_completion_touches_no_slot() {
    let addr = fake_server(Mode::Echo).await;
    let conn = client(addr, &ConnectionConfig::default()).await;
    let (one, two) = (Raw::query("first"), Raw::query("second"));
    let mut first = conn.start_send(&one, HeaderFlags::default(), None).unwrap();
    let env = (&mut first).await.unwrap();
    assert_eq!(&env.body[..], b"first");
    // The id is free again; another request takes it.
    let second = conn.start_send(&two, HeaderFlags::default(), None).unwrap();
    let again = std::future::poll_fn(|cx| std::pin::Pin::new(&mut first).poll(cx)).await;
    assert!(matches!(again, Err(ConnectionError::Closed)), "{again:?}");
    let env = second.await.unwrap();
    assert_eq!(
        &env.body[..],
        b"second",
        "the completed future took another's response"
    );
}

#[tokio::test]
async fn dropped_future_before_poll_releases_or_orphans() {
    let addr = fake_server(Mode::Echo).await;
    let conn = client(addr, &ConnectionConfig::default()).await;
    // Never polled: nothing taken.
    drop(conn.send(&Raw::query("x"), HeaderFlags::default()));
    assert_eq!(conn.in_flight(), 0);
    let env = conn
        .send(&Raw::query("y"), HeaderFlags::default())
        .await
        .unwrap();
    assert_eq!(&env.body[..], b"y");
}

#[tokio::test]
async fn connection_death_wakes_every_waiter() {
    let close = Arc::new(Notify::new());
    let addr = fake_server(Mode::Silent(close.clone())).await;
    let conn = Arc::new(client(addr, &ConnectionConfig::default()).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..500 {
        let conn = conn.clone();
        tasks.spawn(async move {
            conn.send(&Raw::query(format!("q{i}")), HeaderFlags::default())
                .await
        });
    }
    while conn.in_flight() < 500 {
        tokio::task::yield_now().await;
    }
    close.notify_one();
    let all = tokio::time::timeout(Duration::from_secs(5), async {
        let mut n = 0;
        while let Some(r) = tasks.join_next().await {
            let err = r.unwrap().unwrap_err();
            assert!(matches!(err, ConnectionError::Broken(_)), "{err:?}");
            n += 1;
        }
        n
    })
    .await
    .unwrap();
    assert_eq!(all, 500);
    assert!(conn.is_closed());
    let err = conn
        .send(&Raw::query("late"), HeaderFlags::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectionError::Broken(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_32k_streams_in_flight() {
    // The server answers only after the test saw every id taken: answering as soon as it has
    // all the requests let the ids be freed before this task looked (a descheduled test
    // thread on a loaded machine), and the wait below never ended.
    let release = Arc::new(Notify::new());
    let addr = fake_server(Mode::BatchReverse(MAX_STREAMS, release.clone())).await;
    let conn = Arc::new(client(addr, &ConnectionConfig::default()).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..MAX_STREAMS as u32 {
        let conn = conn.clone();
        tasks.spawn(async move {
            let env = conn
                .send(&Raw::query(i.to_be_bytes()), HeaderFlags::default())
                .await
                .unwrap();
            assert_eq!(&env.body[..], &i.to_be_bytes());
        });
    }
    tokio::time::timeout(Duration::from_secs(60), async {
        while conn.in_flight() < MAX_STREAMS {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("every stream id taken within 60 s");
    let err = conn
        .send(&Raw::query("one too many"), HeaderFlags::default())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ConnectionError::StreamsExhausted(MAX_STREAMS)
    ));
    release.notify_one();
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    assert_eq!(conn.in_flight(), 0);
}

#[tokio::test]
async fn large_frames_take_the_side_path_and_oversized_ones_fail_locally() {
    let addr = fake_server(Mode::Echo).await;
    let config = ConnectionConfig {
        write_buffer_size: 1024,
        max_frame_size: 100_000,
        ..ConnectionConfig::default()
    };
    let conn = client(addr, &config).await;
    let big: Vec<u8> = (0..50_000u32).map(|i| i as u8).collect();
    let (big_req, small_req) = (Raw::query(big.clone()), Raw::query("small"));
    let (a, b) = tokio::join!(
        conn.send(&big_req, HeaderFlags::default()),
        conn.send(&small_req, HeaderFlags::default()),
    );
    assert_eq!(&a.unwrap().body[..], &big[..]);
    assert_eq!(&b.unwrap().body[..], b"small");
    let err = conn
        .send(&Raw::query(vec![0u8; 100_000]), HeaderFlags::default())
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        ConnectionError::FrameTooLarge {
            size: 100_009,
            max: 100_000,
            largest_value: None,
        }
    ));
    assert!(!conn.is_closed());
}

#[tokio::test]
async fn events_and_malformed_frames() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        sock.write_all(&frame(-1, Opcode::Event, b"event-body"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // A frame with an unknown opcode kills the connection.
        sock.write_all(&[0x84, 0, 0, 1, 0x42, 0, 0, 0, 0])
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
    });
    let conn = client(addr, &ConnectionConfig::default()).await;
    let mut events = conn.events();
    let ev = events.recv().await.unwrap();
    assert_eq!(ev.header.stream, -1);
    assert_eq!(&ev.body[..], b"event-body");
    let err = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match conn.send(&Raw::query("q"), HeaderFlags::default()).await {
                Err(e) => return e,
                Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    })
    .await
    .unwrap();
    assert!(matches!(err, ConnectionError::Broken(_)), "{err:?}");
    assert!(matches!(conn.error(), Some(ConnectionError::Frame(_))));
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_cancellations_never_misdeliver_or_leak() {
    let addr = fake_server(Mode::Echo).await;
    let conn = Arc::new(client(addr, &ConnectionConfig::default()).await);
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..64u32 {
        let conn = conn.clone();
        tasks.spawn(async move {
            let (mut answered, mut cancelled) = (0u32, 0u32);
            for i in 0..300u32 {
                let payload = format!("{t}-{i}");
                let request = Raw::query(payload.clone());
                if i % 5 == 1 {
                    // Queued, then dropped before any answer can have been read: a
                    // cancellation however fast the machine.
                    let mut send = std::pin::pin!(conn.send(&request, HeaderFlags::default()));
                    let first = std::future::poll_fn(|cx| {
                        std::task::Poll::Ready(send.as_mut().poll(cx).is_pending())
                    });
                    assert!(first.await, "answered before its frame was written");
                    cancelled += 1;
                    continue;
                }
                // Timeouts from 0 to ~60µs race the echo; every fifth request waits long
                // enough to be answered however slow the machine, so both outcomes occur.
                let limit = if i % 5 == 0 {
                    Duration::from_secs(10)
                } else {
                    Duration::from_micros(u64::from((t * 7 + i * 13) % 60))
                };
                match tokio::time::timeout(limit, conn.send(&request, HeaderFlags::default())).await
                {
                    Ok(Ok(env)) => {
                        assert_eq!(&env.body[..], payload.as_bytes(), "misdelivered");
                        answered += 1;
                    }
                    Ok(Err(e)) => panic!("{e:?}"),
                    Err(_) => cancelled += 1,
                }
            }
            (answered, cancelled)
        });
    }
    let (mut answered, mut cancelled) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (a, c) = r.unwrap();
        answered += a;
        cancelled += c;
    }
    assert_eq!(answered + cancelled, 64 * 300);
    assert!(
        answered > 0 && cancelled > 0,
        "{answered} answered, {cancelled} cancelled"
    );
    // Every cancelled request's late response arrives and frees its id.
    all_ids_freed(&conn).await;
    assert!(!conn.is_closed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_deadlines_expire_exactly_the_late_requests() {
    let release = Arc::new(Notify::new());
    let addr = fake_server(Mode::HoldSlow(release.clone())).await;
    let conn = Arc::new(client(addr, &ConnectionConfig::default()).await);
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..64u32 {
        let conn = conn.clone();
        tasks.spawn(async move {
            let mut expired = 0u32;
            for i in 0..60u32 {
                // Every third request is never answered in time; its deadline, 1 to 4 ms
                // away, races the expiry task's arming by the requests around it.
                let slow = i % 3 == 0;
                let payload = format!("{}-{t}-{i}", if slow { "slow" } else { "fast" });
                let wait = if slow {
                    Duration::from_millis(u64::from(1 + (t + i) % 4))
                } else {
                    Duration::from_secs(10)
                };
                let start = tokio::time::Instant::now();
                let request = Raw::query(payload.clone());
                let sent = conn.send_until(&request, HeaderFlags::default(), Some(start + wait));
                match tokio::time::timeout(Duration::from_secs(5), sent).await {
                    Ok(Ok(env)) => {
                        assert!(!slow, "a held request was answered");
                        assert_eq!(&env.body[..], payload.as_bytes(), "misdelivered");
                    }
                    Ok(Err(ConnectionError::DeadlinePassed)) => {
                        assert!(slow, "a fast request expired");
                        assert!(
                            start.elapsed() >= wait,
                            "expired early: {:?}",
                            start.elapsed()
                        );
                        expired += 1;
                    }
                    Ok(Err(e)) => panic!("{e:?}"),
                    Err(_) => panic!("{payload}: its deadline was never enforced"),
                }
            }
            expired
        });
    }
    let mut expired = 0;
    while let Some(r) = tasks.join_next().await {
        expired += r.unwrap();
    }
    assert_eq!(expired, 64 * 20);
    // A request passing its deadline sends a probe at once (the connection is suspect until
    // it is answered): the last one may still be out, its id taken beside the expired ones.
    let settle = tokio::time::Instant::now() + Duration::from_secs(2);
    while conn.in_flight() > 64 * 20 && tokio::time::Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(
        conn.in_flight(),
        64 * 20,
        "expired ids wait for their late answers"
    );
    release.notify_waiters();
    all_ids_freed(&conn).await;
    assert!(!conn.is_closed());
}

/// A connection holding write batches until the next read (`min_outstanding` 2, bound
/// `max_delay`), with two requests the server holds already sent.
async fn holding_client_with_two_outstanding(
    max_delay: Duration,
) -> (Arc<Connection>, Arc<Notify>, Filling) {
    let release = Arc::new(Notify::new());
    let addr = fake_server(Mode::HoldSlow(release.clone())).await;
    let config = ConnectionConfig {
        write_coalescing: WriteCoalescing::UntilNextRead {
            min_outstanding: 2,
            max_delay,
        },
        ..ConnectionConfig::default()
    };
    let conn = Arc::new(client(addr, &config).await);
    let mut slow = Filling::new();
    for i in 0..2 {
        spawn_echoed(&mut slow, &conn, format!("slow-{i}"));
    }
    // Nothing was outstanding when they were queued: they are written at once. Give the
    // server time to read them and wait for the release.
    tokio::time::sleep(Duration::from_millis(100)).await;
    (conn, release, slow)
}

/// Sends `fast` on `conn` from a task of its own.
fn send_fast(conn: &Arc<Connection>) -> tokio::task::JoinHandle<Result<Envelope, ConnectionError>> {
    let conn = conn.clone();
    tokio::spawn(async move { conn.send(&Raw::query("fast"), HeaderFlags::default()).await })
}

#[tokio::test]
async fn a_held_batch_goes_out_after_the_next_read() {
    let (conn, release, mut slow) =
        holding_client_with_two_outstanding(Duration::from_secs(60)).await;
    let fast = send_fast(&conn);
    // Two requests are outstanding: the fast one is held, not written.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!fast.is_finished(), "the batch was not held");
    // The slow answers arrive: their read ends the hold.
    release.notify_waiters();
    let env = tokio::time::timeout(Duration::from_secs(5), fast)
        .await
        .expect("the held batch was never written")
        .unwrap()
        .unwrap();
    assert_eq!(&env.body[..], b"fast");
    while let Some(r) = slow.join_next().await {
        r.unwrap().unwrap();
    }
    all_ids_freed(&conn).await;
}

#[tokio::test]
async fn a_hold_ends_at_its_bound_without_any_read() {
    let bound = Duration::from_millis(50);
    let (conn, release, mut slow) = holding_client_with_two_outstanding(bound).await;
    let start = tokio::time::Instant::now();
    let env = tokio::time::timeout(
        Duration::from_secs(5),
        conn.send(&Raw::query("fast"), HeaderFlags::default()),
    )
    .await
    .expect("the hold's bound never ended it")
    .unwrap();
    assert_eq!(&env.body[..], b"fast");
    assert!(
        start.elapsed() >= bound,
        "written before the bound: not held"
    );
    release.notify_waiters();
    while let Some(r) = slow.join_next().await {
        r.unwrap().unwrap();
    }
    all_ids_freed(&conn).await;
}

#[tokio::test]
async fn closing_a_connection_ends_a_hold() {
    let (conn, _release, mut slow) =
        holding_client_with_two_outstanding(Duration::from_secs(60)).await;
    let fast = send_fast(&conn);
    tokio::time::sleep(Duration::from_millis(100)).await;
    conn.close();
    let result = tokio::time::timeout(Duration::from_secs(5), fast)
        .await
        .expect("the held request was not failed")
        .unwrap();
    assert!(matches!(result, Err(ConnectionError::Closed)), "{result:?}");
    while let Some(r) = slow.join_next().await {
        let r = r.unwrap();
        assert!(
            r.is_err(),
            "the slow requests fail with the connection: {r:?}"
        );
    }
}
