//! `llmaas tokens` and `llmaas serve`, the latter with the official `openai`
//! Python SDK as the client (tests/python/test_gateway.py).
//!
//! The Python test needs `LLMAAS_PYTHON` (a Python with `openai` installed;
//! scripts/test.sh makes one); without it the test says why and passes,
//! unless `LLMAAS_REQUIRE_PYTHON=1`.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Machine, simulator};

#[test]
fn tokens_are_printed_once_listed_without_secret_and_revoked() {
    let m = Machine::new();
    let created = m
        .run(&[
            "tokens",
            "create",
            "alice",
            "--project",
            "p1",
            "--cap",
            "12.5",
            "--policy",
            "cloud",
            "--json",
        ])
        .ok()
        .json();
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("llmg_") && token.len() == 69, "{token}");
    assert_eq!(created["cap_eur"], "12.500000000");
    assert_eq!(created["policy"], "cloud");
    let plain = m.run(&["tokens", "create", "bob"]).ok();
    let bob = plain.stdout().trim().to_owned();
    assert!(bob.starts_with("llmg_"), "{}", plain.stdout());
    assert!(plain.stderr().contains("only time"), "{}", plain.stderr());

    // A taken name is bad usage; a bad cap too.
    assert_eq!(m.run(&["tokens", "create", "alice"]).code(), 2);
    assert_eq!(
        m.run(&["tokens", "create", "carol", "--cap", "lots"])
            .code(),
        2
    );

    let list = m.run(&["tokens", "list"]).ok();
    let table = list.stdout();
    assert!(
        table.contains("alice") && table.contains("p1") && table.contains("12.50"),
        "{table}"
    );
    let json = m.run(&["tokens", "list", "--json"]).ok();
    assert_eq!(json.json().as_array().unwrap().len(), 2);
    for out in [table.as_str(), json.stdout().as_str()] {
        assert!(
            !out.contains(&token) && !out.contains(&bob),
            "a token leaked: {out}"
        );
    }
    // The store holds no token either.
    for (path, bytes) in m.all_files() {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(&token), "the token is in {}", path.display());
    }

    m.run(&["tokens", "revoke", "alice"]).ok();
    assert_eq!(m.run(&["tokens", "revoke", "alice"]).code(), 3);
    assert_eq!(m.run(&["tokens", "revoke", "nobody"]).code(), 3);
    let json = m.run(&["tokens", "list", "--json"]).ok().json();
    let alice = json
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "alice")
        .unwrap()
        .clone();
    assert!(alice["revoked_at"].is_string());
}

/// The same environment the `Machine` gives its commands, for a long-running child.
fn serve_command(m: &Machine, args: &[&str], sim_url: &str) -> Command {
    let p = |sub: &str| m.root.path().join(sub);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_llmaas"));
    cmd.args(args)
        .env_remove("LLMAAS_NOW")
        .env_remove("RUST_LOG")
        .env("XDG_CONFIG_HOME", p("config"))
        .env("XDG_DATA_HOME", p("data"))
        .env("XDG_STATE_HOME", p("state"))
        .env("XDG_CACHE_HOME", p("cache"))
        .env(
            "LLMAAS_KEYCHAIN_SERVICE",
            format!("llmaas-desktop-test-{}", std::process::id()),
        )
        .env("LLMAAS_BASE_URL", sim_url)
        .env("LLMAAS_API_KEY", "sk-test")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// `llmaas serve` on a free port; its URL from the line it prints.
fn serve(m: &Machine, sim_url: &str) -> (Child, String) {
    let mut child = serve_command(m, &["serve", "--port", "0"], sim_url)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("llmaas gateway listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    (child, url)
}

/// SIGTERM, then the exit status (a graceful stop exits 0).
fn terminate(mut child: Child) -> std::process::Output {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..300 {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
    }
    child.wait_with_output().unwrap()
}

#[test]
fn serve_answers_the_openai_python_sdk() {
    let python = std::env::var("LLMAAS_PYTHON")
        .ok()
        .filter(|p| !p.is_empty());
    let required = std::env::var("LLMAAS_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
    let Some(python) = python else {
        assert!(
            !required,
            "LLMAAS_REQUIRE_PYTHON=1 but LLMAAS_PYTHON is not set"
        );
        eprintln!(
            "skipped: LLMAAS_PYTHON is not set (scripts/test.sh sets it to a venv with the openai SDK)"
        );
        return;
    };
    let sim = simulator();
    let m = Machine::new()
        .with("LLMAAS_BASE_URL", &sim.handle.base_url())
        .with("LLMAAS_API_KEY", "sk-test");
    // The guard refuses a request whose max_tokens would pass this hourly cap.
    m.run(&["config", "set", "budget.output_tokens_per_hour", "100000"])
        .ok();
    let token = m
        .run(&["tokens", "create", "python-sdk", "--project", "sdk"])
        .ok()
        .stdout();
    let revoked = m.run(&["tokens", "create", "gone"]).ok().stdout();
    m.run(&["tokens", "revoke", "gone"]).ok();

    let (child, url) = serve(&m, &sim.handle.base_url());
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let script: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "../../../tests/python/test_gateway.py",
    ]
    .iter()
    .collect();
    let out = Command::new(&python)
        .arg(&script)
        .env("LLMAAS_GATEWAY_URL", &url)
        .env("LLMAAS_GATEWAY_TOKEN", token.trim())
        .env("LLMAAS_GATEWAY_REVOKED_TOKEN", revoked.trim())
        .output()
        .unwrap();
    let server = terminate(child);
    let report = String::from_utf8_lossy(&out.stderr);
    eprintln!("{report}");
    assert!(
        out.status.success(),
        "the openai SDK tests failed:\n{report}\nserver stderr:\n{}",
        String::from_utf8_lossy(&server.stderr)
    );
    assert!(
        report.contains("Ran 9 tests") && !report.contains("skipped"),
        "{report}"
    );
    assert_eq!(
        server.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&server.stderr)
    );

    // Every request the SDK made is in the ledger, under the token's project, and metered.
    let spend = m.run(&["spend", "--by", "project", "--json"]).ok().json();
    let rows = spend["requests"].as_u64().unwrap();
    assert!(rows >= 9, "{spend}");
    let tokens = m.run(&["tokens", "list", "--json"]).ok().json();
    let sdk = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "python-sdk")
        .unwrap()
        .clone();
    assert_eq!(sdk["requests"].as_u64().unwrap(), rows, "{tokens}");
    assert!(
        spend["by"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["key"] == "sdk"),
        "{spend}"
    );
}

#[test]
fn serve_warns_when_it_listens_beyond_this_machine_without_tls() {
    let sim = simulator();
    let m = Machine::new();
    let mut child = serve_command(
        &m,
        &["serve", "--bind", "0.0.0.0", "--port", "0"],
        &sim.handle.base_url(),
    )
    .spawn()
    .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("llmaas gateway listening on http://0.0.0.0:"),
        "{line}"
    );
    let out = terminate(child);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: listening on 0.0.0.0 without TLS"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(0), "{err}");
}
