//! Settling a CreateUser whose outcome is unknown.
//!
//! CreateUser is not idempotent: after an attempt that may have reached the
//! service (a dropped connection, a timeout, a gateway's 5xx) the SDK does
//! not send it again, and the call fails with an error whose
//! `may_have_been_sent()` is true. Whether the user exists is then one
//! look-up away, by its login: [`SettleCreateUser`].

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Request, Response, StatusCode};
use http_body::Body;
use identity_call::RequestOptions;
use identity_models::{ErrorCode, UserResponse};
use tower_service::Service;

use crate::{BoxError, Error, UsersApi};

/// Was the user of a CreateUser of unknown outcome created? `Some(user)`
/// when a user with its login exists, `None` when none does.
///
/// It looks the login up with GetUserFromLogin, or with ListUsers where the
/// service has no such route. Send it once the failed CreateUser is over: a
/// request still on its way to the service could land after it.
///
/// ```no_run
/// # async fn example<S, B>(users: identity_users::UsersApi<S>, request: identity_models::CreateUserRequest) -> Result<(), identity_users::Error>
/// # where S: tower_service::Service<http::Request<bytes::Bytes>, Response = http::Response<B>> + Clone,
/// #       S::Error: Into<identity_users::BoxError>, B: http_body::Body, B::Error: Into<identity_users::BoxError> {
/// let user = match users.create_user(&request).send().await {
///     Ok(user) => user,
///     // No answer: the request may have reached the service.
///     Err(error @ identity_users::Error::Service { .. }) => {
///         match users.settle_create_user(&request).send().await? {
///             Some(user) => user,        // it was created
///             None => return Err(error), // it was not: safe to try again
///         }
///     }
///     Err(error) => return Err(error),
/// };
/// # let _ = user;
/// # Ok(())
/// # }
/// ```
#[must_use = "a call does nothing until it is sent: `.send().await`"]
pub struct SettleCreateUser<S, E = Error> {
    api: UsersApi<S, E>,
    login: String,
    options: Option<RequestOptions>,
}

impl<S, E> SettleCreateUser<S, E> {
    pub(crate) fn new(api: UsersApi<S, E>, login: String) -> Self {
        Self {
            api,
            login,
            options: None,
        }
    }

    /// Per-call options, applied to each look-up.
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = Some(options);
        self
    }
}

impl<S, B, E> SettleCreateUser<S, E>
where
    S: Service<Request<Bytes>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
    E: From<Error>,
{
    /// Looks the login up.
    pub async fn send(self) -> Result<Option<UserResponse>, E> {
        let Self {
            api,
            login,
            options,
        } = self;
        let api = api.with_error::<Error>();
        let with_options = |options: &Option<RequestOptions>| options.clone().unwrap_or_default();
        let found = api
            .get_user_from_login(&login)
            .options(with_options(&options))
            .send()
            .await;
        match found {
            Ok(user) => return Ok(Some(user)),
            Err(Error::Api(error)) if error.code() == Some(ErrorCode::UserNotFound) => {
                return Ok(None);
            }
            // No such route on this service: ListUsers instead.
            Err(Error::Api(error))
                if matches!(
                    error.status,
                    StatusCode::NOT_FOUND
                        | StatusCode::METHOD_NOT_ALLOWED
                        | StatusCode::NOT_IMPLEMENTED
                ) => {}
            Err(other) => return Err(E::from(other)),
        }
        // Streamed, read until the login shows: never the domain in memory.
        let listed = api.list_users().options(with_options(&options)).stream();
        let mut listed = std::pin::pin!(listed);
        while let Some(user) = listed.next().await {
            let user = user.map_err(E::from)?;
            if user.login.eq_ignore_ascii_case(&login) {
                return Ok(Some(user));
            }
        }
        Ok(None)
    }
}
