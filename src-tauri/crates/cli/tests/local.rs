//! `llmaas models --local|import|pull` and `llmaas chat --local` on the real
//! embedded default model.

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::Machine;

/// The provisioned default chat model.
fn default_model() -> Option<PathBuf> {
    let cache = llmaas_config::Paths::from_platform().unwrap().cache_dir;
    common::provisioned(llmaas_local::default_model::chat_default_path(&cache))
}

fn machine(model: &std::path::Path) -> Machine {
    Machine::new()
        .with("LLMAAS_DEFAULT_MODEL", &model.display().to_string())
        // No key, and a cloud that is not there: nothing may leave.
        .with("LLMAAS_BASE_URL", "http://127.0.0.1:9/v1")
        .with("LLMAAS_API_KEY", "")
}

#[test]
fn lists_imports_and_refuses_bad_files() {
    let Some(model) = default_model() else { return };
    let m = machine(&model);
    let listed = m.run(&["models", "--local", "--json"]).ok().json();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], "smollm2-135m-instruct");
    assert_eq!(rows[0]["usable"], true);
    assert_eq!(rows[0]["architecture"], "llama");
    assert_eq!(rows[0]["quantisation"], "Q4_1");
    // candle has no SIMD kernel for Q4_1: it runs converted.
    assert_eq!(rows[0]["runs_as"], "Q8_0");
    // Known before loading: where it would run, and with which kernels.
    assert_eq!(rows[0]["device"], "cpu");
    assert!(rows[0]["kernels"].is_string());
    assert_eq!(rows[0]["context"], 8192);
    assert_eq!(rows[0]["source"], "default");

    let junk = m.root.path().join("junk.gguf");
    std::fs::write(&junk, b"random bytes named like a model").unwrap();
    let run = m.run(&["models", "import", junk.to_str().unwrap()]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(run.stderr().contains("not a GGUF"), "{}", run.stderr());

    let run = m
        .run(&["models", "import", "--link", model.to_str().unwrap()])
        .ok();
    assert!(
        run.stdout().contains("smollm2-135m-instruct.q4_1"),
        "{}",
        run.stdout()
    );
    // A copy of a Q4_1 file is the file converted to Q8_0, named for it.
    let copied = m.run(&["models", "import", model.to_str().unwrap()]).ok();
    assert!(
        copied.stdout().contains("smollm2-135m-instruct.q8_0"),
        "{}",
        copied.stdout()
    );
    let again = m.run(&["models", "import", model.to_str().unwrap()]);
    assert_eq!(again.code(), 2, "exists already: {}", again.stderr());

    // A file dropped by hand is listed as unusable, with its reason.
    let folder = m.data("models");
    std::fs::write(folder.join("broken.gguf"), b"GGUF\x03\x00\x00\x00").unwrap();
    let table = m.run(&["models", "--local"]).ok().stdout();
    assert!(table.contains("smollm2-135m-instruct.q4_1"), "{table}");
    assert!(table.contains("unusable: the file is truncated"), "{table}");
    assert!(table.contains("embedded default"), "{table}");
    assert!(table.contains("Q4_1 → Q8_0"), "{table}");
}

#[test]
fn chats_locally_with_no_key_and_records_zero_euros() {
    let Some(model) = default_model() else { return };
    let m = machine(&model);
    let out = m
        .run(&[
            "chat",
            "--local",
            "--json",
            "--temperature",
            "0",
            "--max-tokens",
            "8",
            "Say hello.",
        ])
        .ok()
        .json();
    let summary = &out["summary"];
    assert_eq!(summary["route"], "local", "{out}");
    assert_eq!(summary["model"], "smollm2-135m-instruct");
    assert_eq!(summary["status"], "done");
    assert_eq!(summary["cost"], 0);
    let tokens = summary["usage"]["output_tokens"].as_u64().unwrap();
    assert!((1..=8).contains(&tokens), "{summary}");
    assert!(!out["text"].as_str().unwrap().trim().is_empty());

    // Auto with no key runs here too; the ledger has both rows at 0 €.
    let human = m.run(&["chat", "--max-tokens", "4", "Hi"]).ok();
    // A local answer's last line gives its decode speed.
    assert!(human.stderr().contains("tokens/s"), "{}", human.stderr());
    // And the load of the cold model, with its time.
    assert!(
        human.stderr().contains("smollm2-135m-instruct loaded in"),
        "{}",
        human.stderr()
    );
    let spend = m.run(&["spend", "--json"]).ok().json();
    assert_eq!(spend["requests"], 2, "{spend}");
    assert_eq!(spend["spent"], 0, "{spend}");
    assert!(spend["output_tokens"].as_u64().unwrap() >= 2, "{spend}");
}

/// Serves `body` once per connection over plain HTTP/1.0.
fn serve(body: Vec<u8>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0_u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}")
}

