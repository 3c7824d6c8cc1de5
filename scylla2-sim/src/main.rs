//! `scylla2-sim` binary: serves a simulated cluster until Ctrl-C.
//!
//! ```text
//! scylla2-sim [--nodes N] [--shards S] [--port P] [--shard-aware-port P] [--base-ip IP]
//!             [--protocol 4|5] [--tokens N] [--user NAME:PASSWORD]... [--current-thread]
//! ```

use std::net::Ipv4Addr;
use std::process::ExitCode;

use scylla2_sim::{Cluster, ClusterBuilder};

const USAGE: &str = "usage: scylla2-sim [--nodes N] [--shards S] [--port P] \
[--shard-aware-port P] [--base-ip IP] [--protocol 4|5] [--tokens N] [--user NAME:PASSWORD]... \
[--current-thread]";

struct Args {
    builder: ClusterBuilder,
    current_thread: bool,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut b = Cluster::builder().nodes(1).shards(0);
    let mut users: Vec<(String, String)> = Vec::new();
    let mut current_thread = false;
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
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        };
    }
    if !users.is_empty() {
        b = b.password_auth(users);
    }
    Ok(Args {
        builder: b,
        current_thread,
    })
}

async fn serve(builder: ClusterBuilder) -> ExitCode {
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
        Ok(rt) => rt.block_on(serve(args.builder)),
        Err(e) => {
            eprintln!("scylla2-sim: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
