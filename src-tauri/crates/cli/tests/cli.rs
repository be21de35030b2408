//! Drives the real `llmaas` binary as a user would, each test on a fresh
//! "machine": its own XDG folders in a temp dir, so settings, ledger, logs and
//! catalogue land there and nowhere else.

mod common;

use std::path::Path;

use chrono::{DateTime, Utc};
use common::Machine;
use llmaas_core::{ModelId, RequestKind, RequestStatus, Route, Usage};
use llmaas_ledger::{Ledger, Money, PriceBook, UsageRecord};
use serde_json::Value;

#[test]
fn models_filter_by_capability() {
    let m = Machine::new();
    let run = m.run(&["models", "--capability", "vision", "--json"]).ok();
    let models = run.json();
    let ids: Vec<&str> = models
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"deepseek-ocr"), "{ids:?}");
    assert!(ids.contains(&"mistral-small3.2:24b"), "{ids:?}");
    for model in models.as_array().unwrap() {
        let caps = model["capabilities"].as_array().unwrap();
        assert!(caps.iter().any(|c| c == "vision"), "{model}");
        assert!(
            model["lifecycle"].get("retired").is_none(),
            "retired models are hidden without --all"
        );
    }
    let human = m.run(&["models", "--capability", "vision"]).ok().stdout();
    assert!(
        human.contains("deepseek-ocr") && human.contains("models (catalogue snapshot 2026-05)"),
        "{human}"
    );
    let both = m
        .run(&["models", "-c", "vision", "-c", "ocr", "--json"])
        .ok()
        .json();
    assert!(both.as_array().unwrap().len() < models.as_array().unwrap().len());
    let bad = m.run(&["models", "--capability", "telepathy"]);
    assert_eq!(bad.code(), 2, "{}", bad.stderr());
}

#[test]
fn models_search_and_retired() {
    let m = Machine::new();
    let live = m
        .run(&["models", "--search", "devstral", "--json"])
        .ok()
        .json();
    let all = m
        .run(&["models", "--search", "devstral", "--all", "--json"])
        .ok()
        .json();
    let ids = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(!ids(&live).contains(&"devstral:24b".to_owned()));
    assert!(ids(&all).contains(&"devstral:24b".to_owned()));
    let none = m
        .run(&["models", "--search", "no-such-model-anywhere"])
        .ok()
        .stdout();
    assert!(none.contains("No model matches"), "{none}");
}

#[test]
fn show_a_retired_model_with_its_date_and_successor() {
    let m = Machine::new();
    let out = m.run(&["models", "show", "devstral:24b"]).ok().stdout();
    assert!(out.contains("retired 2026-03-30"), "{out}");
    let json = m
        .run(&["models", "show", "devstral:24b", "--json"])
        .ok()
        .json();
    assert_eq!(json["lifecycle"]["retired"]["on"], "2026-03-30");
    assert!(json["status"].as_str().unwrap().starts_with("retired"));

    // The provider names gpt-oss:120b as the successor of cogito:32b.
    let pinned = m.with("LLMAAS_NOW", "2026-11-26T12:00:00Z");
    let out = pinned.run(&["models", "show", "cogito:32b"]).ok().stdout();
    assert!(
        out.contains("successor") && out.contains("gpt-oss:120b"),
        "{out}"
    );
    assert!(out.contains("past end of support (2026-06-30)"), "{out}");
    let json = pinned
        .run(&["models", "show", "cogito:32b", "--json"])
        .ok()
        .json();
    assert_eq!(json["successor_to_use"], "gpt-oss:120b");
    assert_eq!(json["lifecycle"]["successor"], "gpt-oss:120b");

    // An alias finds its model.
    let json = pinned
        .run(&["models", "show", "deepseek-ai/DeepSeek-OCR", "--json"])
        .ok()
        .json();
    assert_eq!(json["id"], "deepseek-ocr");
}

#[test]
fn unknown_model_exits_3() {
    let run = Machine::new().run(&["models", "show", "gpt-17"]);
    assert_eq!(run.code(), 3);
    assert!(
        run.stderr().contains("no model `gpt-17`"),
        "{}",
        run.stderr()
    );
}

