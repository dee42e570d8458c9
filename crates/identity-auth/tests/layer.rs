//! The auth layer over a tower-test mock: the header it sets, the replay
//! after a 401, and when it does not replay.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use http::header::AUTHORIZATION;
use http::{Request, Response, StatusCode};
use identity_auth::{
    AccessToken, AuthError, AuthLayer, SecretString, StaticToken, TokenCache, TokenProvider,
};
use tower::{Layer, ServiceExt};
use tower_test::mock;

/// Hands out `token-1`, `token-2`, ... and counts them.
#[derive(Default)]
struct Numbered {
    fetches: AtomicUsize,
}

impl TokenProvider for Numbered {
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move {
            Ok(AccessToken::new(
                SecretString::from(format!("token-{n}")),
                None,
            ))
        })
    }
}

fn request() -> Request<Bytes> {
    Request::builder()
        .method("POST")
        .uri("http://127.0.0.1/identity/api/users")
        .header("x-kept", "yes")
        .body(Bytes::from_static(b"{\"firstName\":\"Ada\"}"))
        .unwrap()
}

fn response(status: StatusCode) -> Response<&'static str> {
    Response::builder().status(status).body("").unwrap()
}

type Handle = mock::Handle<Request<Bytes>, Response<&'static str>>;

/// Answers the next request with `status` and returns its Authorization header.
async fn answer(handle: &mut Handle, status: StatusCode) -> String {
    let (request, send) = handle.next_request().await.expect("a request");
    let header = request.headers()[AUTHORIZATION].clone();
    assert!(header.is_sensitive());
    assert_eq!(request.headers()["x-kept"], "yes");
    assert_eq!(request.body().as_ref(), b"{\"firstName\":\"Ada\"}");
    send.send_response(response(status));
    header.to_str().unwrap().to_owned()
}

#[tokio::test]
async fn sets_a_sensitive_bearer_header_and_reuses_the_token() {
    let provider = Arc::new(Numbered::default());
    let (inner, mut handle) = mock::pair();
    let service = AuthLayer::new(TokenCache::new(provider.clone())).layer(inner);

    for _ in 0..3 {
        let call = tokio::spawn(service.clone().oneshot(request()));
        assert_eq!(answer(&mut handle, StatusCode::OK).await, "Bearer token-1");
        assert_eq!(call.await.unwrap().unwrap().status(), StatusCode::OK);
    }
    assert_eq!(provider.fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_401_drops_the_sent_token_and_replays_once_with_a_new_one() {
    let provider = Arc::new(Numbered::default());
    let tokens = TokenCache::new(provider.clone());
    let (inner, mut handle) = mock::pair();
    let service = AuthLayer::new(tokens.clone()).layer(inner);

    // Warm the cache, so that the call takes the fast path.
    tokens.bearer().await.unwrap();
    let call = tokio::spawn(service.clone().oneshot(request()));
    assert_eq!(
        answer(&mut handle, StatusCode::UNAUTHORIZED).await,
        "Bearer token-1"
    );
    assert_eq!(answer(&mut handle, StatusCode::OK).await, "Bearer token-2");
    assert_eq!(call.await.unwrap().unwrap().status(), StatusCode::OK);

    // Replayed once only: a second 401 is the answer.
    let call = tokio::spawn(service.clone().oneshot(request()));
    assert_eq!(
        answer(&mut handle, StatusCode::UNAUTHORIZED).await,
        "Bearer token-2"
    );
    assert_eq!(
        answer(&mut handle, StatusCode::UNAUTHORIZED).await,
        "Bearer token-3"
    );
    assert_eq!(
        call.await.unwrap().unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_slow_path_replays_too() {
    let provider = Arc::new(Numbered::default());
    let (inner, mut handle) = mock::pair();
    let service = AuthLayer::new(TokenCache::new(provider.clone())).layer(inner);

    // Empty cache: the token is fetched inside the call.
    let call = tokio::spawn(service.oneshot(request()));
    assert_eq!(
        answer(&mut handle, StatusCode::UNAUTHORIZED).await,
        "Bearer token-1"
    );
    assert_eq!(answer(&mut handle, StatusCode::OK).await, "Bearer token-2");
    assert_eq!(call.await.unwrap().unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_refreshed_by_another_call_is_kept_and_used_for_the_replay() {
    let provider = Arc::new(Numbered::default());
    let tokens = TokenCache::new(provider.clone());
    let (inner, mut handle) = mock::pair();
    let service = AuthLayer::new(tokens.clone()).layer(inner);

    tokens.bearer().await.unwrap();
    let first = tokio::spawn(service.clone().oneshot(request()));
    let second = tokio::spawn(service.clone().oneshot(request()));
    let (request_a, send_a) = handle.next_request().await.unwrap();
    let (request_b, send_b) = handle.next_request().await.unwrap();
    assert_eq!(request_a.headers()[AUTHORIZATION], "Bearer token-1");
    assert_eq!(request_b.headers()[AUTHORIZATION], "Bearer token-1");
    // Both were refused with token-1: one fetch only, both replays use token-2.
    send_a.send_response(response(StatusCode::UNAUTHORIZED));
    assert_eq!(answer(&mut handle, StatusCode::OK).await, "Bearer token-2");
    send_b.send_response(response(StatusCode::UNAUTHORIZED));
    assert_eq!(answer(&mut handle, StatusCode::OK).await, "Bearer token-2");
    assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
    assert_eq!(second.await.unwrap().unwrap().status(), StatusCode::OK);
    assert_eq!(provider.fetches.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_static_token_refused_with_401_is_not_replayed() {
    let tokens = TokenCache::from_provider(StaticToken::new(SecretString::from("pat")));
    let (inner, mut handle) = mock::pair();
    let service = AuthLayer::new(tokens).layer(inner);

    let call = tokio::spawn(service.oneshot(request()));
    assert_eq!(
        answer(&mut handle, StatusCode::UNAUTHORIZED).await,
        "Bearer pat"
    );
    assert_eq!(
        call.await.unwrap().unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // The service is gone with the call: the mock's queue holds no replay.
    assert!(
        matches!(handle.next_request().now_or_never(), None | Some(None)),
        "no replay was sent"
    );
}

#[tokio::test]
async fn errors_of_the_provider_and_of_the_inner_service_are_passed_on() {
    struct Failing;
    impl TokenProvider for Failing {
        fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
            Box::pin(async { Err(AuthError::provider("vault sealed")) })
        }
    }
    let (inner, _handle) = mock::pair::<Request<Bytes>, Response<&'static str>>();
    let service = AuthLayer::new(TokenCache::from_provider(Failing)).layer(inner);
    let error = service.oneshot(request()).await.unwrap_err();
    let error = error.downcast::<AuthError>().unwrap();
    assert!(matches!(*error, AuthError::Provider { .. }), "{error:?}");

    let tokens = TokenCache::from_provider(StaticToken::new(SecretString::from("pat")));
    let (inner, mut handle) = mock::pair::<Request<Bytes>, Response<&'static str>>();
    let service = AuthLayer::new(tokens).layer(inner);
    let call = tokio::spawn(service.oneshot(request()));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error("connection reset");
    let error = call.await.unwrap().unwrap_err();
    assert_eq!(error.to_string(), "connection reset");
}
