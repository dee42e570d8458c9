//! Hostile answers: a raw TCP server sends the facade truncated
//! bodies, bodies that never end, an HTML 502 page, JSON of the wrong shape,
//! empty 200s, bodies past the size limit, odd `Retry-After` values, 401
//! forever, redirects and garbage. Each call ends with a clear typed error or
//! the documented behaviour: no panic, no hang (every call runs under a guard
//! that must not fire), and no body read past the limit.
//!
//! Which limit ended a call is told by its error (a total timeout, an
//! attempt timeout, a body too large, the answer itself), never by how long
//! it took: these calls cross real sockets to a server on another runtime,
//! where tokio's paused clock would fire the timeouts while bytes are still
//! on their way, so the clock is real, and a busy machine may only make a
//! call slower. The one timing checked is a lower bound (an attempt timeout
//! cannot end a call before it has passed).

use std::future::Future;
use std::time::{Duration, Instant};

use finbourne_identity::layers::transport::{TimeoutKind, TransportErrorKind};
use finbourne_identity::{Error, ErrorKind, IdentityClient, IdentityClientBuilder};

use crate::support;
use crate::support::raw_server::{
    RawServer, Reply, USER_JSON, chunked, chunked_head, full, head, ok_user,
};

const READ_TIMEOUT: Duration = Duration::from_millis(300);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;
/// The guard around each call: far past the total timeout.
const GUARD: Duration = Duration::from_secs(10);

fn settings(builder: IdentityClientBuilder) -> IdentityClientBuilder {
    builder
        .read_timeout(READ_TIMEOUT)
        .total_timeout(TOTAL_TIMEOUT)
        .transient_retries(1)
        .max_response_bytes(MAX_RESPONSE_BYTES)
}

/// A client of `server` with the static token and the settings above.
fn client_of(server: &RawServer) -> IdentityClient {
    settings(support::builder(&server.base_url()))
        .access_token(support::TOKEN)
        .build()
        .unwrap()
}

/// A client of `server` with the password grant, at the server's own
/// `/oauth2/token`, and the settings above.
fn password_grant_client_of(server: &RawServer) -> IdentityClient {
    settings(support::builder(&server.base_url()))
        .token_url(format!("{}/oauth2/token", server.root_url()))
        .username("raw-user")
        .password("raw-password")
        .client_id("raw-client")
        .client_secret("raw-secret")
        .build()
        .unwrap()
}

/// Runs `call` under the guard, which must not fire; returns its result and
/// how long it took.
async fn guarded<T>(call: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let result = tokio::time::timeout(GUARD, call)
        .await
        .expect("the call hung: the guard fired");
    (result, started.elapsed())
}

/// GetUser through `client`, which must fail with a timeout, under the
/// guard; returns the error.
async fn get_user_timing_out(client: &IdentityClient) -> Error {
    let (result, _) = guarded(client.users().get_user("00u1").send()).await;
    let error = result.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    error
}

/// A server answering every request with `reply`.
async fn always(reply: Reply) -> RawServer {
    RawServer::start(move |_, _| reply.clone()).await
}

fn api_requests(server: &RawServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|request| request.path.starts_with("/identity/"))
        .count()
}

fn transport_kind(error: &Error) -> Option<TransportErrorKind> {
    error.transport().map(|transport| transport.kind())
}

#[tokio::test]
async fn a_truncated_body_is_a_no_answer_error() {
    let mut truncated = head(
        "200 OK",
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", "500"),
        ],
    );
    truncated.extend_from_slice(&USER_JSON.as_bytes()[..50]);
    let server = always(Reply::Bytes(truncated)).await;
    let client = client_of(&server);

    let (result, _) = guarded(client.users().get_user("00u1").send()).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoAnswer, "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200), "{error}");
    assert!(error.may_have_been_sent());

    // A list cut in the middle of an element, the same.
    let mut cut_list = head("200 OK", &[("Content-Length", "400")]);
    cut_list.extend_from_slice(format!("[{USER_JSON},{{\"id\":\"00u2\"").as_bytes());
    let server = always(Reply::Bytes(cut_list)).await;
    let client = client_of(&server);
    let (result, _) = guarded(client.users().list_users().send()).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoAnswer, "{error}");
}

