//! Comparing a user of the directory with the user of the domain, the way
//! the service stores values, so that a directory that has not changed
//! plans nothing, night after night:
//!
//! - logins and email addresses are compared case-insensitively (the
//!   service compares logins so, and mail systems ignore the case);
//! - an alternative id that is null, empty or absent is the same "no
//!   value", and so is an absent map;
//! - datetimes are the same instant, whatever their offsets, to the
//!   service's precision (.NET's ticks of 100 ns);
//! - names are compared exactly.
//!
//! A change is one field's old and new value, as text ([`FieldChange`]):
//! what a plan shows, and what the apply checks the user still has before
//! it writes.

use std::collections::BTreeMap;
use std::fmt;

use identity_models::{RoleId, UpdateUserRequest, UserResponse, UserType};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::DesiredUser;

/// A field of a user that a sync may change.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UserField {
    /// `firstName`.
    FirstName,
    /// `lastName`.
    LastName,
    /// `emailAddress`.
    EmailAddress,
    /// `login`.
    Login,
    /// `secondEmailAddress`.
    SecondEmailAddress,
    /// `userExpiry`.
    UserExpiry,
    /// One key of `alternativeUserIds`, written `alternativeUserIds.KEY`.
    AlternativeUserId(String),
}

impl UserField {
    /// The field's value in `user`, as text.
    pub fn of(&self, user: &UserResponse) -> Option<String> {
        match self {
            UserField::FirstName => Some(user.first_name.clone()),
            UserField::LastName => Some(user.last_name.clone()),
            UserField::EmailAddress => Some(user.email_address.clone()),
            UserField::Login => Some(user.login.clone()),
            UserField::SecondEmailAddress => user.second_email_address.clone(),
            UserField::UserExpiry => user.user_expiry.and_then(datetime_text),
            UserField::AlternativeUserId(key) => user
                .alternative_user_ids
                .as_ref()
                .and_then(|ids| ids.get(key).cloned().flatten()),
        }
    }

    /// Whether two values of this field are the same as the service
    /// stores them.
    pub fn same(&self, a: Option<&str>, b: Option<&str>) -> bool {
        let (a, b) = match self {
            UserField::AlternativeUserId(_) => {
                (a.filter(|a| !a.is_empty()), b.filter(|b| !b.is_empty()))
            }
            _ => (a, b),
        };
        match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => match self {
                UserField::EmailAddress | UserField::Login | UserField::SecondEmailAddress => {
                    a.to_lowercase() == b.to_lowercase()
                }
                UserField::UserExpiry => match (ticks(a), ticks(b)) {
                    (Some(a), Some(b)) => a == b,
                    _ => a == b,
                },
                _ => a == b,
            },
            _ => false,
        }
    }

    /// Sets the field to `value` in an update.
    pub(crate) fn set(
        &self,
        request: &mut UpdateUserRequest,
        value: Option<&str>,
    ) -> Result<(), String> {
        let required = |value: Option<&str>| {
            value
                .map(str::to_owned)
                .ok_or_else(|| format!("{self} cannot be empty"))
        };
        match self {
            UserField::FirstName => request.first_name = required(value)?,
            UserField::LastName => request.last_name = required(value)?,
            UserField::EmailAddress => request.email_address = required(value)?,
            UserField::Login => request.login = required(value)?,
            UserField::SecondEmailAddress => {
                request.second_email_address = value.map(str::to_owned);
            }
            UserField::UserExpiry => {
                request.user_expiry = value
                    .map(|text| {
                        OffsetDateTime::parse(text, &Rfc3339)
                            .map_err(|error| format!("userExpiry {text:?}: {error}"))
                    })
                    .transpose()?;
            }
            UserField::AlternativeUserId(key) => {
                let ids = request
                    .alternative_user_ids
                    .get_or_insert_with(Default::default);
                match value.filter(|value| !value.is_empty()) {
                    Some(value) => {
                        ids.insert(key.clone(), Some(value.to_owned()));
                    }
                    None => {
                        ids.remove(key);
                    }
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for UserField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserField::FirstName => f.write_str("firstName"),
            UserField::LastName => f.write_str("lastName"),
            UserField::EmailAddress => f.write_str("emailAddress"),
            UserField::Login => f.write_str("login"),
            UserField::SecondEmailAddress => f.write_str("secondEmailAddress"),
            UserField::UserExpiry => f.write_str("userExpiry"),
            UserField::AlternativeUserId(key) => write!(f, "alternativeUserIds.{key}"),
        }
    }
}

impl std::str::FromStr for UserField {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Ok(match text {
            "firstName" => UserField::FirstName,
            "lastName" => UserField::LastName,
            "emailAddress" => UserField::EmailAddress,
            "login" => UserField::Login,
            "secondEmailAddress" => UserField::SecondEmailAddress,
            "userExpiry" => UserField::UserExpiry,
            other => match other.strip_prefix("alternativeUserIds.") {
                Some(key) if !key.is_empty() => UserField::AlternativeUserId(key.to_owned()),
                _ => return Err(format!("not a field a sync changes: {other:?}")),
            },
        })
    }
}

