//! [`Deadline`]: when the whole call must be over, set by the total-timeout
//! layer of `identity-transport` for whoever below must stop waiting at it.

use std::time::Duration;

use tokio::time::Instant;

/// When the whole call must be over, every attempt and wait included.
///
/// Set on the request by the total-timeout layer of `identity-transport`,
/// which also arms its own timer for it. The layers below read it to stop
/// waiting in time and to say why: the retry layer never waits past it, the
/// throttle ends a wait for the call's turn at it (as throttled: the call
/// was not sent), and the auth layer of `identity-auth` ends a wait for a
/// token at it (the call then provably sent nothing). When a request
/// already carries a deadline, the total-timeout layer keeps the earlier of
/// the two. The layer also puts it on the answer, so that a follow-up
/// request of the same call (`identity-users`' confirming GetUser) carries
/// it too, and the whole call ends by it.
///
/// It reads tokio's clock, so that tests on paused time see it.
///
/// ```
/// use std::time::Duration;
/// use identity_call::Deadline;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut request = http::Request::new(());
/// let deadline = Deadline::after(Duration::from_secs(5)).expect("representable");
/// deadline.set_on(&mut request);
/// assert_eq!(Deadline::of(&request), Some(deadline));
/// assert!(deadline.remaining() <= Duration::from_secs(5));
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline(Instant);

impl Deadline {
    /// The deadline at `instant` (on tokio's clock, so paused-time tests see it).
    pub fn at(instant: Instant) -> Self {
        Self(instant)
    }

    /// The deadline `timeout` from now, or `None` when that is too far away
    /// to represent (no deadline at all).
    pub fn after(timeout: Duration) -> Option<Self> {
        Instant::now().checked_add(timeout).map(Self)
    }

    /// The deadline a request carries, if any.
    pub fn of<B>(request: &http::Request<B>) -> Option<Deadline> {
        request.extensions().get::<Deadline>().copied()
    }

    /// Makes this the deadline of `request`.
    pub fn set_on<B>(self, request: &mut http::Request<B>) {
        request.extensions_mut().insert(self);
    }

    /// The instant.
    pub fn instant(self) -> Instant {
        self.0
    }

    /// The time left before the deadline (zero once it has passed).
    pub fn remaining(self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
}
