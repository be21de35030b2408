//! The deterministic answers, so that tests can assert exact text and counts.
//!
//! * Text: `Echo: <last user text>` (`/think` and `/nothink` removed for Qwen
//!   models), or [`EMPTY_ANSWER`] when that text is empty; after a tool result,
//!   `The tool returned: <content>`; OCR models answer [`OCR_DOCUMENT`].
//! * Tokens are words with their following space ([`tokens`]); their
//!   concatenation is the exact text.
//! * Reasoning models first reason [`REASONING`]: in `reasoning_content`, or inline
//!   for Qwen3 ids as `<think>\n` + reasoning + `\n</think>\n\n` (the two tags count
//!   as one token each). Reasoning tokens count in `completion_tokens`.
//! * Prompt tokens: 4 per message + its words + 85 per image + 10 per tool.

use serde_json::{Map, Value, json};

/// The answer when the last user message has no text.
pub const EMPTY_ANSWER: &str = "Hello from the LLMaaS simulator.";

/// What reasoning models think before answering.
pub const REASONING: &str = "The user wants an answer, so I will echo their message back.";

/// What OCR models read in every image: a small document with a markdown table.
pub const OCR_DOCUMENT: &str = "# Facture FAC-2025-0042\n\nClient : Exemple SAS, 12 rue de la Paix, 75002 Paris\n\n| Désignation | Quantité | Prix unitaire | Total |\n|---|---|---|---|\n| Jetons de sortie (millions) | 2 | 4,00 € | 8,00 € |\n| Transcription (minutes) | 30 | 0,01 € | 0,30 € |\n\n**Total TTC : 8,30 €**\n";

/// Splits text into tokens: each word with the whitespace that follows it.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            out.push(std::mem::take(&mut current));
            in_space = false;
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The text of a message's `content`: a string, or its text parts joined by spaces.
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| p["type"] == "text")
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// The text of the last user message.
pub fn last_user_text(messages: &[Value]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| content_text(&m["content"]))
        .unwrap_or_default()
}

/// Removes Qwen's `/think` and `/nothink` switches; says whether `/nothink` was there.
pub fn strip_think_switches(text: &str) -> (String, bool) {
    let nothink = text.split_whitespace().any(|w| w == "/nothink");
    let kept: Vec<&str> = text
        .split_whitespace()
        .filter(|w| *w != "/nothink" && *w != "/think")
        .collect();
    (kept.join(" "), nothink)
}

/// The echo answer for a user text.
pub fn echo(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        EMPTY_ANSWER.to_owned()
    } else {
        format!("Echo: {text}")
    }
}

/// A deterministic prompt-token count (see the module docs).
pub fn prompt_tokens(messages: &[Value], tools: usize) -> u64 {
    let mut n = 10 * tools as u64;
    for m in messages {
        n += 4 + content_text(&m["content"]).split_whitespace().count() as u64;
        if let Some(parts) = m["content"].as_array() {
            n += 85 * parts.iter().filter(|p| p["type"] != "text").count() as u64;
        }
    }
    n
}

/// The reasoning as tokens, inline (with the think tags) or not.
pub fn reasoning_tokens(inline: bool) -> Vec<String> {
    let mut out = tokens(REASONING);
    if inline {
        out.insert(0, "<think>\n".to_owned());
        out.push("\n</think>\n\n".to_owned());
    }
    out
}

/// The arguments of a call to `tool` (an OpenAI tool object): every `required`
/// property filled by type (string: `user_text`, or the first `enum` value;
/// integer and number: 42; boolean: true; array: []; object: {}).
pub fn tool_arguments(tool: &Value, user_text: &str) -> String {
    let params = &tool["function"]["parameters"];
    let mut args = Map::new();
    for name in params["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let schema = &params["properties"][name];
        let value = match schema["type"].as_str() {
            Some("integer" | "number") => json!(42),
            Some("boolean") => json!(true),
            Some("array") => json!([]),
            Some("object") => json!({}),
            _ => schema["enum"]
                .get(0)
                .cloned()
                .unwrap_or_else(|| json!(user_text)),
        };
        args.insert(name.to_owned(), value);
    }
    Value::Object(args).to_string()
}

/// Splits tool-call arguments into the 2–3 fragments a stream carries (one when
/// shorter than 2 characters).
pub fn argument_pieces(args: &str) -> Vec<String> {
    let chars: Vec<char> = args.chars().collect();
    let parts = chars.len().clamp(1, 3);
    let size = chars.len().div_ceil(parts).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_rebuild_the_text() {
        let t = tokens("Echo: hello  big\nworld ");
        assert_eq!(t, vec!["Echo: ", "hello  ", "big\n", "world "]);
        assert_eq!(t.concat(), "Echo: hello  big\nworld ");
        assert_eq!(tokens(OCR_DOCUMENT).concat(), OCR_DOCUMENT);
        assert!(tokens("").is_empty());
    }

    #[test]
    fn echo_and_switches() {
        assert_eq!(echo("  hi there "), "Echo: hi there");
        assert_eq!(echo(""), EMPTY_ANSWER);
        assert_eq!(
            strip_think_switches("hello /nothink"),
            ("hello".to_owned(), true)
        );
        assert_eq!(strip_think_switches("/think hi"), ("hi".to_owned(), false));
        let msgs = vec![
            json!({"role":"user","content":"first"}),
            json!({"role":"assistant","content":"x"}),
            json!({"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:"}},{"type":"text","text":"b"}]}),
        ];
        assert_eq!(last_user_text(&msgs), "a b");
        assert_eq!(
            prompt_tokens(&msgs, 1),
            10 + (4 + 1) + (4 + 1) + (4 + 2) + 85
        );
    }

    #[test]
    fn tool_arguments_fill_required_properties() {
        let tool = json!({"type":"function","function":{"name":"f","parameters":{
            "type":"object",
            "properties":{"q":{"type":"string"},"n":{"type":"integer"},"b":{"type":"boolean"},
                          "u":{"type":"string","enum":["celsius","fahrenheit"]},"opt":{"type":"string"}},
            "required":["q","n","b","u"]}}});
        let args: Value = serde_json::from_str(&tool_arguments(&tool, "Paris")).unwrap();
        assert_eq!(args, json!({"q":"Paris","n":42,"b":true,"u":"celsius"}));
        assert_eq!(tool_arguments(&json!({"function":{"name":"g"}}), "x"), "{}");
        let pieces = argument_pieces(r#"{"q":"Paris"}"#);
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.concat(), r#"{"q":"Paris"}"#);
        assert_eq!(argument_pieces("{}"), vec!["{", "}"]);
        assert_eq!(argument_pieces(""), Vec::<String>::new());
    }
}
