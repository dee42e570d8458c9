//! The adaptive concurrency layer: how many calls may be in flight at once,
//! found from the service's own answers.
//!
//! A program that fans calls out (an import of thousands of users, a
//! FindUsers or GetUser over many ids) needs a concurrency: too low and it
//! crawls, too high and the service answers 429 (Too Many Requests) to most
//! of its calls. The right figure is the service's rate limit times the
//! time a call takes, and the program knows neither. [`AdaptiveConcurrencyLayer`]
//! finds it, and keeps finding it as the service's load changes.
//!
//! # The scheme: additive increase, multiplicative decrease
//!
//! The limit starts at [`AdaptiveConcurrencyConfig::initial_limit`] and
//! changes with each answer:
//!
//! - **Success** (any answer below 500 but 429): the limit grows, by one
//!   per answer while it is below the level of its last decrease (slow
//!   start: it doubles each round of calls), then by `1 / limit` per answer
//!   (one more call in flight per round). It grows only when the calls use
//!   it: a call started while fewer than half the limit's calls were in
//!   flight says nothing about a higher limit, and does not raise it.
//! - **Throttled** (429, or a 503 with `Retry-After`): the limit halves, and
//!   no new call starts until the `Retry-After` has passed (at most
//!   [`AdaptiveConcurrencyConfig::max_pause`]): the service's wait is about
//!   the client as a whole, not only the call it answered.
//! - **Overloaded** (502, a 503 without `Retry-After`, 504, or no answer at
//!   all: a dropped connection, a timeout): the limit halves.
//! - Anything else (500, 501, other 5xx; a call cancelled before its answer)
//!   leaves the limit as it is: a bug of one call is not a sign of load.
//!
//! - **Pacing**, once the service has throttled: a limit on calls in flight
//!   cannot slow down calls that take a fraction of a millisecond (one call
//!   in flight may ask thousands of times a second), so a 429 also sets a
//!   pace, the least time between two calls' starts: the average time
//!   between the successes of the last second (at least four of them),
//!   which is the rate the service was letting through. Each success then
//!   shortens the pace by 1/256 (it probes for more, as the limit does), and
//!   the next 429 measures it again. The pace is dropped after two seconds
//!   without a 429 (the service's limit rose, or the calls slowed down) or
//!   once it falls below 10 µs.
//!
//! A decrease happens at most once per round: calls that started before the
//! last decrease were sent at the old limit, so their 429s say nothing new
//! about the new one, and a burst of them halves the limit once, not once
//! each. The limit never goes below [`AdaptiveConcurrencyConfig::min_limit`]
//! (at least 1: calls always make progress) nor above
//! [`AdaptiveConcurrencyConfig::max_limit`].
//!
//! Why this scheme and not a latency-based one (Vegas, gradient): those
//! infer a queue from answers getting slower, which needs a service that
//! queues and a steady round trip, plus thresholds and smoothing to tune.
//! The Identity service does not queue what it cannot take: its limit is a
//! rate limit, answered at once with 429 and `Retry-After`, an explicit
//! signal that needs no inference; over the internet and through proxies the
//! round trip varies more than any queue would move it. Additive increase
//! with multiplicative decrease acts on that explicit signal alone, has
//! nothing to tune, and is the scheme known to converge, and to share the
//! limit fairly, when several clients each halve on the same signal (it is
//! TCP's congestion control). Its cost is that it probes: once it reaches
//! the limit it crosses it now and then, and meets a 429, which is why a
//! caller sends throttled calls again (below). The pace is measured, not
//! taken from `Retry-After`: a service may round its wait up to whole
//! seconds, which says when to try again, not how fast to go.
//!
//! # Where it goes
//!
//! The layer counts the calls that pass through it, and keeps its promise
//! alone, wherever it sits: all the services made by one layer (and their
//! clones) share one limit, at most that many calls are in flight through
//! them, and a call waits in `poll_ready` for its place (in the order the
//! calls asked for one). A call is in flight from `poll_ready` until its
//! answer's head (or its error) comes back, or its future is dropped.
//!
//! - Over a whole client (`IdentityClient::with_layer`), outside the retry
//!   layer: a call holds its place through its retries, and the limiter sees
//!   only each call's last answer. The retry layer already waits a 429's
//!   `Retry-After` for each call; to let the limiter see every 429, send the
//!   fanned-out calls with `RequestOptions::rate_limit_retries(0)` and send
//!   a throttled call again yourself: its next `poll_ready` waits until the
//!   service's `Retry-After` has passed. `fbn-identity users import` does
//!   this.
//! - Inside the retry layer, in a stack of your own: the limiter sees every
//!   attempt, and a retry waits for a place like any call.
//!
//! It needs a tokio runtime with its time driver (for the pause).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower::BoxError> {
//! use identity_transport::concurrency::{AdaptiveConcurrencyConfig, AdaptiveConcurrencyLayer};
//! use tower::{Layer, Service, ServiceExt};
//!
//! let limiter = AdaptiveConcurrencyLayer::new(AdaptiveConcurrencyConfig::default().max_limit(32));
//! // Any service answering `http::Response`s: the SDK's stack, or a stub.
//! let service = tower::service_fn(|_request: http::Request<()>| async {
//!     Ok::<_, tower::BoxError>(http::Response::new(()))
//! });
//! let mut service = limiter.layer(service);
//!
//! let answer = service.ready().await?.call(http::Request::new(())).await?;
//! assert_eq!(answer.status(), http::StatusCode::OK);
//! // How the limiter sees the service so far.
//! let now = limiter.snapshot();
//! assert_eq!((now.succeeded, now.in_flight), (1, 0));
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};
use pin_project_lite::pin_project;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::PollSemaphore;
use tower::BoxError;
use tower_layer::Layer;
use tower_service::Service;

