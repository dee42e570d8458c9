//! The Users operations, their bodies and their errors.

use http::{Method, StatusCode};
use serde_json::json;

use crate::common::{TestEmulator, id_of, personal};

#[tokio::test]
async fn create_answers_200_with_a_full_user() {
    let emulator = TestEmulator::start().await;
    let body = json!({
        "firstName": "Ada", "lastName": "Lovelace", "emailAddress": "ada@example.com",
        "login": "ada@example.com", "type": "Personal",
        "roles": [{"scope": "default", "code": "analyst"}],
        "userExpiry": "2030-01-01T00:00:00+00:00",
    });
    let reply = emulator
        .send(
            emulator
                .api(Method::POST, "users?waitForReindex=True")
                .json(&body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(
        reply
            .header("lusid-meta-requestId")
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(reply.header("retry-after"), None);
    let user = reply.value();
    let id = id_of(&user);
    assert!(id.starts_with("00u") && id.len() == 20, "{id}");
    assert_eq!(user["status"], "PROVISIONED");
    assert_eq!(user["type"], "Personal");
    assert_eq!(user["external"], false);
    assert!(user.get("roles").is_none(), "roles only with includeRoles");
    for stamp in ["created", "lastUpdated"] {
        let text = user[stamp].as_str().unwrap();
        let fraction = text.split_once('.').unwrap().1.trim_end_matches('Z');
        assert_eq!(fraction.len(), 7, "{stamp}: {text}");
    }
    let model: identity_models::UserResponse = reply.json();
    assert_eq!(model.user_expiry.map(|at| at.year()), Some(2030));
}

#[tokio::test]
async fn get_user_shows_roles_only_when_asked_in_any_boolean_case() {
    let emulator = TestEmulator::start().await;
    let body = json!({
        "firstName": "Ada", "lastName": "Lovelace", "emailAddress": "ada@example.com",
        "login": "ada@example.com", "type": "Personal", "roles": [{"scope": "default", "code": "analyst"}],
    });
    let id = id_of(
        &emulator
            .send(emulator.api(Method::POST, "users").json(&body))
            .await
            .value(),
    );
    for (query, shown) in [
        ("", false),
        ("?includeRoles=false", false),
        ("?includeRoles=True", true),
        ("?includeRoles=true", true),
    ] {
        let reply = emulator
            .send(emulator.api(Method::GET, &format!("users/{id}{query}")))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let user = reply.value();
        assert_eq!(user.get("roles").is_some(), shown, "{query}");
        if shown {
            let role = &user["roles"][0];
            assert_eq!(
                role["roleId"],
                json!({"scope": "default", "code": "analyst"})
            );
            assert_eq!(role["source"], "LUSID");
            assert!(role["id"].as_str().is_some_and(|id| !id.is_empty()));
            assert!(role["name"].as_str().is_some_and(|name| !name.is_empty()));
        }
    }
    let reply = emulator
        .send(emulator.api(Method::GET, &format!("users/{id}?includeRoles=maybe")))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), 151);
    assert_eq!(reply.error_fields(), ["includeRoles"]);
}

#[tokio::test]
async fn list_delete_purge_and_include_deactivated() {
    let emulator = TestEmulator::start().await;
    let first = id_of(&emulator.create_personal("first@example.com").await);
    let second = id_of(&emulator.create_personal("second@example.com").await);
    let ids = |reply: crate::common::Reply| -> Vec<String> {
        reply
            .value()
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect()
    };
    assert_eq!(
        ids(emulator.send(emulator.api(Method::GET, "users")).await),
        [first.clone(), second.clone()]
    );

    let reply = emulator
        .send(emulator.api(Method::DELETE, &format!("users/{first}")))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.body.is_empty());
    assert_eq!(
        ids(emulator.send(emulator.api(Method::GET, "users")).await),
        std::slice::from_ref(&second)
    );
    let all = emulator
        .send(emulator.api(Method::GET, "users?includeDeactivated=True"))
        .await;
    assert_eq!(all.value()[0]["status"], "DEPROVISIONED");
    assert_eq!(ids(all), [first.clone(), second.clone()]);
    let deleted = emulator
        .send(emulator.api(Method::GET, &format!("users/{first}")))
        .await;
    assert_eq!(deleted.value()["status"], "DEPROVISIONED");

    let purge = emulator
        .send(emulator.api(Method::DELETE, &format!("users/{first}?purge=true")))
        .await;
    assert_eq!(purge.status, StatusCode::NO_CONTENT);
    assert_eq!(
        ids(emulator
            .send(emulator.api(Method::GET, "users?includeDeactivated=true"))
            .await),
        [second]
    );
    let gone = emulator
        .send(emulator.api(Method::GET, &format!("users/{first}")))
        .await;
    assert_eq!((gone.status, gone.code()), (StatusCode::NOT_FOUND, 657));
}

