//! Client TLS (feature `rustls-023`): the [`TlsContext`] every connection of a session uses
//! when it is set (control connection, node pools, ScyllaDB's shard-aware TLS port), the
//! server name each node is verified against, and the typed errors of a failed TLS handshake.
//!
//! The TLS handshake runs right after the TCP connect, inside the connection's handshake
//! timeout, then the CQL handshake runs over the encrypted stream. Once established, the
//! stream is split in two halves for the reader and writer tasks; the writer encrypts each
//! coalesced batch at once (rustls cuts it into records of at most 16 KiB) and flushes it, so
//! that one batch is still one socket write (`writev` of its records). A connection without
//! TLS never enters this module: its reader and writer are compiled for the plain TCP halves.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{AlertDescription, CertificateError, ClientConfig, RootCertStore};
use scylla2_cql::ProtocolVersion;
use tokio::net::TcpStream;

use super::config::ConnectionConfig;
use super::error::ConnectionError;
use super::handshake::{self, Attempt};
use super::{Connection, writer};

/// The TLS stream of an established connection.
type Stream = tokio_rustls::client::TlsStream<TcpStream>;

impl writer::Sink for tokio::io::WriteHalf<Stream> {
    // rustls keeps the records it could not write yet in its own buffer until flushed.
    const BUFFERED: bool = true;
}

/// Picks the server name a node's certificate is checked against.
type ServerNameResolver = dyn Fn(SocketAddr) -> Option<ServerName<'static>> + Send + Sync;

/// How the server name of a node is chosen.
#[derive(Clone)]
enum NameChoice {
    /// A named contact point's name for its addresses, the IP address for other nodes.
    Default,
    /// The same name for every node.
    Fixed(ServerName<'static>),
    /// The user's function; `None` falls back to [`NameChoice::Default`].
    Resolver(Arc<ServerNameResolver>),
}

/// Client TLS for every connection of a session: the `rustls` configuration (trusted CAs,
/// optional client certificate) and the server name each node is verified against.
///
/// Server names, by default: a node reached through a contact point given as a host name
/// (`"db.example.com:9142"`) is verified against that name; any other node (discovered
/// through `system.peers`, or a contact point given as an IP address) against its IP
/// address, which its certificate must then list as an IP subject alternative name.
/// [`Self::with_server_name`] uses one name for every node (a cluster-wide certificate);
/// [`Self::with_server_name_resolver`] decides per node (e.g. behind an address translator).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = scylla2_sim::Cluster::builder().port(0).tls(scylla2_sim::SimTls::self_signed()?).start().await?;
/// # let (uri, ca_pem) = (sim.contact_points()[0].to_string(), sim.tls_ca_pem().ok_or("no CA")?);
/// use scylla2::connection::TlsContext;
/// use scylla2::Session;
///
/// let ca = ca_pem.as_bytes(); // e.g. `std::fs::read("ca.pem")?`
/// let tls = TlsContext::from_pem(ca, None)?;
/// let session = Session::builder()
///     .contact_point(uri) // e.g. "db.example.com:9142"
///     .tls(tls)
///     .connect()
///     .await?;
/// assert_eq!(session.execute("SELECT key FROM system.local", ()).await?.rows_num(), 1);
/// // A CA that did not sign the node's certificate: the handshake fails.
/// let other_ca = scylla2_sim::SimTls::self_signed()?.ca_pem().ok_or("no CA")?;
/// let untrusted = TlsContext::from_pem(other_ca.as_bytes(), None)?;
/// let refused = Session::builder().contact_point(sim.contact_points()[0].to_string()).tls(untrusted).connect().await;
/// assert!(refused.is_err());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TlsContext {
    connector: tokio_rustls::TlsConnector,
    config: Arc<ClientConfig>,
    names: NameChoice,
    /// Named contact points' addresses and names (set by the session builder).
    contact_names: Arc<[(IpAddr, ServerName<'static>)]>,
}

impl fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = match &self.names {
            NameChoice::Default => "default".to_owned(),
            NameChoice::Fixed(name) => name.to_str().into_owned(),
            NameChoice::Resolver(_) => "resolver".to_owned(),
        };
        f.debug_struct("TlsContext")
            .field("server_names", &names)
            .field(
                "client_auth",
                &self.config.client_auth_cert_resolver.has_certs(),
            )
            .finish_non_exhaustive()
    }
}

