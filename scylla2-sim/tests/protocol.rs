//! Protocol behaviour of the simulator with hand-written frames: handshake, negotiation,
//! v5 framing, compression, auth, malformed input, events and fault injection.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use scylla2_sim::{Cluster, Event, FaultAction, FaultRule, RequestKind, SimError};

fn addr(c: &Cluster, i: usize) -> SocketAddr {
    c.contact_points()[i]
}

async fn ready(c: &Cluster, i: usize, version: u8) -> Client {
    let mut cl = Client::connect(addr(c, i), version).await;
    let f = cl.handshake(&[]).await;
    assert_eq!(f.opcode, READY, "{f:?}");
    cl
}

/// Sends OPTIONS and checks SUPPORTED comes back on that stream.
async fn ping(cl: &mut Client, stream: i16) {
    cl.send(stream, OPTIONS, &[]).await;
    let f = cl.recv().await.expect("answer");
    assert_eq!((f.opcode, f.stream), (SUPPORTED, stream), "{f:?}");
}

fn get<'a>(m: &'a [(String, Vec<String>)], k: &str) -> Option<&'a Vec<String>> {
    m.iter().find(|(key, _)| key == k).map(|(_, v)| v)
}

#[tokio::test]
async fn supported_lists_scylla_keys_only_with_shards() {
    let c = cluster(1, 4).await;
    let mut cl = Client::connect(addr(&c, 0), 4).await;
    cl.send(3, OPTIONS, &[]).await;
    let f = cl.recv().await.unwrap();
    assert_eq!((f.version, f.stream, f.opcode), (0x84, 3, SUPPORTED));
    let m = f.multimap();
    assert_eq!(get(&m, "SCYLLA_NR_SHARDS").unwrap(), &vec!["4".to_string()]);
    assert_eq!(
        get(&m, "SCYLLA_SHARDING_IGNORE_MSB").unwrap(),
        &vec!["12".to_string()]
    );
    assert_eq!(
        get(&m, "SCYLLA_SHARD_AWARE_PORT").unwrap(),
        &vec![c.shard_aware_port().to_string()]
    );
    assert_eq!(
        get(&m, "SCYLLA_RATE_LIMIT_ERROR").unwrap(),
        &vec!["ERROR_CODE=61440".to_string()]
    );
    assert_eq!(
        get(&m, "COMPRESSION").unwrap(),
        &vec!["lz4".to_string(), "snappy".to_string()]
    );
    assert_eq!(
        get(&m, "PROTOCOL_VERSIONS").unwrap(),
        &vec!["4/v4".to_string(), "5/v5".to_string()]
    );
    // Round robin over shards on the normal port.
    let mut shards = Vec::new();
    for _ in 0..4 {
        let mut cl = Client::connect(addr(&c, 0), 4).await;
        cl.send(0, OPTIONS, &[]).await;
        let m = cl.recv().await.unwrap().multimap();
        shards.push(get(&m, "SCYLLA_SHARD").unwrap()[0].clone());
    }
    shards.sort();
    assert_eq!(shards, vec!["0", "1", "2", "3"]);

    let c = cluster(1, 0).await;
    let mut cl = Client::connect(addr(&c, 0), 4).await;
    ping(&mut cl, 1).await;
    cl.send(0, OPTIONS, &[]).await;
    let m = cl.recv().await.unwrap().multimap();
    assert!(m.iter().all(|(k, _)| !k.starts_with("SCYLLA")));
}

#[tokio::test]
async fn shard_aware_port_picks_shard_from_client_port() {
    let c = cluster(1, 4).await;
    for want in 0..4u16 {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        // Find a local port with port % 4 == want.
        let mut bound = false;
        for p in (40000u16..60000).filter(|p| p % 4 == want) {
            if sock.bind(format!("127.0.0.1:{p}").parse().unwrap()).is_ok() {
                bound = true;
                break;
            }
        }
        assert!(bound);
        let target: SocketAddr = format!("127.0.0.1:{}", c.shard_aware_port())
            .parse()
            .unwrap();
        let stream = sock.connect(target).await.unwrap();
        let mut cl = Client::connect_stream(stream, 4);
        cl.send(0, OPTIONS, &[]).await;
        let m = cl.recv().await.unwrap().multimap();
        assert_eq!(get(&m, "SCYLLA_SHARD").unwrap()[0], want.to_string());
    }
}

