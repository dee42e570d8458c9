//! The `--report FILE` of the bulk commands (`users import`, `users
//! sync`): one JSON line per outcome, appended and flushed as soon as it is
//! known, so that a crash leaves a report that tells how far the command
//! got, and that a re-run resumes from.
//!
//! The file is never truncated, and is written only when it is ours:
//!
//! - a new file (created with `O_CREAT | O_EXCL`, mode 0600 on unix, which
//!   never follows a link planted at the path), or an empty one, gets a
//!   header line first: `{"report":"fbn-identity users import","format":1,
//!   "input":"/abs/users.jsonl"}` (`"-"` for stdin);
//! - an existing file is opened to append only when its first line is such
//!   a header naming the same input: the report of an earlier run of this
//!   import, which this run resumes. Anything else (a file that is not a
//!   report, the report of another input) is refused, untouched.
//!
//! Before that, [`check_target`] refuses a path that is the input itself or
//! a symbolic link.
//!
//! Resuming: the lines of the existing report are read one at a time (each
//! bounded, like the input's) into the command's [`Resume`]: what an
//! earlier run finished, which the command does not send again.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::errors::CliError;
use crate::escape::write_json;
use crate::files::{Input, check_target};
use crate::lines::{Line, read_line};

/// The header's format number.
const FORMAT: u32 = 1;

/// The longest line of a report read back: a line is one outcome, far
/// under this.
const MAX_REPORT_LINE: usize = 1024 * 1024;

/// The first line of a report.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    report: String,
    format: u32,
    input: String,
}

/// What a command reads back from the report of an earlier run, to resume
/// it: the lines after the header, each bounded (a longer one is left
/// out), handed over one by one.
pub(crate) trait Resume: Default {
    /// Takes one outcome line (a line cut short by a crash is not JSON:
    /// it is no outcome, and left out).
    fn take(&mut self, line: &[u8]);

    /// Every line is taken.
    fn finish(&mut self) {}
}

/// Reads the outcome lines of a report (its header already read) into `R`.
pub(crate) fn read_outcomes<R: Resume>(reader: &mut impl io::BufRead) -> io::Result<R> {
    let mut resumed = R::default();
    let mut buffer = Vec::new();
    loop {
        match read_line(reader, &mut buffer, MAX_REPORT_LINE)? {
            Line::End => break,
            Line::TooLong { .. } => continue,
            Line::Whole => resumed.take(&buffer),
        }
    }
    resumed.finish();
    Ok(resumed)
}

/// A `--report` file: one JSON line per outcome, each flushed as it is
/// written. A failure to write is reported at the end, the command goes
/// on (stopping would leave calls in flight unsettled).
pub(crate) struct ReportFile {
    path: String,
    out: Option<BufWriter<File>>,
    failure: Option<io::Error>,
}

impl ReportFile {
    /// No report.
    pub(crate) fn none() -> Self {
        Self {
            path: String::new(),
            out: None,
            failure: None,
        }
    }

    /// The report at `path` of the command `kind` (its header's `report`,
    /// e.g. `fbn-identity users import`) for `input`: a new one, or the
    /// report of an earlier run of the same command and input, with what
    /// that run finished.
    pub(crate) fn open<R: Resume>(
        path: &Path,
        input: &Input,
        kind: &'static str,
    ) -> Result<(Self, R), CliError> {
        check_target(path, Some(input), "the report")?;
        let shown = path.display().to_string();
        let write_failed = |source: io::Error| CliError::Write {
            what: format!("the report {shown}"),
            source,
        };
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let (file, resumed) = match options.open(path) {
            Ok(mut file) => {
                write_header(&mut file, input, kind).map_err(write_failed)?;
                (file, R::default())
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                open_existing(path, input, kind)?
            }
            Err(source) => return Err(write_failed(source)),
        };
        Ok((
            Self {
                path: shown,
                out: Some(BufWriter::new(file)),
                failure: None,
            },
            resumed,
        ))
    }

