//! The documentation's model table (CSV): one row per model, live or deprecated.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use llmaas_core::{Capability, ModelId};

use super::{Observation, Removal};
use crate::error::ImportError;
use crate::model::with_derived_chat;

const COLUMNS: [&str; 13] = [
    "id",
    "family",
    "params",
    "context",
    "capabilities",
    "license",
    "status",
    "dates",
    "editor",
    "section",
    "speed_tps",
    "energy_kwh_per_Mtok",
    "tags",
];

/// The table joins a model's tags with spaces, which splits these apart again;
/// the list comes from the provider's YAML, where tags are a proper list.
const MULTI_WORD_TAGS: [&str; 8] = [
    "Edge AI",
    "Function Calling",
    "Grand Contexte",
    "Haute Performance",
    "Image Generation",
    "Instruction Following",
    "Localisation Visuelle",
    "Très Large",
];

/// Reads every row; the first problem stops the import and names its line.
pub(crate) fn parse(text: &str, file: &str) -> Result<Vec<Observation>, ImportError> {
    let fail = |line: Option<usize>, message: String| ImportError::Csv {
        file: file.to_owned(),
        line,
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| csv_error(&e, file))?.clone();
    let mut index = [0usize; COLUMNS.len()];
    for (slot, name) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                fail(
                    Some(1),
                    format!("missing column `{name}` (expected {})", COLUMNS.join(",")),
                )
            })?;
    }

    let mut seen: HashMap<ModelId, usize> = HashMap::new();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&e, file))?;
        let line = record
            .position()
            .and_then(|p| usize::try_from(p.line()).ok());
        let row = Row {
            record: &record,
            index: &index,
        };
        let obs = row.observation().map_err(|message| fail(line, message))?;
        if let Some(first) = seen.insert(obs.id.clone(), line.unwrap_or(0)) {
            return Err(fail(
                line,
                format!("`{}` is listed twice (first on line {first})", obs.id),
            ));
        }
        out.push(obs);
    }
    Ok(out)
}

struct Row<'a> {
    record: &'a csv::StringRecord,
    index: &'a [usize; COLUMNS.len()],
}

impl Row<'_> {
    /// The cell of `COLUMNS[column]`; empty and `N/A` cells say nothing.
    fn cell(&self, column: usize) -> Option<&str> {
        let v = self.record.get(self.index[column]).unwrap_or("").trim();
        (!v.is_empty() && !v.eq_ignore_ascii_case("N/A")).then_some(v)
    }

    fn text(&self, column: usize) -> Option<String> {
        self.cell(column).map(str::to_owned)
    }

    fn observation(&self) -> Result<Observation, String> {
        let id = self.cell(0).ok_or("empty id")?;
        let mut obs = Observation::new(ModelId::from(id));
        obs.family = self.text(1);
        obs.parameters = self.text(2);
        obs.context = self.cell(3).map(parse_context).transpose()?.flatten();
        obs.licence = self.text(5);
        obs.editor = self.text(8);
        obs.section = self.text(9);
        obs.speed_tps = self.cell(10).map(parse_speed).transpose()?;
        obs.energy = self.cell(11).map(parse_energy).transpose()?;
        obs.tags = self.cell(12).map(split_tags);

        let caps = self.cell(4).map(parse_capabilities).transpose()?;
        // An empty capabilities cell on a row with figures is a plain text model
        // (olmo-3:7b); on a bare row it only means the table says nothing.
        let described = [2, 3, 5, 9].into_iter().any(|c| self.cell(c).is_some());
        obs.capabilities = match caps {
            Some(caps) => Some(with_derived_chat(caps)),
            None if described => Some(with_derived_chat(BTreeSet::new())),
            None => None,
        };

        let dates = parse_dates(self.cell(7).unwrap_or(""))?;
        obs.production_date = dates.production;
        obs.end_of_support = dates.end_of_support;
        obs.lts = dates.lts;
        obs.successor = dates.successor;
        let status = self.cell(6).ok_or("empty status")?;
        if is_removed(status) {
            obs.removed = Some(Removal {
                on: dates.deprecated,
            });
        } else if !is_live(status) {
            return Err(format!(
                "unknown status {status:?} (expected Production, Déprécié or \"listed in models.md\")"
            ));
        } else if let Some(d) = dates.deprecated {
            return Err(format!(
                "status {status:?} is live but the row has deprecated={d}"
            ));
        }
        Ok(obs)
    }
}

