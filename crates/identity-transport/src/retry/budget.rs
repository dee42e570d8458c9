//! The retry budget: a token bucket, shared by every call of a client, that
//! stops retry storms.
//!
//! Every call deposits into tower's
//! [`TpsBudget`] and every retry withdraws;
//! when the service fails many calls at once, retries stop at a share of
//! the traffic instead of multiplying it.

use std::time::Duration;

use tower::retry::budget::TpsBudget;

use crate::error::BuildError;

/// Settings of the retry budget (tower's `TpsBudget`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryBudget {
    ttl: Duration,
    min_per_sec: u32,
    retry_percent: f32,
}

impl RetryBudget {
    /// A budget where each call counts for `ttl` (1 to 60 s), that allows
    /// `min_per_sec` retries a second whatever the traffic, plus
    /// `retry_percent` (0 to 1000) retries per call (`0.2`: one retry per
    /// five calls).
    pub fn new(ttl: Duration, min_per_sec: u32, retry_percent: f32) -> Result<Self, BuildError> {
        if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&ttl) {
            return Err(BuildError::InvalidRetryBudget(
                "ttl must be between 1 and 60 seconds",
            ));
        }
        if min_per_sec >= i32::MAX as u32 {
            return Err(BuildError::InvalidRetryBudget("min_per_sec is too large"));
        }
        if !(0.0..=1000.0).contains(&retry_percent) {
            return Err(BuildError::InvalidRetryBudget(
                "retry_percent must be between 0 and 1000",
            ));
        }
        Ok(Self {
            ttl,
            min_per_sec,
            retry_percent,
        })
    }

    /// The bucket (its settings were checked by [`RetryBudget::new`]).
    pub(crate) fn bucket(&self) -> TpsBudget {
        TpsBudget::new(self.ttl, self.min_per_sec, self.retry_percent)
    }
}

impl Default for RetryBudget {
    /// tower's default: 10 s, 10 retries a second, plus 20 % of the calls.
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(10),
            min_per_sec: 10,
            retry_percent: 0.2,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use tower::retry::budget::Budget;

    #[test]
    fn out_of_range_settings_are_errors_not_panics() {
        for (ttl, min, percent) in [
            (Duration::ZERO, 10, 0.2),
            (Duration::from_secs(61), 10, 0.2),
            (Duration::from_secs(10), u32::MAX, 0.2),
            (Duration::from_secs(10), 10, -1.0),
            (Duration::from_secs(10), 10, 1001.0),
            (Duration::from_secs(10), 10, f32::NAN),
        ] {
            assert!(
                RetryBudget::new(ttl, min, percent).is_err(),
                "{ttl:?} {min} {percent}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_budget_without_reserve_allows_only_its_share() {
        let bucket = RetryBudget::new(Duration::from_secs(10), 0, 0.5)
            .unwrap()
            .bucket();
        assert!(!bucket.withdraw());
        bucket.deposit();
        bucket.deposit();
        assert!(bucket.withdraw());
        assert!(!bucket.withdraw());
    }
}
