//! The state file: a snapshot of the directory, and a journal of the
//! changes made since, so that a change costs one short append whatever the
//! size of the domain.
//!
//! # Files
//!
//! - `PATH` (`--state-file`) is the **snapshot**: one JSON document,
//!   `{"format":"identity-emulator/1","journalSeq":S,"users":[...],"schema":[...],"roles":[...]}`,
//!   users in creation order. `journalSeq` is the number of the latest
//!   change it holds. A file written before the journal existed has none
//!   (0) and loads as it is.
//! - `PATH.journal` is the **journal**: JSON Lines, one line per change,
//!   `{"seq":N,"effects":[{"op":"putUser","user":{...}}, ...]}`, numbered on
//!   from the snapshot's `journalSeq`. An effect is what the change did (a
//!   user as it now is, a user removed, a role named, the schema, a reset),
//!   not the request, so replaying it makes no new ids or timestamps.
//!
//! # Acknowledged means on disk
//!
//! A change is applied in memory and its line written to the journal under
//! the directory's lock (so lines are in the order the changes were made),
//! then the journal is flushed to disk (`fdatasync`) and only then is the
//! change answered. Flushes are shared: one flush covers every line written
//! before it, so concurrent changes wait for one flush, not one each. A
//! process killed at any moment leaves every acknowledged line on disk; a
//! line cut short by the kill (never acknowledged) is ignored on the next
//! start. A line that cannot be written or flushed answers 500, the change
//! stays in memory, and the next change writes a whole snapshot instead of
//! a line, so it reaches the disk then.
//!
//! # Compaction
//!
//! The journal is folded into a new snapshot at start (when it holds any
//! change, or after `--seed-users` added users), at graceful shutdown, and
//! when it has grown larger than the snapshot (and than 1 MiB). A snapshot
//! is written to a temporary file, flushed, renamed over `PATH`, and the
//! directory flushed; then an empty journal replaces the old one the same
//! way. A crash between the two leaves the new snapshot and the old journal,
//! whose lines the snapshot already holds (their numbers are at most its
//! `journalSeq`) and are skipped. Because a compaction happens only once
//! the journal has grown by the size of a snapshot, its cost spread over the
//! changes that grew it stays constant per change. It runs under the
//! directory's lock: requests wait for it (a second or two at a million
//! users, once every several hundred thousand changes).
//!
//! # Why a journal of JSON Lines
//!
//! An embedded database (SQLite, redb) would bring a C build or a binary
//! format, and its own files and locking, to a tool whose state people read
//! and edit by hand and whose tests kill it mid-write. JSON Lines keeps the
//! state file as it was (a readable snapshot), adds a file that `tail -f`
//! shows, needs no dependency beyond `serde_json`, and makes "acknowledged
//! means on disk" one append and one `fdatasync`.
//!
//! # Safety
//!
//! Every file is created new under a random name
//! (`.<state file name>.<random>.tmp`, with `O_CREAT | O_EXCL`, which never
//! follows a link planted there) with mode 0600 on Unix, then renamed into
//! place. The journal is written only through the handle of the file so
//! created, never opened for writing by its name.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use crate::EmulatorError;
use crate::state::{Directory, Effect};

/// A journal smaller than this is never compacted during a run.
const MIN_COMPACTION_BYTES: u64 = 1 << 20;

/// One line of the journal.
#[derive(Serialize, Deserialize)]
struct JournalLine {
    seq: u64,
    effects: Vec<Effect>,
}

