//! The bundled catalogue against the provider's real files in models/provider/.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use llmaas_catalog::import::{self, ProviderFormat};
use llmaas_catalog::{Catalog, LifecycleState, Query};
use llmaas_core::Capability;

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../models")
}

fn generated() -> Catalog {
    let files = import::provider_files_in(&models_dir().join("provider")).unwrap();
    import::from_provider_files(&files).unwrap().0
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// The staleness check: models/catalog.toml is exactly what the importer makes of
/// models/provider/. `UPDATE_CATALOG=1` rewrites it instead of failing.
#[test]
fn bundled_catalog_is_up_to_date() {
    let path = models_dir().join("catalog.toml");
    let want = generated().to_toml_string();
    if std::env::var_os("UPDATE_CATALOG").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "models/catalog.toml is stale: it differs from what the importer makes of \
         models/provider/. Regenerate it with `UPDATE_CATALOG=1 cargo test -p llmaas-catalog` \
         (or `llmaas catalog import FILE`) and commit the result."
    );
}

#[test]
fn provider_files_import_in_snapshot_order() {
    let files = import::provider_files_in(&models_dir().join("provider")).unwrap();
    let names: Vec<_> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "catalog-2025-11.csv",
            "models_config-2025-11.yaml",
            "catalog-2026-05.csv",
            "models_config-2026-05.yaml"
        ]
    );
}

#[test]
fn the_bundled_catalogue_parses_and_is_the_generated_one() {
    let bundled = Catalog::bundled();
    assert_eq!(bundled, &generated());
    assert_eq!(bundled.snapshot(), "2026-05");
}

#[test]
fn counts_match_the_newest_snapshot() {
    let cat = Catalog::bundled();
    let live: Vec<_> = cat.iter().filter(|m| !m.is_retired()).collect();
    assert_eq!(live.len(), 58, "58 live models in the 2026-05 table");
    assert_eq!(
        cat.len(),
        105,
        "58 live + 42 deprecated rows + 5 models only in 2025-11"
    );
    for id in [
        "magistral:24b",
        "qwen3-2507:30b-a3b",
        "qwen3-2507:4b",
        "foundation-sec:8b",
        "lucie-instruct:7b",
    ] {
        let m = cat.get(id).unwrap_or_else(|| panic!("{id}"));
        assert!(m.is_retired(), "{id}");
        assert_eq!(m.source.last_listed.label, "2025-11", "{id}");
    }
    let magistral = cat
        .get("magistral:24b")
        .unwrap()
        .lifecycle
        .retired
        .as_ref()
        .unwrap();
    assert_eq!(magistral.on, None);
    assert!(
        magistral
            .note
            .starts_with("absent from the 2026-05 snapshot"),
        "{}",
        magistral.note
    );
    for m in live {
        assert_eq!(m.source.last_listed.to_string(), "2026-05 csv", "{}", m.id);
        assert!(!m.capabilities.is_empty(), "{}", m.id);
    }
}

#[test]
fn retired_models_keep_their_dates_and_details() {
    let cat = Catalog::bundled();
    let devstral = cat.get("devstral:24b").unwrap();
    assert_eq!(
        devstral.state(date(2026, 11, 26)),
        LifecycleState::Retired {
            on: Some(date(2026, 3, 30))
        }
    );
    assert_eq!(
        devstral.parameters, "24B",
        "details from the 2025-11 snapshot"
    );
    assert_eq!(devstral.context, Some(100_000));
    assert!(devstral.description.is_some());
    assert_eq!(
        devstral.lifecycle.end_of_support,
        Some(date(2026, 12, 31)),
        "the table's DSP, not the YAML's contradictory 30/03/2025"
    );
    let sec = cat.get("foundation-sec:8b").unwrap();
    assert_eq!(
        sec.lifecycle.retired.as_ref().unwrap().on,
        Some(date(2025, 10, 17))
    );
}