impl TlsContext {
    /// TLS with a `rustls` configuration of your own (trusted roots, client certificate,
    /// protocol versions, key logging, …).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use scylla2::connection::TlsContext;
    /// use scylla2::connection::rustls;
    ///
    /// let mut roots = rustls::RootCertStore::empty();
    /// # let ca: Vec<rustls::pki_types::CertificateDer<'static>> = Vec::new();
    /// roots.add_parsable_certificates(ca);
    /// let config = rustls::ClientConfig::builder()
    ///     .with_root_certificates(roots)
    ///     .with_no_client_auth();
    /// let tls = TlsContext::from_client_config(Arc::new(config));
    /// # drop(tls);
    /// ```
    pub fn from_client_config(config: Arc<ClientConfig>) -> Self {
        Self {
            connector: tokio_rustls::TlsConnector::from(config.clone()),
            config,
            names: NameChoice::Default,
            contact_names: Arc::new([]),
        }
    }

    /// TLS trusting the CA certificates of `ca_pem` (one or more PEM certificates), with
    /// the client certificate chain and private key of `client_cert_and_key` (both PEM) for
    /// servers that require mutual TLS. Crypto by `ring`; TLS 1.2 and 1.3.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let sim = scylla2_sim::Cluster::builder().port(0).tls(scylla2_sim::SimTls::self_signed()?.require_client_cert()).start().await?;
    /// # let (ca, (cert, key)) = (sim.tls_ca_pem().ok_or("no CA")?, sim.tls_client_identity("app")?);
    /// use scylla2::connection::TlsContext;
    ///
    /// // e.g. `std::fs::read("ca.pem")?`, `std::fs::read("client.pem")?`, `…("client.key")?`
    /// let (ca, cert, key) = (ca.as_bytes(), cert.as_bytes(), key.as_bytes());
    /// let tls = TlsContext::from_pem(ca, Some((cert, key)))?;
    /// let session = scylla2::Session::builder()
    ///     .contact_point(sim.contact_points()[0].to_string())
    ///     .tls(tls)
    ///     .connect()
    ///     .await?;
    /// assert_eq!(session.execute("SELECT key FROM system.local", ()).await?.rows_num(), 1);
    /// // Without a client certificate the node refuses the connection.
    /// let anonymous = TlsContext::from_pem(ca, None)?;
    /// let refused = scylla2::Session::builder()
    ///     .contact_point(sim.contact_points()[0].to_string())
    ///     .tls(anonymous)
    ///     .connect()
    ///     .await;
    /// assert!(refused.is_err());
    /// # Ok(()) }
    /// ```
    pub fn from_pem(
        ca_pem: &[u8],
        client_cert_and_key: Option<(&[u8], &[u8])>,
    ) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in certificates(ca_pem, "CA bundle")? {
            roots
                .add(cert)
                .map_err(|e| TlsError::InvalidCa(e.to_string()))?;
        }
        let builder = ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_root_certificates(roots);
        let config = match client_cert_and_key {
            None => builder.with_no_client_auth(),
            Some((cert_pem, key_pem)) => {
                let chain = certificates(cert_pem, "client certificate")?;
                let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| match e {
                    pem::Error::NoItemsFound => TlsError::NoPrivateKey,
                    e => TlsError::Pem {
                        what: "client key",
                        reason: e.to_string(),
                    },
                })?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(TlsError::Config)?
            }
        };
        Ok(Self::from_client_config(Arc::new(config)))
    }

    /// Verifies every node against `name` (a DNS name or an IP address), e.g. the name of a
    /// certificate shared by the whole cluster.
    ///
    /// ```
    /// # fn demo(tls: scylla2::connection::TlsContext) -> Result<(), scylla2::error::TlsError> {
    /// let tls = tls.with_server_name("db.example.com")?;
    /// # drop(tls);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_server_name(mut self, name: &str) -> Result<Self, TlsError> {
        let name = ServerName::try_from(name.to_owned())
            .map_err(|_| TlsError::InvalidServerName(name.to_owned()))?;
        self.names = NameChoice::Fixed(name);
        Ok(self)
    }

    /// Decides the server name per node: `resolver` gets the node's address (as the driver
    /// knows it, after address translation, with its CQL port) and returns the name its
    /// certificate must hold; `None` keeps the default (see [`TlsContext`]).
    ///
    /// ```
    /// use scylla2::connection::rustls::pki_types::ServerName;
    ///
    /// # fn demo(tls: scylla2::connection::TlsContext) {
    /// let tls = tls.with_server_name_resolver(|node| {
    ///     let name = format!("node-{}.db.example.com", node.ip().to_string().replace('.', "-"));
    ///     ServerName::try_from(name).ok()
    /// });
    /// # drop(tls);
    /// # }
    /// ```
    pub fn with_server_name_resolver(
        mut self,
        resolver: impl Fn(SocketAddr) -> Option<ServerName<'static>> + Send + Sync + 'static,
    ) -> Self {
        self.names = NameChoice::Resolver(Arc::new(resolver));
        self
    }

    /// The `rustls` configuration in use.
    ///
    /// ```
    /// # fn demo(tls: scylla2::connection::TlsContext) {
    /// let suites = &tls.client_config().crypto_provider().cipher_suites;
    /// assert!(!suites.is_empty());
    /// # }
    /// ```
    pub fn client_config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// The context with the host names of the contact points given as names, by the
    /// addresses they resolved to (the default server names of those nodes).
    pub(crate) fn with_contact_names(mut self, names: Vec<(IpAddr, ServerName<'static>)>) -> Self {
        self.contact_names = names.into();
        self
    }

    /// The name `node`'s certificate is verified against (see [`TlsContext`]).
    ///
    /// ```
    /// # fn demo(tls: scylla2::connection::TlsContext) -> Result<(), scylla2::error::TlsError> {
    /// let node = "10.0.0.7:9142".parse().unwrap();
    /// assert_eq!(tls.server_name(node).to_str(), "10.0.0.7"); // no contact point name
    /// let tls = tls.with_server_name("db.example.com")?;
    /// assert_eq!(tls.server_name(node).to_str(), "db.example.com");
    /// # Ok(())
    /// # }
    /// ```
    pub fn server_name(&self, node: SocketAddr) -> ServerName<'static> {
        match &self.names {
            NameChoice::Fixed(name) => return name.clone(),
            NameChoice::Resolver(resolve) => {
                if let Some(name) = resolve(node) {
                    return name;
                }
            }
            NameChoice::Default => {}
        }
        self.contact_names
            .iter()
            .find(|(ip, _)| *ip == node.ip())
            .map_or_else(
                || ServerName::IpAddress(node.ip().into()),
                |(_, name)| name.clone(),
            )
    }
}

