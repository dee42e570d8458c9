//! Retries that tell the truth, against the emulator's faults: a replay
//! that finds its own earlier success reports it; a gateway's bare 503 after
//! the service acted does not get a non-idempotent call sent twice; a
//! CreateUser of unknown outcome is settled by its login; a `Retry-After`
//! longer than the call has left ends the call at once, saying how long.

use std::time::Duration;

use finbourne_identity::{CreateUserRequest, ErrorKind, UserStatus};
use identity_emulator::{Emulator, Fault, FaultRule, FaultWhen};

use crate::support::{TOKEN, api_requests, builder, client, create, emulator};

/// The next call of `operation` meets `fault`.
fn once(emulator: &Emulator, operation: &str, fault: Fault) {
    emulator.set_faults(vec![
        FaultRule::new(Some(operation), fault).when(FaultWhen::Next { n: 1 }),
    ]);
}

/// The operations the emulator logged, in order.
fn logged(emulator: &Emulator) -> Vec<(String, Option<u16>)> {
    api_requests(emulator)
        .into_iter()
        .map(|r| (r.operation.unwrap_or_default(), r.status))
        .collect()
}

#[tokio::test]
async fn a_replay_that_finds_its_own_earlier_success_is_reported_as_that_success() {
    let emulator = emulator().await;
    let client = client(&emulator.base_url());
    let users = client.users();
    for (from, operation) in [
        (UserStatus::LockedOut, "UnlockUser"),
        (UserStatus::Suspended, "UnsuspendUser"),
    ] {
        let user = create(&client, operation).await;
        emulator.set_user_status(&user.id, from.clone()).unwrap();
        emulator.clear_requests();
        // The first attempt is processed, then its connection dropped.
        once(&emulator, operation, Fault::CloseAfterProcessing);
        let result = match operation {
            "UnlockUser" => users.unlock_user(&user.id).send().await,
            _ => users.unsuspend_user(&user.id).send().await,
        };
        assert!(result.is_ok(), "{operation}: {result:?}");
        assert_eq!(
            logged(&emulator),
            [
                (operation.to_owned(), None),
                (operation.to_owned(), Some(400)),
                ("GetUser".to_owned(), Some(200)),
            ],
            "the replay was refused as already done, and a GetUser confirmed it"
        );
        let now = users.get_user(&user.id).send().await.unwrap();
        assert_eq!(now.status, UserStatus::Active);
    }

    // A purge whose first attempt worked: the replay's 404 is its success.
    let user = create(&client, "Purged").await;
    once(&emulator, "DeleteUser", Fault::CloseAfterProcessing);
    users
        .delete_user(&user.id)
        .purge(true)
        .send()
        .await
        .unwrap();
    assert!(emulator.users().iter().all(|u| u.id != user.id));
}

#[tokio::test]
async fn a_refusal_after_a_replay_stands_when_the_user_is_not_in_the_state_asked_for() {
    let emulator = emulator().await;
    let client = client(&emulator.base_url());
    let user = create(&client, "Locked").await;
    // Locked out, not suspended: UnsuspendUser is refused (717) every time.
    emulator
        .set_user_status(&user.id, UserStatus::LockedOut)
        .unwrap();
    once(&emulator, "UnsuspendUser", Fault::CloseAfterProcessing);
    let error = client
        .users()
        .unsuspend_user(&user.id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(
        error.code(),
        Some(finbourne_identity::ErrorCode::StatusInvalidForOperation)
    );
    // The refusal came to a replay: the earlier attempt's fate is the
    // service's word only for this one, and the error says so.
    assert!(error.api().unwrap().follows_unknown_outcome());
    assert!(error.is_outcome_unknown());
}

#[tokio::test]
async fn a_gateways_bare_503_after_processing_does_not_get_a_create_sent_twice() {
    let emulator = emulator().await;
    let client = client(&emulator.base_url());
    let request = CreateUserRequest::personal("Gate", "Way", "gate.way@example.com");
    once(
        &emulator,
        "CreateUser",
        Fault::StatusAfterProcessing { status: 503 },
    );
    let error = client
        .users()
        .create_user(&request)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::OutcomeUnknown);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert!(error.is_outcome_unknown(), "{error}");
    assert_eq!(logged(&emulator), [("CreateUser".to_owned(), Some(503))]);
    // Settled by its login: it was created, once.
    let created = client
        .users()
        .settle_create_user(&request)
        .send()
        .await
        .unwrap()
        .expect("created");
    assert_eq!(created.login, "gate.way@example.com");
    assert_eq!(emulator.users().len(), 1);

    // The service's own 503 (with its request id) refused without acting:
    // the create is sent again, and made once.
    let request = CreateUserRequest::personal("Own", "Refusal", "own.refusal@example.com");
    once(
        &emulator,
        "CreateUser",
        Fault::Status {
            status: 503,
            retry_after: None,
        },
    );
    client.users().create_user(&request).send().await.unwrap();
    assert_eq!(emulator.users().len(), 2);
}

