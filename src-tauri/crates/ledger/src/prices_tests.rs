use super::*;

fn eur(s: &str) -> Money {
    s.parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// 1 M input, 1 M output of which 200 k reasoning, 61 s of audio.
fn sample() -> Usage {
    Usage {
        input_tokens: 1_000_000,
        output_tokens: 1_000_000,
        reasoning_tokens: 200_000,
        audio_seconds: 61,
    }
}

#[test]
fn bundled_table_has_the_three_eras_with_their_dates() {
    let t = PriceTable::bundled();
    let ids: Vec<_> = t
        .eras()
        .iter()
        .map(|e| (e.id.as_str(), e.effective))
        .collect();
    assert_eq!(
        ids,
        [
            ("2025-06", day("2025-06-01")),
            ("2026-02-10", day("2026-02-10")),
            ("2026-05", day("2026-05-01")),
        ]
    );
    assert_eq!(t.latest().id, "2026-05");
}

#[test]
fn era_2025_06_figures() {
    let r = &PriceTable::bundled().era("2025-06").unwrap().rates;
    assert_eq!(r.input_per_million, eur("0.90"));
    assert_eq!(r.output_per_million, eur("4.00"));
    assert_eq!(r.reasoning_per_million, eur("21.00"));
    assert_eq!(r.audio_per_minute, eur("0.01"));
    assert_eq!(r.rerank_per_million, None);
    let c = r.cost(&sample());
    assert_eq!(c.input, eur("0.90"));
    assert_eq!(c.output, eur("3.20")); // 800 k plain output at 4.00
    assert_eq!(c.reasoning, eur("4.20")); // 200 k reasoning at 21.00
    assert_eq!(c.audio, eur("0.02")); // 61 s = two started minutes
    assert_eq!(c.total, eur("8.32"));
    // One token of each: exact nano-euros, no rounding.
    let one = Usage {
        input_tokens: 1,
        output_tokens: 2,
        reasoning_tokens: 1,
        audio_seconds: 0,
    };
    assert_eq!(r.cost(&one).total.nanos(), 900 + 4_000 + 21_000);
}

#[test]
fn era_2026_02_10_figures() {
    let r = &PriceTable::bundled().era("2026-02-10").unwrap().rates;
    assert_eq!(
        (
            r.input_per_million,
            r.output_per_million,
            r.reasoning_per_million,
            r.audio_per_minute
        ),
        (eur("1.90"), eur("8.00"), eur("8.00"), eur("0.01"))
    );
    let c = r.cost(&sample());
    assert_eq!(
        (c.input, c.output, c.reasoning, c.audio),
        (eur("1.90"), eur("6.40"), eur("1.60"), eur("0.02"))
    );
    assert_eq!(c.total, eur("9.92"));
}

#[test]
fn era_2026_05_figures() {
    let r = &PriceTable::bundled().era("2026-05").unwrap().rates;
    assert_eq!(
        (
            r.input_per_million,
            r.output_per_million,
            r.reasoning_per_million,
            r.audio_per_minute
        ),
        (eur("1.80"), eur("8.00"), eur("8.00"), eur("0.01"))
    );
    assert_eq!(r.rerank_per_million, Some(eur("4.00")));
    assert_eq!(r.batch_input_per_million, Some(eur("0.90")));
    assert_eq!(r.batch_output_per_million, Some(eur("4.00")));
    assert_eq!(r.cost(&sample()).total, eur("9.82"));
}

#[test]
fn era_in_force_switches_on_the_effective_day() {
    let t = PriceTable::bundled();
    let at = |d: &str| t.era_at(day(d)).map(|e| e.id.as_str());
    assert_eq!(at("2025-05-31"), None);
    assert_eq!(at("2025-06-01"), Some("2025-06"));
    assert_eq!(at("2026-02-09"), Some("2025-06"));
    assert_eq!(at("2026-02-10"), Some("2026-02-10"));
    assert_eq!(at("2026-04-30"), Some("2026-02-10"));
    assert_eq!(at("2026-05-01"), Some("2026-05"));
    assert_eq!(at("2031-01-01"), Some("2026-05"));
}

#[test]
fn audio_every_started_minute_is_due() {
    let r = &PriceTable::bundled().latest().rates;
    let audio = |s| {
        r.cost(&Usage {
            audio_seconds: s,
            ..Usage::default()
        })
        .total
    };
    assert_eq!(audio(0), Money::ZERO);
    assert_eq!(audio(1), eur("0.01"));
    assert_eq!(audio(60), eur("0.01"));
    assert_eq!(audio(61), eur("0.02"));
    assert_eq!(audio(3 * 3600), eur("1.80"));
}

#[test]
fn local_route_costs_nothing_and_reasoning_overflow_is_not_a_discount() {
    let r = &PriceTable::bundled().era("2025-06").unwrap().rates;
    assert_eq!(cost_for(Route::Local, r, &sample()).total, Money::ZERO);
    let odd = Usage {
        output_tokens: 10,
        reasoning_tokens: 1_000_000,
        ..Usage::default()
    };
    let c = r.cost(&odd);
    assert_eq!((c.output, c.reasoning), (Money::ZERO, eur("21.00")));
}

#[test]
fn worst_case_uses_the_dearer_rate_for_reasoning_models() {
    let r = &PriceTable::bundled().era("2025-06").unwrap().rates;
    let plain = r.worst_case(1_000_000, 1_000_000, false, 0);
    assert_eq!((plain.cost, plain.output_tokens), (eur("4.90"), 1_000_000));
    assert_eq!(
        r.worst_case(1_000_000, 1_000_000, true, 0).cost,
        eur("21.90")
    );
    assert_eq!(r.worst_case(0, 0, false, 61).cost, eur("0.02"));
}

#[test]
fn override_replaces_given_figures_and_tags_the_era() {
    let user: PriceOverride =
        toml::from_str("label = \"contract\"\ninput_per_million = \"1.20\"").unwrap();
    let book = PriceBook::new(PriceTable::bundled().clone(), Some(user));
    let applied = book.rates_at(day("2026-06-01")).unwrap();
    assert_eq!(applied.era, "2026-05+contract");
    assert_eq!(applied.rates.input_per_million, eur("1.20"));
    assert_eq!(applied.rates.output_per_million, eur("8.00"));
    // Before the first era a partial override has nothing to complete it.
    assert!(matches!(
        book.rates_at(day("2024-01-01")),
        Err(LedgerError::NoPriceEra { .. })
    ));
    let full = PriceOverride {
        label: "flat".into(),
        input_per_million: Some(eur("1")),
        output_per_million: Some(eur("2")),
        reasoning_per_million: Some(eur("2")),
        audio_per_minute: Some(eur("0")),
    };
    let book = PriceBook::new(PriceTable::bundled().clone(), Some(full));
    let (cost, era) = book
        .price(Route::Cloud, day("2024-01-01"), &sample())
        .unwrap();
    assert_eq!((cost.total, era.as_str()), (eur("3"), "flat"));
}

#[test]
fn parse_errors_name_the_line() {
    let bad_amount = "[[era]]\nid = \"x\"\neffective = \"2025-01-01\"\ninput_per_million = \"1,80\"\n\
        output_per_million = \"1\"\nreasoning_per_million = \"1\"\naudio_per_minute = \"1\"\n";
    let e = PriceTable::parse(bad_amount).unwrap_err();
    assert!(
        matches!(e, LedgerError::PriceTable { line: Some(4), .. }),
        "{e}"
    );
    assert!(e.to_string().contains("line 4"), "{e}");

    let era = |id: &str, date: &str| {
        format!(
            "[[era]]\nid = \"{id}\"\neffective = \"{date}\"\ninput_per_million = \"1\"\n\
             output_per_million = \"1\"\nreasoning_per_million = \"1\"\naudio_per_minute = \"1\"\n"
        )
    };
    let out_of_order = era("a", "2026-01-01") + &era("b", "2025-01-01");
    let e = PriceTable::parse(&out_of_order).unwrap_err();
    assert!(
        matches!(e, LedgerError::PriceTable { line: Some(9), .. }),
        "{e}"
    );
    let twice = era("a", "2025-01-01") + &era("a", "2026-01-01");
    assert!(
        PriceTable::parse(&twice)
            .unwrap_err()
            .to_string()
            .contains("used twice")
    );
    let typo = era("a", "2025-01-01").replace("audio_per_minute", "audio_per_minit");
    assert!(PriceTable::parse(&typo).is_err());
    assert!(PriceTable::parse("era = []").is_err());
}
