//! How answers are printed: readable tables by default, the answer's JSON
//! with `--json`. Only answers go to stdout; diagnostics (confirmations,
//! counts, progress) go to stderr, so `--json` output can be piped.
//!
//! The tables are built by pure functions (tested below); [`Output`] only
//! chooses between a table and JSON and writes it. Every cell of a table
//! goes through [`escape::untrusted`], so that no control character the
//! service sent reaches the terminal raw; JSON keeps the exact text
//! ([`escape::write_json`]).
//!
//! Lists of users (`users list`, `users runnable`) are printed as they
//! stream in ([`Output::user_stream`]), so memory does not grow with the
//! domain: JSON as the same array as a whole answer would be, element by
//! element; a table in chunks of [`TABLE_ROWS`] rows, each with its header
//! and its own column widths. Chunks rather than one table of fixed widths:
//! a list that fits one chunk (most lists read at a terminal) prints exactly
//! as a whole table would, nothing is ever cut to fit a width guessed
//! before the rows are seen, and a long list is paged anyway.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};

use comfy_table::{ContentArrangement, Table, presets};
use finbourne_identity::{
    ListUsersResponse, RoleResponse, TemporaryPassword, UserResponse, UserSchemaResponse,
};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::errors::CliError;
use crate::escape;

/// The most rows in one table of a streamed list.
pub(crate) const TABLE_ROWS: usize = 1000;

/// Where and how a command prints its answer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    json: bool,
}

impl Output {
    /// Tables, or JSON when `json`.
    pub(crate) fn new(json: bool) -> Self {
        Self { json }
    }

    /// Whether answers are printed as JSON.
    pub(crate) fn is_json(self) -> bool {
        self.json
    }

    /// Prints `value` as JSON, or as the table `table` makes of it.
    pub(crate) fn show<T: Serialize + ?Sized>(
        self,
        value: &T,
        table: impl FnOnce(&T) -> Table,
    ) -> io::Result<()> {
        if self.json {
            print_json(value)
        } else {
            print_text(&format!("{}\n", table(value)))
        }
    }

    /// Users, one a row.
    pub(crate) fn users(self, users: &[UserResponse]) -> io::Result<()> {
        self.show(users, users_table)?;
        note(&format!("{} user{}", users.len(), plural(users.len())));
        Ok(())
    }

    /// A streamed list of users, printed as it arrives (see the module's
    /// documentation); a failure part-way ends it after the users before it
    /// (a JSON array is then left unclosed, so that no JSON reader takes it
    /// for the whole list). A failure before the first user prints nothing
    /// on stdout.
    pub(crate) async fn user_stream(
        self,
        users: impl Stream<Item = Result<UserResponse, finbourne_identity::Error>>,
    ) -> Result<(), CliError> {
        let mut users = std::pin::pin!(users);
        let mut out = BufWriter::new(io::stdout());
        let mut count = 0_usize;
        let mut chunk = Vec::new();
        let mut failure = None;
        while let Some(user) = users.next().await {
            let user = match user {
                Ok(user) => user,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            };
            if self.json {
                out.write_all(if count == 0 { b"[\n  " } else { b",\n  " })?;
                let mut element = Vec::new();
                escape::write_json(&mut element, &user, true)?;
                // Indented as an element of a pretty array: the JSON's
                // strings hold no raw line break.
                for (at, part) in element.split(|byte| *byte == b'\n').enumerate() {
                    if at > 0 {
                        out.write_all(b"\n  ")?;
                    }
                    out.write_all(part)?;
                }
            } else {
                chunk.push(user);
                if chunk.len() == TABLE_ROWS {
                    out.write_all(escape::lines(&format!("{}\n", users_table(&chunk))).as_bytes())?;
                    out.flush()?;
                    chunk.clear();
                }
            }
            count += 1;
        }
        if self.json {
            if failure.is_none() {
                out.write_all(if count == 0 { b"[]\n" } else { b"\n]\n" })?;
            }
        } else if !chunk.is_empty() || (count == 0 && failure.is_none()) {
            out.write_all(escape::lines(&format!("{}\n", users_table(&chunk))).as_bytes())?;
        }
        out.flush()?;
        match failure {
            Some(error) => Err(CliError::Sdk(error)),
            None => {
                note(&format!("{count} user{}", plural(count)));
                Ok(())
            }
        }
    }

