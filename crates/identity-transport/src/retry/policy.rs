//! [`RetryPolicy`]: the `tower::retry::Policy` of the retry layer.
//!
//! The retry layer's [`Retry`](super::Retry), like tower's, clones the
//! policy for every call, so a clone holds the call's own counts while the
//! configuration and the budget are shared behind an `Arc`. After each attempt the policy:
//!
//! 1. asks the classifiers; no retry unless one says so;
//! 2. refuses to replay a request that is not idempotent after a failure
//!    that may have reached the service;
//! 3. checks the retry count of the reason (rate-limit or transient);
//! 4. computes the wait: the backoff, or for throttling the longer of the
//!    backoff and `Retry-After`; capped by `max_wait`;
//! 5. gives up, with the last answer or error as it is, when the wait would
//!    end at or past the call's [`Deadline`];
//! 6. withdraws from the budget (every call deposits once, before its
//!    first attempt); gives up when it is empty;
//! 7. marks the next attempt ([`RetryAttempt`]) and sleeps.
//!
//! Before all of these, a 401 the auth layer marked
//! [`ReplayWithNewToken`] is replayed at once, once per call, whatever the
//! counts, the budget and the idempotency: the service refused the request
//! without acting on it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::time::{Instant, Sleep};
use tower::BoxError;
use tower::util::rng::HasherRng;

use super::RetryConfig;
use super::after::retry_after;
use super::budget::Bucket;
use super::classify::{Outcome, RetryReason, Verdict};
use crate::extensions::{Deadline, RetryAttempt};
use identity_options::{CallContext, ReplayWithNewToken, RequestOptions, is_idempotent};

/// The retry policy of [`RetryLayer`](super::RetryLayer), usable on its own
/// with `tower::retry::Retry` over any service whose error is a `BoxError`.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    shared: Arc<Shared>,
    call: CallState,
}

#[derive(Debug)]
struct Shared {
    config: RetryConfig,
    budget: Option<Bucket>,
}

/// What the policy knows of the call it was cloned for.
#[derive(Clone, Debug, Default)]
struct CallState {
    attempts: u32,
    /// Whether a 401 was already replayed with a new token.
    replayed_with_new_token: bool,
    rate_limit_retries: u32,
    transient_retries: u32,
    rng: Option<HasherRng>,
}

impl RetryPolicy {
    /// A policy with its own budget; its clones share it.
    pub fn new(config: RetryConfig) -> Self {
        let budget = config.budget.map(|budget| budget.bucket());
        Self {
            shared: Arc::new(Shared { config, budget }),
            call: CallState::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RetryConfig {
        &self.shared.config
    }

    /// Whether the marked 401 can be replayed: there is time left for it.
    /// Once per call.
    fn replays_with_new_token(&mut self, request: &http::Request<Bytes>) -> bool {
        if Deadline::of(request).is_some_and(|deadline| deadline.remaining().is_zero()) {
            return false;
        }
        self.call.replayed_with_new_token = true;
        true
    }

    /// The wait before the next attempt, or `None` to end the call with
    /// this outcome.
    fn decide(
        &mut self,
        request: &http::Request<Bytes>,
        reason: RetryReason,
        outcome: &Outcome<'_>,
    ) -> Option<Duration> {
        let config = &self.shared.config;
        if !reason.safe_for_any_request() && !is_idempotent(request) {
            tracing::debug!(
                reason = reason.as_str(),
                "not retrying: the call is not idempotent"
            );
            return None;
        }
        let options = RequestOptions::of(request);
        let (used, allowed) = if reason.is_rate_limit() {
            (
                self.call.rate_limit_retries,
                options
                    .rate_limit_retries
                    .unwrap_or(config.rate_limit_retries),
            )
        } else {
            (
                self.call.transient_retries,
                options
                    .transient_retries
                    .unwrap_or(config.transient_retries),
            )
        };
        if used >= allowed {
            tracing::debug!(
                reason = reason.as_str(),
                retries = used,
                "not retrying: no retries left"
            );
            return None;
        }
        let retries_so_far = self.call.rate_limit_retries + self.call.transient_retries;
        let rng = self.call.rng.get_or_insert_with(HasherRng::new);
        let mut wait = config.backoff.delay(retries_so_far, rng);
        if reason.honours_retry_after()
            && let Outcome::Response { headers, .. } = outcome
            && let Some(asked) = retry_after(headers, SystemTime::now())
        {
            wait = wait.max(asked);
        }
        let wait = wait.min(config.max_wait);
        if let Some(deadline) = Deadline::of(request) {
            let next_attempt = Instant::now().checked_add(wait);
            if next_attempt.is_none_or(|at| at >= deadline.instant()) {
                tracing::debug!(
                    reason = reason.as_str(),
                    "not retrying: the wait would pass the call's deadline"
                );
                return None;
            }
        }
        if let Some(budget) = &self.shared.budget
            && !budget.withdraw()
        {
            tracing::debug!(
                reason = reason.as_str(),
                "not retrying: the retry budget is spent"
            );
            return None;
        }
        if reason.is_rate_limit() {
            self.call.rate_limit_retries += 1;
        } else {
            self.call.transient_retries += 1;
        }
        Some(wait)
    }
}

impl<B> tower::retry::Policy<http::Request<Bytes>, http::Response<B>, BoxError> for RetryPolicy {
    type Future = Sleep;

    fn retry(
        &mut self,
        request: &mut http::Request<Bytes>,
        result: &mut Result<http::Response<B>, BoxError>,
    ) -> Option<Self::Future> {
        let look = self.first_look(result)?;
        self.retry_after(look, request, result)
    }

    fn clone_request(&mut self, request: &http::Request<Bytes>) -> Option<http::Request<Bytes>> {
        Some(self.keep(request).into_request())
    }
}

/// Why an outcome may be retried, before the request is looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Look {
    /// A 401 the auth layer marked, not yet replayed in this call.
    NewToken,
    /// A classifier said so.
    Retry(RetryReason),
}

/// The copy of a request a call keeps to replay it: its head and body,
/// and its [`CallContext`] kept as a value rather than in a copy of its
/// extensions (a copy of `http::Extensions` is two allocations per call,
/// the map and the boxed context). Extensions other than the context are
/// copied as they are.
#[derive(Debug)]
pub(crate) struct KeptRequest {
    request: http::Request<Bytes>,
    context: Option<CallContext>,
}

impl KeptRequest {
    /// The request to send again.
    pub(crate) fn into_request(self) -> http::Request<Bytes> {
        let mut request = self.request;
        if let Some(context) = self.context {
            request.extensions_mut().insert(context);
        }
        request
    }
}

impl RetryPolicy {
    /// The copy of `request` to replay it from, kept before each attempt
    /// (even when the retry counts are 0: a 401 that a new token can fix
    /// is replayed whatever they are). Before the first attempt, the call
    /// pays into the budget.
    pub(crate) fn keep(&mut self, request: &http::Request<Bytes>) -> KeptRequest {
        if self.call.attempts == 0
            && let Some(budget) = &self.shared.budget
        {
            budget.deposit();
        }
        let mut copy = http::Request::new(request.body().clone());
        *copy.method_mut() = request.method().clone();
        *copy.uri_mut() = request.uri().clone();
        *copy.version_mut() = request.version();
        *copy.headers_mut() = request.headers().clone();
        let extensions = request.extensions();
        let mut context = CallContext::of(request).cloned();
        if extensions.len() > usize::from(context.is_some()) {
            *copy.extensions_mut() = extensions.clone();
            context = None;
        }
        KeptRequest {
            request: copy,
            context,
        }
    }

