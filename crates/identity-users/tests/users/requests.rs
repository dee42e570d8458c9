//! Every operation builds the request the contract describes: method, path,
//! query, body and content type, and the operation's identity in the
//! request's extensions.

use bytes::Bytes;
use http::Method;
use identity_call::{OperationInfo, RequestOptions};
use identity_models::{
    CreateUserRequest, UpdateUserRequest, UpdateUserSchemaRequest, UserSchemaProperty,
};
use identity_users::{BaseUrl, Call, Error, UsersApi};

fn api() -> UsersApi<()> {
    UsersApi::new(
        (),
        BaseUrl::parse("https://acme.lusid.com/identity/").unwrap(),
    )
}

/// The request of a call: method, URL, content type, body, operation name.
fn sent<O: identity_users::operation::Operation>(
    call: Call<(), O>,
) -> (Method, String, Option<String>, Bytes, &'static str) {
    let ((), request) = call.into_request().unwrap();
    let name = OperationInfo::of(&request).unwrap().name();
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap().to_owned());
    assert_eq!(request.headers()[http::header::ACCEPT], "application/json");
    (
        request.method().clone(),
        request.uri().to_string(),
        content_type,
        request.into_body(),
        name,
    )
}

const BASE: &str = "https://acme.lusid.com/identity/api";

#[test]
fn every_operation_goes_where_the_contract_says() {
    let api = api();
    let user = CreateUserRequest::personal("Ann", "Lee", "ann@example.com");
    let update = UpdateUserRequest::new("Ann", "Lee", "ann@example.com", "ann@example.com");
    let schema = UpdateUserSchemaRequest::new(vec![UserSchemaProperty::new("ssoId", "SSO id")]);
    let lifecycle = |action: &str| format!("{BASE}/users/00u1/lifecycle/${action}");
    let cases = [
        (
            sent(api.create_user(&user)),
            Method::POST,
            format!("{BASE}/users"),
            "CreateUser",
        ),
        (
            sent(api.create_user(&user).wait_for_reindex(true)),
            Method::POST,
            format!("{BASE}/users?waitForReindex=true"),
            "CreateUser",
        ),
        (
            sent(api.delete_user("00u1")),
            Method::DELETE,
            format!("{BASE}/users/00u1"),
            "DeleteUser",
        ),
        (
            sent(api.delete_user("00u1").purge(true)),
            Method::DELETE,
            format!("{BASE}/users/00u1?purge=true"),
            "DeleteUser",
        ),
        (
            sent(api.expire_password("00u1")),
            Method::POST,
            lifecycle("expirepassword"),
            "ExpirePassword",
        ),
        (
            sent(api.get_user("00u1")),
            Method::GET,
            format!("{BASE}/users/00u1"),
            "GetUser",
        ),
        (
            sent(api.get_user("00u1").include_roles(false)),
            Method::GET,
            format!("{BASE}/users/00u1?includeRoles=false"),
            "GetUser",
        ),
        (
            sent(api.get_user_from_login("ann@example.com")),
            Method::GET,
            format!("{BASE}/users/fromlogin/ann%40example.com"),
            "GetUserFromLogin",
        ),
        (
            sent(api.get_user_schema()),
            Method::GET,
            format!("{BASE}/users/schema"),
            "GetUserSchema",
        ),
        (
            sent(api.list_runnable_users()),
            Method::GET,
            format!("{BASE}/users/$runnable"),
            "ListRunnableUsers",
        ),
        (
            sent(api.list_users().include_deactivated(true)),
            Method::GET,
            format!("{BASE}/users?includeDeactivated=true"),
            "ListUsers",
        ),
        (
            sent(api.reset_factors("00u1")),
            Method::POST,
            lifecycle("resetfactors"),
            "ResetFactors",
        ),
        (
            sent(api.reset_password("00u1")),
            Method::POST,
            lifecycle("resetpassword"),
            "ResetPassword",
        ),
        (
            sent(api.send_activation_email("00u1")),
            Method::POST,
            lifecycle("activate"),
            "SendActivationEmail",
        ),
        (
            sent(api.unlock_user("00u1")),
            Method::POST,
            lifecycle("unlock"),
            "UnlockUser",
        ),
        (
            sent(api.unsuspend_user("00u1")),
            Method::POST,
            lifecycle("unsuspend"),
            "UnsuspendUser",
        ),
        (
            sent(api.update_user("00u1", &update)),
            Method::PUT,
            format!("{BASE}/users/00u1"),
            "UpdateUser",
        ),
        (
            sent(api.update_user_schema(&schema)),
            Method::PUT,
            format!("{BASE}/users/schema"),
            "UpdateUserSchema",
        ),
    ];
    for ((method, uri, content_type, body, name), want_method, want_uri, want_name) in cases {
        assert_eq!(method, want_method, "{want_name}");
        assert_eq!(uri, want_uri, "{want_name}");
        assert_eq!(name, want_name);
        match name {
            "CreateUser" | "UpdateUser" | "UpdateUserSchema" => {
                assert_eq!(content_type.as_deref(), Some("application/json"), "{name}");
                assert!(
                    serde_json::from_slice::<serde_json::Value>(&body).is_ok(),
                    "{name}"
                );
            }
            _ => {
                assert_eq!(content_type, None, "{name}");
                assert!(body.is_empty(), "{name}");
            }
        }
    }
}

#[test]
fn the_body_is_the_request_as_the_contract_names_it() {
    let user = CreateUserRequest::personal("Ann", "Lee", "ann@example.com");
    let (_, _, _, body, _) = sent(api().create_user(&user));
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["firstName"], "Ann");
    assert_eq!(json["login"], "ann@example.com");
    assert_eq!(json["type"], "Personal");
}

#[test]
fn hostile_ids_are_one_encoded_segment() {
    let api = api();
    for (id, segment) in [
        ("../roles", "..%2Froles"),
        ("a/b", "a%2Fb"),
        ("a?b", "a%3Fb"),
        ("a#b", "a%23b"),
        ("%2e%2e", "%252e%252e"),
    ] {
        let (_, uri, ..) = sent(api.get_user(id));
        assert_eq!(uri, format!("{BASE}/users/{segment}"), "{id}");
    }
}

#[test]
fn ids_that_cannot_be_sent_are_refused_before_any_request() {
    for id in ["", ".", ".."] {
        let error = api().get_user(id).into_request().unwrap_err();
        assert!(
            matches!(
                error,
                Error::InvalidInput {
                    what: "user id",
                    ..
                }
            ),
            "{error}"
        );
    }
}

#[test]
fn options_ride_in_the_extensions() {
    let options = RequestOptions::new().rate_limit_retries(0).idempotent(true);
    let ((), request) = api()
        .create_user(&CreateUserRequest::personal("A", "Lee", "a@example.com"))
        .options(options.clone())
        .into_request()
        .unwrap();
    assert_eq!(RequestOptions::of(&request), &options);
    assert!(identity_call::is_idempotent(&request));
}
