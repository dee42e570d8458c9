//! `users export`: every user as JSON lines or CSV, on stdout or to a file,
//! written as the ListUsers answer streams in, so memory does not grow with
//! the domain.
//!
//! - JSON lines hold the service's exact text, with no control character
//!   raw ([`write_json`]); CSV cells hold it exact too, except on a
//!   terminal, where control characters are shown escaped.
//! - `--output FILE` refuses a symbolic link at FILE ([`check_target`]),
//!   then writes a new temporary file in FILE's directory,
//!   `.FILE.fbn-identity-export.PID.tmp` (created new, mode 0600 on unix),
//!   and renames it to FILE once every user is written and flushed to disk:
//!   whatever stops the export part-way (the service, the network, a full
//!   disk, a signal, a crash), FILE is either the old file or the whole new
//!   one. SIGINT, SIGTERM and SIGHUP remove the temporary file (exit 130).
//!   A crash or SIGKILL leaves it; it is named after its target and its
//!   process, so the next export to the same target removes it once that
//!   process is gone, and leaves alone the temporary file of an export
//!   still running ([`crate::temporary`]).
//! - A failure part-way says `export stopped after N users: REASON`, and
//!   exits with the reason's code; the lines written to stdout before it are
//!   whole. A closed stdout ends the export quietly with 141 (see
//!   [`crate::errors`]).
//! - `--include-roles` reads each user again with its roles (GetUser), as
//!   many at once as the service takes ([`super::pace`]), in the list's
//!   order.
//! - A progress line (users so far, rate) shows on stderr when it is a
//!   terminal.

use std::io::{self, BufWriter, IsTerminal, Write};

use finbourne_identity::{Error, IdentityClient, UserResponse};
use futures_util::{StreamExt, future};

use super::pace::DEFAULT_CONCURRENCY;
use crate::args::{ExportArgs, FileFormat};
use crate::columns::{EXPORT_COLUMNS, user_row};
use crate::errors::CliError;
use crate::escape::{untrusted, write_json};
use crate::files::check_target;
use crate::output::{note, plural};
use crate::progress;
use crate::signals::StopSignals;
use crate::temporary::{remove_stale_temporaries, temporary_file_for};

/// Runs `users export`.
pub(crate) async fn run(client: &IdentityClient, args: &ExportArgs) -> Result<(), CliError> {
    let format = args.format.unwrap_or_else(|| {
        args.output
            .as_deref()
            .map_or(FileFormat::Jsonl, FileFormat::of_path)
    });
    match &args.output {
        None => {
            let stdout = io::stdout();
            let terminal = stdout.is_terminal();
            let mut sink = Sink::new(format, BufWriter::new(stdout.lock()), terminal);
            let count = export(client, args, &mut sink).await?;
            note(&format!("exported {count} user{}", plural(count)));
            Ok(())
        }
        Some(path) => {
            let shown = path.display().to_string();
            check_target(path, None, "the output")?;
            remove_stale_temporaries(path, "export");
            let temporary =
                temporary_file_for(path, "export").map_err(|source| CliError::Write {
                    what: format!("a temporary file beside {shown}"),
                    source,
                })?;
            let mut sink = Sink::new(format, BufWriter::new(temporary), false);
            let count = export(client, args, &mut sink)
                .await
                .map_err(|error| match error {
                    CliError::Stopped { count, source, .. } => CliError::Stopped {
                        count,
                        source,
                        untouched: Some(shown.clone()),
                    },
                    other => other,
                })?;
            let temporary = sink
                .into_inner()
                .map_err(|source| write_failed(count, &shown, source))?;
            temporary
                .as_file()
                .sync_all()
                .map_err(|source| write_failed(count, &shown, source))?;
            temporary
                .persist(path)
                .map_err(|error| write_failed(count, &shown, error.error))?;
            note(&format!(
                "exported {count} user{} to {}",
                plural(count),
                untrusted(&shown)
            ));
            Ok(())
        }
    }
}

/// The failure to finish the file after `count` users.
fn write_failed(count: usize, shown: &str, source: io::Error) -> CliError {
    CliError::Stopped {
        count,
        source: Box::new(CliError::Write {
            what: shown.to_owned(),
            source,
        }),
        untouched: Some(shown.to_owned()),
    }
}

/// Streams every user into `sink`; the count written, or why it stopped.
async fn export<W: Write>(
    client: &IdentityClient,
    args: &ExportArgs,
    sink: &mut Sink<W>,
) -> Result<usize, CliError> {
    let progress = progress::counter("exported", "users");
    let stopped = |count: usize, source: CliError| CliError::Stopped {
        count,
        source: Box::new(source),
        untouched: None,
    };
    let mut count = 0_usize;
    sink.header().map_err(|error| stopped(0, error.into()))?;
    let users = client
        .users()
        .list_users()
        .include_deactivated(args.include_deactivated)
        .stream();
    let users = if args.include_roles {
        users
            .map(|user| with_roles(client, user))
            .buffered(DEFAULT_CONCURRENCY)
            .filter_map(future::ready)
            .boxed_local()
    } else {
        users.map(Some).filter_map(future::ready).boxed_local()
    };
    let mut users = std::pin::pin!(users);
    let mut signals = StopSignals::new();
    loop {
        let user = tokio::select! {
            user = users.next() => user,
            signal = signals.recv() => {
                progress.finish_and_clear();
                let _ = sink.flush();
                return Err(stopped(count, CliError::Interrupted(signal)));
            }
        };
        let Some(user) = user else {
            break;
        };
        let written = match user {
            Ok(user) => sink.user(&user),
            Err(error) => {
                progress.finish_and_clear();
                // What was written stays written, whole.
                let _ = sink.flush();
                return Err(stopped(count, error.into()));
            }
        };
        if let Err(error) = written {
            progress.finish_and_clear();
            return Err(stopped(count, error.into()));
        }
        count += 1;
        progress.inc(1);
    }
    progress.finish_and_clear();
    sink.flush().map_err(|error| stopped(count, error.into()))?;
    Ok(count)
}

