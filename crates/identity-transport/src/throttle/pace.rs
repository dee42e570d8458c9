//! [`Pace`]: the state the throttle's services share, and the rules of the
//! [module docs](super) as code: when a call may start, and how each answer
//! moves the pace.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use identity_call::Outcome;
use tokio::time::Instant;

use super::ThrottleConfig;
use crate::error::TransportError;

/// The fastest pace: a hundred thousand calls a second. Below its interval
/// the pace holds nothing, and eases off.
pub(super) const MAX_RATE: f64 = 100_000.0;

/// The slowest pace: a call a minute.
const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// The first interval when the service's `Retry-After` says nothing of its
/// rate (none, or a second or more).
const DEFAULT_INTERVAL: Duration = Duration::from_millis(100);

/// A `Retry-After` shorter than this reads as one call's share of the
/// service's rate.
const RATE_HINT_BELOW: Duration = Duration::from_secs(1);

/// Until its first decrease, and again once no call has been throttled for
/// [`QUIET`], the pace grows this many times faster.
const FAST_PROBE_FACTOR: f64 = 16.0;

/// After this long without a decrease, the pace probes fast again: the
/// service's limit may have risen, or another client sharing it stopped.
const QUIET: Duration = Duration::from_secs(4);

/// The window over which the calls the service let through are counted.
const WINDOW: Duration = Duration::from_secs(1);

/// A decrease never takes the pace below this share of the most calls the
/// service let through in one window since pacing started. Half: a window
/// may hold a whole burst of a token-bucket service besides its rate (a
/// burst of up to one second's worth, as the emulator's), so the most seen
/// in one second is at most twice the rate, and half of it never paces
/// faster than the service's limit.
const FLOOR_SHARE: f64 = 0.5;

/// What the throttle has seen so far, and where it stands.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ThrottleSnapshot {
    /// Whether calls are paced now.
    pub pacing: bool,
    /// The pace, in calls per second, while pacing.
    pub rate: Option<f64>,
    /// Calls waiting for their turn now.
    pub waiting: usize,
    /// Calls the service let through (answers that are not throttled, 5xx
    /// or failures).
    pub succeeded: u64,
    /// Throttled answers (429).
    pub throttled: u64,
    /// How many times the pace was slowed down by a throttled answer.
    pub decreases: u64,
    /// Calls ended because their turn would come too late.
    pub gave_up: u64,
    /// The latest wait the service asked for.
    pub last_wait_asked: Option<Duration>,
}

/// What a call got with its turn: the pace's round when it started.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket {
    round: u64,
    /// Whether the call was held for its turn.
    held: bool,
}

/// The pace shared by the services of one layer.
pub(super) struct Pace {
    config: ThrottleConfig,
    /// The fast path: read once per call while calls are free.
    pacing: AtomicBool,
    /// Calls take their turns one at a time, in the order they came
    /// (tokio's mutex is fair): only the first in line waits on a timer, so
    /// a change of the pace applies to every call behind it at once.
    line: tokio::sync::Mutex<()>,
    waiting: AtomicUsize,
    succeeded: AtomicU64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The least time between two calls' starts.
    interval: Duration,
    /// No call starts before this.
    next_start: Instant,
    /// Incremented by each decrease (and when pacing starts).
    round: u64,
    /// When the pace last decreased (`None`: not since it started); it
    /// probes fast until then, and [`QUIET`] after.
    last_decrease: Option<Instant>,
    /// The interval when the throttle last eased off, taken up again.
    remembered: Option<Duration>,
    /// When a call was last throttled, or last held for its turn.
    last_busy: Instant,
    /// Paced calls let through in the window that started at `window_start`.
    window_count: u32,
    window_start: Instant,
    /// The most paced calls let through in one window since pacing started.
    best_window: u32,
    throttled: u64,
    decreases: u64,
    gave_up: u64,
    last_wait_asked: Option<Duration>,
}

/// Durations as seconds in floating point, for rates.
fn per_second(interval: Duration) -> f64 {
    1.0 / interval.as_secs_f64().max(1.0 / MAX_RATE)
}

