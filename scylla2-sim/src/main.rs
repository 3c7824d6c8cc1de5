//! `scylla2-sim` binary: serves a simulated cluster until Ctrl-C.
//!
//! ```text
//! scylla2-sim [--nodes N] [--shards S] [--port P] [--shard-aware-port P] [--base-ip IP]
//!             [--protocol 4|5] [--tokens N] [--user NAME:PASSWORD]... [--current-thread]
//!             [--tls-cert FILE --tls-key FILE | --tls-self-signed [--tls-ca-out FILE]]
//!             [--tls-client-ca FILE]
//! ```
//!
//! With TLS every node serves TLS only, on the CQL port and on the shard-aware port.
//! `--tls-self-signed` generates a test CA at start (one certificate per node naming
//! `localhost` and the node's address) and writes the CA certificate, which clients trust, to
//! `--tls-ca-out` (default: a file in the temporary directory, printed at start).
//! `--tls-client-ca` requires client certificates signed by that CA (mutual TLS).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

use scylla2_sim::SimTls;
use scylla2_sim::{Cluster, ClusterBuilder};

const USAGE: &str = "usage: scylla2-sim [--nodes N] [--shards S] [--port P] \
[--shard-aware-port P] [--base-ip IP] [--protocol 4|5] [--tokens N] [--user NAME:PASSWORD]... \
[--current-thread] [--tls-cert FILE --tls-key FILE | --tls-self-signed [--tls-ca-out FILE]] \
[--tls-client-ca FILE]";

struct Args {
    builder: ClusterBuilder,
    current_thread: bool,
    /// Where the generated CA certificate goes (`--tls-self-signed`).
    ca_out: Option<PathBuf>,
}

/// The TLS flags as given.
#[derive(Default)]
struct TlsFlags {
    cert: Option<String>,
    key: Option<String>,
    self_signed: bool,
    ca_out: Option<String>,
    client_ca: Option<String>,
}

impl TlsFlags {
    /// The TLS settings, and where to write the generated CA (`None`: no TLS).
    fn settings(self) -> Result<Option<(SimTls, Option<PathBuf>)>, String> {
        let tls = match (self.cert, self.key, self.self_signed) {
            (None, None, false) => {
                if self.client_ca.is_some() || self.ca_out.is_some() {
                    return Err("--tls-client-ca and --tls-ca-out need TLS on".into());
                }
                return Ok(None);
            }
            (Some(cert), Some(key), false) => {
                if self.ca_out.is_some() {
                    return Err("--tls-ca-out goes with --tls-self-signed".into());
                }
                SimTls::from_pem_files(cert, key).map_err(|e| e.to_string())?
            }
            (None, None, true) => SimTls::self_signed().map_err(|e| e.to_string())?,
            (_, _, true) => return Err("--tls-self-signed excludes --tls-cert/--tls-key".into()),
            _ => return Err("--tls-cert and --tls-key go together".into()),
        };
        let tls = match self.client_ca {
            Some(path) => {
                let pem = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
                tls.client_ca_pem(&pem).map_err(|e| e.to_string())?
            }
            None => tls,
        };
        let ca_out = tls.ca_pem().map(|_| {
            self.ca_out.map(PathBuf::from).unwrap_or_else(|| {
                std::env::temp_dir().join(format!("scylla2-sim-ca-{}.pem", std::process::id()))
            })
        });
        Ok(Some((tls, ca_out)))
    }
}

fn parse(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut b = Cluster::builder().nodes(1).shards(0);
    let mut users: Vec<(String, String)> = Vec::new();
    let mut current_thread = false;
    let mut tls = TlsFlags::default();
    let mut it = args;
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{name}: invalid value {v:?}"))
        }
        b = match a.as_str() {
            "--nodes" => b.nodes(num("--nodes", value("--nodes")?)?),
            "--shards" => b.shards(num("--shards", value("--shards")?)?),
            "--port" => b.port(num("--port", value("--port")?)?),
            "--shard-aware-port" => {
                b.shard_aware_port(num("--shard-aware-port", value("--shard-aware-port")?)?)
            }
            "--base-ip" => b.base_ip(num::<Ipv4Addr>("--base-ip", value("--base-ip")?)?),
            "--protocol" => b.max_protocol_version(num("--protocol", value("--protocol")?)?),
            "--tokens" => b.tokens_per_node(num("--tokens", value("--tokens")?)?),
            "--user" => {
                let v = value("--user")?;
                let (u, p) = v
                    .split_once(':')
                    .ok_or_else(|| "--user expects NAME:PASSWORD".to_string())?;
                users.push((u.to_string(), p.to_string()));
                b
            }
            "--current-thread" => {
                current_thread = true;
                b
            }
            "--tls-cert" => {
                tls.cert = Some(value("--tls-cert")?);
                b
            }
            "--tls-key" => {
                tls.key = Some(value("--tls-key")?);
                b
            }
            "--tls-self-signed" => {
                tls.self_signed = true;
                b
            }
            "--tls-ca-out" => {
                tls.ca_out = Some(value("--tls-ca-out")?);
                b
            }
            "--tls-client-ca" => {
                tls.client_ca = Some(value("--tls-client-ca")?);
                b
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        };
    }
    if !users.is_empty() {
        b = b.password_auth(users);
    }
    let mut ca_out = None;
    if let Some((settings, out)) = tls.settings()? {
        b = b.tls(settings);
        ca_out = out;
    }
    Ok(Args {
        builder: b,
        current_thread,
        ca_out,
    })
}

async fn serve(builder: ClusterBuilder, ca_out: Option<PathBuf>) -> ExitCode {
    // The interrupt handler is installed before the contact points are printed: a client
    // that reads them and sends SIGINT at once must not kill the process unhandled.
    #[cfg(unix)]
    let mut interrupt =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
            Ok(signal) => Some(signal),
            Err(e) => {
                eprintln!("scylla2-sim: cannot wait for Ctrl-C: {e}");
                None
            }
        };
    let cluster = match builder.start().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("scylla2-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    let points: Vec<String> = cluster
        .contact_points()
        .iter()
        .map(|a| a.to_string())
        .collect();
    println!("scylla2-sim: {} node(s) serving", points.len());
    println!("contact points: {}", points.join(","));
    if cluster.shard_aware_port() != 0 {
        println!("shard-aware port: {}", cluster.shard_aware_port());
    }
    if let (Some(path), Some(pem)) = (ca_out, cluster.tls_ca_pem()) {
        if let Err(e) = std::fs::write(&path, pem) {
            eprintln!(
                "scylla2-sim: cannot write the CA certificate to {}: {e}",
                path.display()
            );
            return ExitCode::FAILURE;
        }
        println!(
            "TLS: test CA certificate (trust it in clients) written to {}",
            path.display()
        );
    }
    #[cfg(unix)]
    match interrupt.as_mut() {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
    #[cfg(not(unix))]
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("scylla2-sim: cannot wait for Ctrl-C: {e}");
    }
    cluster.shutdown();
    println!("scylla2-sim: stopped");
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let rt = if args.current_thread {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    match rt {
        Ok(rt) => rt.block_on(serve(args.builder, args.ca_out)),
        Err(e) => {
            eprintln!("scylla2-sim: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
