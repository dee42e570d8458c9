//! The `users` commands that are one call each (or, for `update`, a get and
//! a put): build the request from the flags, send it, print the answer.
//!
//! Requests built from flags, or read from a file with `--from-file` (the
//! contract's JSON form; `-` is stdin), are checked with the SDK's
//! `validate()` before anything is sent, so a mistake is reported with
//! every field at fault and exit code 2.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use finbourne_identity::{
    CreateUserRequest, IdentityClient, RoleId, UpdateUserRequest, UserResponse, UserType,
};
use futures_util::{StreamExt, stream};
use time::OffsetDateTime;

use super::create::{Created, create_user};
use super::import::at_field;
use super::pace::Pace;
use crate::args::{CreateArgs, UserCall, UserFields, UserId};
use crate::color;
use crate::errors::CliError;
use crate::escape::{self, untrusted};
use crate::output::{Output, note, plural, print_stderr};

/// Runs one of the single-call `users` commands.
pub(crate) async fn run(
    client: &IdentityClient,
    command: UserCall,
    output: Output,
) -> Result<(), CliError> {
    let users = client.users();
    match command {
        UserCall::List {
            include_deactivated,
        } => {
            let list = users
                .list_users()
                .include_deactivated(include_deactivated)
                .stream();
            output.user_stream(list).await?;
        }
        UserCall::Runnable => {
            output
                .user_stream(users.list_runnable_users().stream())
                .await?;
        }
        UserCall::Get { ids, include_roles } => get(client, &ids, include_roles, output).await?,
        UserCall::GetByLogin { login } => {
            output.user(&users.get_user_from_login(&login).send().await?)?;
        }
        UserCall::Find { ids } => {
            let answer = users.find_users_by_id(ids).send().await?;
            output.found(&answer)?;
            let found = answer.values.as_ref().map_or(0, |values| values.len());
            let failed = answer.failed.as_ref().map_or(0, |failed| failed.len());
            note(&format!(
                "found {found} user{}, {failed} not found",
                plural(found)
            ));
        }
        UserCall::Create(args) => {
            let wait = args.wait_for_reindex;
            let request = match &args.from_file {
                Some(path) => request_from_file::<CreateUserRequest>(path, "a CreateUserRequest")
                    .and_then(checked_create)?,
                None => create_request(args)?,
            };
            create(client, &request, wait, output).await?;
        }
        UserCall::Update {
            id,
            fields,
            from_file,
        } => {
            // Read before anything is sent: a bad file is a usage error.
            let replacement = from_file
                .map(|path| request_from_file::<UpdateUserRequest>(&path, "an UpdateUserRequest"))
                .transpose()?;
            let user = users.get_user(&id).include_roles(true).send().await?;
            let request = match replacement {
                Some(request) => checked_update(request, &user)?,
                None => update_request(&user, fields)?,
            };
            let updated = users.update_user(&id, &request).send().await?;
            output.user(&updated)?;
            note(&format!("updated user {id}"));
        }
        UserCall::Delete { id, purge } => {
            users.delete_user(&id).purge(purge).send().await?;
            note(&if purge {
                format!("purged user {id}")
            } else {
                format!("deleted user {id} (deactivated, kept for audit; --purge removes it)")
            });
        }
        UserCall::Activate(UserId { id }) => {
            users.send_activation_email(&id).send().await?;
            note(&format!("sent the activation email to user {id}"));
        }
        UserCall::Unlock(UserId { id }) => {
            users.unlock_user(&id).send().await?;
            note(&format!("unlocked user {id}"));
        }
        UserCall::Unsuspend(UserId { id }) => {
            users.unsuspend_user(&id).send().await?;
            note(&format!("unsuspended user {id}"));
        }
        UserCall::ResetPassword(UserId { id }) => {
            users.reset_password(&id).send().await?;
            note(&format!("started a password reset for user {id}"));
        }
        UserCall::ResetFactors(UserId { id }) => {
            users.reset_factors(&id).send().await?;
            note(&format!("reset the MFA factors of user {id}"));
        }
        UserCall::ExpirePassword(UserId { id }) => {
            output.password(&users.expire_password(&id).send().await?)?;
            note(&format!(
                "expired the password of user {id}: they must change the temporary one at next login"
            ));
        }
    }
    Ok(())
}

