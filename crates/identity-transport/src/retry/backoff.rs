//! Exponential backoff with full jitter.
//!
//! The wait before retry `n` (from 0) is a random duration in
//! `[0, min(cap, base * 2^n)]` ("full jitter"): clients that failed
//! together spread out instead of retrying together.
//!
//! `tower::retry::backoff::ExponentialBackoff` does the same, but it hands
//! out a `Sleep`, not a `Duration`; the retry policy must compare the wait
//! with `Retry-After` and with the time left before the call's deadline
//! before it sleeps, so it computes the duration here, with tower's
//! [`HasherRng`](tower::util::rng::HasherRng) for the randomness.

use std::time::Duration;

use tower::util::rng::Rng;

/// An exponential backoff with full jitter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
}

impl Backoff {
    /// Waits of up to `base`, `2 * base`, `4 * base`, ..., never more than `cap`.
    pub const fn exponential(base: Duration, cap: Duration) -> Self {
        Self { base, cap }
    }

    /// The longest wait before retry `retry` (from 0): `min(cap, base * 2^retry)`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        2u32.checked_pow(retry)
            .and_then(|factor| self.base.checked_mul(factor))
            .map_or(self.cap, |wait| wait.min(self.cap))
    }

    /// A random wait before retry `retry`, in `[0, ceiling(retry)]`.
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        self.ceiling(retry).mul_f64(rng.next_f64())
    }
}

impl Default for Backoff {
    /// Up to 200 ms, 400 ms, 800 ms, ..., never more than 10 s.
    fn default() -> Self {
        Self::exponential(Duration::from_millis(200), Duration::from_secs(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::util::rng::HasherRng;

    #[test]
    fn the_ceiling_doubles_up_to_the_cap() {
        let backoff = Backoff::exponential(Duration::from_millis(100), Duration::from_secs(1));
        let ceilings: Vec<_> = (0..6).map(|n| backoff.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff.ceiling(40), Duration::from_secs(1));
        assert_eq!(backoff.ceiling(u32::MAX), Duration::from_secs(1));
    }

    #[test]
    fn delays_stay_within_the_bounds_and_spread() {
        let backoff = Backoff::exponential(Duration::from_millis(100), Duration::from_secs(1));
        let mut rng = HasherRng::new();
        for retry in 0..8 {
            let delays: Vec<_> = (0..200).map(|_| backoff.delay(retry, &mut rng)).collect();
            let ceiling = backoff.ceiling(retry);
            assert!(delays.iter().all(|d| *d <= ceiling), "retry {retry}");
            let below_half = delays.iter().filter(|d| **d < ceiling / 2).count();
            assert!(
                (40..160).contains(&below_half),
                "jitter not spread: {below_half}/200"
            );
        }
    }
}
