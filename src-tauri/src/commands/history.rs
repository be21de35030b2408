//! Chat history: conversations kept as JSON files in the data folder, and
//! only when the user turned history on. Off means nothing is written, and
//! the window keeps the conversation in memory only.
//!
//! Search reads the files each time rather than keeping an index: a
//! person's conversations are hundreds of small files, and an index would be
//! one more copy of what they asked to delete.

// Functions here stay short enough to read.
#![warn(clippy::too_many_lines)]

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use specta::Type;
use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

use super::chat::{AnswerSummary, ChatRole, ConversationSettings};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

/// One turn as kept: what was said, the reasoning shown apart, and what the
/// answer cost.
#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct StoredTurn {
    pub role: ChatRole,
    pub text: String,
    #[serde(default)]
    pub reasoning: Option<String>,
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub summary: Option<AnswerSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: String,
    pub title: String,
    pub model: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Its system prompt and sampling (absent in files from before them).
    #[serde(default)]
    pub settings: ConversationSettings,
    pub turns: Vec<StoredTurn>,
}

/// The largest conversation file read or written: a long day's chat with
/// a few images (each at most 20 MB as a data URL) fits well under it.
const MAX_CONVERSATION_BYTES: u64 = 128 * 1024 * 1024;
/// The longest search asked, and the most conversations it returns.
const MAX_QUERY_CHARS: usize = 200;
const MAX_HITS: usize = 100;
/// Characters of context on each side of a hit in its snippet.
const SNIPPET_CONTEXT: usize = 60;

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ConversationMeta {
    pub id: String,
    pub title: String,
    pub model: String,
    pub updated_at: String,
}

/// A stored conversation that has every word of a search, with the first
/// place one was found.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ConversationHit {
    pub id: String,
    pub title: String,
    pub model: String,
    pub updated_at: String,
    /// Around the first word found, in the turn it was found in (or the
    /// title), with `…` where it was cut.
    pub snippet: String,
}

/// What the window exports: the Markdown it wrote in the user's language,
/// or the conversation itself as JSON (the file format history keeps).
#[derive(Debug, Clone, Deserialize, Type)]
#[serde(tag = "format", rename_all = "camelCase")]
pub enum ConversationExport {
    Markdown { text: String },
    Json { conversation: Box<Conversation> },
}

/// The conversations folder, and whether the user allows writing to it.
#[derive(Debug)]
pub(crate) struct History {
    folder: PathBuf,
    on: bool,
}

impl History {
    pub(crate) fn new(folder: PathBuf, on: bool) -> History {
        History { folder, on }
    }

    fn of(state: &AppState) -> History {
        History::new(
            state.paths.data_dir.join("conversations"),
            state.settings().ui.history,
        )
    }

    /// Ids are made by the window (UUIDs); anything else could name a path.
    fn file_for(&self, id: &str) -> AppResult<PathBuf> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if ok {
            Ok(self.folder.join(format!("{id}.json")))
        } else {
            Err(AppError::bad_input("not a conversation id"))
        }
    }

    /// Every readable stored conversation, in no order; nothing when
    /// history is off. A damaged file is skipped (and logged), not fatal:
    /// the others still show.
    fn each(&self) -> impl Iterator<Item = Conversation> {
        let entries = std::fs::read_dir(&self.folder).ok().filter(|_| self.on);
        entries
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .filter_map(|path| {
                read(&path)
                    .inspect_err(|e| {
                        tracing::warn!(file = %path.display(), error = %e, "unreadable conversation");
                    })
                    .ok()
            })
    }

    /// Newest first.
    pub(crate) fn list(&self) -> Vec<ConversationMeta> {
        let mut out: Vec<_> = self
            .each()
            .map(|c| ConversationMeta {
                id: c.id,
                title: c.title,
                model: c.model,
                updated_at: c.updated_at,
            })
            .collect();
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
        out
    }

    /// The stored conversations that hold every word of `query` in their
    /// title or turns, ignoring case and accents; newest first, at most
    /// [`MAX_HITS`].
    pub(crate) fn search(&self, query: &str) -> AppResult<Vec<ConversationHit>> {
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::bad_input(format!(
                "a search is at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let words: Vec<String> = fold(query).split_whitespace().map(str::to_owned).collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut hits: Vec<_> = self.each().filter_map(|c| hit(c, &words)).collect();
        hits.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
        hits.truncate(MAX_HITS);
        Ok(hits)
    }

    pub(crate) fn get(&self, id: &str) -> AppResult<Conversation> {
        read(&self.file_for(id)?)
    }

    /// Writes the conversation when history is on (whole, or not at all);
    /// off, nothing touches the disk. Returns whether it was written.
    pub(crate) fn save(&self, conversation: &Conversation) -> AppResult<bool> {
        if !self.on {
            return Ok(false);
        }
        let path = self.file_for(&conversation.id)?;
        std::fs::create_dir_all(&self.folder)
            .map_err(|e| AppError::io("creating the history folder", &e))?;
        super::ocr::write_atomically(&path, &to_json(conversation)?)?;
        Ok(true)
    }

    pub(crate) fn delete(&self, id: &str) -> AppResult<()> {
        match std::fs::remove_file(self.file_for(id)?) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(AppError::io("deleting the conversation", &e)),
        }
    }

    /// Deletes every stored conversation, whatever the setting.
    pub(crate) fn clear(&self) -> u32 {
        let mut n = 0;
        if let Ok(entries) = std::fs::read_dir(&self.folder) {
            for path in entries.flatten().map(|e| e.path()) {
                if path.extension().is_some_and(|e| e == "json")
                    && std::fs::remove_file(&path).is_ok()
                {
                    n += 1;
                }
            }
        }
        n
    }
}

