//! Printing: human tables by default, JSON with `--json`.

use std::io::Write as _;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::error::CliError;

/// A table with our house style, sized to the terminal.
pub fn table(header: &[&str]) -> Table {
    let mut t = plain_table();
    t.set_header(header);
    t
}

/// The same style without a header row: for key/value listings.
pub fn plain_table() -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    t
}

/// Pretty JSON on stdout. A closed pipe (`| head`) ends quietly.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Io {
        context: "writing JSON".into(),
        source: std::io::Error::other(e),
    })?;
    writeln!(out, "{text}").or_else(ignore_broken_pipe)
}

/// A line on stdout.
pub fn line(text: impl std::fmt::Display) -> Result<(), CliError> {
    writeln!(std::io::stdout().lock(), "{text}").or_else(ignore_broken_pipe)
}

pub fn ignore_broken_pipe(e: std::io::Error) -> Result<(), CliError> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(CliError::io("writing to stdout")(e))
    }
}

/// `12,345,678` for token counts.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A percentage with one decimal from integer parts, `—` when there is no limit.
pub fn percent(used: u128, limit: Option<u128>) -> String {
    match limit {
        Some(0) => "100.0 %".into(),
        Some(limit) => {
            let tenths = used * 1000 / limit;
            format!("{}.{} %", tenths / 10, tenths % 10)
        }
        None => "—".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(3_600_000), "3,600,000");
    }

    #[test]
    fn percent_is_integer_math() {
        assert_eq!(percent(1, Some(3)), "33.3 %");
        assert_eq!(percent(150_000, Some(150_000)), "100.0 %");
        assert_eq!(percent(5, None), "—");
    }
}
