//! The OAuth2 password grant, configured from the environment with the
//! official SDKs' variables; the token is fetched on the first call and
//! refreshed ahead of its expiry.
//!
//! Against a local emulator (its default credentials):
//!
//! ```sh
//! cargo run -p identity-cli -- emulator &
//! FBN_IDENTITY_URL=http://127.0.0.1:8080/identity \
//! FBN_TOKEN_URL=http://127.0.0.1:8080/oauth2/token \
//! FBN_USERNAME=emulator-user FBN_PASSWORD=emulator-password \
//! FBN_CLIENT_ID=emulator-client FBN_CLIENT_SECRET=emulator-client-secret \
//!     cargo run -p finbourne-identity --example password_grant
//! ```

use finbourne_identity::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let client = IdentityClient::from_env()?;
    let users = client.users().list_users().send().await?;
    println!("{} users", users.len());
    for user in users.iter().take(10) {
        println!("  {} ({})", user.login, user.status);
    }
    Ok(())
}