/// `users create`: the create, settled by its login when its answer was
/// lost ([`create_user`]); exit 7 only when that look-up got no answer
/// either.
async fn create(
    client: &IdentityClient,
    request: &CreateUserRequest,
    wait_for_reindex: bool,
    output: Output,
) -> Result<(), CliError> {
    let pace = Pace::of(Some(1));
    match create_user(&pace, client, request, wait_for_reindex).await {
        Created::New { user, settled } => {
            output.user(&user)?;
            let how = if settled {
                ": its answer was lost, and its login shows it was made"
            } else {
                ""
            };
            note(&format!(
                "created user {} ({}){how}",
                untrusted(&user.id),
                untrusted(&user.login)
            ));
            Ok(())
        }
        Created::Exists { error, existing } => Err(match existing.map(|user| user.id) {
            Some(id) => CliError::Sdk(error).noted(format!("the login is user {id}'s")),
            None => CliError::Sdk(error),
        }),
        Created::Failed { error, attempts } => Err(if attempts > 0 {
            CliError::Sdk(error).noted(format!(
                "the user was not created: its answer was lost {attempts} time{}, and each time no \
                 user had its login",
                plural(usize::try_from(attempts).unwrap_or(usize::MAX))
            ))
        } else {
            CliError::Sdk(error)
        }),
        Created::Unknown { error, lookup } => Err(CliError::OutcomeUnknown {
            error: Box::new(error),
            lookup: Box::new(lookup),
            login: request.login.clone(),
        }),
    }
}

/// `users get`: one id as a table of fields (or a JSON object); several as
/// one table of users (or a JSON array) of those found, each failure on
/// stderr, and then the exit code of the first failure.
async fn get(
    client: &IdentityClient,
    ids: &[String],
    include_roles: bool,
    output: Output,
) -> Result<(), CliError> {
    let users = client.users();
    if let [id] = ids {
        let user = users
            .get_user(id)
            .include_roles(include_roles)
            .send()
            .await?;
        output.user(&user)?;
        return Ok(());
    }
    let answers: Vec<Result<UserResponse, finbourne_identity::Error>> = stream::iter(ids)
        .map(|id| users.get_user(id).include_roles(include_roles).send())
        .buffered(GET_AT_ONCE)
        .collect()
        .await;
    let mut found = Vec::new();
    let mut first_failure = None;
    for (id, answer) in ids.iter().zip(answers) {
        match answer {
            Ok(user) => found.push(user),
            Err(error) => {
                let error = CliError::Sdk(error);
                let report = error.report();
                let report = report.strip_prefix("error: ").unwrap_or(&report);
                print_stderr(&color::paint(&escape::lines(&format!(
                    "error: user {}: {report}",
                    untrusted(id)
                ))));
                first_failure.get_or_insert(error.exit());
            }
        }
    }
    output.users(&found)?;
    match first_failure {
        Some(code) => {
            note(&format!(
                "{} of {} users not shown",
                ids.len() - found.len(),
                ids.len()
            ));
            Err(CliError::Reported(code))
        }
        None => Ok(()),
    }
}

/// How many GetUser calls `users get` makes at once.
const GET_AT_ONCE: usize = 8;

/// A request read from `path` (`-`: stdin), in the contract's JSON form.
fn request_from_file<T: serde::de::DeserializeOwned>(
    path: &Path,
    kind: &str,
) -> Result<T, CliError> {
    let what = if path.as_os_str() == "-" {
        "stdin".to_owned()
    } else {
        path.display().to_string()
    };
    let text = if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|source| CliError::Read {
        what: what.clone(),
        source,
    })?;
    // The field at fault, then serde_json's line and column in the file.
    let mut json = serde_json::Deserializer::from_str(text.trim_start_matches('\u{feff}'));
    let request =
        serde_path_to_error::deserialize(&mut json).map_err(|error| CliError::BadInput {
            what: what.clone(),
            message: format!("not the JSON of {kind}: {}", at_field(&error)),
        })?;
    json.end().map_err(|error| CliError::BadInput {
        what,
        message: format!("not the JSON of {kind}: {error}"),
    })?;
    Ok(request)
}