#[test]
fn filter_by_capability() {
    let cat = Catalog::bundled();
    let vision: Vec<&str> = cat
        .search(&Query::new().with_capability(Capability::Vision))
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    for id in [
        "deepseek-ocr",
        "mistral-small3.2:24b",
        "gemma3:27b",
        "qwen3-vl:8b",
    ] {
        assert!(vision.contains(&id), "{id} in {vision:?}");
    }
    assert!(
        !vision.contains(&"qwen2.5vl:72b"),
        "retired models are left out by default"
    );
    let with_retired = cat.search(
        &Query::new()
            .with_capability(Capability::Vision)
            .with_retired(true),
    );
    assert!(
        with_retired
            .iter()
            .any(|m| m.id.as_str() == "qwen2.5vl:72b")
    );

    let ids =
        |q: Query| -> Vec<String> { cat.search(&q).iter().map(|m| m.id.to_string()).collect() };
    assert_eq!(
        ids(Query::new()
            .with_capability(Capability::Ocr)
            .with_capability(Capability::Tools)),
        [
            "qwen3-vl:2b",
            "qwen3-vl:30b",
            "qwen3-vl:32b",
            "qwen3-vl:4b",
            "qwen3-vl:8b"
        ]
    );
    assert_eq!(
        ids(Query::new().with_capability(Capability::Audio)),
        ["qwen3-omni:30b", "voxtral"]
    );
    assert_eq!(
        ids(Query::new()
            .with_capability(Capability::Safety)
            .with_text("guardrails"))
        .len(),
        2
    );
    let chat_models = ids(Query::new().with_capability(Capability::Chat));
    for not_chat in [
        "deepseek-ocr",
        "bge-m3:567m",
        "voxtral",
        "z-image:16b",
        "translategemma:4b",
        "granite3-guardian:8b",
    ] {
        assert!(!chat_models.iter().any(|c| c == not_chat), "{not_chat}");
    }
    assert!(
        chat_models.iter().any(|c| c == "olmo-3:7b"),
        "an empty capability list is a plain chat model"
    );
}

#[test]
fn search_by_text() {
    let cat = Catalog::bundled();
    let ids = |text: &str| -> Vec<String> {
        cat.search(&Query::new().with_text(text))
            .iter()
            .map(|m| m.id.to_string())
            .collect()
    };
    assert_eq!(ids("deepseek-ai/deepseek-ocr"), ["deepseek-ocr"]);
    assert_eq!(
        ids("nvidia rerank"),
        ["nvidia/llama-nemotron-rerank-vl-1b-v2"]
    );
    assert!(
        ids("TRADUCTION")
            .iter()
            .all(|id| id.starts_with("translategemma"))
    );
    assert_eq!(ids("translategemma").len(), 3);
    assert!(
        ids("open-weight").contains(&"gpt-oss:120b".to_owned()),
        "descriptions are searched"
    );
    assert!(ids("xyzzy").is_empty());
}

#[test]
fn lifecycle_today_and_before() {
    let cat = Catalog::bundled();
    let today = date(2026, 11, 26);
    // Many DSPs of the 2026-05 snapshot (30/06 and 30/09/2026) have passed by now:
    // those models are past end of support, not retiring.
    let cogito = cat.get("cogito:32b").unwrap();
    assert!(matches!(
        cogito.state(today),
        LifecycleState::PastEndOfSupport { days_past: 149, .. }
    ));
    assert_eq!(
        cat.successor_of("cogito:32b").unwrap().id.as_str(),
        "gpt-oss:120b"
    );
    assert_eq!(
        cat.lifecycle_warning("cogito:32b", today).unwrap(),
        "cogito:32b passed its end of support on 2026-06-30 and may no longer be served; \
         the provider recommends gpt-oss:120b"
    );
    let soon = cat.retiring_within(today, 90);
    assert!(
        soon.iter()
            .all(|m| m.lifecycle.end_of_support == Some(date(2026, 12, 30)))
    );
    assert!(soon.iter().any(|m| m.id.as_str() == "deepseek-ocr"));
    assert!(!soon.iter().any(|m| m.id.as_str() == "cogito:32b"));
    assert!(soon.len() > 20, "{}", soon.len());
    assert_eq!(
        cat.get("gpt-oss:120b").unwrap().state(today),
        LifecycleState::Live
    );

    let may = date(2026, 5, 15);
    let june: Vec<&str> = cat
        .retiring_within(may, 60)
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert!(
        june.contains(&"cogito:32b") && june.contains(&"gemma3:27b"),
        "{june:?}"
    );
    assert!(
        !june.contains(&"mistral-small3.2:24b"),
        "its DSP is 30/09/2026"
    );
}

