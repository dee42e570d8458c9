//! The serde conventions of the contract: required fields are required (the
//! error names the field), optional ones accept absent and `null`, `None` is
//! left out when writing, and bad input is an error, never a panic.

use identity_models::{
    CreateUserRequest, ErrorDetail, Link, ListUsersResponse, LusidProblemDetails,
    LusidValidationProblemDetails, RoleId, RoleResponse, TemporaryPassword, UpdateUserRequest,
    UpdateUserSchemaRequest, UserResponse, UserSchemaProperty, UserSchemaResponse, UserSummary,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A user with only its required fields.
fn minimal_user() -> Value {
    json!({
        "id": "00u1", "emailAddress": "a@b.cd", "login": "a@b.cd", "firstName": "A",
        "lastName": "Bb", "type": "Personal", "status": "ACTIVE", "external": false
    })
}

/// Removes each of `required` in turn from `complete` and checks that decoding
/// fails with serde's error naming that field.
fn each_required_field_is_named_when_missing<T: DeserializeOwned + std::fmt::Debug>(
    complete: Value,
    required: &[&str],
) {
    assert!(serde_json::from_value::<T>(complete.clone()).is_ok());
    for field in required {
        let mut body = complete.clone();
        body.as_object_mut().unwrap().remove(*field).unwrap();
        let error = serde_json::from_value::<T>(body).unwrap_err().to_string();
        assert!(
            error.contains(&format!("missing field `{field}`")),
            "{field}: {error}"
        );
    }
}

#[test]
fn missing_required_fields_are_named() {
    each_required_field_is_named_when_missing::<UserResponse>(
        minimal_user(),
        &[
            "id",
            "emailAddress",
            "login",
            "firstName",
            "lastName",
            "type",
            "status",
            "external",
        ],
    );
    each_required_field_is_named_when_missing::<CreateUserRequest>(
        json!({"firstName": "A", "lastName": "Bb", "emailAddress": "a@b.cd",
               "login": "a@b.cd", "type": "Personal"}),
        &["firstName", "lastName", "emailAddress", "login", "type"],
    );
    each_required_field_is_named_when_missing::<UpdateUserRequest>(
        json!({"firstName": "A", "lastName": "Bb", "emailAddress": "a@b.cd", "login": "a@b.cd"}),
        &["firstName", "lastName", "emailAddress", "login"],
    );
    each_required_field_is_named_when_missing::<RoleId>(
        json!({"scope": "default", "code": "admin"}),
        &["scope", "code"],
    );
    each_required_field_is_named_when_missing::<RoleResponse>(
        json!({"id": "r1", "roleId": {"scope": "default", "code": "admin"},
               "source": "LUSID", "name": "Admin"}),
        &["id", "roleId", "source", "name"],
    );
    each_required_field_is_named_when_missing::<Link>(
        json!({"relation": "Self", "href": "https://x.test/", "method": "GET"}),
        &["relation", "href", "method"],
    );
    each_required_field_is_named_when_missing::<TemporaryPassword>(
        json!({"password": "Tmp-123"}),
        &["password"],
    );
    each_required_field_is_named_when_missing::<UserSchemaProperty>(
        json!({"name": "badge", "description": "Badge number"}),
        &["name", "description"],
    );
    each_required_field_is_named_when_missing::<UpdateUserSchemaRequest>(
        json!({"alternativeUserIds": []}),
        &["alternativeUserIds"],
    );
    each_required_field_is_named_when_missing::<LusidProblemDetails>(
        json!({"name": "UserNotFound", "code": 657}),
        &["name", "code"],
    );
    each_required_field_is_named_when_missing::<LusidValidationProblemDetails>(
        json!({"name": "ValidationError", "code": 151, "errors": {}}),
        &["name", "code"],
    );
}

#[test]
fn optional_fields_accept_null() {
    let mut body = minimal_user();
    for field in [
        "alternativeUserIds",
        "secondEmailAddress",
        "roles",
        "lastLogin",
        "lastUpdated",
        "created",
        "passwordChanged",
        "userExpiry",
        "links",
    ] {
        body[field] = Value::Null;
    }
    let user: UserResponse = serde_json::from_value(body).unwrap();
    assert_eq!(user, serde_json::from_value(minimal_user()).unwrap());
    assert_eq!(user.roles, None);
    assert_eq!(user.last_login, None);

    let summary: UserSummary = serde_json::from_value(json!({
        "id": null, "login": null, "email": null, "secondEmail": null, "firstName": null,
        "lastName": null, "type": null, "alternativeUserIds": null, "links": null
    }))
    .unwrap();
    assert_eq!(summary, UserSummary::default());
    let list: ListUsersResponse = serde_json::from_value(
        json!({"href": null, "values": null, "failed": null, "links": null}),
    )
    .unwrap();
    assert_eq!(list, ListUsersResponse::default());
    let schema: UserSchemaResponse =
        serde_json::from_value(json!({"alternativeUserIds": null})).unwrap();
    assert_eq!(schema.alternative_user_ids, None);
}

#[test]
fn none_fields_are_left_out_when_writing() {
    let request = CreateUserRequest::personal("Ada", "Lovelace", "ada@example.com");
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"firstName": "Ada", "lastName": "Lovelace", "emailAddress": "ada@example.com",
               "login": "ada@example.com", "type": "Personal"})
    );
    let update = UpdateUserRequest::new("Ada", "Lovelace", "ada@example.com", "ada@example.com");
    assert_eq!(
        serde_json::to_value(&update).unwrap(),
        json!({"firstName": "Ada", "lastName": "Lovelace", "emailAddress": "ada@example.com",
               "login": "ada@example.com"})
    );
    let user: UserResponse = serde_json::from_value(minimal_user()).unwrap();
    assert_eq!(serde_json::to_value(&user).unwrap(), minimal_user());
    assert_eq!(
        serde_json::to_string(&UserSummary::default()).unwrap(),
        "{}"
    );
    assert_eq!(
        serde_json::to_string(&ErrorDetail::default()).unwrap(),
        "{}"
    );
    assert_eq!(
        serde_json::to_string(&ListUsersResponse::default()).unwrap(),
        "{}"
    );
    assert_eq!(
        serde_json::to_string(&UserSchemaResponse::default()).unwrap(),
        "{}"
    );
    let role = RoleResponse {
        id: "r1".into(),
        role_id: RoleId::new("default", "admin"),
        source: "LUSID".into(),
        name: "Admin".into(),
        description: None,
        saml_name: None,
    };
    assert_eq!(
        serde_json::to_value(&role).unwrap(),
        json!({"id": "r1", "roleId": {"scope": "default", "code": "admin"},
               "source": "LUSID", "name": "Admin"})
    );
    let problem = LusidValidationProblemDetails {
        problem: LusidProblemDetails {
            name: "ValidationError".into(),
            error_details: None,
            code: 151,
            problem_type: None,
            title: None,
            detail: None,
            instance: None,
            status: None,
        },
        errors: Default::default(),
    };
    assert_eq!(
        serde_json::to_value(&problem).unwrap(),
        json!({"name": "ValidationError", "code": 151, "errors": {}})
    );
}

