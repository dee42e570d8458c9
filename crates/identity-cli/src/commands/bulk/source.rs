//! The input of a bulk command (`users import`, `users sync`), read as a
//! stream: each line (or CSV row) is read, checked and handed over as it
//! comes, on a thread of its own, so that memory holds a few lines
//! whatever the size of the input, and the command can stop without
//! reading the rest (of stdin, too). What a line becomes is the command's
//! [`LineParser`]; how lines are split, bounded and numbered is written
//! once, here.
//!
//! **The bound on a line: [`MAX_LINE_BYTES`], 1 MiB**, the most one user
//! may have in a streamed list of the SDK (`MAX_STREAMED_USER_BYTES`): a
//! thousand times a user with many roles and alternative ids, so any line
//! an export writes, and no more than one such line is ever held.
//!
//! - JSON lines: a longer line is read to its end without being kept, and
//!   reported as failed; the next line is read as usual.
//! - CSV: a row may hold line breaks (in quotes), so its end is only known
//!   by parsing it; a row longer than the bound (most likely a quote never
//!   closed, which makes the rest of the file one cell) ends the import
//!   with an error naming its line: there is no telling where the next row
//!   starts.
//!
//! A channel of [`READ_AHEAD`] checked lines sits between the reading
//! thread and the import: the thread waits when the import is behind.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use tokio::sync::mpsc;

use crate::args::FileFormat;
use crate::columns::Header;
use crate::errors::CliError;
use crate::files::{Input, is_stdin};
use crate::lines::{Line, read_line};

/// The longest line (or CSV row) read: 1 MiB, as one user of a streamed
/// list.
pub(crate) const MAX_LINE_BYTES: usize = finbourne_identity::layers::users::MAX_STREAMED_USER_BYTES;

/// How many checked lines may wait for the import.
const READ_AHEAD: usize = 256;

/// The size of the read buffer.
const BUFFER_BYTES: usize = 64 * 1024;

/// What a command makes of each line of its input.
pub(crate) trait LineParser: Send + 'static {
    /// A line, read and checked.
    type Parsed: Send + 'static;

    /// A JSON line (its bytes, without the line break).
    fn json_line(&self, text: &[u8]) -> Self::Parsed;

    /// A CSV row under `header`; `None` leaves it out.
    fn csv_row(&self, header: &Header, row: &csv::StringRecord) -> Option<Self::Parsed>;

    /// A line that could not be read as a line of the format, and why.
    fn bad_line(&self, message: String) -> Self::Parsed;
}

/// One line of the input, read and checked.
#[derive(Debug)]
pub(crate) struct Record<P> {
    /// Its line number, from 1.
    pub(crate) line: usize,
    /// What it asks for.
    pub(crate) parsed: P,
}

/// Why the input could not be read on.
#[derive(Debug)]
pub(crate) enum SourceError {
    /// Reading failed.
    Read(io::Error),
    /// The input is not what an import reads, from this point on (a CSV
    /// header row without the columns, a row longer than the bound).
    Bad(String),
}

/// The records of an input, as [`spawn`] hands them over.
pub(crate) type Records<P> = mpsc::Receiver<Result<Record<P>, SourceError>>;

/// The input of a bulk command, opened, not read yet.
pub(crate) struct Source {
    reader: Box<dyn Read + Send>,
    format: FileFormat,
    guessed: bool,
    /// Its identity, of the file opened (a report is checked against it).
    pub(crate) input: Input,
    /// How messages name it (`stdin`, or the path).
    pub(crate) what: String,
}