#[test]
fn pulls_a_model_and_checks_its_checksum() {
    let Some(model) = default_model() else { return };
    let m = machine(&model);
    let bytes = std::fs::read(&model).unwrap();
    let base = serve(bytes);
    let manifest = llmaas_local::default_model::chat_default();
    let bad = m.run(&[
        "models",
        "pull",
        &format!("{base}/tiny.gguf"),
        "--sha256",
        &"0".repeat(64),
    ]);
    assert_eq!(bad.code(), 1, "{}", bad.stderr());
    assert!(
        bad.stderr().contains("checksum mismatch"),
        "{}",
        bad.stderr()
    );
    assert!(!m.data("models/tiny.gguf").exists());

    let run = m
        .run(&[
            "models",
            "pull",
            &format!("{base}/dl"),
            "--name",
            "tiny.gguf",
            "--sha256",
            &manifest.sha256,
        ])
        .ok();
    // Checked as it came, then kept converted (its tensors are Q4_1).
    assert!(run.stdout().contains("`tiny.q8_0`"), "{}", run.stdout());
    assert!(!m.data("models/tiny.gguf").exists());
    let kept = llmaas_local::gguf::read(&m.data("models/tiny.Q8_0.gguf")).unwrap();
    assert_eq!(kept.quantisation, "Q8_0");
    assert!(kept.has_chat_template);
    assert!(manifest.size > 0);
}

/// One HTTP/1.1 POST over a plain socket to `base` (`http://ADDR/v1`) +
/// `path`: the status and the body.
fn post(base: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let rest = base.trim_start_matches("http://");
    let (addr, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let path = format!("/{prefix}{path}");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

#[test]
fn serve_runs_a_model_dropped_into_the_folder_while_it_runs() {
    let Some(model) = default_model() else { return };
    let m = machine(&model);
    let token = m.run(&["tokens", "create", "t"]).ok().stdout();
    let mut child = m.command(&["serve", "--port", "0"]).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("llmaas gateway listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();

    let chat = r#"{"model":"dropped","messages":[{"role":"user","content":"Hi"}],"max_tokens":4,"temperature":0}"#;
    // Not there yet: with no key, auto runs the embedded default instead.
    let answered_by = |body: &str| -> String {
        serde_json::from_str::<serde_json::Value>(body).map_or_else(
            |_| String::new(),
            |v| v["model"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let (status, body) = post(&url, "/chat/completions", token.trim(), chat);
    assert_eq!(status, 200, "{body}");
    assert_eq!(answered_by(&body), "smollm2-135m-instruct", "{body}");
    std::os::unix::fs::symlink(&model, m.data("models/dropped.gguf")).unwrap();
    let start = Instant::now();
    let (status, body) = loop {
        let (status, body) = post(&url, "/chat/completions", token.trim(), chat);
        if answered_by(&body) == "dropped" || start.elapsed() > Duration::from_secs(20) {
            break (status, body);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(status, 200, "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["model"], "dropped", "{answer}");
    assert!(
        answer["usage"]["completion_tokens"].as_u64().unwrap() >= 1,
        "{answer}"
    );
}

/// `models --available` lists the download list the settings name, and
/// `models pull NAME` gets a listed model with the list's checksum and size.
#[test]
fn lists_and_pulls_a_listed_model_by_name() {
    let Some(model) = default_model() else { return };
    let m = machine(&model);
    let bytes = std::fs::read(&model).unwrap();
    let manifest = llmaas_local::default_model::chat_default();
    let base = serve(bytes.clone());
    let list = m.data("our-models.toml");
    std::fs::create_dir_all(list.parent().unwrap()).unwrap();
    std::fs::write(
        &list,
        format!(
            r#"[[model]]
name = "smollm2-135m"
family = "SmolLM2"
editor = "Hugging Face"
description = "The embedded default, served on loopback"
parameters = "135M"
architecture = "llama"
quantisation = "Q4_1"
url = "{base}/SmolLM2-135M-Instruct.Q4_1.gguf"
size = {}
sha256 = "{}"
licence = "Apache-2.0"
context = 8192
capabilities = ["chat"]
embedding = [49152, 576]
stands_in_for = "qwen3:0.6b"
checked_at = "this test"
"#,
            bytes.len(),
            manifest.sha256
        ),
    )
    .unwrap();
    // The built-in list first: real models, none here.
    let builtin = m.run(&["models", "--available", "--json"]).ok().json();
    let rows = builtin.as_array().unwrap();
    assert!(rows.len() >= 6, "{builtin}");
    assert!(rows.iter().all(|r| r["presence"] == "absent"));
    assert!(
        rows.iter()
            .all(|r| r["memory_bytes"].as_u64() > r["size"].as_u64())
    );

    m.run(&[
        "config",
        "set",
        "models.download_list",
        &list.display().to_string(),
    ])
    .ok();
    let listed = m.run(&["models", "--available", "--json"]).ok().json();
    assert_eq!(listed[0]["name"], "smollm2-135m");
    assert_eq!(listed[0]["presence"], "absent");
    assert_eq!(listed[0]["stands_in_for"], "qwen3:0.6b");

    let unknown = m.run(&["models", "pull", "nope"]);
    assert_eq!(unknown.code(), 2, "{}", unknown.stderr());
    assert!(
        unknown.stderr().contains("smollm2-135m"),
        "{}",
        unknown.stderr()
    );
    let flags = m.run(&[
        "models",
        "pull",
        "smollm2-135m",
        "--sha256",
        &"0".repeat(64),
    ]);
    assert_eq!(flags.code(), 2, "{}", flags.stderr());

    let run = m.run(&["models", "pull", "smollm2-135m"]).ok();
    assert!(
        run.stdout().contains("`smollm2-135m-instruct.q8_0`"),
        "{}",
        run.stdout()
    );
    let table = m.run(&["models", "--available"]).ok();
    assert!(table.stdout().contains("yes"), "{}", table.stdout());
    let here = m.run(&["models", "--available", "--json"]).ok().json();
    assert_eq!(here[0]["presence"], "here");
}
