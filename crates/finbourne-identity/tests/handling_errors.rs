//! A program's handling of errors, as the README's "Handling errors" shows
//! it: one `match` on `error.kind()`, written with the public API only, run
//! against the test emulator, async and blocking. Each kind a program acts
//! on is met for real: not found, already exists, throttled (longer than the
//! call may wait) and outcome unknown (the connection dropped after the
//! service created the user).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use finbourne_identity::prelude::*;
use finbourne_identity::testing::{Fault, FaultRule, FaultWhen, TestEmulator};
use finbourne_identity::{DefaultStack, ErrorCode, UsersApi};

/// What the program did about a create.
#[derive(Debug, PartialEq)]
enum Handled {
    Created(String),
    Existed(String),
    CreatedAfterAll(String),
    NotCreatedSafeToResend,
    TryAgainIn(Option<Duration>),
    Invalid(Vec<String>),
    NotFound(Option<ErrorCode>),
    NoAnswer,
}

/// The README's `match`, in an async program.
async fn create(
    users: &UsersApi<DefaultStack, Error>,
    request: &CreateUserRequest,
) -> Result<Handled, Error> {
    Ok(match users.create_user(request).send().await {
        Ok(user) => Handled::Created(user.id),
        Err(error) => match error.kind() {
            ErrorKind::AlreadyExists => {
                let user = users.get_user_from_login(&request.login).send().await?;
                Handled::Existed(user.id)
            }
            ErrorKind::OutcomeUnknown => match users.settle_create_user(request).send().await? {
                Some(user) => Handled::CreatedAfterAll(user.id),
                None => Handled::NotCreatedSafeToResend,
            },
            ErrorKind::Throttled => Handled::TryAgainIn(error.retry_after()),
            ErrorKind::Validation => Handled::Invalid(
                error
                    .field_errors()
                    .into_iter()
                    .flatten()
                    .map(|(field, _)| field.clone())
                    .collect(),
            ),
            ErrorKind::NotFound => Handled::NotFound(error.code()),
            ErrorKind::NoAnswer => Handled::NoAnswer,
            _ => return Err(error),
        },
    })
}

/// The same `match`, in a program that is not async.
fn create_blocking(
    users: finbourne_identity::blocking::Users<'_>,
    request: &CreateUserRequest,
) -> Result<Handled, Error> {
    Ok(match users.create_user(request).send() {
        Ok(user) => Handled::Created(user.id),
        Err(error) => match error.kind() {
            ErrorKind::AlreadyExists => {
                let user = users.get_user_from_login(&request.login).send()?;
                Handled::Existed(user.id)
            }
            ErrorKind::OutcomeUnknown => match users.settle_create_user(request).send()? {
                Some(user) => Handled::CreatedAfterAll(user.id),
                None => Handled::NotCreatedSafeToResend,
            },
            ErrorKind::Throttled => Handled::TryAgainIn(error.retry_after()),
            ErrorKind::Validation => Handled::Invalid(
                error
                    .field_errors()
                    .into_iter()
                    .flatten()
                    .map(|(field, _)| field.clone())
                    .collect(),
            ),
            ErrorKind::NotFound => Handled::NotFound(error.code()),
            ErrorKind::NoAnswer => Handled::NoAnswer,
            _ => return Err(error),
        },
    })
}

/// The next CreateUser meets `fault`.
fn next_create(fault: Fault) -> Vec<FaultRule> {
    vec![FaultRule::new(Some("CreateUser"), fault).when(FaultWhen::Next { n: 1 })]
}

/// A 404, as for a create naming a role the domain does not have.
fn not_found() -> Fault {
    Fault::Status {
        status: 404,
        retry_after: None,
    }
}

fn throttled_for_a_minute() -> Fault {
    Fault::Status {
        status: 429,
        retry_after: Some("60".to_owned()),
    }
}