#[test]
fn validation_problem_errors_default_to_empty() {
    let problem: LusidValidationProblemDetails =
        serde_json::from_value(json!({"name": "ValidationError", "code": 151})).unwrap();
    assert!(problem.errors.is_empty());
}

#[test]
fn json_type_fields_map_to_their_rust_names() {
    let detail: ErrorDetail = serde_json::from_value(json!({"type": "NotFound"})).unwrap();
    assert_eq!(detail.error_type.as_deref(), Some("NotFound"));
    let problem: LusidProblemDetails =
        serde_json::from_value(json!({"name": "n", "code": 1, "type": "https://t/"})).unwrap();
    assert_eq!(problem.problem_type.as_deref(), Some("https://t/"));
    let request = CreateUserRequest::service("Bot", "Loader", "ops@example.com", "loader");
    assert_eq!(serde_json::to_value(&request).unwrap()["type"], "Service");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let mut body = minimal_user();
    body["external"] = json!("yes");
    assert!(serde_json::from_value::<UserResponse>(body).is_err());
    let mut body = minimal_user();
    body["created"] = json!("not a date");
    let error = serde_json::from_value::<UserResponse>(body).unwrap_err();
    assert!(!error.to_string().is_empty());
    let mut body = minimal_user();
    body["status"] = json!(7);
    assert!(serde_json::from_value::<UserResponse>(body).is_err());
    assert!(serde_json::from_str::<UserResponse>("{\"id\":").is_err());
    assert!(serde_json::from_str::<LusidProblemDetails>(r#"{"name":"n","code":1e99}"#).is_err());
}

#[test]
fn temporary_password_debug_hides_the_password() {
    let secret = TemporaryPassword {
        password: "S3cret-Value!".into(),
    };
    let shown = format!("{secret:?}");
    assert_eq!(shown, r#"TemporaryPassword { password: "[REDACTED]" }"#);
    assert!(!format!("{secret:#?}").contains("S3cret"));
    // The password still travels in JSON, where it belongs.
    assert_eq!(
        serde_json::to_value(&secret).unwrap(),
        json!({"password": "S3cret-Value!"})
    );
}
