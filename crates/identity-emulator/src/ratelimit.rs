//! The rate limit (`--rate-limit N`): at most N requests per second per
//! caller, as a token bucket per caller on tokio's clock (so tests with
//! paused time drive it without waiting).
//!
//! A caller is an API call's bearer token, checked first (an unknown token
//! is a 401 and takes no bucket), or the token endpoint's client id, once
//! the client has authenticated. A bucket holds at most N requests (a burst
//! of N passes at once) and refills at N per second. A call over the limit
//! is answered 429 with `Retry-After` in seconds, fractional (`0.125`): the
//! time until the bucket holds one request again. The limit is set at start
//! ([`EmulatorConfig::rate_limit`](crate::EmulatorConfig::rate_limit)) and
//! changed at run time with `PUT /_emulator/rate-limit`
//! (`{"requestsPerSecond": N}`, or `null` for none) or
//! [`Emulator::set_rate_limit`](crate::Emulator::set_rate_limit); a change
//! empties every bucket. Hooks are never limited.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use tokio::time::Instant;

/// Buckets beyond this many are pruned of full ones before a new one is made.
const PRUNE_AT: usize = 10_000;

/// One caller's bucket.
#[derive(Debug)]
struct Bucket {
    /// Requests it can take now (at most the rate).
    available: f64,
    updated: Instant,
}

/// The limit and every caller's bucket.
#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    rate: Option<NonZeroU32>,
    buckets: HashMap<String, Bucket>,
}

impl RateLimiter {
    pub(crate) fn new(rate: Option<NonZeroU32>) -> Self {
        Self {
            rate,
            buckets: HashMap::new(),
        }
    }

    /// Requests per second per caller, `None` for no limit.
    pub(crate) fn rate(&self) -> Option<NonZeroU32> {
        self.rate
    }

    /// Sets the limit; every bucket starts full again.
    pub(crate) fn set_rate(&mut self, rate: Option<NonZeroU32>) {
        self.rate = rate;
        self.buckets.clear();
    }

    /// Takes one request from `caller`'s bucket: `Err` with the time until
    /// one is available when it is empty.
    pub(crate) fn take(&mut self, caller: &str) -> Result<(), Duration> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let rate = f64::from(rate.get());
        let now = Instant::now();
        if self.buckets.len() >= PRUNE_AT && !self.buckets.contains_key(caller) {
            // A full bucket is the same as none.
            self.buckets.retain(|_, bucket| {
                bucket.available + now.duration_since(bucket.updated).as_secs_f64() * rate < rate
            });
        }
        let bucket = self.buckets.entry(caller.to_owned()).or_insert(Bucket {
            available: rate,
            updated: now,
        });
        let refill = now.duration_since(bucket.updated).as_secs_f64() * rate;
        bucket.available = (bucket.available + refill).min(rate);
        bucket.updated = now;
        if bucket.available >= 1.0 {
            bucket.available -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.available) / rate))
        }
    }
}

/// A wait as `Retry-After` seconds: whole (`1`) or with up to three
/// decimals (`0.125`), rounded up to the millisecond.
pub(crate) fn retry_after(wait: Duration) -> String {
    let millis = wait.as_nanos().div_ceil(1_000_000).max(1);
    let (seconds, fraction) = (millis / 1000, millis % 1000);
    if fraction == 0 {
        seconds.to_string()
    } else {
        format!("{seconds}.{fraction:03}")
            .trim_end_matches('0')
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(rate: u32) -> RateLimiter {
        RateLimiter::new(NonZeroU32::new(rate))
    }

    /// The `Retry-After` of a refusal.
    fn refused(taken: Result<(), Duration>) -> String {
        retry_after(taken.expect_err("refused"))
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_of_the_rate_passes_then_one_per_period() {
        let mut limiter = limit(4);
        for _ in 0..4 {
            assert_eq!(limiter.take("a"), Ok(()));
        }
        assert_eq!(refused(limiter.take("a")), "0.25");
        assert_eq!(limiter.take("b"), Ok(()), "buckets are per caller");
        tokio::time::advance(Duration::from_millis(100)).await;
        assert_eq!(refused(limiter.take("a")), "0.15");
        tokio::time::advance(Duration::from_millis(150)).await;
        assert_eq!(limiter.take("a"), Ok(()));
        assert!(limiter.take("a").is_err());
        tokio::time::advance(Duration::from_secs(10)).await;
        for _ in 0..4 {
            assert_eq!(limiter.take("a"), Ok(()), "refilled to the rate, no more");
        }
        assert!(limiter.take("a").is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn no_limit_passes_everything_and_a_new_limit_starts_full() {
        let mut limiter = limit(0);
        for _ in 0..1000 {
            assert_eq!(limiter.take("a"), Ok(()));
        }
        limiter.set_rate(NonZeroU32::new(1));
        assert_eq!(limiter.take("a"), Ok(()));
        assert_eq!(refused(limiter.take("a")), "1");
        limiter.set_rate(NonZeroU32::new(2));
        assert_eq!(limiter.take("a"), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn many_callers_do_not_grow_the_buckets_without_bound() {
        let mut limiter = limit(1);
        for n in 0..PRUNE_AT + 10 {
            let _ = limiter.take(&n.to_string());
        }
        tokio::time::advance(Duration::from_secs(1)).await;
        let _ = limiter.take("late");
        assert!(limiter.buckets.len() < 10, "{}", limiter.buckets.len());
    }

    #[test]
    fn retry_after_is_in_seconds_rounded_up_to_the_millisecond() {
        assert_eq!(retry_after(Duration::from_secs(1)), "1");
        assert_eq!(retry_after(Duration::from_millis(250)), "0.25");
        assert_eq!(retry_after(Duration::from_micros(1)), "0.001");
        assert_eq!(retry_after(Duration::from_nanos(1_500_000_001)), "1.501");
        assert_eq!(retry_after(Duration::ZERO), "0.001");
    }
}
