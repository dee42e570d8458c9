//! The retry budget: a windowed token bucket, shared by every call of a
//! client, that stops retry storms.
//!
//! Every call deposits and every retry withdraws; when the service fails
//! many calls at once, retries stop at a share of the traffic instead of
//! multiplying it. The rules are those of finagle's and tower's
//! `TpsBudget`: a deposit counts for `ttl`, kept in ten windows that expire
//! one by one, plus a reserve of `min_per_sec × ttl` retries.
//!
//! tower's `TpsBudget` takes a mutex on every deposit, so every call of a
//! client would take one lock, from every thread. This bucket is lock-free:
//! each window is one atomic word holding the window's number and its
//! balance, updated by compare-and-swap; a window whose number is old is
//! stale and counts for nothing. Its clock is tokio's, so that tests with
//! paused time see deposits expire.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::error::BuildError;

/// Settings of the retry budget.
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

    /// An empty bucket with these settings (checked by [`RetryBudget::new`]).
    pub(crate) fn bucket(&self) -> Bucket {
        Bucket::new(self)
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

/// How many windows a deposit's `ttl` is cut into.
const WINDOWS: usize = 10;

/// The bucket of one [`RetryBudget`]: balances per window of `ttl / 10`,
/// and the reserve.
#[derive(Debug)]
pub(crate) struct Bucket {
    /// Window 0 starts here.
    origin: Instant,
    /// The length of a window, in nanoseconds (at least 100 ms).
    window_nanos: u64,
    /// Window `n` lives in slot `n % WINDOWS`, packed by [`pack`].
    slots: [AtomicU64; WINDOWS],
    /// What a deposit adds, and what a retry takes.
    deposit_amount: i32,
    withdraw_amount: i32,
    /// What can be withdrawn with no deposits at all.
    reserve: i64,
}

impl Bucket {
    fn new(settings: &RetryBudget) -> Self {
        // As tower: the amounts are whole numbers, so that a percentage
        // below 100 costs several deposits per retry and one above it
        // gives several retries per deposit.
        let percent = settings.retry_percent;
        let (deposit_amount, withdraw_amount) = if percent == 0.0 {
            (0, 1)
        } else if percent <= 1.0 {
            (1, (1.0 / percent) as i32)
        } else {
            (1000, (1000.0 / percent) as i32)
        };
        let reserve = i64::from(settings.min_per_sec)
            .saturating_mul(settings.ttl.as_secs() as i64)
            .saturating_mul(i64::from(withdraw_amount));
        Self {
            origin: Instant::now(),
            window_nanos: nanos(settings.ttl / WINDOWS as u32).max(1),
            slots: Default::default(),
            deposit_amount,
            withdraw_amount,
            reserve,
        }
    }

    /// One call's deposit.
    pub(crate) fn deposit(&self) {
        let window = self.window_now();
        self.add(window, self.deposit_amount);
    }

    /// Takes one retry's worth, if the bucket holds it. Two retries at the
    /// same instant may both succeed on the last of it (as with tower's).
    pub(crate) fn withdraw(&self) -> bool {
        let window = self.window_now();
        let balance: i64 = self
            .slots
            .iter()
            .filter_map(|slot| {
                let (number, balance) = unpack(slot.load(Ordering::Acquire));
                let age = window.wrapping_sub(number);
                (age < WINDOWS as u32).then_some(i64::from(balance))
            })
            .sum();
        if balance.saturating_add(self.reserve) < i64::from(self.withdraw_amount) {
            return false;
        }
        self.add(window, -self.withdraw_amount);
        true
    }

    /// The number of the window `now` is in (it wraps after 2³² windows,
    /// over 13 years: a slot that old is long stale anyway).
    fn window_now(&self) -> u32 {
        let elapsed = Instant::now().saturating_duration_since(self.origin);
        (nanos(elapsed) / self.window_nanos) as u32
    }

    /// Adds `amount` to `window`'s balance, first emptying its slot if
    /// the slot still holds an older window. If the slot has moved on to a
    /// later window (this thread stalled for a whole ttl), the amount would
    /// already have expired: it is dropped.
    fn add(&self, window: u32, amount: i32) {
        let slot = &self.slots[window as usize % WINDOWS];
        let mut current = slot.load(Ordering::Acquire);
        loop {
            let (number, balance) = unpack(current);
            if number != window && number.wrapping_sub(window) < u32::MAX / 2 {
                return;
            }
            let balance = if number == window { balance } else { 0 };
            let next = pack(window, balance.saturating_add(amount));
            match slot.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }
}

/// `duration` in nanoseconds, in 64 bits (584 years; a 128-bit division
/// would cost every call far more than the rest of the deposit).
fn nanos(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(duration.subsec_nanos()))
}

/// A window's number in the high half, its balance in the low half.
fn pack(window: u32, balance: i32) -> u64 {
    (u64::from(window) << 32) | u64::from(balance as u32)
}

fn unpack(word: u64) -> (u32, i32) {
    ((word >> 32) as u32, word as u32 as i32)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::sync::Arc;

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

    fn bucket_with(ttl_secs: u64, min_per_sec: u32, percent: f32) -> Bucket {
        RetryBudget::new(Duration::from_secs(ttl_secs), min_per_sec, percent)
            .unwrap()
            .bucket()
    }

    fn withdrawals(bucket: &Bucket) -> usize {
        std::iter::from_fn(|| bucket.withdraw().then_some(())).count()
    }

    #[tokio::test(start_paused = true)]
    async fn a_deposit_counts_for_the_ttl_and_then_expires() {
        let bucket = bucket_with(10, 0, 1.0);
        bucket.deposit();
        tokio::time::advance(Duration::from_millis(9_900)).await;
        bucket.deposit();
        assert_eq!(withdrawals(&bucket), 2);
        bucket.deposit();
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(withdrawals(&bucket), 0, "deposits older than the ttl");
    }

    #[tokio::test(start_paused = true)]
    async fn a_window_ten_windows_later_starts_empty_in_the_same_slot() {
        let bucket = bucket_with(10, 0, 1.0);
        for _ in 0..5 {
            bucket.deposit();
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        bucket.deposit();
        assert_eq!(withdrawals(&bucket), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_reserve_allows_min_per_sec_for_the_ttl_without_deposits() {
        assert_eq!(withdrawals(&bucket_with(10, 2, 1.0)), 20);
        assert_eq!(withdrawals(&bucket_with(10, 0, 0.0)), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_percentage_sets_retries_per_deposit() {
        for (percent, deposits, retries) in [(0.2, 10, 2), (1.0, 3, 3), (2.5, 2, 5)] {
            let bucket = bucket_with(10, 0, percent);
            for _ in 0..deposits {
                bucket.deposit();
            }
            assert_eq!(withdrawals(&bucket), retries, "{percent}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn extreme_settings_neither_overflow_nor_panic() {
        let bucket = RetryBudget::new(Duration::from_secs(60), i32::MAX as u32 - 1, 1e-9)
            .unwrap()
            .bucket();
        // A reserve past i64::MAX, and a deposit on top of it.
        bucket.deposit();
        assert!(bucket.withdraw());
        // 1000 retries a call.
        let bucket = bucket_with(1, 0, 1000.0);
        for _ in 0..3 {
            bucket.deposit();
        }
        assert_eq!(withdrawals(&bucket), 3000);
    }

    #[test]
    fn an_amount_for_a_window_its_slot_has_moved_past_is_dropped() {
        let bucket = bucket_with(10, 0, 1.0);
        bucket.add(10, 1);
        // A thread that stalled for a whole ttl, with window 0's deposit.
        bucket.add(0, 5);
        assert_eq!(unpack(bucket.slots[0].load(Ordering::Acquire)), (10, 1));
        // The slot's next window starts it afresh.
        bucket.add(20, 2);
        assert_eq!(unpack(bucket.slots[0].load(Ordering::Acquire)), (20, 2));
    }

    #[test]
    fn deposits_from_many_threads_at_once_are_all_kept() {
        let bucket = Arc::new(bucket_with(60, 0, 1.0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let bucket = Arc::clone(&bucket);
                std::thread::spawn(move || (0..10_000).for_each(|_| bucket.deposit()))
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(withdrawals(&bucket), 40_000);
    }
}