impl Source {
    /// Opens `path` (`-`: stdin) in `format` (else as its name says;
    /// stdin: JSON lines, guessed).
    pub(crate) fn open(path: &Path, format: Option<FileFormat>) -> Result<Self, CliError> {
        let stdin = is_stdin(path);
        let what = if stdin {
            "stdin".to_owned()
        } else {
            path.display().to_string()
        };
        let (reader, input): (Box<dyn Read + Send>, Input) = if stdin {
            (Box::new(io::stdin()), Input::new(path))
        } else {
            let file = File::open(path).map_err(|source| CliError::Read {
                what: what.clone(),
                source,
            })?;
            let input = Input::of_open(path, &file);
            (Box::new(file), input)
        };
        Ok(Self {
            reader,
            guessed: stdin && format.is_none(),
            format: format.unwrap_or_else(|| {
                if stdin {
                    FileFormat::Jsonl
                } else {
                    FileFormat::of_path(path)
                }
            }),
            input,
            what,
        })
    }

    /// Reads it with `parser`, on a thread of its own.
    pub(crate) fn read<L: LineParser>(self, parser: L) -> Result<Records<L::Parsed>, CliError> {
        let Self {
            reader,
            format,
            guessed,
            what,
            ..
        } = self;
        spawn(reader, format, parser, guessed).map_err(|source| CliError::Read { what, source })
    }
}

/// Starts reading `input` as `format` on a thread of its own, each line
/// made what `parser` says; its records come through the receiver, in
/// order, then the channel closes (after an error, if reading failed).
///
/// `guessed` says the format was not given but guessed (stdin, read as JSON
/// lines): a first line that is not JSON but looks like a CSV header row
/// then stops the run at once, saying to give `--format csv`, rather than
/// failing every line.
pub(crate) fn spawn<L: LineParser>(
    input: Box<dyn Read + Send>,
    format: FileFormat,
    parser: L,
    guessed: bool,
) -> io::Result<Records<L::Parsed>> {
    let (sender, receiver) = mpsc::channel(READ_AHEAD);
    std::thread::Builder::new()
        .name("fbn-bulk-input".into())
        .spawn(move || {
            let send = |item| sender.blocking_send(item).is_ok();
            match format {
                FileFormat::Jsonl => read_json_lines(input, &parser, guessed, send),
                FileFormat::Csv => read_csv(input, &parser, send),
            }
        })?;
    Ok(receiver)
}

/// Whether the first line of an input read as JSON lines is rather a CSV
/// header row: not a JSON object, and cells between commas.
fn looks_like_csv(line: &[u8]) -> bool {
    let start = line.iter().find(|byte| !byte.is_ascii_whitespace());
    start != Some(&b'{')
        && line.contains(&b',')
        && serde_json::from_slice::<serde_json::Value>(line).is_err()
}

/// Reads JSON lines, handing each non-blank one to `send` until it says
/// stop (false); `guessed` as for [`spawn`].
fn read_json_lines<L: LineParser>(
    input: Box<dyn Read + Send>,
    parser: &L,
    guessed: bool,
    mut send: impl FnMut(Result<Record<L::Parsed>, SourceError>) -> bool,
) {
    let mut first = true;
    let mut reader = BufReader::with_capacity(BUFFER_BYTES, input);
    let mut buffer = Vec::new();
    let mut line = 0;
    loop {
        line += 1;
        let parsed = match read_line(&mut reader, &mut buffer, MAX_LINE_BYTES) {
            Err(error) => {
                send(Err(SourceError::Read(error)));
                return;
            }
            Ok(Line::End) => return,
            Ok(Line::TooLong { length }) => parser.bad_line(format!(
                "the line is {length} bytes long, over the {MAX_LINE_BYTES} bytes a user can \
                 be: not read"
            )),
            Ok(Line::Whole) => {
                let mut text = buffer.as_slice();
                if line == 1 {
                    text = text.strip_prefix("\u{feff}".as_bytes()).unwrap_or(text);
                }
                if text.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if std::mem::take(&mut first) && guessed && looks_like_csv(text) {
                    send(Err(SourceError::Bad(
                        "the first line is not JSON but looks like a CSV header row: give \
                         --format csv (without it, stdin is read as JSON lines)"
                            .to_owned(),
                    )));
                    return;
                }
                parser.json_line(text)
            }
        };
        if !send(Ok(Record { line, parsed })) {
            return;
        }
    }
}