/// The limit a new layer starts at: 4 calls in flight.
pub const DEFAULT_INITIAL_LIMIT: usize = 4;

/// The highest limit by default: 64 calls in flight.
pub const DEFAULT_MAX_LIMIT: usize = 64;

/// The longest pause after a `Retry-After`, by default: 60 seconds. A
/// longer wait (or an HTTP date far ahead) is cut to this: the calls
/// themselves still wait as long as the service asked, in the retry layer.
pub const DEFAULT_MAX_PAUSE: Duration = Duration::from_secs(60);

/// How many of the latest successes the pace is measured over, at most,
/// and at least.
const PACE_SAMPLES: usize = 32;
const PACE_MIN_SAMPLES: u32 = 4;

/// Only the successes this recent count towards the pace.
const PACE_WINDOW: Duration = Duration::from_secs(1);

/// A pace is dropped when no call was throttled for this long.
const PACE_TTL: Duration = Duration::from_secs(2);

/// Each success shortens the pace by this fraction of it.
const PACE_PROBE: f64 = 1.0 / 256.0;

/// A pace shorter than this (a hundred thousand calls a second) is dropped.
const MIN_PACE: Duration = Duration::from_micros(10);

/// Settings of [`AdaptiveConcurrencyLayer`].
///
/// Out-of-range values are brought into range when the layer is made:
/// `min_limit` at least 1, `max_limit` at least `min_limit`,
/// `initial_limit` between the two.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdaptiveConcurrencyConfig {
    /// The limit to start at (default [`DEFAULT_INITIAL_LIMIT`]).
    pub initial_limit: usize,
    /// The lowest limit (default 1).
    pub min_limit: usize,
    /// The highest limit (default [`DEFAULT_MAX_LIMIT`]).
    pub max_limit: usize,
    /// The longest pause a `Retry-After` may impose on new calls (default
    /// [`DEFAULT_MAX_PAUSE`]); zero turns pauses off.
    pub max_pause: Duration,
}

impl Default for AdaptiveConcurrencyConfig {
    fn default() -> Self {
        Self {
            initial_limit: DEFAULT_INITIAL_LIMIT,
            min_limit: 1,
            max_limit: DEFAULT_MAX_LIMIT,
            max_pause: DEFAULT_MAX_PAUSE,
        }
    }
}