#[test]
fn aliases_resolve() {
    let cat = Catalog::bundled();
    let ocr = cat.get("deepseek-ai/DeepSeek-OCR").unwrap();
    assert_eq!(ocr.id.as_str(), "deepseek-ocr");
    assert_eq!(ocr.context, Some(8192));
    assert!(ocr.has(Capability::Ocr) && !ocr.has(Capability::Chat));
}

#[test]
fn truncated_files_give_errors_not_panics() {
    let text = Catalog::bundled().to_toml_string();
    let cuts: Vec<usize> = (0..text.len())
        .step_by(37)
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    for &cut in &cuts {
        // Any prefix either parses (cut between entries) or names a line.
        if let Err(e) = Catalog::from_toml_str(&text[..cut]) {
            assert!(e.to_string().starts_with("catalog.toml"), "{e}");
        }
    }
    let provider = models_dir().join("provider");
    for (name, format) in [
        ("catalog-2026-05.csv", ProviderFormat::Csv),
        ("models_config-2025-11.yaml", ProviderFormat::Yaml),
    ] {
        let text = std::fs::read_to_string(provider.join(name)).unwrap();
        for cut in (0..text.len())
            .step_by(101)
            .filter(|&i| text.is_char_boundary(i))
        {
            let mut cat = Catalog::new();
            if let Err(e) = import::import_str(&mut cat, &text[..cut], format, name, "2026-05") {
                assert!(e.to_string().starts_with(name), "{e}");
                assert!(
                    cat.is_empty(),
                    "a failed import leaves the catalogue untouched"
                );
            }
        }
    }
}

#[test]
fn import_into_file_reads_merges_and_writes() {
    let dir = std::env::temp_dir().join(format!("llmaas-catalog-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml = dir.join("catalog.toml");
    let provider = models_dir().join("provider");
    let (old, _) = import::from_provider_files(&[provider.join("catalog-2025-11.csv")]).unwrap();
    old.save(&toml).unwrap();

    let report =
        import::import_into_file(&toml, &provider.join("catalog-2026-05.csv"), None).unwrap();
    assert_eq!(report.snapshot.to_string(), "2026-05 csv");
    assert_eq!(report.added.len(), 47);
    assert_eq!(report.retired.len(), 30);
    let saved = Catalog::load(&toml).unwrap();
    assert_eq!(saved.snapshot(), "2026-05");
    assert_eq!(saved.iter().filter(|m| !m.is_retired()).count(), 58);

    let again =
        import::import_into_file(&toml, &provider.join("catalog-2026-05.csv"), None).unwrap();
    assert!(again.is_noop(), "{again}");

    std::fs::write(dir.join("models.json"), "{}").unwrap();
    let err = import::import_into_file(&toml, &dir.join("models.json"), None).unwrap_err();
    assert!(
        err.to_string().contains("unknown provider file type"),
        "{err}"
    );
    std::fs::write(dir.join("models_config.yaml"), "large_models: []\n").unwrap();
    let err = import::import_into_file(&toml, &dir.join("models_config.yaml"), None).unwrap_err();
    assert!(err.to_string().contains("snapshot"), "{err}");
    std::fs::write(&toml, "format = 1\n[[model]]\nid = 3\n").unwrap();
    let err =
        import::import_into_file(&toml, &provider.join("catalog-2026-05.csv"), None).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("catalog.toml line 3: invalid type: integer `3`, expected a string"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
