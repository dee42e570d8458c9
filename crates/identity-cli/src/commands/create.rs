//! Creating one user and settling what became of it: the one way `users
//! create`, each line of `users import` and each create of `users sync`
//! create a user, the SDK's [`create_user_settled`] (a create whose answer
//! was lost is settled by looking its login up, and sent again only when
//! it was not made), with the pace's options.

pub(crate) use finbourne_identity::sync::Created;
use finbourne_identity::sync::create_user_settled;
use finbourne_identity::{CreateUserRequest, IdentityClient};

use super::pace::Pace;

/// Creates the user of `request` and settles what became of it.
pub(crate) async fn create_user(
    pace: &Pace,
    client: &IdentityClient,
    request: &CreateUserRequest,
    wait_for_reindex: bool,
) -> Created {
    create_user_settled(client, request, wait_for_reindex, &pace.options()).await
}
