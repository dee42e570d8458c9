//! Applying a plan: [`Plan::apply`] gives an [`Applying`], a stream of
//! what became of each entry ([`Applied`]), its calls paced by the client
//! (the client's throttle keeps the service's pace for every clone), at
//! most [`DEFAULT_CONCURRENCY`] (or [`Applying::concurrency`]) at once.
//!
//! Each change is made only on the user the plan saw:
//!
//! - an update reads the user first (GetUser); a field whose value is no
//!   longer the plan's "old" one (someone changed it since) skips the user,
//!   reported, not overwritten; fields all at their "new" value already
//!   are a change applied (by an earlier run); the update is the user as
//!   read with the plan's fields changed, so fields changed by others
//!   since are kept;
//! - a delete reads the user first too, and skips a user who changed since
//!   the plan ([`Snapshot`](super::Snapshot)); one already deleted is done;
//! - a create is settled by login when its answer is lost
//!   ([`create_user_settled`](super::create_user_settled)); "already
//!   exists" with the planned values is done, with other values skipped.
//!
//! So applying a plan twice, or after a run cut short, changes nothing
//! twice. Conflicts and invalid lines come out as [`Outcome::NotAttempted`];
//! kept users do not come out at all.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, Stream, StreamExt};
use identity_models::{CreateUserRequest, UpdateUserRequest, UserStatus};

use super::compare::{FieldChange, Snapshot};
use super::create::{Created, create_user_settled, service_answered};
use super::key::login_key;
use super::plan::{Change, Changes, Guard, Plan};
use super::{DesiredUser, SyncError};
use crate::{Error, IdentityClient, RequestOptions};

/// How many changes are in flight at once by default.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// One entry of a plan and what became of it.
#[derive(Debug)]
pub struct Applied {
    /// The entry.
    pub change: Change,
    /// What became of it.
    pub outcome: Outcome,
}

/// What became of one entry of a plan.
#[derive(Debug)]
pub enum Outcome {
    /// Made; or found made already (`already`: by an earlier run, or
    /// another hand).
    Applied {
        /// The user's id (a created user's new id).
        id: Option<String>,
        /// Whether the domain already was as planned.
        already: bool,
    },
    /// Not made: the user is not the one the plan saw (it changed, left or
    /// appeared since).
    Skipped {
        /// What changed, in words.
        message: String,
    },
    /// A conflict or an invalid line: never attempted.
    NotAttempted,
    /// Not made: the service refused it, or no answer came to a call that
    /// made nothing.
    Failed {
        /// The failure.
        error: Error,
    },
    /// A create that may have been made: its answer was lost, and so was
    /// the answer of the look-up of its login.
    Unknown {
        /// The create's failure.
        error: Error,
        /// The look-up's failure.
        lookup: Error,
    },
}

impl Outcome {
    /// Whether the service answered the calls that decided this outcome
    /// (for a breaker that stops a run when the service is gone).
    pub fn answered(&self) -> bool {
        match self {
            Outcome::Failed { error } => service_answered(error),
            Outcome::Unknown { .. } => false,
            _ => true,
        }
    }
}

impl Plan {
    /// Applies the plan through `client`: the stream of what became of
    /// each entry, in the order they finish.
    ///
    /// Refused before anything is sent when `guard` refuses the plan's
    /// deletes, or when the client is not of the service the plan was made
    /// against.
    pub fn apply(&self, client: &IdentityClient, guard: &Guard) -> Result<Applying, SyncError> {
        let serving = client.users().base_url().to_string();
        if serving != self.info.base_url {
            return Err(SyncError::OtherService {
                planned: self.info.base_url.clone(),
                client: serving,
            });
        }
        guard.check(&self.summary).map_err(SyncError::Guard)?;
        let protect = self
            .info
            .prune
            .as_ref()
            .map(|prune| login_key(&prune.caller))
            .filter(|caller| !caller.is_empty());
        Ok(Applying {
            client: client.clone(),
            changes: self.changes(),
            running: FuturesUnordered::new(),
            concurrency: DEFAULT_CONCURRENCY,
            options: RequestOptions::new(),
            skip: None,
            protect,
            stopped: false,
            read_all: false,
        })
    }
}

/// A predicate on the entries not to apply.
type Skip = Box<dyn FnMut(&Change) -> bool + Send>;

