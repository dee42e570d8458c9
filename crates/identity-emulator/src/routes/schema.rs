//! GetUserSchema and UpdateUserSchema: the alternative user id properties.

use axum::Json;
use axum::extract::State;
use identity_models::{UpdateUserSchemaRequest, UserSchemaResponse};

use crate::extract::JsonBody;
use crate::problems::ApiError;
use crate::shared::AppState;

/// `GET /api/users/schema`.
pub(crate) async fn get_user_schema(State(shared): State<AppState>) -> Json<UserSchemaResponse> {
    Json(shared.read(|directory| directory.schema()))
}

/// `PUT /api/users/schema`: replaces the properties, 200 and the new schema.
pub(crate) async fn update_user_schema(
    State(shared): State<AppState>,
    JsonBody(request): JsonBody<UpdateUserSchemaRequest>,
) -> Result<Json<UserSchemaResponse>, ApiError> {
    Ok(Json(
        shared
            .change(|directory| directory.update_schema(request))
            .await?,
    ))
}