#[tokio::test]
async fn a_body_that_stops_arriving_ends_at_the_attempt_timeout() {
    let mut partial = head("200 OK", &[("Content-Length", "1000")]);
    partial.extend_from_slice(b"{\"id\":\"00u1\",");
    let server = always(Reply::BytesThenHang(partial)).await;
    let client = client_of(&server);

    let (result, elapsed) = guarded(client.users().get_user("00u1").send()).await;
    let error = result.unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert_eq!(error.kind(), ErrorKind::NoAnswer, "{error}");
    assert_eq!(
        transport_kind(&error),
        Some(TransportErrorKind::Timeout(TimeoutKind::Attempt)),
        "{error:?}"
    );
    assert!(elapsed >= READ_TIMEOUT, "{elapsed:?}");
}

/// A chunked 200 whose body starts with `start` and goes on with `chunk`
/// every 50 ms, forever: no read waits long, the call does.
async fn endless(start: &str, chunk: &str) -> RawServer {
    let mut head = chunked_head("200 OK", &[("Content-Type", "application/json")]);
    head.extend_from_slice(&chunked(start.as_bytes()));
    always(Reply::Trickle {
        head,
        chunk: chunked(chunk.as_bytes()),
        every: Duration::from_millis(50),
    })
    .await
}

