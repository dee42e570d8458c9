//! What a failed call tells: not found, validation errors by field, and a
//! CreateUser whose outcome is unknown, settled by its login.
//!
//! ```sh
//! cargo run -p identity-cli -- emulator --access-token demo-token &
//! FBN_IDENTITY_URL=http://127.0.0.1:8080/identity FBN_ACCESS_TOKEN=demo-token \
//!     cargo run -p finbourne-identity --example error_handling
//! ```

use finbourne_identity::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let client = IdentityClient::from_env()?;
    let users = client.users();

    // Not found: a typed question, with the service's request id for support.
    match users.get_user("00u-nobody").send().await {
        Err(error) if error.is_not_found() => {
            println!("not found (request id {:?})", error.request_id());
        }
        other => println!("unexpected: {other:?}"),
    }

    // Validation: every invalid field with its messages.
    let bad = CreateUserRequest::personal("A", "B", "not-an-email");
    match users.create_user(&bad).send().await {
        Err(error) if error.is_validation() => {
            for (field, messages) in error.field_errors().into_iter().flatten() {
                println!("{field}: {}", messages.join(" "));
            }
        }
        other => println!("unexpected: {other:?}"),
    }

    // A CreateUser that may or may not have happened is never sent twice by
    // the SDK; settle it by its login before deciding to send it again.
    let request = CreateUserRequest::personal("Ann", "Lee", "ann.example@example.com");
    let ann = match users.create_user(&request).send().await {
        Ok(user) => user,
        Err(error) if error.is_outcome_unknown() => {
            match users.settle_create_user(&request).send().await? {
                Some(user) => user,
                None => users.create_user(&request).send().await?,
            }
        }
        Err(error) => return Err(error),
    };
    println!("created {}", ann.id);
    users.delete_user(&ann.id).purge(true).send().await?;
    Ok(())
}