#[tokio::test]
async fn runnable_users_are_the_live_service_users() {
    let emulator = TestEmulator::start().await;
    emulator.create_personal("ada@example.com").await;
    let bot = id_of(&emulator.create_service("build-bot").await);
    let old = id_of(&emulator.create_service("old-bot").await);
    emulator
        .send(emulator.api(Method::DELETE, &format!("users/{old}")))
        .await;
    let reply = emulator
        .send(emulator.api(Method::GET, "users/$runnable"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let users = reply.value();
    assert_eq!(users.as_array().map(Vec::len), Some(1));
    assert_eq!(id_of(&users[0]), bot);
}

#[tokio::test]
async fn update_replaces_details_and_refuses_deleted_or_unknown_users() {
    let emulator = TestEmulator::start().await;
    let user = emulator.create_personal("ada@example.com").await;
    let id = id_of(&user);
    let mut change =
        identity_models::UpdateUserRequest::from_user(&serde_json::from_value(user).unwrap());
    change.first_name = "Augusta".into();
    let body = serde_json::to_value(&change).unwrap();
    let reply = emulator
        .send(
            emulator
                .api(Method::PUT, &format!("users/{id}"))
                .json(&body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.value()["firstName"], "Augusta");
    let read = emulator
        .send(emulator.api(Method::GET, &format!("users/{id}")))
        .await;
    assert_eq!(read.value()["firstName"], "Augusta");

    let missing = emulator
        .send(emulator.api(Method::PUT, "users/00uMissing").json(&body))
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, 657)
    );
    assert_eq!(
        missing.header("content-type"),
        Some("application/problem+json")
    );
    let request_id = missing.header("lusid-meta-requestId").unwrap().to_owned();
    let instance = missing.value()["instance"].as_str().unwrap().to_owned();
    assert!(instance.starts_with("https://127.0.0.1:"), "{instance}");
    assert!(
        instance.ends_with(&format!("/app/insights/logs/{request_id}")),
        "{instance}"
    );

    emulator
        .send(emulator.api(Method::DELETE, &format!("users/{id}")))
        .await;
    let deleted = emulator
        .send(
            emulator
                .api(Method::PUT, &format!("users/{id}"))
                .json(&body),
        )
        .await;
    assert_eq!(
        (deleted.status, deleted.code()),
        (StatusCode::BAD_REQUEST, 705)
    );
}

#[tokio::test]
async fn validation_failures_name_every_bad_field() {
    let emulator = TestEmulator::start().await;
    let body = json!({
        "firstName": "", "lastName": "X", "emailAddress": "ada@example.com", "login": "ada@example.com",
        "secondEmailAddress": "other@example.com", "type": "Personal",
    });
    let reply = emulator
        .send(emulator.api(Method::POST, "users").json(&body))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let problem: identity_models::LusidValidationProblemDetails = reply.json();
    assert_eq!(problem.problem.code, 157);
    assert_eq!(problem.problem.status, Some(400));
    assert_eq!(
        problem.errors.keys().collect::<Vec<_>>(),
        ["firstName", "lastName", "secondEmailAddress"]
    );

    let mut login = personal("ada@example.com");
    login["login"] = json!("someone-else@example.com");
    let reply = emulator
        .send(emulator.api(Method::POST, "users").json(&login))
        .await;
    assert_eq!(
        reply.error_fields(),
        ["login"],
        "a Personal user's login is its email"
    );
    let mut robot = personal("ada@example.com");
    robot["type"] = json!("Robot");
    let reply = emulator
        .send(emulator.api(Method::POST, "users").json(&robot))
        .await;
    assert_eq!(reply.error_fields(), ["type"]);

    let roles: Vec<_> = (0..21)
        .map(|n| json!({"scope": "default", "code": format!("role{n}")}))
        .collect();
    let mut many = personal("ada@example.com");
    many["roles"] = json!(roles);
    let reply = emulator
        .send(emulator.api(Method::POST, "users").json(&many))
        .await;
    assert_eq!(reply.error_fields(), ["roles"]);
    assert!(emulator.emulator.users().is_empty());
}

#[tokio::test]
async fn unparseable_bodies_are_400_with_code_157() {
    let emulator = TestEmulator::start().await;
    for (body, field) in [
        ("{not json", "$"),
        ("[]", "$"),
        (r#"{"firstName":"Ada"}"#, "lastName"),
        ("", "$"),
    ] {
        let call = emulator
            .api(Method::POST, "users")
            .raw_body("application/json", body);
        let reply = emulator.send(call).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.code(), 157, "{body}");
        assert_eq!(reply.error_fields(), [field], "{body}");
    }
}

#[tokio::test]
async fn bodies_are_accepted_in_every_json_type_the_sdks_send() {
    let emulator = TestEmulator::start().await;
    let types = [
        "application/json-patch+json",
        "application/json; charset=utf-8",
        "text/json",
        "application/vnd.finbourne+json",
    ];
    for (index, content_type) in types.into_iter().enumerate() {
        let body = personal(&format!("user{index}@example.com")).to_string();
        let reply = emulator
            .send(
                emulator
                    .api(Method::POST, "users")
                    .raw_body(content_type, body),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{content_type}");
    }
    let body = personal("plain@example.com").to_string();
    let reply = emulator
        .send(
            emulator
                .api(Method::POST, "users")
                .raw_body("text/plain", body.clone()),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let reply = emulator
        .send(emulator.api(Method::POST, "users").body(body))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "no content type"
    );
    assert_eq!(emulator.emulator.users().len(), 4);
}

#[tokio::test]
async fn duplicate_logins_are_400_code_658_whatever_their_case() {
    let emulator = TestEmulator::start().await;
    emulator.create_personal("ada@example.com").await;
    let reply = emulator
        .send(
            emulator
                .api(Method::POST, "users")
                .json(&personal("ADA@Example.com")),
        )
        .await;
    assert_eq!((reply.status, reply.code()), (StatusCode::BAD_REQUEST, 658));
}

#[tokio::test]
async fn get_user_from_login_decodes_the_login_once() {
    let emulator = TestEmulator::start().await;
    let id = id_of(&emulator.create_personal("ada+test@example.com").await);
    let reply = emulator
        .send(emulator.api(Method::GET, "users/fromlogin/ada%2Btest%40example.com"))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(id_of(&reply.value()), id);
    let missing = emulator
        .send(emulator.api(Method::GET, "users/fromlogin/nobody%40example.com"))
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, 657)
    );
    let short = emulator
        .send(emulator.api(Method::GET, "users/fromlogin/a%40b"))
        .await;
    assert_eq!((short.status, short.code()), (StatusCode::BAD_REQUEST, 151));
}

