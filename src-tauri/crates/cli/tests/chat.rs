//! `llmaas chat`, `embed` and `models --live` against the LLMaaS simulator.

mod common;

use common::{Machine, simulator};

const SIM_KEY: &str = "sk-test";

/// A machine whose cloud is `sim`, with the simulator's key in its environment.
fn keyed(sim: &common::Sim) -> Machine {
    Machine::new()
        .with("LLMAAS_BASE_URL", &sim.handle.base_url())
        .with("LLMAAS_API_KEY", SIM_KEY)
}

#[test]
fn chat_streams_from_the_cloud_and_lands_in_the_ledger() {
    let sim = simulator();
    let m = keyed(&sim);
    let run = m
        .run(&["chat", "-m", "mistral-small4:119b", "Bonjour"])
        .ok();
    assert_eq!(run.stdout(), "Echo: Bonjour\n");
    let err = run.stderr();
    assert!(
        err.contains("— cloud · mistral-small4:119b · routing policy")
            || err.contains("— cloud · mistral-small4:119b · auto"),
        "{err}"
    );
    assert!(err.contains(" €") && err.contains("first token"), "{err}");

    // From stdin, as JSON, with a project tag.
    let json = m
        .run_with_stdin(
            &["chat", "-m", "gpt-oss:120b", "--json", "--project", "p1"],
            Some("Salut\n"),
        )
        .ok()
        .json();
    assert_eq!(json["text"], "Echo: Salut");
    assert!(
        !json["reasoning"].as_str().unwrap().is_empty(),
        "gpt-oss reasons"
    );
    assert_eq!(json["summary"]["route"], "cloud");
    assert_eq!(json["summary"]["status"], "done");

    let spend = m.run(&["spend", "--by", "project", "--json"]).ok().json();
    assert_eq!(spend["requests"], 2);
    assert!(
        spend["by"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["key"] == "p1")
    );
    // The key given in the environment is written nowhere.
    for (path, bytes) in m.all_files() {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SIM_KEY),
            "the key leaked into {}",
            path.display()
        );
    }
}