impl AdaptiveConcurrencyConfig {
    /// A limit that does not adapt: always `limit` calls in flight (at
    /// least 1). The service still has its say: `Retry-After` pauses new
    /// calls, and a 429 paces them.
    pub fn fixed(limit: usize) -> Self {
        Self {
            initial_limit: limit,
            min_limit: limit,
            max_limit: limit,
            ..Self::default()
        }
    }

    /// Sets [`initial_limit`](Self::initial_limit).
    pub fn initial_limit(mut self, limit: usize) -> Self {
        self.initial_limit = limit;
        self
    }

    /// Sets [`min_limit`](Self::min_limit).
    pub fn min_limit(mut self, limit: usize) -> Self {
        self.min_limit = limit;
        self
    }

    /// Sets [`max_limit`](Self::max_limit).
    pub fn max_limit(mut self, limit: usize) -> Self {
        self.max_limit = limit;
        self
    }

    /// Sets [`max_pause`](Self::max_pause).
    pub fn max_pause(mut self, pause: Duration) -> Self {
        self.max_pause = pause;
        self
    }

    /// The settings brought into range.
    fn checked(&self) -> Self {
        let min_limit = self.min_limit.max(1);
        let max_limit = self.max_limit.max(min_limit);
        Self {
            initial_limit: self.initial_limit.clamp(min_limit, max_limit),
            min_limit,
            max_limit,
            max_pause: self.max_pause,
        }
    }
}

/// What the limiter has seen so far, and where it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConcurrencySnapshot {
    /// How many calls may be in flight now.
    pub limit: usize,
    /// How many are.
    pub in_flight: usize,
    /// Answers that count as successes.
    pub succeeded: u64,
    /// Answers 429, or 503 with `Retry-After`.
    pub throttled: u64,
    /// Answers 502, 503 without `Retry-After`, 504, and calls with no answer.
    pub overloaded: u64,
    /// How many times the limit was lowered.
    pub decreases: u64,
    /// The least time between two calls' starts, set once the service has
    /// throttled (`None`: a call starts as soon as it has a place).
    pub pace: Option<Duration>,
}

/// Limits the calls in flight to a number found from the answers: see the
/// [module docs](self). The layer and every service it makes share one
/// limit; clone the layer to share it with more.
#[derive(Clone, Debug)]
pub struct AdaptiveConcurrencyLayer {
    limiter: Arc<Limiter>,
}

impl AdaptiveConcurrencyLayer {
    /// A layer with its own limit, of `config`.
    pub fn new(config: AdaptiveConcurrencyConfig) -> Self {
        Self {
            limiter: Arc::new(Limiter::new(config.checked())),
        }
    }

    /// The limit now, and counts of what was seen.
    pub fn snapshot(&self) -> ConcurrencySnapshot {
        self.limiter.snapshot()
    }
}

impl Default for AdaptiveConcurrencyLayer {
    fn default() -> Self {
        Self::new(AdaptiveConcurrencyConfig::default())
    }
}

impl<S> Layer<S> for AdaptiveConcurrencyLayer {
    type Service = AdaptiveConcurrency<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AdaptiveConcurrency {
            inner,
            semaphore: PollSemaphore::new(self.limiter.semaphore.clone()),
            limiter: self.limiter.clone(),
            permit: None,
            pause: None,
            start: Start::Unclaimed,
        }
    }
}

/// A call's start slot, while it waits for its place.
enum Start {
    /// None claimed yet.
    Unclaimed,
    /// Claimed: the call may start when this ends (`None`: at once).
    At(Option<Pin<Box<Sleep>>>),
}

/// The service of [`AdaptiveConcurrencyLayer`].
///
/// `poll_ready` waits for a place (and for a `Retry-After` pause to end);
/// a clone starts without one.
pub struct AdaptiveConcurrency<S> {
    inner: S,
    limiter: Arc<Limiter>,
    semaphore: PollSemaphore,
    permit: Option<Permit>,
    pause: Option<Pin<Box<Sleep>>>,
    start: Start,
}

