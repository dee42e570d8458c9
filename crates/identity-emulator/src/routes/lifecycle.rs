//! The lifecycle operations (`POST /api/users/{id}/lifecycle/$...`): 204 for
//! each, except ExpirePassword which answers the temporary password.

use axum::Json;
use axum::extract::State;
use http::StatusCode;
use identity_models::TemporaryPassword;

use crate::extract::UserId;
use crate::problems::ApiError;
use crate::shared::AppState;
use crate::state::LifecycleAction;

/// Applies `action` to the user, answering 204.
async fn apply(
    shared: AppState,
    id: String,
    action: LifecycleAction,
) -> Result<StatusCode, ApiError> {
    shared
        .change(|directory| directory.lifecycle(&id, action))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `$activate`: SendActivationEmail.
pub(crate) async fn send_activation_email(
    State(shared): State<AppState>,
    UserId(id): UserId,
) -> Result<StatusCode, ApiError> {
    apply(shared, id, LifecycleAction::Activate).await
}

/// `$unlock`: UnlockUser.
pub(crate) async fn unlock_user(
    State(shared): State<AppState>,
    UserId(id): UserId,
) -> Result<StatusCode, ApiError> {
    apply(shared, id, LifecycleAction::Unlock).await
}

/// `$unsuspend`: UnsuspendUser.
pub(crate) async fn unsuspend_user(
    State(shared): State<AppState>,
    UserId(id): UserId,
) -> Result<StatusCode, ApiError> {
    apply(shared, id, LifecycleAction::Unsuspend).await
}

/// `$resetpassword`: ResetPassword.
pub(crate) async fn reset_password(
    State(shared): State<AppState>,
    UserId(id): UserId,
) -> Result<StatusCode, ApiError> {
    apply(shared, id, LifecycleAction::ResetPassword).await
}

/// `$resetfactors`: ResetFactors.
pub(crate) async fn reset_factors(
    State(shared): State<AppState>,
    UserId(id): UserId,
) -> Result<StatusCode, ApiError> {
    apply(shared, id, LifecycleAction::ResetFactors).await
}

/// `$expirepassword`: ExpirePassword, 200 and the temporary password.
pub(crate) async fn expire_password(
    State(shared): State<AppState>,
    UserId(id): UserId,
) -> Result<Json<TemporaryPassword>, ApiError> {
    Ok(Json(
        shared
            .change(|directory| directory.expire_password(&id))
            .await?,
    ))
}
