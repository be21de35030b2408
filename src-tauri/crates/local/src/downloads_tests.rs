use std::time::{Duration, Instant};

use super::*;

fn entry() -> Downloadable {
    Downloadable {
        name: "tiny-1b".into(),
        family: "Tiny".into(),
        editor: "Nobody".into(),
        description: "A test entry".into(),
        parameters: "1B".into(),
        architecture: "llama".into(),
        quantisation: "Q8_0".into(),
        url: "https://example.org/org/repo/resolve/main/Tiny-1B.Q8_0.gguf".into(),
        size: 1000,
        sha256: "ab".repeat(32),
        licence: "MIT".into(),
        context: 4096,
        capabilities: vec![Capability::Chat],
        embedding: [10, 4],
        stands_in_for: None,
        checked_at: "a test".into(),
    }
}

fn list_of(entries: &[Downloadable]) -> String {
    #[derive(Serialize)]
    struct List<'a> {
        model: &'a [Downloadable],
    }
    toml::to_string(&List { model: entries }).unwrap()
}

fn refused(e: Downloadable) -> String {
    DownloadList::parse(&list_of(&[e])).unwrap_err()
}

#[test]
fn the_bundled_list_is_valid_and_covers_the_families_users_know() {
    let list = DownloadList::parse(BUNDLED).unwrap();
    assert_eq!(DownloadList::bundled(), &list);
    assert!(list.models().len() >= 6, "{}", list.models().len());
    let families: BTreeSet<&str> = list.models().iter().map(|m| m.family.as_str()).collect();
    for family in ["Qwen3", "Llama 3.2"] {
        assert!(families.contains(family), "{families:?}");
    }
    for m in list.models() {
        assert!(m.memory_bytes(requant::Target::Q8_0) > m.size, "{}", m.name);
        assert!(m.url.starts_with("https://huggingface.co/"), "{}", m.url);
        assert!(m.context >= 2048, "{}", m.name);
        assert!(!m.checked_at.is_empty());
    }
}

#[test]
fn a_list_entry_is_checked_rule_by_rule() {
    let ok = entry();
    assert!(DownloadList::parse(&list_of(std::slice::from_ref(&ok))).is_ok());

    let e = refused(Downloadable {
        name: "Big Model".into(),
        ..ok.clone()
    });
    assert!(e.contains("a-z"), "{e}");
    let e = DownloadList::parse(&list_of(&[ok.clone(), ok.clone()])).unwrap_err();
    assert!(e.contains("twice"), "{e}");
    let e = refused(Downloadable {
        url: ok.url.replace("https", "http"),
        ..ok.clone()
    });
    assert!(e.contains("https"), "{e}");
    let local = Downloadable {
        url: "http://127.0.0.1:8080/m/Tiny.gguf".into(),
        ..ok.clone()
    };
    assert!(
        DownloadList::parse(&list_of(&[local])).is_ok(),
        "a server on this machine"
    );
    let e = refused(Downloadable {
        url: "https://user:pw@example.org/a/Tiny.gguf".into(),
        ..ok.clone()
    });
    assert!(e.contains("https"), "{e}");
    let e = refused(Downloadable {
        url: format!("{}?download=1", ok.url),
        ..ok.clone()
    });
    assert!(e.contains("query"), "{e}");
    let e = refused(Downloadable {
        url: "https://example.org/a/model.bin".into(),
        ..ok.clone()
    });
    assert!(e.contains("NAME.gguf"), "{e}");
    let e = refused(Downloadable {
        url: "https://example.org/a/..%2Fx.gguf".into(),
        ..ok.clone()
    });
    assert!(e.contains("NAME.gguf"), "{e}");
    let e = refused(Downloadable {
        sha256: "12".into(),
        ..ok.clone()
    });
    assert!(e.contains("64 hex"), "{e}");
    let e = refused(Downloadable {
        size: 0,
        ..ok.clone()
    });
    assert!(e.contains("size"), "{e}");
    let e = refused(Downloadable {
        architecture: "gemma3".into(),
        ..ok.clone()
    });
    assert!(e.contains("gemma3"), "{e}");
    let e = refused(Downloadable {
        capabilities: vec![Capability::Embedding],
        ..ok.clone()
    });
    assert!(e.contains("chat"), "{e}");
    assert!(e.starts_with("model `tiny-1b`"), "the entry is named: {e}");
    let e = DownloadList::parse("[[model]]\nname = \"x\"\nunknown = 1\n").unwrap_err();
    assert!(e.contains("unknown"), "{e}");
}