impl<S> AdaptiveConcurrency<S> {
    /// The limit now, and counts of what was seen (shared with the layer).
    pub fn snapshot(&self) -> ConcurrencySnapshot {
        self.limiter.snapshot()
    }
}

impl<S: Clone> Clone for AdaptiveConcurrency<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            limiter: self.limiter.clone(),
            semaphore: self.semaphore.clone(),
            permit: None,
            pause: None,
            start: Start::Unclaimed,
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for AdaptiveConcurrency<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveConcurrency")
            .field("inner", &self.inner)
            .field("limiter", &self.limiter)
            .field("has_place", &self.permit.is_some())
            .finish_non_exhaustive()
    }
}

impl<S, R, B> Service<R> for AdaptiveConcurrency<S>
where
    S: Service<R, Response = http::Response<B>>,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<B>;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if self.permit.is_none() {
            // A pause may begin or be extended while the call waits (for it
            // or for its start slot): check again each time a wait ends.
            loop {
                if let Some(until) = self.limiter.paused_until() {
                    let sleep = self
                        .pause
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(until)));
                    if sleep.deadline() != until {
                        sleep.as_mut().reset(until);
                    }
                    ready!(sleep.as_mut().poll(cx));
                    continue;
                }
                self.pause = None;
                if matches!(self.start, Start::Unclaimed) {
                    let at = self.limiter.claim_start();
                    self.start = Start::At(at.map(|at| Box::pin(tokio::time::sleep_until(at))));
                }
                if let Start::At(Some(sleep)) = &mut self.start {
                    ready!(sleep.as_mut().poll(cx));
                    self.start = Start::At(None);
                    continue;
                }
                break;
            }
            let Some(permit) = ready!(self.semaphore.poll_acquire(cx)) else {
                // The semaphore is the limiter's own and never closed.
                return Poll::Ready(Err(Box::new(ConcurrencyError::Closed)));
            };
            self.start = Start::Unclaimed;
            self.permit = Some(self.limiter.admit(permit));
        }
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: R) -> Self::Future {
        match self.permit.take() {
            Some(permit) => ResponseFuture {
                inner: Some(self.inner.call(request)),
                permit: Some(permit),
            },
            None => ResponseFuture {
                inner: None,
                permit: None,
            },
        }
    }
}

pin_project! {
    /// The future of [`AdaptiveConcurrency`]: the inner answer, reported to
    /// the limiter when it comes; the call's place is given back then, or
    /// when the future is dropped.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Option<F>,
        permit: Option<Permit>,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<http::Response<B>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(inner) = this.inner.as_pin_mut() else {
            return Poll::Ready(Err(Box::new(ConcurrencyError::NotReady)));
        };
        let result = ready!(inner.poll(cx));
        if let Some(permit) = this.permit.take() {
            let signal = match &result {
                Ok(response) => Signal::of(response.status(), response.headers()),
                Err(_) => Signal::Overloaded,
            };
            permit.finish(signal);
        }
        Poll::Ready(result.map_err(Into::into))
    }
}

/// Misuse of [`AdaptiveConcurrency`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConcurrencyError {
    /// `call` came without a `poll_ready` that returned `Ready` first.
    NotReady,
    /// The limiter's semaphore was closed (it never is).
    Closed,
}

impl fmt::Display for ConcurrencyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotReady => "the adaptive concurrency limit was called before it was ready",
            Self::Closed => "the adaptive concurrency limit is closed",
        })
    }
}

impl std::error::Error for ConcurrencyError {}

/// What an answer says about the service's load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Signal {
    /// The service kept up.
    Succeeded,
    /// The service asked for fewer calls (and perhaps a wait).
    Throttled(Option<Duration>),
    /// The service, or the way to it, did not keep up.
    Overloaded,
    /// Nothing about load.
    Neutral,
}

