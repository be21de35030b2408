//! The local models a user can download in one click: a curated list, kept
//! as data (`models/local/downloads.toml`, like the cloud catalogue), of GGUF
//! files whose address, size and sha256 were read from their publisher.
//!
//! The list is what makes local execution usable without hunting for a URL:
//! each entry says what the model is (family, parameters, quantisation,
//! licence, context, capabilities), what it takes (the file's size and the
//! memory it needs to run), and which cloud model it stands in for. A
//! download is then [`crate::fetch::download`] with the entry's checksum and
//! size: resumable, checked, converted when it holds slow tensors, refused
//! first when the disk cannot take it.
//!
//! An organisation can replace the list with its own vetted one
//! (`models.download_list`); a list read from a file is checked as strictly
//! as the bundled one, since its addresses are fetched and its files run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use llmaas_core::Capability;
use serde::{Deserialize, Serialize};

use crate::fetch::{Pull, PullKind, part_path};
use crate::{LocalError, requant};

/// The bundled list, checked by this crate's tests.
const BUNDLED: &str = include_str!("../../../../models/local/downloads.toml");

/// A list file larger than this is refused before it is read.
pub const MAX_LIST_BYTES: u64 = 1024 * 1024;
/// More entries than this are refused.
pub const MAX_ENTRIES: usize = 1000;

/// One downloadable model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Downloadable {
    /// What `llmaas models pull NAME` takes: lower case, `[a-z0-9._-]`.
    pub name: String,
    /// The provider family a user knows (`Qwen3`, `Llama 3.2`).
    pub family: String,
    pub editor: String,
    pub description: String,
    /// As model cards write it (`1.7B`).
    pub parameters: String,
    /// The file's `general.architecture`, one the engine runs.
    pub architecture: String,
    pub quantisation: String,
    /// The file's own address: https (plain http only to this machine).
    pub url: String,
    /// Bytes.
    pub size: u64,
    /// Hex, 64 digits.
    pub sha256: String,
    pub licence: String,
    /// Tokens.
    pub context: u32,
    pub capabilities: Vec<Capability>,
    /// Token-embedding rows × width (the vocabulary and the model's width):
    /// candle keeps that matrix in f32 beside the quantised weights.
    pub embedding: [u64; 2],
    /// The cloud catalogue's model this one stands in for, offline.
    #[serde(default)]
    pub stands_in_for: Option<String>,
    /// Where the size and checksum were read.
    pub checked_at: String,
}

impl Downloadable {
    /// The file name in the models folder (the address's last segment).
    pub fn file_name(&self) -> &str {
        self.url.rsplit('/').next().unwrap_or_default()
    }

    /// About the memory the weights take once loaded, in bytes: the file in
    /// the format it runs in (a Q4_1/Q5 file converted to `target`) plus
    /// the f32 token embeddings, as [`requant::memory_estimate`] counts a
    /// file that is here. The context's key-value cache comes on top.
    pub fn memory_bytes(&self, target: requant::Target) -> u64 {
        let [rows, width] = self.embedding;
        let block = |ty: &str| crate::gguf::bytes_of_type(ty, 32).unwrap_or(1);
        let weights = if requant::SLOW_TYPES.contains(&self.quantisation.as_str()) {
            self.size / block(&self.quantisation) * block(target.name())
        } else {
            self.size
        };
        weights.saturating_add(rows.saturating_mul(width).saturating_mul(4))
    }

    /// The download that gets it: checksum and size from the list.
    pub fn pull(&self, convert_to: requant::Target) -> Pull {
        Pull {
            url: self.url.clone(),
            file_name: Some(self.file_name().to_owned()),
            sha256: Some(self.sha256.clone()),
            size: Some(self.size),
            kind: PullKind::Chat,
            stall_timeout: None,
            convert_to,
        }
    }

    /// Whether it is in `folder` already, as downloaded or as converted
    /// (a file with slow tensors is kept converted), or partly downloaded.
    pub fn presence(&self, folder: &Path, convert_to: requant::Target) -> Presence {
        let file = folder.join(self.file_name());
        let converted = folder.join(requant::converted_name(self.file_name(), convert_to));
        for path in [file.clone(), converted] {
            if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                return Presence::Here(path);
            }
        }
        match std::fs::symlink_metadata(part_path(&file)) {
            Ok(m) if m.is_file() => Presence::Partial(m.len().min(self.size)),
            _ => Presence::Absent,
        }
    }

    fn check(&self, known_names: &mut BTreeSet<String>) -> Result<(), String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if !name_ok {
            return Err("a name is 1–64 characters of a-z, 0-9, '.', '_' and '-'".into());
        }
        if !known_names.insert(self.name.clone()) {
            return Err("the name is listed twice".into());
        }
        // https (plain http only to this machine: a test server, a local
        // mirror), naming the file itself: no query, no credentials.
        if llmaas_core::check_base_url(&self.url).is_err() || self.url.contains(['?', '#']) {
            return Err(
                "the address must be https (http only to this machine), with no query".into(),
            );
        }
        let file = self.file_name();
        if !crate::is_model_file(Path::new(file)) || file.contains('%') {
            return Err(format!("`{file}` is not a NAME.gguf file name"));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the sha256 must be 64 hex digits".into());
        }
        if self.size == 0 {
            return Err("the size is 0".into());
        }
        if !crate::SUPPORTED_ARCHITECTURES.contains(&self.architecture.as_str()) {
            return Err(format!(
                "architecture `{}` is not one the engine runs",
                self.architecture
            ));
        }
        if !self.capabilities.contains(&Capability::Chat) {
            return Err("a chat model lists the `chat` capability".into());
        }
        Ok(())
    }
}

