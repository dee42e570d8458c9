//! [`RetryPolicy`]: the `tower::retry::Policy` that tower's `Retry` runs.
//!
//! tower's `Retry` clones the policy for every call, so a clone holds the
//! call's own counts while the configuration and the budget are shared
//! behind an `Arc`. Before the first attempt the call deposits into the
//! budget and keeps a copy of the request (`clone_request`; the body is
//! `Bytes`, so the copy shares it). After each attempt the policy:
//!
//! 1. asks [`Outcome`] what the attempt's answer or failure means; no retry
//!    unless it is worth retrying;
//! 2. refuses to replay a request that is not idempotent after an outcome
//!    that may have reached the service;
//! 3. checks the count of its kind: throttled answers only when a cap is
//!    set, failures always;
//! 4. computes the wait: the backoff, or for throttling the longer of the
//!    backoff and `Retry-After` (never cut short);
//! 5. gives up, with the last answer or error as it is, when the wait would
//!    end at or past the call's [`Deadline`], or a `Retry-After` is longer
//!    than the call's longest wait;
//! 6. withdraws a failure's retry from the budget; gives up when it is empty;
//! 7. marks the next attempt ([`RetryAttempt`]) and sleeps.
//!
//! The final answer of a call replayed after an attempt the service may
//! have processed gets [`ReplayedAfterUnknownOutcome`]; its final error is
//! marked ([`RetryError::after_unknown_outcome`]).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use identity_call::{Failure, Outcome, ReplayedAfterUnknownOutcome, RequestOptions, is_idempotent};
use tokio::time::{Instant, Sleep};
use tower::retry::budget::{Budget, TpsBudget};
use tower::util::rng::HasherRng;

use super::{RetryAttempt, RetryConfig, RetryError};
use crate::error::failure_of;
use crate::timeout::Deadline;

/// The retry policy of [`RetryLayer`](super::RetryLayer), for tower's
/// `Retry` over any service whose error is a [`RetryError`]
/// (`tower::BoxError` and [`TransportError`](crate::TransportError) are).
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    shared: Arc<Shared>,
    call: CallState,
}

#[derive(Debug)]
struct Shared {
    config: RetryConfig,
    budget: Option<TpsBudget>,
}

/// What the policy knows of the call it was cloned for.
#[derive(Clone, Debug, Default)]
struct CallState {
    throttled_retries: u32,
    failure_retries: u32,
    /// Whether an attempt was replayed after the service may have acted on it.
    unknown_outcome: bool,
    rng: Option<HasherRng>,
}

impl CallState {
    fn retries(&self) -> u32 {
        self.throttled_retries + self.failure_retries
    }
}

