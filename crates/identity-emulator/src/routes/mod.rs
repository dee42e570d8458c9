//! The HTTP surface: the Users API under `/identity` (bearer token required),
//! the OAuth2 token endpoint at `/oauth2/token`, and the emulator's hooks
//! under `/_emulator` (bearer token required with `allow_remote` or a state
//! file, except for the health check, which reveals nothing).
//!
//! The API routes come from one table, [`OPERATIONS`], which the request
//! classifier ([`crate::operations`]) reads too, so a route and its name in
//! the log and in fault rules cannot drift apart. Routing matches the raw
//! (still percent-encoded) path, so `%2F` in an id stays inside its segment.

mod directory;
mod hooks;
mod lifecycle;
mod list_body;
mod schema;
mod token;

pub(crate) use token::injected_token_error_body;
pub(crate) mod users;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodFilter, MethodRouter, get, on, post};
use http::Method;

use crate::auth;
use crate::shared::AppState;

/// Where the Users API is served (the SDK's base URL is `<root>/identity`).
pub(crate) const API_PREFIX: &str = "/identity";

/// Where the token endpoint is served.
pub(crate) const TOKEN_PATH: &str = "/oauth2/token";

/// The health check, the one hook that never needs a token.
pub(crate) const HEALTH_PATH: &str = "/_emulator/health";

/// One contract operation: its name, method, path under [`API_PREFIX`], and
/// how to route it.
pub(crate) struct Operation {
    pub(crate) name: &'static str,
    pub(crate) method: Method,
    pub(crate) path: &'static str,
    route: fn(MethodFilter) -> MethodRouter<AppState>,
}

/// Every operation of the service's contract.
pub(crate) static OPERATIONS: [Operation; 16] = [
    Operation {
        name: "CreateUser",
        method: Method::POST,
        path: "/api/users",
        route: |m| on(m, users::create_user),
    },
    Operation {
        name: "ListUsers",
        method: Method::GET,
        path: "/api/users",
        route: |m| on(m, users::list_users),
    },
    Operation {
        name: "GetUser",
        method: Method::GET,
        path: "/api/users/{id}",
        route: |m| on(m, users::get_user),
    },
    Operation {
        name: "UpdateUser",
        method: Method::PUT,
        path: "/api/users/{id}",
        route: |m| on(m, users::update_user),
    },
    Operation {
        name: "DeleteUser",
        method: Method::DELETE,
        path: "/api/users/{id}",
        route: |m| on(m, users::delete_user),
    },
    Operation {
        name: "GetUserFromLogin",
        method: Method::GET,
        path: "/api/users/fromlogin/{login}",
        route: |m| on(m, users::get_user_from_login),
    },
    Operation {
        name: "ListRunnableUsers",
        method: Method::GET,
        path: "/api/users/$runnable",
        route: |m| on(m, users::list_runnable_users),
    },
    Operation {
        name: "FindUsersById",
        method: Method::GET,
        path: "/api/directory",
        route: |m| on(m, directory::find_users_by_id),
    },
    Operation {
        name: "GetUserSchema",
        method: Method::GET,
        path: "/api/users/schema",
        route: |m| on(m, schema::get_user_schema),
    },
    Operation {
        name: "UpdateUserSchema",
        method: Method::PUT,
        path: "/api/users/schema",
        route: |m| on(m, schema::update_user_schema),
    },
    Operation {
        name: "SendActivationEmail",
        method: Method::POST,
        path: "/api/users/{id}/lifecycle/$activate",
        route: |m| on(m, lifecycle::send_activation_email),
    },
    Operation {
        name: "UnlockUser",
        method: Method::POST,
        path: "/api/users/{id}/lifecycle/$unlock",
        route: |m| on(m, lifecycle::unlock_user),
    },
    Operation {
        name: "UnsuspendUser",
        method: Method::POST,
        path: "/api/users/{id}/lifecycle/$unsuspend",
        route: |m| on(m, lifecycle::unsuspend_user),
    },
    Operation {
        name: "ResetPassword",
        method: Method::POST,
        path: "/api/users/{id}/lifecycle/$resetpassword",
        route: |m| on(m, lifecycle::reset_password),
    },
    Operation {
        name: "ExpirePassword",
        method: Method::POST,
        path: "/api/users/{id}/lifecycle/$expirepassword",
        route: |m| on(m, lifecycle::expire_password),
    },
    Operation {
        name: "ResetFactors",
        method: Method::POST,
        path: "/api/users/{id}/lifecycle/$resetfactors",
        route: |m| on(m, lifecycle::reset_factors),
    },
];

/// The emulator's whole router.
pub(crate) fn router(shared: AppState) -> Router {
    let api = OPERATIONS
        .iter()
        .fold(
            Router::new(),
            |router, operation| match MethodFilter::try_from(operation.method.clone()) {
                Ok(filter) => router.route(operation.path, (operation.route)(filter)),
                Err(_) => {
                    tracing::error!(
                        operation = operation.name,
                        "operation with an unroutable method"
                    );
                    router
                }
            },
        )
        .layer(from_fn_with_state(shared.clone(), auth::throttle));
    let hooks = hooks::router().layer(from_fn_with_state(shared.clone(), auth::hooks));
    Router::new()
        .nest(API_PREFIX, api)
        .route(TOKEN_PATH, post(token::token))
        .route(HEALTH_PATH, get(hooks::health))
        .merge(hooks)
        .with_state(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_routable_method_and_a_unique_name() {
        for (index, operation) in OPERATIONS.iter().enumerate() {
            assert!(
                MethodFilter::try_from(operation.method.clone()).is_ok(),
                "{}",
                operation.name
            );
            assert!(
                OPERATIONS[..index]
                    .iter()
                    .all(|other| other.name != operation.name)
            );
        }
    }
}