/// Where a listed model stands on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// In the models folder, at this path.
    Here(PathBuf),
    /// This many bytes of an interrupted download: the next one resumes.
    Partial(u64),
    Absent,
}

/// The curated list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadList {
    #[serde(rename = "model", default)]
    models: Vec<Downloadable>,
}

impl DownloadList {
    /// The list built into the app (parsed once, like the catalogue and the
    /// price table).
    ///
    /// # Panics
    /// Never in a released build: `the_bundled_list_is_valid` checks it.
    pub fn bundled() -> &'static DownloadList {
        static LIST: OnceLock<DownloadList> = OnceLock::new();
        LIST.get_or_init(|| {
            DownloadList::parse(BUNDLED)
                .expect("models/local/downloads.toml is valid (unit-tested)")
        })
    }

    /// Reads and checks a list file (an organisation's own).
    pub fn load(path: &Path) -> Result<DownloadList, LocalError> {
        let bad = |reason: String| LocalError::BadList {
            path: path.to_path_buf(),
            reason,
        };
        let size = std::fs::metadata(path)
            .map_err(|e| LocalError::io(path, &e))?
            .len();
        if size > MAX_LIST_BYTES {
            return Err(bad(format!("over {MAX_LIST_BYTES} bytes")));
        }
        let text = std::fs::read_to_string(path).map_err(|e| LocalError::io(path, &e))?;
        DownloadList::parse(&text).map_err(bad)
    }

    /// Parses and checks a list; says which entry is wrong and why.
    pub fn parse(text: &str) -> Result<DownloadList, String> {
        if text.len() as u64 > MAX_LIST_BYTES {
            return Err(format!("over {MAX_LIST_BYTES} bytes"));
        }
        let list: DownloadList = toml::from_str(text).map_err(|e| e.to_string())?;
        if list.models.len() > MAX_ENTRIES {
            return Err(format!("over {MAX_ENTRIES} entries"));
        }
        let mut names = BTreeSet::new();
        for m in &list.models {
            m.check(&mut names)
                .map_err(|why| format!("model `{}`: {why}", m.name))?;
        }
        Ok(list)
    }

    pub fn models(&self) -> &[Downloadable] {
        &self.models
    }

    /// The entry named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Downloadable> {
        self.models
            .iter()
            .find(|m| m.name.eq_ignore_ascii_case(name))
    }

    /// The names, for a message that lists what can be pulled.
    pub fn names(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.name.as_str()).collect()
    }
}

/// Download speed over the last few seconds, for a progress line: what a
/// user reads to decide whether to wait.
#[derive(Debug, Clone, Default)]
pub struct Rate {
    samples: std::collections::VecDeque<(std::time::Instant, u64)>,
}

impl Rate {
    /// The window the speed is measured over.
    pub const WINDOW: std::time::Duration = std::time::Duration::from_secs(5);

    /// Records `done` bytes at `now`; returns bytes per second over the
    /// window, once two samples are apart.
    pub fn update(&mut self, now: std::time::Instant, done: u64) -> Option<u64> {
        if self.samples.back().is_some_and(|&(_, d)| done < d) {
            // A restart from zero (a server that ignored the range).
            self.samples.clear();
        }
        self.samples.push_back((now, done));
        while self.samples.len() > 2
            && self
                .samples
                .front()
                .is_some_and(|&(t, _)| now.duration_since(t) > Rate::WINDOW)
        {
            self.samples.pop_front();
        }
        let &(t0, d0) = self.samples.front()?;
        let secs = now.duration_since(t0).as_secs_f64();
        if secs < 0.2 {
            return None;
        }
        // Whole bytes per second, for people.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rate = ((done - d0) as f64 / secs) as u64;
        Some(rate)
    }
}

#[cfg(test)]
#[path = "downloads_tests.rs"]
mod tests;
