//! What the ledger's integration tests share: a time parser, a typical
//! row, and a child process of the test binary to kill mid-write.
#![allow(dead_code)] // each test binary uses its own part of this.

use std::io::{BufRead as _, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use chrono::{DateTime, Utc};
use llmaas_core::{ModelId, RequestKind, RequestStatus, Route, Usage};
use llmaas_ledger::{Money, UsageRecord};

pub fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub fn record(id: &str, at: DateTime<Utc>) -> UsageRecord {
    UsageRecord {
        id: id.to_owned(),
        at,
        route: Route::Cloud,
        model: ModelId::new("gpt-oss:120b"),
        kind: RequestKind::Chat,
        status: RequestStatus::Done,
        usage: Usage {
            input_tokens: 1000,
            output_tokens: 500,
            reasoning_tokens: 100,
            audio_seconds: 0,
        },
        cost: Money::from_nanos(1_000_000),
        price_era: "2026-05".to_owned(),
        latency_ms: Some(1200),
        ttft_ms: Some(150),
        project: None,
        estimated: false,
        caller: None,
    }
}

/// Runs the ignored test `name` of this test binary as a child process,
/// with `env` set to `db`, and hands back its stdout lines: the child says
/// what it committed, the parent kills it and checks what survived.
pub fn spawn_child(name: &str, env: &str, db: &Path) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            name,
            "--nocapture",
            "--ignored",
            "--test-threads=1",
        ])
        .env(env, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    (child, BufReader::new(stdout).lines())
}

/// Runs `f` on a runtime of its own (for the parent half of a kill test,
/// a plain `#[test]`).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
