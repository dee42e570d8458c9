//! The client without `.await`: [`IdentityClient`], for code that is not
//! async (scripts ported from FINBOURNE's Python and Java SDKs, which are
//! synchronous, command-line tools, tests).
//!
//! As `reqwest::blocking`: one tokio runtime on a background thread, started
//! with the client and stopped when its last clone is dropped; each call
//! runs on it while the calling thread waits. It is safe to call from
//! several threads at once. Called from inside an async runtime, where
//! blocking would stall other tasks, a call fails with
//! [`Error::BlockingInAsync`] instead of panicking.
//!
//! The operations, their options, the errors and the configuration are the
//! async client's; every call ends in `.send()` without `.await` (the
//! look-ups by id and the settling of a create included), and a streamed
//! list is an [`Iterator`]. Any async client becomes a blocking one with
//! [`IdentityClient::new`], a client over a service of yours or with a
//! layer of yours ([`with_layer`](crate::IdentityClient::with_layer))
//! included; the [test emulator](crate::testing) has a blocking form too.
//!
//! ```
//! use finbourne_identity::prelude::*;
//!
//! # fn main() -> Result<(), finbourne_identity::Error> {
//! # // An emulator to talk to, from sync code.
//! # let emulator = finbourne_identity::testing::blocking::TestEmulator::start()?;
//! let client = IdentityClient::builder()
//!     .environment(false)
//!     .base_url(emulator.base_url())
//!     .access_token(finbourne_identity::testing::TEST_TOKEN)
//!     .build_blocking()?;
//! let users = client.users();
//!
//! let ann = users
//!     .create_user(&CreateUserRequest::personal("Ann", "Lee", "ann@acme.com"))
//!     .send()?;
//! let again = users.get_user(&ann.id).include_roles(true).send()?;
//! assert_eq!(again.login, "ann@acme.com");
//! for user in users.list_users().stream() {
//!     println!("{}", user?.login);
//! }
//! let found = users.find_users_by_id([ann.id.as_str(), "00u-nobody"]).send()?;
//! assert_eq!(found.values.map(|users| users.len()), Some(1));
//! users.delete_user(&ann.id).purge(true).send()?;
//! # Ok(())
//! # }
//! ```

use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{Request, Response};
use identity_models::{
    CreateUserRequest, ListUsersResponse, UpdateUserRequest, UpdateUserSchemaRequest, UserResponse,
};
use identity_users::BoxError;
use identity_users::operation::{
    CreateUser, DeleteUser, ExpirePassword, GetUser, GetUserFromLogin, GetUserSchema,
    ListRunnableUsers, ListUsers, Operation, ResetFactors, ResetPassword, SendActivationEmail,
    UnlockUser, UnsuspendUser, UpdateUser, UpdateUserSchema,
};
use tower_layer::Layer;
use tower_service::Service;

use crate::runtime::Runtime;
use crate::{DefaultStack, Error, RequestOptions};

/// A blocking client of the FINBOURNE Identity service: the async
/// [`IdentityClient`](crate::IdentityClient) with a runtime of its own.
///
/// Cheap to clone; clones share the runtime, the connection pool and the
/// token cache. Build one with
/// [`IdentityClientBuilder::build_blocking`](crate::IdentityClientBuilder::build_blocking),
/// [`IdentityClient::from_env`], or from any async client with
/// [`IdentityClient::new`]. `S` is the tower service the calls go through,
/// as for the async client: the [`DefaultStack`] unless the client was made
/// over a service of yours or wrapped with a layer.
///
/// ```
/// use bytes::Bytes;
/// use finbourne_identity::{BaseUrl, IdentityClient, blocking};
///
/// # fn main() -> Result<(), finbourne_identity::Error> {
/// // A service of yours (here a stub that knows no user), as a blocking client.
/// let stub = tower::service_fn(|_request: http::Request<Bytes>| async {
///     let answer = http::Response::builder()
///         .status(404)
///         .body(http_body_util::Full::new(Bytes::new()))?;
///     Ok::<_, http::Error>(answer)
/// });
/// let base_url = BaseUrl::parse("https://acme.lusid.com/identity").expect("a URL");
/// let client = blocking::IdentityClient::new(IdentityClient::from_service(stub, base_url))?;
/// let error = client.users().get_user("00u1").send().unwrap_err();
/// assert!(error.is_not_found());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct IdentityClient<S = DefaultStack> {
    client: crate::IdentityClient<S>,
    runtime: Runtime,
}

impl IdentityClient {
    /// A client configured as [`IdentityClient::from_env`](crate::IdentityClient::from_env).
    pub fn from_env() -> Result<Self, Error> {
        Self::new(crate::IdentityClient::from_env()?)
    }

    /// The throttle's pace now, and counts of what it has seen (see
    /// [`IdentityClient::throttle`](crate::IdentityClient::throttle)).
    pub fn throttle(&self) -> crate::ThrottleSnapshot {
        self.client.throttle()
    }
}

impl<S: Clone> IdentityClient<S> {
    /// The async client's calls, on a background runtime of their own.
    pub fn new(client: crate::IdentityClient<S>) -> Result<Self, Error> {
        Ok(Self::on(client, Runtime::start()?))
    }

