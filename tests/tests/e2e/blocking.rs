//! The blocking client: the same operations without `.await`, every one
//! ending in `.send()`, from several threads at once, over any service (a
//! layered client's too), against a test emulator started from sync code,
//! and a clear error instead of a panic inside an async runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use finbourne_identity::testing::blocking::TestEmulator;
use finbourne_identity::{CreateUserRequest, Error, ErrorKind, blocking};

use crate::support::{TOKEN, builder, emulator};

/// A blocking client of an emulator that runs on a runtime of its own.
fn client_and_emulator() -> (
    blocking::IdentityClient,
    finbourne_identity::testing::TestEmulator,
    tokio::runtime::Runtime,
) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let emulator = runtime.block_on(emulator());
    let client = builder(&emulator.base_url())
        .access_token(TOKEN)
        .build_blocking()
        .unwrap();
    (client, emulator, runtime)
}

#[test]
fn a_test_emulator_from_sync_code_and_a_layered_client_without_await() {
    // No runtime of the test's: the emulator serves on one of its own.
    let emulator = TestEmulator::start().unwrap();
    // A layer of the user's: it counts the requests it sees.
    let seen = Arc::new(AtomicUsize::new(0));
    let counting = {
        let seen = Arc::clone(&seen);
        tower::util::MapRequestLayer::new(move |request: http::Request<bytes::Bytes>| {
            seen.fetch_add(1, Ordering::SeqCst);
            request
        })
    };
    let layered = emulator.client().unwrap().with_layer(counting);
    let users = layered.users();
    let ann = CreateUserRequest::personal("Ann", "Lee", "ann@example.com");
    let created = users.create_user(&ann).send().unwrap();
    let again = users.create_user(&ann).send().unwrap_err();
    assert_eq!(again.kind(), ErrorKind::AlreadyExists, "{again:?}");
    // Every operation ends in `.send()`: the look-ups and the settling too.
    let found = users
        .find_users_by_id([created.id.as_str(), "00u-nobody"])
        .concurrency(2)
        .send()
        .unwrap();
    assert_eq!(found.values.map(|users| users.len()), Some(1));
    let settled = users.settle_create_user(&ann).send().unwrap();
    assert_eq!(settled.map(|user| user.id), Some(created.id.clone()));
    let nobody = CreateUserRequest::personal("No", "Body", "nobody@example.com");
    assert_eq!(users.settle_create_user(&nobody).send().unwrap(), None);
    assert_eq!(users.list_users().stream().count(), 1);
    // The layer saw each request: 2 creates, 1 find, 2 look-ups by login
    // (GetUserFromLogin answers, found or not), 1 list.
    assert_eq!(seen.load(Ordering::SeqCst), 6, "{:?}", emulator.requests());

    // A client over a service of one's own blocks too.
    let own = finbourne_identity::IdentityClient::from_service(
        layered.as_async().service().clone(),
        finbourne_identity::BaseUrl::parse(&emulator.base_url()).unwrap(),
    );
    let own = blocking::IdentityClient::new(own).unwrap();
    assert_eq!(
        own.users().get_user(&created.id).send().unwrap().login,
        ann.login
    );
    emulator.shutdown();
}

#[test]
fn a_blocking_test_emulator_inside_an_async_runtime_is_an_error_not_a_panic() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let error = runtime.block_on(async { TestEmulator::start().unwrap_err() });
    assert!(matches!(error, Error::BlockingInAsync), "{error:?}");
}

#[test]
fn the_lifecycle_from_several_threads_without_await() {
    let (client, emulator, _runtime) = client_and_emulator();
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let client = client.clone();
            std::thread::spawn(move || {
                let users = client.users();
                let login = format!("thread-{n}@example.com");
                let user = users
                    .create_user(&CreateUserRequest::personal("Thread", "Worker", &login))
                    .send()
                    .unwrap();
                let read = users.get_user(&user.id).include_roles(true).send().unwrap();
                assert_eq!(read.login, login);
                users.unlock_user(&user.id).send().unwrap_err();
                user.id
            })
        })
        .collect();
    let ids: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let users = client.users();
    let listed: Vec<_> = users
        .list_users()
        .stream()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(listed.len(), 4);
    let found = users.find_users_by_id(ids.clone()).send().unwrap();
    assert_eq!(found.values.as_ref().map(|values| values.len()), Some(4));
    for id in &ids {
        users.delete_user(id).purge(true).send().unwrap();
    }
    assert!(emulator.users().is_empty());
    let missing = users.get_user(&ids[0]).send().unwrap_err();
    assert!(missing.is_not_found());
}

#[test]
fn a_call_inside_an_async_runtime_is_an_error_not_a_panic() {
    let (client, _emulator, runtime) = client_and_emulator();
    let error = runtime.block_on(async { client.users().list_users().send().unwrap_err() });
    assert!(matches!(error, Error::BlockingInAsync), "{error:?}");
    assert!(!error.may_have_been_sent());
    let mut stream = runtime.block_on(async { client.users().list_users().stream() });
    let first = runtime.block_on(async { stream.next() });
    assert!(matches!(first, Some(Err(Error::BlockingInAsync))));
    assert!(stream.next().is_none(), "an error ends the list");
    // The client still works outside, and dropping it inside async code
    // does not panic.
    assert!(client.users().list_users().send().unwrap().is_empty());
    runtime.block_on(async move { drop(client) });
}
