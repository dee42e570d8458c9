//! One line of an import: what it asks for, once read and checked
//! ([`Parsed`]), and what became of it ([`LineResult`], as the report and
//! `--json` write it).
//!
//! Both formats are checked by the same code: a JSON line, or a CSV row
//! turned into the same JSON object ([`crate::columns`]), is decoded as a
//! CreateUserRequest and checked with `validate()`. Two things an export
//! writes are read on the way, so that every export imports back:
//!
//! - `roles` as an export with `--include-roles` writes them (RoleResponse
//!   objects, `{"roleId":{"scope":..,"code":..},"name":..}`) as well as a
//!   request's (`{"scope":..,"code":..}`);
//! - `status`: a row of a user who left (`DEPROVISIONED`, in an
//!   `--include-deactivated` export) is marked, so that it is not
//!   recreated unless asked (recreating it sends a former member of staff
//!   an activation email).

use std::collections::BTreeMap;

use finbourne_identity::{CreateUserRequest, Error, ErrorCode};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::columns::Header;
use crate::commands::bulk::source::LineParser;

/// What became of one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "outcome"
)]
pub(crate) enum Outcome {
    /// Checked and valid (`--dry-run`).
    Valid,
    /// Created, with the new user's id.
    Created {
        /// The new user's id.
        id: String,
    },
    /// Not created, on purpose.
    Skipped {
        /// The existing user's id, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// Why not.
        reason: SkipReason,
        /// Why not, in words.
        message: String,
    },
    /// Not created.
    Failed {
        /// The service's answer's status, when it answered.
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        /// The service's error code, when it sent one.
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<i32>,
        /// Why.
        message: String,
        /// The messages of each field at fault.
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        field_errors: BTreeMap<String, Vec<String>>,
        /// The service's request id, when it answered.
        #[serde(skip_serializing_if = "Option::is_none")]
        request_id: Option<String>,
    },
}

/// Why a line was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum SkipReason {
    /// The service says the login exists already.
    Exists,
    /// The row is of a user who left (`DEPROVISIONED`), not recreated
    /// without `--recreate-deprovisioned`.
    Deprovisioned,
}

impl Outcome {
    /// A line that failed for `message`, without an answer of the service.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self::Failed {
            status: None,
            code: None,
            message: message.into(),
            field_errors: BTreeMap::new(),
            request_id: None,
        }
    }

    /// A failed call, with what the service said.
    pub(crate) fn of_error(error: &Error, message: String) -> Self {
        Self::Failed {
            status: error.status().map(|status| status.as_u16()),
            code: error.code().map(ErrorCode::number),
            message,
            field_errors: error.field_errors().cloned().unwrap_or_default(),
            request_id: error.request_id().map(str::to_owned),
        }
    }

    /// A line that breaks the contract's rules.
    fn invalid(field_errors: BTreeMap<String, Vec<String>>) -> Self {
        Self::Failed {
            status: None,
            code: None,
            message: "not valid".to_owned(),
            field_errors,
            request_id: None,
        }
    }
}

/// One line of the input and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LineResult {
    /// The line number, from 1 (blank lines and a CSV header count).
    pub(crate) line: usize,
    /// The login the line asks for, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) login: Option<String>,
    /// What became of it.
    #[serde(flatten)]
    pub(crate) outcome: Outcome,
}

/// A line as read and checked.
#[derive(Debug)]
pub(crate) enum Parsed {
    /// A request that passed its checks.
    Ready {
        /// The request.
        request: CreateUserRequest,
        /// Whether the row is of a user who left (`DEPROVISIONED`).
        deprovisioned: bool,
    },
    /// Not a request that can be sent: why, and the login if it could be
    /// read.
    Bad {
        /// The login, if it could be read.
        login: Option<String>,
        /// Why (a failed outcome).
        outcome: Outcome,
    },
}

/// What an import makes of each line of its input.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ImportLines;

impl LineParser for ImportLines {
    type Parsed = Parsed;

    fn json_line(&self, text: &[u8]) -> Parsed {
        parse_json_line(text)
    }

    fn csv_row(&self, header: &Header, row: &csv::StringRecord) -> Option<Parsed> {
        let login = header.cell(row, "login").map(str::to_owned);
        match header.request_json(row) {
            Ok(Value::Object(mut object)) => {
                if let Some(status) = header.cell(row, "status").filter(|s| !s.is_empty()) {
                    object.insert("status".into(), status.into());
                }
                Some(check_object(object, login))
            }
            Ok(_) => None,
            Err(field_errors) => Some(invalid_row(login, field_errors)),
        }
    }

    fn bad_line(&self, message: String) -> Parsed {
        Parsed::Bad {
            login: None,
            outcome: Outcome::failed(message),
        }
    }
}

/// A JSON line, checked.
pub(crate) fn parse_json_line(text: &[u8]) -> Parsed {
    match serde_json::from_slice::<Map<String, Value>>(text) {
        Ok(object) => check_object(object, None),
        Err(error) => Parsed::Bad {
            login: None,
            outcome: Outcome::failed(json_error(&error)),
        },
    }
}