    /// The async client's calls, on `runtime`.
    pub(crate) fn on(client: crate::IdentityClient<S>, runtime: Runtime) -> Self {
        Self { client, runtime }
    }

    /// The Users operations.
    pub fn users(&self) -> Users<'_, S> {
        Users { client: self }
    }

    /// The async client underneath.
    pub fn as_async(&self) -> &crate::IdentityClient<S> {
        &self.client
    }

    /// Wraps the whole stack in a layer of yours, as
    /// [`IdentityClient::with_layer`](crate::IdentityClient::with_layer)
    /// does; the runtime stays the same.
    pub fn with_layer<L: Layer<S>>(self, layer: L) -> IdentityClient<L::Service>
    where
        L::Service: Clone,
    {
        IdentityClient {
            client: self.client.with_layer(layer),
            runtime: self.runtime,
        }
    }
}

/// The Users operations of a blocking client.
#[derive(Debug)]
pub struct Users<'a, S = DefaultStack> {
    client: &'a IdentityClient<S>,
}

impl<S> Clone for Users<'_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for Users<'_, S> {}

/// One call of the operation `O`, ready to send.
#[must_use = "a call does nothing until it is sent: `.send()`"]
pub struct Call<O, S = DefaultStack> {
    call: identity_users::Call<S, O, Error>,
    runtime: Runtime,
}

/// Each operation of the async [`UsersApi`](crate::UsersApi), as a
/// blocking call: `name(arguments) -> Operation`.
macro_rules! operations {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $type:ty),*) -> $operation:ident;)*) => {
        impl<S: Clone> Users<'_, S> {
            $(
                $(#[$doc])*
                pub fn $name(&self, $($arg: $type),*) -> Call<$operation, S> {
                    Call {
                        call: self.client.client.users().$name($($arg),*),
                        runtime: self.client.runtime.clone(),
                    }
                }
            )*
        }
    };
}

operations! {
    /// CreateUser: creates a user.
    create_user(user: &CreateUserRequest) -> CreateUser;
    /// DeleteUser: de-provisions the user, or with `.purge(true)` removes it.
    delete_user(id: &str) -> DeleteUser;
    /// ExpirePassword: sets an expired temporary password and answers it.
    expire_password(id: &str) -> ExpirePassword;
    /// GetUser: one user; `.include_roles(true)` fills its roles.
    get_user(id: &str) -> GetUser;
    /// GetUserFromLogin: one user, by login.
    get_user_from_login(login: &str) -> GetUserFromLogin;
    /// GetUserSchema: the domain's alternative-user-id properties.
    get_user_schema() -> GetUserSchema;
    /// ListRunnableUsers: the users that can run jobs.
    list_runnable_users() -> ListRunnableUsers;
    /// ListUsers: every user; `.include_deactivated(true)` adds the deleted.
    list_users() -> ListUsers;
    /// ResetFactors: clears the user's multi-factor enrolment.
    reset_factors(id: &str) -> ResetFactors;
    /// ResetPassword: starts a password reset.
    reset_password(id: &str) -> ResetPassword;
    /// SendActivationEmail: (re)sends the activation email.
    send_activation_email(id: &str) -> SendActivationEmail;
    /// UnlockUser: unlocks a locked-out user.
    unlock_user(id: &str) -> UnlockUser;
    /// UnsuspendUser: returns a suspended user to active.
    unsuspend_user(id: &str) -> UnsuspendUser;
    /// UpdateUser: replaces the user's details.
    update_user(id: &str, user: &UpdateUserRequest) -> UpdateUser;
    /// UpdateUserSchema: replaces the domain's alternative-user-id properties.
    update_user_schema(schema: &UpdateUserSchemaRequest) -> UpdateUserSchema;
}

impl<S: Clone> Users<'_, S> {
    /// FindUsersById: looks users up by id, any number of them (split into
    /// requests of 50 and merged), as the async
    /// [`find_users_by_id`](crate::UsersApi::find_users_by_id).
    pub fn find_users_by_id<I>(&self, ids: I) -> FindUsers<S>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        FindUsers {
            find: self.client.client.users().find_users_by_id(ids),
            runtime: self.client.runtime.clone(),
        }
    }

    /// Settles a CreateUser of unknown outcome by its login: `.send()`
    /// answers the user if it was created, `None` if not (see
    /// [`crate::SettleCreateUser`]).
    pub fn settle_create_user(&self, user: &CreateUserRequest) -> SettleCreateUser<S> {
        SettleCreateUser {
            settle: self.client.client.users().settle_create_user(user),
            runtime: self.client.runtime.clone(),
        }
    }
}

impl<O: Operation, S> Call<O, S> {
    fn map(
        self,
        change: impl FnOnce(identity_users::Call<S, O, Error>) -> identity_users::Call<S, O, Error>,
    ) -> Self {
        Self {
            call: change(self.call),
            runtime: self.runtime,
        }
    }

