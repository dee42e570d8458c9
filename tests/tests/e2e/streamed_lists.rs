//! Streamed lists at any size: against the emulator, a list too large for
//! the client's whole-body limit streams whole (ListUsers and
//! ListRunnableUsers, async and blocking), while the same call made for a
//! `Vec` still stops at the limit.

use finbourne_identity::ErrorKind;
use finbourne_identity::testing::TestEmulator;
use futures_util::TryStreamExt;
use identity_emulator::EmulatorConfig;
use identity_models::{UserResponse, UserType};
use identity_transport::TransportErrorKind;

/// The client's whole-body limit in these tests: a few hundred users.
const BODY_LIMIT: u64 = 64 * 1024;

/// An emulator with 2,000 generated users (about a megabyte of list).
async fn large_domain() -> TestEmulator {
    TestEmulator::start_with(EmulatorConfig {
        seed_users: 2_000,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_list_past_the_body_limit_streams_every_user_but_is_refused_as_a_vec() {
    let emulator = large_domain().await;
    let client = emulator
        .builder()
        .max_response_bytes(BODY_LIMIT)
        .build()
        .unwrap();
    let users = client.users();

    let error = users.list_users().send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error:?}");
    assert_eq!(
        error.transport().map(|e| e.kind()),
        Some(TransportErrorKind::BodyTooLarge)
    );

    let streamed: Vec<_> = users
        .list_users()
        .include_deactivated(true)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let expected = emulator.users();
    assert_eq!(streamed.len(), expected.len());
    let ids = |users: &[UserResponse]| users.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
    assert!(
        ids(&streamed) == ids(&expected),
        "the streamed users are not the domain's, in its order"
    );

    let runnable: Vec<_> = users
        .list_runnable_users()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert!(runnable.len() > 100, "{} runnable users", runnable.len());
    assert!(runnable.iter().all(|u| u.user_type == UserType::Service));
    let whole = emulator
        .client()
        .unwrap()
        .users()
        .list_runnable_users()
        .send()
        .await
        .unwrap();
    assert_eq!(runnable, whole);
}

#[test]
fn the_blocking_client_streams_past_the_body_limit_too() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime.block_on(large_domain());
    let client = emulator
        .builder()
        .max_response_bytes(BODY_LIMIT)
        .build_blocking()
        .unwrap();
    let users = client.users();
    let count = users
        .list_users()
        .include_deactivated(true)
        .stream()
        .map(Result::unwrap)
        .count();
    assert_eq!(count, emulator.users().len());
    assert!(users.list_users().send().is_err());
    drop(client);
    runtime.block_on(emulator.shutdown());
}
