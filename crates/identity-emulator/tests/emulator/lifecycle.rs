//! Every lifecycle operation from every status, over HTTP (statuses reached
//! with the status hook), against the service's lifecycle table.

use http::{Method, StatusCode};

use crate::common::{TestEmulator, id_of};

const STATUSES: [&str; 8] = [
    "STAGED",
    "PROVISIONED",
    "ACTIVE",
    "RECOVERY",
    "PASSWORD_EXPIRED",
    "LOCKED_OUT",
    "SUSPENDED",
    "DEPROVISIONED",
];

/// What an operation does from one status.
#[derive(Clone, Copy, Debug)]
enum Want {
    /// Succeeds, leaving the user in this status.
    To(&'static str),
    /// Succeeds, status unchanged.
    Same,
    /// Fails with 400 and this code.
    Code(i64),
}

use Want::{Code, Same, To};

/// Runs `action` from each status in [`STATUSES`] order and checks `wants`.
async fn check(emulator: &TestEmulator, id: &str, action: &str, wants: [Want; 8]) {
    for (from, want) in STATUSES.into_iter().zip(wants) {
        emulator.set_status(id, from).await;
        let reply = emulator
            .send(emulator.api(Method::POST, &format!("users/{id}/lifecycle/${action}")))
            .await;
        let now = emulator
            .send(emulator.api(Method::GET, &format!("users/{id}")))
            .await
            .value()["status"]
            .clone();
        let context = format!(
            "${action} from {from}: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        match want {
            To(status) => {
                let expected = if action == "expirepassword" {
                    StatusCode::OK
                } else {
                    StatusCode::NO_CONTENT
                };
                assert_eq!(reply.status, expected, "{context}");
                assert_eq!(now, status, "{context}");
            }
            Same => {
                assert_eq!(reply.status, StatusCode::NO_CONTENT, "{context}");
                assert_eq!(now, from, "{context}");
            }
            Code(code) => {
                assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{context}");
                assert_eq!(reply.code(), code, "{context}");
                assert_eq!(
                    reply.header("content-type"),
                    Some("application/problem+json")
                );
                assert_eq!(now, from, "{context}: a refused operation changes nothing");
            }
        }
    }
}

#[tokio::test]
async fn send_activation_email() {
    let emulator = TestEmulator::start().await;
    let id = id_of(&emulator.create_personal("ada@example.com").await);
    let p = To("PROVISIONED");
    check(
        &emulator,
        &id,
        "activate",
        [
            p,
            p,
            Code(707),
            Code(707),
            Code(707),
            Code(707),
            Code(717),
            p,
        ],
    )
    .await;
}

#[tokio::test]
async fn unlock_and_unsuspend() {
    let emulator = TestEmulator::start().await;
    let id = id_of(&emulator.create_personal("ada@example.com").await);
    let n = Code(706);
    check(
        &emulator,
        &id,
        "unlock",
        [n, n, n, n, n, To("ACTIVE"), n, Code(705)],
    )
    .await;
    let n = Code(717);
    check(
        &emulator,
        &id,
        "unsuspend",
        [n, n, n, n, n, n, To("ACTIVE"), Code(705)],
    )
    .await;
}

#[tokio::test]
async fn reset_and_expire_password() {
    let emulator = TestEmulator::start().await;
    let id = id_of(&emulator.create_personal("ada@example.com").await);
    let (n, r) = (Code(718), To("RECOVERY"));
    check(
        &emulator,
        &id,
        "resetpassword",
        [n, n, r, r, r, r, n, Code(705)],
    )
    .await;
    let (n, e) = (Code(719), To("PASSWORD_EXPIRED"));
    check(
        &emulator,
        &id,
        "expirepassword",
        [n, n, e, e, e, n, n, Code(705)],
    )
    .await;
}

#[tokio::test]
async fn expire_password_answers_a_temporary_password() {
    let emulator = TestEmulator::start().await;
    let id = id_of(&emulator.create_personal("ada@example.com").await);
    emulator.set_status(&id, "ACTIVE").await;
    let reply = emulator
        .send(emulator.api(
            Method::POST,
            &format!("users/{id}/lifecycle/$expirepassword"),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let password: identity_models::TemporaryPassword = reply.json();
    assert!(password.password.len() >= 8);
    let user = emulator
        .send(emulator.api(Method::GET, &format!("users/{id}")))
        .await
        .value();
    assert!(user["passwordChanged"].is_string());
}

#[tokio::test]
async fn reset_factors_for_personal_and_service_users() {
    let emulator = TestEmulator::start().await;
    let id = id_of(&emulator.create_personal("ada@example.com").await);
    check(
        &emulator,
        &id,
        "resetfactors",
        [Same, Same, Same, Same, Same, Same, Same, Code(705)],
    )
    .await;
    let bot = id_of(&emulator.create_service("build-bot").await);
    let n = Code(786);
    check(
        &emulator,
        &bot,
        "resetfactors",
        [n, n, n, n, n, n, n, Code(705)],
    )
    .await;
}

#[tokio::test]
async fn lifecycle_on_unknown_users_is_404_code_657() {
    let emulator = TestEmulator::start().await;
    for action in [
        "activate",
        "unlock",
        "unsuspend",
        "resetpassword",
        "expirepassword",
        "resetfactors",
    ] {
        let reply = emulator
            .send(emulator.api(
                Method::POST,
                &format!("users/00uMissing/lifecycle/${action}"),
            ))
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::NOT_FOUND, 657),
            "{action}"
        );
    }
}

#[tokio::test]
async fn the_library_status_hook_matches_the_http_one() {
    let emulator = TestEmulator::start().await;
    let id = id_of(&emulator.create_personal("ada@example.com").await);
    emulator
        .emulator
        .set_user_status(&id, identity_models::UserStatus::LockedOut)
        .unwrap();
    let reply = emulator
        .send(emulator.api(Method::POST, &format!("users/{id}/lifecycle/$unlock")))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        emulator.emulator.users()[0].status,
        identity_models::UserStatus::Active
    );
    let missing = emulator
        .emulator
        .set_user_status("00uMissing", identity_models::UserStatus::Active);
    assert!(matches!(
        missing,
        Err(identity_emulator::EmulatorError::UserNotFound { .. })
    ));
    let hook = emulator
        .hook(Method::PUT, "users/00uMissing/status")
        .json(&serde_json::json!({"status": "ACTIVE"}));
    assert_eq!(emulator.send(hook).await.status, StatusCode::NOT_FOUND);
}