/// The line breaks the CSV reader has read and the import has not yet
/// placed a row after: their byte offsets, and whether each is a `\n`.
#[derive(Default)]
struct Breaks {
    /// Bytes read so far.
    read: u64,
    /// Where the row being read starts.
    row_start: u64,
    /// `\n` and `\r` bytes not yet behind a row's start.
    pending: VecDeque<(u64, bool)>,
    /// `\n` bytes behind.
    newlines: usize,
}

impl Breaks {
    /// The line (from 1) of the first byte at or after `at` that is not a
    /// line break: where a row that the CSV reader places at `at` (the
    /// first of the blank lines before it) really starts.
    fn line_at(&mut self, at: u64) -> usize {
        while let Some(&(offset, newline)) = self.pending.front() {
            if offset >= at {
                break;
            }
            self.newlines += usize::from(newline);
            self.pending.pop_front();
        }
        let mut next = at;
        while let Some(&(offset, newline)) = self.pending.front() {
            if offset != next {
                break;
            }
            self.newlines += usize::from(newline);
            self.pending.pop_front();
            next += 1;
        }
        self.newlines + 1
    }
}

/// The input of the CSV reader, noting the line breaks it reads, and
/// refusing to read on when a row grows past the bound.
struct Tracked {
    inner: Box<dyn Read + Send>,
    breaks: Rc<RefCell<Breaks>>,
}

/// The error [`Tracked`] stops a row with.
#[derive(Debug)]
struct RowTooLong;

impl std::fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a row longer than {MAX_LINE_BYTES} bytes")
    }
}

impl std::error::Error for RowTooLong {}

impl Read for Tracked {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let mut breaks = self.breaks.borrow_mut();
        // The reader reads ahead at most a buffer's worth past the row.
        let limit = (MAX_LINE_BYTES + BUFFER_BYTES) as u64;
        if breaks.read.saturating_sub(breaks.row_start) > limit {
            return Err(io::Error::other(RowTooLong));
        }
        let count = self.inner.read(buffer)?;
        let start = breaks.read;
        for (at, byte) in buffer[..count].iter().enumerate() {
            if matches!(byte, b'\n' | b'\r') {
                breaks
                    .pending
                    .push_back((start + at as u64, *byte == b'\n'));
            }
        }
        breaks.read += count as u64;
        Ok(count)
    }
}

/// Reads CSV rows (a header row first), handing each to `send` until it
/// says stop (false).
fn read_csv<L: LineParser>(
    input: Box<dyn Read + Send>,
    parser: &L,
    mut send: impl FnMut(Result<Record<L::Parsed>, SourceError>) -> bool,
) {
    let breaks = Rc::new(RefCell::new(Breaks::default()));
    let tracked = Tracked {
        inner: input,
        breaks: Rc::clone(&breaks),
    };
    let mut reader = csv::ReaderBuilder::new()
        .buffer_capacity(BUFFER_BYTES)
        .from_reader(tracked);
    let header = match reader.headers() {
        Ok(columns) => Header::new(columns),
        Err(error) => Err(format!("the header row cannot be read: {error}")),
    };
    let header = match header {
        Ok(header) => header,
        Err(message) => {
            send(Err(SourceError::Bad(message)));
            return;
        }
    };
    let mut row = csv::StringRecord::new();
    loop {
        let start = reader.position().byte();
        breaks.borrow_mut().row_start = start;
        let read = reader.read_record(&mut row);
        let at = match &read {
            Ok(_) => row.position().map_or(start, csv::Position::byte),
            Err(error) => error.position().map_or(start, csv::Position::byte),
        };
        let line = breaks.borrow_mut().line_at(at);
        let parsed = match read {
            Ok(false) => return,
            Ok(true) => match parser.csv_row(&header, &row) {
                Some(parsed) => parsed,
                None => continue,
            },
            Err(error) => match error.kind() {
                csv::ErrorKind::Io(io_error) => {
                    let stopped = match io_error
                        .get_ref()
                        .and_then(|inner| inner.downcast_ref::<RowTooLong>())
                    {
                        Some(_) => SourceError::Bad(format!(
                            "line {line}: a row longer than {MAX_LINE_BYTES} bytes (a quote \
                             never closed?); the rest of the file is not read"
                        )),
                        None => {
                            SourceError::Read(io::Error::new(io_error.kind(), io_error.to_string()))
                        }
                    };
                    send(Err(stopped));
                    return;
                }
                _ => parser.bad_line(format!("not a CSV row of a user: {}", csv_reason(&error))),
            },
        };
        if !send(Ok(Record { line, parsed })) {
            return;
        }
    }
}

