//! The throttle: every call of a client at the pace the service sets, so
//! that a fan-out of any width finishes at the service's rate with few
//! answers of 429 and no call failed.
//!
//! Real services limit the rate of each token. A client that sends 64 calls
//! at once into a limit of 20 a second gets 44 answers of 429; if each call
//! then waits its own `Retry-After` (a few milliseconds: the time until the
//! service takes one more call) and tries again, they all come back
//! together and most are refused again. [`ThrottleLayer`] makes the calls of
//! one client (all its clones share one throttle) take turns instead.
//!
//! # The rules
//!
//! - **Free until the first 429.** Until the service throttles a call, the
//!   throttle holds no call and costs, per call, an atomic load to pass
//!   and the answer judged and counted (no allocation, no lock): a client
//!   cannot know a limit before the service states it, so the first wave of
//!   a fan-out may meet answers of 429 (the retry layer waits them out).
//! - **Then paced.** A throttled answer ([`Outcome::Throttled`]: 429)
//!   engages the pace (the service's own 503 does not: a service that is
//!   down is no rate to keep; the retry layer waits it out): calls start one at a time, in
//!   the order they came, at least an *interval* apart, and none before the
//!   `Retry-After` the service gave has passed. The first interval is the
//!   service's `Retry-After` when it is under a second (a token-bucket
//!   service answers the time until it takes one more call: one call's
//!   share of its rate), else 100 ms; a pace the throttle had before it
//!   eased off is taken up again instead.
//! - **Slower on 429, faster on success.** A call that waited for its turn
//!   and was throttled all the same says the pace is too fast: the interval
//!   grows by [`ThrottleConfig::decrease`] (the rate falls to 85 %), and not
//!   below the `Retry-After` asked, unless that would take it past the
//!   floor below. Throttled answers of calls sent before
//!   that change say nothing new and change nothing (one decrease per
//!   round, as TCP). A call that waited for its turn and got through says
//!   the service may take more: the interval shrinks by
//!   [`ThrottleConfig::probe`] (1/256 per success, to stay near the rate
//!   found; 1/16 until the first decrease, to find it fast, and again after
//!   4 s without one: the limit may have risen, or another client sharing
//!   it stopped). A decrease never takes the pace below half the most calls
//!   the service let through in one second since pacing began: a service
//!   that answers 429 to a share of calls whatever the pace would otherwise
//!   slow it without end. It still slows such a service down to that
//!   floor (a 429 cannot say whether it is random or the limit's): where
//!   429s are not a rate limit, turn the throttle off
//!   ([`ThrottleConfig::off`]) or pace at a known rate
//!   ([`ThrottleConfig::max_rate`]).
//! - **Eased off when the service lets calls through.** When no call was
//!   throttled and none had to wait for its turn for
//!   [`ThrottleConfig::ease_off`] (10 s), calls are free again; the
//!   interval is remembered for the next time the service throttles.
//! - **Waiting is part of the call.** A call waits for its turn in its
//!   future, after the total-timeout layer has set its [`Deadline`]: a call
//!   whose turn would come at or after its deadline, or further away than its
//!   [`RequestOptions::longest_wait`], ends at once (or when the deadline
//!   comes, if it was waiting behind others) with a
//!   [`TransportError`] of kind [`Throttled`](crate::TransportErrorKind::Throttled)
//!   saying how long the service asked to wait. It was not sent.
//! - **A ceiling of your own.** [`ThrottleConfig::max_rate`] paces calls from
//!   the start, never faster than that rate: for a program that knows its
//!   limit and wants no first wave of 429s.
//!
//! # What it took from others, and why not more
//!
//! - AWS SDKs' adaptive retry mode: a client-side rate that a throttled
//!   answer cuts and successes raise, enabled only once the service has
//!   throttled. Not its CUBIC curve: it grows with time since the last
//!   throttle and needs the client's own send rate measured; here the
//!   service says, in its `Retry-After`, one call's share of its rate, and
//!   growth per success only happens while the pace is what holds calls.
//! - Netflix's concurrency-limits: a limit shared by every caller, changed
//!   once per round by what answers come back. Not a limit on calls in
//!   flight: the Identity service limits a rate, and a call that takes a
//!   fraction of a millisecond can outrun any concurrency (one call in
//!   flight may ask thousands of times a second).
//! - Envoy's adaptive concurrency: calls held in the client, in order,
//!   rather than sent to be refused. Not its latency gradient: the service
//!   answers its limit at once with 429, an explicit signal that needs no
//!   inference from round trips that vary more over the internet than any
//!   queue would move them.
//!
//! # Where it goes
//!
//! Inside the retry layer (the facade's stack puts it there), so that it sees
//! every attempt and a retry waits for its turn like any call; the retry
//! layer still waits each 429's `Retry-After` by itself, so each keeps its
//! promise alone. It needs a tokio runtime with its time driver.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower::BoxError> {
//! use identity_transport::throttle::{ThrottleConfig, ThrottleLayer};
//! use tower::{Layer, Service, ServiceExt};
//!
//! let throttle = ThrottleLayer::new(ThrottleConfig::default());
//! // Any service answering `http::Response`s: the SDK's stack, or a stub.
//! let service = tower::service_fn(|_request: http::Request<()>| async {
//!     Ok::<_, tower::BoxError>(http::Response::new(()))
//! });
//! let mut service = throttle.layer(service);
//!
//! let answer = service.ready().await?.call(http::Request::new(())).await?;
//! assert_eq!(answer.status(), http::StatusCode::OK);
//! let now = throttle.snapshot();
//! assert_eq!((now.succeeded, now.pacing), (1, false));
//! # Ok(())
//! # }
//! ```