fn is_removed(status: &str) -> bool {
    let s = status.to_lowercase();
    s.starts_with("déprécié") || s.starts_with("deprecated") || s.starts_with("retired")
}

fn is_live(status: &str) -> bool {
    let s = status.to_lowercase();
    s.starts_with("production") || s.starts_with("listed")
}

fn parse_context(v: &str) -> Result<Option<u32>, String> {
    let n: u32 = v
        .parse()
        .map_err(|_| format!("context {v:?} is not a whole number"))?;
    // z-image lists 0: the field does not apply to an image generator.
    Ok((n > 0).then_some(n))
}

/// Rounds to whole tokens per second: only granite-embedding has a decimal (196.3).
pub(crate) fn parse_speed(v: &str) -> Result<u32, String> {
    let n: f64 = v
        .parse()
        .map_err(|_| format!("speed {v:?} is not a number"))?;
    if !(0.0..1e6).contains(&n) {
        return Err(format!("speed {v:?} is out of range"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(n.round() as u32)
}

/// Checks the figure is a number but keeps its spelling, to regenerate the
/// catalogue without float noise.
pub(crate) fn parse_energy(v: &str) -> Result<String, String> {
    match v.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(v.to_owned()),
        _ => Err(format!("energy {v:?} is not a non-negative number")),
    }
}

fn parse_capabilities(v: &str) -> Result<BTreeSet<Capability>, String> {
    v.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Capability>().map_err(|e| e.to_string()))
        .collect()
}

/// Splits the table's space-joined tags, keeping known multi-word tags whole.
pub(crate) fn split_tags(v: &str) -> Vec<String> {
    let words: Vec<&str> = v.split_whitespace().collect();
    let mut tags = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let pair = words.get(i + 1).map(|next| format!("{} {next}", words[i]));
        let joined = pair.and_then(|p| MULTI_WORD_TAGS.iter().find(|t| t.eq_ignore_ascii_case(&p)));
        if let Some(tag) = joined {
            tags.push((*tag).to_owned());
            i += 2;
        } else {
            tags.push(words[i].to_owned());
            i += 1;
        }
    }
    tags
}

#[derive(Debug, Default, PartialEq)]
struct Dates {
    production: Option<NaiveDate>,
    end_of_support: Option<NaiveDate>,
    lts: Option<bool>,
    successor: Option<ModelId>,
    deprecated: Option<NaiveDate>,
}

/// `DMP=13/06/2025;DSP=30/06/2026;LTS=Non;migration=gpt-oss:120b` or
/// `deprecated=30/03/2026`; empty values mean unknown.
fn parse_dates(v: &str) -> Result<Dates, String> {
    let mut d = Dates::default();
    for part in v.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("dates: expected KEY=VALUE, found {part:?}"))?;
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("N/A") {
            continue;
        }
        match key.trim().to_ascii_lowercase().as_str() {
            "dmp" => d.production = Some(parse_dmy(value)?),
            "dsp" => d.end_of_support = Some(parse_dmy(value)?),
            "deprecated" => d.deprecated = Some(parse_dmy(value)?),
            "migration" => d.successor = Some(ModelId::from(value)),
            "lts" => {
                d.lts = Some(match value.to_lowercase().as_str() {
                    "oui" | "yes" | "true" => true,
                    "non" | "no" | "false" => false,
                    _ => return Err(format!("LTS {value:?} is not Oui or Non")),
                });
            }
            other => tracing::warn!(key = other, "ignoring an unknown key in the dates column"),
        }
    }
    Ok(d)
}

/// The provider writes dates day first: `30/06/2026`.
pub(crate) fn parse_dmy(v: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(v.trim(), "%d/%m/%Y")
        .map_err(|_| format!("date {v:?} is not a real DD/MM/YYYY date"))
}

