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
//! async client's; a call ends in `.send()` without `.await`, and a streamed
//! list is an [`Iterator`].
//!
//! ```
//! use finbourne_identity::prelude::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // An emulator to talk to, on a runtime of its own.
//! # let runtime = tokio::runtime::Runtime::new()?;
//! # let emulator = runtime.block_on(identity_emulator::start(identity_emulator::EmulatorConfig {
//! #     access_tokens: vec!["a-token".into()],
//! #     ..Default::default()
//! # }))?;
//! let client = IdentityClient::builder()
//!     .environment(false)
//!     .base_url(emulator.base_url())
//!     .access_token("a-token")
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
//! users.delete_user(&ann.id).purge(true).send()?;
//! # Ok(())
//! # }
//! ```

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::{Stream, StreamExt};
use identity_models::{
    CreateUserRequest, ListUsersResponse, UpdateUserRequest, UpdateUserSchemaRequest, UserResponse,
};
use identity_users::operation::{
    CreateUser, DeleteUser, ExpirePassword, GetUser, GetUserFromLogin, GetUserSchema,
    ListRunnableUsers, ListUsers, Operation, ResetFactors, ResetPassword, SendActivationEmail,
    UnlockUser, UnsuspendUser, UpdateUser, UpdateUserSchema,
};
use tokio::sync::oneshot;

use crate::{DefaultStack, Error, RequestOptions};

/// A blocking client of the FINBOURNE Identity service: the async
/// [`IdentityClient`](crate::IdentityClient) with a runtime of its own.
///
/// Cheap to clone; clones share the runtime, the connection pool and the
/// token cache. Build one with
/// [`IdentityClientBuilder::build_blocking`](crate::IdentityClientBuilder::build_blocking),
/// [`IdentityClient::from_env`] or [`IdentityClient::new`].
#[derive(Clone, Debug)]
pub struct IdentityClient {
    client: crate::IdentityClient,
    runtime: Runtime,
}

impl IdentityClient {
    /// The async client's calls, on a background runtime of their own.
    pub fn new(client: crate::IdentityClient) -> Result<Self, Error> {
        Ok(Self {
            client,
            runtime: Runtime::start()?,
        })
    }

    /// A client configured as [`IdentityClient::from_env`](crate::IdentityClient::from_env).
    pub fn from_env() -> Result<Self, Error> {
        Self::new(crate::IdentityClient::from_env()?)
    }

    /// The Users operations.
    pub fn users(&self) -> Users<'_> {
        Users { client: self }
    }

    /// The async client underneath.
    pub fn as_async(&self) -> &crate::IdentityClient {
        &self.client
    }
}

/// The tokio runtime of a blocking client, on its own thread; stopped when
/// the last clone is dropped (on that thread, so that a client dropped in
/// async code does not panic).
#[derive(Clone, Debug)]
struct Runtime(Arc<RuntimeThread>);

#[derive(Debug)]
struct RuntimeThread {
    handle: tokio::runtime::Handle,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

impl Runtime {
    fn start() -> Result<Self, Error> {
        let (started, handle) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("finbourne-identity-blocking".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build();
                match runtime {
                    Ok(runtime) => {
                        let _ = started.send(Ok(runtime.handle().clone()));
                        runtime.block_on(async {
                            let _ = stopped.await;
                        });
                    }
                    Err(error) => {
                        let _ = started.send(Err(error));
                    }
                }
            })
            .map_err(Error::Runtime)?;
        let handle = handle
            .recv()
            .map_err(|_| Error::Runtime(std::io::Error::other("the runtime thread ended")))?
            .map_err(Error::Runtime)?;
        Ok(Self(Arc::new(RuntimeThread {
            handle,
            stop: Mutex::new(Some(stop)),
        })))
    }

    /// Runs `future` to its end on the runtime, the calling thread waiting.
    fn block_on<F: Future>(&self, future: F) -> Result<F::Output, Error> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::BlockingInAsync);
        }
        Ok(self.0.handle.block_on(future))
    }
}

impl Drop for RuntimeThread {
    fn drop(&mut self) {
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
    }
}

/// The Users operations of a blocking client.
#[derive(Clone, Copy, Debug)]
pub struct Users<'a> {
    client: &'a IdentityClient,
}

/// One call of the operation `O`, ready to send.
#[must_use = "a call does nothing until it is sent: `.send()`"]
pub struct Call<O> {
    call: identity_users::Call<DefaultStack, O, Error>,
    runtime: Runtime,
}

/// Each operation of the async [`UsersApi`](crate::UsersApi), as a
/// blocking call: `name(arguments) -> Operation`.
macro_rules! operations {
    ($($(#[$doc:meta])* $name:ident($($arg:ident: $type:ty),*) -> $operation:ident;)*) => {
        impl Users<'_> {
            $(
                $(#[$doc])*
                pub fn $name(&self, $($arg: $type),*) -> Call<$operation> {
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

impl Users<'_> {
    /// FindUsersById: looks users up by id, any number of them (split into
    /// requests of 50 and merged).
    pub fn find_users_by_id<I>(&self, ids: I) -> Result<ListUsersResponse, Error>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let find = self.client.client.users().find_users_by_id(ids);
        self.client.runtime.block_on(find.send())?
    }

    /// Settles a CreateUser of unknown outcome by its login: the user if it
    /// was created, `None` if not (see [`crate::SettleCreateUser`]).
    pub fn settle_create_user(
        &self,
        user: &CreateUserRequest,
    ) -> Result<Option<UserResponse>, Error> {
        let settle = self.client.client.users().settle_create_user(user);
        self.client.runtime.block_on(settle.send())?
    }
}

impl<O: Operation> Call<O> {
    fn map(
        self,
        change: impl FnOnce(
            identity_users::Call<DefaultStack, O, Error>,
        ) -> identity_users::Call<DefaultStack, O, Error>,
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

    /// Sends the call and decodes the answer, the calling thread waiting.
    pub fn send(self) -> Result<O::Output, Error> {
        self.runtime.block_on(self.call.send())?
    }
}

impl Call<GetUser> {
    /// Fills the `roles` of the answer (`includeRoles`).
    pub fn include_roles(self, include: bool) -> Self {
        self.map(|call| call.include_roles(include))
    }
}

impl Call<DeleteUser> {
    /// Removes every trace of the user instead of de-provisioning it (`purge`).
    pub fn purge(self, purge: bool) -> Self {
        self.map(|call| call.purge(purge))
    }
}

impl Call<CreateUser> {
    /// Answers only once the new user is visible in ListUsers (`waitForReindex`).
    pub fn wait_for_reindex(self, wait: bool) -> Self {
        self.map(|call| call.wait_for_reindex(wait))
    }
}

impl Call<ListUsers> {
    /// Also lists the users deleted without purge (`includeDeactivated`).
    pub fn include_deactivated(self, include: bool) -> Self {
        self.map(|call| call.include_deactivated(include))
    }
}

impl<O: Operation<Output = Vec<UserResponse>> + 'static> Call<O> {
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

impl<O> std::fmt::Debug for Call<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call").finish_non_exhaustive()
    }
}