mod pace;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, SystemTime};

use identity_call::{Deadline, Outcome, RequestOptions};
use pin_project_lite::pin_project;
use tower::BoxError;
use tower_layer::Layer;
use tower_service::Service;

use crate::error::{TransportError, failure_of};
use pace::{Pace, Ticket};

pub use pace::ThrottleSnapshot;

/// How long without a throttled answer or a call held before the throttle
/// eases off, by default: 10 s.
pub const DEFAULT_EASE_OFF: Duration = Duration::from_secs(10);

/// Settings of [`ThrottleLayer`]. Out-of-range values are brought into
/// range when the layer is made.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ThrottleConfig {
    /// Whether the throttle paces calls at all (default true). Off, it
    /// passes every call straight through, throttled or not.
    pub enabled: bool,
    /// The share of its rate the pace keeps after a call sent at that pace
    /// was throttled (default 0.85; between 0.1 and 0.99).
    pub decrease: f64,
    /// How much faster the pace gets with each call that waited for its
    /// turn and got through, once it has decreased (default 1/256; between
    /// 0 and 0.5). Until its first decrease it grows 16 times as fast.
    pub probe: f64,
    /// How long without a throttled answer or a call held before calls are
    /// free again (default [`DEFAULT_EASE_OFF`]).
    pub ease_off: Duration,
    /// A ceiling of calls per second: paced from the start, never faster
    /// (default none).
    pub max_rate: Option<f64>,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            decrease: 0.85,
            probe: 1.0 / 256.0,
            ease_off: DEFAULT_EASE_OFF,
            max_rate: None,
        }
    }
}

impl ThrottleConfig {
    /// A throttle that paces nothing.
    pub fn off() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Sets [`decrease`](Self::decrease).
    pub fn decrease(mut self, keep: f64) -> Self {
        self.decrease = keep;
        self
    }

    /// Sets [`probe`](Self::probe).
    pub fn probe(mut self, growth: f64) -> Self {
        self.probe = growth;
        self
    }

    /// Sets [`ease_off`](Self::ease_off).
    pub fn ease_off(mut self, quiet: Duration) -> Self {
        self.ease_off = quiet;
        self
    }

    /// Sets [`max_rate`](Self::max_rate), in calls per second.
    pub fn max_rate(mut self, calls_per_second: f64) -> Self {
        self.max_rate = Some(calls_per_second);
        self
    }

    /// The settings brought into range (a NaN is the default).
    fn checked(&self) -> Self {
        let within = |value: f64, low: f64, high: f64, default: f64| {
            if value.is_nan() {
                default
            } else {
                value.clamp(low, high)
            }
        };
        let default = Self::default();
        Self {
            enabled: self.enabled,
            decrease: within(self.decrease, 0.1, 0.99, default.decrease),
            probe: within(self.probe, 0.0, 0.5, default.probe),
            ease_off: self.ease_off,
            max_rate: self
                .max_rate
                .filter(|rate| rate.is_finite() && *rate > 0.0)
                .map(|rate| rate.min(pace::MAX_RATE)),
        }
    }
}

