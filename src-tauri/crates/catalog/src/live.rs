//! The provider's live `/v1/models` list against the catalogue: which
//! catalogued models are served now, under which aliases, and what the list
//! has that the catalogue does not know yet. Plain data in, plain data out:
//! fetching the list is the cloud client's business.

use llmaas_core::ModelId;
use serde::Serialize;

use crate::Catalog;

/// One entry of the live list, as the cloud client returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveModel {
    pub id: String,
    pub aliases: Vec<String>,
    pub max_model_len: Option<u64>,
}

/// A live model matched (or not) to the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiveRow {
    #[serde(flatten)]
    pub live: LiveModel,
    /// The catalogue entry it is (by id or by one of either side's aliases).
    pub catalogued: Option<ModelId>,
}

/// The live list read against the catalogue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LiveComparison {
    /// Every live model, in the provider's order.
    pub rows: Vec<LiveRow>,
    /// Catalogued, not retired, yet absent from the live list: probably
    /// withdrawn since the catalogue was made.
    pub missing: Vec<ModelId>,
}

impl Catalog {
    /// Matches the live list to this catalogue.
    pub fn compare_live(&self, live: &[LiveModel]) -> LiveComparison {
        let rows: Vec<LiveRow> = live
            .iter()
            .map(|l| {
                let catalogued = std::iter::once(&l.id)
                    .chain(&l.aliases)
                    .find_map(|name| self.get(name))
                    .map(|m| m.id.clone());
                LiveRow {
                    live: l.clone(),
                    catalogued,
                }
            })
            .collect();
        let missing = self
            .iter()
            .filter(|m| !m.is_retired())
            .filter(|m| !rows.iter().any(|r| r.catalogued.as_ref() == Some(&m.id)))
            .map(|m| m.id.clone())
            .collect();
        LiveComparison { rows, missing }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(id: &str, aliases: &[&str]) -> LiveModel {
        LiveModel {
            id: id.into(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            max_model_len: None,
        }
    }

    #[test]
    fn matches_by_id_and_alias_and_lists_the_rest() {
        let c = Catalog::bundled();
        let cmp = c.compare_live(&[
            live("gpt-oss:120b", &[]),
            live("deepseek-ai/DeepSeek-OCR", &["deepseek-ocr"]),
            live("brand-new:1b", &[]),
        ]);
        assert_eq!(cmp.rows[0].catalogued, Some(ModelId::new("gpt-oss:120b")));
        assert_eq!(cmp.rows[1].catalogued, Some(ModelId::new("deepseek-ocr")));
        assert_eq!(cmp.rows[2].catalogued, None);
        assert!(cmp.missing.contains(&ModelId::new("mistral-small4:119b")));
        assert!(!cmp.missing.contains(&ModelId::new("gpt-oss:120b")));
        assert!(
            !cmp.missing.contains(&ModelId::new("devstral:24b")),
            "retired models are not missing"
        );
    }
}