/// The stored conversations with every word of `query`, newest first.
#[tauri::command]
#[specta::specta]
pub async fn conversations_search(
    app: tauri::AppHandle,
    query: String,
) -> AppResult<Vec<ConversationHit>> {
    super::with_state(&app, move |state| History::of(state).search(&query)).await
}

/// Writes a conversation where the save dialog pointed, whole or not at all.
#[tauri::command]
#[specta::specta]
pub async fn conversation_export(
    app: tauri::AppHandle,
    path: String,
    content: ConversationExport,
) -> AppResult<()> {
    let path = crate::scope::chosen(&app, &path)?;
    super::blocking(move || write_export(&path, &content)).await
}

/// The stored conversations, newest first (none when history is off).
#[tauri::command]
#[specta::specta]
pub async fn conversations_list(app: tauri::AppHandle) -> AppResult<Vec<ConversationMeta>> {
    super::with_state(&app, |state| Ok(History::of(state).list())).await
}

#[tauri::command]
#[specta::specta]
pub async fn conversation_get(app: tauri::AppHandle, id: String) -> AppResult<Conversation> {
    super::with_state(&app, move |state| History::of(state).get(&id)).await
}

/// Saves a conversation when history is on; returns whether it was written.
#[tauri::command]
#[specta::specta]
pub async fn conversation_save(
    app: tauri::AppHandle,
    conversation: Conversation,
) -> AppResult<bool> {
    super::with_state(&app, move |state| History::of(state).save(&conversation)).await
}

#[tauri::command]
#[specta::specta]
pub async fn conversation_delete(app: tauri::AppHandle, id: String) -> AppResult<()> {
    super::with_state(&app, move |state| History::of(state).delete(&id)).await
}

/// Deletes every stored conversation (Settings, when history is turned off).
#[tauri::command]
#[specta::specta]
pub async fn history_clear(app: tauri::AppHandle) -> AppResult<u32> {
    super::with_state(&app, |state| Ok(History::of(state).clear())).await
}

pub(crate) fn write_export(path: &Path, export: &ConversationExport) -> AppResult<()> {
    let bytes = match export {
        ConversationExport::Markdown { text } => text.clone().into_bytes(),
        ConversationExport::Json { conversation } => to_json(conversation)?,
    };
    if bytes.len() as u64 > MAX_CONVERSATION_BYTES {
        return Err(too_large());
    }
    super::ocr::write_atomically(path, &bytes)
}

fn too_large() -> AppError {
    AppError::bad_input(format!(
        "a conversation is at most {} MiB",
        MAX_CONVERSATION_BYTES / (1024 * 1024)
    ))
}

/// The file format: pretty JSON, within the size history reads back.
fn to_json(conversation: &Conversation) -> AppResult<Vec<u8>> {
    let json = serde_json::to_vec_pretty(conversation)
        .map_err(|e| AppError::new(ErrorCode::Backend, e.to_string()))?;
    if json.len() as u64 > MAX_CONVERSATION_BYTES {
        return Err(too_large());
    }
    Ok(json)
}

fn read(path: &Path) -> AppResult<Conversation> {
    let file = std::fs::File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            AppError::new(ErrorCode::NotFound, "no such conversation")
        } else {
            AppError::io("reading the conversation", &e)
        }
    })?;
    // The size first (nothing is read of a file too large), then a cap on
    // what is read, for a file that grows meanwhile.
    let len = file.metadata().map_or(0, |m| m.len());
    let mut bytes = Vec::new();
    if len <= MAX_CONVERSATION_BYTES {
        file.take(MAX_CONVERSATION_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| AppError::io("reading the conversation", &e))?;
    }
    if len > MAX_CONVERSATION_BYTES || bytes.len() as u64 > MAX_CONVERSATION_BYTES {
        return Err(AppError::bad_input(format!(
            "{} is over {} MiB",
            path.display(),
            MAX_CONVERSATION_BYTES / (1024 * 1024)
        )));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| AppError::bad_input(format!("{} is damaged: {e}", path.display())))
}

