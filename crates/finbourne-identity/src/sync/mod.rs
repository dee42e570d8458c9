//! Keeping a domain in line with a directory (an HR export, a corporate
//! directory, a spreadsheet): a [`Plan`] of what would change, computed as
//! a value before anything changes, then applied.
//!
//! 1. [`plan`] compares a stream of [`Desired`] users (the directory, in
//!    any order) with the domain (the client's streamed ListUsers, deleted
//!    users included), matched by a [`Key`]: the login (by default, as the
//!    service compares it, case-insensitively) or an alternative user id,
//!    so that a person whose email, and so login, changed is one update.
//!    Values are compared as the service stores them (see
//!    [`UserField::same`]), so an unchanged directory plans nothing.
//! 2. The plan lists users to create, users to update with each changed
//!    field (old → new), users of the domain not in the directory (pruned,
//!    or kept and why), and conflicts, which are never attempted: a
//!    different type or roles (no update can change them), a user who left
//!    (`DEPROVISIONED`), a login taken, a key given twice. Its [`Summary`]
//!    says how many of each, and how many users are left alone.
//! 3. [`Plan::apply`] makes the changes through the client, paced by its
//!    throttle, each only on the user the plan saw (see [`Applying`]). A
//!    plan can be saved ([`Plan::write_json`]), reviewed, and applied
//!    later ([`Plan::read_json`]).
//!
//! Users not in the directory are left alone unless a [`Prune`] is asked
//! for. A prune deletes without purging (the user is deactivated and kept
//! for audit), never the account the sync runs as, only the types of user
//! it names (Personal by default: service users only when asked), and,
//! with an alternative id as the key, only users carrying it (those the
//! directory never managed are not its to remove). A [`Guard`] refuses,
//! before anything is sent, a plan that deletes more than it allows.
//!
//! # Memory
//!
//! Both sides are streamed, sorted by key on disk and merged; the plan's
//! entries are kept on disk too and read one at a time. Memory holds a few
//! buffers of 16 MiB, whatever the size of the directory and the domain.
//! What goes to disk goes to unnamed temporary files (`tempfile`), which
//! the operating system removes on every exit of the process.
//!
//! # Example
//!
//! ```
//! use finbourne_identity::prelude::*;
//! use finbourne_identity::sync::{self, Desired, Guard, Key, SyncOptions};
//! use futures_util::{StreamExt, stream};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = finbourne_identity::testing::TestEmulator::start().await?;
//! # let client = emulator.client()?;
//! // The directory: here, two people; usually a file read line by line.
//! let directory = vec![
//!     CreateUserRequest::personal("Ann", "Lee", "ann.lee@acme.com"),
//!     CreateUserRequest::personal("Bo", "Chan", "bo.chan@acme.com"),
//! ];
//! let desired = stream::iter(directory.into_iter().enumerate().map(|(at, user)| {
//!     Ok::<_, std::convert::Infallible>(Desired::user(at as u64 + 1, user))
//! }));
//!
//! let plan = sync::plan(&client, desired, &SyncOptions::new().key(Key::Login)).await?;
//! assert_eq!(plan.summary().create, 2);
//! for change in plan.changes() {
//!     let change = change?;
//!     println!("{} {}", change.action(), change.login().unwrap_or("?"));
//! }
//!
//! let mut applying = plan.apply(&client, &Guard::default())?;
//! while let Some(applied) = applying.next().await {
//!     let applied = applied?;
//!     println!("{}: {:?}", applied.change.action(), applied.outcome);
//! }
//! # Ok(())
//! # }
//! ```

mod apply;
mod compare;
mod create;
mod desired;
mod diff;
mod key;
mod plan;
mod sorter;
mod spool;
#[cfg(test)]
mod tests;

use std::io;

use futures_util::Stream;
use identity_models::UserType;

pub use apply::{Applied, Applying, DEFAULT_CONCURRENCY, Outcome};
pub use compare::{FieldChange, Snapshot, UserField};
pub use create::{Created, MAX_CREATES, create_user_settled, find_by_login};
pub use desired::{Desired, DesiredUser, InvalidLine};
pub use key::Key;
pub use plan::{
    Change, Changes, ConflictReason, Guard, KeepReason, PLAN_FORMAT, Plan, PlanInfo, PruneInfo,
    Summary,
};

use crate::{IdentityClient, RequestOptions, UserResponse};

/// Any error, boxed: what a directory's stream may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How to plan: the key, the prune, and where the directory comes from.
#[derive(Clone, Debug, Default)]
pub struct SyncOptions {
    key: Key,
    prune: Option<Prune>,
    input: Option<String>,
    request_options: RequestOptions,
}

