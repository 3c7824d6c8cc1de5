//! Client TLS (feature `rustls-023`) against the simulator serving TLS: server verification
//! (by IP address and by host name), a wrong CA and a wrong server name rejected with typed
//! errors, mutual TLS required and satisfied or not, a TLS client against a plain port,
//! ScyllaDB's shard-aware TLS port (every shard's connection through it, every request on
//! its owning node and shard; behind a NAT, the fallback to the normal TLS port), and the
//! allocations per request over TLS in steady state.
#![cfg(feature = "rustls-023")]

mod common;
mod routing_support;

use std::net::SocketAddr;

use common::counting::{IN_FLIGHT, OPS, create_table, insert, measure, select};
use scylla2::{Session, error::SessionError};
use scylla2::{
    connection::{Connection, ConnectionConfig, TlsContext},
    error::{ConnectionError, TlsError, TlsFailure},
};
use scylla2_sim::Cluster;
use scylla2_sim::SimTls;

#[global_allocator]
static GLOBAL: common::counting::Counting = common::counting::Counting;

/// A started 1-node simulator serving `tls`.
async fn sim(tls: SimTls) -> Cluster {
    Cluster::builder()
        .port(0)
        .tls(tls)
        .start()
        .await
        .expect("simulator starts")
}

/// The trusted-CA context of `sim`.
fn context(sim: &Cluster) -> TlsContext {
    let ca = sim.tls_ca_pem().expect("a test CA");
    TlsContext::from_pem(ca.as_bytes(), None).expect("CA PEM")
}

/// A session (unrouted and routed alike: the error cases fail before routing matters).
async fn connect(contact: String, tls: TlsContext) -> Result<Session, SessionError> {
    Session::builder()
        .contact_point(contact)
        .tls(tls)
        .connect()
        .await
}

/// Runs a query that reads a row back from the node.
async fn works(session: &Session) {
    let result = session
        .execute("SELECT release_version FROM system.local", ())
        .await
        .expect("query over TLS");
    let (version,): (&str,) = result.single_row().expect("one row");
    assert!(!version.is_empty());
}

/// The TLS error of the only connection tried, printed for the record.
fn tls_error(result: Result<Session, SessionError>) -> (SocketAddr, TlsError) {
    let Err(SessionError::Connect(failures)) = result else {
        panic!("the connection must fail with a connection error");
    };
    let (addr, error) = failures.into_iter().next().expect("one failure");
    println!("{addr}: {error}");
    match error {
        ConnectionError::Tls(e) => (addr, (*e).clone()),
        other => panic!("not a TLS error: {other}"),
    }
}