#[test]
fn retiring_within_uses_the_date() {
    let m = Machine::new().with("LLMAAS_NOW", "2026-11-26T12:00:00Z");
    let soon = m
        .run(&["models", "--retiring-within", "60", "--json"])
        .ok()
        .json();
    let soon = soon.as_array().unwrap();
    assert!(!soon.is_empty());
    for model in soon {
        let eos = model["lifecycle"]["end_of_support"].as_str().unwrap();
        assert!(("2026-11-26"..="2027-01-25").contains(&eos), "{model}");
    }
    let later = Machine::new().with("LLMAAS_NOW", "2025-07-01T12:00:00Z");
    let none = later
        .run(&["models", "--retiring-within", "1", "--json"])
        .ok()
        .json();
    assert!(
        none.as_array()
            .unwrap()
            .iter()
            .all(|m| m["lifecycle"]["end_of_support"] == "2025-07-01"
                || m["lifecycle"]["end_of_support"] == "2025-07-02")
    );
}

#[test]
fn spend_and_limits_on_a_fresh_machine() {
    let m = Machine::new();
    let spend = m.run(&["spend"]).ok().stdout();
    assert!(spend.contains("0.00 € over 0 requests"), "{spend}");
    assert!(
        m.data("ledger.sqlite3").exists(),
        "the ledger is created in XDG_DATA_HOME"
    );
    let limits = m.run(&["limits"]).ok().stdout();
    assert!(
        limits.contains("Tier 1") && limits.contains("1000.00 €") && limits.contains("150,000"),
        "{limits}"
    );
    let json = m.run(&["limits", "--json"]).ok().json();
    assert_eq!(json["tier"], "tier-1");
    assert_eq!(json["limit_reached"], false);
    // Logs go to XDG_STATE_HOME.
    let logs = m.root.path().join("state/llmaas-desktop/logs");
    assert!(
        std::fs::read_dir(&logs).unwrap().next().is_some(),
        "no log file in {}",
        logs.display()
    );
}

fn row(id: &str, at: &str, model: &str, output: u64, project: Option<&str>) -> UsageRecord {
    let at: DateTime<Utc> = at.parse().unwrap();
    let usage = Usage {
        input_tokens: 2_000,
        output_tokens: output,
        reasoning_tokens: 0,
        audio_seconds: 0,
    };
    let (cost, era) = PriceBook::bundled()
        .price(Route::Cloud, at.date_naive(), &usage)
        .unwrap();
    UsageRecord {
        id: id.into(),
        at,
        route: Route::Cloud,
        model: ModelId::new(model),
        kind: RequestKind::Chat,
        status: RequestStatus::Done,
        usage,
        cost: cost.total,
        price_era: era,
        latency_ms: Some(900),
        ttft_ms: Some(120),
        project: project.map(Into::into),
        estimated: false,
        caller: None,
    }
}

fn seed(m: &Machine, rows: &[UsageRecord]) {
    let path = m.data("ledger.sqlite3");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let ledger = Ledger::open(&path).await.unwrap();
        ledger.record_batch(rows).await.unwrap();
        ledger.close().await;
    });
}

#[test]
fn spend_reports_the_month_and_its_breakdowns() {
    let m = Machine::new()
        .with("LLMAAS_NOW", "2026-11-20T12:00:00Z")
        .with("TZ", "UTC");
    seed(
        &m,
        &[
            row(
                "a",
                "2026-11-02T10:00:00Z",
                "gpt-oss:120b",
                1_000_000,
                Some("alpha"),
            ),
            row(
                "b",
                "2026-11-19T10:00:00Z",
                "mistral-small4:119b",
                500_000,
                None,
            ),
            row(
                "c",
                "2026-10-31T23:00:00Z",
                "gpt-oss:120b",
                1_000_000,
                Some("alpha"),
            ),
        ],
    );
    // 2026-05 prices: 2,000 in at 1.80 €/M = 0.0036 €, 1 M out at 8 € = 8 €.
    let json = m.run(&["spend", "--json"]).ok().json();
    assert_eq!(json["month"], "2026-11");
    assert_eq!(json["requests"], 2);
    assert_eq!(json["spent"], 8_003_600_000_i64 + 4_003_600_000);
    assert_eq!(json["spent_eur"], "12.007200000");
    assert!(json["forecast"]["projected"].as_i64().unwrap() >= json["spent"].as_i64().unwrap());

    let by_model = m.run(&["spend", "--by", "model", "--json"]).ok().json();
    let rows = by_model["by"].as_array().unwrap();
    assert_eq!(rows[0]["key"], "gpt-oss:120b", "dearest first");
    let human = m.run(&["spend", "--by", "project"]).ok().stdout();
    assert!(
        human.contains("alpha") && human.contains("(none)") && human.contains("12.01 €"),
        "{human}"
    );
    let days = m.run(&["spend", "--by", "day", "--csv"]).ok().stdout();
    assert!(days.starts_with("key,requests,"), "{days}");
    assert!(
        days.contains("2026-11-02,1,") && days.contains("2026-11-19,1,"),
        "{days}"
    );

    let october = m
        .run(&["spend", "--month", "2026-10", "--json"])
        .ok()
        .json();
    assert_eq!(october["requests"], 1);
    assert!(
        october.get("forecast").is_none(),
        "no forecast for a past month"
    );
    let csv = m
        .run(&["spend", "--month", "2026-10", "--csv"])
        .ok()
        .stdout();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with("c,"), "{csv}");

    assert_eq!(m.run(&["spend", "--month", "2026-13"]).code(), 2);
    assert_eq!(m.run(&["spend", "--month", "soon"]).code(), 2);
}

