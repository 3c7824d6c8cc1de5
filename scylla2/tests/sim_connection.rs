//! The connection layer against the embedded simulator (`scylla2-sim`), whose protocol code
//! is independent of `scylla2-cql`: handshake at v5 and v4, compression, authentication,
//! Scylla sharding data and the shard-aware port. Simulator-only: skipped with SCYLLA_URI.

use std::sync::Arc;

use scylla2::ProtocolVersion;
use scylla2::auth::PlainTextAuthenticator;
use scylla2::{
    connection::{Compression, Connection, ConnectionConfig},
    error::ConnectionError,
};
use scylla2_cql::frame::{HeaderFlags, Opcode};
use scylla2_cql::request::Options;
use scylla2_sim::Cluster;

fn real_cluster() -> bool {
    std::env::var_os("SCYLLA_URI").is_some()
}

async fn ping(conn: &Connection) {
    let env = conn.send(&Options, HeaderFlags::default()).await.unwrap();
    assert_eq!(env.header.opcode, Opcode::Supported);
}

#[tokio::test]
async fn negotiates_v5_and_v4_with_each_compression() {
    if real_cluster() {
        return;
    }
    let v5 = Cluster::builder().port(0).start().await.unwrap();
    let v4 = Cluster::builder()
        .port(0)
        .max_protocol_version(4)
        .start()
        .await
        .unwrap();
    for (cluster, expected) in [(&v5, ProtocolVersion::V5), (&v4, ProtocolVersion::V4)] {
        let addr = cluster.contact_points()[0];
        for compression in [None, Some(Compression::Lz4), Some(Compression::Snappy)] {
            let mut config = ConnectionConfig::default();
            config.compression = compression;
            let conn = Connection::open(addr, None, &config).await.unwrap();
            assert_eq!(conn.protocol_version(), expected);
            let negotiated = match (expected, compression) {
                (ProtocolVersion::V5, Some(Compression::Snappy)) => None,
                (_, c) => c,
            };
            assert_eq!(conn.info().compression, negotiated);
            for _ in 0..20 {
                ping(&conn).await;
            }
        }
    }
}

#[tokio::test]
async fn authenticates_with_plain_text() {
    if real_cluster() {
        return;
    }
    let cluster = Cluster::builder()
        .port(0)
        .password_auth([("cassandra", "secret")])
        .start()
        .await
        .unwrap();
    let addr = cluster.contact_points()[0];
    let err = Connection::open(addr, None, &ConnectionConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectionError::Handshake(_)), "{err:?}");
    let mut bad = ConnectionConfig::default();
    bad.authenticator = Some(Arc::new(PlainTextAuthenticator::new("cassandra", "x")));
    let err = Connection::open(addr, None, &bad).await.unwrap_err();
    assert!(matches!(err, ConnectionError::Handshake(_)), "{err:?}");
    let mut good = ConnectionConfig::default();
    good.authenticator = Some(Arc::new(PlainTextAuthenticator::new("cassandra", "secret")));
    let conn = Connection::open(addr, None, &good).await.unwrap();
    ping(&conn).await;
}

#[tokio::test]
async fn scylla_sharding_and_shard_aware_port() {
    if real_cluster() {
        return;
    }
    let cluster = Cluster::builder()
        .shards(4)
        .port(0)
        .shard_aware_port(0)
        .start()
        .await
        .unwrap();
    let addr = cluster.contact_points()[0];
    let conn = Connection::open(addr, None, &ConnectionConfig::default())
        .await
        .unwrap();
    let sharding = conn.info().sharding.clone().unwrap();
    assert_eq!(sharding.nr_shards, 4);
    assert!(sharding.shard < 4);
    assert!(conn.info().response_context.lwt_mask.is_some());
    let aware = std::net::SocketAddr::new(addr.ip(), sharding.shard_aware_port.unwrap());
    // Connect from a local port chosen so that port % 4 == wanted shard.
    for wanted in 0..4u16 {
        let mut opened = None;
        for base in (40_000u16..60_000)
            .step_by(4)
            .skip(usize::from(wanted) * 97)
        {
            let port = base + wanted;
            match Connection::open(aware, Some(port), &ConnectionConfig::default()).await {
                Ok(c) => {
                    opened = Some(c);
                    break;
                }
                Err(ConnectionError::Io(_)) => continue,
                Err(e) => panic!("{e:?}"),
            }
        }
        let conn = opened.unwrap();
        assert_eq!(conn.local_addr().port() % 4, wanted);
        assert_eq!(
            conn.info().sharding.as_ref().unwrap().shard,
            u32::from(wanted)
        );
        ping(&conn).await;
    }
}