#[tokio::test]
async fn an_async_program_acts_on_each_kind_with_one_match() {
    let emulator = TestEmulator::start().await.unwrap();
    let client = emulator.client().unwrap();
    let users = client.users();
    let ann = CreateUserRequest::personal("Ann", "Lee", "ann@example.com");

    let Handled::Created(id) = create(users, &ann).await.unwrap() else {
        panic!("not created");
    };
    // Already exists: the user who has the login.
    assert_eq!(create(users, &ann).await.unwrap(), Handled::Existed(id));

    // Outcome unknown: the connection dropped after the service created the
    // user; settled by its login, it was created.
    let bob = CreateUserRequest::personal("Bob", "Stone", "bob@example.com");
    emulator.set_faults(next_create(Fault::CloseAfterProcessing));
    let Handled::CreatedAfterAll(bob_id) = create(users, &bob).await.unwrap() else {
        panic!("not settled");
    };
    assert!(emulator.users().iter().any(|user| user.id == bob_id));

    // The connection dropped before the service acted on the create (the
    // client cannot tell it from the case above): settled, it was not
    // made, and is safe to send again.
    let cas = CreateUserRequest::personal("Cas", "Tester", "cas@example.com");
    emulator.set_faults(next_create(Fault::CloseBeforeProcessing));
    assert_eq!(
        create(users, &cas).await.unwrap(),
        Handled::NotCreatedSafeToResend
    );
    assert!(!emulator.users().iter().any(|user| user.login == cas.login));

    // Throttled for longer than the call may wait: the wait the service
    // asked, and nothing was done. (A client of its own: the 429 sets the
    // pace of the client that met it, for every call of its clones.)
    let dee = CreateUserRequest::personal("Dee", "Ray", "dee@example.com");
    let throttled = emulator.client().unwrap();
    emulator.set_faults(next_create(throttled_for_a_minute()));
    let patient_for_a_second =
        finbourne_identity::RequestOptions::new().longest_wait(Duration::from_secs(1));
    let error = throttled
        .users()
        .create_user(&dee)
        .options(patient_for_a_second)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Throttled, "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(60)));
    assert!(!emulator.users().iter().any(|user| user.login == dee.login));
    let throttled = emulator
        .builder()
        .total_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    emulator.set_faults(next_create(throttled_for_a_minute()));
    assert_eq!(
        create(throttled.users(), &dee).await.unwrap(),
        Handled::TryAgainIn(Some(Duration::from_secs(60)))
    );

    // Not found.
    emulator.set_faults(next_create(not_found()));
    assert!(matches!(
        create(users, &dee).await.unwrap(),
        Handled::NotFound(_)
    ));

    // Refused before it is sent: the type is not one the service creates.
    let robot = CreateUserRequest {
        user_type: UserType::from("Robot"),
        ..CreateUserRequest::personal("Ro", "Bot", "ro@example.com")
    };
    let refused = create(users, &robot).await.unwrap();
    assert_eq!(refused, Handled::Invalid(vec!["type".to_owned()]));

    // `main` prints what went wrong, with its causes.
    let error = users.get_user("00u-nobody").send().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(error.code(), Some(ErrorCode::UserNotFound));
    assert!(format!("{error:?}").starts_with("GetUser failed: 404 Not Found"));
    emulator.shutdown().await;
}

#[test]
fn a_blocking_program_acts_on_each_kind_with_the_same_match() {
    // No runtime of the test's own.
    let emulator = finbourne_identity::testing::blocking::TestEmulator::start().unwrap();
    let client = emulator.client().unwrap();
    let users = client.users();
    let ann = CreateUserRequest::personal("Ann", "Lee", "ann@example.com");
    let Handled::Created(id) = create_blocking(users, &ann).unwrap() else {
        panic!("not created");
    };
    assert_eq!(create_blocking(users, &ann).unwrap(), Handled::Existed(id));

    let bob = CreateUserRequest::personal("Bob", "Stone", "bob@example.com");
    emulator.set_faults(next_create(Fault::CloseAfterProcessing));
    assert!(matches!(
        create_blocking(users, &bob).unwrap(),
        Handled::CreatedAfterAll(_)
    ));

    let dee = CreateUserRequest::personal("Dee", "Ray", "dee@example.com");
    emulator.set_faults(next_create(throttled_for_a_minute()));
    let throttled = emulator
        .builder()
        .total_timeout(Duration::from_secs(2))
        .build_blocking()
        .unwrap();
    assert_eq!(
        create_blocking(throttled.users(), &dee).unwrap(),
        Handled::TryAgainIn(Some(Duration::from_secs(60)))
    );

    emulator.set_faults(next_create(not_found()));
    assert!(matches!(
        create_blocking(users, &dee).unwrap(),
        Handled::NotFound(_)
    ));
    emulator.shutdown();
}
