//! The fault soak: thousands of mixed calls through the facade
//! against the emulator with faults on (about 10 % 503, 5 % 429 with
//! `Retry-After`, 5 % dropped connections before and after processing, 2 %
//! answers slower than the attempt timeout), 16 at a time, then the
//! emulator's users and request log compared with what the client was told:
//! nothing lost, nothing done twice, nothing hung (see
//! `support/soak.rs` for every rule checked).
//!
//! A second phase runs the same under the emulator's rate limit (200 calls a
//! second for the soak's token), so that the client's throttle paces the
//! calls while the faults go on.
//!
//! The short form (1,500 calls each) runs in CI; `cargo xtask soak` runs the
//! long form (`SOAK_CALLS=20000`, in release). `SOAK_SEED` changes the faults.

use std::num::NonZeroU32;
use std::sync::Arc;

use identity_emulator::EmulatorConfig;

use crate::support;
use crate::support::soak::{SoakPlan, check, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mixed_calls_under_faults_lose_nothing_duplicate_nothing_hang_on_nothing() {
    soak(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mixed_calls_under_faults_and_a_rate_limit_lose_nothing_duplicate_nothing() {
    soak(NonZeroU32::new(200)).await;
}

/// The soak, under `rate_limit` requests a second when there is one.
async fn soak(rate_limit: Option<NonZeroU32>) {
    let plan = SoakPlan::from_env(1_500);
    let emulator = Arc::new(
        support::emulator_with(EmulatorConfig {
            faults: plan.fault_rules(),
            rate_limit,
            ..EmulatorConfig::default()
        })
        .await,
    );
    let client = plan
        .configure(support::builder(&emulator.base_url()))
        .access_token(support::TOKEN)
        .build()
        .unwrap();

    let soak = run(&client, &emulator, &plan).await;
    let (summary, violations) = check(&soak, &emulator, &plan);
    println!("{summary}");
    println!("  the client's throttle: {:?}", client.throttle());

    assert_eq!(summary.calls, plan.calls);
    // The faults were met, or the soak proved nothing.
    assert!(
        summary.answered_503 > 0 && summary.answered_429 > 0 && summary.dropped > 0,
        "{summary}"
    );
    if rate_limit.is_some() {
        assert!(client.throttle().pacing, "{:?}", client.throttle());
    }
    assert!(
        summary.users_created > 0 && summary.succeeded > summary.calls / 2,
        "{summary}"
    );
    assert!(
        violations.is_empty(),
        "{} violations, the first ones:\n{}",
        violations.len(),
        violations
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