/// The slowest interval a decrease may set: that of [`FLOOR_SHARE`] of the
/// best window's rate (none before a whole window was seen). A service that
/// answers 429 to a share of calls whatever the pace would otherwise have
/// each of them slow the pace down, without end; a real limit lowered
/// below the floor still paces calls there, each throttled call waiting out
/// its `Retry-After` in the retry layer.
fn floor(best_window: u32) -> Duration {
    if best_window < 2 {
        return MAX_INTERVAL;
    }
    interval_of(f64::from(best_window) * FLOOR_SHARE / WINDOW.as_secs_f64())
}

fn interval_of(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate.clamp(1.0 / MAX_INTERVAL.as_secs_f64(), MAX_RATE))
}

impl Pace {
    pub(super) fn new(config: ThrottleConfig) -> Self {
        let ceiling = config.max_rate.map(interval_of);
        let now = Instant::now();
        Self {
            pacing: AtomicBool::new(config.enabled && ceiling.is_some()),
            line: tokio::sync::Mutex::new(()),
            waiting: AtomicUsize::new(0),
            succeeded: AtomicU64::new(0),
            state: Mutex::new(State {
                interval: ceiling.unwrap_or(DEFAULT_INTERVAL),
                next_start: now,
                round: 0,
                last_decrease: None,
                remembered: None,
                last_busy: now,
                window_count: 0,
                window_start: now,
                best_window: 0,
                throttled: 0,
                decreases: 0,
                gave_up: 0,
                last_wait_asked: None,
            }),
            config,
        }
    }

    /// The state; a panic elsewhere while it was held leaves values that
    /// are still usable.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The shortest interval: the configured ceiling's, else the fastest pace's.
    fn min_interval(&self) -> Duration {
        self.config
            .max_rate
            .map_or_else(|| interval_of(MAX_RATE), interval_of)
    }

    /// Whether calls are paced now: the one check of a free call.
    pub(super) fn is_pacing(&self) -> bool {
        self.pacing.load(Ordering::Relaxed)
    }

    pub(super) fn snapshot(&self) -> ThrottleSnapshot {
        let pacing = self.is_pacing();
        let state = self.state();
        ThrottleSnapshot {
            pacing,
            rate: pacing.then(|| per_second(state.interval)),
            waiting: self.waiting.load(Ordering::Relaxed),
            succeeded: self.succeeded.load(Ordering::Relaxed),
            throttled: state.throttled,
            decreases: state.decreases,
            gave_up: state.gave_up,
            last_wait_asked: state.last_wait_asked,
        }
    }

    /// Waits for a call's turn: in line behind the calls that came first,
    /// then until the pace lets it start. Fails as throttled, without
    /// waiting further, when the turn would come at or after `deadline` or
    /// further away than `longest_wait`.
    pub(super) async fn turn(
        self: std::sync::Arc<Self>,
        deadline: Option<Instant>,
        longest_wait: Option<Duration>,
    ) -> Result<Ticket, TransportError> {
        let entered = Instant::now();
        let _waiting = Waiting::enter(&self.waiting);
        let give_up_at = match (deadline, longest_wait.and_then(|w| entered.checked_add(w))) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let _first_in_line = match give_up_at {
            Some(at) => match tokio::time::timeout_at(at, self.line.lock()).await {
                Ok(guard) => guard,
                Err(_) => return Err(self.give_up(None)),
            },
            None => self.line.lock().await,
        };
        let mut held = false;
        loop {
            let now = Instant::now();
            let start = {
                let mut state = self.state();
                if !self.is_pacing() || state.next_start <= now {
                    state.next_start = now + state.interval;
                    if held {
                        state.last_busy = now;
                    }
                    return Ok(Ticket {
                        round: state.round,
                        held,
                    });
                }
                state.next_start
            };
            if give_up_at.is_some_and(|at| start >= at) {
                return Err(self.give_up(Some(start - now)));
            }
            held = true;
            // The start may move while this call sleeps (a throttled
            // answer pushes it back): look again when it comes.
            tokio::time::sleep_until(start).await;
        }
    }

    /// Counts a call that gave up waiting, and its error.
    fn give_up(&self, wait: Option<Duration>) -> TransportError {
        let mut state = self.state();
        state.gave_up += 1;
        let asked = match (wait, state.last_wait_asked) {
            (Some(turn), Some(asked)) => Some(turn.max(asked)),
            (turn, asked) => turn.or(asked),
        };
        TransportError::throttled(asked)
    }