    /// Whether `result` may be retried at all: `None` ends the call with
    /// it, and the copy of the request need not be looked at.
    pub(crate) fn first_look<B>(
        &self,
        result: &Result<http::Response<B>, BoxError>,
    ) -> Option<Look> {
        if !self.call.replayed_with_new_token
            && matches!(result, Ok(response) if ReplayWithNewToken::is_on(response))
        {
            return Some(Look::NewToken);
        }
        match self.shared.config.classifiers.classify(&outcome(result)) {
            Verdict::Retry(reason) => Some(Look::Retry(reason)),
            Verdict::DontRetry | Verdict::NoOpinion => None,
        }
    }

    /// After [`first_look`](Self::first_look) found a reason: the wait
    /// before the next attempt, with `request` (the copy) marked for it;
    /// or `None` to end the call with `result`.
    pub(crate) fn retry_after<B>(
        &mut self,
        look: Look,
        request: &mut http::Request<Bytes>,
        result: &Result<http::Response<B>, BoxError>,
    ) -> Option<Sleep> {
        self.call.attempts += 1;
        let with_new_token = look == Look::NewToken && self.replays_with_new_token(request);
        let (reason, wait) = if with_new_token {
            ("the token was replaced after a 401", Duration::ZERO)
        } else {
            let outcome = outcome(result);
            let reason = match look {
                Look::Retry(reason) => reason,
                // Out of time for the replay: the 401 is judged as any answer.
                Look::NewToken => match self.shared.config.classifiers.classify(&outcome) {
                    Verdict::Retry(reason) => reason,
                    Verdict::DontRetry | Verdict::NoOpinion => return None,
                },
            };
            let wait = self.decide(request, reason, &outcome)?;
            (reason.as_str(), wait)
        };
        let next = RetryAttempt {
            number: self.call.attempts + 1,
            waited: wait,
        };
        tracing::debug!(
            attempt = next.number,
            reason,
            wait_ms = wait.as_secs_f64() * 1000.0,
            "retrying the call"
        );
        next.set_on(request);
        if with_new_token {
            // The auth layer lets the 401 to this replay stand.
            CallContext::of_mut(request).replay_with_new_token = true;
        }
        Some(tokio::time::sleep(wait))
    }
}

/// What the classifiers judge of a result.
fn outcome<B>(result: &Result<http::Response<B>, BoxError>) -> Outcome<'_> {
    match result {
        Ok(response) => Outcome::Response {
            status: response.status(),
            headers: response.headers(),
        },
        Err(error) => Outcome::Error(&**error),
    }
}
