//! Chat history: conversations kept as JSON files in the data folder, and
//! only when the user turned history on. Off means nothing is written, and
//! the window keeps the conversation in memory only.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::State;

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

fn folder(state: &AppState) -> PathBuf {
    state.paths.data_dir.join("conversations")
}

/// Ids are made by the window (UUIDs); anything else could name a path.
fn file_for(folder: &Path, id: &str) -> AppResult<PathBuf> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(folder.join(format!("{id}.json")))
    } else {
        Err(AppError::bad_input("not a conversation id"))
    }
}

/// The stored conversations, newest first (none when history is off).
#[tauri::command]
#[specta::specta]
pub fn conversations_list(state: State<'_, AppState>) -> AppResult<Vec<ConversationMeta>> {
    if !state.settings().ui.history {
        return Ok(Vec::new());
    }
    let dir = folder(&state);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        // A damaged file is skipped, not fatal: the others still show.
        match read(&path) {
            Ok(c) => out.push(ConversationMeta {
                id: c.id,
                title: c.title,
                model: c.model,
                updated_at: c.updated_at,
            }),
            Err(e) => tracing::warn!(file = %path.display(), error = %e, "unreadable conversation"),
        }
    }
    out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
    Ok(out)
}

#[tauri::command]
#[specta::specta]
pub fn conversation_get(state: State<'_, AppState>, id: String) -> AppResult<Conversation> {
    read(&file_for(&folder(&state), &id)?)
}

/// Saves a conversation when history is on; returns whether it was written.
#[tauri::command]
#[specta::specta]
pub fn conversation_save(
    state: State<'_, AppState>,
    conversation: Conversation,
) -> AppResult<bool> {
    if !state.settings().ui.history {
        return Ok(false);
    }
    let dir = folder(&state);
    let path = file_for(&dir, &conversation.id)?;
    std::fs::create_dir_all(&dir).map_err(|e| AppError::io("creating the history folder", &e))?;
    let json = serde_json::to_vec_pretty(&conversation)
        .map_err(|e| AppError::new(ErrorCode::Backend, e.to_string()))?;
    super::ocr::write_atomically(&path, &json)?;
    Ok(true)
}

#[tauri::command]
#[specta::specta]
pub fn conversation_delete(state: State<'_, AppState>, id: String) -> AppResult<()> {
    let path = file_for(&folder(&state), &id)?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(AppError::io("deleting the conversation", &e)),
    }
}

/// Deletes every stored conversation (Settings, when history is turned off).
#[tauri::command]
#[specta::specta]
pub fn history_clear(state: State<'_, AppState>) -> AppResult<u32> {
    let dir = folder(&state);
    let mut n = 0;
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|e| e == "json")
                && std::fs::remove_file(entry.path()).is_ok()
            {
                n += 1;
            }
        }
    }
    Ok(n)
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

    #[test]
    fn ids_cannot_name_other_files() {
        let dir = Path::new("/tmp/h");
        assert!(file_for(dir, "0195f7c2-7c1e-7d2a-9a4e-1b2c3d4e5f60").is_ok());
        for bad in ["", "../settings", "a/b", "x.json", &"a".repeat(65)] {
            assert!(file_for(dir, bad).is_err(), "{bad}");
        }
    }
}
