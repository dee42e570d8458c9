//! Users as CSV: the columns `users export --format csv` writes and `users
//! import` reads ([`crate::args::CSV_COLUMNS_HELP`] documents them).
//!
//! One row a user, under a header row of the contract's field names.
//! Scalars are the contract's JSON values as text (datetimes in RFC 3339);
//! an empty cell is an absent value. The two structured fields are lists in
//! one cell: `roles` as `scope/code;scope/code` and `alternativeUserIds` as
//! `key=value;key=value` (a key alone has a null value). Inside a scope,
//! code, key or value, a `;`, `=`, `/` or `\` is written with a `\` before
//! it, so that every value, whatever it holds, reads back the same.
//!
//! A row is read by turning it into the JSON object of a CreateUserRequest
//! and decoding that, so that CSV and JSON lines are checked by one and
//! the same code, with the same messages.

use std::collections::BTreeMap;

use finbourne_identity::{RoleId, RoleResponse, UserResponse};
use serde_json::{Map, Value};

use crate::output::datetime;

/// The columns of an export, in order.
pub(crate) const EXPORT_COLUMNS: [&str; 16] = [
    "id",
    "login",
    "firstName",
    "lastName",
    "emailAddress",
    "secondEmailAddress",
    "type",
    "status",
    "external",
    "userExpiry",
    "created",
    "lastUpdated",
    "lastLogin",
    "passwordChanged",
    "roles",
    "alternativeUserIds",
];

/// The columns an import needs.
pub(crate) const REQUIRED_COLUMNS: [&str; 5] =
    ["firstName", "lastName", "emailAddress", "login", "type"];

/// The plain text columns an import reads (besides the two lists).
const TEXT_COLUMNS: [&str; 7] = [
    "firstName",
    "lastName",
    "emailAddress",
    "secondEmailAddress",
    "login",
    "type",
    "userExpiry",
];

/// The characters escaped inside a list's parts.
const SPECIAL: [char; 4] = ['\\', ';', '=', '/'];

/// A user's row, in the order of [`EXPORT_COLUMNS`].
pub(crate) fn user_row(user: &UserResponse) -> [String; 16] {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let at = |value: Option<time::OffsetDateTime>| value.map(datetime).unwrap_or_default();
    [
        user.id.clone(),
        user.login.clone(),
        user.first_name.clone(),
        user.last_name.clone(),
        user.email_address.clone(),
        text(&user.second_email_address),
        user.user_type.to_string(),
        user.status.to_string(),
        user.external.to_string(),
        at(user.user_expiry),
        at(user.created),
        at(user.last_updated),
        at(user.last_login),
        at(user.password_changed),
        user.roles.as_deref().map(roles_cell).unwrap_or_default(),
        user.alternative_user_ids
            .as_ref()
            .map(alternative_ids_cell)
            .unwrap_or_default(),
    ]
}

/// `scope/code;scope/code`.
pub(crate) fn roles_cell(roles: &[RoleResponse]) -> String {
    join_roles(roles.iter().map(|role| &role.role_id))
}

fn join_roles<'a>(roles: impl Iterator<Item = &'a RoleId>) -> String {
    roles
        .map(|role| format!("{}/{}", escaped(&role.scope), escaped(&role.code)))
        .collect::<Vec<_>>()
        .join(";")
}

