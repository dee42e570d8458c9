//! What a failed call tells, and one `match` that acts on it: not found,
//! already exists, validation errors by field, throttled (with the wait the
//! service asked), and a CreateUser whose outcome is unknown, settled by
//! its login. `main` returns the SDK's `Error`: if anything else goes
//! wrong, its `Debug` prints the message and its causes.
//!
//! ```sh
//! cargo run -p identity-cli -- emulator --access-token demo-token &
//! FBN_IDENTITY_URL=http://127.0.0.1:8080/identity FBN_ACCESS_TOKEN=demo-token \
//!     cargo run -p finbourne-identity --example error_handling
//! ```

use finbourne_identity::prelude::*;
use finbourne_identity::{DefaultStack, ErrorCode, UsersApi};

/// Creates the user of `request`, saying what came of it: the README's
/// "Handling errors" `match`.
async fn create(
    users: &UsersApi<DefaultStack, Error>,
    request: &CreateUserRequest,
) -> Result<(), Error> {
    match users.create_user(request).send().await {
        Ok(user) => println!("created {}", user.id),
        Err(error) => match error.kind() {
            ErrorKind::AlreadyExists => {
                let user = users.get_user_from_login(&request.login).send().await?;
                println!("{} exists: {}", request.login, user.id);
            }
            ErrorKind::OutcomeUnknown => match users.settle_create_user(request).send().await? {
                Some(user) => println!("created {} after all", user.id),
                None => println!("not created: safe to send again"),
            },
            ErrorKind::Throttled => println!("try again in {:?}", error.retry_after()),
            ErrorKind::Validation => {
                for (field, messages) in error.field_errors().into_iter().flatten() {
                    println!("{field}: {}", messages.join(" "));
                }
            }
            ErrorKind::NotFound => println!("not found: code {:?}", error.code()),
            ErrorKind::NoAnswer => println!("no answer; try again later"),
            _ => return Err(error),
        },
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let client = IdentityClient::from_env()?;
    let users = client.users();

    // Not found: a typed question, the service's code by name, and its
    // request id for support.
    match users.get_user("00u-nobody").send().await {
        Err(error) if error.is_not_found() => {
            assert_eq!(error.code(), Some(ErrorCode::UserNotFound));
            println!("not found (request id {:?})", error.request_id());
        }
        other => println!("unexpected: {other:?}"),
    }

    // Each kind the match acts on: a new user, the same again (already
    // exists), and one the service refuses field by field.
    let ann = CreateUserRequest::personal("Ann", "Lee", "ann.example@example.com");
    create(users, &ann).await?;
    create(users, &ann).await?;
    create(
        users,
        &CreateUserRequest::personal("A", "B", "not-an-email"),
    )
    .await?;

    if let Some(user) = users.settle_create_user(&ann).send().await? {
        users.delete_user(&user.id).purge(true).send().await?;
    }
    Ok(())
}