    /// Writes one outcome line and flushes it.
    pub(crate) fn record(&mut self, line: &impl Serialize) {
        let Some(out) = &mut self.out else {
            return;
        };
        let written = write_json(&mut *out, line, false)
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush());
        if let Err(error) = written {
            self.failure = Some(error);
            self.out = None;
        }
    }

    /// The first failure to write, if any.
    pub(crate) fn finish(self) -> Result<(), CliError> {
        match self.failure {
            Some(source) => Err(CliError::Write {
                what: format!("the report {}", self.path),
                source,
            }),
            None => Ok(()),
        }
    }
}

/// The header line of a report of `kind` for `input`.
fn write_header(file: &mut File, input: &Input, kind: &str) -> io::Result<()> {
    let header = Header {
        report: kind.to_owned(),
        format: FORMAT,
        input: input.name(),
    };
    let mut line = serde_json::to_vec(&header)?;
    line.push(b'\n');
    file.write_all(&line)?;
    file.flush()
}

/// An existing file at `path`, opened to append when it is empty or the
/// report of `kind` for `input`; refused otherwise, untouched.
fn open_existing<R: Resume>(path: &Path, input: &Input, kind: &str) -> Result<(File, R), CliError> {
    let shown = path.display().to_string();
    let refused = |reason: String| CliError::UnsafePath {
        path: shown.clone(),
        reason,
    };
    let failed = |source: io::Error| CliError::Write {
        what: format!("the report {shown}"),
        source,
    };
    let named = std::fs::symlink_metadata(path).map_err(failed)?;
    if !named.is_file() {
        return Err(refused(
            "the report exists and is not a regular file".into(),
        ));
    }
    // Neither created nor truncated: opened as it is, to read and append.
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(failed)?;
    #[cfg(unix)]
    {
        use crate::files::FileId;
        use std::os::unix::fs::MetadataExt;
        let named = FileId::Inode {
            device: named.dev(),
            inode: named.ino(),
        };
        if FileId::of_open(&file).map_err(failed)? != named {
            return Err(refused(
                "the report was replaced while it was opened".into(),
            ));
        }
    }
    let mut reader = BufReader::new(&file);
    let mut first = Vec::new();
    let header = match read_line(&mut reader, &mut first, MAX_REPORT_LINE).map_err(failed)? {
        Line::End => None,
        Line::Whole => Some(serde_json::from_slice::<Header>(&first).ok()),
        Line::TooLong { .. } => Some(None),
    };
    let resumed = match header {
        // An empty file (`--report "$(mktemp)"`) holds nothing to lose.
        None => {
            drop(reader);
            write_header(&mut file, input, kind).map_err(failed)?;
            return Ok((file, R::default()));
        }
        Some(Some(header)) if header.report == kind => {
            let name = input.name();
            if header.input != name {
                return Err(refused(format!(
                    "it is the report of another input ({}), not of {name}; name a new report",
                    header.input
                )));
            }
            read_outcomes(&mut reader).map_err(failed)?
        }
        Some(_) => {
            return Err(refused(format!(
                "the file exists and is not a report of `{kind}`; name a new file (or the \
                 report of an earlier run of this command, to resume it)"
            )));
        }
    };
    drop(reader);
    // A crash may have cut the last line short: what is appended starts on
    // a line of its own.
    if !ends_with_line_break(&mut file).map_err(failed)? {
        file.write_all(b"\n").map_err(failed)?;
    }
    Ok((file, resumed))
}

