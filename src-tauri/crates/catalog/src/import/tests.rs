//! The merge rules on small hand-written files.

use chrono::NaiveDate;
use llmaas_core::Capability;

use super::*;

const HEADER: &str = "id,family,params,context,capabilities,license,status,dates,editor,section,speed_tps,energy_kwh_per_Mtok,tags\n";

fn csv(catalog: &mut Catalog, label: &str, rows: &str) -> ImportReport {
    let text = format!("{HEADER}{rows}");
    import_str(catalog, &text, ProviderFormat::Csv, "t.csv", label).unwrap()
}

fn yaml(catalog: &mut Catalog, label: &str, text: &str) -> ImportReport {
    import_str(catalog, text, ProviderFormat::Yaml, "t.yaml", label).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn ids(list: &[ModelId]) -> Vec<&str> {
    list.iter().map(ModelId::as_str).collect()
}

const OLD: &str = "\
a,a,8B,32000,tools,MIT,Production,DMP=13/06/2025;DSP=31/12/2026,Ed,S,50,1.5,Agent
b,b,4B,32000,,MIT,Production,DMP=13/06/2025;DSP=31/12/2026,Ed,S,60,0.5,Compact
c,c,,,,,Déprécié (removed from public platform),deprecated=17/10/2025,,,,,
";

const NEW: &str = "\
a,a,8B,64000,tools;vision,MIT,Production,DMP=13/06/2025;DSP=30/06/2026;LTS=Non;migration=d,Ed,S2,,,Agent
b,b,,,,,Déprécié (removed from public platform),deprecated=30/03/2026,,,,,
d,d,120B,128000,tools;reasoning,Apache 2.0,Production,DMP=11/11/2025;DSP=30/12/2027;LTS=Oui,Ed,S2,90,2.0,MoE
";

const YAML_OLD: &str = "\
large_models:
  - name: a
    dsp: 30/03/2026
    context_size: 1
    speed: 1 tokens/seconde
    description: Un modèle.
    supports_tools: true
    supports_vision: false
    supports_reasoning: true
    supports_security: true
  - name: y
    editor: Ed
    parameters_string: 3B
    description: Seulement dans le YAML.
    supports_tools: true
    supports_vision: false
    supports_reasoning: false
    supports_security: false
";

#[test]
fn a_newer_table_overwrites_retires_and_adds() {
    let mut cat = Catalog::new();
    let r = csv(&mut cat, "2025-11", OLD);
    assert_eq!(ids(&r.added), ["a", "b", "c"]);
    assert!(cat.get("c").unwrap().is_retired());
    let r = csv(&mut cat, "2026-05", NEW);
    assert_eq!(ids(&r.added), ["d"]);
    assert_eq!(ids(&r.retired), ["b"]);
    assert_eq!(ids(&r.updated), ["a"]);
    assert_eq!(r.unchanged, 1);
    assert_eq!(cat.snapshot(), "2026-05");

    let a = cat.get("a").unwrap();
    assert_eq!(a.context, Some(64000));
    assert_eq!(a.speed_tps, Some(50), "an empty cell never erases");
    assert_eq!(a.energy_kwh_per_mtok.as_deref(), Some("1.5"));
    assert!(a.has(Capability::Vision));
    assert_eq!(a.lifecycle.end_of_support, Some(date(2026, 6, 30)));
    assert_eq!(a.source.figures.to_string(), "2026-05 csv");
    assert_eq!(a.source.first_listed.to_string(), "2025-11 csv");

    let b = cat.get("b").unwrap();
    assert_eq!(
        b.lifecycle.retired.as_ref().unwrap().on,
        Some(date(2026, 3, 30))
    );
    assert_eq!(
        b.parameters, "4B",
        "details of a deprecated row come from earlier snapshots"
    );
    assert!(
        b.has(Capability::Chat),
        "an empty capability cell on a described row is chat"
    );
    assert_eq!(cat.successor_of("a").unwrap().id.as_str(), "d");
}

#[test]
fn models_missing_from_a_newer_table_are_retired_without_a_date() {
    let mut cat = Catalog::new();
    csv(&mut cat, "2025-11", OLD);
    let r = csv(
        &mut cat,
        "2026-05",
        "d,d,1B,1,tools,x,Production,,e,s,1,1,t\n",
    );
    assert_eq!(ids(&r.retired), ["a", "b"]);
    let gone = cat.get("a").unwrap().lifecycle.retired.clone().unwrap();
    assert_eq!(gone.on, None);
    assert_eq!(
        gone.note,
        "absent from the 2026-05 snapshot (last listed in 2025-11, with end of support then announced for 2026-12-31)"
    );
    assert_eq!(gone.noticed_in, "2026-05");
    let c = cat.get("c").unwrap().lifecycle.retired.clone().unwrap();
    assert_eq!(
        c.on,
        Some(date(2025, 10, 17)),
        "an earlier retirement keeps its date"
    );
}

#[test]
fn a_yaml_fills_gaps_describes_and_adds_but_never_retires_or_revives() {
    let mut cat = Catalog::new();
    csv(&mut cat, "2025-11", OLD);
    csv(&mut cat, "2026-05", NEW);
    let r = yaml(&mut cat, "2026-05", &YAML_OLD.replace("name: y", "name: b"));
    assert!(r.added.is_empty() && r.retired.is_empty() && r.reinstated.is_empty());
    assert!(cat.get("b").unwrap().is_retired());
    let a = cat.get("a").unwrap();
    assert_eq!(
        a.context,
        Some(64000),
        "a YAML of the same snapshot does not overwrite the table"
    );
    assert_eq!(a.lifecycle.end_of_support, Some(date(2026, 6, 30)));
    assert!(!a.has(Capability::Safety));
    assert_eq!(a.description.as_deref(), Some("Un modèle."));
    assert_eq!(
        a.source.described.as_ref().unwrap().to_string(),
        "2026-05 yaml"
    );

    let r = yaml(&mut cat, "2025-11", YAML_OLD);
    assert_eq!(ids(&r.added), ["y"]);
    let y = cat.get("y").unwrap();
    let gone = y
        .lifecycle
        .retired
        .as_ref()
        .expect("the 2026-05 table did not list y");
    assert_eq!(
        gone.note,
        "described by the 2025-11 YAML but absent from the 2026-05 table"
    );
    assert_eq!(y.parameters, "3B");
    assert_eq!(y.section, "Modèles de Grande Taille");
    assert!(cat.get("b").unwrap().is_retired());
}

#[test]
fn a_newer_yaml_updates_figures_and_a_table_then_lists_completely() {
    let mut cat = Catalog::new();
    csv(&mut cat, "2025-11", OLD);
    let r = yaml(&mut cat, "2026-01", YAML_OLD);
    assert_eq!(ids(&r.added), ["y"]);
    let a = cat.get("a").unwrap();
    assert_eq!(a.context, Some(1));
    assert_eq!(
        a.lifecycle.end_of_support,
        Some(date(2026, 12, 31)),
        "dates come from tables"
    );
    assert!(a.has(Capability::Safety));
    assert_eq!(cat.get("y").unwrap().lifecycle.end_of_support, None);
    // The 2025-12 table is older than the YAML that listed `y`: it must not retire it.
    let r = csv(
        &mut cat,
        "2025-12",
        "a,a,8B,2,tools,MIT,Production,,Ed,S,50,1.5,Agent\n",
    );
    assert_eq!(ids(&r.retired), ["b"]);
    assert_eq!(
        cat.get("a").unwrap().context,
        Some(1),
        "an older table only fills gaps"
    );
    assert!(!cat.get("y").unwrap().is_retired());
}

#[test]
fn older_files_never_undo_newer_ones_and_reimports_change_nothing() {
    let mut cat = Catalog::new();
    csv(&mut cat, "2025-11", OLD);
    csv(&mut cat, "2026-05", NEW);
    yaml(&mut cat, "2025-11", YAML_OLD);
    let settled = cat.clone();
    for r in [
        csv(&mut cat, "2025-11", OLD),
        csv(&mut cat, "2026-05", NEW),
        yaml(&mut cat, "2025-11", YAML_OLD),
    ] {
        assert!(r.is_noop(), "{r}");
    }
    assert_eq!(cat, settled);
    assert!(
        cat.get("b").unwrap().is_retired(),
        "the older table does not revive b"
    );
}

#[test]
fn a_newer_table_reinstates() {
    let mut cat = Catalog::new();
    csv(&mut cat, "2025-11", OLD);
    let r = csv(&mut cat, "2026-05", "c,c,1B,1,,x,Production,,e,s,1,1,t\n");
    assert_eq!(ids(&r.reinstated), ["c"]);
    assert!(!cat.get("c").unwrap().is_retired());
}

#[test]
fn known_aliases_are_applied() {
    let mut cat = Catalog::new();
    csv(
        &mut cat,
        "2025-11",
        "deepseek-ocr,deepseek-ocr,3B,8192,vision;ocr,MIT licence,Production,,DeepSeek AI,S,120,0.16,OCR\n",
    );
    let m = cat.get("deepseek-ai/DeepSeek-OCR").unwrap();
    assert_eq!(m.id.as_str(), "deepseek-ocr");
    assert!(!m.has(Capability::Chat));
}

#[test]
fn a_failed_import_changes_nothing() {
    let mut cat = Catalog::new();
    csv(&mut cat, "2025-11", OLD);
    let before = cat.clone();
    let text = format!("{HEADER}{NEW}e,e,1B,1,psychic,x,Production,,e,s,1,1,t\n");
    let err = import_str(&mut cat, &text, ProviderFormat::Csv, "new.csv", "2026-05").unwrap_err();
    assert_eq!(err.to_string().split(':').next(), Some("new.csv line 5"));
    assert_eq!(cat, before);
    assert!(matches!(
        import_str(&mut cat, &text, ProviderFormat::Csv, "x.csv", "May 2026"),
        Err(ImportError::BadSnapshotLabel { .. })
    ));
}

#[test]
fn snapshot_labels_come_from_file_names() {
    let label = |p: &str| snapshot_label_of(Path::new(p));
    assert_eq!(
        label("models/provider/catalog-2026-05.csv").as_deref(),
        Some("2026-05")
    );
    assert_eq!(
        label("models_config-2025-11.yaml").as_deref(),
        Some("2025-11")
    );
    assert_eq!(label("dump-2026-05-14.yaml").as_deref(), Some("2026-05-14"));
    assert_eq!(label("models_config.yaml"), None);
    assert_eq!(label("v12026-05.csv"), None);
    assert_eq!(label("2026-13.csv"), None);
    assert_eq!(
        ProviderFormat::from_path(Path::new("a.YML")),
        Some(ProviderFormat::Yaml)
    );
    assert_eq!(ProviderFormat::from_path(Path::new("a.json")), None);
}