#[test]
fn limits_exit_5_when_a_cap_is_reached() {
    let m = Machine::new()
        .with("LLMAAS_NOW", "2026-11-20T12:00:00Z")
        .with("TZ", "UTC");
    // Tier 1 allows 150,000 output tokens an hour.
    seed(
        &m,
        &[row(
            "big",
            "2026-11-20T11:30:00Z",
            "gpt-oss:120b",
            150_000,
            None,
        )],
    );
    let run = m.run(&["limits"]);
    assert_eq!(run.code(), 5, "{}", run.stdout());
    assert!(
        run.stdout()
            .contains("reached 100 % of the hourly output-token limit"),
        "{}",
        run.stdout()
    );
    // Tier 2 doubles the hourly cap: half of it is used.
    m.run(&["config", "set", "cloud.tier", "2"]).ok();
    let json = m.run(&["limits", "--json"]).ok().json();
    assert_eq!(json["tier"], "tier-2");
    assert_eq!(json["state"]["output_tokens_last_hour"], 150_000);
    assert_eq!(json["alerts"][0]["threshold"], 50);
    // The user's own tighter cap applies.
    m.run(&["config", "set", "budget.output_tokens_per_hour", "100000"])
        .ok();
    assert_eq!(m.run(&["limits"]).code(), 5);
}

#[test]
fn config_set_get_and_errors() {
    let m = Machine::new();
    let out = m
        .run(&["config", "set", "routing.policy", "local"])
        .ok()
        .stdout();
    assert_eq!(out.trim(), "routing.policy = local");
    assert_eq!(
        m.run(&["config", "get", "routing.policy"])
            .ok()
            .stdout()
            .trim(),
        "local"
    );
    let text = std::fs::read_to_string(m.config("settings.toml")).unwrap();
    assert!(text.contains("policy = \"local\""), "{text}");
    // Unset optional key: exit 3 and nothing printed.
    let unset = m.run(&["config", "get", "budget.project"]);
    assert_eq!((unset.code(), unset.stdout()), (3, String::new()));
    // Bad key, bad value: exit 2, file untouched.
    assert_eq!(m.run(&["config", "set", "cloud.tierr", "2"]).code(), 2);
    let bad = m.run(&["config", "set", "cloud.tier", "9"]);
    assert_eq!(bad.code(), 2);
    assert!(bad.stderr().contains("cloud.tier"), "{}", bad.stderr());
    assert_eq!(
        std::fs::read_to_string(m.config("settings.toml")).unwrap(),
        text
    );
    let list = m.run(&["config", "list", "--json"]).ok().json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|e| e["key"] == "cloud.base_url")
    );
    let paths = m.run(&["config", "path", "--json"]).ok().json();
    assert!(
        paths["ledger"]
            .as_str()
            .unwrap()
            .starts_with(m.root.path().to_str().unwrap())
    );

    // A broken settings file is reported with its line, for every command.
    std::fs::write(
        m.config("settings.toml"),
        "[cloud]\ntier = \"tier-1\"\nbase_url = 42\n",
    )
    .unwrap();
    let broken = m.run(&["limits"]);
    assert_eq!(broken.code(), 1);
    assert!(
        broken.stderr().contains("settings.toml line 3"),
        "{}",
        broken.stderr()
    );
}

