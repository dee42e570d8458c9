//! Hostile input, as property tests:
//!
//! - any string as a user id, a login or a query value gives a request whose
//!   path segment and query value decode back to exactly that string, under
//!   the operation's own route: checked on the requests `UsersApi` builds
//!   (over a dummy service) and on what the emulator received and routed;
//! - any JSON the service could send, for every response type and as an
//!   error body, decodes or fails with a typed error, never a panic; the
//!   streaming list decoder, fed the body in arbitrary pieces, agrees with
//!   `serde_json` reading it whole.
//!
//! No fuzz target: cargo-fuzz needs a nightly toolchain and cargo-fuzz
//! itself, which the project's CI does not install; these properties run the
//! same decoders (and differential checks of them) on every `cargo test`.

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use finbourne_identity::{
    ErrorKind, ListUsersResponse, TemporaryPassword, UpdateUserRequest, UpdateUserSchemaRequest,
    UserResponse, UserSchemaProperty, UserSchemaResponse,
};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::Full;
use identity_emulator::EmulatorConfig;
use identity_users::decode::{BodyDecoder, Decode};
use identity_users::{BaseUrl, OperationInfo, UsersApi};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

use crate::support;

const BASE_URL: &str = "https://acme.lusid.com/identity";

/// Strings meant to break a URL: delimiters, percent signs, dots, controls,
/// non-ASCII, and anything else; never one that cannot be a path segment
/// at all (the SDK refuses those before sending, tested below).
fn hostile_string() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        '/', '.', '%', '?', '#', '&', '=', '+', ' ', ';', ':', '@', '\\', '\0', '\n', '\r', '\t',
        '"', '\'', '<', '>', '[', ']', '{', '}', '|', '^', '`', '$', '~', '*', 'é', '€', '😀',
        '\u{202e}', '\u{feff}', 'a', '2', 'F', 'e',
    ]);
    prop::collection::vec(prop_oneof![tricky, any::<char>()], 1..24)
        .prop_map(String::from_iter)
        .prop_filter("one path segment", |s| s != "." && s != "..")
}