/// A CreateUserRequest, checked.
fn checked_create(request: CreateUserRequest) -> Result<CreateUserRequest, CliError> {
    request.validate().map_err(|errors| CliError::Invalid {
        what: "the user".to_owned(),
        errors,
    })?;
    Ok(request)
}

/// An UpdateUserRequest, checked against the user's type.
fn checked_update(
    request: UpdateUserRequest,
    user: &UserResponse,
) -> Result<UpdateUserRequest, CliError> {
    request
        .validate_for(&user.user_type)
        .map_err(|errors| CliError::Invalid {
            what: "the updated user".to_owned(),
            errors,
        })?;
    Ok(request)
}

/// The fields both requests carry, borrowed for editing, so that the flags
/// are applied by one piece of code to a create and to an update.
struct EditableUser<'a> {
    first_name: &'a mut String,
    last_name: &'a mut String,
    email_address: &'a mut String,
    login: &'a mut String,
    second_email_address: &'a mut Option<String>,
    alternative_user_ids: &'a mut Option<BTreeMap<String, Option<String>>>,
    roles: &'a mut Option<Vec<RoleId>>,
    user_expiry: &'a mut Option<OffsetDateTime>,
}

/// Both requests' fields as an [`EditableUser`].
macro_rules! editable {
    ($request:expr) => {
        EditableUser {
            first_name: &mut $request.first_name,
            last_name: &mut $request.last_name,
            email_address: &mut $request.email_address,
            login: &mut $request.login,
            second_email_address: &mut $request.second_email_address,
            alternative_user_ids: &mut $request.alternative_user_ids,
            roles: &mut $request.roles,
            user_expiry: &mut $request.user_expiry,
        }
    };
}

impl UserFields {
    /// Sets the fields given: `--role`s replace the roles, `--alt-id`s set
    /// their keys and keep the others, the rest replace their field.
    fn apply(self, user: EditableUser<'_>) {
        let replace = |field: &mut String, value: Option<String>| {
            if let Some(value) = value {
                *field = value;
            }
        };
        replace(user.first_name, self.first_name);
        replace(user.last_name, self.last_name);
        replace(user.email_address, self.email);
        replace(user.login, self.login);
        if let Some(second) = self.second_email {
            *user.second_email_address = Some(second);
        }
        if !self.roles.is_empty() {
            *user.roles = Some(self.roles);
        }
        if !self.alt_ids.is_empty() {
            let ids = user
                .alternative_user_ids
                .get_or_insert_with(Default::default);
            for (key, value) in self.alt_ids {
                ids.insert(key, Some(value));
            }
        }
        if let Some(expiry) = self.expiry {
            *user.user_expiry = Some(expiry);
        }
    }
}

/// The CreateUser request of `users create`: Personal unless `--type
/// service`, the login the email address unless `--login`; checked.
pub(crate) fn create_request(args: CreateArgs) -> Result<CreateUserRequest, CliError> {
    let mut request = CreateUserRequest::personal("", "", "");
    request.user_type = UserType::from(args.user_type);
    let login_given = args.fields.login.is_some();
    args.fields.apply(editable!(request));
    if !login_given {
        request.login = request.email_address.clone();
    }
    checked_create(request)
}

