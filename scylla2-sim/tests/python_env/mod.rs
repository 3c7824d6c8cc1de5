//! The Python interpreter the driver-compatibility tests run the official Python driver
//! with, set up on first use so that `cargo test --workspace` needs nothing but `python3`.
//!
//! In order:
//! 1. `SCYLLA2_SKIP_PYTHON=1`: no interpreter, the tests skip (the explicit opt-out).
//! 2. The system `python3` when it already imports the packages the checks use.
//! 3. Otherwise a virtual environment under the cargo target directory
//!    (`target/tmp/python-venv`), created once with the pinned versions of
//!    `requirements-test.txt` and reused while that file is unchanged (a marker in the
//!    environment holds the file's hash; a changed file rebuilds it).
//!
//! Test binaries and threads that start at once take turns through a lock directory next to
//! the environment (creating a directory is atomic; `File::lock` would raise the workspace's
//! minimum Rust version). Its holder refreshes a heartbeat file with its pid while it
//! installs, so a lock left by a process that died (Ctrl-C during the first run) is taken
//! over: at once on Linux, where the pid is looked up, after [`STALE_AFTER`] elsewhere.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// The modules the checks import (the driver, and the two compressions it negotiates).
const IMPORTS: &str = "import cassandra, lz4, snappy";

/// The system interpreter looked for on `PATH`.
const SYSTEM_PYTHON: &str = if cfg!(windows) { "python" } else { "python3" };

/// A lock whose heartbeat is older than this belongs to a process that died.
const STALE_AFTER: Duration = Duration::from_secs(60);

/// How often the lock's holder refreshes its heartbeat (and waiters look again).
const TICK: Duration = Duration::from_millis(250);

/// The longest the environment may take to set up, waiting for another process included.
const SETUP_LIMIT: Duration = Duration::from_secs(15 * 60);

const OPT_OUT: &str = "set SCYLLA2_SKIP_PYTHON=1 to skip the tests that use the official \
                       Python driver";

/// The interpreter to run the checks with, or `None` when `SCYLLA2_SKIP_PYTHON=1`. Panics,
/// with what to install or what went wrong, when there is no usable one.
pub fn interpreter() -> Option<PathBuf> {
    if std::env::var("SCYLLA2_SKIP_PYTHON").as_deref() == Ok("1") {
        return None;
    }
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    Some(PYTHON.get_or_init(find_or_create).clone())
}