impl SyncOptions {
    /// Matched by login, nothing pruned.
    pub fn new() -> Self {
        Self::default()
    }

    /// What matches the users.
    pub fn key(mut self, key: Key) -> Self {
        self.key = key;
        self
    }

    /// Users of the domain not in the directory are deleted, as `prune`
    /// says.
    pub fn prune(mut self, prune: Prune) -> Self {
        self.prune = Some(prune);
        self
    }

    /// The directory's name, for the plan to say.
    pub fn input(mut self, name: impl Into<String>) -> Self {
        self.input = Some(name.into());
        self
    }

    /// The options of the domain's list.
    pub fn request_options(mut self, options: RequestOptions) -> Self {
        self.request_options = options;
        self
    }
}

/// What a prune deletes: the users of the domain that the directory does
/// not name, of the types given, but never the caller's account.
#[derive(Clone, Debug)]
pub struct Prune {
    types: Vec<UserType>,
    caller: Option<String>,
}

impl Default for Prune {
    /// Personal users only.
    fn default() -> Self {
        Self {
            types: vec![UserType::Personal],
            caller: None,
        }
    }
}

impl Prune {
    /// A prune of Personal users.
    pub fn new() -> Self {
        Self::default()
    }

    /// The types of user pruned (Personal by default).
    pub fn types(mut self, types: impl IntoIterator<Item = UserType>) -> Self {
        self.types = types.into_iter().collect();
        self
    }

    /// The login of the account the sync runs as, never pruned. By
    /// default, [`IdentityClient::username`]; a client signing in with a
    /// personal access token, which does not say whose it is, must name it.
    pub fn caller(mut self, login: impl Into<String>) -> Self {
        self.caller = Some(login.into());
        self
    }
}

/// Why a plan could not be made or applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The directory's stream failed.
    #[error("the directory could not be read: {0}")]
    Input(#[source] BoxError),
    /// Listing the domain failed.
    #[error("the domain could not be listed: {0}")]
    Domain(#[source] crate::Error),
    /// A temporary file could not be written or read.
    #[error("a temporary file of the plan failed: {0}")]
    Disk(#[from] io::Error),
    /// A saved plan that cannot be read.
    #[error("not a saved plan of `fbn-identity users sync`: {0}")]
    NotAPlan(String),
    /// A prune whose caller is not known.
    #[error(
        "a prune needs the login of the account it runs as, which it never deletes: the client \
         signs in with a personal access token, which does not say whose it is; name the account"
    )]
    CallerUnknown,
    /// The guard refuses the plan's deletes.
    #[error("{0}")]
    Guard(String),
    /// A plan made against another service.
    #[error("the plan was made against {planned}, not {client}: plan again against this service")]
    OtherService {
        /// The service the plan was made against.
        planned: String,
        /// The client's.
        client: String,
    },
}

/// Plans `desired` against the domain of `client` (its ListUsers, deleted
/// users included, streamed); see the [module](self).
///
/// A prune without a caller takes the client's
/// [`username`](IdentityClient::username); with neither, it is refused
/// ([`SyncError::CallerUnknown`]).
pub async fn plan<D, E>(
    client: &IdentityClient,
    desired: D,
    options: &SyncOptions,
) -> Result<Plan, SyncError>
where
    D: Stream<Item = Result<Desired, E>>,
    E: Into<BoxError>,
{
    let mut options = options.clone();
    if let Some(prune) = &mut options.prune
        && prune.caller.is_none()
    {
        prune.caller = Some(
            client
                .username()
                .ok_or(SyncError::CallerUnknown)?
                .to_owned(),
        );
    }
    let domain = client
        .users()
        .list_users()
        .include_deactivated(true)
        .options(options.request_options.clone())
        .stream();
    diff::diff(
        desired,
        domain,
        &options,
        client.users().base_url().to_string(),
    )
    .await
}

/// Plans `desired` against `domain`, the users of a domain from anywhere
/// (an export read back, GetUser answers with their roles, a test's
/// list): the same plan as [`plan`], made against `base_url`.
pub async fn plan_against<D, E, U>(
    desired: D,
    domain: U,
    options: &SyncOptions,
    base_url: impl Into<String>,
) -> Result<Plan, SyncError>
where
    D: Stream<Item = Result<Desired, E>>,
    E: Into<BoxError>,
    U: Stream<Item = Result<UserResponse, crate::Error>>,
{
    if options
        .prune
        .as_ref()
        .is_some_and(|prune| prune.caller.is_none())
    {
        return Err(SyncError::CallerUnknown);
    }
    diff::diff(desired, domain, options, base_url.into()).await
}