#[tokio::test]
async fn negotiation_refuses_higher_versions_with_max_supported() {
    let c = Cluster::builder()
        .port(0)
        .max_protocol_version(4)
        .start()
        .await
        .unwrap();
    for asked in [5u8, 6, 0x42] {
        let mut cl = Client::connect(addr(&c, 0), asked).await;
        cl.send(7, OPTIONS, &[]).await;
        let f = cl.recv().await.unwrap();
        assert_eq!((f.version, f.stream), (0x84, 7));
        let (code, msg) = f.error();
        assert_eq!(code, 0x0A);
        assert_eq!(
            msg,
            format!(
                "Invalid or unsupported protocol version ({asked}); supported versions are (4/v4)"
            )
        );
        assert!(cl.closed().await);
    }
    // Lower than supported: answered in the lowest supported version.
    let mut cl = Client::connect(addr(&c, 0), 3).await;
    cl.send(1, STARTUP, &string_map(&[("CQL_VERSION", "3.0.0")]))
        .await;
    let f = cl.recv().await.unwrap();
    assert_eq!(f.version, 0x84);
    assert!(f.error().1.contains("(3)"));
    // v4 works.
    let mut cl = ready(&c, 0, 4).await;
    ping(&mut cl, 9).await;
}

#[tokio::test]
async fn v5_framing_starts_after_ready_plain_and_lz4() {
    let c = cluster(1, 0).await;
    for compression in [None, Some("lz4")] {
        let mut cl = Client::connect(addr(&c, 0), 5).await;
        ping(&mut cl, 1).await; // unframed before STARTUP
        let extra: Vec<(&str, &str)> = compression.iter().map(|c| ("COMPRESSION", *c)).collect();
        let f = cl.handshake(&extra).await;
        assert_eq!((f.version, f.opcode), (0x85, READY));
        assert!(cl.framed);
        ping(&mut cl, 2).await; // framed after
        // Two envelopes in one segment, answered.
        let mut two = envelope(5, 0, 3, OPTIONS, &[]);
        two.extend(envelope(5, 0, 4, OPTIONS, &[]));
        let seg = segment(&two, cl.lz4);
        cl.send_raw(&seg).await;
        let a = cl.recv().await.unwrap();
        let b = cl.recv().await.unwrap_or_else(|| panic!("second"));
        let mut streams = [a.stream, b.stream];
        streams.sort();
        assert_eq!(streams, [3, 4]);
    }
    // A corrupted segment closes the connection.
    let mut cl = Client::connect(addr(&c, 0), 5).await;
    cl.handshake(&[]).await;
    let mut seg = segment(&envelope(5, 0, 1, OPTIONS, &[]), false);
    let n = seg.len();
    seg[n - 1] ^= 0xff;
    cl.send_raw(&seg).await;
    assert!(cl.closed().await);
}

#[tokio::test]
async fn v4_compression_lz4_and_snappy() {
    let c = cluster(1, 0).await;
    for comp in ["lz4", "snappy"] {
        let mut cl = Client::connect(addr(&c, 0), 4).await;
        let f = cl.handshake(&[("COMPRESSION", comp)]).await;
        assert_eq!(f.opcode, READY);
        cl.send(5, OPTIONS, &[]).await;
        let f = cl.recv().await.unwrap();
        assert_eq!(f.flags & 1, 1, "SUPPORTED is compressed with {comp}");
        assert!(get(&f.multimap(), "COMPRESSION").is_some());
        // A compressed REGISTER is understood.
        let mut body = 1u16.to_be_bytes().to_vec();
        string(&mut body, "SCHEMA_CHANGE");
        cl.send(6, REGISTER, &body).await;
        assert_eq!(cl.recv().await.unwrap().opcode, READY);
    }
    // Unknown compression is refused.
    let mut cl = Client::connect(addr(&c, 0), 4).await;
    let f = cl.handshake(&[("COMPRESSION", "zstd")]).await;
    assert_eq!(f.error().0, 0x0A);
}