/// Paces the calls of every service it makes by the service's throttled
/// answers: see the [module docs](self). The layer and every service it
/// makes share one pace; clone the layer to share it with more.
#[derive(Clone, Debug)]
pub struct ThrottleLayer {
    pace: Arc<Pace>,
}

impl ThrottleLayer {
    /// A layer with its own pace, of `config`.
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            pace: Arc::new(Pace::new(config.checked())),
        }
    }

    /// The pace now, and counts of what was seen.
    pub fn snapshot(&self) -> ThrottleSnapshot {
        self.pace.snapshot()
    }
}

impl Default for ThrottleLayer {
    fn default() -> Self {
        Self::new(ThrottleConfig::default())
    }
}

impl<S> Layer<S> for ThrottleLayer {
    type Service = Throttle<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Throttle {
            inner,
            pace: self.pace.clone(),
        }
    }
}

/// The service of [`ThrottleLayer`]. Its `poll_ready` is the inner
/// service's: a call waits for its turn in its future, where its deadline
/// is known.
#[derive(Clone)]
pub struct Throttle<S> {
    inner: S,
    pace: Arc<Pace>,
}

impl<S> Throttle<S> {
    /// The pace now, and counts of what was seen (shared with the layer).
    pub fn snapshot(&self) -> ThrottleSnapshot {
        self.pace.snapshot()
    }
}

impl<S: fmt::Debug> fmt::Debug for Throttle<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Throttle")
            .field("inner", &self.inner)
            .field("now", &self.pace.snapshot())
            .finish()
    }
}

impl<S, B, R> Service<http::Request<B>> for Throttle<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>> + Clone,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<R>;
    type Error = BoxError;
    type Future = ResponseFuture<S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let pace = self.pace.clone();
        if pace.is_pacing() {
            pace.ease_off_if_quiet();
        }
        if !pace.is_pacing() {
            let future = self.inner.call(request);
            return ResponseFuture::calling(pace, future, None);
        }
        // The inner service was made ready for this call: it goes into the
        // future, which calls it when the call's turn comes.
        let ready = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, ready);
        let deadline = Deadline::of(&request).map(Deadline::instant);
        let longest_wait = RequestOptions::of(&request).get_longest_wait();
        let turn = Box::pin(pace.clone().turn(deadline, longest_wait));
        ResponseFuture {
            pace,
            state: State::Waiting {
                turn,
                call: Some((inner, request)),
            },
        }
    }
}

/// A call's wait for its turn.
type Turn = Pin<Box<dyn Future<Output = Result<Ticket, TransportError>> + Send>>;

pin_project! {
    /// The future of [`Throttle`]: the call's turn (when the pace holds
    /// calls), then the inner service's answer, which it reports to the pace.
    pub struct ResponseFuture<S, B>
    where
        S: Service<http::Request<B>>,
    {
        pace: Arc<Pace>,
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B>
    where
        S: Service<http::Request<B>>,
    {
        Waiting {
            turn: Turn,
            call: Option<(S, http::Request<B>)>,
        },
        Calling {
            #[pin]
            future: S::Future,
            ticket: Option<Ticket>,
        },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<http::Request<B>>,
{
    fn calling(pace: Arc<Pace>, future: S::Future, ticket: Option<Ticket>) -> Self {
        Self {
            pace,
            state: State::Calling { future, ticket },
        }
    }
}

impl<S, B> fmt::Debug for ResponseFuture<S, B>
where
    S: Service<http::Request<B>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S, B, R> Future for ResponseFuture<S, B>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Error: Into<BoxError>,
{
    type Output = Result<http::Response<R>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Waiting { turn, call } => {
                    let ticket = ready!(turn.as_mut().poll(cx))?;
                    let Some((mut inner, request)) = call.take() else {
                        return Poll::Ready(Err(Box::new(TransportError::new(
                            crate::TransportErrorKind::Other,
                            "the throttle's future was polled after it completed",
                        ))));
                    };
                    let future = inner.call(request);
                    this.state.set(State::Calling {
                        future,
                        ticket: Some(ticket),
                    });
                }
                StateProj::Calling { future, ticket } => {
                    let result = ready!(future.poll(cx)).map_err(Into::into);
                    let outcome = match &result {
                        Ok(response) => Outcome::of_answer(
                            response.status(),
                            response.headers(),
                            SystemTime::now(),
                        ),
                        Err(error) => Outcome::of_failure(failure_of(&**error)),
                    };
                    this.pace.record(ticket.take(), outcome);
                    return Poll::Ready(result);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