/// A plan being applied: a stream of [`Applied`], in the order the changes
/// finish. See [`Plan::apply`].
#[must_use = "a stream does nothing unless polled"]
pub struct Applying {
    client: IdentityClient,
    changes: Changes,
    running: FuturesUnordered<BoxFuture<'static, Applied>>,
    concurrency: usize,
    options: RequestOptions,
    skip: Option<Skip>,
    /// The caller's login, lower-cased: never deleted.
    protect: Option<String>,
    stopped: bool,
    read_all: bool,
}

impl fmt::Debug for Applying {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Applying")
            .field("running", &self.running.len())
            .field("concurrency", &self.concurrency)
            .field("stopped", &self.stopped)
            .finish_non_exhaustive()
    }
}

impl Applying {
    /// At most `limit` changes in flight at once (at least 1).
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.concurrency = limit.max(1);
        self
    }

    /// The options of every call.
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    /// Leaves out the entries `skip` says (those an earlier run finished):
    /// they are neither applied nor yielded.
    pub fn skip(mut self, skip: impl FnMut(&Change) -> bool + Send + 'static) -> Self {
        self.skip = Some(Box::new(skip));
        self
    }

    /// Starts no more changes: those in flight finish and are yielded, then
    /// the stream ends.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// How many changes are in flight.
    pub fn in_flight(&self) -> usize {
        self.running.len()
    }

    /// The next entry to start, or to yield at once; `None` when the plan
    /// is read to its end.
    fn next_entry(&mut self) -> Option<Result<Change, SyncError>> {
        loop {
            let change = match self.changes.next()? {
                Ok(change) => change,
                Err(error) => return Some(Err(error)),
            };
            if matches!(change, Change::Keep { .. }) {
                continue;
            }
            if let Some(skip) = &mut self.skip
                && skip(&change)
            {
                continue;
            }
            return Some(Ok(change));
        }
    }
}