#[tokio::test]
async fn find_users_by_id_splits_found_and_missing_up_to_50_ids() {
    let emulator = TestEmulator::start().await;
    let id = id_of(&emulator.create_personal("ada@example.com").await);
    let reply = emulator
        .send(emulator.api(Method::GET, &format!("directory?id={id}&id=00uMissing")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let found: identity_models::ListUsersResponse = reply.json();
    let summary = &found.values.unwrap()[&id];
    assert_eq!(summary.email.as_deref(), Some("ada@example.com"));
    assert_eq!(summary.login.as_deref(), Some("ada@example.com"));
    let failed = found.failed.unwrap();
    assert_eq!(failed["00uMissing"].id.as_deref(), Some("00uMissing"));

    let fifty: Vec<String> = (0..50).map(|n| format!("id={n}")).collect();
    let reply = emulator
        .send(emulator.api(Method::GET, &format!("directory?{}", fifty.join("&"))))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let too_many = format!("directory?{}&id=50", fifty.join("&"));
    let reply = emulator.send(emulator.api(Method::GET, &too_many)).await;
    assert_eq!((reply.status, reply.code()), (StatusCode::BAD_REQUEST, 151));
    assert_eq!(reply.error_fields(), ["id"]);
}

#[tokio::test]
async fn schema_round_trips_and_governs_alternative_user_ids() {
    let emulator = TestEmulator::start().await;
    let empty = emulator
        .send(emulator.api(Method::GET, "users/schema"))
        .await;
    assert_eq!(empty.value(), json!({"alternativeUserIds": []}));

    let mut with_alternative = personal("ada@example.com");
    with_alternative["alternativeUserIds"] = json!({"employeeNo": "42"});
    let refused = emulator
        .send(emulator.api(Method::POST, "users").json(&with_alternative))
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::BAD_REQUEST, 157)
    );
    assert_eq!(refused.error_fields(), ["alternativeUserIds"]);

    let schema =
        json!({"alternativeUserIds": [{"name": "employeeNo", "description": "HR number"}]});
    let call = emulator
        .api(Method::PUT, "users/schema")
        .raw_body("application/json-patch+json", schema.to_string());
    let reply = emulator.send(call).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.value(), schema);
    assert_eq!(
        emulator
            .send(emulator.api(Method::GET, "users/schema"))
            .await
            .value(),
        schema
    );

    let created = emulator
        .send(emulator.api(Method::POST, "users").json(&with_alternative))
        .await;
    assert_eq!(created.status, StatusCode::OK);
    assert_eq!(
        created.value()["alternativeUserIds"],
        json!({"employeeNo": "42"})
    );

    let bad = json!({"alternativeUserIds": [{"name": "bad name", "description": "x"}]});
    let reply = emulator
        .send(emulator.api(Method::PUT, "users/schema").json(&bad))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_fields(), ["alternativeUserIds[0].name"]);
}
