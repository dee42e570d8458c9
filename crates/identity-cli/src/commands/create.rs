//! Creating one user and settling what became of it: the one way both
//! `users create` and each line of `users import` create a user.
//!
//! CreateUser is not idempotent, so the SDK never sends it again by itself
//! after an attempt that may have reached the service. [`create_user`]
//! settles such an outcome by looking the login up ([`find_by_login`]):
//! found, the user was created; not found, it was not, and the create is
//! sent again (up to [`MAX_CREATES`] times in all). Only when the look-up
//! itself gets no answer is the outcome left unknown.
//!
//! "Already exists" is the service's own answer (its code 658, or a 409),
//! never a list of the domain; the existing user's id is then looked up by
//! its login too.
//!
//! Each call carries the pace's options; how a throttled call is waited
//! for is the client's business (its throttle and retry layer), not this
//! module's.

use finbourne_identity::{CreateUserRequest, Error, ErrorCode, IdentityClient, UserResponse};
use futures_util::StreamExt;

use super::pace::Pace;

/// How many times one user may be sent for creation, counting only the
/// creates that were settled as never made (a throttled create is sent
/// again apart from these).
pub(crate) const MAX_CREATES: u32 = 5;

/// What became of a create.
#[derive(Debug)]
pub(crate) enum Created {
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
        /// The existing user's id, when the look-up found it.
        id: Option<String>,
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
    /// unknown), for the import's breaker.
    pub(crate) fn answered(&self) -> bool {
        match self {
            Created::New { .. } | Created::Exists { .. } => true,
            Created::Failed { error, attempts } => {
                *attempts > 0 || error.kind() != finbourne_identity::ErrorKind::NoAnswer
            }
            Created::Unknown { .. } => false,
        }
    }
}

/// Creates the user of `request` and settles what became of it.
pub(crate) async fn create_user(
    pace: &Pace,
    client: &IdentityClient,
    request: &CreateUserRequest,
    wait_for_reindex: bool,
) -> Created {
    let users = client.users();
    let mut attempts = 0;
    loop {
        let answer = users
            .create_user(request)
            .wait_for_reindex(wait_for_reindex)
            .options(pace.options())
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
            let id = find_by_login(pace, client, &request.login)
                .await
                .ok()
                .flatten()
                .map(|user| user.id);
            return Created::Exists { id, error };
        }
        if !error.is_outcome_unknown() {
            return Created::Failed { error, attempts };
        }
        // The create may or may not have been made: the login tells.
        match find_by_login(pace, client, &request.login).await {
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
pub(crate) async fn find_by_login(
    pace: &Pace,
    client: &IdentityClient,
    login: &str,
) -> Result<Option<UserResponse>, Error> {
    let users = client.users();
    let found = users
        .get_user_from_login(login)
        .options(pace.options())
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
        .options(pace.options())
        .stream();
    let mut listed = std::pin::pin!(listed);
    while let Some(user) = listed.next().await {
        let user = user?;
        if user.login.eq_ignore_ascii_case(login) {
            return Ok(Some(user));
        }
    }
    Ok(None)
}