fn find_or_create() -> PathBuf {
    let system = PathBuf::from(SYSTEM_PYTHON);
    match Command::new(&system).args(["-c", IMPORTS]).output() {
        Ok(o) if o.status.success() => return system,
        Ok(_) => {}
        Err(e) => panic!(
            "the tests that check the simulator with the official Python driver need Python 3: \
             `{SYSTEM_PYTHON}` could not be run ({e}). Install Python 3.10 or newer with its \
             `venv` module (for example `apt install python3 python3-venv`, \
             `brew install python` or python.org), or {OPT_OUT}."
        ),
    }
    let requirements = workspace_root().join("requirements-test.txt");
    let pinned = fs::read(&requirements).unwrap_or_else(|e| {
        panic!("cannot read {}: {e}", requirements.display());
    });
    let venv = Venv::new(Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-venv"));
    venv.ensure(&requirements, &format!("{:016x}", fnv1a(&pinned)))
}

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// FNV-1a, 64 bits: a hash that stays the same across Rust releases (the marker outlives the
/// toolchain that wrote it).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

struct Venv {
    dir: PathBuf,
    marker: PathBuf,
    lock: PathBuf,
    log: PathBuf,
}

impl Venv {
    fn new(dir: PathBuf) -> Self {
        let with_suffix = |suffix: &str| {
            let mut name = dir.file_name().unwrap_or(OsStr::new("venv")).to_os_string();
            name.push(suffix);
            dir.with_file_name(name)
        };
        Venv {
            marker: dir.join("scylla2-requirements.hash"),
            lock: with_suffix(".lock"),
            log: with_suffix(".log"),
            dir,
        }
    }

    fn python(&self) -> PathBuf {
        if cfg!(windows) {
            self.dir.join("Scripts").join("python.exe")
        } else {
            self.dir.join("bin").join("python")
        }
    }

    /// Ready when its marker holds `hash` and its interpreter imports the packages.
    fn ready(&self, hash: &str) -> bool {
        fs::read_to_string(&self.marker).is_ok_and(|m| m.trim() == hash)
            && Command::new(self.python())
                .args(["-c", IMPORTS])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    }

    fn ensure(&self, requirements: &Path, hash: &str) -> PathBuf {
        let deadline = Instant::now() + SETUP_LIMIT;
        loop {
            if self.ready(hash) {
                return self.python();
            }
            if let Some(lock) = Lock::try_take(&self.lock) {
                // Another process may have finished between the look and the lock.
                if !self.ready(hash) {
                    self.create(requirements, hash, &lock, deadline);
                }
                return self.python();
            }
            assert!(
                Instant::now() < deadline,
                "the Python test environment {} was still being set up by another process \
                 after {} s (its lock: {}); {OPT_OUT}",
                self.dir.display(),
                SETUP_LIMIT.as_secs(),
                self.lock.display(),
            );
            std::thread::sleep(TICK);
        }
    }

    /// Builds the environment from scratch; the caller holds the lock.
    fn create(&self, requirements: &Path, hash: &str, lock: &Lock, deadline: Instant) {
        eprintln!(
            "setting up the Python test environment in {} (once; pip's output: {})",
            self.dir.display(),
            self.log.display()
        );
        if self.dir.exists() {
            fs::remove_dir_all(&self.dir).unwrap_or_else(|e| {
                panic!("cannot remove the outdated {}: {e}", self.dir.display())
            });
        }
        let venv = Command::new(SYSTEM_PYTHON)
            .arg("-m")
            .arg("venv")
            .arg(&self.dir)
            .output()
            .unwrap_or_else(|e| panic!("`{SYSTEM_PYTHON} -m venv` could not be run: {e}"));
        if !venv.status.success() {
            panic!(
                "`{SYSTEM_PYTHON} -m venv {}` failed: install Python's venv module (for \
                 example `apt install python3-venv`), or install the packages yourself with \
                 `{SYSTEM_PYTHON} -m pip install -r requirements-test.txt`, or {OPT_OUT}.\n{}{}",
                self.dir.display(),
                String::from_utf8_lossy(&venv.stdout),
                String::from_utf8_lossy(&venv.stderr),
            );
        }
        let log = fs::File::create(&self.log)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", self.log.display()));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot share {}: {e}", self.log.display()));
        let mut pip = Command::new(self.python())
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .arg("--requirement")
            .arg(requirements)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("pip could not be run in {}: {e}", self.dir.display()));
        let status = loop {
            match pip.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    lock.beat();
                    std::thread::sleep(TICK);
                }
                Ok(None) | Err(_) => {
                    let _ = pip.kill();
                    let _ = pip.wait();
                    break None;
                }
            }
        };
        if !status.is_some_and(|s| s.success()) {
            let output = fs::read_to_string(&self.log).unwrap_or_default();
            panic!(
                "installing the Python test packages into {} failed ({}): pip needs to reach \
                 PyPI once (or install them yourself with `{SYSTEM_PYTHON} -m pip install -r \
                 requirements-test.txt`), or {OPT_OUT}.\npip's output:\n{output}",
                self.dir.display(),
                status.map_or("did not finish in time".to_string(), |s| s.to_string()),
            );
        }
        // Written last: its presence says the environment is complete.
        let partial = self.marker.with_extension("partial");
        fs::write(&partial, format!("{hash}\n"))
            .and_then(|()| fs::rename(&partial, &self.marker))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", self.marker.display()));
        assert!(
            self.ready(hash),
            "the Python test environment {} was set up but does not import the packages ({IMPORTS}); \
             pip's output is in {}",
            self.dir.display(),
            self.log.display(),
        );
    }
}

/// A lock directory, removed on drop (a panic included).
struct Lock {
    dir: PathBuf,
}

impl Lock {
    fn heartbeat(dir: &Path) -> PathBuf {
        dir.join("heartbeat")
    }

    /// Takes the lock, or `None` while a live holder has it (a stale one is removed first).
    fn try_take(dir: &Path) -> Option<Lock> {
        if let Some(parent) = dir.parent() {
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        match fs::create_dir(dir) {
            Ok(()) => {
                let lock = Lock {
                    dir: dir.to_path_buf(),
                };
                lock.beat();
                Some(lock)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if Self::stale(dir) {
                    // Whoever removes it first wins the next create_dir; the others wait.
                    let _ = fs::remove_dir_all(dir);
                }
                None
            }
            Err(e) => panic!("cannot create the lock {}: {e}", dir.display()),
        }
    }

    /// Its holder is gone: on Linux, no process has the heartbeat's pid; everywhere, the
    /// heartbeat (or, just after creation, the directory itself) has not changed for
    /// [`STALE_AFTER`].
    fn stale(dir: &Path) -> bool {
        let heartbeat = Self::heartbeat(dir);
        let holder = fs::read_to_string(&heartbeat).ok().and_then(|h| {
            h.trim()
                .strip_prefix("pid ")
                .and_then(|pid| pid.parse::<u32>().ok())
        });
        let proc = Path::new("/proc/self");
        if let Some(pid) = holder
            && cfg!(target_os = "linux")
            && proc.exists()
            && !Path::new("/proc").join(pid.to_string()).exists()
        {
            return true;
        }
        let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
        let last = modified(&heartbeat).or_else(|| modified(dir));
        last.is_some_and(|t| {
            SystemTime::now()
                .duration_since(t)
                .is_ok_and(|age| age > STALE_AFTER)
        })
    }

    fn beat(&self) {
        let _ = fs::write(
            Self::heartbeat(&self.dir),
            format!("pid {}\n", std::process::id()),
        );
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}
