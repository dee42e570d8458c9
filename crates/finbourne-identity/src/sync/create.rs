//! Creating one user and settling what became of it, for every bulk path
//! (a sync's apply, and the CLI's `users create` and `users import`).
//!
//! CreateUser is not idempotent, so the SDK never sends it again by itself
//! after an attempt that may have reached the service. [`create_user_settled`]
//! settles such an outcome by looking the login up ([`find_by_login`]):
//! found, the user was created; not found, it was not, and the create is
//! sent again (up to [`MAX_CREATES`] times in all). Only when the look-up
//! itself gets no answer is the outcome left unknown.
//!
//! "Already exists" is the service's own answer (its code 658, or a 409),
//! never a list of the domain; the existing user is then looked up by its
//! login too.

use futures_util::StreamExt;
use identity_models::{CreateUserRequest, UserResponse};

use crate::{Error, ErrorCode, ErrorKind, IdentityClient, RequestOptions};

/// How many times one user may be sent for creation, counting only the
/// creates that were settled as never made (a throttled create is sent
/// again apart from these).
pub const MAX_CREATES: u32 = 5;

/// What became of a create.
#[derive(Debug)]
pub enum Created {
    /// The user was created: from the answer, or found by its login after
    /// an answer was lost (`settled`).
    New {
        /// The new user.
        user: UserResponse,
        /// Whether the answer was lost and the login told.
        settled: bool,
    },
    /// The service says the login exists already (code 658, or 409).
    Exists {
        /// The existing user, when the look-up found it.
        existing: Option<UserResponse>,
        /// The service's answer.
        error: Error,
    },
    /// Not created: the service refused it, or it was provably never sent,
    /// or every attempt was settled as never made.
    Failed {
        /// The last failure.
        error: Error,
        /// How many creates were sent and settled as not made (0: the
        /// failure settled it by itself).
        attempts: u32,
    },
    /// The create may have been made, and the look-up that would tell got
    /// no answer either.
    Unknown {
        /// The create's failure.
        error: Error,
        /// The look-up's failure.
        lookup: Error,
    },
}

impl Created {
    /// Whether the service answered the last call that decided this
    /// outcome (false: a connection failure, a timeout, an outcome left
    /// unknown): what a bulk run's breaker counts.
    pub fn answered(&self) -> bool {
        match self {
            Created::New { .. } | Created::Exists { .. } => true,
            Created::Failed { error, attempts } => *attempts > 0 || service_answered(error),
            Created::Unknown { .. } => false,
        }
    }
}

/// Whether the service itself answered the call that failed with `error`:
/// not when no answer came (or none that says what came of a change), nor
/// when a gateway answered in its place (a 502, a 504, a bare 503:
/// `identity_call::Outcome::Overloaded`), as it does for a service that is
/// gone behind it.
pub(crate) fn service_answered(error: &Error) -> bool {
    match error.kind() {
        ErrorKind::NoAnswer | ErrorKind::OutcomeUnknown => false,
        _ => !error
            .api()
            .is_some_and(|api| api.outcome() == identity_call::Outcome::Overloaded),
    }
}

/// Creates the user of `request` and settles what became of it; each call
/// carries `options`.
pub async fn create_user_settled(
    client: &IdentityClient,
    request: &CreateUserRequest,
    wait_for_reindex: bool,
    options: &RequestOptions,
) -> Created {
    let users = client.users();
    let mut attempts = 0;
    loop {
        let answer = users
            .create_user(request)
            .wait_for_reindex(wait_for_reindex)
            .options(options.clone())
            .send()
            .await;
        let error = match answer {
            Ok(user) => {
                return Created::New {
                    user,
                    settled: false,
                };
            }
            Err(error) => error,
        };
        if error.is_already_exists() {
            let existing = find_by_login(client, &request.login, options)
                .await
                .ok()
                .flatten();
            return Created::Exists { existing, error };
        }
        if !error.is_outcome_unknown() {
            return Created::Failed { error, attempts };
        }
        // The create may or may not have been made: the login tells.
        match find_by_login(client, &request.login, options).await {
            Ok(Some(user)) => {
                return Created::New {
                    user,
                    settled: true,
                };
            }
            Ok(None) => {
                attempts += 1;
                if attempts >= MAX_CREATES {
                    return Created::Failed { error, attempts };
                }
            }
            Err(lookup) => return Created::Unknown { error, lookup },
        }
    }
}

/// The user with this login, if there is one: GetUserFromLogin, or, where
/// the service has no such route, the streamed ListUsers (deactivated
/// users included) read until the login shows: never the domain in memory.
pub async fn find_by_login(
    client: &IdentityClient,
    login: &str,
    options: &RequestOptions,
) -> Result<Option<UserResponse>, Error> {
    let users = client.users();
    let found = users
        .get_user_from_login(login)
        .options(options.clone())
        .send()
        .await;
    let error = match found {
        Ok(user) => return Ok(Some(user)),
        Err(error) => error,
    };
    let Some(api) = error.api() else {
        return Err(error);
    };
    if api.code() == Some(ErrorCode::UserNotFound) {
        return Ok(None);
    }
    // No such route on this service (a 404 without the service's code, a
    // 405 or a 501): the list instead, streamed.
    if !matches!(api.status.as_u16(), 404 | 405 | 501) {
        return Err(error);
    }
    let listed = users
        .list_users()
        .include_deactivated(true)
        .options(options.clone())
        .stream();
    let mut listed = std::pin::pin!(listed);
    let wanted = login.to_lowercase();
    while let Some(user) = listed.next().await {
        let user = user?;
        if user.login.to_lowercase() == wanted {
            return Ok(Some(user));
        }
    }
    Ok(None)
}
