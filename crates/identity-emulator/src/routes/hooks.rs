//! The emulator's own hooks, outside the API (`/_emulator/...`): the health
//! check, set a user's status, read or clear the request log, set or read
//! the fault rules and the rate limit, and reset everything. They are not
//! in the request log, and meet no faults and no rate limit.

use std::num::NonZeroU32;

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use http::StatusCode;
use identity_models::UserStatus;
use serde::{Deserialize, Serialize};

use crate::RecordedRequest;
use crate::extract::{JsonBody, UserId};
use crate::faults::FaultRule;
use crate::problems::ApiError;
use crate::shared::AppState;

/// The hooks' routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/_emulator/users/{id}/status", put(set_user_status))
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/faults", get(faults).put(set_faults))
        .route("/_emulator/rate-limit", get(rate_limit).put(set_rate_limit))
        .route("/_emulator/reset", post(reset))
}

/// Answer of `GET /_emulator/health`.
#[derive(Serialize)]
pub(super) struct Health {
    status: &'static str,
    version: &'static str,
}

/// `GET /_emulator/health`: 200 `{"status":"ok","version":"<crate version>"}`,
/// with or without a token (it reveals nothing).
pub(super) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Body of `PUT /_emulator/rate-limit` and answer of its `GET`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RateLimit {
    /// Requests per second per caller; `null` for no limit.
    requests_per_second: Option<NonZeroU32>,
}

/// Body of `PUT /_emulator/users/{id}/status`.
#[derive(Deserialize)]
struct StatusChange {
    status: UserStatus,
}

/// Body of `PUT /_emulator/faults` and answer of `GET /_emulator/faults`.
#[derive(Serialize, Deserialize)]
struct FaultRules {
    rules: Vec<FaultRule>,
}

/// `PUT /_emulator/users/{id}/status` `{"status":"LOCKED_OUT"}`: 204.
async fn set_user_status(
    State(shared): State<AppState>,
    UserId(id): UserId,
    JsonBody(change): JsonBody<StatusChange>,
) -> Result<StatusCode, ApiError> {
    shared
        .change(|directory| directory.set_status(&id, change.status))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /_emulator/requests`: the log, oldest first.
async fn requests(State(shared): State<AppState>) -> Json<Vec<RecordedRequest>> {
    Json(shared.log.snapshot())
}

/// `DELETE /_emulator/requests`: 204.
async fn clear_requests(State(shared): State<AppState>) -> StatusCode {
    shared.log.clear();
    StatusCode::NO_CONTENT
}

/// `GET /_emulator/faults`: the rules as set.
async fn faults(State(shared): State<AppState>) -> Json<FaultRules> {
    Json(FaultRules {
        rules: shared.fault_rules(),
    })
}

/// `PUT /_emulator/faults` `{"rules":[...]}`: 204, counts start again.
async fn set_faults(
    State(shared): State<AppState>,
    JsonBody(FaultRules { rules }): JsonBody<FaultRules>,
) -> Result<StatusCode, ApiError> {
    let errors: std::collections::BTreeMap<String, Vec<String>> = rules
        .iter()
        .enumerate()
        .filter_map(|(index, rule)| {
            rule.validate()
                .err()
                .map(|message| (format!("rules[{index}]"), vec![message]))
        })
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::invalid_request(errors));
    }
    shared.set_fault_rules(rules);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /_emulator/rate-limit`: `{"requestsPerSecond": N}` (`null`: none).
async fn rate_limit(State(shared): State<AppState>) -> Json<RateLimit> {
    Json(RateLimit {
        requests_per_second: shared.rate_limit(),
    })
}

/// `PUT /_emulator/rate-limit` `{"requestsPerSecond": N}` (`null`: none):
/// 204; every caller's bucket starts full.
async fn set_rate_limit(
    State(shared): State<AppState>,
    JsonBody(limit): JsonBody<RateLimit>,
) -> StatusCode {
    shared.set_rate_limit(limit.requests_per_second);
    StatusCode::NO_CONTENT
}

/// `POST /_emulator/reset`: forgets users, schema, issued tokens, faults and
/// the log; 204.
async fn reset(State(shared): State<AppState>) -> Result<StatusCode, ApiError> {
    shared.forget_runtime_state();
    shared
        .change(|directory| {
            directory.clear();
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