/// The crypto provider of [`TlsContext::from_pem`]: the one the application installed as
/// the process default, if any (e.g. aws-lc-rs with post-quantum key exchange), else *ring*
/// (the only one this crate enables: it builds without cmake, unlike aws-lc-rs).
fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    if let Some(installed) = rustls::crypto::CryptoProvider::get_default() {
        return installed.clone();
    }
    // Deprecated by rustls 0.23.48 for its lack of post-quantum key exchange; classical
    // key exchange (X25519, P-256, P-384) is still what most CQL servers offer.
    #[allow(deprecated)]
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The host name of contact point `host_port` as a server name, when it is a name rather
/// than an IP address.
pub(crate) fn contact_point_name(host_port: &str) -> Option<ServerName<'static>> {
    let (host, _port) = host_port.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.parse::<IpAddr>().is_ok() {
        return None;
    }
    ServerName::try_from(host.to_owned()).ok()
}

/// Every certificate of `pem` (at least one).
fn certificates(pem: &[u8], what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            what,
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(what));
    }
    Ok(certs)
}

/// One handshake attempt over TLS on a fresh socket to `node` (see `Connection::open_node`):
/// the TLS handshake, then the CQL handshake at `version` over it. `None`: the server
/// refused this protocol version.
pub(crate) async fn establish(
    tls: &TlsContext,
    node: SocketAddr,
    tcp: TcpStream,
    version: ProtocolVersion,
    config: &ConnectionConfig,
) -> Result<Option<Connection>, ConnectionError> {
    let name = tls.server_name(node);
    let addrs = (tcp.peer_addr()?, tcp.local_addr()?);
    let mut stream = tls
        .connector
        .connect(name.clone(), tcp)
        .await
        .map_err(|e| classify(e.into(), node, &name, true))?;
    // No limit on rustls' buffer of encrypted records: the writer hands it one whole batch
    // (at most a write-queue buffer) and flushes it before the next one.
    stream.get_mut().1.set_buffer_limit(None);
    let attempt = handshake::handshake(stream, version, config)
        .await
        .map_err(|e| classify(e, node, &name, false))?;
    match attempt {
        Attempt::Done(stream, read_buf, info) => {
            let (read, write) = tokio::io::split(stream);
            Ok(Some(Connection::start_halves(
                read, write, addrs, read_buf, info, config,
            )))
        }
        Attempt::VersionRefused => Ok(None),
    }
}