/// The JSON object of a line (from a JSON line, or a CSV row), decoded as a
/// CreateUserRequest and checked; `login` is what to report when it cannot
/// be decoded (a CSV row's login cell).
pub(crate) fn check_object(mut object: Map<String, Value>, login: Option<String>) -> Parsed {
    let deprovisioned = is_deprovisioned(&object);
    roles_as_ids(&mut object);
    let login = login.or_else(|| {
        object
            .get("login")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let request =
        match serde_path_to_error::deserialize::<_, CreateUserRequest>(Value::Object(object)) {
            Ok(request) => request,
            Err(error) => {
                return Parsed::Bad {
                    login,
                    outcome: Outcome::failed(format!(
                        "not a CreateUserRequest: {}",
                        at_field(&error)
                    )),
                };
            }
        };
    match request.validate() {
        Ok(()) => Parsed::Ready {
            request,
            deprovisioned,
        },
        Err(errors) => Parsed::Bad {
            login: Some(request.login),
            outcome: Outcome::invalid(errors.into_map()),
        },
    }
}

/// The `roles` of a line as role ids: a RoleResponse, as an export with
/// roles writes it (`{"roleId":{"scope":..,"code":..},"name":..}`), becomes
/// its id.
pub(crate) fn roles_as_ids(object: &mut Map<String, Value>) {
    if let Some(Value::Array(roles)) = object.get_mut("roles") {
        for role in roles {
            if let Some(id) = role.get("roleId").filter(|id| id.is_object()).cloned() {
                *role = id;
            }
        }
    }
}

/// Whether a line is of a user who left: its `status` is `DEPROVISIONED`
/// (an export with `--include-deactivated` writes it).
pub(crate) fn is_deprovisioned(object: &Map<String, Value>) -> bool {
    object
        .get("status")
        .and_then(Value::as_str)
        .is_some_and(|status| status.eq_ignore_ascii_case("DEPROVISIONED"))
}

/// A CSV row's cells in error, by field.
pub(crate) fn invalid_row(
    login: Option<String>,
    field_errors: BTreeMap<String, Vec<String>>,
) -> Parsed {
    Parsed::Bad {
        login,
        outcome: Outcome::invalid(field_errors),
    }
}

/// Why a value could not be decoded, led by the field it failed in (a
/// CSV row's column of the same name): `userExpiry: invalid ...`.
pub(crate) fn at_field<E: std::fmt::Display>(error: &serde_path_to_error::Error<E>) -> String {
    let path = error.path().to_string();
    if path == "." {
        error.inner().to_string()
    } else {
        format!("{path}: {}", error.inner())
    }
}

/// Why a line is not a CreateUserRequest, placed by column (serde_json's
/// "line 1" would be confused with the file's line numbers).
fn json_error(error: &serde_json::Error) -> String {
    format!("not a CreateUserRequest: {}", json_reason(error))
}

/// Why a line is not the JSON expected, placed by column rather than by
/// serde_json's "line 1".
pub(crate) fn json_reason(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let message = text.split(" at line ").next().unwrap_or(&text);
    format!("{message} (column {})", error.column())
}

#[cfg(test)]
mod tests {
    use finbourne_identity::RoleId;

    use super::*;

    const ANN: &str = r#"{"firstName":"Ann","lastName":"Lee","emailAddress":"ann@example.com","login":"ann@example.com","type":"Personal"}"#;

    #[test]
    fn a_good_line_is_ready_and_a_bad_one_says_why() {
        let Parsed::Ready {
            request,
            deprovisioned,
        } = parse_json_line(ANN.as_bytes())
        else {
            panic!("refused");
        };
        assert_eq!(request.login, "ann@example.com");
        assert!(!deprovisioned);

        let Parsed::Bad { login, outcome } = parse_json_line(b"not json") else {
            panic!("accepted");
        };
        assert_eq!(login, None);
        let Outcome::Failed { message, .. } = outcome else {
            panic!("not failed");
        };
        assert!(message.starts_with("not a CreateUserRequest"), "{message}");
        assert!(!message.contains("at line"), "{message}");

        let bad = ANN.replace("\"Ann\"", "\"\"");
        let Parsed::Bad { login, outcome } = parse_json_line(bad.as_bytes()) else {
            panic!("accepted");
        };
        assert_eq!(login.as_deref(), Some("ann@example.com"));
        assert!(matches!(
            outcome,
            Outcome::Failed { field_errors, .. } if field_errors.contains_key("firstName")
        ));
    }

    #[test]
    fn a_value_that_cannot_be_decoded_names_its_field() {
        let bad_date = ANN.replace(
            "\"type\":\"Personal\"",
            "\"type\":\"Personal\",\"userExpiry\":\"31/01/2030\"",
        );
        let Parsed::Bad { outcome, .. } = parse_json_line(bad_date.as_bytes()) else {
            panic!("accepted");
        };
        let Outcome::Failed { message, .. } = outcome else {
            panic!("not failed");
        };
        assert!(
            message.starts_with("not a CreateUserRequest: userExpiry: "),
            "{message}"
        );
    }

    #[test]
    fn an_exported_user_with_roles_and_a_status_is_read_as_a_request() {
        let exported = serde_json::json!({
            "id": "00u1", "login": "build-bot", "firstName": "Build", "lastName": "Bot",
            "emailAddress": "ops@example.com", "type": "Service", "status": "DEPROVISIONED",
            "external": false, "created": "2024-03-01T09:30:12Z",
            "roles": [
                {"id": "r1", "roleId": {"scope": "default", "code": "runner"},
                 "source": "LUSID", "name": "Runner"},
                {"scope": "odd", "code": "one"},
            ],
        });
        let Parsed::Ready {
            request,
            deprovisioned,
        } = parse_json_line(exported.to_string().as_bytes())
        else {
            panic!("refused");
        };
        assert!(deprovisioned);
        assert_eq!(
            request.roles,
            Some(vec![
                RoleId::new("default", "runner"),
                RoleId::new("odd", "one")
            ])
        );
    }
}