/// The listed user read again with its roles; `None` for a user deleted
/// since the list (said on stderr).
async fn with_roles(
    client: &IdentityClient,
    listed: Result<UserResponse, Error>,
) -> Option<Result<UserResponse, Error>> {
    let listed = match listed {
        Ok(user) => user,
        Err(error) => return Some(Err(error)),
    };
    let read = client
        .users()
        .get_user(&listed.id)
        .include_roles(true)
        .send()
        .await;
    match read {
        Err(error) if error.is_not_found() => {
            note(&format!(
                "user {} ({}) was deleted during the export: left out",
                untrusted(&listed.id),
                untrusted(&listed.login)
            ));
            None
        }
        other => Some(other),
    }
}

/// Where the users go, in their format.
enum Sink<W: Write> {
    /// JSON lines.
    Json(W),
    /// CSV; `escape` shows control characters escaped (on a terminal).
    Csv {
        writer: Box<csv::Writer<W>>,
        escape: bool,
    },
}

impl<W: Write> Sink<W> {
    fn new(format: FileFormat, writer: W, terminal: bool) -> Self {
        match format {
            FileFormat::Jsonl => Self::Json(writer),
            FileFormat::Csv => Self::Csv {
                writer: Box::new(csv::WriterBuilder::new().from_writer(writer)),
                escape: terminal,
            },
        }
    }

    /// The header row, for CSV.
    fn header(&mut self) -> io::Result<()> {
        match self {
            Self::Json(_) => Ok(()),
            Self::Csv { writer, .. } => writer.write_record(EXPORT_COLUMNS).map_err(csv_error),
        }
    }

    fn user(&mut self, user: &UserResponse) -> io::Result<()> {
        match self {
            Self::Json(out) => {
                write_json(&mut *out, user, false)?;
                out.write_all(b"\n")
            }
            Self::Csv { writer, escape } => {
                let row = user_row(user);
                if *escape {
                    writer.write_record(row.iter().map(|cell| untrusted(cell).into_owned()))
                } else {
                    writer.write_record(&row)
                }
                .map_err(csv_error)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Json(out) => out.flush(),
            Self::Csv { writer, .. } => writer.flush(),
        }
    }
}

impl<T: Write> Sink<BufWriter<T>> {
    /// The file (or stream) under the buffers, every byte written to it.
    fn into_inner(self) -> io::Result<T> {
        let buffered = match self {
            Self::Json(out) => out,
            Self::Csv { writer, .. } => (*writer)
                .into_inner()
                .map_err(csv::IntoInnerError::into_error)?,
        };
        buffered
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
    }
}

/// A CSV writer's error as the I/O error it wraps (a closed pipe stays a
/// closed pipe).
fn csv_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(error) => error,
        other => io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserResponse {
        serde_json::from_value(serde_json::json!({
            "id": "00u1", "emailAddress": "ann@example.com", "login": "ann@example.com",
            "firstName": "Ann\u{1b}[2J", "lastName": "Lee, \"Jr\"\nII", "type": "Personal",
            "status": "ACTIVE", "external": false, "created": "2024-03-01T09:30:12Z",
            "alternativeUserIds": {"employeeId": "E1"},
        }))
        .unwrap()
    }

    fn written(format: FileFormat, terminal: bool) -> String {
        let mut sink = Sink::new(format, Vec::new(), terminal);
        sink.header().unwrap();
        sink.user(&user()).unwrap();
        sink.flush().unwrap();
        let bytes = match sink {
            Sink::Json(out) => out,
            Sink::Csv { writer, .. } => (*writer).into_inner().unwrap(),
        };
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn csv_has_the_header_and_quotes_what_needs_it() {
        let text = written(FileFormat::Csv, false);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(EXPORT_COLUMNS.join(",").as_str()));
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[2], "Ann\u{1b}[2J", "exact to a file");
        assert_eq!(&row[3], "Lee, \"Jr\"\nII");
        assert_eq!(&row[15], "employeeId=E1");
        assert_eq!(&row[10], "2024-03-01T09:30:12Z");
        assert_eq!(&row[14], "", "no roles listed");
    }

    #[test]
    fn on_a_terminal_no_control_character_is_written_raw() {
        let text = written(FileFormat::Csv, true);
        assert!(text.contains("Ann\\x1b[2J"), "{text}");
        assert!(!text.contains('\u{1b}'));
        let json = written(FileFormat::Jsonl, true);
        assert!(json.contains("Ann\\u001b[2J"), "{json}");
        assert_eq!(json.lines().count(), 1);
    }
}