    /// Moves the pace by a call's outcome: see the module docs.
    pub(super) fn record(&self, ticket: Option<Ticket>, outcome: Outcome) {
        if !self.config.enabled {
            return;
        }
        match outcome {
            Outcome::Throttled { wait } => self.throttled(ticket, wait),
            Outcome::Success | Outcome::Refused => {
                self.succeeded.fetch_add(1, Ordering::Relaxed);
                if let Some(ticket) = ticket {
                    self.let_through(ticket);
                }
            }
            // A failure or a 5xx says nothing of the service's rate: the
            // retry layer's backoff and budget deal with them.
            _ => {}
        }
    }

    fn throttled(&self, ticket: Option<Ticket>, wait: Option<Duration>) {
        let now = Instant::now();
        let mut state = self.state();
        state.throttled += 1;
        state.last_busy = now;
        if let Some(wait) = wait {
            state.last_wait_asked = Some(wait);
            if let Some(until) = now.checked_add(wait) {
                state.next_start = state.next_start.max(until);
            }
        }
        let hint = wait.filter(|wait| !wait.is_zero() && *wait < RATE_HINT_BELOW);
        if !self.is_pacing() {
            state.interval = state
                .remembered
                .or(hint)
                .unwrap_or(DEFAULT_INTERVAL)
                .max(self.min_interval());
            state.round += 1;
            state.last_decrease = None;
            state.window_count = 0;
            state.window_start = now;
            state.best_window = 0;
            self.pacing.store(true, Ordering::Relaxed);
            tracing::debug!(
                rate = per_second(state.interval),
                "the service throttled a call: pacing calls"
            );
        } else if ticket.is_some_and(|ticket| ticket.round == state.round) {
            let slower = state
                .interval
                .div_f64(self.config.decrease)
                .max(hint.unwrap_or_default())
                .min(floor(state.best_window))
                .min(MAX_INTERVAL);
            state.interval = slower.max(self.min_interval());
            state.round += 1;
            state.last_decrease = Some(now);
            state.decreases += 1;
            tracing::debug!(
                rate = per_second(state.interval),
                "a paced call was throttled: slower"
            );
        }
        self.publish(&state);
    }

    /// Counts a paced call the service let through; a call that waited for
    /// its turn in the current round speeds the pace up.
    fn let_through(&self, ticket: Ticket) {
        let now = Instant::now();
        let mut state = self.state();
        if now.duration_since(state.window_start) >= WINDOW {
            state.best_window = state.best_window.max(state.window_count);
            state.window_count = 0;
            state.window_start = now;
        }
        state.window_count += 1;
        if !ticket.held || ticket.round != state.round {
            return;
        }
        let settled = state
            .last_decrease
            .is_some_and(|at| now.duration_since(at) < QUIET);
        let growth = if settled {
            self.config.probe
        } else {
            (self.config.probe * FAST_PROBE_FACTOR).min(0.5)
        };
        state.interval = state
            .interval
            .mul_f64(1.0 - growth)
            .max(self.min_interval());
    }

    /// Eases off when no call was throttled or held for `ease_off`; called
    /// by calls that find the pace on.
    pub(super) fn ease_off_if_quiet(&self) {
        if self.config.max_rate.is_some() {
            return;
        }
        let now = Instant::now();
        let mut state = self.state();
        if self.is_pacing() && now.duration_since(state.last_busy) >= self.config.ease_off {
            state.remembered = Some(state.interval);
            self.pacing.store(false, Ordering::Relaxed);
            tracing::debug!("no call throttled or held for a while: calls are free again");
            self.publish(&state);
        }
    }

    /// The pace on the `metrics` facade.
    #[cfg_attr(not(feature = "metrics"), allow(clippy::unused_self))]
    fn publish(&self, state: &State) {
        #[cfg(feature = "metrics")]
        metrics::gauge!(crate::metrics::THROTTLE_RATE).set(if self.is_pacing() {
            per_second(state.interval)
        } else {
            0.0
        });
        #[cfg(not(feature = "metrics"))]
        let _ = state;
    }
}

impl std::fmt::Debug for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pace")
            .field("config", &self.config)
            .field("now", &self.snapshot())
            .finish()
    }
}

/// Counts a call among those waiting while it is.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
