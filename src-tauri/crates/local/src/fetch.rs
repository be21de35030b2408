//! Getting a model file into the models folder: importing one the user has
//! (copy or link) or downloading one (progress, resume, checksum).
//!
//! Either way the file appears in the folder under its final name only when
//! it is whole and its header reads: it is written as a hidden `.NAME.part`
//! first, which the folder watch ignores, then renamed.
//!
//! A download must be https, or come with its sha256 (plain http is only
//! for this machine): a file that will run as code on the user's machine is
//! never taken on trust from the network path. A resume is kept only when
//! the server's `Content-Range` starts where the partial file ends, and a
//! server that sends nothing for [`STALL_TIMEOUT`] ends the try (the partial
//! file stays for the next one).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use futures_util::StreamExt as _;
use sha2::{Digest, Sha256};

use crate::gguf;
use crate::library::{SUPPORTED_ARCHITECTURES, is_model_file};
use crate::{LocalError, requant};

/// Bytes moved so far, and the total when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferProgress {
    pub done: u64,
    pub total: Option<u64>,
    /// Converting a file with slow tensors (see [`crate::requant`]): bytes
    /// of tensor data read, of `total`. A new bar, not more of the transfer.
    pub converting: bool,
}

impl TransferProgress {
    fn moved(done: u64, total: Option<u64>) -> TransferProgress {
        TransferProgress {
            done,
            total,
            converting: false,
        }
    }
}

/// How an imported file gets into the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// A copy: the original can go.
    Copy,
    /// A symbolic link: no space used, the original must stay.
    Link,
}

/// Checks that `path` is a model the engine can run, or says why not.
pub fn check_model(path: &Path) -> Result<gguf::GgufInfo, LocalError> {
    let not = |reason: String| LocalError::NotAModel {
        path: path.to_path_buf(),
        reason,
    };
    let info = gguf::read(path).map_err(|e| not(e.to_string()))?;
    if !SUPPORTED_ARCHITECTURES.contains(&info.architecture.as_str()) {
        return Err(not(format!(
            "architecture `{}` is not supported by the local engine",
            info.architecture
        )));
    }
    Ok(info)
}

pub(crate) fn part_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.part"))
}

fn target_in(folder: &Path, name: &str) -> Result<PathBuf, LocalError> {
    target_of_kind(folder, name, PullKind::Chat)
}

fn target_of_kind(folder: &Path, name: &str, kind: PullKind) -> Result<PathBuf, LocalError> {
    let target = folder.join(name);
    let named_right = match kind {
        PullKind::Chat => is_model_file(&target),
        PullKind::Speech => {
            !name.starts_with('.')
                && Path::new(name)
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("bin"))
        }
    };
    if !named_right || Path::new(name).components().count() != 1 {
        return Err(LocalError::NotAModel {
            path: target,
            reason: match kind {
                PullKind::Chat => "chat model files are named NAME.gguf".into(),
                PullKind::Speech => "whisper.cpp model files are named NAME.bin".into(),
            },
        });
    }
    if target.exists() {
        return Err(LocalError::AlreadyExists(target));
    }
    Ok(target)
}

/// Imports `source` into `folder` (created when missing) and returns the new
/// path. Blocking: run it off the async runtime. A failure leaves nothing behind.
///
/// A copy of a file with tensors candle runs slowly (Q4_1, Q5_0, Q5_1) is
/// that file converted to `target` (see [`crate::requant`]), named after it
/// (`x.Q4_1.gguf` → `x.Q8_0.gguf`); a link is left as it is, and the engine
/// converts it at its first load.
pub fn import(
    source: &Path,
    folder: &Path,
    mode: ImportMode,
    convert_to: requant::Target,
    progress: &dyn Fn(TransferProgress),
) -> Result<PathBuf, LocalError> {
    let info = check_model(source)?;
    let mut name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::create_dir_all(folder).map_err(|e| LocalError::io(folder, &e))?;
    if mode == ImportMode::Copy && requant::has_slow_tensors(&info) {
        // The copy is the converted file: the folder holds what runs.
        name = requant::converted_name(&name, convert_to);
        let to = target_in(folder, &name)?;
        requant::convert_file(source, &to, convert_to, false, &mut |p| {
            progress(converting(p));
            true
        })?;
        return Ok(to);
    }
    let target = target_in(folder, &name)?;
    match mode {
        ImportMode::Link => {
            let source = std::fs::canonicalize(source).map_err(|e| LocalError::io(source, &e))?;
            link(&source, &target).map_err(|e| LocalError::io(&target, &e))?;
        }
        ImportMode::Copy => {
            // A hidden temporary name made exclusively, placed only if the
            // name is still free; dropped (removed) on any failure.
            let mut part =
                llmaas_files::TempFile::beside(&target).map_err(|e| LocalError::io(&target, &e))?;
            copy_with_progress(source, part.file(), &target, progress)?;
            part.commit_new(&target)
                .map_err(|e| LocalError::io(&target, &e))?;
        }
    }
    Ok(target)
}

