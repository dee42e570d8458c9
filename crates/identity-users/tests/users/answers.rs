//! Answers of every kind decode into the typed result or a typed error:
//! unit tests over a `service_fn` standing in for the stack.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http::{Request, Response, StatusCode};
use http_body_util::{Full, StreamBody};
use identity_users::{BaseUrl, Error, UsersApi};

const USER: &str = r#"{"id":"00u1","emailAddress":"ann@example.com","login":"ann@example.com",
    "firstName":"Ann","lastName":"Lee","type":"Personal","status":"ACTIVE","external":false}"#;

fn answering(
    status: u16,
    body: &'static str,
) -> UsersApi<
    impl tower::Service<Request<Bytes>, Response = Response<Full<Bytes>>, Error = Infallible> + Clone,
> {
    let service = tower::service_fn(move |_request: Request<Bytes>| async move {
        let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        response
            .headers_mut()
            .insert("lusid-meta-requestId", "req-9".parse().unwrap());
        Ok::<_, Infallible>(response)
    });
    UsersApi::new(
        service,
        BaseUrl::parse("http://127.0.0.1:1/identity").unwrap(),
    )
}

#[tokio::test]
async fn a_void_operation_accepts_204_and_any_body() {
    answering(204, "")
        .reset_factors("00u1")
        .send()
        .await
        .unwrap();
    answering(200, "whatever")
        .unlock_user("00u1")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn any_2xx_is_success_for_a_typed_operation() {
    let user = answering(201, USER).get_user("00u1").send().await.unwrap();
    assert_eq!(user.id, "00u1");
}

#[tokio::test]
async fn an_empty_or_wrong_200_is_a_decode_error_with_the_status() {
    for body in ["", "{\"id\":1}", "<html>oops</html>"] {
        let error = answering(200, body)
            .get_user("00u1")
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Decode {
                    status: StatusCode::OK,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(error.status(), Some(StatusCode::OK));
    }
}

#[tokio::test]
async fn an_html_error_page_keeps_status_snippet_and_request_id() {
    let error = answering(502, "<html><body>Bad Gateway</body></html>")
        .get_user("00u1")
        .send()
        .await
        .unwrap_err();
    let api = error.api().unwrap();
    assert_eq!(api.status, StatusCode::BAD_GATEWAY);
    assert_eq!(api.request_id(), Some("req-9"));
    assert!(api.problem.is_none());
    assert!(api.is_retryable());
    assert!(error.to_string().contains("Bad Gateway"), "{error}");
}

#[tokio::test]
async fn a_not_found_problem_is_typed() {
    let error = answering(
        404,
        r#"{"name":"UserNotFound","code":657,"title":"User not found"}"#,
    )
    .get_user("nope")
    .send()
    .await
    .unwrap_err();
    assert!(error.is_not_found());
    assert_eq!(
        error.api().unwrap().code(),
        Some(identity_models::ErrorCode::UserNotFound)
    );
}

#[tokio::test]
async fn a_401_keeps_the_credential_the_auth_layer_named() {
    let service = tower::service_fn(|_request: Request<Bytes>| async {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        identity_call::CredentialSent::TokenFile {
            path: "/run/secrets/token".into(),
        }
        .set_on(&mut response);
        Ok::<_, Infallible>(response)
    });
    let users = UsersApi::new(
        service,
        BaseUrl::parse("http://127.0.0.1:1/identity").unwrap(),
    );
    let error = users.list_users().send().await.unwrap_err();
    let api = error.api().unwrap();
    assert!(api.is_unauthorized());
    assert!(matches!(
        &api.credential,
        Some(identity_call::CredentialSent::TokenFile { path }) if path.ends_with("token")
    ));
    assert!(
        error
            .to_string()
            .contains("the token refused was the token in the file /run/secrets/token"),
        "{error}"
    );
}

#[tokio::test]
async fn a_list_arriving_in_small_chunks_decodes_whole_and_streams() {
    let body: String = format!("[{}]", vec![USER; 25].join(","));
    let chunks: Vec<Bytes> = body
        .as_bytes()
        .chunks(7)
        .map(Bytes::copy_from_slice)
        .collect();
    let service = tower::service_fn(move |_request: Request<Bytes>| {
        let frames = chunks
            .clone()
            .into_iter()
            .map(|chunk| Ok::<_, Infallible>(http_body::Frame::data(chunk)));
        async move { Ok::<_, Infallible>(Response::new(StreamBody::new(stream::iter(frames)))) }
    });
    let api = UsersApi::new(service, BaseUrl::parse("http://127.0.0.1:1").unwrap());
    assert_eq!(api.list_users().send().await.unwrap().len(), 25);
    let streamed: Vec<_> = api.list_users().stream().collect().await;
    assert_eq!(streamed.len(), 25);
    assert!(
        streamed
            .iter()
            .all(|user| user.as_ref().unwrap().login == "ann@example.com")
    );
}

#[tokio::test]
async fn a_truncated_list_ends_the_stream_with_an_error() {
    let api = answering(200, r#"[{"id":"00u1"}, {"id":"#);
    let error = api.list_users().send().await.unwrap_err();
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    let items: Vec<_> = api.list_users().stream().collect().await;
    assert!(items.last().unwrap().is_err());
}

#[tokio::test]
async fn find_users_by_id_splits_dedups_and_merges() {
    let queries = Arc::new(Mutex::new(Vec::new()));
    let seen = queries.clone();
    let service = tower::service_fn(move |request: Request<Bytes>| {
        let query = request.uri().query().unwrap_or_default().to_owned();
        seen.lock().unwrap().push(query.clone());
        async move {
            let ids: Vec<&str> = query.split('&').map(|pair| &pair[3..]).collect();
            let values: serde_json::Map<String, serde_json::Value> = ids
                .iter()
                .filter(|id| !id.starts_with("missing"))
                .map(|id| (id.to_string(), serde_json::json!({"id": id})))
                .collect();
            let failed: serde_json::Map<String, serde_json::Value> = ids
                .iter()
                .filter(|id| id.starts_with("missing"))
                .map(|id| {
                    (
                        id.to_string(),
                        serde_json::json!({"id": id, "detail": "not found"}),
                    )
                })
                .collect();
            let body = serde_json::json!({"values": values, "failed": failed}).to_string();
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
        }
    });
    let api = UsersApi::new(service, BaseUrl::parse("http://127.0.0.1:1").unwrap());

    assert_eq!(
        api.find_users_by_id(Vec::<String>::new())
            .send()
            .await
            .unwrap()
            .values,
        None
    );
    assert!(queries.lock().unwrap().is_empty(), "no ids, no request");

    let mut ids: Vec<String> = (0..110).map(|n| format!("u{n}")).collect();
    ids.extend((0..10).map(|n| format!("missing{n}")));
    ids.extend(["u1".to_owned(), "u2".to_owned(), "missing3".to_owned()]);
    let found = api.find_users_by_id(ids).send().await.unwrap();
    assert_eq!(found.values.unwrap().len(), 110);
    assert_eq!(found.failed.unwrap().len(), 10);
    let queries = queries.lock().unwrap();
    let sizes: Vec<usize> = queries
        .iter()
        .map(|query| query.matches("id=").count())
        .collect();
    assert_eq!(
        sizes.iter().sum::<usize>(),
        120,
        "each distinct id asked once"
    );
    assert_eq!(sizes.len(), 3);
    assert!(sizes.iter().all(|size| *size <= 50));
}

#[tokio::test]
async fn an_error_answer_of_10_mb_keeps_64_kib_and_reads_no_further() {
    // A problem document, then 10 MB more, in chunks of 16 KiB; the body
    // counts the chunks it is asked for.
    const CHUNK: usize = 16 * 1024;
    const TOTAL: usize = 10 * 1024 * 1024;
    let pulled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = pulled.clone();
    let service = tower::service_fn(move |_request: Request<Bytes>| {
        let counter = counter.clone();
        let mut first = br#"{"code":500,"title":"Internal Server Error","detail":""#.to_vec();
        first.resize(CHUNK, b'x');
        let frames = stream::iter(0..TOTAL / CHUNK).map(move |n| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let chunk = if n == 0 {
                Bytes::from(first.clone())
            } else {
                Bytes::from(vec![b'x'; CHUNK])
            };
            Ok::<_, Infallible>(http_body::Frame::data(chunk))
        });
        async move {
            let mut response = Response::new(StreamBody::new(frames));
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            Ok::<_, Infallible>(response)
        }
    });
    let api = UsersApi::new(service, BaseUrl::parse("http://127.0.0.1:1").unwrap());
    let error = api.get_user("00u1").send().await.unwrap_err();
    let Error::Api(api_error) = error else {
        panic!("not an ApiError: {error:?}");
    };
    assert_eq!(api_error.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(api_error.body.len(), identity_users::MAX_ERROR_BODY_BYTES);
    assert!(api_error.body.starts_with(br#"{"code":500"#));
    let pulled = pulled.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        pulled,
        identity_users::MAX_ERROR_BODY_BYTES / CHUNK,
        "the rest of the body is not read"
    );
}
