//! The retry budget: tower's [`TpsBudget`], shared by every call of a
//! client, that stops retry storms.
//!
//! Every call deposits and every retry withdraws; when the service fails
//! many calls at once, retries stop at a share of the traffic instead of
//! multiplying it. A deposit counts for `ttl`; a reserve of `min_per_sec`
//! retries a second is there whatever the traffic.
//!
//! [`RetryBudget`] holds the settings, checked when they are made, because
//! `TpsBudget::new` panics on settings out of its range.

use std::time::Duration;

use tower::retry::budget::TpsBudget;

use crate::error::BuildError;

/// Settings of the retry budget.
///
/// ```
/// use std::time::Duration;
/// use identity_transport::retry::RetryBudget;
///
/// // Each call counts for 10 s; 5 retries a second at any time, plus one
/// // retry per ten calls.
/// let budget = RetryBudget::new(Duration::from_secs(10), 5, 0.1)?;
/// # let _ = budget;
/// assert!(RetryBudget::new(Duration::from_secs(600), 5, 0.1).is_err());
/// # Ok::<(), identity_transport::BuildError>(())
/// ```
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

    /// An empty budget with these settings (checked by [`RetryBudget::new`]).
    pub(crate) fn tps_budget(&self) -> TpsBudget {
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
    use super::*;
    use tower::retry::budget::Budget;

    #[test]
    fn out_of_range_settings_are_errors_not_panics() {
        let second = Duration::from_secs(1);
        assert!(RetryBudget::new(Duration::from_millis(999), 1, 0.2).is_err());
        assert!(RetryBudget::new(Duration::from_secs(61), 1, 0.2).is_err());
        assert!(RetryBudget::new(second, i32::MAX as u32, 0.2).is_err());
        assert!(RetryBudget::new(second, 1, -0.1).is_err());
        assert!(RetryBudget::new(second, 1, 1000.5).is_err());
        assert!(RetryBudget::new(second, 1, f32::NAN).is_err());
        assert!(RetryBudget::new(Duration::from_secs(60), 0, 1000.0).is_ok());
    }

    fn budget_with(ttl_secs: u64, min_per_sec: u32, percent: f32) -> TpsBudget {
        let settings = RetryBudget::new(Duration::from_secs(ttl_secs), min_per_sec, percent);
        settings.unwrap().tps_budget()
    }

    fn withdrawals(budget: &TpsBudget) -> usize {
        std::iter::from_fn(|| budget.withdraw().then_some(())).count()
    }

    #[tokio::test(start_paused = true)]
    async fn a_budget_without_reserve_allows_only_its_share() {
        let budget = budget_with(10, 0, 0.5);
        assert!(!budget.withdraw(), "nothing deposited yet");
        for _ in 0..4 {
            budget.deposit();
        }
        assert_eq!(withdrawals(&budget), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_deposit_counts_for_the_ttl_and_then_expires() {
        // Within the ttl, a deposit pays for a retry...
        let budget = budget_with(10, 0, 1.0);
        budget.deposit();
        tokio::time::advance(Duration::from_secs(9)).await;
        assert!(budget.withdraw());
        // ...and past it, it has expired.
        let budget = budget_with(10, 0, 1.0);
        budget.deposit();
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(!budget.withdraw());
    }

    #[tokio::test(start_paused = true)]
    async fn the_reserve_allows_min_per_sec_for_the_ttl_without_deposits() {
        assert_eq!(withdrawals(&budget_with(10, 2, 1.0)), 20);
        assert_eq!(withdrawals(&budget_with(10, 0, 0.0)), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_percentage_sets_retries_per_deposit() {
        for (percent, deposits, retries) in [(0.2, 10, 2), (1.0, 3, 3), (2.5, 2, 5)] {
            let budget = budget_with(10, 0, percent);
            for _ in 0..deposits {
                budget.deposit();
            }
            assert_eq!(withdrawals(&budget), retries, "{percent}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn extreme_settings_neither_overflow_nor_panic() {
        let budget = budget_with(60, i32::MAX as u32 - 1, 1e-9);
        budget.deposit();
        assert!(budget.withdraw());
        let budget = budget_with(1, 0, 1000.0);
        for _ in 0..3 {
            budget.deposit();
        }
        assert_eq!(withdrawals(&budget), 3000);
    }
}