/// A TLS error (rustls' error inside an I/O error) as [`ConnectionError::Tls`]; any other
/// error unchanged. `connecting`: during the TLS handshake itself.
fn classify(
    error: ConnectionError,
    node: SocketAddr,
    name: &ServerName<'static>,
    connecting: bool,
) -> ConnectionError {
    let ConnectionError::Io(io) = &error else {
        return error;
    };
    let Some(rustls_error) = io
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return error;
    };
    TlsError::Handshake {
        node,
        server_name: name.to_str().into_owned(),
        failure: TlsFailure::from_rustls(rustls_error, connecting),
        error: Arc::new(rustls_error.clone()),
    }
    .into()
}

/// Why TLS could not be set up or a node's TLS handshake failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM input could not be read.
    #[error("unreadable {what} PEM: {reason}")]
    Pem {
        /// Which input.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A PEM input holds no certificate.
    #[error("no certificate in the {0} PEM")]
    NoCertificate(&'static str),
    /// The client key PEM holds no private key.
    #[error("no private key in the client key PEM")]
    NoPrivateKey,
    /// A CA certificate cannot be used as a trust anchor.
    #[error("invalid CA certificate: {0}")]
    InvalidCa(String),
    /// rustls refused the configuration (e.g. a client key that does not match its
    /// certificate).
    #[error("TLS configuration refused: {0}")]
    Config(rustls::Error),
    /// Not a valid DNS name or IP address.
    #[error("invalid TLS server name {0:?}")]
    InvalidServerName(String),
    /// The TLS handshake with a node failed.
    #[error("TLS with {node} (server name {server_name}) failed: {failure}")]
    Handshake {
        /// The node's address.
        node: SocketAddr,
        /// The name its certificate was verified against.
        server_name: String,
        /// What failed.
        failure: TlsFailure,
        /// rustls' own error.
        error: Arc<rustls::Error>,
    },
}

/// What failed in a node's TLS handshake ([`TlsError::Handshake`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The node's certificate is not signed by a trusted CA.
    #[error("the node's certificate is signed by an unknown issuer (not by a trusted CA)")]
    UnknownIssuer,
    /// The node's certificate does not hold the server name.
    #[error("the node's certificate is not valid for this server name{}", names(.presented))]
    NameMismatch {
        /// The names the certificate holds (when rustls reported them).
        presented: Vec<String>,
    },
    /// The node's certificate is expired or not valid yet.
    #[error("the node's certificate is outside its validity period")]
    Expired,
    /// The node's certificate is invalid for another reason.
    #[error("invalid certificate from the node: {0}")]
    InvalidCertificate(String),
    /// The node requires a client certificate and none was configured.
    #[error("the node requires a client certificate (mutual TLS) and none is configured")]
    ClientCertificateRequired,
    /// The node refused the client certificate.
    #[error("the node refused the client certificate ({0})")]
    ClientCertificateRejected(&'static str),
    /// The node did not answer in TLS (is TLS enabled on this port?).
    #[error("the node did not answer in TLS (is TLS enabled on this port?)")]
    NotTls,
    /// Any other TLS failure.
    #[error("{0}")]
    Other(String),
}

/// A name as rustls reports it (`DnsName("a.b")`, `IpAddress(1.2.3.4)`), plain.
fn plain_name(name: &str) -> String {
    let inner = name
        .strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .or_else(|| {
            name.strip_prefix("IpAddress(")
                .and_then(|n| n.strip_suffix(')'))
        });
    inner.unwrap_or(name).to_owned()
}

fn names(presented: &[String]) -> String {
    if presented.is_empty() {
        String::new()
    } else {
        format!(" (it holds {})", presented.join(", "))
    }
}

impl TlsFailure {
    fn from_rustls(error: &rustls::Error, connecting: bool) -> Self {
        use rustls::Error as E;
        match error {
            E::InvalidCertificate(cert) => match cert {
                CertificateError::UnknownIssuer => Self::UnknownIssuer,
                CertificateError::NotValidForName => Self::NameMismatch {
                    presented: Vec::new(),
                },
                CertificateError::NotValidForNameContext { presented, .. } => Self::NameMismatch {
                    presented: presented.iter().map(|n| plain_name(n)).collect(),
                },
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. } => Self::Expired,
                CertificateError::BadSignature => Self::InvalidCertificate(
                    "its signature does not verify (signed by another CA of the same name?)".into(),
                ),
                CertificateError::BadEncoding => Self::InvalidCertificate("malformed".into()),
                CertificateError::Revoked => Self::InvalidCertificate("revoked".into()),
                CertificateError::InvalidPurpose
                | CertificateError::InvalidPurposeContext { .. } => {
                    Self::InvalidCertificate("not issued for server authentication".into())
                }
                other => Self::InvalidCertificate(other.to_string()),
            },
            E::AlertReceived(alert) => match alert {
                AlertDescription::CertificateRequired => Self::ClientCertificateRequired,
                AlertDescription::BadCertificate => {
                    Self::ClientCertificateRejected("bad certificate")
                }
                AlertDescription::UnknownCA => {
                    Self::ClientCertificateRejected("signed by a CA the node does not trust")
                }
                AlertDescription::CertificateUnknown => {
                    Self::ClientCertificateRejected("certificate unknown")
                }
                AlertDescription::CertificateExpired => {
                    Self::ClientCertificateRejected("certificate expired")
                }
                AlertDescription::AccessDenied => Self::ClientCertificateRejected("access denied"),
                // The node could not verify a signature of ours: the client certificate's, or
                // the handshake signature made with its key.
                AlertDescription::DecryptError => {
                    Self::ClientCertificateRejected("its signature does not verify")
                }
                other => Self::Other(format!("the node sent the TLS alert {other:?}")),
            },
            E::InvalidMessage(_) if connecting => Self::NotTls,
            other => Self::Other(other.to_string()),
        }
    }
}
