//! CreateUser, GetUser, GetUserFromLogin, UpdateUser, DeleteUser, ListUsers
//! and ListRunnableUsers.

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use identity_models::{CreateUserRequest, UpdateUserRequest, UserResponse};

use crate::extract::{JsonBody, Login, QueryParams, UserId};
use crate::problems::ApiError;
use crate::shared::AppState;
use crate::state::{Listing, present};

use super::list_body::ListBody;

/// `POST /api/users`: 200 and the new user. `waitForReindex` is checked and
/// needs no waiting: a new user is listed at once.
pub(crate) async fn create_user(
    State(shared): State<AppState>,
    query: QueryParams,
    JsonBody(request): JsonBody<CreateUserRequest>,
) -> Result<(Extension<CreatedLogin>, Json<UserResponse>), ApiError> {
    query.flag("waitForReindex")?;
    let user = shared.change(|directory| directory.create(request)).await?;
    Ok((
        Extension(CreatedLogin(user.login.clone())),
        Json(present(&user, false)),
    ))
}

/// The login of the user a CreateUser created, on its answer, for the
/// request log's `createdLogin`.
#[derive(Clone, Debug)]
pub(crate) struct CreatedLogin(pub(crate) String);

/// `GET /api/users/{id}`: roles only with `includeRoles=true`.
pub(crate) async fn get_user(
    State(shared): State<AppState>,
    UserId(id): UserId,
    query: QueryParams,
) -> Result<Json<UserResponse>, ApiError> {
    let include_roles = query.flag("includeRoles")?.unwrap_or(false);
    let user =
        shared.read(|directory| directory.get(&id).map(|user| present(user, include_roles)))?;
    Ok(Json(user))
}

/// `GET /api/users/fromlogin/{login}` (login compared case-insensitively).
pub(crate) async fn get_user_from_login(
    State(shared): State<AppState>,
    Login(login): Login,
) -> Result<Json<UserResponse>, ApiError> {
    let user = shared.read(|directory| {
        directory
            .get_by_login(&login)
            .map(|user| present(user, false))
    })?;
    Ok(Json(user))
}

/// `PUT /api/users/{id}`: 200 and the user as updated.
pub(crate) async fn update_user(
    State(shared): State<AppState>,
    UserId(id): UserId,
    JsonBody(request): JsonBody<UpdateUserRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    let user = shared
        .change(|directory| directory.update(&id, request))
        .await?;
    Ok(Json(present(&user, false)))
}

/// `DELETE /api/users/{id}`: 204; `purge=true` removes the record.
pub(crate) async fn delete_user(
    State(shared): State<AppState>,
    UserId(id): UserId,
    query: QueryParams,
) -> Result<StatusCode, ApiError> {
    let purge = query.flag("purge")?.unwrap_or(false);
    shared
        .change(|directory| directory.delete(&id, purge))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/users`: a bare array; deleted users with `includeDeactivated=true`.
pub(crate) async fn list_users(
    State(shared): State<AppState>,
    query: QueryParams,
) -> Result<Response, ApiError> {
    let include_deactivated = query.flag("includeDeactivated")?.unwrap_or(false);
    Ok(list_answer(
        shared,
        Listing::Users {
            include_deactivated,
        },
    ))
}

/// `GET /api/users/$runnable`: a bare array of the live Service users.
pub(crate) async fn list_runnable_users(State(shared): State<AppState>) -> Response {
    list_answer(shared, Listing::Runnable)
}

/// 200 with the users of `listing` as a JSON array, written a batch at a
/// time ([`ListBody`]).
fn list_answer(shared: AppState, listing: Listing) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        Body::new(ListBody::new(shared, listing)),
    )
        .into_response()
}