    /// One user, one field a row.
    pub(crate) fn user(self, user: &UserResponse) -> io::Result<()> {
        self.show(user, user_table)
    }

    /// FindUsersById's answer: the users found, then the ids not found.
    pub(crate) fn found(self, answer: &ListUsersResponse) -> io::Result<()> {
        self.show(answer, found_table)
    }

    /// The user schema.
    pub(crate) fn schema(self, schema: &UserSchemaResponse) -> io::Result<()> {
        self.show(schema, schema_table)
    }

    /// ExpirePassword's temporary password (its purpose is to be shown).
    pub(crate) fn password(self, password: &TemporaryPassword) -> io::Result<()> {
        self.show(password, |password| {
            field_value_table([("Temporary password", password.password.clone())])
        })
    }
}

/// A diagnostic line on stderr (never part of the answer), with no control
/// character but its line breaks (service text in it is escaped whole
/// where it was put in).
pub(crate) fn note(message: &str) {
    print_stderr(&format!("{}\n", escape::lines(message)));
}

/// Writes `text` to stderr as it is. A stderr that cannot be written to
/// (closed by its reader) is not worth failing, nor panicking, for.
pub(crate) fn print_stderr(text: &str) {
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// `value` as pretty JSON on stdout, the exact text of every string with no
/// control character raw.
pub(crate) fn print_json<T: Serialize + ?Sized>(value: &T) -> io::Result<()> {
    let mut text = Vec::new();
    escape::write_json(&mut text, value, true)?;
    text.push(b'\n');
    let mut stdout = io::stdout().lock();
    stdout.write_all(&text)?;
    stdout.flush()
}

/// Writes the CLI's text (a table, the demo's lines) to stdout with no
/// control character but its line breaks, and flushes it.
pub(crate) fn print_text(text: &str) -> io::Result<()> {
    print_stdout(&escape::lines(text))
}

/// Writes `text` to stdout and flushes it, reporting a closed pipe as an
/// error instead of panicking.
fn print_stdout(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// "s" unless there is exactly one.
pub(crate) fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// A table with the CLI's style and a header.
fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    table
}

/// Adds a row to `table`, each cell escaped: the one way rows are added, so
/// that the service's text never reaches a table raw.
fn add_row<const N: usize>(table: &mut Table, cells: [String; N]) {
    table.add_row(cells.map(|cell| escape::untrusted(&cell).into_owned()));
}

/// The users, one a row: id, login, name, email, type, status.
pub(crate) fn users_table(users: &[UserResponse]) -> Table {
    let mut table = table(&["ID", "Login", "Name", "Email", "Type", "Status"]);
    for user in users {
        add_row(
            &mut table,
            [
                user.id.clone(),
                user.login.clone(),
                format!("{} {}", user.first_name, user.last_name),
                user.email_address.clone(),
                user.user_type.to_string(),
                user.status.to_string(),
            ],
        );
    }
    table
}

/// A two-column Field / Value table.
fn field_value_table<'a>(rows: impl IntoIterator<Item = (&'a str, String)>) -> Table {
    let mut table = table(&["Field", "Value"]);
    for (field, value) in rows {
        add_row(&mut table, [field.to_owned(), value]);
    }
    table
}

