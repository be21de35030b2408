//! Files written safely, in one place for every crate.
//!
//! Every file the app writes where a person looks (settings, catalogue,
//! transcripts, exports, downloads) goes through a [`TempFile`]: created
//! with `O_CREAT | O_EXCL` (`create_new`) under an unpredictable name in the
//! target's own folder, filled, synced, then renamed onto the target. So:
//!
//! - a crash or a full disk never leaves half a file under the real name;
//! - a name planted in advance (a symlink to `~/.bashrc` under the name the
//!   temporary file will take) makes creation fail instead of being followed:
//!   `O_EXCL` refuses to open an existing path, symlinks included;
//! - [`TempFile::commit_new`] never replaces a file someone else wrote: it
//!   links the finished file under the target name, which fails when that
//!   name exists, then drops the temporary name.
//!
//! A temporary file not committed is removed when dropped.

use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Tries at creating a temporary name before giving up: a clash means
/// someone is planting names, and 16 random ones will not all be taken.
const ATTEMPTS: u32 = 16;

/// A file being written beside its target, under a hidden random name.
#[derive(Debug)]
pub struct TempFile {
    file: Option<File>,
    path: PathBuf,
}

impl TempFile {
    /// Creates a new, empty temporary file in `target`'s folder.
    pub fn beside(target: &Path) -> io::Result<TempFile> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let stem = target
            .file_name()
            .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
        let mut last = io::Error::other("no attempt made");
        for _ in 0..ATTEMPTS {
            let path = dir.join(format!(".{stem}.{:016x}.part", random()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    return Ok(TempFile {
                        file: Some(file),
                        path,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// The open file, to write into.
    pub fn file(&mut self) -> &mut File {
        self.file
            .as_mut()
            .expect("a TempFile's file is present until commit")
    }

    /// Where the temporary file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs the file and renames it onto `target`, replacing what is there.
    pub fn commit(mut self, target: &Path) -> io::Result<()> {
        self.sync()?;
        std::fs::rename(&self.path, target)?;
        self.path = PathBuf::new();
        Ok(())
    }

    /// Syncs the file and puts it at `target` only if nothing is there:
    /// `AlreadyExists` otherwise, and the temporary file is removed.
    pub fn commit_new(mut self, target: &Path) -> io::Result<()> {
        self.sync()?;
        match std::fs::hard_link(&self.path, target) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
            // A file system without hard links (FAT on a USB stick): check,
            // then rename; the window between the two is the only race left.
            Err(_) if std::fs::symlink_metadata(target).is_err() => {
                std::fs::rename(&self.path, target)?;
                self.path = PathBuf::new();
                Ok(())
            }
            Err(_) => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists", target.display()),
            )),
        }
        // Drop removes the temporary name (a hard link's second name).
    }

    fn sync(&mut self) -> io::Result<()> {
        let file = self.file.take().expect("a TempFile is committed once");
        let mut file = file;
        file.flush()?;
        file.sync_all()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            drop(self.file.take());
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes `bytes` to `target` whole or not at all, replacing what is there.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = TempFile::beside(target)?;
    tmp.file().write_all(bytes)?;
    tmp.commit(target)
}

/// Writes `bytes` to `target` whole or not at all, only if `target` does
/// not exist (`AlreadyExists` if it does).
pub fn write_new(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = TempFile::beside(target)?;
    tmp.file().write_all(bytes)?;
    tmp.commit_new(target)
}

/// 64 unpredictable bits: std's randomly keyed hasher over a counter and
/// the time (no dependency for a temporary file's name).
fn random() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn write_atomic_replaces_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        std::fs::write(&p, "old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(names(dir.path()), ["a.txt"]);
    }

    #[test]
    fn write_new_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mine.txt");
        std::fs::write(&p, "the user's").unwrap();
        let e = write_new(&p, b"ours").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "the user's");
        assert_eq!(names(dir.path()), ["mine.txt"]);
        let q = dir.path().join("fresh.txt");
        write_new(&q, b"ours").unwrap();
        assert_eq!(std::fs::read_to_string(&q).unwrap(), "ours");
        assert_eq!(names(dir.path()), ["fresh.txt", "mine.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let target = dir.path().join("out.txt");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        // write_new refuses: a symlink is a name that exists.
        assert!(write_new(&target, b"x").is_err());
        // write_atomic replaces the link itself, never writes through it.
        write_atomic(&target, b"x").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&target).unwrap().is_symlink());
    }

    #[test]
    fn a_dropped_temporary_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x.csv");
        let mut t = TempFile::beside(&target).unwrap();
        t.file().write_all(b"half").unwrap();
        let tmp = t.path().to_owned();
        assert!(tmp.exists());
        drop(t);
        assert!(!tmp.exists());
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn temporary_names_do_not_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x");
        let a = TempFile::beside(&target).unwrap();
        let b = TempFile::beside(&target).unwrap();
        assert_ne!(a.path(), b.path());
    }
}