fn csv_error(e: &csv::Error, file: &str) -> ImportError {
    let line = e.position().and_then(|p| usize::try_from(p.line()).ok());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("expected {expected_len} fields, found {len}")
        }
        csv::ErrorKind::Utf8 { err, .. } => format!("not UTF-8: {err}"),
        _ => e.to_string(),
    };
    ImportError::Csv {
        file: file.to_owned(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,family,params,context,capabilities,license,status,dates,editor,section,speed_tps,energy_kwh_per_Mtok,tags\n";

    fn rows(body: &str) -> Result<Vec<Observation>, ImportError> {
        parse(&format!("{HEADER}{body}"), "t.csv")
    }

    fn err_line(body: &str) -> (Option<usize>, String) {
        match rows(body).unwrap_err() {
            ImportError::Csv { line, message, .. } => (line, message),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn reads_a_live_row() {
        let obs = rows("cogito:32b,cogito,32B,32000,tools;reasoning,LLAMA 3.2 Community Licence,Production,DMP=13/06/2025;DSP=30/06/2026;LTS=Non;migration=gpt-oss:120b,Deep Cogito,Modèles Chat & Raisonnement,21,6.32,Agent Raisonnement Grand Contexte\n").unwrap();
        let o = &obs[0];
        assert_eq!(o.id.as_str(), "cogito:32b");
        assert_eq!(o.context, Some(32000));
        assert_eq!(
            o.capabilities
                .as_ref()
                .unwrap()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            [Capability::Chat, Capability::Tools, Capability::Reasoning]
        );
        assert_eq!(o.end_of_support, NaiveDate::from_ymd_opt(2026, 6, 30));
        assert_eq!(o.lts, Some(false));
        assert_eq!(
            o.successor.as_ref().map(ModelId::as_str),
            Some("gpt-oss:120b")
        );
        assert_eq!(o.energy.as_deref(), Some("6.32"));
        assert_eq!(
            o.tags.as_ref().unwrap(),
            &["Agent", "Raisonnement", "Grand Contexte"]
        );
        assert_eq!(o.removed, None);
    }

    #[test]
    fn reads_a_deprecated_row_without_inventing_figures() {
        let obs = rows("devstral:24b,devstral,,,,,Déprécié (removed from public platform),deprecated=30/03/2026,,,,,\n").unwrap();
        let o = &obs[0];
        assert_eq!(
            o.removed,
            Some(Removal {
                on: NaiveDate::from_ymd_opt(2026, 3, 30)
            })
        );
        assert_eq!(o.capabilities, None);
        assert_eq!(o.family.as_deref(), Some("devstral"));
        assert!(o.tags.is_none() && o.parameters.is_none());
    }

    #[test]
    fn na_zero_and_decimals() {
        let obs = rows("z,z,16B,0,image-gen,x,Production,DMP=;DSP=,C,S,N/A,N/A,\ng,g,1B,512,embedding,x,Production,,C,S,196.3,0.31,\n").unwrap();
        assert_eq!(obs[0].context, None);
        assert_eq!(obs[0].speed_tps, None);
        assert_eq!(obs[0].energy, None);
        assert!(
            !obs[0]
                .capabilities
                .as_ref()
                .unwrap()
                .contains(&Capability::Chat)
        );
        assert_eq!(obs[1].speed_tps, Some(196));
    }

    #[test]
    fn errors_name_the_line() {
        let good = "a,a,1B,1,tools,x,Production,DMP=13/06/2025,e,s,1,1,t\n";
        let (line, msg) = err_line(&format!(
            "{good}b,b,1B,1,telepathy,x,Production,,e,s,1,1,t\n"
        ));
        assert_eq!(line, Some(3));
        assert!(msg.contains("telepathy"), "{msg}");
        let (line, msg) = err_line(&format!(
            "{good}{}b,b,1B,1,tools,x,Production,DSP=31/02/2026,e,s,1,1,t\n",
            good.replacen('a', "c", 1)
        ));
        assert_eq!(line, Some(4), "{msg}");
        assert_eq!(err_line(&format!("{good}{good}")).0, Some(3));
        assert_eq!(
            err_line("b,b,1B,lots,tools,x,Production,,e,s,1,1,t\n").0,
            Some(2)
        );
        assert_eq!(err_line("b,b,1B,1,tools,x,Maybe,,e,s,1,1,t\n").0, Some(2));
        let (line, msg) = err_line(&format!("{good}b,b,1B\n"));
        assert_eq!(line, Some(3));
        assert!(msg.contains("expected 13 fields"), "{msg}");
        match parse("id,family\nx,y\n", "t.csv").unwrap_err() {
            ImportError::Csv { line, message, .. } => {
                assert_eq!(line, Some(1));
                assert!(message.contains("params"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dates_column() {
        assert_eq!(parse_dates("DMP=;DSP=").unwrap(), Dates::default());
        assert!(parse_dates("DMP=2026-01-01").is_err());
        assert!(parse_dates("LTS=Peut-être").is_err());
        assert!(parse_dates("nonsense").is_err());
        assert_eq!(
            parse_dates("DSP=30/12/2027;LTS=Oui").unwrap().lts,
            Some(true)
        );
    }
}