#[cfg(unix)]
fn link(source: &Path, target: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(source, target)
}

#[cfg(not(unix))]
fn link(source: &Path, target: &Path) -> std::io::Result<()> {
    // Symbolic links need a privilege on Windows; a hard link does not (same volume).
    std::fs::hard_link(source, target)
}

/// Copies `from` into `dst` (the temporary file for `to`).
fn copy_with_progress(
    from: &Path,
    dst: &mut std::fs::File,
    to: &Path,
    progress: &dyn Fn(TransferProgress),
) -> Result<(), LocalError> {
    let mut src = std::fs::File::open(from).map_err(|e| LocalError::io(from, &e))?;
    let total = src.metadata().map_err(|e| LocalError::io(from, &e))?.len();
    let mut buf = vec![0_u8; 1 << 20];
    let mut done = 0_u64;
    loop {
        let n = src.read(&mut buf).map_err(|e| LocalError::io(from, &e))?;
        if n == 0 {
            break;
        }
        dst.write_all(&buf[..n])
            .map_err(|e| LocalError::io(to, &e))?;
        done += n as u64;
        progress(TransferProgress::moved(done, Some(total)));
    }
    Ok(())
}

/// A download that receives nothing for this long stops (and can resume).
pub const STALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What a download is, and so how it is checked before it is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PullKind {
    /// A GGUF chat model (header read, architecture supported).
    #[default]
    Chat,
    /// A whisper.cpp ggml speech model (`ggml-base.bin`; the ggml magic).
    Speech,
}

/// A download to make.
#[derive(Debug, Clone, Default)]
pub struct Pull {
    pub url: String,
    /// The file name in the folder; the URL's last segment when `None`.
    pub file_name: Option<String>,
    /// The expected sha256 (hex); checked when given, required over plain http.
    pub sha256: Option<String>,
    /// The file's size, when known (a listed model): the free space is
    /// checked against it before anything is asked, and a server that
    /// announces another size is not read from.
    pub size: Option<u64>,
    pub kind: PullKind,
    /// [`STALL_TIMEOUT`] when `None`.
    pub stall_timeout: Option<std::time::Duration>,
    /// What a chat model with slow tensors is converted to once checked.
    pub convert_to: requant::Target,
}

/// [`download`] with an HTTP client made for it (30 s to connect, then
/// [`STALL_TIMEOUT`] between pieces): what the front ends call.
pub async fn get(
    pull: &Pull,
    folder: &Path,
    progress: &(dyn Fn(TransferProgress) + Send + Sync),
) -> Result<PathBuf, LocalError> {
    let client = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| LocalError::Download(format!("cannot set up the HTTP client: {e}")))?;
    download(&client, pull, folder, progress).await
}

/// Downloads `pull` into `folder`, resuming a previous partial download of
/// the same name, and returns the new path. A checksum mismatch or a file that
/// is not a model deletes what was downloaded; a network failure keeps it for
/// the next try.
#[warn(clippy::too_many_lines)]
pub async fn download(
    client: &reqwest::Client,
    pull: &Pull,
    folder: &Path,
    progress: &(dyn Fn(TransferProgress) + Send + Sync),
) -> Result<PathBuf, LocalError> {
    let name = match &pull.file_name {
        Some(n) => n.clone(),
        None => file_name_of(&pull.url)?,
    };
    if pull.sha256.is_none()
        && let Err(why) = llmaas_core::check_base_url(&pull.url)
    {
        return Err(LocalError::Download(format!(
            "{why}; or give the file's sha256 (--sha256) so that what arrives can be checked"
        )));
    }
    tokio::fs::create_dir_all(folder)
        .await
        .map_err(|e| LocalError::io(folder, &e))?;
    let target = target_of_kind(folder, &name, pull.kind)?;
    let part = part_path(&target);
    let _lock = DownloadLock::take(&target)?;
    let mut have = Partial::read(&part, pull.size)?;
    if let Some(size) = pull.size {
        check_space(folder, size - have.bytes)?;
    }
    let response = request(client, &pull.url, &part, have.bytes).await?;
    let resumed = response.status() == reqwest::StatusCode::PARTIAL_CONTENT;
    if !resumed {
        // The server ignored the range (or there was none): from the start.
        have = Partial::default();
    }
    let total = response
        .content_length()
        .map(|n| n + have.bytes)
        .or(pull.size);
    if let (Some(expected), Some(announced)) = (pull.size, total)
        && expected != announced
    {
        return Err(LocalError::Download(format!(
            "the server announces {announced} bytes where the file has {expected}: not the listed file"
        )));
    }
    let stall = pull.stall_timeout.unwrap_or(STALL_TIMEOUT);
    receive(response, &part, resumed, &mut have, total, stall, progress).await?;
    keep(pull, &name, &part, &target, have, progress).await
}

