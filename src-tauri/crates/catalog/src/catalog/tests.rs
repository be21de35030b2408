//! Loading, saving and querying on small hand-written catalogues.

use chrono::NaiveDate;
use llmaas_core::Capability;

use super::*;
use crate::model::{SnapshotRef, SourceKind};

const SMALL: &str = r#"
format = 1
snapshot = "2026-05"

[[model]]
id = "old"
family = "x"
capabilities = ["chat"]
[model.lifecycle]
successor = "mid"
[model.lifecycle.retired]
on = "2026-03-30"
note = "removed"
noticed_in = "2026-05"
[model.source]
first_listed = "2025-11 csv"
last_listed = "2026-05 csv"
figures = "2025-11 csv"

[[model]]
id = "mid"
capabilities = ["chat", "tools"]
tags = ["Agent", "Grand Contexte"]
[model.lifecycle]
end_of_support = "2026-06-30"
successor = "new"
[model.source]
first_listed = "2025-11 csv"
last_listed = "2026-05 csv"
figures = "2026-05 csv"

[[model]]
id = "new"
aliases = ["vendor/New-Model"]
editor = "Mistral AI"
capabilities = ["chat", "vision"]
description = "Un modèle qui voit."
[model.lifecycle]
end_of_support = "2026-12-30"
[model.source]
first_listed = "2026-05 csv"
last_listed = "2026-05 csv"
figures = "2026-05 csv"
"#;

fn small() -> Catalog {
    Catalog::from_toml_str(SMALL).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn ids(models: &[&Model]) -> Vec<String> {
    models.iter().map(|m| m.id.to_string()).collect()
}

/// Replaces the first occurrence of `from` in SMALL and returns the error.
fn broken(from: &str, to: &str) -> CatalogError {
    assert!(SMALL.contains(from), "{from}");
    Catalog::from_toml_str(&SMALL.replacen(from, to, 1)).unwrap_err()
}

fn line_of_error(e: &CatalogError) -> Option<usize> {
    match e {
        CatalogError::Parse { line, .. }
        | CatalogError::Duplicate { line, .. }
        | CatalogError::UnsupportedFormat { line, .. } => *line,
        CatalogError::Io { .. } => None,
    }
}

#[test]
fn round_trips_through_toml() {
    let cat = small();
    assert_eq!(cat.snapshot(), "2026-05");
    assert_eq!(cat.len(), 3);
    let again = Catalog::from_toml_str(&cat.to_toml_string()).unwrap();
    assert_eq!(again, cat);
    assert_eq!(again.to_toml_string(), cat.to_toml_string());
    let ids: Vec<&str> = cat.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["mid", "new", "old"], "sorted by id");
}

#[test]
fn malformed_files_name_the_line() {
    let cases: [(&str, &str, usize, &str); 9] = [
        ("id = \"mid\"", "id = \"mid", 21, "string"),
        (
            "capabilities = [\"chat\", \"tools\"]",
            "capabilities = [\"chat\", \"telepathy\"]",
            22,
            "telepathy",
        ),
        (
            "end_of_support = \"2026-06-30\"",
            "end_of_support = \"2026-02-30\"",
            25,
            "input",
        ),
        ("editor = \"Mistral AI\"", "editor = 42", 35, "string"),
        ("tags = [", "tagz = [", 23, "tagz"),
        (
            "figures = \"2026-05 csv\"",
            "figures = \"2026-05 xml\"",
            30,
            "xml",
        ),
        (
            "aliases = [\"vendor/New-Model\"]",
            "aliases = [\"mid\"]",
            33,
            "mid",
        ),
        ("snapshot = \"2026-05\"", "snapshot = \"May\"", 3, "May"),
        ("format = 1", "format = 2", 2, "format 2"),
    ];
    for (from, to, line, needle) in cases {
        let e = broken(from, to);
        let text = e.to_string();
        assert_eq!(line_of_error(&e), Some(line), "{to}: {text}");
        assert!(
            text.starts_with(&format!("catalog.toml line {line}: ")),
            "{text}"
        );
        assert!(text.contains(needle), "{to}: {text}");
    }
    let dup = SMALL.replacen("id = \"new\"", "id = \"mid\"", 1).replacen(
        "aliases = [\"vendor/New-Model\"]\n",
        "",
        1,
    );
    let e = Catalog::from_toml_str(&dup).unwrap_err();
    assert!(
        matches!(e, CatalogError::Duplicate { line: Some(33), .. }),
        "{e}"
    );
    let e = Catalog::from_toml_str("[[model]]\nid = \"a\"\n").unwrap_err();
    assert!(e.to_string().contains("format"), "{e}");
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "\u{0}",
        "format = 1\n[[model]]\n",
        "format = 1\nmodel = 3",
        "format = \"1\"",
        "= = =",
    ] {
        assert!(Catalog::from_toml_str(text).is_err(), "{text:?}");
    }
    let empty = Catalog::from_toml_str("format = 1\n").unwrap();
    assert!(empty.is_empty() && empty.snapshot().is_empty());
}