#[tokio::test]
async fn a_body_that_never_ends_ends_at_the_total_timeout() {
    let user = endless(r#"{"id":""#, "aaaaaaaa").await;
    let list = endless("[", &format!("{USER_JSON},")).await;
    let (one, all) = tokio::join!(
        guarded(client_of(&user).users().get_user("00u1").send()),
        guarded(client_of(&list).users().list_users().send()),
    );
    for error in [one.0.map(|_| ()), all.0.map(|_| ())].map(Result::unwrap_err) {
        assert!(error.is_timeout(), "{error}");
        assert_eq!(
            transport_kind(&error),
            Some(TransportErrorKind::Timeout(TimeoutKind::Total)),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn an_answer_that_never_comes_ends_within_the_total_timeout() {
    let server = always(Reply::Silence).await;
    let error = get_user_timing_out(&client_of(&server)).await;
    assert!(error.may_have_been_sent());
    // GetUser is idempotent: one retry after the attempt timeout.
    assert_eq!(api_requests(&server), 2);

    // CreateUser is not: never replayed after the attempt timeout.
    let server = always(Reply::Silence).await;
    let client = client_of(&server);
    let request = finbourne_identity::CreateUserRequest::personal("Ann", "Lee", "ann@example.com");
    let (result, _) = guarded(client.users().create_user(&request).send()).await;
    let error = result.unwrap_err();
    assert!(error.is_timeout() && error.may_have_been_sent(), "{error}");
    assert_eq!(api_requests(&server), 1);
}

#[tokio::test]
async fn a_token_endpoint_that_never_answers_ends_at_the_total_timeout() {
    // The token endpoint's own timeout (30 s) is far longer: the call's
    // deadline ends the wait for the token.
    let server = always(Reply::Silence).await;
    let error = get_user_timing_out(&password_grant_client_of(&server)).await;
    assert_eq!(error.kind(), ErrorKind::NoAnswer, "{error}");
    assert!(!error.may_have_been_sent(), "no token, so nothing was sent");
    assert_eq!(api_requests(&server), 0);
}

#[tokio::test]
async fn an_html_502_page_is_an_api_error_with_the_page() {
    let page = "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>";
    let server = always(Reply::Bytes(full(
        "502 Bad Gateway",
        &[("Content-Type", "text/html")],
        page.as_bytes(),
    )))
    .await;
    let client = client_of(&server);

    let (result, _) = guarded(client.users().get_user("00u1").send()).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api, "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(502));
    assert!(error.is_retryable() && error.may_have_been_sent());
    let api = error.api().unwrap();
    assert!(api.problem.is_none());
    assert_eq!(&api.body[..], page.as_bytes());
    let text = error.to_string();
    assert!(
        text.contains("502") && text.contains("Bad Gateway"),
        "{text}"
    );
    // Retried once (transient_retries(1)), then given up.
    assert_eq!(api_requests(&server), 2);
}

/// Each body with a 200 status for `call`: every one a Decode error.
async fn each_is_a_decode_error<T: std::fmt::Debug, F>(
    bodies: &[&str],
    call: impl Fn(IdentityClient) -> F,
) where
    F: Future<Output = Result<T, Error>>,
{
    for body in bodies {
        let server = always(Reply::Bytes(full(
            "200 OK",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )))
        .await;
        let (result, _) = guarded(call(client_of(&server))).await;
        let error = result.expect_err(body);
        assert_eq!(error.kind(), ErrorKind::Decode, "{body}: {error}");
        assert_eq!(error.status().map(|s| s.as_u16()), Some(200), "{body}");
        assert!(error.may_have_been_sent(), "{body}");
        assert!(!error.is_retryable(), "{body}");
        // Not retried: the answer came.
        assert_eq!(api_requests(&server), 1, "{body}");
    }
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_decode_error() {
    let not_a_user = [
        "[1,2,3]",
        r#"{"id":5}"#,
        r#""a string""#,
        r#"{"id":"00u1"}"#,
        "null",
        "{",
        r#"{"id":"00u1","emailAddress":"a","login":"a","firstName":"A","lastName":"B","type":"Personal","status":"ACTIVE","external":"no"}"#,
        "<html>not json</html>",
    ];
    each_is_a_decode_error(&not_a_user, |client| async move {
        client.users().get_user("00u1").send().await
    })
    .await;

    let not_a_list = [
        r#"{"values":[]}"#,
        "[1,2]",
        r#"[{"id":"x"}]"#,
        "[",
        "[{}",
        r#"[{"a":"\"#,
        "]",
    ];
    each_is_a_decode_error(&not_a_list, |client| async move {
        client.users().list_users().send().await
    })
    .await;

    let not_a_password = [r#"{"password":5}"#, "[]", "{}"];
    each_is_a_decode_error(&not_a_password, |client| async move {
        client.users().expire_password("00u1").send().await
    })
    .await;

    let not_a_directory = ["5", r#"{"values":[1]}"#, r#"{"failed":{"a":7}}"#];
    each_is_a_decode_error(&not_a_directory, |client| async move {
        client.users().find_users_by_id(["00u1"]).send().await
    })
    .await;
}

#[tokio::test]
async fn an_empty_200_is_a_decode_error_where_a_body_is_due() {
    each_is_a_decode_error(&[""], |client| async move {
        client.users().get_user("00u1").send().await
    })
    .await;
    each_is_a_decode_error(&[""], |client| async move {
        client.users().list_users().send().await
    })
    .await;
    each_is_a_decode_error(&[""], |client| async move {
        client.users().get_user_schema().send().await
    })
    .await;

    // Where the contract answers no body, an empty 200 is success.
    let server = always(Reply::Bytes(full("200 OK", &[], b""))).await;
    let (result, _) = guarded(client_of(&server).users().delete_user("00u1").send()).await;
    result.unwrap();
}

#[tokio::test]
async fn a_body_past_the_size_limit_is_refused_without_reading_it_all() {
    // Endless bodies: a client that read them whole would never finish.
    let mut json_head = chunked_head("200 OK", &[("Content-Type", "application/json")]);
    json_head.extend_from_slice(&chunked(b"["));
    let flood_json = Reply::Flood {
        head: json_head,
        chunk: chunked(&format!("{USER_JSON},").into_bytes().repeat(20)),
    };
    let declared = Reply::Flood {
        head: head("200 OK", &[("Content-Length", "10000000000")]),
        chunk: b"xxxxxxxx".repeat(1024),
    };
    for (name, reply) in [("chunked", flood_json), ("declared", declared)] {
        for list in [false, true] {
            let server = always(reply.clone()).await;
            let client = client_of(&server);
            let result = if list {
                guarded(client.users().list_users().send())
                    .await
                    .0
                    .map(|_| ())
            } else {
                guarded(client.users().get_user("00u1").send())
                    .await
                    .0
                    .map(|_| ())
            };
            let error = result.expect_err(name);
            assert_eq!(
                transport_kind(&error),
                Some(TransportErrorKind::BodyTooLarge),
                "{name} list={list}: {error:?}"
            );
            assert_eq!(error.kind(), ErrorKind::Decode, "{name}: {error}");
        }
    }
}

#[tokio::test]
async fn an_endless_error_body_is_an_api_error_with_its_first_64_kib() {
    // An error answer's body is read up to 64 KiB, the rest neither read
    // nor waited for.
    let flood_error = Reply::Flood {
        head: chunked_head(
            "400 Bad Request",
            &[("Content-Type", "application/problem+json")],
        ),
        chunk: chunked(&b" ".repeat(8192)),
    };
    let server = always(flood_error).await;
    let (result, _) = guarded(client_of(&server).users().get_user("00u1").send()).await;
    let error = result.expect_err("an endless error answer");
    let api = error.api().unwrap_or_else(|| panic!("{error:?}"));
    assert_eq!(api.status, 400);
    assert_eq!(
        api.body.len(),
        finbourne_identity::layers::users::MAX_ERROR_BODY_BYTES
    );
}

/// A server that answers `status` with `Retry-After: value` once, then the
/// user.
async fn throttles_once(status: &'static str, value: &'static str) -> RawServer {
    RawServer::start(move |_, number| {
        if number == 0 {
            Reply::Bytes(full(status, &[("Retry-After", value)], b""))
        } else {
            ok_user()
        }
    })
    .await
}

#[tokio::test]
async fn odd_retry_after_values_are_ignored_or_give_up_at_once() {
    // Unreadable or past: as if there were none; the backoff applies and the
    // retry succeeds.
    for value in [
        "-1",
        "-0.5",
        "soon",
        "1e3",
        "NaN",
        "",
        "Wed, 21 Oct 2015 07:28:00 GMT",
    ] {
        for status in ["429 Too Many Requests", "503 Service Unavailable"] {
            let server = throttles_once(status, value).await;
            let (result, _) = guarded(client_of(&server).users().get_user("00u1").send()).await;
            // Answered before the total timeout ended it.
            let user = result.unwrap_or_else(|error| panic!("{status} {value:?}: {error}"));
            assert_eq!(user.id, "00u1");
            assert_eq!(api_requests(&server), 2, "{status} {value:?}");
        }
    }
    // Past the call's deadline: no sleep that long; the throttled answer
    // comes back (a wait would have ended as a total timeout instead).
    for value in [
        "99999999999999999999999",
        "18446744073709551616",
        "86400",
        "Fri, 01 Jan 2100 00:00:00 GMT",
    ] {
        // The service's own 503 (its Retry-After says so) is throttled as
        // a 429 is: it did nothing, and asked to wait.
        for (status, code) in [
            ("429 Too Many Requests", 429),
            ("503 Service Unavailable", 503),
        ] {
            let server = throttles_once(status, value).await;
            let (result, _) = guarded(client_of(&server).users().get_user("00u1").send()).await;
            let error = result.expect_err(value);
            assert_eq!(error.kind(), ErrorKind::Throttled, "{value}: {error}");
            assert!(error.is_throttled(), "{value}: {error}");
            assert!(error.retry_after().is_some(), "{value}: {error}");
            assert_eq!(error.status().map(|s| s.as_u16()), Some(code));
            assert!(error.is_retryable());
            assert_eq!(api_requests(&server), 1, "{status} {value:?}");
            assert!(!error.is_timeout(), "{status} {value:?}: {error:?}");
        }
    }
}

#[tokio::test]
async fn a_401_forever_is_an_api_error_after_one_new_token() {
    let unauthorized = || {
        Reply::Bytes(full(
            "401 Unauthorized",
            &[("WWW-Authenticate", "Bearer error=\"invalid_token\"")],
            b"",
        ))
    };
    // A static token: nothing new to try, the 401 stands.
    let server = always(unauthorized()).await;
    let (result, _) = guarded(client_of(&server).users().get_user("00u1").send()).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
    assert!(error.api().unwrap().is_unauthorized());
    assert!(
        error
            .to_string()
            .contains("the token refused was a personal access token"),
        "{error}"
    );
    assert_eq!(api_requests(&server), 1);

    // The password grant: one new token, one replay, then the 401 stands.
    let server = RawServer::start(move |request, number| {
        if request.path.starts_with("/oauth2/token") {
            let token = format!(
                r#"{{"access_token":"raw-token-{number}","token_type":"Bearer","expires_in":3600}}"#
            );
            Reply::Bytes(full(
                "200 OK",
                &[("Content-Type", "application/json")],
                token.as_bytes(),
            ))
        } else {
            unauthorized()
        }
    })
    .await;
    let client = password_grant_client_of(&server);
    let (result, _) = guarded(client.users().get_user("00u1").send()).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Auth, "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert!(
        error
            .to_string()
            .contains("the token refused was a token of the password grant for the user"),
        "{error}"
    );
    let requests = server.requests();
    let tokens = requests
        .iter()
        .filter(|r| r.path.starts_with("/oauth2/"))
        .count();
    assert_eq!((api_requests(&server), tokens), (2, 2), "{requests:?}");
    // The two API attempts carried the two tokens.
    let sent: Vec<_> = requests
        .iter()
        .filter_map(|r| r.header("authorization"))
        .collect();
    assert_eq!(sent.len(), 2);
    assert_ne!(sent[0], sent[1]);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let elsewhere = always(ok_user()).await;
    for status in [
        "301 Moved Permanently",
        "302 Found",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        let location = format!("{}/identity/api/users/00u1", elsewhere.root_url());
        let server = RawServer::start(move |_, _| {
            Reply::Bytes(full(status, &[("Location", &location)], b""))
        })
        .await;
        let (result, _) = guarded(client_of(&server).users().get_user("00u1").send()).await;
        let error = result.expect_err(status);
        assert_eq!(error.kind(), ErrorKind::Api, "{status}: {error}");
        assert!(
            error.status().is_some_and(|s| s.is_redirection()),
            "{status}"
        );
        assert_eq!(api_requests(&server), 1, "{status}");
    }
    // The bearer token never went to the other server.
    assert!(elsewhere.requests().is_empty());
}

#[tokio::test]
async fn garbage_instead_of_http_is_a_no_answer_error() {
    for garbage in [
        &b"NOT HTTP AT ALL\r\n\r\n"[..],
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
        b"\x00\xff\xfe garbage",
    ] {
        let server = always(Reply::Bytes(garbage.to_vec())).await;
        let (result, _) = guarded(client_of(&server).users().get_user("00u1").send()).await;
        let error = result.unwrap_err();
        let shown = String::from_utf8_lossy(garbage);
        assert_eq!(error.kind(), ErrorKind::NoAnswer, "{shown}: {error}");
        assert!(error.may_have_been_sent(), "{shown}");
    }
}
