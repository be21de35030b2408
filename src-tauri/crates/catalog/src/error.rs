//! Errors of the catalogue loader and of the importer. Every error about a file's
//! content names the file and, when it can be located, the line.

use std::fmt;
use std::path::PathBuf;

/// A `catalog.toml` that cannot be loaded or saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// Not TOML, or TOML that does not match the catalogue's schema (wrong type,
    /// unknown field or capability, bad date, missing id...).
    #[error("{} {message}", Where(file, *line))]
    Parse {
        /// The file's name as shown to the user (`catalog.toml`).
        file: String,
        /// 1-based line of the problem, when the parser located it.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// Two entries share an id, or a name is both one model's id or alias and
    /// another's alias: lookups by name would be ambiguous.
    #[error("{} `{name}` names more than one model", Where(file, *line))]
    Duplicate {
        /// The file's name.
        file: String,
        /// 1-based line of the second occurrence, when found.
        line: Option<usize>,
        /// The id or alias that is claimed twice.
        name: String,
    },
    /// The file declares a `format` this version does not read.
    #[error("{} unsupported catalogue format {found} (this build reads format {})", Where(file, *line), crate::FORMAT_VERSION)]
    UnsupportedFormat {
        /// The file's name.
        file: String,
        /// 1-based line of the `format` key.
        line: Option<usize>,
        /// The format number found.
        found: i64,
    },
    /// Reading or writing the file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A provider file that cannot be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is neither `.yaml`/`.yml` (the provider's models_config) nor
    /// `.csv` (the documentation's table).
    #[error("{}: unknown provider file type (expected .yaml, .yml or .csv)", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// No snapshot label was given and the file name holds no `YYYY-MM` date, so
    /// the importer cannot tell how this file ranks against what it already has.
    #[error("{}: cannot tell which snapshot this is; name the file with its date (models_config-2026-05.yaml) or pass the snapshot label", path.display())]
    NoSnapshotLabel {
        /// The file.
        path: PathBuf,
    },
    /// A snapshot label that is not `YYYY-MM` or `YYYY-MM-DD`.
    #[error("bad snapshot label {label:?} (expected YYYY-MM or YYYY-MM-DD)")]
    BadSnapshotLabel {
        /// The label given.
        label: String,
    },
    /// A CSV table that is malformed or holds a value the importer cannot read.
    #[error("{} {message}", Where(file, *line))]
    Csv {
        /// The file's name.
        file: String,
        /// 1-based line of the problem, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A YAML file that is malformed or holds a value the importer cannot read.
    #[error("{} {message}", Where(file, *line))]
    Yaml {
        /// The file's name.
        file: String,
        /// 1-based line of the problem, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The catalogue to merge into could not be loaded or saved.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// Renders `file line N:` or `file:` in messages.
struct Where<'a>(&'a str, Option<usize>);

impl fmt::Display for Where<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(line) => write!(f, "{} line {line}:", self.0),
            None => write!(f, "{}:", self.0),
        }
    }
}

pub(crate) use llmaas_core::line_at as line_of;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_line() {
        let e = CatalogError::Parse {
            file: "catalog.toml".into(),
            line: Some(42),
            message: "invalid type".into(),
        };
        assert_eq!(e.to_string(), "catalog.toml line 42: invalid type");
        let e = ImportError::Csv {
            file: "x.csv".into(),
            line: None,
            message: "empty".into(),
        };
        assert_eq!(e.to_string(), "x.csv: empty");
    }

    #[test]
    fn lines_are_counted_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
        assert_eq!(line_of("a\nb\nc", 999), 3);
    }
}