/// Text as search compares it: lower case, accents gone (`Électricité` and
/// `electricite` are one word to a person typing fast). The window folds its
/// unsaved conversations by the same rule (`fold` in ui/src/text.ts).
fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The conversation as a hit when every word is in its title or turns.
fn hit(c: Conversation, words: &[String]) -> Option<ConversationHit> {
    let texts: Vec<&str> = std::iter::once(c.title.as_str())
        .chain(c.turns.iter().map(|t| t.text.as_str()))
        .collect();
    let folded: Vec<String> = texts.iter().map(|t| fold(t)).collect();
    let all = words
        .iter()
        .all(|w| folded.iter().any(|f| f.contains(w.as_str())));
    if !all {
        return None;
    }
    // Cut from the first text holding the first word (folded once above).
    let snippet = folded
        .iter()
        .position(|f| f.contains(words[0].as_str()))
        .and_then(|i| snippet(texts[i], &words[0]))
        .unwrap_or_default();
    Some(ConversationHit {
        id: c.id,
        title: c.title,
        model: c.model,
        updated_at: c.updated_at,
        snippet,
    })
}

/// The text around the first place `word` (folded) is found in `text`.
fn snippet(text: &str, word: &str) -> Option<String> {
    // Fold char by char, remembering where each folded char came from, so
    // the snippet is cut from the original (accents and case kept).
    let chars: Vec<char> = text.chars().collect();
    let mut folded = String::new();
    let mut origin = Vec::new();
    for (i, c) in chars.iter().enumerate() {
        for f in fold(&c.to_string()).chars() {
            folded.push(f);
            origin.push(i);
        }
    }
    let at = folded.find(word)?;
    let first = origin[folded[..at].chars().count()];
    let start = first.saturating_sub(SNIPPET_CONTEXT);
    let end = (first + word.chars().count() + SNIPPET_CONTEXT).min(chars.len());
    let body: String = chars[start..end].iter().collect();
    let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let before = if start > 0 { "…" } else { "" };
    let after = if end < chars.len() { "…" } else { "" };
    Some(format!("{before}{body}{after}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(id: &str, updated_at: &str) -> Conversation {
        Conversation {
            id: id.into(),
            title: "Budget".into(),
            model: "smollm2-135m-instruct".into(),
            updated_at: updated_at.into(),
            settings: ConversationSettings::default(),
            turns: vec![StoredTurn {
                role: ChatRole::User,
                text: "What did we spend?".into(),
                reasoning: None,
                images: Vec::new(),
                summary: None,
            }],
        }
    }

    #[test]
    fn history_off_writes_nothing_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("conversations");
        let off = History::new(folder.clone(), false);
        assert!(
            !off.save(&conversation("a-1", "2026-11-26T10:00:00Z"))
                .unwrap()
        );
        assert!(!folder.exists(), "not even the folder is created");
        assert!(off.list().is_empty());
    }

    #[test]
    fn history_on_keeps_lists_newest_first_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let on = History::new(dir.path().join("conversations"), true);
        assert!(
            on.save(&conversation("a-1", "2026-11-26T10:00:00Z"))
                .unwrap()
        );
        assert!(
            on.save(&conversation("b-2", "2026-11-26T11:00:00Z"))
                .unwrap()
        );
        let ids: Vec<_> = on.list().into_iter().map(|m| m.id).collect();
        assert_eq!(ids, ["b-2", "a-1"]);
        assert_eq!(on.get("a-1").unwrap().turns[0].text, "What did we spend?");
        on.delete("a-1").unwrap();
        on.delete("a-1").unwrap(); // gone already: fine
        assert_eq!(on.get("a-1").unwrap_err().code, ErrorCode::NotFound);
        assert_eq!(on.clear(), 1);
        assert!(on.list().is_empty());
    }

    #[test]
    fn a_damaged_file_is_skipped_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let on = History::new(dir.path().to_path_buf(), true);
        on.save(&conversation("a-1", "2026-11-26T10:00:00Z"))
            .unwrap();
        std::fs::write(dir.path().join("b-2.json"), b"{ half a conv").unwrap();
        assert_eq!(on.list().len(), 1);
        let e = on.get("b-2").unwrap_err();
        assert!(e.message.contains("damaged"), "{}", e.message);
    }

    #[test]
    fn ids_cannot_name_other_files() {
        let history = History::new(PathBuf::from("/tmp/h"), true);
        assert!(
            history
                .file_for("0195f7c2-7c1e-7d2a-9a4e-1b2c3d4e5f60")
                .is_ok()
        );
        for bad in ["", "../settings", "a/b", "x.json", &"a".repeat(65)] {
            assert!(history.file_for(bad).is_err(), "{bad}");
        }
    }

    fn with_answer(id: &str, at: &str, question: &str, answer: &str) -> Conversation {
        let mut c = conversation(id, at);
        question.clone_into(&mut c.title);
        c.turns[0].text = question.into();
        c.turns.push(StoredTurn {
            role: ChatRole::Assistant,
            text: answer.into(),
            reasoning: None,
            images: Vec::new(),
            summary: None,
        });
        c
    }

    #[test]
    fn search_finds_every_word_in_any_turn_ignoring_case_and_accents() {
        let dir = tempfile::tempdir().unwrap();
        let on = History::new(dir.path().to_path_buf(), true);
        let long = format!(
            "{} La facture d'Électricité de mars. {}",
            "avant ".repeat(30),
            "après ".repeat(30)
        );
        on.save(&with_answer(
            "a-1",
            "2026-11-26T10:00:00Z",
            "Le budget ?",
            &long,
        ))
        .unwrap();
        on.save(&with_answer(
            "b-2",
            "2026-11-26T11:00:00Z",
            "Electricite en avril",
            "Rien.",
        ))
        .unwrap();
        on.save(&with_answer(
            "c-3",
            "2026-11-26T12:00:00Z",
            "Autre chose",
            "Non.",
        ))
        .unwrap();
        let hits = on.search("  ELECTRICITÉ ").unwrap();
        let ids: Vec<_> = hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["b-2", "a-1"], "newest first");
        // The snippet is cut from the original text, accents kept.
        let snippet = &hits[1].snippet;
        assert!(snippet.contains("d'Électricité de mars"), "{snippet}");
        assert!(
            snippet.starts_with('…') && snippet.ends_with('…'),
            "{snippet}"
        );
        assert!(snippet.chars().count() < 140, "{snippet}");
        // Every word, in any turn: "budget" is in a-1's question, "mars" in its answer.
        let ids: Vec<_> = on
            .search("budget MARS")
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(ids, ["a-1"]);
        assert!(on.search("budget avril").unwrap().is_empty());
        assert!(on.search("   ").unwrap().is_empty());
        assert!(on.search(&"x".repeat(MAX_QUERY_CHARS + 1)).is_err());
        // History off: nothing is searched.
        assert!(
            History::new(dir.path().to_path_buf(), false)
                .search("mars")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn folding_keeps_letters_and_drops_marks() {
        assert_eq!(fold("Ça VA, Élodie ? Noël"), "ca va, elodie ? noel");
        assert_eq!(snippet("Straße", "straße").as_deref(), Some("Straße"));
        assert_eq!(snippet("abc", "z"), None);
    }

    #[test]
    fn settings_are_kept_and_older_files_read_without_them() {
        let dir = tempfile::tempdir().unwrap();
        let on = History::new(dir.path().to_path_buf(), true);
        let mut c = conversation("a-1", "2026-11-26T10:00:00Z");
        c.settings = ConversationSettings {
            system_prompt: Some("Be brief.".into()),
            temperature: Some(0.5),
            max_tokens: Some(300),
        };
        on.save(&c).unwrap();
        assert_eq!(on.get("a-1").unwrap().settings, c.settings);
        let old =
            r#"{"id":"b-2","title":"t","model":"m","updatedAt":"2026-11-26T10:00:00Z","turns":[]}"#;
        std::fs::write(dir.path().join("b-2.json"), old).unwrap();
        assert_eq!(
            on.get("b-2").unwrap().settings,
            ConversationSettings::default()
        );
    }

    #[test]
    fn a_file_over_the_limit_is_refused_not_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let on = History::new(dir.path().to_path_buf(), true);
        let path = dir.path().join("big-1.json");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(MAX_CONVERSATION_BYTES + 10).unwrap();
        let e = on.get("big-1").unwrap_err();
        assert!(e.message.contains("over 128 MiB"), "{}", e.message);
    }

    #[test]
    fn exports_write_markdown_as_given_and_json_as_history_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let md = dir.path().join("c.md");
        let text = "# Budget\n\n**You**: What did we spend?\n".to_owned();
        write_export(&md, &ConversationExport::Markdown { text: text.clone() }).unwrap();
        assert_eq!(std::fs::read_to_string(&md).unwrap(), text);
        let json = dir.path().join("c.json");
        let c = conversation("a-1", "2026-11-26T10:00:00Z");
        write_export(
            &json,
            &ConversationExport::Json {
                conversation: Box::new(c),
            },
        )
        .unwrap();
        let back: Conversation = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        assert_eq!(back.turns[0].text, "What did we spend?");
        let e = write_export(dir.path(), &ConversationExport::Markdown { text }).unwrap_err();
        assert!(
            e.message.contains("not a file name") || e.message.contains("writing"),
            "{}",
            e.message
        );
    }
}
