//! Throughput of one connection with many requests in flight, the server on ONE core
//! (its own current-thread runtime on a dedicated thread), the client on another thread.
//!
//! `cargo test -p scylla2-sim --release --test throughput -- --ignored --nocapture`
//! prints requests/s for prepared single-row INSERT and SELECT. Set
//! SCYLLA2_SIM_MIN_RPS=100000 to turn the figure into an assertion.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use common::*;
use scylla2_sim::Cluster;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const EXECUTE: u8 = 0x0A;
const PREPARE: u8 = 0x09;

fn prepared_id(f: &Frame) -> Vec<u8> {
    assert_eq!(
        f.opcode,
        RESULT,
        "{f:?} {:?}",
        String::from_utf8_lossy(&f.body)
    );
    let n = u16::from_be_bytes([f.body[4], f.body[5]]) as usize;
    f.body[6..6 + n].to_vec()
}

fn execute_body(id: &[u8], values: &[Vec<u8>]) -> Vec<u8> {
    let mut b = (id.len() as u16).to_be_bytes().to_vec();
    b.extend_from_slice(id);
    b.extend_from_slice(&[0, 1, 0x01 | 0x02]); // ONE, VALUES | SKIP_METADATA
    b.extend_from_slice(&(values.len() as u16).to_be_bytes());
    for v in values {
        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
        b.extend_from_slice(v);
    }
    b
}

async fn query(cl: &mut Client, q: &str) {
    cl.send(1, QUERY, &query_body(q)).await;
    let f = cl.recv().await.unwrap();
    assert_eq!(
        f.opcode,
        RESULT,
        "{q}: {:?}",
        String::from_utf8_lossy(&f.body)
    );
}

/// Runs `total` EXECUTEs with `depth` in flight; returns requests per second.
async fn pipeline(addr: SocketAddr, id: &[u8], select: bool, total: usize, depth: usize) -> f64 {
    let mut cl = Client::connect(addr, 4).await;
    assert_eq!(cl.handshake(&[]).await.opcode, READY);
    let bodies: Vec<Vec<u8>> = (0..1024i32)
        .map(|k| {
            if select {
                execute_body(id, &[k.to_be_bytes().to_vec()])
            } else {
                execute_body(id, &[k.to_be_bytes().to_vec(), b"some value".to_vec()])
            }
        })
        .collect();
    let (mut rd, mut wr) = cl.stream.into_split();
    let start = Instant::now();
    let writer = tokio::spawn(async move {
        let mut sent = 0usize;
        let mut buf = Vec::with_capacity(1 << 16);
        while sent < total {
            buf.clear();
            // Send in bursts of up to `depth` / 4 frames.
            for _ in 0..(depth / 4).max(1).min(total - sent) {
                let stream = (sent % 32768) as i16;
                buf.extend_from_slice(&envelope(
                    4,
                    0,
                    stream,
                    EXECUTE,
                    &bodies[sent % bodies.len()],
                ));
                sent += 1;
            }
            wr.write_all(&buf).await.unwrap();
            tokio::task::yield_now().await;
        }
        wr
    });
    // Reader: count responses; flow control by a shared counter is unnecessary because TCP
    // buffers bound the in-flight window.
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    let mut have = 0usize;
    while got < total {
        let n = rd.read(&mut buf[have..]).await.unwrap();
        assert!(n > 0, "server closed");
        have += n;
        let mut pos = 0;
        while have - pos >= 9 {
            let len = i32::from_be_bytes(buf[pos + 5..pos + 9].try_into().unwrap()) as usize;
            if have - pos < 9 + len {
                break;
            }
            assert_eq!(
                buf[pos + 4],
                RESULT,
                "{:?}",
                String::from_utf8_lossy(&buf[pos..pos + 9 + len])
            );
            got += 1;
            pos += 9 + len;
        }
        buf.copy_within(pos..have, 0);
        have -= pos;
    }
    let rps = total as f64 / start.elapsed().as_secs_f64();
    let _ = writer.await;
    rps
}

#[test]
#[ignore = "throughput measurement; run in release"]
fn throughput_one_core() {
    // The server: a current-thread runtime on its own thread = one core.
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let c = Cluster::builder()
                .port(0)
                .base_ip(Ipv4Addr::new(127, 0, 31, 1))
                .start()
                .await
                .unwrap();
            tx.send(c.contact_points()[0]).unwrap();
            let _ = stop_rx.await;
        });
    });
    let addr = rx.recv().unwrap();
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    client.block_on(async move {
        let mut cl = Client::connect(addr, 4).await;
        cl.handshake(&[]).await;
        query(&mut cl, "CREATE KEYSPACE bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}").await;
        query(&mut cl, "CREATE TABLE bench.t (k int PRIMARY KEY, v text)").await;
        let prep = |s: &str| {
            let mut b = (s.len() as i32).to_be_bytes().to_vec();
            b.extend_from_slice(s.as_bytes());
            b
        };
        cl.send(2, PREPARE, &prep("INSERT INTO bench.t (k, v) VALUES (?, ?)")).await;
        let ins = prepared_id(&cl.recv().await.unwrap());
        cl.send(3, PREPARE, &prep("SELECT v FROM bench.t WHERE k = ?")).await;
        let sel = prepared_id(&cl.recv().await.unwrap());
        let total = 400_000;
        // Warm up, then measure.
        pipeline(addr, &ins, false, 20_000, 512).await;
        let insert = pipeline(addr, &ins, false, total, 512).await;
        let select = pipeline(addr, &sel, true, total, 512).await;
        println!("server on one core: prepared INSERT {insert:.0} req/s, prepared SELECT {select:.0} req/s");
        if let Ok(min) = std::env::var("SCYLLA2_SIM_MIN_RPS") {
            let min: f64 = min.parse().unwrap();
            assert!(insert >= min && select >= min, "below {min} req/s");
        }
    });
    let _ = stop_tx.send(());
    server.join().unwrap();
}
