//! The fresh "machine" each CLI test runs the real binary on.
#![allow(dead_code)] // each test binary uses its own part of this.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A fresh home for one test.
pub struct Machine {
    pub root: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Machine {
    pub fn new() -> Machine {
        let root = tempfile::tempdir().unwrap();
        let p = |sub: &str| root.path().join(sub).display().to_string();
        let env = vec![
            ("XDG_CONFIG_HOME".into(), p("config")),
            ("XDG_DATA_HOME".into(), p("data")),
            ("XDG_STATE_HOME".into(), p("state")),
            ("XDG_CACHE_HOME".into(), p("cache")),
            // Never touch the keychain entry of the person running the tests.
            (
                "LLMAAS_KEYCHAIN_SERVICE".into(),
                format!("llmaas-desktop-test-{}", std::process::id()),
            ),
            ("LLMAAS_LOG".into(), "trace".into()),
        ];
        Machine { root, env }
    }

    pub fn with(mut self, key: &str, value: &str) -> Machine {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The command `run` would run, to spawn and drive by hand (a server).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_llmaas"));
        cmd.args(args)
            .env_remove("LLMAAS_NOW")
            .env_remove("RUST_LOG")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_llmaas"));
        cmd.args(args)
            .env_remove("LLMAAS_NOW")
            .env_remove("RUST_LOG")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        Run(child.wait_with_output().unwrap())
    }

    pub fn data(&self, rel: &str) -> PathBuf {
        self.root.path().join("data/llmaas-desktop").join(rel)
    }

    pub fn config(&self, rel: &str) -> PathBuf {
        self.root.path().join("config/llmaas-desktop").join(rel)
    }

    /// Every byte the app wrote under this home (settings, ledger, logs, catalogue).
    pub fn all_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push((path.clone(), std::fs::read(&path).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.root.path(), &mut out);
        out
    }
}

pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().expect("exited normally")
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.0.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\nstderr: {}",
                self.stdout(),
                self.stderr()
            )
        })
    }
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code(),
            0,
            "stdout: {}\nstderr: {}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

/// A simulator on a runtime of its own, for the lifetime of a test.
pub struct Sim {
    pub handle: llmaas_sim::SimHandle,
    _rt: tokio::runtime::Runtime,
}

/// Starts a simulator with the default tier and key (`sk-test`).
pub fn simulator() -> Sim {
    // Two workers: the gateway tests serve through it while streaming.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handle = rt.block_on(async {
        llmaas_sim::Simulator::start(llmaas_sim::SimConfig::default()).unwrap()
    });
    Sim { handle, _rt: rt }
}

/// A provisioned model file, or `None` (the test is skipped) when it is not
/// there and `LLMAAS_REQUIRE_MODELS` is not `1`; CI sets it, so a missing
/// model fails there instead.
pub fn provisioned(path: PathBuf) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("LLMAAS_REQUIRE_MODELS").is_none_or(|v| v != "1"),
        "{} is missing: run `python3 scripts/provision-models.py`",
        path.display()
    );
    eprintln!("skipped: {} is not provisioned", path.display());
    None
}
