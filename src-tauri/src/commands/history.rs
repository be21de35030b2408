//! Chat history: conversations kept as JSON files in the data folder, and
//! only when the user turned history on. Off means nothing is written, and
//! the window keeps the conversation in memory only.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use specta::Type;

use super::chat::{AnswerSummary, ChatRole};
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
    pub turns: Vec<StoredTurn>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ConversationMeta {
    pub id: String,
    pub title: String,
    pub model: String,
    pub updated_at: String,
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

    /// Newest first; nothing when history is off. A damaged file is
    /// skipped (and logged), not fatal: the others still show.
    pub(crate) fn list(&self) -> Vec<ConversationMeta> {
        if !self.on {
            return Vec::new();
        }
        let Ok(entries) = std::fs::read_dir(&self.folder) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match read(&path) {
                Ok(c) => out.push(ConversationMeta {
                    id: c.id,
                    title: c.title,
                    model: c.model,
                    updated_at: c.updated_at,
                }),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "unreadable conversation");
                }
            }
        }
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
        out
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
        let json = serde_json::to_vec_pretty(conversation)
            .map_err(|e| AppError::new(ErrorCode::Backend, e.to_string()))?;
        super::ocr::write_atomically(&path, &json)?;
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

fn read(path: &Path) -> AppResult<Conversation> {
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            AppError::new(ErrorCode::NotFound, "no such conversation")
        } else {
            AppError::io("reading the conversation", &e)
        }
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| AppError::bad_input(format!("{} is damaged: {e}", path.display())))
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
}