#[tokio::test]
async fn password_authentication() {
    let c = Cluster::builder()
        .port(0)
        .password_auth([("cassandra", "secret")])
        .start()
        .await
        .unwrap();
    for version in [4u8, 5] {
        let mut cl = Client::connect(addr(&c, 0), version).await;
        let f = cl.handshake(&[]).await;
        assert_eq!(f.opcode, AUTHENTICATE);
        let mut b = Vec::new();
        let tok = b"\0cassandra\0wrong";
        b.extend_from_slice(&(tok.len() as i32).to_be_bytes());
        b.extend_from_slice(tok);
        // Queries before auth are refused.
        cl.send(1, OPTIONS, &[]).await;
        assert_eq!(cl.recv().await.unwrap().opcode, SUPPORTED);
        cl.send(2, AUTH_RESPONSE, &b).await;
        let f = cl.recv().await.unwrap();
        assert_eq!(f.error().0, 0x0100);
        let tok = b"\0cassandra\0secret";
        let mut b = (tok.len() as i32).to_be_bytes().to_vec();
        b.extend_from_slice(tok);
        cl.send(3, AUTH_RESPONSE, &b).await;
        let f = cl.recv().await.unwrap();
        assert_eq!((f.opcode, f.stream), (AUTH_SUCCESS, 3));
        ping(&mut cl, 4).await;
    }
}

#[tokio::test]
async fn malformed_frames_close_only_their_connection() {
    let c = cluster(1, 2).await;
    let mut healthy = ready(&c, 0, 4).await;
    let bad_inputs: Vec<Vec<u8>> = vec![
        // Bad version byte.
        envelope(0x09, 0, 1, OPTIONS, &[]),
        // Negative body length.
        vec![0x04, 0, 0, 1, OPTIONS, 0xff, 0xff, 0xff, 0xf0],
        // Response direction bit.
        envelope(0x84, 0, 1, OPTIONS, &[]),
    ];
    for bad in bad_inputs {
        let mut cl = Client::connect(addr(&c, 0), 4).await;
        cl.send_raw(&bad).await;
        let f = cl.recv().await.expect("an error before closing");
        assert_eq!((f.stream, f.error().0), (1, 0x0A));
        assert!(cl.closed().await);
        ping(&mut healthy, 1).await;
    }
    // Garbage body after a valid header: PROTOCOL_ERROR, connection stays usable.
    let mut cl = ready(&c, 0, 4).await;
    cl.send(5, QUERY, &[0xde, 0xad, 0xbe, 0xef, 1, 2, 3]).await;
    let f = cl.recv().await.unwrap();
    assert_eq!((f.stream, f.error().0), (5, 0x0A));
    ping(&mut cl, 6).await;
    // Truncated body then hang-up: the server just drops it.
    let mut cl = Client::connect(addr(&c, 0), 4).await;
    let env = envelope(4, 0, 1, STARTUP, &string_map(&[("CQL_VERSION", "3.0.0")]));
    cl.send_raw(&env[..env.len() - 3]).await;
    drop(cl);
    // Huge (but valid) length with no body: nothing allocated, other connections fine.
    let mut cl = Client::connect(addr(&c, 0), 4).await;
    cl.send_raw(&[0x04, 0, 0, 1, OPTIONS, 0x00, 0xff, 0xff, 0xff])
        .await;
    ping(&mut healthy, 2).await;
    drop(cl);
    // Query before STARTUP: PROTOCOL_ERROR, connection stays.
    let mut cl = Client::connect(addr(&c, 0), 4).await;
    cl.send(8, QUERY, &query_body("SELECT * FROM system.local"))
        .await;
    let (code, msg) = cl.recv().await.unwrap().error();
    assert_eq!(code, 0x0A);
    assert!(msg.contains("expecting STARTUP"), "{msg}");
    ping(&mut cl, 9).await;
    ping(&mut healthy, 3).await;
    assert!(c.connection_count(0).unwrap() >= 2);
}

