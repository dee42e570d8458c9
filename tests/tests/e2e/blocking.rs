//! The blocking client: the same operations without `.await`, from several
//! threads at once, and a clear error instead of a panic inside an async
//! runtime.

use finbourne_identity::{CreateUserRequest, Error, blocking};

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
    let found = users.find_users_by_id(ids.clone()).unwrap();
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