impl Signal {
    fn of(status: StatusCode, headers: &HeaderMap) -> Self {
        let wait = || identity_call::retry_after(headers, SystemTime::now());
        match status.as_u16() {
            429 => Self::Throttled(wait()),
            503 => match wait() {
                Some(wait) => Self::Throttled(Some(wait)),
                None => Self::Overloaded,
            },
            502 | 504 => Self::Overloaded,
            500.. => Self::Neutral,
            _ => Self::Succeeded,
        }
    }
}

/// A call's place: given back to the limiter when dropped.
struct Permit {
    limiter: Arc<Limiter>,
    permit: Option<OwnedSemaphorePermit>,
    /// The limiter's round when the call started.
    round: u64,
    /// Whether the call found the limit at least half used.
    busy: bool,
}

impl Permit {
    /// Reports the call's answer, then gives the place back.
    fn finish(self, signal: Signal) {
        self.limiter.record(self.round, self.busy, signal);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.limiter.release(permit);
        }
    }
}

/// The shared limit: a semaphore of `capacity` places, and the state that
/// decides its size.
struct Limiter {
    config: AdaptiveConcurrencyConfig,
    semaphore: Arc<Semaphore>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The limit, with its fraction (additive increase adds `1 / limit`).
    limit: f64,
    /// Below it, the limit grows by one per success (slow start).
    threshold: f64,
    /// The places the semaphore stands for: the limit, whole.
    capacity: usize,
    /// Places to take away as they are given back (a decrease found them
    /// in use).
    debt: usize,
    /// Incremented by each decrease.
    round: u64,
    /// No new call starts before this.
    paused_until: Option<Instant>,
    /// The least time between two calls' starts, once throttled.
    pace: Option<Duration>,
    /// When the next call may start, by the pace.
    next_start: Option<Instant>,
    /// When a call was last throttled.
    last_throttled: Option<Instant>,
    /// When the latest successes came, oldest first.
    successes: VecDeque<Instant>,
    in_flight: usize,
    succeeded: u64,
    throttled: u64,
    overloaded: u64,
    decreases: u64,
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("config", &self.config)
            .field("now", &self.snapshot())
            .finish()
    }
}

/// Limits as floating point: they are small, and exact in an `f64`.
#[allow(clippy::cast_precision_loss)]
fn as_f64(value: usize) -> f64 {
    value as f64
}

impl Limiter {
    fn new(config: AdaptiveConcurrencyConfig) -> Self {
        let initial = config.initial_limit;
        Self {
            semaphore: Arc::new(Semaphore::new(initial)),
            state: Mutex::new(State {
                limit: as_f64(initial),
                threshold: as_f64(config.max_limit),
                capacity: initial,
                debt: 0,
                round: 0,
                paused_until: None,
                pace: None,
                next_start: None,
                last_throttled: None,
                successes: VecDeque::with_capacity(PACE_SAMPLES),
                in_flight: 0,
                succeeded: 0,
                throttled: 0,
                overloaded: 0,
                decreases: 0,
            }),
            config,
        }
    }