#[tokio::test]
async fn panic_in_a_handler_kills_only_that_connection() {
    let c = cluster(1, 0).await;
    let mut healthy = ready(&c, 0, 4).await;
    let mut victim = ready(&c, 0, 4).await;
    c.inject(FaultRule::new(FaultAction::Panic).kind(RequestKind::Options));
    victim.send(1, OPTIONS, &[]).await;
    assert!(victim.closed().await);
    ping(&mut healthy, 2).await;
    let mut fresh = ready(&c, 0, 4).await;
    ping(&mut fresh, 3).await;
    // The dead connection was forgotten.
    let deadline = Instant::now() + Duration::from_secs(2);
    while c.connection_count(0).unwrap() != 2 {
        assert!(
            Instant::now() < deadline,
            "dead connection still registered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn custom_payload_flag_is_skipped() {
    let c = cluster(1, 0).await;
    let mut cl = ready(&c, 0, 4).await;
    // bytes map {"k": [0xaa]} then an empty OPTIONS body.
    let body = [0, 1, 0, 1, b'k', 0, 0, 0, 1, 0xaa];
    cl.send_flags(0x04, 4, OPTIONS, &body).await;
    assert_eq!(cl.recv().await.unwrap().opcode, SUPPORTED);
    // A broken payload is a protocol error.
    cl.send_flags(0x04, 5, OPTIONS, &[0, 1, 0, 9]).await;
    assert_eq!(cl.recv().await.unwrap().error().0, 0x0A);
}

#[tokio::test]
async fn injected_errors_delays_and_no_answer() {
    let c = cluster(2, 0).await;
    let mut cl = ready(&c, 0, 4).await;
    let mut body = 1u16.to_be_bytes().to_vec();
    string(&mut body, "STATUS_CHANGE");
    c.inject(
        FaultRule::error(SimError::ReadTimeout {
            consistency: 1,
            received: 0,
            block_for: 1,
            data_present: false,
        })
        .kind(RequestKind::Register)
        .node(0)
        .times(2),
    );
    for s in 1..=2 {
        cl.send(s, REGISTER, &body).await;
        let f = cl.recv().await.unwrap();
        assert_eq!((f.stream, f.error().0), (s, 0x1200));
    }
    cl.send(3, REGISTER, &body).await;
    assert_eq!(cl.recv().await.unwrap().opcode, READY);

    // Delay on node 0.
    c.set_delay(0, None, Duration::from_millis(300)).unwrap();
    let t = Instant::now();
    ping(&mut cl, 4).await;
    assert!(t.elapsed() >= Duration::from_millis(290));
    c.set_delay(0, None, Duration::ZERO).unwrap();

    // No answer for one OPTIONS, the next is answered.
    c.inject(FaultRule::new(FaultAction::NoAnswer).kind(RequestKind::Options));
    cl.send(5, OPTIONS, &[]).await;
    ping(&mut cl, 6).await;

    // Pause: nothing answered until resumed.
    c.pause_node(0).unwrap();
    cl.send(7, OPTIONS, &[]).await;
    let mut tmp = [0u8; 16];
    use tokio::io::AsyncReadExt;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), cl.stream.read(&mut tmp))
            .await
            .is_err()
    );
    c.resume_node(0).unwrap();
    assert_eq!(cl.recv().await.unwrap().stream, 7);

    // A malformed frame pushed by the server.
    c.send_malformed(0).unwrap();
    let f = cl.recv().await.unwrap();
    assert_eq!(f.version, 0x7f);
}