/// Whether the file's last byte is a line break (an empty file: true).
fn ends_with_line_break(file: &mut File) -> io::Result<bool> {
    let length = file.seek(SeekFrom::End(0))?;
    if length == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0_u8];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::commands::import::resume::{REPORT_KIND, Resumed};
    use crate::commands::import::{LineResult, Outcome, SkipReason};

    const ANN: &str = r#"{"firstName":"Ann","lastName":"Lee","emailAddress":"ann@example.com","login":"ann@example.com","type":"Personal"}"#;
    const BAD: &str = r#"{"firstName":"","lastName":"X","emailAddress":"c@example.com","login":"c@example.com","type":"Personal"}"#;

    fn input(dir: &Path) -> Input {
        let path = dir.join("users.jsonl");
        std::fs::write(&path, format!("{ANN}\n{BAD}\n")).unwrap();
        Input::new(&path)
    }

    /// Line 1 (ann) created, line 2 failed.
    fn two_lines() -> Vec<LineResult> {
        vec![
            LineResult {
                line: 1,
                login: Some("ann@example.com".into()),
                outcome: Outcome::Created { id: "00u1".into() },
            },
            LineResult {
                line: 2,
                login: Some("c@example.com".into()),
                outcome: Outcome::failed("not valid"),
            },
        ]
    }

    fn lines_of(path: &PathBuf) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn a_new_report_has_a_header_then_a_line_per_record_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let input = input(dir.path());
        let path = dir.path().join("report.jsonl");
        let (mut report, resumed) =
            ReportFile::open::<Resumed>(&path, &input, REPORT_KIND).unwrap();
        assert!(resumed.is_empty());
        for line in &two_lines() {
            report.record(line);
        }
        // Written as it goes: readable before the end.
        let lines = lines_of(&path);
        assert_eq!(lines.len(), 3);
        report.finish().unwrap();
        assert_eq!(lines[0]["report"], REPORT_KIND);
        assert_eq!(lines[0]["input"], input.name());
        assert_eq!(lines[1]["line"], 1);
        assert_eq!(lines[1]["login"], "ann@example.com");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_report_of_the_same_input_is_resumed_and_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let input = input(dir.path());
        let path = dir.path().join("report.jsonl");
        let (mut report, _) = ReportFile::open::<Resumed>(&path, &input, REPORT_KIND).unwrap();
        let lines = two_lines();
        for line in &lines {
            report.record(line);
        }
        for (line, reason) in [(3, SkipReason::Deprovisioned), (4, SkipReason::Exists)] {
            report.record(&LineResult {
                line,
                login: Some(format!("user{line}@example.com")),
                outcome: Outcome::Skipped {
                    id: None,
                    reason,
                    message: "skipped".into(),
                },
            });
        }
        drop(report);
        // A crash cut a last line short.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"line":2,"login":"c@exa"#).unwrap();
        drop(file);

        let (mut report, resumed) =
            ReportFile::open::<Resumed>(&path, &input, REPORT_KIND).unwrap();
        assert_eq!(resumed.len(), 2);
        assert!(resumed.is_done(1, "ann@example.com"));
        assert!(resumed.is_done(4, "user4@example.com"), "exists: done");
        assert!(
            !resumed.is_done(3, "user3@example.com"),
            "a user who left: looked at again, in case this run recreates them"
        );
        assert!(!resumed.is_done(1, "someone-else@example.com"), "edited");
        assert!(!resumed.is_done(2, "c@example.com"), "failed: sent again");
        assert!(!resumed.is_done(3, "ann@example.com"), "not in the report");
        report.record(&lines[1]);
        drop(report);
        let text = std::fs::read_to_string(&path).unwrap();
        let last: Vec<&str> = text.lines().rev().take(2).collect();
        assert!(last[0].starts_with(r#"{"line":2,"#), "{text}");
        assert_eq!(last[1], r#"{"line":2,"login":"c@exa"#, "{text}");
        assert_eq!(text.lines().count(), 7, "{text}");
    }

    #[test]
    fn a_file_that_is_not_a_report_of_this_input_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let input = input(dir.path());
        let path = dir.path().join("notes.txt");
        for text in [
            "my precious notes\n".to_owned(),
            "{\"line\":1}\n".to_owned(),
            format!(
                "{{\"report\":\"{REPORT_KIND}\",\"format\":1,\"input\":\"/elsewhere/other.jsonl\"}}\n"
            ),
        ] {
            std::fs::write(&path, &text).unwrap();
            let error = ReportFile::open::<Resumed>(&path, &input, REPORT_KIND)
                .err()
                .unwrap();
            assert!(
                matches!(error, CliError::UnsafePath { .. }),
                "{}",
                error.report()
            );
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
        // An empty file holds nothing to lose: it becomes the report.
        std::fs::write(&path, "").unwrap();
        ReportFile::open::<Resumed>(&path, &input, REPORT_KIND).unwrap();
        assert_eq!(lines_of(&path)[0]["report"], REPORT_KIND);
    }
}
