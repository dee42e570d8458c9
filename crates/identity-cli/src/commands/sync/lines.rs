//! The lines of a directory file, read by the bulk input
//! ([`source`](crate::commands::bulk::source)) and
//! made the SDK's [`Desired`] users: the same JSON lines and CSV columns,
//! and the same rules for empty cells, as `users import` and `users export`,
//! with one more: an optional CSV column the file has, given empty, clears
//! the value (a column the file does not have leaves it as the domain has
//! it), as a JSON key given `null` does.

use std::collections::BTreeMap;

use finbourne_identity::sync::{Desired, DesiredUser, InvalidLine};
use futures_util::Stream;
use serde_json::{Map, Value};

use crate::columns::Header;
use crate::commands::bulk::source::{LineParser, Records, SourceError};
use crate::commands::import::line::{is_deprovisioned, json_reason, roles_as_ids};

/// The optional text columns an empty cell clears.
const CLEARED_BY_EMPTY: [&str; 2] = ["secondEmailAddress", "userExpiry"];

/// One line of a directory file.
#[derive(Debug)]
pub(crate) enum SyncLine {
    /// A user (not yet checked: the plan checks it).
    User(Box<DesiredUser>),
    /// A line that is not a user: why, and what could be read of it.
    Invalid(InvalidLine),
    /// A row of a user who left (status DEPROVISIONED): not in the
    /// directory.
    Left,
}

/// What `users sync` makes of each line of its input.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SyncLines;

impl LineParser for SyncLines {
    type Parsed = SyncLine;

    fn json_line(&self, text: &[u8]) -> SyncLine {
        match serde_json::from_slice::<Map<String, Value>>(text) {
            Ok(object) => of_object(object),
            Err(error) => invalid(None, format!("not a user: {}", json_reason(&error))),
        }
    }

    fn csv_row(&self, header: &Header, row: &csv::StringRecord) -> Option<SyncLine> {
        match header.request_json(row) {
            Ok(Value::Object(mut object)) => {
                for column in CLEARED_BY_EMPTY {
                    if header.cell(row, column).is_some() && !object.contains_key(column) {
                        object.insert(column.to_owned(), Value::Null);
                    }
                }
                if let Some(status) = header.cell(row, "status").filter(|s| !s.is_empty()) {
                    object.insert("status".into(), status.into());
                }
                Some(of_object(object))
            }
            Ok(_) => None,
            Err(field_errors) => Some(SyncLine::Invalid(InvalidLine {
                login: header.cell(row, "login").map(str::to_owned),
                alternative_user_ids: header
                    .cell(row, "alternativeUserIds")
                    .and_then(|cell| crate::columns::parse_alternative_ids(cell).ok())
                    .map(|ids| alternative_ids(Some(&ids)))
                    .unwrap_or_default(),
                message: "not valid".to_owned(),
                field_errors,
                ..InvalidLine::default()
            })),
        }
    }

    fn bad_line(&self, message: String) -> SyncLine {
        invalid(None, message)
    }
}

/// The JSON object of a line (a JSON line, or a CSV row made one) as a
/// directory's line.
fn of_object(mut object: Map<String, Value>) -> SyncLine {
    if is_deprovisioned(&object) {
        return SyncLine::Left;
    }
    roles_as_ids(&mut object);
    let login = object
        .get("login")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let ids = alternative_ids(object.get("alternativeUserIds"));
    match serde_json::from_value::<DesiredUser>(Value::Object(object)) {
        Ok(user) => SyncLine::User(Box::new(user)),
        Err(error) => SyncLine::Invalid(InvalidLine {
            login,
            alternative_user_ids: ids,
            message: format!("not a user: {error}"),
            ..InvalidLine::default()
        }),
    }
}

/// The alternative ids of a line, as far as they are text.
fn alternative_ids(value: Option<&Value>) -> BTreeMap<String, Option<String>> {
    value
        .and_then(Value::as_object)
        .map(|ids| {
            ids.iter()
                .filter_map(|(key, value)| {
                    value
                        .as_str()
                        .map(|text| (key.clone(), Some(text.to_owned())))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn invalid(login: Option<String>, message: String) -> SyncLine {
    SyncLine::Invalid(InvalidLine {
        login,
        message,
        ..InvalidLine::default()
    })
}

/// Why the input stopped: what the plan's stream fails with, read back by
/// the command to say it.
#[derive(Debug)]
pub(crate) struct InputStopped(pub(crate) SourceError);

impl std::fmt::Display for InputStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            SourceError::Read(error) => write!(f, "{error}"),
            SourceError::Bad(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for InputStopped {}

/// The directory's lines as the stream the plan reads; the rows of users
/// who left are counted in `left`.
pub(crate) fn desired(
    records: Records<SyncLine>,
    left: std::sync::Arc<std::sync::atomic::AtomicU64>,
) -> impl Stream<Item = Result<Desired, InputStopped>> {
    futures_util::stream::unfold((records, left), |(mut records, left)| async move {
        loop {
            let item = match records.recv().await? {
                Err(error) => Err(InputStopped(error)),
                Ok(record) => {
                    let line = record.line as u64;
                    match record.parsed {
                        SyncLine::User(user) => Ok(Desired::User { line, user }),
                        SyncLine::Invalid(invalid) => {
                            Ok(Desired::Invalid(InvalidLine { line, ..invalid }))
                        }
                        SyncLine::Left => {
                            left.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            continue;
                        }
                    }
                }
            };
            return Some((item, (records, left)));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_optional_column_clears_and_a_missing_one_is_not_managed() {
        let header = Header::new(&csv::StringRecord::from(vec![
            "firstName",
            "lastName",
            "emailAddress",
            "login",
            "type",
            "secondEmailAddress",
            "alternativeUserIds",
            "status",
        ]))
        .unwrap();
        let row = csv::StringRecord::from(vec![
            "Ann",
            "Lee",
            "a@b.cd",
            "a@b.cd",
            "Personal",
            "",
            "employeeId=E1",
            "",
        ]);
        let Some(SyncLine::User(user)) = SyncLines.csv_row(&header, &row) else {
            panic!("not a user");
        };
        assert_eq!(user.second_email_address, Some(None));
        assert_eq!(user.user_expiry, None);
        assert_eq!(
            user.alternative_user_ids["employeeId"].as_deref(),
            Some("E1")
        );
        let left = csv::StringRecord::from(vec![
            "Ann",
            "Lee",
            "a@b.cd",
            "a@b.cd",
            "Personal",
            "",
            "",
            "DEPROVISIONED",
        ]);
        assert!(matches!(
            SyncLines.csv_row(&header, &left),
            Some(SyncLine::Left)
        ));
        let bad = csv::StringRecord::from(vec![
            "Ann", "Lee", "a@b.cd", "a@b.cd", "Personal", "", "=x", "",
        ]);
        let Some(SyncLine::Invalid(invalid)) = SyncLines.csv_row(&header, &bad) else {
            panic!("accepted");
        };
        assert_eq!(invalid.login.as_deref(), Some("a@b.cd"));
        assert!(invalid.field_errors.contains_key("alternativeUserIds"));
        assert!(matches!(
            SyncLines.json_line(b"{nope"),
            SyncLine::Invalid(InvalidLine { login: None, .. })
        ));
    }
}
