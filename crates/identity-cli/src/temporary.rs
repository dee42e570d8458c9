//! The temporary file of `users export --output FILE` (and of `users sync
//! --out PLAN`): written beside FILE and renamed over it when complete, so
//! that FILE is always either the old file or the whole new one.
//!
//! It is `.FILE.fbn-identity-KIND.PID.tmp` (KIND: `export`, `plan`): created new (`O_EXCL`, never
//! an existing file, never through a link), mode 0600 on unix, and removed
//! when dropped unless persisted (a signal the export listens for ends it
//! that way). A process killed outright (SIGKILL, a crash) leaves it; its
//! name says whose it was, so the next export to the same FILE removes it
//! once that process is gone ([`remove_stale_temporaries`]), and never the
//! file of an export still running.

use std::ffi::OsString;
use std::io;
use std::path::Path;

/// The directory of `path` (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The start of the temporary files of `kind` (`export`, `plan`) to
/// `path`: `.NAME.fbn-identity-KIND.` (the process id and `.tmp` follow).
fn temporary_prefix(path: &Path, kind: &str) -> OsString {
    let mut prefix = OsString::from(".");
    prefix.push(path.file_name().unwrap_or_default());
    prefix.push(format!(".fbn-identity-{kind}."));
    prefix
}

/// A new temporary file of `kind` for `path`, in its directory:
/// `.NAME.fbn-identity-KIND.PID.tmp`, created new (never an existing
/// file, never through a link), mode 0600 on unix; removed when dropped
/// unless persisted.
pub(crate) fn temporary_file_for(path: &Path, kind: &str) -> io::Result<tempfile::NamedTempFile> {
    let mut prefix = temporary_prefix(path, kind);
    prefix.push(std::process::id().to_string());
    tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .rand_bytes(0)
        .tempfile_in(directory_of(path))
}

/// Removes the temporary files of `kind` that commands writing `path` left
/// when they were killed: those whose process is gone (or is this one: a
/// process of the same id that came before). A temporary file of a command
/// still running is left alone. Best effort: what cannot be removed stays.
pub(crate) fn remove_stale_temporaries(path: &Path, kind: &str) {
    let prefix = temporary_prefix(path, kind);
    let Some(prefix) = prefix.to_str() else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(directory_of(path)) else {
        return;
    };
    let own = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|name| name.strip_prefix(prefix))
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && (pid == own || !process_is_running(pid))
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id is running (unix: signal 0 reaches it,
/// or exists but is another user's). Elsewhere, assumed so: a stale file
/// is left rather than one in use removed.
fn process_is_running(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Some(pid) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        match rustix::process::test_kill_process(pid) {
            Ok(()) => true,
            Err(error) => error != rustix::io::Errno::SRCH,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temporary_file_is_beside_the_target_named_after_it_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("users.csv");
        let temporary = temporary_file_for(&target, "export").unwrap();
        assert_eq!(temporary.path().parent(), Some(dir.path()));
        assert_eq!(
            temporary.path().file_name().unwrap().to_str().unwrap(),
            format!(".users.csv.fbn-identity-export.{}.tmp", std::process::id())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = temporary.as_file().metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn only_processes_that_exist_are_running() {
        assert!(process_is_running(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!process_is_running(pid));
    }
}