#[test]
fn confidential_chat_without_a_local_model_is_refused_and_sends_nothing() {
    let sim = simulator();
    let m = keyed(&sim);
    let run = m.run(&["chat", "--confidential", "the merger plan"]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(run.stderr().contains("no local model"), "{}", run.stderr());
    assert_eq!(sim.handle.request_count(), 0);
    let local = m.run(&["chat", "--local", "hello"]);
    assert_eq!(local.code(), 1);
    assert_eq!(sim.handle.request_count(), 0);
}

#[test]
fn no_key_means_exit_3_for_the_cloud() {
    let sim = simulator();
    let m = Machine::new()
        .with("LLMAAS_BASE_URL", &sim.handle.base_url())
        .with("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
    let run = m.run(&["chat", "--cloud", "hello"]);
    assert_eq!(run.code(), 3, "{}", run.stderr());
    assert!(run.stderr().contains("no API key"), "{}", run.stderr());
}

#[test]
fn embed_and_live_models() {
    let sim = simulator();
    let m = keyed(&sim);
    let json = m.run(&["embed", "un", "deux", "--json"]).ok().json();
    assert_eq!(json["vectors"].as_array().unwrap().len(), 2);
    assert_eq!(json["summary"]["model"], "granite-embedding:278m");
    let live = m.run(&["models", "--live", "--json"]).ok().json();
    let rows = live["rows"].as_array().unwrap();
    assert!(
        rows.iter().any(|r| r["catalogued"] == "deepseek-ocr"),
        "{live}"
    );
    let human = m.run(&["models", "--live"]).ok().stdout();
    assert!(human.contains("models served by"), "{human}");
}

#[test]
fn interactive_chat_keeps_the_conversation() {
    let sim = simulator();
    let m = keyed(&sim);
    let run = m
        .run_with_stdin(
            &[
                "chat",
                "-i",
                "-m",
                "mistral-small4:119b",
                "--system",
                "Be brief.",
            ],
            Some("Bonjour\n\nÇa va ?\n/exit\nnot sent\n"),
        )
        .ok();
    assert_eq!(run.stdout(), "Echo: Bonjour\nEcho: Ça va ?\n");
    let chats: Vec<_> = sim
        .handle
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect();
    assert_eq!(chats.len(), 2, "the line after /exit is not sent");
    let second = chats[1].body["messages"].as_array().unwrap();
    let roles: Vec<&str> = second.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(second[2]["content"], "Echo: Bonjour");
}

#[test]
fn images_are_sent_as_data_urls_and_checked_first() {
    let sim = simulator();
    let m = keyed(&sim);
    // A PNG header is all the simulator reads of an image.
    let mut png = vec![
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R',
    ];
    png.extend_from_slice(&640_u32.to_be_bytes());
    png.extend_from_slice(&480_u32.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let image = m.root.path().join("photo.png");
    std::fs::write(&image, &png).unwrap();
    m.run(&[
        "chat",
        "-m",
        "mistral-small4:119b",
        "--image",
        image.to_str().unwrap(),
        "What is it?",
    ])
    .ok();
    let req = sim
        .handle
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/chat/completions"))
        .unwrap();
    assert_eq!((req.images[0].width, req.images[0].height), (640, 480));
    let not_image = m.root.path().join("notes.png");
    std::fs::write(&not_image, "just text").unwrap();
    let run = m.run(&[
        "chat",
        "--image",
        not_image.to_str().unwrap(),
        "What is it?",
    ]);
    assert_eq!(run.code(), 2, "{}", run.stderr());
    assert!(
        run.stderr().contains("not a PNG, JPEG, WebP or GIF"),
        "{}",
        run.stderr()
    );
    assert_eq!(
        sim.handle.request_count(),
        1,
        "nothing sent for a file that is not an image"
    );
}

/// A process killed between sending and recording: the provider may bill
/// the request, so the next start records it, billed at its reservation.
#[test]
fn a_killed_chat_is_recorded_as_interrupted_at_the_next_start() {
    let sim = simulator();
    sim.handle.set_faults(llmaas_sim::Faults {
        first_byte_delay: std::time::Duration::from_secs(30),
        ..llmaas_sim::Faults::default()
    });
    let m = keyed(&sim);
    let mut child = m
        .command(&["chat", "-m", "mistral-small4:119b", "Bonjour"])
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while sim.handle.request_count() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the chat never reached the cloud"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let spend = m.run(&["spend", "--json"]).ok().json();
    assert_eq!(spend["requests"], 1, "{spend}");
    assert_eq!(spend["interrupted"], 1, "{spend}");
    assert_eq!(spend["in_flight"], 0, "{spend}");
    // Billed at the worst case reserved: 1,024 output tokens at 8 €/M and more.
    assert!(spend["spent"].as_i64().unwrap() > 8_000_000, "{spend}");
    let human = m.run(&["spend"]).ok().stdout();
    assert!(human.contains("1 request(s) were interrupted"), "{human}");
}

#[test]
fn the_settings_chat_defaults_apply_unless_a_flag_says_otherwise() {
    let sim = simulator();
    let m = keyed(&sim);
    for (key, value) in [
        ("chat.system_prompt", "Answer in French."),
        ("chat.temperature", "0.3"),
        ("chat.max_tokens", "120"),
    ] {
        m.run(&["config", "set", key, value]).ok();
    }
    m.run(&["chat", "-m", "mistral-small4:119b", "Bonjour"])
        .ok();
    m.run(&[
        "chat",
        "-m",
        "mistral-small4:119b",
        "--system",
        "Be brief.",
        "--temperature",
        "1.5",
        "--max-tokens",
        "50",
        "Bonjour",
    ])
    .ok();
    let chats: Vec<_> = sim
        .handle
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect();
    assert_eq!(chats.len(), 2);
    let (defaults, flags) = (&chats[0].body, &chats[1].body);
    assert_eq!(defaults["messages"][0]["role"], "system");
    assert_eq!(defaults["messages"][0]["content"], "Answer in French.");
    assert!((defaults["temperature"].as_f64().unwrap() - 0.3).abs() < 1e-6);
    assert_eq!(defaults["max_tokens"], 120);
    assert_eq!(flags["messages"][0]["content"], "Be brief.");
    assert!((flags["temperature"].as_f64().unwrap() - 1.5).abs() < 1e-6);
    assert_eq!(flags["max_tokens"], 50);
}
