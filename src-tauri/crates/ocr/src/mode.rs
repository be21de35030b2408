//! What to ask the model (the mode → its prompt) and which pages to read.

use std::fmt;
use std::str::FromStr;

use crate::OcrError;

/// What the model should produce. Each mode is one of the prompts DeepSeek-OCR
/// was trained on (FACTS.md, "OCR"); other wording works less well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Mode {
    /// The page as markdown: headings, lists, tables.
    #[default]
    Markdown,
    /// Tables as markdown tables.
    Table,
    /// Plain text, no layout.
    Text,
    /// A description of a figure or chart.
    Figure,
    /// Formulas and layout as LaTeX.
    Latex,
}

impl Mode {
    /// Every mode, for help texts.
    pub const ALL: &'static [Mode] = &[
        Mode::Markdown,
        Mode::Table,
        Mode::Text,
        Mode::Figure,
        Mode::Latex,
    ];

    /// The prompt sent with each page.
    pub fn prompt(self) -> &'static str {
        match self {
            Mode::Markdown => "Convert the document to markdown.",
            Mode::Table => "Convert the document to markdown table.",
            Mode::Text => "Free OCR.",
            Mode::Figure => "Parse the figure.",
            Mode::Latex => "Convert to latex.",
        }
    }

    /// The mode's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Markdown => "markdown",
            Mode::Table => "table",
            Mode::Text => "text",
            Mode::Figure => "figure",
            Mode::Latex => "latex",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown mode name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode `{0}`: use markdown, table, text, figure or latex")]
pub struct UnknownMode(pub String);

impl FromStr for Mode {
    type Err = UnknownMode;
    fn from_str(s: &str) -> Result<Mode, UnknownMode> {
        Mode::ALL
            .iter()
            .copied()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownMode(s.to_owned()))
    }
}

/// A `--pages` selection such as `1-3,7` or `5-` (1-based, inclusive);
/// empty means every page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageSelection {
    /// Inclusive 1-based ranges; `None` as the end means "to the last page".
    ranges: Vec<(usize, Option<usize>)>,
}

impl PageSelection {
    /// Every page.
    pub fn all() -> PageSelection {
        PageSelection::default()
    }

    /// The 0-based page indexes of a document of `pages` pages, in order and
    /// without repeats. A page past the end is an error, not silently dropped.
    pub fn resolve(&self, pages: usize) -> Result<Vec<usize>, OcrError> {
        if self.ranges.is_empty() {
            return Ok((0..pages).collect());
        }
        let mut wanted = vec![false; pages];
        for &(start, end) in &self.ranges {
            let end = end.unwrap_or(pages);
            if start > pages || end > pages {
                return Err(OcrError::PageOutOfRange {
                    page: if start > pages { start } else { end },
                    pages,
                });
            }
            for w in &mut wanted[start - 1..end] {
                *w = true;
            }
        }
        Ok(wanted
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.then_some(i))
            .collect())
    }
}

impl FromStr for PageSelection {
    type Err = OcrError;
    fn from_str(s: &str) -> Result<PageSelection, OcrError> {
        let bad = || OcrError::BadPageSelection(s.to_owned());
        let number = |t: &str| -> Result<usize, OcrError> {
            match t.trim().parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(bad()),
            }
        };
        let mut ranges = Vec::new();
        for part in s.split(',') {
            let part = part.trim();
            if part.is_empty() {
                return Err(bad());
            }
            let range = match part.split_once('-') {
                None => {
                    let n = number(part)?;
                    (n, Some(n))
                }
                Some((a, b)) if b.trim().is_empty() => (number(a)?, None),
                Some((a, b)) => {
                    let (a, b) = (number(a)?, number(b)?);
                    if b < a {
                        return Err(bad());
                    }
                    (a, Some(b))
                }
            };
            ranges.push(range);
        }
        Ok(PageSelection { ranges })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_map_to_the_models_prompts() {
        assert_eq!(
            "markdown".parse::<Mode>().unwrap().prompt(),
            "Convert the document to markdown."
        );
        assert_eq!(
            "TABLE".parse::<Mode>().unwrap().prompt(),
            "Convert the document to markdown table."
        );
        assert_eq!(Mode::Text.prompt(), "Free OCR.");
        assert_eq!(Mode::Figure.prompt(), "Parse the figure.");
        assert_eq!(Mode::Latex.prompt(), "Convert to latex.");
        assert!("html".parse::<Mode>().is_err());
    }

    #[test]
    fn page_selections_parse_and_resolve() {
        let sel: PageSelection = "1-3,7".parse().unwrap();
        assert_eq!(sel.resolve(10).unwrap(), vec![0, 1, 2, 6]);
        let sel: PageSelection = " 7, 2-3 ,3".parse().unwrap();
        assert_eq!(sel.resolve(7).unwrap(), vec![1, 2, 6], "sorted, no repeats");
        let sel: PageSelection = "4-".parse().unwrap();
        assert_eq!(sel.resolve(5).unwrap(), vec![3, 4]);
        assert_eq!(PageSelection::all().resolve(3).unwrap(), vec![0, 1, 2]);
        assert!(matches!(
            "1-3,7".parse::<PageSelection>().unwrap().resolve(5),
            Err(OcrError::PageOutOfRange { page: 7, pages: 5 })
        ));
        for bad in ["", "0", "3-1", "a", "1,,2", "-3", "1-2-3"] {
            assert!(
                matches!(
                    bad.parse::<PageSelection>(),
                    Err(OcrError::BadPageSelection(_))
                ),
                "{bad}"
            );
        }
    }
}