    /// The state; a panic elsewhere while it was held leaves counts that
    /// are still usable.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn snapshot(&self) -> ConcurrencySnapshot {
        let state = self.state();
        ConcurrencySnapshot {
            limit: state.capacity,
            in_flight: state.in_flight,
            succeeded: state.succeeded,
            throttled: state.throttled,
            overloaded: state.overloaded,
            decreases: state.decreases,
            pace: state.pace,
        }
    }

    /// The end of the current pause, if one is on.
    fn paused_until(&self) -> Option<Instant> {
        let mut state = self.state();
        match state.paused_until {
            Some(until) if until > Instant::now() => Some(until),
            Some(_) => {
                state.paused_until = None;
                None
            }
            None => None,
        }
    }

    /// A start slot by the pace: when the call may start (`None`: now, or
    /// no pace), the next slot one pace later.
    fn claim_start(&self) -> Option<Instant> {
        let mut state = self.state();
        let now = Instant::now();
        if state
            .last_throttled
            .is_some_and(|at| now.duration_since(at) > PACE_TTL)
        {
            state.pace = None;
        }
        let pace = state.pace?;
        let at = state.next_start.map_or(now, |next| next.max(now));
        state.next_start = Some(at + pace);
        (at > now).then_some(at)
    }

    /// A call takes its place.
    fn admit(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Permit {
        let mut state = self.state();
        state.in_flight += 1;
        Permit {
            limiter: self.clone(),
            permit: Some(permit),
            round: state.round,
            busy: state.in_flight * 2 >= state.capacity,
        }
    }

    /// A call gives its place back: to the semaphore, or to a decrease
    /// that found it in use.
    fn release(&self, permit: OwnedSemaphorePermit) {
        let mut state = self.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.debt > 0 {
            state.debt -= 1;
            permit.forget();
        } else {
            drop(permit);
        }
    }

    /// Changes the limit by a call's answer.
    fn record(&self, round: u64, busy: bool, signal: Signal) {
        let mut state = self.state();
        match signal {
            Signal::Succeeded => {
                state.succeeded += 1;
                if state.successes.len() == PACE_SAMPLES {
                    state.successes.pop_front();
                }
                state.successes.push_back(Instant::now());
                state.pace = state
                    .pace
                    .map(|pace| pace.mul_f64(1.0 - PACE_PROBE))
                    .filter(|pace| *pace >= MIN_PACE);
                if busy {
                    let step = if state.limit < state.threshold {
                        1.0
                    } else {
                        1.0 / state.limit
                    };
                    state.limit = (state.limit + step).min(as_f64(self.config.max_limit));
                    self.resize(&mut state);
                }
            }
            Signal::Throttled(wait) => {
                state.throttled += 1;
                if let Some(wait) = wait.map(|wait| wait.min(self.config.max_pause))
                    && !wait.is_zero()
                {
                    let until = Instant::now() + wait;
                    state.paused_until = Some(state.paused_until.map_or(until, |u| u.max(until)));
                }
                let now = Instant::now();
                state.last_throttled = Some(now);
                if round == state.round {
                    state.pace = measured_pace(&state.successes, now).or(state.pace);
                }
                self.decrease(&mut state, round);
            }
            Signal::Overloaded => {
                state.overloaded += 1;
                self.decrease(&mut state, round);
            }
            Signal::Neutral => {}
        }
    }

    /// Halves the limit, once per round.
    fn decrease(&self, state: &mut State, round: u64) {
        if round != state.round {
            return;
        }
        state.limit = (state.limit / 2.0).max(as_f64(self.config.min_limit));
        state.threshold = state.limit;
        state.round += 1;
        state.decreases += 1;
        self.resize(state);
    }

    /// Makes the semaphore's places match the limit, whole.
    fn resize(&self, state: &mut State) {
        // The limit is within min..=max, both `usize`: the cast is exact
        // after `floor`.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let target =
            (state.limit.floor() as usize).clamp(self.config.min_limit, self.config.max_limit);
        if target > state.capacity {
            let more = target - state.capacity;
            let repaid = more.min(state.debt);
            state.debt -= repaid;
            self.semaphore.add_permits(more - repaid);
        } else if target < state.capacity {
            let fewer = state.capacity - target;
            let taken = self.semaphore.forget_permits(fewer);
            state.debt += fewer - taken;
        }
        state.capacity = target;
    }
}

/// The average time between the successes of the last [`PACE_WINDOW`]
/// before `now`: the rate the service lets through. `None` with fewer than
/// [`PACE_MIN_SAMPLES`] of them, or all at once.
fn measured_pace(successes: &VecDeque<Instant>, now: Instant) -> Option<Duration> {
    let mut recent = successes
        .iter()
        .filter(|at| now.duration_since(**at) <= PACE_WINDOW);
    let first = *recent.next()?;
    let (gaps, last) = recent.fold((0u32, first), |(gaps, _), at| (gaps + 1, *at));
    let span = last.duration_since(first);
    (gaps + 1 >= PACE_MIN_SAMPLES && !span.is_zero()).then(|| span / gaps)
}

#[cfg(test)]
mod tests;