/// A service that answers every request with `status` and `body`, and
/// keeps the requests.
#[allow(clippy::type_complexity)]
fn answering(
    status: StatusCode,
    body: Bytes,
) -> (
    impl tower::Service<
        Request<Bytes>,
        Response = Response<Full<Bytes>>,
        Error = Infallible,
        Future = impl Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send,
    > + Clone
    + Send,
    Arc<Mutex<Vec<Request<Bytes>>>>,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    let service = tower::service_fn(move |request: Request<Bytes>| {
        keep.lock().unwrap().push(request);
        let mut response = Response::new(Full::new(body.clone()));
        *response.status_mut() = status;
        async move { Ok::<_, Infallible>(response) }
    });
    (service, seen)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The value in `path` where `template` (e.g. `/api/users/{id}/lifecycle/$unlock`)
/// has its parameter, checked to be one segment and to decode to `value`.
fn check_segment(path: &str, template: &str, value: &str) -> Result<(), TestCaseError> {
    let open = template.find('{').unwrap();
    let close = template.find('}').unwrap();
    let before = format!("/identity{}", &template[..open]);
    let after = &template[close + 1..];
    let segment = path
        .strip_prefix(&before)
        .and_then(|rest| rest.strip_suffix(after))
        .ok_or_else(|| TestCaseError::fail(format!("{path} is not under {template}")))?;
    prop_assert!(
        !segment.contains(['/', '?', '#']),
        "{segment} is more than one segment"
    );
    let decoded = percent_decode_str(segment)
        .decode_utf8()
        .map_err(|error| TestCaseError::fail(format!("{segment}: {error}")))?;
    prop_assert_eq!(decoded.as_ref(), value);
    Ok(())
}

/// The `id` values of a query string, decoded.
fn query_ids(query: &str) -> Result<Vec<String>, TestCaseError> {
    query
        .split('&')
        .map(|pair| {
            let value = pair
                .strip_prefix("id=")
                .ok_or_else(|| TestCaseError::fail(format!("{pair} in {query}")))?;
            prop_assert!(!value.contains(['#', '+', ' ']), "{value} not encoded");
            Ok(percent_decode_str(value)
                .decode_utf8()
                .map_err(|error| TestCaseError::fail(format!("{value}: {error}")))?
                .into_owned())
        })
        .collect()
}

/// The ids as FindUsersById sends them: first occurrences, in order.
fn distinct(ids: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.iter().filter(|id| seen.insert(*id)).cloned().collect()
}

#[test]
fn any_id_or_login_is_one_segment_of_the_intended_route() {
    let (service, _) = answering(StatusCode::OK, Bytes::new());
    let api = UsersApi::new(service, BaseUrl::parse(BASE_URL).unwrap());
    let mut runner = TestRunner::new(Config::with_cases(512));
    runner
        .run(&hostile_string(), |value| {
            let update = UpdateUserRequest::new("Ann", "Lee", "ann@example.com", "ann@example.com");
            let built = [
                ("GetUser", api.get_user(&value).into_request()),
                (
                    "DeleteUser",
                    api.delete_user(&value).purge(true).into_request(),
                ),
                (
                    "UpdateUser",
                    api.update_user(&value, &update).into_request(),
                ),
                ("ExpirePassword", api.expire_password(&value).into_request()),
                ("ResetFactors", api.reset_factors(&value).into_request()),
                ("ResetPassword", api.reset_password(&value).into_request()),
                (
                    "SendActivationEmail",
                    api.send_activation_email(&value).into_request(),
                ),
                ("UnlockUser", api.unlock_user(&value).into_request()),
                ("UnsuspendUser", api.unsuspend_user(&value).into_request()),
                (
                    "GetUserFromLogin",
                    api.get_user_from_login(&value).into_request(),
                ),
            ];
            for (name, built) in built {
                let (_, request) =
                    built.map_err(|error| TestCaseError::fail(format!("{name}: {error}")))?;
                let info = OperationInfo::of(&request).unwrap();
                prop_assert_eq!(info.name(), name);
                check_segment(request.uri().path(), info.path_template(), &value)?;
                // The URI is the same read back from its text.
                let reparsed: Uri = request.uri().to_string().parse().unwrap();
                prop_assert_eq!(reparsed.path(), request.uri().path());
                let query = request.uri().query();
                if name == "DeleteUser" {
                    prop_assert_eq!(query, Some("purge=true"));
                } else {
                    prop_assert_eq!(query, None);
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn ids_that_are_no_segment_are_refused_before_any_request() {
    let (service, seen) = answering(StatusCode::OK, Bytes::new());
    let api = UsersApi::new(service, BaseUrl::parse(BASE_URL).unwrap());
    let runtime = runtime();
    for id in ["", ".", ".."] {
        for result in [
            api.get_user(id).into_request().map(|_| ()),
            api.delete_user(id).into_request().map(|_| ()),
            api.unlock_user(id).into_request().map(|_| ()),
            api.get_user_from_login(id).into_request().map(|_| ()),
        ] {
            let error = result.unwrap_err();
            assert!(
                matches!(error, identity_users::Error::InvalidInput { .. }),
                "{id:?}: {error}"
            );
        }
        let error = runtime.block_on(api.get_user(id).send()).unwrap_err();
        let error = finbourne_identity::Error::from(error);
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{id:?}");
        assert!(!error.may_have_been_sent());
    }
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn any_ids_to_find_are_query_values_that_decode_back() {
    let runtime = runtime();
    let ids = prop::collection::vec(
        prop_oneof![hostile_string(), Just(String::new()), Just(".".to_owned())],
        1..8,
    );
    let mut runner = TestRunner::new(Config::with_cases(256));
    runner
        .run(&ids, |ids| {
            let (service, seen) = answering(StatusCode::OK, Bytes::from_static(b"{}"));
            let api = UsersApi::new(service, BaseUrl::parse(BASE_URL).unwrap());
            runtime
                .block_on(api.find_users_by_id(ids.clone()).send())
                .map_err(|error| TestCaseError::fail(error.to_string()))?;
            let seen = seen.lock().unwrap();
            prop_assert_eq!(seen.len(), 1);
            let uri = seen[0].uri();
            prop_assert_eq!(uri.path(), "/identity/api/directory");
            prop_assert_eq!(query_ids(uri.query().unwrap_or_default())?, distinct(&ids));
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_emulator_receives_and_routes_any_id_as_sent() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let emulator = runtime.block_on(support::emulator_with(EmulatorConfig::default()));
    let client = support::client(&emulator.base_url());
    let mut runner = TestRunner::new(Config::with_cases(64));
    runner
        .run(&(hostile_string(), hostile_string()), |(id, other)| {
            emulator.clear_requests();
            runtime.block_on(async {
                let users = client.users();
                let _ = users.get_user(&id).send().await;
                let _ = users.get_user_from_login(&id).send().await;
                let _ = users.unlock_user(&id).send().await;
                let _ = users
                    .find_users_by_id([id.clone(), other.clone()])
                    .send()
                    .await;
            });
            let log = emulator.requests();
            let routed: Vec<_> = log.iter().map(|r| r.operation.as_deref()).collect();
            prop_assert_eq!(
                routed,
                [
                    Some("GetUser"),
                    Some("GetUserFromLogin"),
                    Some("UnlockUser"),
                    Some("FindUsersById")
                ]
            );
            check_segment(&log[0].path, "/api/users/{id}", &id)?;
            check_segment(&log[1].path, "/api/users/fromlogin/{login}", &id)?;
            check_segment(&log[2].path, "/api/users/{id}/lifecycle/$unlock", &id)?;
            prop_assert_eq!(log[3].path.as_str(), "/identity/api/directory");
            let query = log[3].query.clone().unwrap_or_default();
            prop_assert_eq!(query_ids(&query)?, distinct(&[id.clone(), other.clone()]));
            Ok(())
        })
        .unwrap();
}

/// `schema` is a valid user id by the contract's pattern, but
/// `/api/users/schema` is the route of GetUserSchema and UpdateUserSchema:
/// the id cannot be sent as one segment of GetUser's route any more than
/// `..` can, and should be refused the same way.
#[tokio::test]

async fn an_id_that_is_a_sibling_route_is_refused_not_sent_elsewhere() {
    let emulator = support::emulator_with(EmulatorConfig::default()).await;
    let client = support::client(&emulator.base_url());
    let users = client.users();
    let schema = UpdateUserSchemaRequest::new(vec![UserSchemaProperty::new("ssoId", "SSO id")]);
    users.update_user_schema(&schema).send().await.unwrap();
    emulator.clear_requests();

    let update = UpdateUserRequest::new("Ann", "Lee", "ann@example.com", "ann@example.com");
    let get = users.get_user("schema").send().await.map(|_| ());
    let put = users
        .update_user("schema", &update)
        .send()
        .await
        .map(|_| ());
    let routed: Vec<_> = emulator
        .requests()
        .into_iter()
        .filter_map(|r| r.operation)
        .collect();
    // Whatever happens, the schema is not touched by a user update.
    let after = users.get_user_schema().send().await.unwrap();
    assert_eq!(
        after.alternative_user_ids,
        Some(schema.alternative_user_ids)
    );
    for (result, intended) in [(get, "GetUser"), (put, "UpdateUser")] {
        let error = result.unwrap_err();
        assert!(
            error.kind() == ErrorKind::InvalidInput,
            "{intended}(\"schema\") was sent; the emulator routed {routed:?}; the client said: {error}"
        );
    }
}

/// Field names of the response types, so that generated objects reach
/// deep into the models.
const FIELDS: &[&str] = &[
    "id",
    "emailAddress",
    "secondEmailAddress",
    "login",
    "firstName",
    "lastName",
    "roles",
    "type",
    "status",
    "external",
    "lastLogin",
    "lastUpdated",
    "created",
    "passwordChanged",
    "userExpiry",
    "links",
    "relation",
    "href",
    "description",
    "method",
    "roleId",
    "scope",
    "code",
    "source",
    "name",
    "samlName",
    "alternativeUserIds",
    "values",
    "failed",
    "detail",
    "password",
    "title",
    "errors",
    "instance",
    "errorDetails",
    "email",
    "secondEmail",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::from),
        prop::sample::select(vec![
            "ACTIVE",
            "PASSWORD_EXPIRED",
            "SOMETHING_NEW",
            "Personal",
            "Service",
            "",
            "2024-02-29T23:59:59.1234567+05:30",
            "2024-02-29T23:59:59Z",
            "9999-12-31T23:59:59.9999999Z",
            "0000-01-01T00:00:00Z",
            "2024-13-45T99:99:99Z",
            "2024-01-01T00:00:00.12345678901234Z",
        ])
        .prop_map(Value::from),
    ]
}

/// Any JSON value, its object keys mostly field names of the models.
fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            4 => prop::sample::select(FIELDS).prop_map(str::to_owned),
            1 => any::<String>(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn valid_user() -> Value {
    json!({
        "id": "00u1", "emailAddress": "ann@example.com", "login": "ann@example.com",
        "firstName": "Ann", "lastName": "Lee", "type": "Personal", "status": "ACTIVE",
        "external": false, "created": "2024-01-02T03:04:05.1234567Z",
        "roles": [{"id": "r1", "roleId": {"scope": "s", "code": "c"}, "source": "LUSID", "name": "s/c"}],
        "links": [{"relation": "self", "href": "https://x", "method": "GET"}],
        "alternativeUserIds": {"ssoId": "a", "other": null}
    })
}

/// A valid user with one field replaced by anything.
fn nearly_valid_user() -> impl Strategy<Value = Value> {
    (prop::sample::select(FIELDS), json_value()).prop_map(|(field, value)| {
        let mut user = valid_user();
        user[field] = value;
        user
    })
}

/// Bodies the service could send: any JSON, nearly valid users and lists
/// of them, and bytes that are not JSON.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        nearly_valid_user().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        prop::collection::vec(nearly_valid_user(), 0..4)
            .prop_map(|users| serde_json::to_vec(&users).unwrap()),
        prop::collection::vec(nearly_valid_user(), 0..4)
            .prop_map(|users| serde_json::to_vec_pretty(&users).unwrap()),
        any::<Vec<u8>>(),
    ]
}

/// Decodes `body` cut at `cuts` with the SDK's decoder of `T`.
fn decode_in_pieces<T: Decode>(body: &[u8], cuts: &[usize]) -> Result<T, serde_json::Error> {
    let mut decoder = T::Decoder::default();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    points.push(body.len());
    points.sort_unstable();
    let mut start = 0;
    for end in points {
        decoder.push(Bytes::copy_from_slice(&body[start..end]))?;
        start = end;
    }
    decoder.finish()
}

/// The SDK's decoder agrees with serde_json reading the body whole.
fn agrees<T>(body: &[u8], cuts: &[usize]) -> Result<(), TestCaseError>
where
    T: Decode + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let streamed = decode_in_pieces::<T>(body, cuts);
    let whole = serde_json::from_slice::<T>(body);
    match (streamed, whole) {
        (Ok(streamed), Ok(whole)) => prop_assert_eq!(streamed, whole),
        (Err(_), Err(_)) => {}
        (streamed, whole) => {
            return Err(TestCaseError::fail(format!(
                "{}: in pieces {streamed:?}, whole {whole:?}, body {:?}",
                std::any::type_name::<T>(),
                String::from_utf8_lossy(body)
            )));
        }
    }
    Ok(())
}

#[test]
fn any_body_decodes_or_fails_cleanly_for_every_response_type() {
    let mut runner = TestRunner::new(Config::with_cases(2_000));
    runner
        .run(
            &(body(), prop::collection::vec(any::<usize>(), 0..6)),
            |(body, cuts)| {
                agrees::<UserResponse>(&body, &cuts)?;
                agrees::<Vec<UserResponse>>(&body, &cuts)?;
                agrees::<ListUsersResponse>(&body, &cuts)?;
                agrees::<TemporaryPassword>(&body, &cuts)?;
                agrees::<UserSchemaResponse>(&body, &cuts)?;
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn any_body_of_any_status_gives_a_typed_answer_through_a_call() {
    let runtime = runtime();
    let statuses = prop::sample::select(vec![200_u16, 201, 204, 400, 401, 404, 409, 429, 500, 502]);
    let mut runner = TestRunner::new(Config::with_cases(300));
    runner
        .run(&(statuses, body()), |(status, body)| {
            let status = StatusCode::from_u16(status).unwrap();
            let (service, _) = answering(status, Bytes::from(body));
            let api = UsersApi::new(service, BaseUrl::parse(BASE_URL).unwrap());
            let results = runtime.block_on(async {
                [
                    api.get_user("00u1").send().await.map(|u| format!("{u:?}")),
                    api.list_users().send().await.map(|u| format!("{u:?}")),
                    api.expire_password("00u1")
                        .send()
                        .await
                        .map(|p| format!("{p:?}")),
                    api.find_users_by_id(["a", "b"])
                        .send()
                        .await
                        .map(|l| format!("{l:?}")),
                    api.get_user_schema().send().await.map(|s| format!("{s:?}")),
                    api.delete_user("00u1").send().await.map(|()| String::new()),
                ]
            });
            for result in results {
                match result {
                    Ok(_) => prop_assert!(status.is_success()),
                    Err(error) => {
                        let error = finbourne_identity::Error::from(error);
                        // Every accessor and both formats, without a panic.
                        let _ = (
                            format!("{error} {error:?}"),
                            error.request_id(),
                            error.field_errors(),
                        );
                        prop_assert!(error.may_have_been_sent());
                        let kind = error.kind();
                        match status.as_u16() {
                            200..=299 => prop_assert_eq!(kind, ErrorKind::Decode, "{}", error),
                            429 => prop_assert_eq!(kind, ErrorKind::Throttled, "{}", error),
                            404 => prop_assert_eq!(kind, ErrorKind::NotFound, "{}", error),
                            // A 5xx leaves a change's outcome unknown; to a
                            // read it is an error answer like any other.
                            500.. => prop_assert!(
                                matches!(kind, ErrorKind::OutcomeUnknown | ErrorKind::Api),
                                "{:?}: {}",
                                kind,
                                error
                            ),
                            // A 4xx is a refusal: nothing was done.
                            _ => prop_assert!(
                                matches!(
                                    kind,
                                    ErrorKind::Throttled
                                        | ErrorKind::NotFound
                                        | ErrorKind::AlreadyExists
                                        | ErrorKind::Validation
                                        | ErrorKind::Auth
                                        | ErrorKind::Api
                                ),
                                "{:?}: {}",
                                kind,
                                error
                            ),
                        }
                        if let Some(api) = error.api() {
                            let _ = (api.code(), api.title(), api.detail(), api.is_validation());
                            prop_assert_eq!(api.status, status);
                        }
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