/// The UpdateUser request of `users update`: `user` as read, with the
/// fields given changed. A Personal user's login follows a new email
/// address unless `--login` is given. Checked against the user's type.
pub(crate) fn update_request(
    user: &UserResponse,
    fields: UserFields,
) -> Result<UpdateUserRequest, CliError> {
    let mut request = UpdateUserRequest::from_user(user);
    let login_follows_email = fields.login.is_none()
        && user.user_type == UserType::Personal
        && user.login == user.email_address;
    fields.apply(editable!(request));
    if login_follows_email {
        request.login = request.email_address.clone();
    }
    checked_update(request, user)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::args::UserKind;

    fn fields() -> UserFields {
        UserFields {
            first_name: None,
            last_name: None,
            email: None,
            login: None,
            second_email: None,
            roles: Vec::new(),
            alt_ids: Vec::new(),
            expiry: None,
        }
    }

    fn create(kind: UserKind, login: Option<&str>) -> CreateArgs {
        CreateArgs {
            fields: UserFields {
                first_name: Some("Ann".into()),
                last_name: Some("Lee".into()),
                email: Some("ann@example.com".into()),
                login: login.map(Into::into),
                ..fields()
            },
            user_type: kind,
            wait_for_reindex: false,
            from_file: None,
        }
    }

    fn user() -> UserResponse {
        serde_json::from_value(serde_json::json!({
            "id": "00u1", "emailAddress": "ann@example.com", "login": "ann@example.com",
            "firstName": "Ann", "lastName": "Lee", "type": "Personal", "status": "ACTIVE",
            "external": false, "alternativeUserIds": {"employeeId": "E1", "desk": "FX"},
        }))
        .unwrap()
    }

    #[test]
    fn a_created_user_is_personal_with_its_email_as_login_by_default() {
        let request = create_request(create(UserKind::Personal, None)).unwrap();
        assert_eq!(
            request,
            CreateUserRequest::personal("Ann", "Lee", "ann@example.com")
        );
    }

    #[test]
    fn a_service_user_takes_its_own_login_and_every_flag() {
        let mut args = create(UserKind::Service, Some("ann-bot"));
        args.fields.second_email = Some("ops@example.com".into());
        args.fields.roles = vec![RoleId::new("default", "runner")];
        args.fields.alt_ids = vec![("employeeId".into(), "E9".into())];
        let request = create_request(args).unwrap();
        let expected = CreateUserRequest::service("Ann", "Lee", "ann@example.com", "ann-bot")
            .with_second_email_address("ops@example.com")
            .with_role(RoleId::new("default", "runner"))
            .with_alternative_user_id("employeeId", "E9");
        assert_eq!(request, expected);
    }

    #[test]
    fn a_bad_user_is_refused_with_every_field_at_fault() {
        let mut args = create(UserKind::Personal, Some("other@example.com"));
        args.fields.last_name = Some("L".into());
        let Err(CliError::Invalid { errors, .. }) = create_request(args) else {
            panic!("accepted");
        };
        let fields: Vec<&str> = errors.fields().collect();
        assert!(fields.contains(&"lastName"), "{fields:?}");
        assert!(fields.contains(&"login"), "{fields:?}");
    }

    #[test]
    fn an_update_changes_only_the_fields_given() {
        let request = update_request(
            &user(),
            UserFields {
                last_name: Some("Smith".into()),
                alt_ids: vec![("desk".into(), "Rates".into())],
                ..fields()
            },
        )
        .unwrap();
        assert_eq!(request.last_name, "Smith");
        assert_eq!(request.first_name, "Ann");
        let ids = request.alternative_user_ids.unwrap();
        assert_eq!(ids["employeeId"].as_deref(), Some("E1"));
        assert_eq!(ids["desk"].as_deref(), Some("Rates"));
    }

    #[test]
    fn a_personal_users_login_follows_a_new_email() {
        let request = update_request(
            &user(),
            UserFields {
                email: Some("ann.lee@example.com".into()),
                ..fields()
            },
        )
        .unwrap();
        assert_eq!(request.login, "ann.lee@example.com");
    }

    #[test]
    fn an_update_breaking_the_rules_is_refused() {
        let result = update_request(
            &user(),
            UserFields {
                second_email: Some("x@example.com".into()),
                ..fields()
            },
        );
        assert!(matches!(result, Err(CliError::Invalid { .. })));
    }
}