#[tokio::test]
async fn stop_start_and_events() {
    let c = cluster(3, 0).await;
    let mut listener = ready(&c, 0, 4).await;
    let mut body = 2u16.to_be_bytes().to_vec();
    string(&mut body, "STATUS_CHANGE");
    string(&mut body, "TOPOLOGY_CHANGE");
    listener.send(1, REGISTER, &body).await;
    assert_eq!(listener.recv().await.unwrap().opcode, READY);
    let mut on_node1 = ready(&c, 1, 4).await;
    let a1 = addr(&c, 1);

    c.stop_node(1).await.unwrap();
    assert!(on_node1.closed().await);
    assert!(
        tokio::net::TcpStream::connect(a1).await.is_err(),
        "connects refused"
    );
    let ev = listener.recv().await.unwrap();
    assert_eq!((ev.opcode, ev.stream), (EVENT, -1));
    let mut expected = Vec::new();
    string(&mut expected, "STATUS_CHANGE");
    string(&mut expected, "DOWN");
    expected.extend_from_slice(&[4, 127, 0, 0, 2]);
    expected.extend_from_slice(&i32::from(a1.port()).to_be_bytes());
    assert_eq!(ev.body, expected);
    assert!(!c.nodes()[1].up);

    c.start_node(1).await.unwrap();
    let ev = listener.recv().await.unwrap();
    assert!(String::from_utf8_lossy(&ev.body).contains("UP"));
    let mut again = ready(&c, 1, 4).await;
    ping(&mut again, 1).await;

    let i = c.add_node().await.unwrap();
    assert_eq!(i, 3);
    let ev = listener.recv().await.unwrap();
    assert!(String::from_utf8_lossy(&ev.body).contains("NEW_NODE"));
    let mut n3 = ready(&c, 3, 4).await;
    ping(&mut n3, 1).await;

    c.push_event(Event::Status {
        change: "UP".into(),
        address: a1,
    });
    let ev = listener.recv().await.unwrap();
    assert!(String::from_utf8_lossy(&ev.body).contains("STATUS_CHANGE"));

    c.drop_connections(0).unwrap();
    assert!(listener.closed().await);
    let mut back = ready(&c, 0, 4).await;
    ping(&mut back, 1).await;
}

#[tokio::test]
async fn delay_per_shard() {
    let c = cluster(1, 2).await;
    // The slow shard's 2 s leave the fast one room on a slow machine.
    c.set_delay(0, Some(1), Duration::from_secs(2)).unwrap();
    assert!(c.set_delay(0, Some(7), Duration::from_millis(1)).is_err());
    for _ in 0..2 {
        let mut cl = ready(&c, 0, 4).await;
        cl.send(1, OPTIONS, &[]).await;
        let t = Instant::now();
        let f = cl.recv().await.unwrap();
        let shard = get(&f.multimap(), "SCYLLA_SHARD").unwrap()[0].clone();
        let slow = t.elapsed() >= Duration::from_millis(1_990);
        assert_eq!(slow, shard == "1", "shard {shard} slow={slow}");
    }
}

#[test]
fn cluster_is_send_and_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<Cluster>();
}

#[tokio::test]
async fn tracing_flag_gets_a_tracing_id() {
    let c = cluster(1, 0).await;
    let mut cl = ready(&c, 0, 4).await;
    cl.send_flags(0x02, 3, QUERY, &query_body("SELECT key FROM system.local"))
        .await;
    let f = cl.recv().await.unwrap();
    assert_eq!((f.opcode, f.flags & 0x02), (RESULT, 0x02));
    assert_eq!(f.body[6] >> 4, 1, "version 1 uuid");
    assert_eq!(&f.body[16..20], &[0, 0, 0, 2], "rows after the tracing id");
    // Without the flag: no tracing id.
    cl.send(4, QUERY, &query_body("SELECT key FROM system.local"))
        .await;
    let f = cl.recv().await.unwrap();
    assert_eq!((f.flags & 0x02, &f.body[..4]), (0, &[0u8, 0, 0, 2][..]));
}