/// Why a CSV row could not be read, without the csv crate's own position
/// (the line is reported apart).
fn csv_reason(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} cells where the header row has {expected_len}"),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::import::{ImportLines, Outcome, Parsed};

    const ANN: &str = r#"{"firstName":"Ann","lastName":"Lee","emailAddress":"ann@example.com","login":"ann@example.com","type":"Personal"}"#;
    const BOB: &str = r#"{"firstName":"Bob","lastName":"Ray","emailAddress":"bob@example.com","login":"bob@example.com","type":"Personal"}"#;
    const BAD: &str = r#"{"firstName":"","lastName":"X","emailAddress":"c@example.com","login":"c@example.com","type":"Personal"}"#;

    /// Every record of `text` read as `format`, or the error that stopped
    /// the reading.
    fn read(text: &[u8], format: FileFormat) -> (Vec<Record<Parsed>>, Option<SourceError>) {
        let mut records = Vec::new();
        let mut stopped = None;
        let input: Box<dyn Read + Send> = Box::new(io::Cursor::new(text.to_vec()));
        let send = |item: Result<Record<Parsed>, SourceError>| {
            match item {
                Ok(record) => records.push(record),
                Err(error) => stopped = Some(error),
            }
            true
        };
        match format {
            FileFormat::Jsonl => read_json_lines(input, &ImportLines, false, send),
            FileFormat::Csv => read_csv(input, &ImportLines, send),
        }
        (records, stopped)
    }

    #[test]
    fn a_csv_read_as_guessed_json_lines_stops_at_its_header_saying_so() {
        let csv = b"firstName,lastName,emailAddress,login,type\nAnn,Lee,a@example.com,a@example.com,Personal\n";
        let mut records = Vec::new();
        let mut stopped = None;
        let input: Box<dyn Read + Send> = Box::new(io::Cursor::new(csv.to_vec()));
        read_json_lines(input, &ImportLines, true, |item| {
            match item {
                Ok(record) => records.push(record),
                Err(error) => stopped = Some(error),
            }
            true
        });
        assert!(records.is_empty());
        assert!(
            matches!(&stopped, Some(SourceError::Bad(message)) if message.contains("--format csv")),
            "{stopped:?}"
        );
        // A file named for what it is, or JSON lines with a bad first line,
        // are read line by line as before.
        assert!(!looks_like_csv(br#"{"firstName": "Ann","#));
        assert!(!looks_like_csv(b"not json"));
        let (records, stopped) = read(csv, FileFormat::Jsonl);
        assert_eq!(records.len(), 2);
        assert!(stopped.is_none());
    }

    fn fields(record: &Record<Parsed>) -> Vec<String> {
        match &record.parsed {
            Parsed::Bad {
                outcome: Outcome::Failed { field_errors, .. },
                ..
            } => field_errors.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn json_lines_are_numbered_from_one_and_blank_lines_ignored() {
        let text = format!("\u{feff}{ANN}\n\n   \r\n{BAD}\nnot json\n{BOB}");
        let (records, stopped) = read(text.as_bytes(), FileFormat::Jsonl);
        assert!(stopped.is_none());
        let numbers: Vec<usize> = records.iter().map(|record| record.line).collect();
        assert_eq!(numbers, [1, 4, 5, 6]);
        assert!(
            matches!(records[0].parsed, Parsed::Ready { .. }),
            "a BOM is not the line's"
        );
        assert_eq!(fields(&records[1]), ["firstName", "lastName"]);
        assert!(matches!(
            &records[2].parsed,
            Parsed::Bad { login: None, .. }
        ));
        assert!(matches!(records[3].parsed, Parsed::Ready { .. }));
    }

    #[test]
    fn a_line_over_the_bound_is_failed_without_being_kept_and_the_next_is_read() {
        let long = format!("{{\"firstName\":\"{}\"}}", "x".repeat(MAX_LINE_BYTES));
        let text = format!("{long}\n{ANN}\n");
        let (records, _) = read(text.as_bytes(), FileFormat::Jsonl);
        assert_eq!(records.len(), 2);
        let Parsed::Bad {
            outcome: Outcome::Failed { message, .. },
            ..
        } = &records[0].parsed
        else {
            panic!("accepted");
        };
        assert!(message.contains("over the 1048576 bytes"), "{message}");
        assert_eq!(records[1].line, 2);
        assert!(matches!(records[1].parsed, Parsed::Ready { .. }));
    }

    #[test]
    fn csv_rows_are_checked_by_their_line_in_the_file() {
        let text = "firstName,lastName,emailAddress,login,type,roles,status\n\
                    Ann,Lee,ann@example.com,ann@example.com,Personal,default/analyst,\n\
                    \n\
                    \"Bob\nBobby\",Ray,bob@example.com,bob@example.com,Personal,,DEPROVISIONED\n\
                    ,Xavier,c@example.com,c@example.com,Personal,,\n\
                    Dan,F,dan@example.com,dan@example.com,Personal,,\n\
                    Eve,Oak,eve@example.com,eve@example.com,Personal,analyst,\n\
                    too,few\n";
        let (records, stopped) = read(text.as_bytes(), FileFormat::Csv);
        assert!(stopped.is_none());
        let numbers: Vec<usize> = records.iter().map(|record| record.line).collect();
        assert_eq!(numbers, [2, 4, 6, 7, 8, 9]);
        let Parsed::Ready {
            request,
            deprovisioned: false,
        } = &records[0].parsed
        else {
            panic!("{:?}", records[0]);
        };
        assert_eq!(request.roles.as_ref().unwrap()[0].code, "analyst");
        assert!(
            matches!(
                records[1].parsed,
                Parsed::Ready {
                    deprovisioned: true,
                    ..
                }
            ),
            "a quoted cell may hold a line break; the status is read"
        );
        assert_eq!(fields(&records[2]), ["firstName"]);
        assert_eq!(fields(&records[3]), ["lastName"]);
        assert_eq!(fields(&records[4]), ["roles"]);
        assert!(
            matches!(&records[4].parsed, Parsed::Bad { login: Some(login), .. } if login == "eve@example.com")
        );
        assert!(
            matches!(&records[5].parsed, Parsed::Bad { outcome: Outcome::Failed { message, .. }, .. } if message.contains("2 cells where the header row has 7")),
            "{:?}",
            records[5]
        );
    }

    #[test]
    fn a_csv_without_the_columns_or_with_an_endless_row_stops_with_why() {
        let (records, stopped) = read(b"first,last\nA,B\n", FileFormat::Csv);
        assert!(records.is_empty());
        assert!(
            matches!(stopped, Some(SourceError::Bad(message)) if message.contains("no column"))
        );

        let endless = format!(
            "firstName,lastName,emailAddress,login,type\nAnn,Lee,a@b.c,a@b.c,Personal\n\"{}",
            "x\n".repeat(MAX_LINE_BYTES)
        );
        let (records, stopped) = read(endless.as_bytes(), FileFormat::Csv);
        assert_eq!(records.len(), 1);
        assert!(
            matches!(&stopped, Some(SourceError::Bad(message)) if message.starts_with("line 3: a row longer than")),
            "{stopped:?}"
        );
    }
}
