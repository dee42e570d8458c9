//! FindUsersById: `GET /api/directory?id=a&id=b` (at most 50 ids).

use axum::Json;
use axum::extract::State;
use identity_models::ListUsersResponse;

use crate::extract::QueryParams;
use crate::problems::ApiError;
use crate::shared::AppState;

/// Found users in `values`, the other ids in `failed`, both keyed by id.
pub(crate) async fn find_users_by_id(
    State(shared): State<AppState>,
    query: QueryParams,
) -> Result<Json<ListUsersResponse>, ApiError> {
    let ids = query.all("id");
    Ok(Json(shared.read(|directory| directory.find(&ids))?))
}