impl Serialize for UserField {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for UserField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// One field's change: its value in the domain, and the directory's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    /// The field.
    pub field: UserField,
    /// Its value in the domain when planned (`None`: no value).
    pub old: Option<String>,
    /// Its value in the directory.
    pub new: Option<String>,
}

/// The fields of `user` (in the domain) that differ from `desired`, in a
/// fixed order; nothing for a field the directory does not manage.
pub(crate) fn changes(user: &UserResponse, desired: &DesiredUser) -> Vec<FieldChange> {
    let mut wanted: Vec<(UserField, Option<String>)> = vec![
        (UserField::FirstName, Some(desired.first_name.clone())),
        (UserField::LastName, Some(desired.last_name.clone())),
        (UserField::EmailAddress, Some(desired.email_address.clone())),
        (UserField::Login, Some(desired.login.clone())),
    ];
    if let Some(second) = &desired.second_email_address {
        wanted.push((UserField::SecondEmailAddress, second.clone()));
    }
    if let Some(expiry) = desired.user_expiry {
        wanted.push((UserField::UserExpiry, expiry.and_then(datetime_text)));
    }
    for (key, value) in &desired.alternative_user_ids {
        wanted.push((UserField::AlternativeUserId(key.clone()), value.clone()));
    }
    wanted
        .into_iter()
        .filter_map(|(field, new)| {
            let old = field.of(user);
            (!field.same(old.as_deref(), new.as_deref())).then_some(FieldChange { field, old, new })
        })
        .collect()
}

/// Whether the roles of the directory differ from the domain's, when the
/// domain's are known (`Some`) and the directory names some: as sets.
pub(crate) fn roles_differ(user: &UserResponse, desired: &DesiredUser) -> Option<bool> {
    let wanted = desired.roles.as_ref()?;
    let have = user.roles.as_ref()?;
    let key = |role: &RoleId| (role.scope.clone(), role.code.clone());
    let mut wanted: Vec<_> = wanted.iter().map(key).collect();
    let mut have: Vec<_> = have.iter().map(|role| key(&role.role_id)).collect();
    wanted.sort();
    wanted.dedup();
    have.sort();
    have.dedup();
    Some(wanted != have)
}

/// A user's fields as the plan records them before a delete, to check
/// that the user is still the one planned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The fields, by name, with their values as text.
    pub fields: BTreeMap<UserField, Option<String>>,
    /// The user's type.
    #[serde(rename = "type")]
    pub user_type: UserType,
}

impl Snapshot {
    /// The snapshot of `user`.
    pub fn of(user: &UserResponse) -> Self {
        let mut fields: Vec<UserField> = vec![
            UserField::FirstName,
            UserField::LastName,
            UserField::EmailAddress,
            UserField::Login,
            UserField::SecondEmailAddress,
            UserField::UserExpiry,
        ];
        if let Some(ids) = &user.alternative_user_ids {
            fields.extend(ids.keys().cloned().map(UserField::AlternativeUserId));
        }
        Self {
            fields: fields
                .into_iter()
                .map(|field| {
                    let value = field.of(user);
                    (field, value)
                })
                .collect(),
            user_type: user.user_type.clone(),
        }
    }

