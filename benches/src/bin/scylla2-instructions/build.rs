//! Building the simulator and the two clients with cargo, and the list of scylla2's optional
//! features that the all-features client is built with.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The workspace's manifest.
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
/// scylla2's manifest, read for its features.
pub const SCYLLA2_MANIFEST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scylla2/Cargo.toml");

/// The features of scylla2's `[features]` table that the all-features client is built with,
/// and those left out: TLS (`*tls*`: it needs certificates and a TLS server, and an encrypted
/// connection is another path, not an option of the default one). Every other feature but
/// `default` is taken as it appears, so a new one is measured without a change here.
pub fn scylla2_features(manifest: &str) -> (Vec<String>, Vec<String>) {
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let mut in_features = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') && !line.starts_with("[\"") {
            in_features = line == "[features]";
            continue;
        }
        // A key: `name = [...]` (continuation lines of a multi-line array start with `"`).
        let Some((name, _)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if !in_features || name.is_empty() || line.starts_with(['#', '"', ']']) {
            continue;
        }
        if name == "default" {
            continue;
        }
        if name.contains("tls") {
            off.push(name.to_owned());
        } else {
            on.push(name.to_owned());
        }
    }
    (on, off)
}

/// What one `cargo build` produced.
pub struct Built {
    /// The executables asked for, in order.
    pub executables: Vec<PathBuf>,
    /// The features scylla2 was compiled with.
    pub scylla2_features: Vec<String>,
}

/// Builds `bins` in release mode with `features`, always with the packages of the README's
/// build command, `-p scylla2-sim -p scylla2-benches`: cargo unifies the features of shared
/// dependencies over the packages of one build, so another selection would build (and
/// measure) other code.
pub fn cargo(bins: &[&str], features: &[String]) -> Result<Built, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--message-format=json-render-diagnostics",
    ])
    .args(["--manifest-path", WORKSPACE])
    .args(["-p", "scylla2-sim", "-p", "scylla2-benches"]);
    for b in bins {
        cmd.args(["--bin", b]);
    }
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    eprintln!("building {} ...", bins.join(", "));
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo build of {} failed", bins.join(", ")));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let artifacts: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
        .collect();
    let executables: Vec<PathBuf> = artifacts
        .iter()
        .filter_map(|l| string_after(l, r#""executable":""#).map(PathBuf::from))
        .collect();
    let executables = bins
        .iter()
        .map(|b| {
            executables
                .iter()
                .find(|p| p.file_name().is_some_and(|n| n == *b))
                .cloned()
                .ok_or_else(|| format!("cargo built no executable named {b}"))
        })
        .collect::<Result<_, _>>()?;
    let scylla2_features = artifacts
        .iter()
        .find(|l| l.contains(r#""crate_types":["lib"],"name":"scylla2","#))
        .and_then(|l| {
            let list = &l[l.find(r#""features":["#)? + r#""features":["#.len()..];
            let list = &list[..list.find(']')?];
            Some(
                list.split(',')
                    .map(|f| f.trim_matches('"').to_owned())
                    .filter(|f| !f.is_empty())
                    .collect(),
            )
        })
        .unwrap_or_default();
    Ok(Built {
        executables,
        scylla2_features,
    })
}

/// The JSON string that follows `key` in `line` (paths: no escapes expected).
fn string_after<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = &line[line.find(key)? + key.len()..];
    Some(&rest[..rest.find('"')?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_features_table() {
        let manifest = "[package]\nname = \"scylla2\"\n\n[dependencies]\ntracing = { version = \
                        \"0.1\", optional = true }\n\n[features]\ndefault = []\ntracing = \
                        [\"dep:tracing\"]\n# TLS\nrustls-023 = [\"dep:rustls\"]\nmetrics = [\n  \
                        \"dep:histogram\",\n]\n\n[dev-dependencies]\nx = \"1\"\n";
        let (on, off) = scylla2_features(manifest);
        assert_eq!(on, vec!["tracing", "metrics"]);
        assert_eq!(off, vec!["rustls-023"]);
        // The real manifest has the feature this benchmark was written with.
        let real = std::fs::read_to_string(SCYLLA2_MANIFEST).expect("scylla2/Cargo.toml");
        assert!(scylla2_features(&real).0.contains(&"tracing".to_owned()));
    }

    #[test]
    fn reads_executables() {
        let line = r#"{"reason":"compiler-artifact","executable":"/t/release/x","fresh":true}"#;
        assert_eq!(
            string_after(line, r#""executable":""#),
            Some("/t/release/x")
        );
        assert_eq!(
            string_after(r#""executable":null"#, r#""executable":""#),
            None
        );
    }
}