/// The download of one file, held by this process: a second window, a
/// `models pull` in a terminal and the window never append to the same
/// partial file. The lock is the OS's (released when the process dies, so a
/// killed download never blocks the next one) on a hidden `.NAME.lock` beside
/// the partial file, removed when the download ends.
///
/// Removing a lock file is safe only as done here: the holder deletes it
/// before unlocking, and a taker checks after locking that the file it locked
/// is still the one at that path (else it was deleted meanwhile, and the
/// taker opens the new one).
struct DownloadLock {
    path: PathBuf,
    _file: std::fs::File,
}

impl DownloadLock {
    fn take(target: &Path) -> Result<DownloadLock, LocalError> {
        use fs2::FileExt as _;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = target.with_file_name(format!(".{name}.lock"));
        loop {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| LocalError::io(&path, &e))?;
            match file.try_lock_exclusive() {
                Ok(()) => {}
                Err(e) if e.kind() == fs2::lock_contended_error().kind() => {
                    return Err(LocalError::Download(format!(
                        "{name} is already being downloaded (by another window or command)"
                    )));
                }
                Err(e) => return Err(LocalError::io(&path, &e)),
            }
            if same_file(&file, &path) {
                return Ok(DownloadLock { path, _file: file });
            }
        }
    }
}

impl Drop for DownloadLock {
    fn drop(&mut self) {
        // Before the file (and its lock) is closed: see the type's comment.
        // Elsewhere than on Unix there is no inode to check: the file stays.
        if cfg!(unix) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Whether `file` is still what `path` names (not deleted or replaced since
/// it was opened).
#[cfg(unix)]
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Without inodes to compare, lock files are never removed (see `Drop`), so
/// the file locked is the one at the path.
#[cfg(not(unix))]
fn same_file(_: &std::fs::File, _: &Path) -> bool {
    true
}

/// What an earlier try left in the partial file, hashed again so that the
/// checksum covers every byte.
#[derive(Default)]
struct Partial {
    hasher: Sha256,
    bytes: u64,
}

impl Partial {
    fn read(part: &Path, size: Option<u64>) -> Result<Partial, LocalError> {
        // A planted link under the partial file's name is not written through.
        if std::fs::symlink_metadata(part).is_ok_and(|m| !m.is_file()) {
            std::fs::remove_file(part).map_err(|e| LocalError::io(part, &e))?;
        }
        let mut have = Partial::default();
        let Ok(mut f) = std::fs::File::open(part) else {
            return Ok(have);
        };
        let mut buf = vec![0_u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).map_err(|e| LocalError::io(part, &e))?;
            if n == 0 {
                break;
            }
            have.add(&buf[..n]);
        }
        if size.is_some_and(|size| have.bytes > size) {
            // Longer than the file can be: not a piece of it.
            let _ = std::fs::remove_file(part);
            return Ok(Partial::default());
        }
        Ok(have)
    }

    fn add(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.bytes += bytes.len() as u64;
    }
}

/// Asks for the file from byte `from`; a resume the server cannot or does
/// not make where asked removes the partial file.
async fn request(
    client: &reqwest::Client,
    url: &str,
    part: &Path,
    from: u64,
) -> Result<reqwest::Response, LocalError> {
    let mut request = client.get(url);
    if from > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={from}-"));
    }
    let response = request
        .send()
        .await
        .map_err(|e| LocalError::Download(e.without_url().to_string()))?;
    let status = response.status();
    if status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
        // The part file is longer than the resource: start again.
        let _ = std::fs::remove_file(part);
        return Err(LocalError::Download(
            "the partial download does not match the server's file; it was removed, try again"
                .into(),
        ));
    }
    if !status.is_success() {
        return Err(LocalError::Download(format!(
            "the server answered {status}"
        )));
    }
    if status == reqwest::StatusCode::PARTIAL_CONTENT
        && content_range_start(response.headers()) != Some(from)
    {
        // A resume from anywhere but where the file ends would splice two
        // pieces of different files (or offsets) together.
        let _ = std::fs::remove_file(part);
        return Err(LocalError::Download(
            "the server resumed the download at another place than asked; the partial download was removed, try again"
                .into(),
        ));
    }
    Ok(response)
}

