//! How fast the bulk commands call the service: at a pace the service
//! itself sets, found by the SDK's
//! [`AdaptiveConcurrencyLayer`], or at a fixed concurrency the user chose.
//!
//! The limiter wraps the whole client (outside the SDK's retry layer), so
//! it counts each call once. In adaptive mode every call is sent with
//! `rate_limit_retries(0)`: each 429 then reaches the limiter, which halves
//! the concurrency and holds new calls until the service's `Retry-After`
//! has passed, and [`while_throttled`] sends the call again, up to
//! [`MAX_THROTTLED`] times. A 429 means the service did not act on the call,
//! so sending it again is safe for any call, CreateUser included. With a
//! fixed concurrency, calls keep the SDK's own 429 retries
//! (`--rate-limit-retries`).

use std::time::Duration;

use finbourne_identity::layers::transport::{
    AdaptiveConcurrency, AdaptiveConcurrencyConfig, AdaptiveConcurrencyLayer, ConcurrencySnapshot,
};
use finbourne_identity::{DefaultStack, Error, IdentityClient, RequestOptions};

/// How many times one call is sent again after a 429, in adaptive mode.
pub(crate) const MAX_THROTTLED: u32 = 10;

/// The most calls in flight in adaptive mode: the import's old maximum.
pub(crate) const MAX_ADAPTIVE: usize = 64;

/// A client whose calls go through the pace's limiter.
pub(crate) type PacedClient = IdentityClient<AdaptiveConcurrency<DefaultStack>>;

/// The pace of a bulk command.
#[derive(Clone, Debug)]
pub(crate) struct Pace {
    limiter: AdaptiveConcurrencyLayer,
    adaptive: bool,
}

impl Pace {
    /// Found from the service's answers, up to [`MAX_ADAPTIVE`].
    pub(crate) fn adaptive() -> Self {
        Self {
            limiter: AdaptiveConcurrencyLayer::new(
                AdaptiveConcurrencyConfig::default().max_limit(MAX_ADAPTIVE),
            ),
            adaptive: true,
        }
    }

    /// `limit` calls at once, never more nor fewer.
    pub(crate) fn fixed(limit: usize) -> Self {
        Self {
            limiter: AdaptiveConcurrencyLayer::new(AdaptiveConcurrencyConfig::fixed(limit)),
            adaptive: false,
        }
    }

    /// `Some(n)`: fixed at `n`; `None`: adaptive.
    pub(crate) fn of(concurrency: Option<u16>) -> Self {
        concurrency.map_or_else(Self::adaptive, |limit| Self::fixed(usize::from(limit)))
    }

    /// Whether the pace adapts.
    pub(crate) fn is_adaptive(&self) -> bool {
        self.adaptive
    }

    /// `client`, its calls paced.
    pub(crate) fn client(&self, client: IdentityClient) -> PacedClient {
        client.with_layer(self.limiter.clone())
    }

    /// How many calls may be in flight now.
    pub(crate) fn limit(&self) -> usize {
        self.limiter.snapshot().limit
    }

    /// The limiter's counts.
    pub(crate) fn snapshot(&self) -> ConcurrencySnapshot {
        self.limiter.snapshot()
    }

    /// The options of each paced call: no 429 retries in adaptive mode.
    pub(crate) fn options(&self) -> RequestOptions {
        if self.adaptive {
            RequestOptions::new().rate_limit_retries(0)
        } else {
            RequestOptions::new()
        }
    }

    /// A line for the end of a command: how the pace went.
    pub(crate) fn summary(&self) -> String {
        let now = self.snapshot();
        if self.adaptive {
            let paced = now.pace.map_or(String::new(), |pace| {
                format!(", paced at {:.0} calls/s", 1.0 / pace.as_secs_f64())
            });
            format!(
                "concurrency: adaptive, {} at the end{paced}; the service throttled {} call{}",
                now.limit,
                now.throttled,
                crate::output::plural(usize::try_from(now.throttled).unwrap_or(usize::MAX)),
            )
        } else {
            format!("concurrency: {} (fixed)", now.limit)
        }
    }
}

/// Whether `error` is a 429 answer.
pub(crate) fn is_throttled(error: &Error) -> bool {
    error.status().is_some_and(|status| status.as_u16() == 429)
}

/// Sends a call (made by `send` with the pace's options) and, in adaptive
/// mode, sends it again while the service answers 429, up to
/// [`MAX_THROTTLED`] times. The limiter holds the next attempt until the
/// service's `Retry-After` has passed; a 429 without one is followed by a
/// short backoff of its own (0.1 s, doubling, at most 5 s).
pub(crate) async fn while_throttled<T, F, Fut>(pace: &Pace, mut send: F) -> Result<T, Error>
where
    F: FnMut(RequestOptions) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let mut throttled = 0;
    loop {
        match send(pace.options()).await {
            Err(error)
                if pace.is_adaptive() && is_throttled(&error) && throttled < MAX_THROTTLED =>
            {
                throttled += 1;
                if error.api().and_then(|api| api.retry_after()).is_none() {
                    tokio::time::sleep(backoff(throttled)).await;
                }
            }
            other => return other,
        }
    }
}

/// The wait after the `n`th 429 without `Retry-After`.
fn backoff(n: u32) -> Duration {
    let factor = 2_u32.saturating_pow(n.saturating_sub(1));
    Duration::from_millis(100)
        .saturating_mul(factor)
        .min(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_five_seconds() {
        let waits: Vec<u128> = (1..=8).map(|n| backoff(n).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(backoff(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn adaptive_calls_leave_429s_to_the_limiter() {
        let adaptive = Pace::of(None);
        assert!(adaptive.is_adaptive());
        assert_eq!(adaptive.options().get_rate_limit_retries(), Some(0));
        let fixed = Pace::of(Some(7));
        assert!(!fixed.is_adaptive());
        assert_eq!(fixed.options().get_rate_limit_retries(), None);
        assert_eq!(fixed.limit(), 7);
        assert_eq!(fixed.summary(), "concurrency: 7 (fixed)");
    }
}
