//! Model files whose tensors candle has no fast kernel for (Q4_1, Q5_0,
//! Q5_1), converted once to a type it has (Q8_0 by default): see
//! [`llmaas_gguf::requant`] for why and how.
//!
//! Two places convert. Importing (a copy) and pulling write the converted
//! file into the models folder, so the folder holds what runs. Files that
//! reach the engine unconverted (a linked import, a file dropped into the
//! folder, the embedded default, which its registry package ships as Q4_1)
//! are converted at their first load into the engine's staging folder,
//! beside a note of the source's size and time, and reused until the
//! source changes.

use std::path::{Path, PathBuf};

use crate::LocalError;
use crate::gguf::GgufInfo;
pub use crate::gguf::requant::{Progress, SLOW_TYPES, Target, has_slow_tensors};

/// The format a file runs in: its own quantisation, or the target when the
/// engine converts it.
pub fn runs_as(info: &GgufInfo, target: Target) -> String {
    if has_slow_tensors(info) {
        target.name().to_owned()
    } else {
        info.quantisation.clone()
    }
}

/// About the memory a model's weights take once loaded, in bytes: every
/// tensor in the format it runs in (slow types as `target`), plus the token
/// embeddings, which candle keeps dequantised to f32 as well. The context's
/// key-value cache comes on top and grows with the conversation.
pub fn memory_estimate(info: &GgufInfo, target: Target) -> u64 {
    let weights: u64 = info
        .tensor_types
        .iter()
        .map(|(ty, n)| {
            let runs = if SLOW_TYPES.contains(&ty.as_str()) {
                target.name()
            } else {
                ty
            };
            crate::gguf::bytes_of_type(runs, *n).unwrap_or(0)
        })
        .sum();
    weights.saturating_add(info.embedding_elements.saturating_mul(4))
}

/// The name of `file_name` converted: a quantisation named in it is
/// replaced (`x.Q4_1.gguf` → `x.Q8_0.gguf`), else the target is added.
pub fn converted_name(file_name: &str, target: Target) -> String {
    let stem = file_name
        .strip_suffix(".gguf")
        .or_else(|| file_name.strip_suffix(".GGUF"))
        .unwrap_or(file_name);
    let lower = stem.to_ascii_lowercase();
    for slow in SLOW_TYPES {
        let slow = slow.to_ascii_lowercase();
        // As a word of its own: `-q4_1`, `.q4_1`, `_q4_1` at the end.
        if let Some(at) = lower.rfind(&slow)
            && at > 0
            && at + slow.len() == lower.len()
            && matches!(lower.as_bytes()[at - 1], b'.' | b'-' | b'_')
        {
            return format!("{}{}.gguf", &stem[..at], target.name());
        }
    }
    format!("{stem}.{}.gguf", target.name())
}

/// Converts `src` into a new file at `dst` (replacing one there when
/// `replace`, else [`LocalError::AlreadyExists`]), through a hidden temporary
/// file beside it that is removed on any failure. Blocking. `progress`
/// returning `false` cancels.
pub fn convert_file(
    src: &Path,
    dst: &Path,
    target: Target,
    replace: bool,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<(), LocalError> {
    let mut part = llmaas_files::TempFile::beside(dst).map_err(|e| LocalError::io(dst, &e))?;
    let started = std::time::Instant::now();
    let done = llmaas_gguf::requant::requantize(src, part.file(), target, progress).map_err(
        |e| match e {
            llmaas_gguf::requant::RequantError::Cancelled => LocalError::Cancelled,
            llmaas_gguf::requant::RequantError::Write(io) => LocalError::io(dst, &io),
            other => LocalError::NotAModel {
                path: src.to_path_buf(),
                reason: other.to_string(),
            },
        },
    )?;
    let placed = if replace {
        part.commit(dst)
    } else {
        part.commit_new(dst)
    };
    placed.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            LocalError::AlreadyExists(dst.to_path_buf())
        } else {
            LocalError::io(dst, &e)
        }
    })?;
    tracing::info!(
        from = %src.display(),
        to = %dst.display(),
        tensors = done.converted,
        ms = started.elapsed().as_millis(),
        "converted to {}",
        target.name()
    );
    Ok(())
}

/// The engine's converted copy of `src` in `dir`, converting it first when
/// there is none or the source changed since (its size or time differ).
pub fn cached(
    src: &Path,
    dir: &Path,
    target: Target,
    progress: &mut dyn FnMut(Progress) -> bool,
) -> Result<PathBuf, LocalError> {
    let name = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dst = dir.join(converted_name(&name, target));
    let note = dir.join(".source");
    let identity = identity(src)?;
    let current = std::fs::read_to_string(&note).ok();
    if current.as_deref() == Some(identity.as_str()) && crate::gguf::read(&dst).is_ok() {
        return Ok(dst);
    }
    std::fs::create_dir_all(dir).map_err(|e| LocalError::io(dir, &e))?;
    // Whatever was converted before (another target, an older source) goes.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
    convert_file(src, &dst, target, true, progress)?;
    llmaas_files::write_atomic(&note, identity.as_bytes())
        .map_err(|e| LocalError::io(&note, &e))?;
    Ok(dst)
}

