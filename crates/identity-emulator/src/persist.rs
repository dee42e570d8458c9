//! The state file: read once at start, rewritten after every change.
//!
//! A write goes to a temporary file in the same directory, is flushed to disk
//! (`fsync`), renamed over the state file, and the directory is flushed, so a
//! crash at any moment leaves either the old or the new state, never a torn
//! file. The temporary file is created new under a random name
//! (`.<state file name>.<random>.tmp`, with `O_CREAT | O_EXCL`, which never
//! follows a link planted there) and with mode 0600 on Unix, so the state
//! file, which it becomes, is readable by its owner only.
//!
//! Writes are serialised and versioned: each change takes a snapshot with a
//! rising version under the state lock, and a writer that finds a newer
//! snapshot already on disk has nothing to do (that snapshot holds its
//! change). A change is answered only once a snapshot holding it is on disk.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::de::DeserializeOwned;

use crate::EmulatorError;

/// Reads the state file: `Ok(None)` when it does not exist yet, an error
/// naming the file when it cannot be read or parsed (never an empty start).
pub(crate) fn load<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, EmulatorError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(EmulatorError::StateFile {
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| EmulatorError::CorruptStateFile {
            path: path.to_owned(),
            message: error.to_string(),
        })
}

/// Writes snapshots of the state to its file, one at a time, newest wins.
#[derive(Clone, Debug)]
pub(crate) struct Persister {
    path: Arc<PathBuf>,
    /// Version of the newest snapshot on disk; the lock serialises writers.
    written: Arc<Mutex<u64>>,
}

impl Persister {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path: Arc::new(path),
            written: Arc::new(Mutex::new(0)),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Puts the snapshot `bytes` of version `version` on disk, unless a newer
    /// one is there already. Blocking: call it from `spawn_blocking` in async
    /// code.
    pub(crate) fn write(&self, version: u64, bytes: &[u8]) -> io::Result<()> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        if *written >= version {
            return Ok(());
        }
        write_atomically(&self.path, bytes)?;
        *written = version;
        Ok(())
    }

    /// Writes the state a new file starts with (before any change), so that
    /// an unwritable location fails the start rather than the first change.
    pub(crate) fn create(&self, bytes: &[u8]) -> io::Result<()> {
        let _serialised = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        write_atomically(&self.path, bytes)
    }

    /// [`Persister::write`] on the blocking pool.
    pub(crate) async fn write_async(&self, version: u64, bytes: Vec<u8>) -> io::Result<()> {
        let persister = self.clone();
        tokio::task::spawn_blocking(move || persister.write(version, &bytes))
            .await
            .unwrap_or_else(|join| Err(io::Error::other(join)))
    }
}

/// Replaces `path` by a file holding `bytes`, atomically and durably.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map_or_else(
        || "state".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    );
    // Created new (never opened through an existing entry) with mode 0600;
    // removed when dropped, that is on any error before the rename.
    let mut file = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&directory)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    sync_directory(&directory)
}

/// Flushes a directory entry change (the rename) to disk where the platform
/// allows opening a directory; elsewhere the rename is as durable as it gets.
fn sync_directory(directory: &Path) -> io::Result<()> {
    match File::open(directory) {
        Ok(handle) => match handle.sync_all() {
            Err(error) if cfg!(windows) => {
                tracing::debug!(%error, "cannot sync the state file's directory");
                Ok(())
            }
            other => other,
        },
        Err(error) if cfg!(windows) => {
            tracing::debug!(%error, "cannot open the state file's directory");
            Ok(())
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_the_file_and_older_versions_are_skipped() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let persister = Persister::new(path.clone());
        persister.write(2, b"[2]").unwrap();
        persister.write(1, b"[1]").unwrap();
        assert_eq!(load::<Vec<u32>>(&path).unwrap(), Some(vec![2]));
        persister.write(3, b"[3]").unwrap();
        assert_eq!(load::<Vec<u32>>(&path).unwrap(), Some(vec![3]));
        let leftovers: Vec<_> = fs::read_dir(directory.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_missing_file_is_an_empty_start_and_a_corrupt_one_an_error() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        assert_eq!(load::<Vec<u32>>(&path).unwrap(), None);
        fs::write(&path, b"{not json").unwrap();
        let error = load::<Vec<u32>>(&path).unwrap_err();
        assert!(matches!(error, EmulatorError::CorruptStateFile { .. }));
        assert!(error.to_string().contains("state.json"), "{error}");
    }
}