#[test]
fn a_list_has_limits() {
    let many: Vec<Downloadable> = (0..=MAX_ENTRIES)
        .map(|i| Downloadable {
            name: format!("m{i}"),
            ..entry()
        })
        .collect();
    let e = DownloadList::parse(&list_of(&many)).unwrap_err();
    assert!(e.contains("entries"), "{e}");
    let huge = format!(
        "# {}\n",
        "x".repeat(usize::try_from(MAX_LIST_BYTES).unwrap())
    );
    assert!(DownloadList::parse(&huge).unwrap_err().contains("bytes"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.toml");
    std::fs::write(&path, &huge).unwrap();
    assert!(matches!(
        DownloadList::load(&path),
        Err(LocalError::BadList { .. })
    ));
    std::fs::write(&path, list_of(&[entry()])).unwrap();
    let list = DownloadList::load(&path).unwrap();
    assert_eq!(list.get("TINY-1B").map(|m| m.size), Some(1000));
    assert_eq!(list.names(), ["tiny-1b"]);
}

#[test]
fn presence_sees_the_file_its_converted_copy_or_a_partial_download() {
    let dir = tempfile::tempdir().unwrap();
    let e = Downloadable {
        url: "https://example.org/a/Tiny-1B.Q5_0.gguf".into(),
        ..entry()
    };
    let q8 = requant::Target::Q8_0;
    assert_eq!(e.presence(dir.path(), q8), Presence::Absent);
    std::fs::write(dir.path().join(".Tiny-1B.Q5_0.gguf.part"), [0_u8; 300]).unwrap();
    assert_eq!(e.presence(dir.path(), q8), Presence::Partial(300));
    std::fs::write(dir.path().join("Tiny-1B.Q8_0.gguf"), b"converted").unwrap();
    assert_eq!(
        e.presence(dir.path(), q8),
        Presence::Here(dir.path().join("Tiny-1B.Q8_0.gguf"))
    );
    // Converted to the other target, it is not what this setting runs.
    assert_eq!(
        e.presence(dir.path(), requant::Target::Q4_0),
        Presence::Partial(300)
    );
}

#[test]
fn a_pull_carries_the_checksum_and_size() {
    let e = entry();
    let pull = e.pull(requant::Target::Q4_0);
    assert_eq!(pull.sha256.as_deref(), Some(e.sha256.as_str()));
    assert_eq!(pull.size, Some(1000));
    assert_eq!(pull.file_name.as_deref(), Some("Tiny-1B.Q8_0.gguf"));
    assert_eq!(pull.convert_to, requant::Target::Q4_0);
    assert_eq!(e.memory_bytes(requant::Target::Q8_0), 1000 + 10 * 4 * 4);
    // A Q4_1 file (20 bytes a block) runs as Q8_0 (34 bytes a block).
    let slow = Downloadable {
        quantisation: "Q4_1".into(),
        size: 2000,
        ..e
    };
    assert_eq!(slow.memory_bytes(requant::Target::Q8_0), 3400 + 160);
    assert_eq!(slow.memory_bytes(requant::Target::Q4_0), 1800 + 160);
}

#[test]
fn the_rate_is_measured_over_a_window() {
    let t = Instant::now();
    let mut rate = Rate::default();
    assert_eq!(rate.update(t, 0), None, "one sample says nothing");
    assert_eq!(rate.update(t + Duration::from_millis(100), 50), None);
    assert_eq!(rate.update(t + Duration::from_secs(1), 1000), Some(1000));
    // Old samples leave the window: the rate follows a slowdown.
    assert_eq!(rate.update(t + Duration::from_secs(10), 2000), Some(111));
    assert_eq!(rate.update(t + Duration::from_secs(11), 2100), Some(100));
    // A restart from zero starts the measure again.
    assert_eq!(rate.update(t + Duration::from_secs(12), 10), None);
}