/// When the caller of [`off_thread`] stops waiting (its future is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abandoned {
    /// The conversion stops at its next progress report.
    Cancel,
    /// It runs to its end, for the next caller to reuse.
    Finish,
}

/// Runs `work` (a conversion) on a blocking thread, forwarding its progress
/// to `progress` as it goes: the one way the engine and downloads convert
/// from async code. Only the latest report waits to be forwarded.
pub(crate) async fn off_thread<T: Send + 'static>(
    work: impl FnOnce(&mut dyn FnMut(Progress) -> bool) -> Result<T, LocalError> + Send + 'static,
    abandoned: Abandoned,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<T, LocalError> {
    let (tx, mut rx) = tokio::sync::watch::channel(None);
    let task = tokio::task::spawn_blocking(move || {
        work(&mut |p| tx.send(Some(p)).is_ok() || abandoned == Abandoned::Finish)
    });
    while rx.changed().await.is_ok() {
        if let Some(p) = *rx.borrow_and_update() {
            progress(p);
        }
    }
    task.await
        .map_err(|e| LocalError::Engine(format!("the conversion stopped: {e}")))?
}

/// What tells one version of a file from another, cheaply.
fn identity(src: &Path) -> Result<String, LocalError> {
    let canonical = std::fs::canonicalize(src).map_err(|e| LocalError::io(src, &e))?;
    let meta = std::fs::metadata(&canonical).map_err(|e| LocalError::io(src, &e))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(format!(
        "{}\n{}\n{modified}\n",
        canonical.display(),
        meta.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_named_quantisation_is_replaced_else_the_target_is_added() {
        let q8 = Target::Q8_0;
        assert_eq!(
            converted_name("SmolLM2-135M-Instruct.Q4_1.gguf", q8),
            "SmolLM2-135M-Instruct.Q8_0.gguf"
        );
        assert_eq!(
            converted_name("qwen2.5-0.5b-q5_0.gguf", q8),
            "qwen2.5-0.5b-Q8_0.gguf"
        );
        assert_eq!(
            converted_name("model.gguf", Target::Q4_0),
            "model.Q4_0.gguf"
        );
        // Inside a word it is not a quantisation label.
        assert_eq!(converted_name("xq4_1.gguf", q8), "xq4_1.Q8_0.gguf");
    }

    #[test]
    fn memory_counts_converted_weights_and_f32_embeddings() {
        let info = crate::gguf::read_bytes(&crate::gguf::build::tiny_llama()).unwrap();
        // token_embd 64×300 in Q4_1 → Q8_0 (34 bytes a block of 32), kept in
        // f32 too; output_norm 64 in F32.
        let q8 = 64 * 300 / 32 * 34 + 64 * 4 + 64 * 300 * 4;
        assert_eq!(memory_estimate(&info, Target::Q8_0), q8);
        let q4 = 64 * 300 / 32 * 18 + 64 * 4 + 64 * 300 * 4;
        assert_eq!(memory_estimate(&info, Target::Q4_0), q4);
    }

    #[test]
    fn a_cached_copy_is_reused_until_the_source_changes() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("tiny.Q4_1.gguf");
        std::fs::write(&src, crate::gguf::build::tiny_llama()).unwrap();
        let cache = dir.path().join("cache");
        let mut calls = 0;
        let first = cached(&src, &cache, Target::Q8_0, &mut |_| {
            calls += 1;
            true
        })
        .unwrap();
        assert_eq!(first.file_name().unwrap(), "tiny.Q8_0.gguf");
        assert_eq!(crate::gguf::read(&first).unwrap().quantisation, "Q8_0");
        let before = calls;
        let again = cached(&src, &cache, Target::Q8_0, &mut |_| {
            calls += 1;
            true
        })
        .unwrap();
        assert_eq!((again, calls), (first.clone(), before), "converted twice");
        // A new version of the source is converted again.
        let mut bytes = crate::gguf::build::tiny_llama();
        bytes.extend_from_slice(&[0; 64]);
        std::fs::write(&src, bytes).unwrap();
        cached(&src, &cache, Target::Q8_0, &mut |_| {
            calls += 1;
            true
        })
        .unwrap();
        assert!(calls > before);
    }

    #[test]
    fn a_cancelled_conversion_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("tiny.gguf");
        std::fs::write(&src, crate::gguf::build::tiny_llama()).unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let e = convert_file(
            &src,
            &out.join("tiny.Q8_0.gguf"),
            Target::Q8_0,
            false,
            &mut |_| false,
        );
        assert!(matches!(e, Err(LocalError::Cancelled)), "{e:?}");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    }
}
