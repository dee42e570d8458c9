//! The FINBOURNE Identity SDK for Rust: a complete, configured client of the
//! Users API.
//!
//! [`IdentityClient`] is built in one call from the environment and the
//! `secrets.json` it names (the keys of FINBOURNE's other SDKs), or with a
//! builder,
//! and stacks the layers of the request path ([`stack`]): SDK headers, a
//! total timeout, retries, bearer tokens, attempt timeouts and tracing over a
//! pooled HTTP/1.1 and HTTP/2 client with rustls. `client.users()` gives the
//! operations, each a builder ending in `.send().await`.
//!
//! ```no_run
//! use finbourne_identity::prelude::*;
//!
//! # async fn run() -> Result<(), finbourne_identity::Error> {
//! // FBN_IDENTITY_URL, FBN_ACCESS_TOKEN (or the password grant's five
//! // settings) from the environment, else the secrets.json FBN_SECRETS_PATH names.
//! let client = IdentityClient::from_env()?;
//! let users = client.users();
//!
//! let ann = users
//!     .create_user(&CreateUserRequest::personal("Ann", "Lee", "ann.lee@acme.com"))
//!     .send()
//!     .await?;
//! let mut update = UpdateUserRequest::from_user(&ann);
//! update.last_name = "Lee-Smith".into();
//! users.update_user(&ann.id, &update).send().await?;
//!
//! match users.get_user("00u-no-such-user").send().await {
//!     Err(error) if error.is_not_found() => println!("no such user"),
//!     other => println!("{other:?}"),
//! }
//! for user in users.list_users().include_deactivated(true).send().await? {
//!     println!("{} {} ({})", user.first_name, user.last_name, user.status);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Handling errors
//!
//! Every call fails with one [`Error`]; [`Error::kind`] is the one value to
//! `match` on ([`ErrorKind`]: not found, already exists, validation,
//! throttled, outcome unknown, no answer, ...), each kind with its `is_*()`
//! question, and the service's error codes have names ([`ErrorCode`]). The
//! README's "Handling errors" has a `match` to copy. `Debug` prints the
//! message and its causes, as anyhow does, so that `fn main() -> Result<(),
//! finbourne_identity::Error>` ends with a message a person can act on.
//!
//! # A CreateUser of unknown outcome
//!
//! CreateUser is never sent twice by the SDK after its request may have
//! reached the service (a dropped connection, a timeout, a gateway's bare
//! 5xx): a retry could create the user twice. Such a call fails with an
//! error whose [`is_outcome_unknown()`](Error::is_outcome_unknown) is true,
//! and [`UsersApi::settle_create_user`] tells, by the login, whether it
//! created the user:
//!
//! ```no_run
//! use finbourne_identity::prelude::*;
//!
//! # async fn run(client: IdentityClient) -> Result<(), finbourne_identity::Error> {
//! let request = CreateUserRequest::personal("Ann", "Lee", "ann.lee@acme.com");
//! let ann = match client.users().create_user(&request).send().await {
//!     Ok(user) => user,
//!     Err(error) if error.is_outcome_unknown() => {
//!         match client.users().settle_create_user(&request).send().await? {
//!             Some(user) => user,        // created after all
//!             None => return Err(error), // not created: safe to send again
//!         }
//!     }
//!     Err(error) => return Err(error),
//! };
//! # let _ = ann;
//! # Ok(())
//! # }
//! ```
//!
//! # Networks: proxies and trust
//!
//! Behind a corporate proxy, nothing needs code: the client honours the
//! standard `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY`
//! variables (upper or lower case; the rules of curl and reqwest, see
//! [`ProxyEnv`]). A proxy configured with `FBN_PROXY_ADDRESS` (or
//! `proxy.address` in `secrets.json`, or
//! [`proxy_address`](IdentityClientBuilder::proxy_address)) wins over them,
//! with its credentials from `FBN_PROXY_USERNAME` and `FBN_PROXY_PASSWORD`
//! or in its URL (`http://user:pass@proxy.corp:3128`). A loopback host is
//! never sent through a proxy.
//! [`system_proxy(false)`](IdentityClientBuilder::system_proxy) turns the
//! variables off; so does [`environment(false)`](IdentityClientBuilder::environment),
//! which reads nothing from the machine.
//!
//! Servers are verified against the operating system's trust store (Cargo
//! feature `native-roots`, the default), so a corporate root installed on
//! the machine (or named by `SSL_CERT_FILE` on Linux) is trusted; with
//! `default-features = false, features = ["webpki-roots"]` against the
//! Mozilla roots compiled in instead. An extra CA file
//! (`FBN_CLIENT_CERTIFICATE`) is trusted besides them. Certificate checks
//! cannot be turned off.
//!
//! # Cargo features
//!
//! - `blocking`: [`blocking::IdentityClient`], the same client called
//!   without `.await`, for code that is not async (over any service, a
//!   layered client's too).
//! - `testing`: [`testing::TestEmulator`], an in-process emulator and
//!   clients of it, for the tests of programs that use the SDK (with
//!   `blocking`, [`testing::blocking::TestEmulator`] starts from sync code).
//!   It brings the emulator's library alone: no command-line parser, no log
//!   subscriber.
//! - `sync`: [`sync`], a domain kept in line with a directory: a plan of
//!   the changes, computed as a value, then applied.
//! - `metrics`: request durations, retries, retry-budget exhaustion and
//!   token fetches on the `metrics` facade (see `identity_transport::metrics`).
//!
//! The layers are crates of their own, for those who need just one:
//! `identity-models` (the types), `identity-users` (the operations over any
//! tower `Service`), `identity-transport` and `identity-auth` (the layers),
//! `identity-config` (the settings, from code, the environment and a named
//! `secrets.json`).
//! [`IdentityClient::with_layer`] wraps the stack in a layer of yours, and
//! [`IdentityClient::service`] hands out the composed service.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;
mod builder;
mod client;
mod error;
pub mod prelude;
#[cfg(feature = "blocking")]
mod runtime;
pub mod stack;
#[cfg(feature = "sync")]
#[cfg_attr(docsrs, doc(cfg(feature = "sync")))]
pub mod sync;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use builder::IdentityClientBuilder;
pub use client::IdentityClient;
pub use error::{Error, ErrorKind};
pub use stack::DefaultStack;

pub use identity_call::{InvalidCorrelationId, OperationInfo, RequestOptions};
pub use identity_config::{ConfigError, IdentityConfig, SecretString};
pub use identity_models::*;
pub use identity_transport::{ProxyEnv, ThrottleConfig, ThrottleSnapshot};
pub use identity_users::{ApiError, BaseUrl, Call, FindUsers, Problem, SettleCreateUser, UsersApi};

/// The layers' own crates, and the configuration's, for types the facade
/// does not re-export.
pub mod layers {
    pub use identity_auth as auth;
    pub use identity_call as call;
    pub use identity_config as config;
    pub use identity_transport as transport;
    pub use identity_users as users;
}

/// The README's examples, compiled and run as doc tests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