#[tokio::test]
async fn shard_aware_port_can_be_disabled_or_natted() {
    let c = Cluster::builder()
        .shards(2)
        .port(0)
        .no_shard_aware_port()
        .start()
        .await
        .unwrap();
    assert_eq!(c.shard_aware_port(), 0);
    let mut cl = Client::connect(addr(&c, 0), 4).await;
    cl.send(0, OPTIONS, &[]).await;
    let m = cl.recv().await.unwrap().multimap();
    assert!(get(&m, "SCYLLA_SHARD_AWARE_PORT").is_none());
    assert!(get(&m, "SCYLLA_NR_SHARDS").is_some());

    // NAT: the client port no longer decides the shard.
    let c = cluster(1, 4).await;
    c.set_shard_aware_nat(true);
    let mut seen = Vec::new();
    for _ in 0..4 {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        let bound = (41000u16..60000)
            .step_by(4)
            .any(|p| sock.bind(format!("127.0.0.1:{p}").parse().unwrap()).is_ok());
        assert!(bound);
        let target: SocketAddr = format!("127.0.0.1:{}", c.shard_aware_port())
            .parse()
            .unwrap();
        let mut cl = Client::connect_stream(sock.connect(target).await.unwrap(), 4);
        cl.send(0, OPTIONS, &[]).await;
        let m = cl.recv().await.unwrap().multimap();
        seen.push(get(&m, "SCYLLA_SHARD").unwrap()[0].clone());
    }
    seen.sort();
    assert_eq!(
        seen,
        vec!["0", "1", "2", "3"],
        "round robin despite port % 4 == 0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_gets_backpressure_not_loss() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let c = cluster(1, 0).await;
    let mut healthy = ready(&c, 0, 4).await;
    let flood = ready(&c, 0, 4).await;
    const N: usize = 60_000;
    let mut burst = Vec::new();
    for i in 0..N {
        burst.extend(envelope(4, 0, (i % 30000) as i16, OPTIONS, &[]));
    }
    let (mut rd, mut wr) = flood.stream.into_split();
    let writer = tokio::spawn(async move {
        wr.write_all(&burst).await.unwrap();
        wr
    });
    // Let the server fill its backlog while nobody reads.
    tokio::time::sleep(Duration::from_millis(500)).await;
    ping(&mut healthy, 1).await;
    // Now read everything: every request is answered exactly once.
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    let mut have = 0usize;
    while got < N {
        let n = tokio::time::timeout(Duration::from_secs(10), rd.read(&mut buf[have..]))
            .await
            .expect("answers keep coming")
            .unwrap();
        assert!(n > 0);
        have += n;
        let pos = for_each_frame(&buf[..have], |frame| {
            assert_eq!(frame[4], SUPPORTED);
            got += 1;
        });
        buf.copy_within(pos..have, 0);
        have -= pos;
    }
    assert_eq!(got, N);
    let _ = writer.await;
}

#[tokio::test]
async fn topology_from_the_builder() {
    let c = Cluster::builder()
        .nodes(3)
        .datacenters([("dc1", 2), ("dc2", 1)])
        .racks(["r1", "r2"])
        .tokens_per_node(8)
        .seed(42)
        .port(0)
        .base_ip(std::net::Ipv4Addr::new(127, 0, 40, 10))
        .start()
        .await
        .unwrap();
    let nodes = c.nodes();
    let dcs: Vec<&str> = nodes.iter().map(|n| n.datacenter.as_str()).collect();
    let racks: Vec<&str> = nodes.iter().map(|n| n.rack.as_str()).collect();
    assert_eq!(dcs, ["dc1", "dc1", "dc2"]);
    assert_eq!(racks, ["r1", "r2", "rack1"]);
    let addrs: Vec<String> = c
        .contact_points()
        .iter()
        .map(|a| a.ip().to_string())
        .collect();
    assert_eq!(addrs, ["127.0.40.10", "127.0.40.11", "127.0.40.12"]);
    assert!(
        nodes
            .iter()
            .all(|n| n.tokens.len() == 8 && n.port == c.port() && n.up)
    );
    let mut hosts: Vec<_> = nodes.iter().map(|n| n.host_id).collect();
    hosts.dedup();
    assert_eq!(hosts.len(), 3);
    // Same seed, same tokens.
    let again = Cluster::builder()
        .nodes(3)
        .tokens_per_node(8)
        .seed(42)
        .port(0)
        .base_ip(std::net::Ipv4Addr::new(127, 0, 41, 10))
        .start()
        .await
        .unwrap();
    assert_eq!(again.nodes()[1].tokens, nodes[1].tokens);
    assert!(Cluster::builder().nodes(0).start().await.is_err());
    assert!(
        Cluster::builder()
            .max_protocol_version(6)
            .start()
            .await
            .is_err()
    );
}
