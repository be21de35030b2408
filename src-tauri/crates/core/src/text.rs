//! Small text helpers shared by the data-file readers.

/// The 1-based line holding byte `offset` of `text` (clamped to its end), so
/// that a parse error in a TOML, YAML or CSV file can name its line.
pub fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    // Lines are the pieces between newlines: n newlines before it, line n + 1.
    text.as_bytes()[..end].split(|&b| b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_based_and_clamped() {
        let text = "a\nbc\n\nd";
        assert_eq!(line_at(text, 0), 1);
        assert_eq!(line_at(text, 2), 2);
        assert_eq!(line_at(text, 5), 3);
        assert_eq!(line_at(text, 6), 4);
        assert_eq!(line_at(text, 999), 4);
        assert_eq!(line_at("", 3), 1);
    }
}