/// The journal's path beside the snapshot's: `PATH.journal`.
pub(crate) fn journal_path(snapshot: &Path) -> PathBuf {
    let mut name = snapshot.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The journal being written, and what is known to be on disk.
#[derive(Debug)]
pub(crate) struct Journal {
    snapshot_path: PathBuf,
    journal_path: PathBuf,
    /// The journal file, replaced by each compaction.
    file: Mutex<Arc<File>>,
    /// The sequence number of the newest line written.
    written: AtomicU64,
    /// The sequence number through which every change is on disk.
    synced: Mutex<u64>,
    /// A write or flush failed: the next change writes a whole snapshot.
    broken: AtomicBool,
    /// Bytes written to the journal since the last compaction.
    journal_bytes: AtomicU64,
    /// Size of the latest snapshot.
    snapshot_bytes: AtomicU64,
}

impl Journal {
    /// Reads the snapshot at `path` and replays its journal (a missing
    /// snapshot is an empty start), adds `seed_users` seeded users, then
    /// compacts if anything was replayed or added (or there was no snapshot)
    /// and opens a new, empty journal. The directory comes back recording
    /// its effects.
    pub(crate) fn open(path: PathBuf, seed_users: u64) -> Result<(Directory, Self), EmulatorError> {
        let journal_path = journal_path(&path);
        let (mut directory, existed) = match read(&path)? {
            Some(bytes) => (parse_snapshot(&path, &bytes)?, true),
            None => (Directory::default(), false),
        };
        let replayed = match read(&journal_path)? {
            Some(bytes) => replay(&journal_path, &bytes, &mut directory)?,
            None => 0,
        };
        let seeded = directory.seed(seed_users);
        let state_error = |path: &Path| {
            let path = path.to_owned();
            move |source| EmulatorError::StateFile { path, source }
        };
        // What was replayed or added goes into a new snapshot before the
        // journal that held it is replaced.
        let snapshot_bytes = if !existed || replayed > 0 || seeded > 0 {
            let bytes = serde_json::to_vec(&directory)
                .map_err(io::Error::other)
                .map_err(state_error(&path))?;
            write_atomically(&path, &bytes).map_err(state_error(&path))?;
            if replayed > 0 || seeded > 0 {
                tracing::info!(
                    replayed,
                    seeded,
                    users = directory.len(),
                    "state file compacted at start"
                );
            }
            bytes.len() as u64
        } else {
            fs::metadata(&path).map_or(0, |metadata| metadata.len())
        };
        let file = new_journal_file(&journal_path).map_err(state_error(&journal_path))?;
        let journal = Self {
            file: Mutex::new(Arc::new(file)),
            snapshot_path: path,
            journal_path,
            written: AtomicU64::new(directory.seq),
            synced: Mutex::new(directory.seq),
            broken: AtomicBool::new(false),
            journal_bytes: AtomicU64::new(0),
            snapshot_bytes: AtomicU64::new(snapshot_bytes),
        };
        directory.record_effects(true);
        Ok((directory, journal))
    }

    /// The snapshot's path (the state file).
    pub(crate) fn path(&self) -> &Path {
        &self.snapshot_path
    }

    /// The journal's path.
    #[cfg(test)]
    pub(crate) fn journal_path(&self) -> &Path {
        &self.journal_path
    }

    /// Puts a change on its way to disk, under the directory's lock (the
    /// caller's `&mut`): its line is written to the journal (not yet
    /// flushed), or, when the journal is due for compaction or a write
    /// failed before, a whole snapshot is written. Answers the sequence
    /// number to pass to [`Journal::sync_through`].
    pub(crate) fn append(
        &self,
        directory: &mut Directory,
        effects: Vec<Effect>,
    ) -> io::Result<u64> {
        if self.broken.load(Ordering::Acquire) || self.due_for_compaction() {
            self.compact(directory)?;
            return Ok(directory.seq);
        }
        let seq = directory.seq + 1;
        let mut line =
            serde_json::to_vec(&JournalLine { seq, effects }).map_err(io::Error::other)?;
        line.push(b'\n');
        let file = lock(&self.file).clone();
        if let Err(error) = (&*file).write_all(&line) {
            self.broken.store(true, Ordering::Release);
            return Err(error);
        }
        directory.seq = seq;
        self.written.store(seq, Ordering::Release);
        self.journal_bytes
            .fetch_add(line.len() as u64, Ordering::Relaxed);
        Ok(seq)
    }

    fn due_for_compaction(&self) -> bool {
        let journal = self.journal_bytes.load(Ordering::Relaxed);
        journal > MIN_COMPACTION_BYTES && journal > self.snapshot_bytes.load(Ordering::Relaxed)
    }

    /// Returns once every line up to `seq` is on disk, flushing the journal
    /// if no flush since covered it (one flush serves every line written
    /// before it). Blocking.
    pub(crate) fn sync_through(&self, seq: u64) -> io::Result<()> {
        let mut synced = lock(&self.synced);
        if *synced >= seq {
            return Ok(());
        }
        let target = self.written.load(Ordering::Acquire);
        let file = lock(&self.file).clone();
        if let Err(error) = file.sync_data() {
            self.broken.store(true, Ordering::Release);
            return Err(error);
        }
        *synced = target.max(*synced);
        Ok(())
    }

    /// [`Journal::sync_through`] on the blocking pool.
    pub(crate) async fn sync_through_async(self: &Arc<Self>, seq: u64) -> io::Result<()> {
        if *lock(&self.synced) >= seq {
            return Ok(());
        }
        let journal = self.clone();
        tokio::task::spawn_blocking(move || journal.sync_through(seq))
            .await
            .unwrap_or_else(|join| Err(io::Error::other(join)))
    }

    /// Whether the journal holds any change the snapshot does not.
    pub(crate) fn has_changes(&self) -> bool {
        self.journal_bytes.load(Ordering::Relaxed) > 0 || self.broken.load(Ordering::Acquire)
    }

    /// Writes `directory` as the new snapshot and starts an empty journal,
    /// under the directory's lock (the caller's borrow).
    pub(crate) fn compact(&self, directory: &Directory) -> io::Result<()> {
        self.broken.store(true, Ordering::Release);
        let bytes = serde_json::to_vec(directory).map_err(io::Error::other)?;
        write_atomically(&self.snapshot_path, &bytes)?;
        let file = new_journal_file(&self.journal_path)?;
        *lock(&self.file) = Arc::new(file);
        self.written.store(directory.seq, Ordering::Release);
        self.journal_bytes.store(0, Ordering::Relaxed);
        self.snapshot_bytes
            .store(bytes.len() as u64, Ordering::Relaxed);
        {
            let mut synced = lock(&self.synced);
            *synced = directory.seq.max(*synced);
        }
        self.broken.store(false, Ordering::Release);
        Ok(())
    }
}

/// The bytes of `path`, `None` when it does not exist.
fn read(path: &Path) -> Result<Option<Vec<u8>>, EmulatorError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(EmulatorError::StateFile {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The snapshot, or an error naming the file (never an empty start).
fn parse_snapshot(path: &Path, bytes: &[u8]) -> Result<Directory, EmulatorError> {
    serde_json::from_slice(bytes).map_err(|error| EmulatorError::CorruptStateFile {
        path: path.to_owned(),
        message: error.to_string(),
    })
}

/// Applies the journal's lines newer than the directory's `seq`, in order;
/// answers how many. A last line without its newline (cut short by a crash,
/// so never acknowledged) is ignored; any other unreadable line, or a gap in
/// the numbers, is an error naming the journal and the line.
fn replay(path: &Path, bytes: &[u8], directory: &mut Directory) -> Result<u64, EmulatorError> {
    let corrupt = |number: usize, message: String| EmulatorError::CorruptStateFile {
        path: path.to_owned(),
        message: format!("line {number}: {message}"),
    };
    let mut replayed = 0;
    for (index, line) in bytes.split_inclusive(|byte| *byte == b'\n').enumerate() {
        let number = index + 1;
        let Some(line) = line.strip_suffix(b"\n") else {
            tracing::warn!(
                path = %path.display(),
                line = number,
                "ignoring the journal's last line, cut short (never acknowledged)"
            );
            break;
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let entry: JournalLine =
            serde_json::from_slice(line).map_err(|error| corrupt(number, error.to_string()))?;
        if entry.seq <= directory.seq {
            continue;
        }
        if entry.seq != directory.seq + 1 {
            return Err(corrupt(
                number,
                format!(
                    "change {} follows change {}: the changes between are missing",
                    entry.seq, directory.seq
                ),
            ));
        }
        for effect in entry.effects {
            directory.apply_effect(effect);
        }
        directory.seq = entry.seq;
        replayed += 1;
    }
    Ok(replayed)
}

/// A temporary file beside `path`: created new under a random name (never
/// through an existing entry) with mode 0600, removed when dropped.
fn temporary_beside(path: &Path) -> io::Result<(tempfile::NamedTempFile, PathBuf)> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map_or_else(
        || "state".to_owned(),
        |name| name.to_string_lossy().into_owned(),
    );
    let file = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&directory)?;
    Ok((file, directory))
}

/// Replaces `path` by a file holding `bytes`, atomically and durably.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (mut file, directory) = temporary_beside(path)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    sync_directory(&directory)
}

/// Replaces `path` by a new, empty journal, durably, and answers its handle
/// (open for writing at its end).
fn new_journal_file(path: &Path) -> io::Result<File> {
    let (file, directory) = temporary_beside(path)?;
    file.as_file().sync_all()?;
    let file = file.persist(path).map_err(|error| error.error)?;
    sync_directory(&directory)?;
    Ok(file)
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
    use identity_models::CreateUserRequest;

    fn create(directory: &mut Directory, login: &str) -> Vec<Effect> {
        directory
            .create(CreateUserRequest::personal("Ada", "Lovelace", login))
            .unwrap();
        directory.take_effects()
    }

    fn lines(path: &Path) -> Vec<serde_json::Value> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn a_change_is_in_the_journal_before_it_is_synced_and_a_restart_replays_it() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let (mut state, journal) = Journal::open(path.clone(), 0).unwrap();
        let snapshot = fs::read(&path).unwrap();
        for n in 0..3 {
            let effects = create(&mut state, &format!("user{n}@example.com"));
            let seq = journal.append(&mut state, effects).unwrap();
            assert_eq!(seq, n + 1);
            journal.sync_through(seq).unwrap();
            let written = lines(journal.journal_path());
            assert_eq!(written.len() as u64, n + 1, "one line per change");
            assert_eq!(written[n as usize]["seq"], n + 1);
            assert_eq!(written[n as usize]["effects"][0]["op"], "putUser");
        }
        assert_eq!(
            fs::read(&path).unwrap(),
            snapshot,
            "the snapshot is not rewritten"
        );
        drop(journal);

        let (again, journal) = Journal::open(path.clone(), 0).unwrap();
        assert_eq!(again, state);
        assert_eq!(again.seq, 3);
        // The start folded the journal into the snapshot.
        assert!(lines(journal.journal_path()).is_empty());
        let snapshot: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(snapshot["journalSeq"], 3);
        assert_eq!(snapshot["users"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn compaction_keeps_everything_and_old_lines_are_skipped() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let (mut state, journal) = Journal::open(path.clone(), 0).unwrap();
        for n in 0..4 {
            let effects = create(&mut state, &format!("user{n}@example.com"));
            journal.append(&mut state, effects).unwrap();
        }
        let old_journal = fs::read(journal.journal_path()).unwrap();
        journal.compact(&state).unwrap();
        assert!(!journal.has_changes());
        assert!(lines(journal.journal_path()).is_empty());
        let effects = create(&mut state, "late@example.com");
        let seq = journal.append(&mut state, effects).unwrap();
        assert_eq!(seq, 5);
        journal.sync_through(seq).unwrap();
        drop(journal);
        // As a crash between the snapshot and the new journal would leave it:
        // the old journal's lines are in the snapshot already.
        let mut both = old_journal;
        both.extend(fs::read(journal_path(&path)).unwrap());
        fs::write(journal_path(&path), both).unwrap();
        let (again, _journal) = Journal::open(path, 0).unwrap();
        assert_eq!(again, state);
        assert_eq!(again.len(), 5);
    }

    #[test]
    fn a_cut_last_line_is_ignored_and_a_gap_or_a_bad_line_is_an_error() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let (mut state, journal) = Journal::open(path.clone(), 0).unwrap();
        let effects = create(&mut state, "ada@example.com");
        journal.append(&mut state, effects).unwrap();
        drop(journal);
        let good = fs::read(journal_path(&path)).unwrap();

        let mut cut = good.clone();
        cut.extend_from_slice(br#"{"seq":2,"effects":[{"op":"putUs"#);
        fs::write(journal_path(&path), &cut).unwrap();
        let (again, journal) = Journal::open(path.clone(), 0).unwrap();
        assert_eq!(again.len(), 1);
        drop(journal);

        // The start compacted: write a journal with a gap after the snapshot.
        let gap = br#"{"seq":3,"effects":[{"op":"clear"}]}"#.to_vec();
        for (content, expected) in [
            ([gap, b"\n".to_vec()].concat(), "missing"),
            (b"{not json\n{\"seq\":9}\n".to_vec(), "line 1"),
        ] {
            fs::write(journal_path(&path), &content).unwrap();
            let error = Journal::open(path.clone(), 0).unwrap_err();
            assert!(
                matches!(error, EmulatorError::CorruptStateFile { .. }),
                "{error:?}"
            );
            let message = error.to_string();
            assert!(
                message.contains("state.json.journal") && message.contains(expected),
                "{message}"
            );
            assert_eq!(
                fs::read(journal_path(&path)).unwrap(),
                content,
                "left as it was"
            );
        }
    }

    #[test]
    fn seeding_writes_one_snapshot_and_a_second_start_adds_nothing() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let (state, journal) = Journal::open(path.clone(), 500).unwrap();
        assert_eq!(state.len(), 500);
        assert!(!journal.has_changes());
        drop(journal);
        let snapshot = fs::read(&path).unwrap();
        let (again, _journal) = Journal::open(path.clone(), 500).unwrap();
        assert_eq!(again, state);
        assert_eq!(fs::read(&path).unwrap(), snapshot, "not rewritten");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_write_is_reported_and_the_next_change_writes_a_snapshot() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let (mut state, journal) = Journal::open(path.clone(), 0).unwrap();
        let healthy = lock(&journal.file).clone();
        // Every write to /dev/full fails with ENOSPC, as on a full disk.
        *lock(&journal.file) = Arc::new(
            fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        );
        let effects = create(&mut state, "ada@example.com");
        assert!(journal.append(&mut state, effects).is_err());
        assert!(journal.has_changes());
        *lock(&journal.file) = healthy;
        let effects = create(&mut state, "bob@example.com");
        let seq = journal.append(&mut state, effects).unwrap();
        journal.sync_through(seq).unwrap();
        drop(journal);
        let (again, _journal) = Journal::open(path, 0).unwrap();
        assert_eq!(again.len(), 2, "both changes reached the disk");
    }

    #[cfg(unix)]
    #[test]
    fn the_files_are_private() {
        use std::os::unix::fs::PermissionsExt;

        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("state.json");
        let (_state, _journal) = Journal::open(path.clone(), 0).unwrap();
        for file in [&path, &journal_path(&path)] {
            let mode = fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
    }
}
