//! Create, read, update and delete a user.
//!
//! Against a local emulator:
//!
//! ```sh
//! cargo run -p identity-cli -- emulator --access-token demo-token &
//! FBN_IDENTITY_URL=http://127.0.0.1:8080/identity FBN_ACCESS_TOKEN=demo-token \
//!     cargo run -p finbourne-identity --example quickstart
//! ```

use finbourne_identity::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // FBN_IDENTITY_URL and FBN_ACCESS_TOKEN (or the password grant's
    // settings), from the environment.
    let client = IdentityClient::from_env()?;
    let users = client.users();

    let request = CreateUserRequest::personal("Ann", "Lee", "ann.lee@example.com");
    let ann = users.create_user(&request).send().await?;
    println!("created {} ({})", ann.login, ann.id);

    let read = users.get_user(&ann.id).include_roles(true).send().await?;
    println!(
        "read {} {}: {}",
        read.first_name, read.last_name, read.status
    );

    let mut change = UpdateUserRequest::from_user(&read);
    change.last_name = "Lee-Smith".into();
    let updated = users.update_user(&ann.id, &change).send().await?;
    println!("renamed to {} {}", updated.first_name, updated.last_name);

    users.delete_user(&ann.id).purge(true).send().await?;
    println!("deleted {}", ann.id);
    Ok(())
}