impl Stream for Applying {
    type Item = Result<Applied, SyncError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        while !this.stopped && !this.read_all && this.running.len() < this.concurrency {
            match this.next_entry() {
                None => this.read_all = true,
                Some(Err(error)) => {
                    this.read_all = true;
                    return Poll::Ready(Some(Err(error)));
                }
                Some(Ok(change)) if change.number().is_none() => {
                    return Poll::Ready(Some(Ok(Applied {
                        change,
                        outcome: Outcome::NotAttempted,
                    })));
                }
                Some(Ok(change)) => {
                    let client = this.client.clone();
                    let options = this.options.clone();
                    let protect = this.protect.clone();
                    this.running.push(
                        async move {
                            let outcome =
                                apply_change(&client, &change, &options, protect.as_deref()).await;
                            Applied { change, outcome }
                        }
                        .boxed(),
                    );
                }
            }
        }
        match this.running.poll_next_unpin(cx) {
            Poll::Ready(Some(applied)) => Poll::Ready(Some(Ok(applied))),
            Poll::Ready(None) if this.stopped || this.read_all => Poll::Ready(None),
            // Only reached with nothing running and more to read: read on.
            Poll::Ready(None) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Applies one change (see the [module](self)).
async fn apply_change(
    client: &IdentityClient,
    change: &Change,
    options: &RequestOptions,
    protect: Option<&str>,
) -> Outcome {
    match change {
        Change::Create { user, .. } => create(client, user, options).await,
        Change::Update { id, changes, .. } => update(client, id, changes, options).await,
        Change::Delete {
            id, login, before, ..
        } => {
            if protect == Some(login_key(login).as_str()) {
                return Outcome::Skipped {
                    message: "the account the sync runs as is never deleted".to_owned(),
                };
            }
            delete(client, id, before, options).await
        }
        Change::Conflict { .. } | Change::Invalid { .. } | Change::Keep { .. } => {
            Outcome::NotAttempted
        }
    }
}

async fn create(
    client: &IdentityClient,
    request: &CreateUserRequest,
    options: &RequestOptions,
) -> Outcome {
    match create_user_settled(client, request, false, options).await {
        Created::New { user, .. } => Outcome::Applied {
            id: Some(user.id),
            already: false,
        },
        Created::Exists {
            existing: Some(existing),
            ..
        } if existing.status != UserStatus::Deprovisioned
            && existing.user_type == request.user_type
            && super::compare::changes(&existing, &DesiredUser::from(request.clone()))
                .is_empty() =>
        {
            Outcome::Applied {
                id: Some(existing.id),
                already: true,
            }
        }
        Created::Exists { existing, .. } => Outcome::Skipped {
            message: match existing {
                Some(user) => format!(
                    "the login was taken since the plan, by the user {} ({}), with other values",
                    user.id, user.status
                ),
                None => "the login was taken since the plan".to_owned(),
            },
        },
        Created::Failed { error, .. } => Outcome::Failed { error },
        Created::Unknown { error, lookup } => Outcome::Unknown { error, lookup },
    }
}

/// Whether the service said the user does not exist (its code 657): a
/// 404 without it may be a gateway's or a wrong route's, which says nothing
/// of the user (the change then fails, to be made by a re-run).
fn is_gone(error: &Error) -> bool {
    error.code() == Some(crate::ErrorCode::UserNotFound)
}

async fn update(
    client: &IdentityClient,
    id: &str,
    changes: &[FieldChange],
    options: &RequestOptions,
) -> Outcome {
    let users = client.users();
    let current = match users.get_user(id).options(options.clone()).send().await {
        Ok(user) => user,
        Err(error) if is_gone(&error) => {
            return Outcome::Skipped {
                message: format!("the user {id} is gone since the plan"),
            };
        }
        Err(error) => return Outcome::Failed { error },
    };
    if current.status == UserStatus::Deprovisioned {
        return Outcome::Skipped {
            message: format!("the user {id} left (DEPROVISIONED) since the plan"),
        };
    }
    let mut done = true;
    for change in changes {
        let now = change.field.of(&current);
        if change.field.same(now.as_deref(), change.new.as_deref()) {
            continue;
        }
        done = false;
        if !change.field.same(now.as_deref(), change.old.as_deref()) {
            return Outcome::Skipped {
                message: format!(
                    "{} changed since the plan: it is {}, the plan saw {}; not overwritten",
                    change.field,
                    shown(now.as_deref()),
                    shown(change.old.as_deref())
                ),
            };
        }
    }
    if done {
        return Outcome::Applied {
            id: Some(current.id),
            already: true,
        };
    }
    let mut request = UpdateUserRequest::from_user(&current);
    // Roles are not the sync's: the service keeps them when none are sent.
    request.roles = None;
    for change in changes {
        if let Err(message) = change.field.set(&mut request, change.new.as_deref()) {
            return Outcome::Skipped { message };
        }
    }
    match users
        .update_user(id, &request)
        .options(options.clone())
        .send()
        .await
    {
        Ok(user) => Outcome::Applied {
            id: Some(user.id),
            already: false,
        },
        Err(error) => Outcome::Failed { error },
    }
}

async fn delete(
    client: &IdentityClient,
    id: &str,
    before: &Snapshot,
    options: &RequestOptions,
) -> Outcome {
    let users = client.users();
    let current = match users.get_user(id).options(options.clone()).send().await {
        Ok(user) => user,
        Err(error) if is_gone(&error) => {
            return Outcome::Applied {
                id: Some(id.to_owned()),
                already: true,
            };
        }
        Err(error) => return Outcome::Failed { error },
    };
    if current.status == UserStatus::Deprovisioned {
        return Outcome::Applied {
            id: Some(current.id),
            already: true,
        };
    }
    if current.user_type != before.user_type {
        return Outcome::Skipped {
            message: format!("the user {id} is of another type since the plan: not deleted"),
        };
    }
    if let Some(difference) = before.first_difference(&current) {
        return Outcome::Skipped {
            message: format!(
                "{} changed since the plan (it is {}, the plan saw {}): not deleted",
                difference.field,
                shown(difference.new.as_deref()),
                shown(difference.old.as_deref())
            ),
        };
    }
    match users.delete_user(id).options(options.clone()).send().await {
        Ok(()) => Outcome::Applied {
            id: Some(current.id),
            already: false,
        },
        Err(error) => Outcome::Failed { error },
    }
}

/// A value for a message: quoted, or "no value".
fn shown(value: Option<&str>) -> String {
    value.map_or_else(|| "no value".to_owned(), |value| format!("{value:?}"))
}