    /// The first field in which `user` differs from the snapshot: the
    /// field, its value then and now.
    pub fn first_difference(&self, user: &UserResponse) -> Option<FieldChange> {
        let now = Snapshot::of(user);
        let mut fields: Vec<&UserField> = self.fields.keys().chain(now.fields.keys()).collect();
        fields.sort();
        fields.dedup();
        let value =
            |snapshot: &Snapshot, field: &UserField| snapshot.fields.get(field).cloned().flatten();
        fields.into_iter().find_map(|field| {
            let (old, new) = (value(self, field), value(&now, field));
            (!field.same(old.as_deref(), new.as_deref())).then(|| FieldChange {
                field: field.clone(),
                old,
                new,
            })
        })
    }
}

/// A datetime as RFC 3339 text (`None`: one RFC 3339 cannot write).
pub(crate) fn datetime_text(at: OffsetDateTime) -> Option<String> {
    at.format(&Rfc3339).ok()
}

/// An RFC 3339 datetime as 100 ns ticks since the epoch.
fn ticks(text: &str) -> Option<i128> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    Some(at.unix_timestamp_nanos().div_euclid(100))
}

#[cfg(test)]
mod tests {
    use identity_models::CreateUserRequest;

    use super::*;

    fn user() -> UserResponse {
        serde_json::from_value(serde_json::json!({
            "id": "00u1", "emailAddress": "Ann.Lee@Acme.com", "login": "Ann.Lee@Acme.com",
            "firstName": "Ann", "lastName": "Lee", "type": "Personal", "status": "ACTIVE",
            "external": false, "alternativeUserIds": {"employeeId": "E1", "desk": null},
            "userExpiry": "2030-01-31T01:00:00.1234567+01:00",
        }))
        .unwrap()
    }

    #[test]
    fn values_stored_the_same_way_are_no_change() {
        let mut desired = DesiredUser::from(
            CreateUserRequest::personal("Ann", "Lee", "ann.lee@acme.com")
                .with_alternative_user_id("employeeId", "E1")
                .with_user_expiry(time::macros::datetime!(2030-01-31 00:00:00.12345678 UTC)),
        );
        desired
            .alternative_user_ids
            .insert("desk".into(), Some(String::new()));
        assert_eq!(changes(&user(), &desired), []);
    }

    #[test]
    fn each_field_that_differs_is_a_change_with_its_old_and_new_value() {
        let mut desired = DesiredUser::from(
            CreateUserRequest::personal("Anne", "Lee", "ann.lee@acme.com")
                .with_alternative_user_id("employeeId", "E2"),
        );
        desired.alternative_user_ids.insert("other".into(), None);
        let found = changes(&user(), &desired);
        let fields: Vec<String> = found
            .iter()
            .map(|change| change.field.to_string())
            .collect();
        assert_eq!(
            fields,
            ["firstName", "userExpiry", "alternativeUserIds.employeeId"]
        );
        assert_eq!(found[0].old.as_deref(), Some("Ann"));
        assert_eq!(found[1].new, None);
        // Not managed: left as it is.
        desired.user_expiry = None;
        assert_eq!(changes(&user(), &desired).len(), 2);
    }

    #[test]
    fn a_snapshot_tells_the_first_field_changed_since() {
        let before = Snapshot::of(&user());
        assert_eq!(before.first_difference(&user()), None);
        let mut now = user();
        now.email_address = "ann.lee@acme.com".into();
        assert_eq!(before.first_difference(&now), None, "case only");
        now.last_name = "Lee-Smith".into();
        let difference = before.first_difference(&now).unwrap();
        assert_eq!(difference.field, UserField::LastName);
        let text = serde_json::to_string(&before).unwrap();
        assert_eq!(serde_json::from_str::<Snapshot>(&text).unwrap(), before);
        assert_eq!(
            "alternativeUserIds.k".parse(),
            Ok(UserField::AlternativeUserId("k".into()))
        );
        assert!("roles".parse::<UserField>().is_err());
    }
}