#[tokio::test]
async fn a_create_of_unknown_outcome_that_never_happened_is_settled_as_not_created() {
    let emulator = emulator().await;
    let client = client(&emulator.base_url());
    let request = CreateUserRequest::personal("Never", "Made", "never.made@example.com");
    once(&emulator, "CreateUser", Fault::CloseBeforeProcessing);
    let error = client
        .users()
        .create_user(&request)
        .send()
        .await
        .unwrap_err();
    assert!(error.is_outcome_unknown(), "{error}");
    let settled = client
        .users()
        .settle_create_user(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(settled, None);
    assert!(emulator.users().is_empty());
}

#[tokio::test]
async fn where_the_service_has_no_login_route_a_create_is_settled_from_the_streamed_list() {
    let emulator = emulator().await;
    // A domain whose list is larger than the client takes whole: the list
    // is read as a stream, never held.
    let client = crate::support::builder(&emulator.base_url())
        .access_token(crate::support::TOKEN)
        .max_response_bytes(64 * 1024)
        .build()
        .unwrap();
    emulator.seed_users(2_000).await.unwrap();
    let request = CreateUserRequest::personal("Late", "Comer", "late.comer@example.com");
    client.users().create_user(&request).send().await.unwrap();
    // GetUserFromLogin answered as by a service without that route.
    let no_route = || {
        vec![FaultRule::new(
            Some("GetUserFromLogin"),
            Fault::Status {
                status: 405,
                retry_after: None,
            },
        )]
    };
    emulator.set_faults(no_route());
    let found = client
        .users()
        .settle_create_user(&request)
        .send()
        .await
        .unwrap()
        .expect("found in the list");
    assert_eq!(found.login, "late.comer@example.com");
    let absent = CreateUserRequest::personal("Not", "There", "not.there@example.com");
    let settled = client
        .users()
        .settle_create_user(&absent)
        .send()
        .await
        .unwrap();
    assert_eq!(settled, None);
    let lists = logged(&emulator)
        .iter()
        .filter(|(operation, _)| operation == "ListUsers")
        .count();
    assert_eq!(lists, 2, "one list a settling");
}

#[tokio::test]
async fn a_retry_after_longer_than_the_time_left_ends_the_call_at_once_saying_how_long() {
    let emulator = emulator().await;
    let client = builder(&emulator.base_url())
        .access_token(TOKEN)
        .total_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    once(
        &emulator,
        "ListUsers",
        Fault::Status {
            status: 429,
            retry_after: Some("30".into()),
        },
    );
    let error = client.users().list_users().send().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(
        error.api().and_then(|api| api.retry_after()),
        Some(Duration::from_secs(30))
    );
    assert!(error.to_string().contains("asked to wait 30 s"), "{error}");
    // Not retried early against the service's word.
    assert_eq!(logged(&emulator), [("ListUsers".to_owned(), Some(429))]);
}