/// One user, one field a row; optional fields left out when absent.
pub(crate) fn user_table(user: &UserResponse) -> Table {
    let mut rows = vec![
        ("ID", user.id.clone()),
        ("Login", user.login.clone()),
        ("First name", user.first_name.clone()),
        ("Last name", user.last_name.clone()),
        ("Email", user.email_address.clone()),
    ];
    if let Some(second) = &user.second_email_address {
        rows.push(("Second email", second.clone()));
    }
    rows.push(("Type", user.user_type.to_string()));
    rows.push(("Status", user.status.to_string()));
    rows.push(("External", user.external.to_string()));
    for (field, at) in [
        ("Created", user.created),
        ("Last updated", user.last_updated),
        ("Last login", user.last_login),
        ("Password changed", user.password_changed),
        ("Expires", user.user_expiry),
    ] {
        if let Some(at) = at {
            rows.push((field, datetime(at)));
        }
    }
    if let Some(ids) = user
        .alternative_user_ids
        .as_ref()
        .filter(|ids| !ids.is_empty())
    {
        rows.push(("Alternative ids", alternative_ids(ids)));
    }
    if let Some(roles) = &user.roles {
        rows.push(("Roles", role_list(roles)));
    }
    field_value_table(rows)
}

/// The found users, then one row per id not found.
pub(crate) fn found_table(answer: &ListUsersResponse) -> Table {
    let mut table = table(&["ID", "Login", "Name", "Email", "Type", "Found"]);
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    for (id, user) in answer.values.iter().flatten() {
        let name = [&user.first_name, &user.last_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        add_row(
            &mut table,
            [
                id.clone(),
                text(&user.login),
                name,
                text(&user.email),
                user.user_type
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                "yes".to_owned(),
            ],
        );
    }
    for (id, failure) in answer.failed.iter().flatten() {
        let reason = [&failure.error_type, &failure.detail]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(": ");
        let found = if reason.is_empty() {
            "no".to_owned()
        } else {
            format!("no: {reason}")
        };
        add_row(
            &mut table,
            [
                id.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                found,
            ],
        );
    }
    table
}

/// The schema's properties, one a row.
pub(crate) fn schema_table(schema: &UserSchemaResponse) -> Table {
    let mut table = table(&["Property", "Description"]);
    for property in schema.alternative_user_ids.iter().flatten() {
        add_row(
            &mut table,
            [property.name.clone(), property.description.clone()],
        );
    }
    table
}

/// A datetime as RFC 3339.
pub(crate) fn datetime(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// `key=value, key2=value2`.
pub(crate) fn alternative_ids(ids: &BTreeMap<String, Option<String>>) -> String {
    ids.iter()
        .map(|(key, value)| format!("{key}={}", value.as_deref().unwrap_or("")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `scope/code, scope/code`, or `none`.
pub(crate) fn role_list(roles: &[RoleResponse]) -> String {
    if roles.is_empty() {
        return "none".to_owned();
    }
    roles
        .iter()
        .map(|role| format!("{}/{}", role.role_id.scope, role.role_id.code))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {

    use finbourne_identity::{
        ErrorDetail, RoleId, UserSchemaProperty, UserStatus, UserSummary, UserType,
    };

    use super::*;

    fn user() -> UserResponse {
        serde_json::from_value(serde_json::json!({
            "id": "00u1", "emailAddress": "ann@example.com", "login": "ann@example.com",
            "firstName": "Ann", "lastName": "Lee", "type": "Personal", "status": "ACTIVE",
            "external": false, "created": "2024-03-01T09:30:12Z",
            "alternativeUserIds": {"employeeId": "E1"},
        }))
        .unwrap()
    }

    #[test]
    fn a_user_list_shows_each_user_on_a_row() {
        let mut service = user();
        service.id = "00u2".into();
        service.login = "runner".into();
        service.user_type = UserType::Service;
        service.status = UserStatus::Provisioned;
        let text = users_table(&[user(), service]).to_string();
        for value in [
            "00u1",
            "ann@example.com",
            "Ann Lee",
            "Personal",
            "ACTIVE",
            "00u2",
            "runner",
            "Service",
            "PROVISIONED",
        ] {
            assert!(text.contains(value), "{value} missing from\n{text}");
        }
        assert_eq!(text.lines().filter(|line| line.contains("00u")).count(), 2);
    }

    #[test]
    fn one_user_shows_a_field_a_row() {
        let mut user = user();
        user.roles = Some(vec![RoleResponse {
            id: "r1".into(),
            role_id: RoleId::new("default", "analyst"),
            source: "LUSID".into(),
            name: "Analyst".into(),
            description: None,
            saml_name: None,
        }]);
        let text = user_table(&user).to_string();
        for value in [
            "Field",
            "Value",
            "First name",
            "Ann",
            "Created",
            "2024-03-01T09:30:12Z",
            "employeeId=E1",
            "default/analyst",
        ] {
            assert!(text.contains(value), "{value} missing from\n{text}");
        }
        assert!(!text.contains("Second email"));
    }

    #[test]
    fn found_and_failed_ids_are_both_listed() {
        let answer = ListUsersResponse {
            values: Some(BTreeMap::from([(
                "00u1".to_owned(),
                UserSummary {
                    id: Some("00u1".into()),
                    login: Some("ann@example.com".into()),
                    first_name: Some("Ann".into()),
                    last_name: Some("Lee".into()),
                    ..UserSummary::default()
                },
            )])),
            failed: Some(BTreeMap::from([(
                "nobody".to_owned(),
                ErrorDetail {
                    id: Some("nobody".into()),
                    error_type: Some("NotFound".into()),
                    detail: Some("no such user".into()),
                },
            )])),
            ..ListUsersResponse::default()
        };
        let text = found_table(&answer).to_string();
        for value in [
            "00u1",
            "Ann Lee",
            "yes",
            "nobody",
            "no: NotFound: no such user",
        ] {
            assert!(text.contains(value), "{value} missing from\n{text}");
        }
    }

    #[test]
    fn schema_and_small_formats() {
        let schema = UserSchemaResponse {
            alternative_user_ids: Some(vec![UserSchemaProperty::new("employeeId", "HR number")]),
        };
        let text = schema_table(&schema).to_string();
        assert!(text.contains("employeeId") && text.contains("HR number"));
        assert_eq!(role_list(&[]), "none");
        assert_eq!(
            alternative_ids(&BTreeMap::from([
                ("a".into(), Some("1".into())),
                ("b".into(), None)
            ])),
            "a=1, b="
        );
        assert_eq!(plural(1), "");
        assert_eq!(plural(0), "s");
    }

    #[test]
    fn no_control_character_of_the_service_reaches_a_table() {
        let mut hostile = user();
        hostile.first_name = "\u{1b}[31mAnn\u{7}".into();
        hostile.last_name = "Lee\u{9b}2J\nForged row".into();
        hostile.roles = Some(vec![RoleResponse {
            id: "r1".into(),
            role_id: RoleId::new("default\u{1b}", "analyst"),
            source: "LUSID".into(),
            name: "Analyst".into(),
            description: None,
            saml_name: None,
        }]);
        let schema = UserSchemaResponse {
            alternative_user_ids: Some(vec![UserSchemaProperty::new("id\u{7}", "x\u{1b}")]),
        };
        for text in [
            users_table(std::slice::from_ref(&hostile)).to_string(),
            user_table(&hostile).to_string(),
            schema_table(&schema).to_string(),
        ] {
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{text:?}"
            );
        }
        let text = users_table(&[hostile]).to_string();
        assert!(text.contains("\\x1b[31mAnn\\x07"), "{text}");
        assert!(text.contains("Lee\\u{9b}2J\\nForged row"), "{text}");
        let mut reordering = user();
        reordering.last_name = "Lee\u{202e}gpj.exe".into();
        let text = users_table(&[reordering]).to_string();
        assert!(text.contains("Lee\\u{202e}gpj.exe"), "{text}");
        assert!(!text.contains('\u{202e}'), "{text}");
    }
}