impl RetryPolicy {
    /// A policy with its own budget; its clones share it.
    pub fn new(config: RetryConfig) -> Self {
        let budget = config.budget.map(|budget| budget.tps_budget());
        Self {
            shared: Arc::new(Shared { config, budget }),
            call: CallState::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RetryConfig {
        &self.shared.config
    }

    /// The wait before the next attempt, or `None` to end the call with
    /// this outcome.
    fn decide(&mut self, request: &http::Request<Bytes>, outcome: Outcome) -> Option<Duration> {
        let config = &self.shared.config;
        let reason = outcome.as_str();
        if !outcome.is_worth_retrying() {
            return None;
        }
        if !outcome.is_safe_to_repeat() && !is_idempotent(request) {
            tracing::debug!(reason, "not retrying: the call is not idempotent");
            return None;
        }
        let options = RequestOptions::of(request);
        let throttled = matches!(outcome, Outcome::Throttled { .. });
        let (used, allowed) = if throttled {
            let cap = options
                .get_rate_limit_retries()
                .or(config.rate_limit_retries);
            (self.call.throttled_retries, cap)
        } else {
            let allowed = options
                .get_transient_retries()
                .unwrap_or(config.transient_retries);
            (self.call.failure_retries, Some(allowed))
        };
        if allowed.is_some_and(|allowed| used >= allowed) {
            tracing::debug!(reason, retries = used, "not retrying: no retries left");
            return None;
        }
        // A throttled call waits the backoff's first step at most, however
        // often it was throttled: the throttle, not each call's backoff,
        // slows the client as a whole.
        let step = if throttled { 0 } else { used };
        let rng = self.call.rng.get_or_insert_with(HasherRng::new);
        let mut wait = config.backoff.delay(step, rng);
        if let Some(asked) = outcome.wait() {
            if options
                .get_longest_wait()
                .is_some_and(|longest| asked > longest)
            {
                tracing::debug!(
                    reason,
                    "not retrying: the service asked to wait longer than the call's longest wait"
                );
                return None;
            }
            wait = wait.max(asked);
        }
        if let Some(deadline) = Deadline::of(request) {
            let next_attempt = Instant::now().checked_add(wait);
            if next_attempt.is_none_or(|at| at >= deadline.instant()) {
                tracing::debug!(
                    reason,
                    "not retrying: the wait would pass the call's deadline"
                );
                return None;
            }
        }
        if !throttled
            && let Some(budget) = &self.shared.budget
            && !budget.withdraw()
        {
            tracing::debug!(reason, "not retrying: the retry budget is spent");
            #[cfg(feature = "metrics")]
            metrics::counter!(
                crate::metrics::RETRY_BUDGET_EXHAUSTED,
                "identity.operation" => operation_name(request),
            )
            .increment(1);
            return None;
        }
        if throttled {
            self.call.throttled_retries += 1;
        } else {
            self.call.failure_retries += 1;
        }
        self.call.unknown_outcome |= outcome.may_have_acted();
        #[cfg(feature = "metrics")]
        metrics::counter!(
            crate::metrics::RETRIES,
            "identity.operation" => operation_name(request),
            "reason" => reason,
        )
        .increment(1);
        Some(wait)
    }
}

impl<B, E> tower::retry::Policy<http::Request<Bytes>, http::Response<B>, E> for RetryPolicy
where
    E: RetryError,
{
    type Future = Sleep;

    fn retry(
        &mut self,
        request: &mut http::Request<Bytes>,
        result: &mut Result<http::Response<B>, E>,
    ) -> Option<Self::Future> {
        let (outcome, gave_up) = match &*result {
            Ok(response) => (
                Outcome::of_answer(response.status(), response.headers(), SystemTime::now()),
                false,
            ),
            Err(error) => {
                let failure = failure_of(error.as_ref());
                // The client's throttle found the call's turn past its
                // deadline or longest wait: it has waited all it may.
                let gave_up = matches!(failure, Failure::Throttled { .. });
                (Outcome::of_failure(failure), gave_up)
            }
        };
        let wait = if gave_up {
            None
        } else {
            self.decide(request, outcome)
        };
        let Some(wait) = wait else {
            // The outcome is final.
            if self.call.unknown_outcome {
                match result {
                    Ok(response) => ReplayedAfterUnknownOutcome::set_on(response),
                    Err(error) => error.after_unknown_outcome(),
                }
            }
            return None;
        };
        let next = RetryAttempt::new(self.call.retries() + 1, wait);
        tracing::debug!(
            attempt = next.number(),
            reason = outcome.as_str(),
            wait_ms = wait.as_secs_f64() * 1000.0,
            "retrying the call"
        );
        next.set_on(request);
        Some(tokio::time::sleep(wait))
    }

    fn clone_request(&mut self, request: &http::Request<Bytes>) -> Option<http::Request<Bytes>> {
        // tower asks the service's own policy for the first copy, and the
        // call's clone for the others: a policy that has retried nothing is
        // making the call's first copy, and the call pays into the budget.
        if self.call.retries() == 0
            && let Some(budget) = &self.shared.budget
        {
            budget.deposit();
        }
        Some(request.clone())
    }
}

/// The operation's name for a metric's label (empty when the request
/// carries none).
#[cfg(feature = "metrics")]
fn operation_name(request: &http::Request<Bytes>) -> &'static str {
    identity_call::OperationInfo::of(request).map_or("", |info| info.name())
}