#[test]
fn lookup_by_id_alias_and_case() {
    let cat = small();
    assert_eq!(cat.get("new").unwrap().id.as_str(), "new");
    assert_eq!(cat.get("vendor/New-Model").unwrap().id.as_str(), "new");
    assert_eq!(cat.get("VENDOR/new-model").unwrap().id.as_str(), "new");
    assert!(cat.get("nope").is_none());
}

#[test]
fn search_by_capability_and_text() {
    let cat = small();
    assert_eq!(ids(&cat.search(&Query::new())), ["mid", "new"]);
    assert_eq!(
        ids(&cat.search(&Query::new().with_retired(true))),
        ["mid", "new", "old"]
    );
    assert_eq!(
        ids(&cat.search(&Query::new().with_capability(Capability::Vision))),
        ["new"]
    );
    let both = Query::new()
        .with_capability(Capability::Chat)
        .with_capability(Capability::Tools);
    assert_eq!(ids(&cat.search(&both)), ["mid"]);
    assert_eq!(
        ids(&cat.search(&Query::new().with_text("MISTRAL"))),
        ["new"]
    );
    assert_eq!(
        ids(&cat.search(&Query::new().with_text("qui VOIT"))),
        ["new"]
    );
    assert_eq!(
        ids(&cat.search(&Query::new().with_text("grand contexte"))),
        ["mid"]
    );
    assert_eq!(
        ids(&cat.search(&Query::new().with_text("vendor/new"))),
        ["new"]
    );
    assert!(
        cat.search(&Query::new().with_text("agent vision"))
            .is_empty()
    );
    assert_eq!(cat.search(&Query::new().with_text("  ")).len(), 2);
}

#[test]
fn retiring_within_and_successors() {
    let cat = small();
    assert_eq!(ids(&cat.retiring_within(date(2026, 4, 1), 90)), ["mid"]);
    assert_eq!(
        ids(&cat.retiring_within(date(2026, 4, 1), 365)),
        ["mid", "new"]
    );
    assert_eq!(ids(&cat.retiring_within(date(2026, 6, 30), 0)), ["mid"]);
    assert_eq!(ids(&cat.retiring_within(date(2026, 11, 26), 90)), ["new"]);
    assert!(cat.retiring_within(date(2027, 1, 1), 90).is_empty());
    assert_eq!(cat.successor_of("old").unwrap().id.as_str(), "mid");
    assert_eq!(cat.successor_of("mid").unwrap().id.as_str(), "new");
    assert!(cat.successor_of("new").is_none());
    let warning = cat.lifecycle_warning("mid", date(2026, 11, 26)).unwrap();
    assert_eq!(
        warning,
        "mid passed its end of support on 2026-06-30 and may no longer be served; the provider recommends new"
    );
    assert!(cat.lifecycle_warning("new", date(2026, 1, 1)).is_none());
    assert!(
        cat.lifecycle_warning("new", date(2026, 11, 26))
            .unwrap()
            .contains("in 34 days")
    );
    assert_eq!(
        cat.lifecycle_warning("old", date(2026, 11, 26)).unwrap(),
        "old was retired on 2026-03-30 (removed); the provider recommends mid"
    );
}

#[test]
fn successor_chains_skip_retired_models_and_survive_loops() {
    let mut cat = small();
    let mut mid = cat.get("mid").unwrap().clone();
    mid.lifecycle.retired = cat.get("old").unwrap().lifecycle.retired.clone();
    cat.insert(mid);
    assert_eq!(cat.successor_of("old").unwrap().id.as_str(), "new");
    let mut new = cat.get("new").unwrap().clone();
    new.lifecycle.successor = Some("old".into());
    new.lifecycle.retired = cat.get("old").unwrap().lifecycle.retired.clone();
    cat.insert(new);
    assert!(cat.successor_of("old").is_none());
    assert!(cat.successor_of("mid").is_none());
}

#[test]
fn insert_keeps_ids_sorted_and_unique() {
    let mut cat = Catalog::new();
    let seen = SnapshotRef::new("2026-05", SourceKind::Csv);
    assert!(cat.insert(Model::new("b", seen.clone())).is_none());
    assert!(cat.insert(Model::new("a", seen.clone())).is_none());
    assert!(cat.insert(Model::new("b", seen)).is_some());
    let ids: Vec<&str> = cat.models().iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
}