/// `key=value;key` (a key alone: a null value).
pub(crate) fn alternative_ids_cell(ids: &BTreeMap<String, Option<String>>) -> String {
    ids.iter()
        .map(|(key, value)| match value {
            Some(value) => format!("{}={}", escaped(key), escaped(value)),
            None => escaped(key),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `text` with a `\` before each special character.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if SPECIAL.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The raw (still escaped) parts of `text` between the `separator`s that
/// have no `\` before them.
fn split_raw(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts.push(&text[start..at]);
            start = at + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Splits the raw (still escaped) `text` at the first unescaped `separator`
/// into its two unescaped halves.
fn split_once_escaped(text: &str, separator: char) -> (String, Option<String>) {
    let mut left = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => left.push(chars.next().unwrap_or('\\')),
            c if c == separator => return (left, Some(unescaped(chars.as_str()))),
            c => left.push(c),
        }
    }
    (left, None)
}

/// `text` with its escapes removed.
fn unescaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next().unwrap_or('\\')),
            c => out.push(c),
        }
    }
    out
}

/// The raw parts of a list cell (an empty cell has none).
fn list_parts(cell: &str) -> Vec<&str> {
    if cell.is_empty() {
        Vec::new()
    } else {
        split_raw(cell, ';')
    }
}

/// A `roles` cell as the JSON of a list of role ids.
pub(crate) fn parse_roles(cell: &str) -> Result<Value, String> {
    let mut roles = Vec::new();
    for raw in list_parts(cell) {
        match split_once_escaped(raw, '/') {
            (scope, Some(code)) if !scope.trim().is_empty() && !code.trim().is_empty() => {
                roles.push(serde_json::json!({ "scope": scope, "code": code }));
            }
            _ => {
                return Err(format!(
                    "expected scope/code;scope/code, e.g. default/analyst, not {raw:?}"
                ));
            }
        }
    }
    Ok(Value::Array(roles))
}

/// An `alternativeUserIds` cell as the JSON of a map.
pub(crate) fn parse_alternative_ids(cell: &str) -> Result<Value, String> {
    let mut ids = Map::new();
    for raw in list_parts(cell) {
        let (key, value) = split_once_escaped(raw, '=');
        if key.trim().is_empty() {
            return Err(format!(
                "expected key=value;key=value, e.g. employeeId=E1001, not {raw:?}"
            ));
        }
        if ids.contains_key(&key) {
            return Err(format!("the key {key:?} is given twice"));
        }
        ids.insert(key, value.map_or(Value::Null, Value::String));
    }
    Ok(Value::Object(ids))
}

/// Where each column is in the header row, checked for the columns an
/// import needs.
#[derive(Debug)]
pub(crate) struct Header {
    index: BTreeMap<String, usize>,
}

impl Header {
    /// The header row's columns; an error names the missing ones.
    pub(crate) fn new(columns: &csv::StringRecord) -> Result<Self, String> {
        let mut index = BTreeMap::new();
        for (at, name) in columns.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}');
            if index.insert(name.to_owned(), at).is_some() {
                return Err(format!("the header row has the column {name} twice"));
            }
        }
        let missing: Vec<&str> = REQUIRED_COLUMNS
            .into_iter()
            .filter(|name| !index.contains_key(*name))
            .collect();
        if missing.is_empty() {
            Ok(Self { index })
        } else {
            Err(format!(
                "the header row has no column {} (the columns are those of `users export --format csv`)",
                missing.join(", ")
            ))
        }
    }

    /// The cell of `row` in the column `name`, if there is one.
    pub(crate) fn cell<'r>(&self, row: &'r csv::StringRecord, name: &str) -> Option<&'r str> {
        self.index.get(name).and_then(|at| row.get(*at))
    }

    /// A row as the JSON object of a CreateUserRequest, or each cell's
    /// error, by field.
    pub(crate) fn request_json(
        &self,
        row: &csv::StringRecord,
    ) -> Result<Value, BTreeMap<String, Vec<String>>> {
        let cell = |name: &str| self.cell(row, name);
        let mut object = Map::new();
        for name in TEXT_COLUMNS {
            match cell(name) {
                // Required columns keep an empty cell, so that the checks
                // name the field; optional ones leave it out.
                Some(text) if !text.is_empty() || REQUIRED_COLUMNS.contains(&name) => {
                    object.insert(name.to_owned(), Value::String(text.to_owned()));
                }
                _ => {}
            }
        }
        let mut errors = BTreeMap::new();
        for (name, parse) in [
            ("roles", parse_roles as fn(&str) -> Result<Value, String>),
            ("alternativeUserIds", parse_alternative_ids),
        ] {
            match cell(name).filter(|text| !text.is_empty()).map(parse) {
                Some(Ok(value)) => {
                    object.insert(name.to_owned(), value);
                }
                Some(Err(message)) => {
                    errors.insert(name.to_owned(), vec![message]);
                }
                None => {}
            }
        }
        if errors.is_empty() {
            Ok(Value::Object(object))
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use finbourne_identity::CreateUserRequest;

    use super::*;

    fn header(names: &[&str]) -> Header {
        Header::new(&csv::StringRecord::from(names.to_vec())).unwrap()
    }

    #[test]
    fn lists_round_trip_whatever_they_hold() {
        let ids = BTreeMap::from([
            ("employeeId".to_owned(), Some("E1".to_owned())),
            ("odd;key=x/\\".to_owned(), Some("a=b;c\\d/e".to_owned())),
            ("empty".to_owned(), Some(String::new())),
            ("none".to_owned(), None),
        ]);
        let cell = alternative_ids_cell(&ids);
        assert_eq!(
            cell,
            "employeeId=E1;empty=;none;odd\\;key\\=x\\/\\\\=a\\=b\\;c\\\\d\\/e"
        );
        let back: BTreeMap<String, Option<String>> =
            serde_json::from_value(parse_alternative_ids(&cell).unwrap()).unwrap();
        assert_eq!(back, ids);

        let roles = [
            RoleId::new("default", "analyst"),
            RoleId::new("a/b;c", "x=y\\"),
        ];
        let cell = join_roles(roles.iter());
        assert_eq!(cell, "default/analyst;a\\/b\\;c/x\\=y\\\\");
        let back: Vec<RoleId> = serde_json::from_value(parse_roles(&cell).unwrap()).unwrap();
        assert_eq!(back, roles);

        assert_eq!(parse_roles("").unwrap(), Value::Array(Vec::new()));
        // A code may hold an unescaped slash: only the first one splits.
        let back: Vec<RoleId> =
            serde_json::from_value(parse_roles("default/a/b").unwrap()).unwrap();
        assert_eq!(back, [RoleId::new("default", "a/b")]);
    }

    #[test]
    fn bad_lists_are_refused() {
        for bad in ["analyst", "/analyst", "default/", "a/b;;c/d"] {
            assert!(parse_roles(bad).is_err(), "{bad}");
        }
        for bad in ["=v", "k=1;k=2", "a=1;;b=2"] {
            assert!(parse_alternative_ids(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_row_becomes_a_create_user_request() {
        let header = header(&[
            "\u{feff}id",
            "login",
            "firstName",
            "lastName",
            "emailAddress",
            "secondEmailAddress",
            "type",
            "status",
            "userExpiry",
            "roles",
            "alternativeUserIds",
        ]);
        let row = csv::StringRecord::from(vec![
            "00u1",
            "ann-bot",
            "Ann",
            "Lee",
            "ann@example.com",
            "ops@example.com",
            "Service",
            "ACTIVE",
            "2030-01-31T00:00:00Z",
            "default/runner",
            "employeeId=E9",
        ]);
        let request: CreateUserRequest =
            serde_json::from_value(header.request_json(&row).unwrap()).unwrap();
        let mut expected = CreateUserRequest::service("Ann", "Lee", "ann@example.com", "ann-bot")
            .with_second_email_address("ops@example.com")
            .with_role(RoleId::new("default", "runner"))
            .with_alternative_user_id("employeeId", "E9");
        expected.user_expiry = Some(time::macros::datetime!(2030-01-31 00:00 UTC));
        assert_eq!(request, expected);

        let sparse = csv::StringRecord::from(vec![
            "",
            "ann@example.com",
            "",
            "Lee",
            "ann@example.com",
            "",
            "Personal",
            "",
            "",
            "",
            "",
        ]);
        let json = header.request_json(&sparse).unwrap();
        assert_eq!(
            json["firstName"], "",
            "a required field stays, to be checked"
        );
        assert!(json.get("secondEmailAddress").is_none());
        assert!(json.get("roles").is_none());

        let bad = csv::StringRecord::from(vec![
            "", "a", "A", "B", "a@b.c", "", "Personal", "", "", "analyst", "=x",
        ]);
        let errors = header.request_json(&bad).unwrap_err();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["alternativeUserIds", "roles"]
        );
    }

    #[test]
    fn a_header_without_the_needed_columns_is_refused() {
        let error =
            Header::new(&csv::StringRecord::from(vec!["firstName", "lastName"])).unwrap_err();
        assert!(error.contains("emailAddress, login, type"), "{error}");
        assert!(
            Header::new(&csv::StringRecord::from(vec![
                "firstName",
                "lastName",
                "emailAddress",
                "login",
                "type",
                "login"
            ]))
            .is_err()
        );
    }
}
