//! The rules that keep the CLI from destroying a user's file: every path it
//! writes to (`users import --report`, `users export --output`) goes through
//! [`check_target`] first.
//!
//! - A path that is the command's input, however it is named (another
//!   path, a hard link, stdin redirected from it), is refused: on unix two
//!   names are the same file when their device and inode are, elsewhere
//!   when their canonical paths are.
//! - A symbolic link at the final path is refused, whatever it points at:
//!   writing through it would change a file the user did not name.
//!
//! How each writer then opens its file so that it cannot truncate someone
//! else's is its own business (the import's report appends, the export
//! renames a temporary file of its own over the target); both are refused
//! with [`CliError::UnsafePath`] and exit code 8.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

use crate::errors::CliError;

/// A file's identity: the same for every name of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FileId {
    /// Its device and inode (unix).
    #[cfg(unix)]
    Inode {
        /// The device.
        device: u64,
        /// The inode on it.
        inode: u64,
    },
    /// Its canonical path (where there are no inodes to compare).
    #[cfg_attr(unix, allow(dead_code))]
    Canonical(PathBuf),
}

impl FileId {
    /// The identity of the file at `path` (links followed), or `None` when
    /// there is none.
    pub(crate) fn of_path(path: &Path) -> io::Result<Option<Self>> {
        match std::fs::metadata(path) {
            Ok(metadata) => Self::of(path, &metadata).map(Some),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The identity of the file stdin reads (a file it was redirected
    /// from), where it can be known.
    pub(crate) fn of_stdin() -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            let stdin = io::stdin();
            let file = std::fs::File::from(stdin.as_fd().try_clone_to_owned().ok()?);
            let metadata = file.metadata().ok()?;
            Self::of(Path::new("-"), &metadata).ok()
        }
        #[cfg(not(unix))]
        {
            None
        }
    }

    /// The identity of an open file, to check that it is the one a path
    /// named a moment before.
    #[cfg(unix)]
    pub(crate) fn of_open(file: &std::fs::File) -> io::Result<Self> {
        Self::of(Path::new(""), &file.metadata()?)
    }

    fn of(path: &Path, metadata: &Metadata) -> io::Result<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let _ = path;
            Ok(Self::Inode {
                device: metadata.dev(),
                inode: metadata.ino(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = metadata;
            std::fs::canonicalize(path).map(Self::Canonical)
        }
    }
}

/// The input of a command, as far as its identity can be known: the path
/// given (`-`: stdin) and its file's identity.
#[derive(Clone, Debug)]
pub(crate) struct Input {
    /// As given on the command line.
    pub(crate) path: PathBuf,
    /// The file's identity, when it has one (stdin from a pipe has none).
    pub(crate) id: Option<FileId>,
}

impl Input {
    /// The input at `path` (`-`: stdin).
    pub(crate) fn new(path: &Path) -> Self {
        let id = if is_stdin(path) {
            FileId::of_stdin()
        } else {
            FileId::of_path(path).ok().flatten()
        };
        Self {
            path: path.to_path_buf(),
            id,
        }
    }

    /// The input at `path`, opened as `file`: its identity is the file's
    /// read, whatever the path names since.
    pub(crate) fn of_open(path: &Path, file: &std::fs::File) -> Self {
        #[cfg(unix)]
        let id = FileId::of_open(file).ok();
        #[cfg(not(unix))]
        let id = {
            let _ = file;
            FileId::of_path(path).ok().flatten()
        };
        Self {
            path: path.to_path_buf(),
            id,
        }
    }

    /// How a report names this input: its canonical path, or `-` for stdin.
    pub(crate) fn name(&self) -> String {
        if is_stdin(&self.path) {
            return "-".to_owned();
        }
        std::fs::canonicalize(&self.path)
            .unwrap_or_else(|_| self.path.clone())
            .display()
            .to_string()
    }
}

/// Whether `path` means stdin.
pub(crate) fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Whether `a` and `b` name one file: the same file when both exist (under
/// any names), else the same path once made absolute.
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (FileId::of_path(a), FileId::of_path(b)) {
        (Ok(Some(a)), Ok(Some(b))) => a == b,
        _ => matches!(
            (std::path::absolute(a), std::path::absolute(b)),
            (Ok(a), Ok(b)) if a == b
        ),
    }
}

/// Refuses `path` as a file to write (`what`, e.g. "the report") when it
/// is a symbolic link, or the same file as `input`.
pub(crate) fn check_target(path: &Path, input: Option<&Input>, what: &str) -> Result<(), CliError> {
    let refused = |reason: String| CliError::UnsafePath {
        path: path.display().to_string(),
        reason,
    };
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            return Err(refused(format!(
                "{what} is a symbolic link; name the file itself, or a new one"
            )));
        }
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(CliError::Write {
                what: path.display().to_string(),
                source,
            });
        }
    }
    let input_id = input.and_then(|input| input.id.as_ref());
    if let Some(input_id) = input_id
        && FileId::of_path(path).ok().flatten().as_ref() == Some(input_id)
    {
        let input = input.map_or_else(String::new, |input| input.path.display().to_string());
        return Err(refused(format!(
            "{what} would be the input ({input}) itself; name another file"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_names_of_one_file_are_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.jsonl");
        std::fs::write(&path, "x\n").unwrap();
        let other_name = dir.path().join(".").join("users.jsonl");
        let input = Input::new(&path);
        assert!(input.id.is_some());
        assert!(matches!(
            check_target(&other_name, Some(&input), "the report"),
            Err(CliError::UnsafePath { .. })
        ));
        #[cfg(unix)]
        {
            let linked = dir.path().join("hard-link.jsonl");
            std::fs::hard_link(&path, &linked).unwrap();
            assert!(check_target(&linked, Some(&input), "the report").is_err());
        }
        let elsewhere = dir.path().join("report.jsonl");
        assert!(check_target(&elsewhere, Some(&input), "the report").is_ok());
        std::fs::write(&elsewhere, "").unwrap();
        assert!(check_target(&elsewhere, Some(&input), "the report").is_ok());
        assert_eq!(Input::new(Path::new("-")).name(), "-");
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_refused_even_to_a_new_file() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("report.jsonl");
        std::os::unix::fs::symlink(dir.path().join("nothing-yet"), &link).unwrap();
        let error = check_target(&link, None, "the report").unwrap_err();
        assert!(
            error.report().contains("symbolic link"),
            "{}",
            error.report()
        );
    }
}