#[test]
fn catalog_import_makes_a_user_catalogue() {
    let m = Machine::new();
    let provider = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../models/provider/models_config-2026-05.yaml");
    let out = m
        .run(&["catalog", "import", provider.to_str().unwrap()])
        .ok()
        .stdout();
    assert!(out.contains("catalogue written to"), "{out}");
    assert!(m.data("catalog.toml").exists());
    let status = m.run(&["catalog", "status", "--json"]).ok().json();
    assert!(status["source"].as_str().unwrap().ends_with("catalog.toml"));
    assert_eq!(status["live"], 58);
    // A malformed user catalogue is an error with its line, not a crash.
    std::fs::write(
        m.data("catalog.toml"),
        "format = 1\nsnapshot = \"2026-05\"\n[[model]]\nid = 7\n",
    )
    .unwrap();
    let run = m.run(&["models"]);
    assert_eq!(run.code(), 1);
    assert!(run.stderr().contains("line 4"), "{}", run.stderr());
    // A file that is neither format is refused.
    let junk = m.root.path().join("junk.txt");
    std::fs::write(&junk, "hello").unwrap();
    assert_ne!(
        m.run(&["catalog", "import", junk.to_str().unwrap()]).code(),
        0
    );
}

/// Whether this machine has a usable keychain; CI requires one.
fn keychain_or_skip(m: &Machine) -> bool {
    let run = m.run(&["key", "status"]);
    match run.code() {
        0 | 3 => true,
        4 if std::env::var_os("LLMAAS_REQUIRE_KEYCHAIN").is_none() => {
            eprintln!("skipping: no keychain here; CI sets LLMAAS_REQUIRE_KEYCHAIN=1");
            false
        }
        code => panic!("keychain required (exit {code}): {}", run.stderr()),
    }
}

#[test]
fn key_round_trip_never_leaks_the_key() {
    const KEY: &str = "sk-test-7f3a9c1e5b2d4e6f8a0b1c2d3e4f5a6b";
    let m = Machine::new();
    if !keychain_or_skip(&m) {
        return;
    }
    let runs = [
        m.run_with_stdin(&["key", "set", "-v"], Some(&format!("{KEY}\n")))
            .ok(),
        m.run(&["key", "status", "-v"]).ok(),
        m.run(&["key", "status", "--json"]).ok(),
        m.run(&["config", "list", "-v"]).ok(),
        m.run(&["limits", "-v"]).ok(),
        m.run(&["spend", "--json"]).ok(),
    ];
    assert_eq!(runs[2].json()["stored"], true);
    // Empty input is refused and keeps the stored key.
    let empty = m.run_with_stdin(&["key", "set"], Some("  \n"));
    assert_eq!(empty.code(), 2, "{}", empty.stderr());
    assert_eq!(m.run(&["key", "status"]).code(), 0);

    for run in &runs {
        assert!(!run.stdout().contains(KEY) && !run.stderr().contains(KEY));
    }
    for (path, bytes) in m.all_files() {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(KEY),
            "the key leaked into {}",
            path.display()
        );
        assert!(
            !text.contains("7f3a9c1e5b2d"),
            "part of the key leaked into {}",
            path.display()
        );
    }
    let logs: String = m
        .all_files()
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "log"))
        .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
        .collect();
    assert!(
        logs.contains("API key stored"),
        "the log has the event, not the key: {logs}"
    );

    m.run(&["key", "delete"]).ok();
    assert_eq!(m.run(&["key", "status"]).code(), 3);
    let again = m.run(&["key", "delete"]).ok().stdout();
    assert!(again.contains("No API key was stored"), "{again}");
}

#[test]
fn help_and_usage_errors() {
    let m = Machine::new();
    let help = m.run(&["--help"]).ok().stdout();
    for cmd in ["models", "catalog", "spend", "limits", "key", "config"] {
        assert!(help.contains(cmd), "{help}");
    }
    assert!(help.contains("Exit codes"), "{help}");
    assert_eq!(m.run(&["frobnicate"]).code(), 2);
    // The key is never an argument.
    assert_eq!(m.run(&["key", "set", "sk-abc"]).code(), 2);
}

#[test]
fn money_is_never_printed_from_a_float() {
    // A cost of 1 nano-euro survives the JSON export exactly.
    let m = Machine::new()
        .with("LLMAAS_NOW", "2026-11-20T12:00:00Z")
        .with("TZ", "UTC");
    let mut r = row("tiny", "2026-11-10T10:00:00Z", "gpt-oss:120b", 0, None);
    r.usage = Usage::default();
    r.cost = Money::from_nanos(1);
    seed(&m, &[r]);
    let json = m.run(&["spend", "--json"]).ok().json();
    assert_eq!(json["spent"], 1);
    assert_eq!(json["spent_eur"], "0.000000001");
}