    /// Per-call overrides of the client's timeouts, retries and idempotency.
    pub fn options(self, options: RequestOptions) -> Self {
        self.map(|call| call.options(options))
    }
}

impl<O, S, B> Call<O, S>
where
    O: Operation,
    S: Service<Request<Bytes>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    /// Sends the call and decodes the answer, the calling thread waiting.
    pub fn send(self) -> Result<O::Output, Error> {
        self.runtime.block_on(self.call.send())?
    }
}

impl<S> Call<GetUser, S> {
    /// Fills the `roles` of the answer (`includeRoles`).
    pub fn include_roles(self, include: bool) -> Self {
        self.map(|call| call.include_roles(include))
    }
}

impl<S> Call<DeleteUser, S> {
    /// Removes every trace of the user instead of de-provisioning it (`purge`).
    pub fn purge(self, purge: bool) -> Self {
        self.map(|call| call.purge(purge))
    }
}

impl<S> Call<CreateUser, S> {
    /// Answers only once the new user is visible in ListUsers (`waitForReindex`).
    pub fn wait_for_reindex(self, wait: bool) -> Self {
        self.map(|call| call.wait_for_reindex(wait))
    }
}

impl<S> Call<ListUsers, S> {
    /// Also lists the users deleted without purge (`includeDeactivated`).
    pub fn include_deactivated(self, include: bool) -> Self {
        self.map(|call| call.include_deactivated(include))
    }
}

impl<O, S, B> Call<O, S>
where
    O: Operation<Output = Vec<UserResponse>> + 'static,
    S: Service<Request<Bytes>, Response = Response<B>> + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// The users one by one as they arrive (ListUsers, ListRunnableUsers),
    /// memory not growing with the domain, bounded as the async
    /// [`stream`](identity_users::Call::stream) is; an error ends the
    /// iteration.
    pub fn stream(self) -> UserStream {
        UserStream {
            stream: Box::pin(self.call.stream()),
            runtime: self.runtime,
            ended: false,
        }
    }
}

/// A FindUsersById call for any number of ids, ready to send (see the async
/// [`FindUsers`](crate::FindUsers)).
#[must_use = "a call does nothing until it is sent: `.send()`"]
pub struct FindUsers<S = DefaultStack> {
    find: identity_users::FindUsers<S, Error>,
    runtime: Runtime,
}

impl<S: Clone> FindUsers<S> {
    /// How many requests run at once (at least 1; default 4).
    pub fn concurrency(self, requests: usize) -> Self {
        Self {
            find: self.find.concurrency(requests),
            runtime: self.runtime,
        }
    }

    /// Per-call options, applied to each request.
    pub fn options(self, options: RequestOptions) -> Self {
        Self {
            find: self.find.options(options),
            runtime: self.runtime,
        }
    }
}

impl<S, B> FindUsers<S>
where
    S: Service<Request<Bytes>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    /// Sends the requests and merges their answers, the calling thread
    /// waiting.
    pub fn send(self) -> Result<ListUsersResponse, Error> {
        self.runtime.block_on(self.find.send())?
    }
}

/// The settling of a CreateUser of unknown outcome, ready to send (see the
/// async [`SettleCreateUser`](crate::SettleCreateUser)).
#[must_use = "a call does nothing until it is sent: `.send()`"]
pub struct SettleCreateUser<S = DefaultStack> {
    settle: identity_users::SettleCreateUser<S, Error>,
    runtime: Runtime,
}

impl<S> SettleCreateUser<S> {
    /// Per-call options, applied to each look-up.
    pub fn options(self, options: RequestOptions) -> Self {
        Self {
            settle: self.settle.options(options),
            runtime: self.runtime,
        }
    }
}

impl<S, B> SettleCreateUser<S>
where
    S: Service<Request<Bytes>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
    B: http_body::Body,
    B::Error: Into<BoxError>,
{
    /// Looks the login up, the calling thread waiting: the user if it was
    /// created, `None` if not.
    pub fn send(self) -> Result<Option<UserResponse>, Error> {
        self.runtime.block_on(self.settle.send())?
    }
}

/// The users of a streamed list, read as they arrive: an [`Iterator`].
#[must_use = "an iterator does nothing until it is read"]
pub struct UserStream {
    stream: Pin<Box<dyn Stream<Item = Result<UserResponse, Error>> + Send>>,
    runtime: Runtime,
    ended: bool,
}

impl Iterator for UserStream {
    type Item = Result<UserResponse, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let item = match self.runtime.block_on(self.stream.next()) {
            Ok(item) => item,
            Err(error) => Some(Err(error)),
        };
        // An error ends the list, as it ends the async stream.
        self.ended = !matches!(item, Some(Ok(_)));
        item
    }
}

impl std::fmt::Debug for UserStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserStream").finish_non_exhaustive()
    }
}

impl<O, S> std::fmt::Debug for Call<O, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call").finish_non_exhaustive()
    }
}

impl<S> std::fmt::Debug for FindUsers<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindUsers").finish_non_exhaustive()
    }
}

impl<S> std::fmt::Debug for SettleCreateUser<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettleCreateUser").finish_non_exhaustive()
    }
}