fn failure(error: &TlsError) -> &TlsFailure {
    match error {
        TlsError::Handshake { failure, .. } => failure,
        other => panic!("not a handshake failure: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_verifies_the_server_by_ip_address_and_by_name() {
    let sim = sim(SimTls::self_signed().unwrap()).await;
    let addr = sim.contact_points()[0];
    // An IP contact point: the node's certificate must hold its IP address.
    let session = connect(addr.to_string(), context(&sim)).await.unwrap();
    assert!(session.is_routing());
    works(&session).await;
    // A named contact point: verified against the name (the certificate says localhost).
    let named = connect(format!("localhost:{}", addr.port()), context(&sim))
        .await
        .unwrap();
    works(&named).await;
    // An unrouted session (its contact points' connections only) uses TLS too.
    let unrouted = Session::builder()
        .contact_point(addr.to_string())
        .topology(None)
        .tls(context(&sim))
        .connect()
        .await
        .unwrap();
    assert!(!unrouted.is_routing());
    works(&unrouted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_another_ca_is_rejected() {
    let sim = sim(SimTls::self_signed().unwrap()).await;
    let other = SimTls::self_signed().unwrap().ca_pem().unwrap();
    let tls = TlsContext::from_pem(other.as_bytes(), None).unwrap();
    let addr = sim.contact_points()[0];
    let (_, error) = tls_error(connect(addr.to_string(), tls).await);
    assert_eq!(failure(&error), &TlsFailure::UnknownIssuer);
    let text = error.to_string();
    assert!(text.contains("unknown issuer"), "{text}");
    assert!(text.contains(&addr.to_string()), "{text}");
    assert!(
        text.contains(&format!("server name {}", addr.ip())),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_server_name_is_rejected() {
    let sim = sim(SimTls::self_signed().unwrap()).await;
    let tls = context(&sim).with_server_name("db.example.com").unwrap();
    let (_, error) = tls_error(connect(sim.contact_points()[0].to_string(), tls).await);
    let TlsFailure::NameMismatch { presented } = failure(&error) else {
        panic!("not a name mismatch: {error}");
    };
    assert!(presented.iter().any(|n| n == "localhost"), "{presented:?}");
    let text = error.to_string();
    assert!(text.contains("server name db.example.com"), "{text}");
    assert!(text.contains("not valid for this server name"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_name_resolver_decides_per_node() {
    let sim = sim(SimTls::self_signed().unwrap()).await;
    let tls = context(&sim).with_server_name_resolver(|_node| "localhost".try_into().ok());
    let session = connect(sim.contact_points()[0].to_string(), tls)
        .await
        .unwrap();
    works(&session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_required_and_satisfied() {
    let sim = sim(SimTls::self_signed().unwrap().require_client_cert()).await;
    let ca = sim.tls_ca_pem().unwrap();
    let (cert, key) = sim.tls_client_identity("driver").unwrap();
    let tls = TlsContext::from_pem(ca.as_bytes(), Some((cert.as_bytes(), key.as_bytes()))).unwrap();
    let session = connect(sim.contact_points()[0].to_string(), tls)
        .await
        .unwrap();
    works(&session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_required_and_not_satisfied() {
    let sim = sim(SimTls::self_signed().unwrap().require_client_cert()).await;
    let addr = sim.contact_points()[0];
    // No client certificate.
    let (_, error) = tls_error(connect(addr.to_string(), context(&sim)).await);
    assert_eq!(failure(&error), &TlsFailure::ClientCertificateRequired);
    assert!(error.to_string().contains("requires a client certificate"));
    // A client certificate from a CA the node does not trust.
    let stranger = SimTls::self_signed().unwrap();
    let (cert, key) = stranger.client_identity("stranger").unwrap();
    let ca = sim.tls_ca_pem().unwrap();
    let tls = TlsContext::from_pem(ca.as_bytes(), Some((cert.as_bytes(), key.as_bytes()))).unwrap();
    let (_, error) = tls_error(connect(addr.to_string(), tls).await);
    assert!(
        matches!(failure(&error), TlsFailure::ClientCertificateRejected(_)),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_port_is_reported_as_not_tls() {
    let plain = Cluster::builder().port(0).start().await.unwrap();
    let tls = context(&sim(SimTls::self_signed().unwrap()).await);
    let mut config = ConnectionConfig::default();
    config.tls = Some(tls);
    let error = Connection::open(plain.contact_points()[0], None, &config)
        .await
        .unwrap_err();
    let ConnectionError::Tls(error) = error else {
        panic!("not a TLS error: {error}");
    };
    let error = (*error).clone();
    assert_eq!(failure(&error), &TlsFailure::NotTls, "{error}");
}

#[test]
fn pem_inputs_are_checked() {
    assert!(matches!(
        TlsContext::from_pem(b"not a certificate", None),
        Err(TlsError::NoCertificate("CA bundle"))
    ));
    let tls = SimTls::self_signed().unwrap();
    let ca = tls.ca_pem().unwrap();
    let (cert, _) = tls.client_identity("a").unwrap();
    let (_, other_key) = tls.client_identity("b").unwrap();
    assert!(matches!(
        TlsContext::from_pem(ca.as_bytes(), Some((cert.as_bytes(), b""))),
        Err(TlsError::NoPrivateKey)
    ));
    // A key that is not the certificate's.
    let mismatch =
        TlsContext::from_pem(ca.as_bytes(), Some((cert.as_bytes(), other_key.as_bytes())));
    assert!(matches!(mismatch, Err(TlsError::Config(_))), "{mismatch:?}");
    assert!(matches!(
        TlsContext::from_pem(ca.as_bytes(), None)
            .unwrap()
            .with_server_name("not a name!"),
        Err(TlsError::InvalidServerName(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shard_aware_tls_port_serves_every_shard_and_requests_land_on_their_owner() {
    let sim = routing_support::builder()
        .tls(SimTls::self_signed().unwrap())
        .start()
        .await
        .unwrap();
    let shards = 4;
    let nodes = sim.node_count();
    let session = connect(sim.contact_points()[0].to_string(), context(&sim))
        .await
        .unwrap();
    assert!(session.is_routing());
    common::wait_while(10, 20, "a connection per shard", || {
        session.pooled_connections() < nodes * shards
    })
    .await;
    // The first connection of each node goes through the CQL port (it learns the sharding);
    // the other shards' connections through the shard-aware TLS port.
    for node in 0..nodes {
        let aware = sim.shard_aware_connections(node).unwrap();
        assert!(
            aware >= shards as u64 - 1,
            "node {node}: {aware} on the shard-aware port"
        );
    }
    routing_support::check_routing(
        &sim,
        &session,
        "tls_routing",
        routing_support::SIMPLE_RF1,
        &[0, 1, 2],
    )
    .await;
}

#[test]
fn requests_over_tls_allocate_little() {
    let sim_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    for version in [4u8, 5] {
        let sim = sim_rt.block_on(async {
            Cluster::builder()
                .port(0)
                .max_protocol_version(version)
                .tls(SimTls::self_signed().unwrap())
                .start()
                .await
                .unwrap()
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(allocations_over_tls(&sim, version));
    }
}

/// Prepared INSERTs and SELECTs over TLS, measured after a warm-up, [`IN_FLIGHT`] in flight.
async fn allocations_over_tls(sim: &Cluster, version: u8) {
    let session = connect(sim.contact_points()[0].to_string(), context(sim))
        .await
        .unwrap();
    let ks = create_table(&session, "tls_alloc").await;
    let ins = common::prepare(
        &session,
        format!("INSERT INTO {ks}.t (pk, ck, v) VALUES (?, ?, ?)"),
    )
    .await;
    let sel = common::prepare(&session, format!("SELECT ck, v FROM {ks}.t WHERE pk = ?")).await;
    let (s, i, q) = (&session, &ins, &sel);
    measure(OPS, move |n| insert(s, i, n)).await;
    measure(OPS, move |n| select(s, q, n)).await;
    let inserts = measure(OPS, move |n| insert(s, i, n)).await;
    let selects = measure(OPS, move |n| select(s, q, n)).await;
    let per_insert = inserts as f64 / OPS as f64;
    let per_select = selects as f64 / OPS as f64;
    println!(
        "TLS protocol v{version}: {inserts} allocations over {OPS} INSERTs ({per_insert:.4} each), \
         {selects} over {OPS} SELECTs ({per_select:.4} each), {IN_FLIGHT} in flight"
    );
    // rustls allocates one buffer per TLS record sent and one per record received; with
    // 128 in flight a batch carries many requests per record.
    assert!(
        per_insert <= 0.1,
        "{per_insert} allocations per INSERT over TLS"
    );
    assert!(
        per_select <= 0.5,
        "{per_select} allocations per SELECT over TLS"
    );
    // One request at a time: each request is a record each way.
    let (mut inserts, mut selects) = (0, 0);
    for k in 0..SEQUENTIAL {
        inserts += measure(1, move |_| insert(s, i, k)).await;
    }
    for k in 0..SEQUENTIAL {
        selects += measure(1, move |_| select(s, q, k)).await;
    }
    let per_insert = inserts as f64 / SEQUENTIAL as f64;
    let per_select = selects as f64 / SEQUENTIAL as f64;
    println!(
        "TLS protocol v{version}, one request at a time: {inserts} allocations over \
         {SEQUENTIAL} INSERTs ({per_insert:.4} each), {selects} over {SEQUENTIAL} SELECTs \
         ({per_select:.4} each)"
    );
    assert!(
        per_insert <= 3.0,
        "{per_insert} allocations per sequential INSERT over TLS"
    );
    assert!(
        per_select <= 3.0,
        "{per_select} allocations per sequential SELECT over TLS"
    );
}

/// Requests measured one at a time.
const SEQUENTIAL: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_nat_the_normal_tls_port_covers_every_shard() {
    // Connections to the shard-aware TLS port land on the wrong shards (as when a NAT
    // rewrites source ports): the pool falls back to the normal TLS port, as without TLS.
    let sim = routing_support::builder()
        .tls(SimTls::self_signed().unwrap())
        .start()
        .await
        .unwrap();
    sim.set_shard_aware_nat(true);
    let session = connect(sim.contact_points()[0].to_string(), context(&sim))
        .await
        .unwrap();
    let nodes = sim.node_count();
    common::wait_while(
        10,
        20,
        "every shard covered through the normal TLS port",
        || session.pooled_connections() < nodes * 4,
    )
    .await;
    routing_support::check_routing(
        &sim,
        &session,
        "tls_nat",
        routing_support::SIMPLE_RF1,
        &[0, 1, 2],
    )
    .await;
}
