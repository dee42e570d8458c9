//! Many calls at once through one default client against a rate-limited
//! emulator: the client keeps the service's pace by itself, with no code of
//! the caller's. (The figures, against the ideal time, come from `cargo
//! xtask bench --fanout`; these tests check what must hold whatever the
//! machine: nothing failed, each user created once, few 429s.)

use std::collections::HashMap;
use std::time::Duration;

use finbourne_identity::{CreateUserRequest, ErrorKind, RequestOptions};
use futures_util::{StreamExt, stream};
use identity_emulator::{Fault, FaultRule, FaultWhen};

use crate::support;

#[tokio::test]
async fn a_wide_fan_out_of_creates_fails_nothing_and_creates_each_user_once() {
    let emulator = support::emulator().await;
    emulator.set_rate_limit(std::num::NonZeroU32::new(50));
    let client = support::client(&emulator.base_url());
    let calls = 150;
    let in_flight = 64;
    let results: Vec<_> = stream::iter(0..calls)
        .map(|n| {
            let client = client.clone();
            async move {
                let email = format!("fan{n}@example.com");
                let request = CreateUserRequest::personal("Fan", "Out", &email);
                client.users().create_user(&request).send().await
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        failed.first()
    );

    let log = support::api_requests(&emulator);
    let throttled = log.iter().filter(|r| r.status == Some(429)).count();
    assert!(
        throttled <= in_flight + calls / 20,
        "{throttled} answers of 429 for {calls} calls, {in_flight} in flight"
    );
    // Each user created once: counted per login in the request log, and no
    // create sent twice (the emulator refuses a second create of a login:
    // it would show as a create answered neither 2xx nor 429).
    let sent_again: Vec<_> = log
        .iter()
        .filter(|r| r.operation.as_deref() == Some("CreateUser"))
        .filter(|r| {
            r.status
                .is_some_and(|s| s != 429 && !(200..300).contains(&s))
        })
        .collect();
    assert!(sent_again.is_empty(), "{sent_again:?}");
    let mut created: HashMap<&str, usize> = HashMap::new();
    for login in log.iter().filter_map(|r| r.created_login.as_deref()) {
        *created.entry(login).or_default() += 1;
    }
    assert_eq!(created.len(), calls);
    assert!(created.values().all(|count| *count == 1), "{created:?}");
    assert_eq!(emulator.users().len(), calls);
    let throttle = client.throttle();
    assert!(throttle.pacing, "{throttle:?}");
    assert_eq!(throttle.throttled, throttled as u64);
}

#[tokio::test]
async fn a_wait_past_the_deadline_ends_the_clients_calls_at_once_as_throttled() {
    let emulator = support::emulator().await;
    let client = support::client(&emulator.base_url());
    let user = support::create(&client, "Patience").await;
    emulator.set_faults(vec![
        FaultRule::new(
            Some("GetUser"),
            Fault::Status {
                status: 429,
                retry_after: Some("7200".into()),
            },
        )
        .when(FaultWhen::Next { n: 1 }),
    ]);
    let options = || RequestOptions::new().total_timeout(Duration::from_secs(60));
    // The service's answer: 429, and a wait the call cannot make.
    let first = client.users().get_user(&user.id).options(options()).send();
    let error = guarded(first).await.unwrap_err();
    assert!(
        error.is_throttled() && error.status().is_some(),
        "{error:?}"
    );
    // The next calls of the client are held by its throttle: they end at
    // once too, not sent, saying how long the service asked to wait.
    let next = client.users().get_user(&user.id).options(options()).send();
    let error = guarded(next).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Throttled, "{error:?}");
    assert!(!error.may_have_been_sent());
    assert!(!error.is_outcome_unknown());
    let wait = error.retry_after().unwrap();
    assert!(wait > Duration::from_secs(7000), "{wait:?}");
    assert_eq!(
        support::api_requests(&emulator)
            .iter()
            .filter(|r| r.operation.as_deref() == Some("GetUser"))
            .count(),
        1
    );
    assert_eq!(client.throttle().gave_up, 1);
}

/// `call`, failing the test instead of hanging it.
async fn guarded<T>(call: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("the call ended at once")
}