/// Writes the body into the partial file (appended on a resume) as it
/// comes; a stall or a cut keeps what arrived.
async fn receive(
    response: reqwest::Response,
    part: &Path,
    resumed: bool,
    have: &mut Partial,
    total: Option<u64>,
    stall: std::time::Duration,
    progress: &(dyn Fn(TransferProgress) + Send + Sync),
) -> Result<(), LocalError> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(part)
        .map_err(|e| LocalError::io(part, &e))?;
    progress(TransferProgress::moved(have.bytes, total));
    let mut body = response.bytes_stream();
    loop {
        let Ok(next) = tokio::time::timeout(stall, body.next()).await else {
            return Err(LocalError::Download(format!(
                "nothing arrived for {} s after {} bytes; run the same command again to resume",
                stall.as_secs(),
                have.bytes
            )));
        };
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| {
            LocalError::Download(format!(
                "{} after {} bytes; run the same command again to resume",
                e.without_url(),
                have.bytes
            ))
        })?;
        file.write_all(&chunk)
            .map_err(|e| LocalError::io(part, &e))?;
        have.add(&chunk);
        progress(TransferProgress::moved(have.bytes, total));
    }
    file.sync_all().map_err(|e| LocalError::io(part, &e))?;
    if let Some(total) = total
        && have.bytes < total
    {
        return Err(LocalError::Download(format!(
            "the connection closed after {} of {total} bytes; run the same command again to resume",
            have.bytes
        )));
    }
    Ok(())
}

/// Checks the whole file (checksum, then what it is) and puts it in the
/// folder: as it is, or converted when it has slow tensors.
async fn keep(
    pull: &Pull,
    name: &str,
    part: &Path,
    target: &Path,
    have: Partial,
    progress: &(dyn Fn(TransferProgress) + Send + Sync),
) -> Result<PathBuf, LocalError> {
    let actual = hex::encode(have.hasher.finalize());
    if let Some(expected) = &pull.sha256
        && !expected.eq_ignore_ascii_case(&actual)
    {
        let _ = std::fs::remove_file(part);
        return Err(LocalError::ChecksumMismatch {
            expected: expected.to_lowercase(),
            actual,
        });
    }
    let checked = match pull.kind {
        PullKind::Chat => check_model(part).map(|info| requant::has_slow_tensors(&info)),
        PullKind::Speech => crate::whisper::check_ggml(part).map(|()| false),
    };
    match checked {
        Ok(true) => {
            // The download was checked as it came; what the folder keeps is
            // the converted file, and the download goes, whether the
            // conversion worked or not (nothing half-made is left).
            let to = target.with_file_name(requant::converted_name(name, pull.convert_to));
            // Dropping the download's future cancels the conversion too.
            let (src, into, kind) = (part.to_path_buf(), to.clone(), pull.convert_to);
            let converted = requant::off_thread(
                move |report| requant::convert_file(&src, &into, kind, false, report),
                requant::Abandoned::Cancel,
                &|p| progress(converting(p)),
            )
            .await;
            let _ = std::fs::remove_file(part);
            converted.map(|()| to)
        }
        Ok(false) => {
            std::fs::rename(part, target).map_err(|e| LocalError::io(target, &e))?;
            Ok(target.to_path_buf())
        }
        Err(e) => {
            let _ = std::fs::remove_file(part);
            Err(match e {
                LocalError::NotAModel { reason, .. } => LocalError::NotAModel {
                    path: target.to_path_buf(),
                    reason,
                },
                other => other,
            })
        }
    }
}

/// Free space kept beyond a download: the disk the user works on is not
/// filled to its last byte by a model.
pub const SPACE_MARGIN: u64 = 256 * 1024 * 1024;

/// Refuses a download of `need` more bytes into `folder` when its disk has
/// less free (plus [`SPACE_MARGIN`]): said before a byte is fetched rather
/// than found with the disk full midway.
pub fn check_space(folder: &Path, need: u64) -> Result<(), LocalError> {
    let free = fs2::available_space(folder).map_err(|e| LocalError::io(folder, &e))?;
    if free < need.saturating_add(SPACE_MARGIN) {
        return Err(LocalError::NoSpace {
            path: folder.to_path_buf(),
            need: need.saturating_add(SPACE_MARGIN),
            free,
        });
    }
    Ok(())
}

fn converting(p: requant::Progress) -> TransferProgress {
    TransferProgress {
        done: p.done,
        total: Some(p.total),
        converting: true,
    }
}

/// `START` of a `Content-Range: bytes START-END/TOTAL` header.
fn content_range_start(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let value = headers.get(reqwest::header::CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes ")?;
    range.split(['-', '/']).next()?.trim().parse().ok()
}

/// The last path segment of a URL, without its query.
fn file_name_of(url: &str) -> Result<String, LocalError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| LocalError::Download(format!("`{url}` is not a URL: {e}")))?;
    parsed
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .ok_or_else(|| LocalError::Download(format!("`{url}` names no file; pass a file name")))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        if bytes[i] == b'%'
            && let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
