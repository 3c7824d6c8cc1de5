//! The `scylla2-sim` binary: prints its contact points, serves, stops on SIGINT.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use common::*;

#[tokio::test]
async fn binary_serves_until_interrupted() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scylla2-sim"))
        .args([
            "--nodes",
            "2",
            "--shards",
            "2",
            "--port",
            "0",
            "--shard-aware-port",
            "0",
        ])
        .args(["--base-ip", "127.0.50.1", "--protocol", "4"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut points = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("contact points: ") {
            points = rest
                .split(',')
                .map(|p| p.parse::<SocketAddr>().unwrap())
                .collect();
            break;
        }
    }
    assert_eq!(points.len(), 2);
    assert_eq!(points[1].ip().to_string(), "127.0.50.2");
    for p in &points {
        let mut cl = Client::connect(*p, 4).await;
        assert_eq!(cl.handshake(&[]).await.opcode, READY);
        cl.send(1, QUERY, &query_body("SELECT key FROM system.local"))
            .await;
        assert_eq!(cl.recv().await.unwrap().opcode, RESULT);
    }
    // v5 is refused: the binary was started with --protocol 4.
    let mut cl = Client::connect(points[0], 5).await;
    cl.send(1, OPTIONS, &[]).await;
    assert_eq!(cl.recv().await.unwrap().error().0, 0x0A);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait().unwrap();
    assert!(out.success(), "{out:?}");
    assert!(lines.any(|l| l.unwrap().contains("stopped")));
}

#[test]
fn binary_rejects_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_scylla2-sim"))
        .args(["--nodes", "many"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--nodes"));
}
