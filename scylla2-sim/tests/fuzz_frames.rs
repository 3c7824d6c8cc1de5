//! Seeded garbage against a live node: random bytes, valid headers with random bodies for
//! every opcode (v4 plain, v4 compressed, v5 framed), truncated and mutated real requests.
//! Nothing may panic anywhere in the server, and a healthy connection keeps working.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cassandra_protocol::compression::Compression;
use common::*;
use scylla2_sim::Cluster;
use tokio::io::AsyncWriteExt;

static PANICS: AtomicUsize = AtomicUsize::new(0);

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Plausible request bodies to mutate.
fn seeds() -> Vec<(u8, Vec<u8>)> {
    let mut execute = vec![0, 2, 1, 2];
    execute.extend_from_slice(&[0, 1, 0x01, 0, 2, 0, 0, 0, 1, 7, 0xff, 0xff, 0xff, 0xff]);
    vec![
        (
            STARTUP,
            string_map(&[("CQL_VERSION", "3.0.0"), ("COMPRESSION", "lz4")]),
        ),
        (QUERY, query_body("SELECT * FROM system.local")),
        (0x09, {
            let q = "SELECT * FROM system.peers WHERE peer = ?";
            let mut b = (q.len() as i32).to_be_bytes().to_vec();
            b.extend_from_slice(q.as_bytes());
            b
        }),
        (0x0A, execute),
        (0x0D, vec![1, 0, 1, 0, 0, 0, 0, 1, b'q', 0, 0, 0, 1, 0]),
        (REGISTER, {
            let mut b = 1u16.to_be_bytes().to_vec();
            string(&mut b, "SCHEMA_CHANGE");
            b
        }),
        (AUTH_RESPONSE, vec![0, 0, 0, 3, 0, b'a', 0]),
    ]
}

fn mutate(rng: &mut Rng, body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    match rng.below(4) {
        0 => {
            for _ in 0..=rng.below(4) {
                if !b.is_empty() {
                    let i = rng.below(b.len() as u64) as usize;
                    b[i] = rng.next() as u8;
                }
            }
        }
        1 => b.truncate(rng.below(b.len() as u64 + 1) as usize),
        2 => {
            let n = rng.below(16) as usize;
            b.extend(rng.bytes(n));
        }
        _ => {
            // Plant a negative length / count somewhere.
            if b.len() >= 4 {
                let i = rng.below(b.len() as u64 - 3) as usize;
                b[i..i + 4].copy_from_slice(&(-(rng.below(1000) as i32) - 1).to_be_bytes());
            }
        }
    }
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_never_panics_the_server() {
    std::panic::set_hook(Box::new(|info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        eprintln!("PANIC: {info}");
    }));
    let c = Cluster::builder()
        .shards(2)
        .port(0)
        .shard_aware_port(0)
        .start()
        .await
        .unwrap();
    let addr = c.contact_points()[0];
    let mut healthy = Client::connect(addr, 4).await;
    assert_eq!(healthy.handshake(&[]).await.opcode, READY);
    let mut rng = Rng(0x5eed);
    let seeds = seeds();
    for round in 0..300 {
        let mode = round % 4;
        let mut cl = Client::connect(addr, if mode == 3 { 5 } else { 4 }).await;
        match mode {
            0 => {
                // Pure garbage.
                let n = rng.below(64) as usize;
                let _ = cl.stream.write_all(&rng.bytes(n)).await;
            }
            1 | 2 => {
                // Valid handshake (compressed in mode 2), then mutated requests.
                let extra: &[(&str, &str)] = if mode == 2 {
                    &[("COMPRESSION", "lz4")]
                } else {
                    &[]
                };
                cl.handshake(extra).await;
                for _ in 0..4 {
                    let (op, body) = &seeds[rng.below(seeds.len() as u64) as usize];
                    let body = mutate(&mut rng, body);
                    let flags = (rng.below(8) as u8) & 0x07;
                    let body = if mode == 2 && flags & 1 != 0 && rng.below(2) == 0 {
                        Compression::Lz4.encode(&body).unwrap()
                    } else {
                        body
                    };
                    let env = envelope(4, flags, rng.below(100) as i16, *op, &body);
                    let _ = cl.stream.write_all(&env).await;
                }
            }
            _ => {
                // v5 framed: mutated envelopes in valid segments, or mutated segments.
                cl.handshake(&[]).await;
                for _ in 0..3 {
                    let (op, body) = &seeds[rng.below(seeds.len() as u64) as usize];
                    let env = envelope(5, 0, 1, *op, &mutate(&mut rng, body));
                    let mut seg = segment(&env, false);
                    if rng.below(3) == 0 {
                        seg = mutate(&mut rng, &seg);
                    }
                    let _ = cl.stream.write_all(&seg).await;
                }
            }
        }
        let _ = cl.stream.flush().await;
        // Read whatever comes back for a moment, then hang up.
        let _ = tokio::time::timeout(Duration::from_millis(5), cl.recv()).await;
        drop(cl);
        if round % 50 == 49 {
            healthy.send(1, OPTIONS, &[]).await;
            assert_eq!(healthy.recv().await.unwrap().opcode, SUPPORTED);
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    healthy
        .send(2, QUERY, &query_body("SELECT key FROM system.local"))
        .await;
    assert_eq!(healthy.recv().await.unwrap().opcode, RESULT);
    let _ = std::panic::take_hook();
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "the server panicked");
}
