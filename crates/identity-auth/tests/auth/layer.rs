//! The auth layer over a tower-test mock: the header it sets, and the
//! replay after a 401 that a new token can fix, made by the layer alone,
//! and the same under the retry layer of `identity-transport` (as in the
//! client's stack).

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
use identity_call::CredentialSent;
use identity_transport::{RetryLayer, TotalTimeoutLayer};
use tower::util::BoxCloneSyncService;
use tower::{BoxError, Layer, ServiceBuilder, ServiceExt};
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
type Stack = BoxCloneSyncService<Request<Bytes>, Response<&'static str>, BoxError>;

/// The auth layer alone, and under the retry layer (as in the client's
/// stack), each over its own mock: the replay after a 401 is the auth
/// layer's in both.
fn stacks(tokens: &TokenCache) -> [(&'static str, Stack, Handle); 2] {
    let (inner, alone) = mock::pair();
    let by_auth = BoxCloneSyncService::new(AuthLayer::new(tokens.clone()).layer(inner));
    let (inner, under_retry) = mock::pair();
    let by_retry = BoxCloneSyncService::new(
        ServiceBuilder::new()
            .layer(RetryLayer::default())
            .layer(AuthLayer::new(tokens.clone()))
            .service(inner),
    );
    [
        ("the auth layer alone", by_auth, alone),
        (
            "the auth layer under the retry layer",
            by_retry,
            under_retry,
        ),
    ]
}

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

/// A cache of [`Numbered`] tokens, and its provider.
fn numbered() -> (Arc<Numbered>, TokenCache) {
    let provider = Arc::new(Numbered::default());
    (provider.clone(), TokenCache::new(provider))
}

/// Each way of replaying, over a cache of its own.
fn each_way() -> Vec<(Arc<Numbered>, TokenCache, &'static str, Stack, Handle)> {
    (0..2)
        .map(|way| {
            let (provider, tokens) = numbered();
            let (name, service, handle) = stacks(&tokens).into_iter().nth(way).unwrap();
            (provider, tokens, name, service, handle)
        })
        .collect()
}

#[tokio::test]
async fn a_401_drops_the_sent_token_and_the_call_is_replayed_once_with_a_new_one() {
    for (provider, tokens, way, service, mut handle) in each_way() {
        // Warm the cache, so that the call takes the fast path.
        tokens.bearer().await.unwrap();
        let call = tokio::spawn(service.clone().oneshot(request()));
        assert_eq!(
            answer(&mut handle, StatusCode::UNAUTHORIZED).await,
            "Bearer token-1",
            "{way}"
        );
        assert_eq!(answer(&mut handle, StatusCode::OK).await, "Bearer token-2");
        let answered = call.await.unwrap().unwrap();
        assert_eq!(answered.status(), StatusCode::OK);
        assert_eq!(CredentialSent::of(&answered), None, "{way}");

        // Replayed once only: a second 401 is the answer.
        let call = tokio::spawn(service.oneshot(request()));
        assert_eq!(
            answer(&mut handle, StatusCode::UNAUTHORIZED).await,
            "Bearer token-2"
        );
        assert_eq!(
            answer(&mut handle, StatusCode::UNAUTHORIZED).await,
            "Bearer token-3",
            "{way}"
        );
        let refused = call.await.unwrap().unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{way}");
        // It names the credential refused: here a provider of the test's.
        let Some(CredentialSent::Other { description }) = CredentialSent::of(&refused) else {
            panic!("{way}: no credential on the 401");
        };
        assert!(description.ends_with("Numbered"), "{description}");
        // The 401 to the replay stands: no token is fetched for it.
        assert_eq!(provider.fetches.load(Ordering::SeqCst), 3, "{way}");
    }
}

#[tokio::test]
async fn the_slow_path_replays_too() {
    for (_, _, way, service, mut handle) in each_way() {
        // Empty cache: the token is fetched inside the call.
        let call = tokio::spawn(service.oneshot(request()));
        assert_eq!(
            answer(&mut handle, StatusCode::UNAUTHORIZED).await,
            "Bearer token-1",
            "{way}"
        );
        assert_eq!(answer(&mut handle, StatusCode::OK).await, "Bearer token-2");
        assert_eq!(
            call.await.unwrap().unwrap().status(),
            StatusCode::OK,
            "{way}"
        );
    }
}

#[tokio::test]
async fn a_token_refreshed_by_another_call_is_kept_and_used_for_the_replay() {
    for (provider, tokens, way, service, mut handle) in each_way() {
        tokens.bearer().await.unwrap();
        let first = tokio::spawn(service.clone().oneshot(request()));
        let second = tokio::spawn(service.oneshot(request()));
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
        assert_eq!(provider.fetches.load(Ordering::SeqCst), 2, "{way}");
    }
}

#[tokio::test]
async fn a_static_token_refused_with_401_is_not_replayed() {
    let tokens = TokenCache::from_provider(StaticToken::new(SecretString::from("pat")));
    for (way, service, mut handle) in stacks(&tokens) {
        let call = tokio::spawn(service.oneshot(request()));
        assert_eq!(
            answer(&mut handle, StatusCode::UNAUTHORIZED).await,
            "Bearer pat"
        );
        let refused = call.await.unwrap().unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{way}");
        assert_eq!(
            CredentialSent::of(&refused),
            Some(&CredentialSent::AccessToken),
            "{way}"
        );
        // The service is gone with the call: the mock's queue holds no replay.
        assert!(
            matches!(handle.next_request().now_or_never(), None | Some(None)),
            "{way}: no replay was sent"
        );
    }
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

/// Hands out `token-1`, then never answers again.
#[derive(Default)]
struct OnceThenSilent {
    fetches: AtomicUsize,
}

impl TokenProvider for OnceThenSilent {
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        if self.fetches.fetch_add(1, Ordering::SeqCst) > 0 {
            return Box::pin(futures_util::future::pending());
        }
        Box::pin(async { Ok(AccessToken::new(SecretString::from("token-1"), None)) })
    }
}

/// `call`, under a guard far past the deadline, so that a wait that does
/// not end fails the test instead of hanging it.
async fn guarded<T>(call: impl Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(60), call)
        .await
        .expect("the guard fired: the wait did not end at the deadline")
}

/// A stack of `way` (see [`stacks`]) under a total timeout of 3 s.
fn with_total_timeout(tokens: &TokenCache, way: usize) -> (&'static str, Stack, Handle) {
    let (name, service, handle) = stacks(tokens).into_iter().nth(way).unwrap();
    let timed = TotalTimeoutLayer::new(std::time::Duration::from_secs(3))
        .layer(service)
        .map_response(|answer| answer.map(identity_transport::TimeoutBody::into_inner));
    (name, BoxCloneSyncService::new(timed), handle)
}

#[tokio::test(start_paused = true)]
async fn a_wait_for_a_token_ends_at_the_call_deadline_as_an_auth_timeout() {
    let ends_at_deadline = |result: Result<Response<&str>, BoxError>, started, way| {
        let error = result.unwrap_err();
        // The auth layer ends its wait at the deadline, before the timer
        // above fires at the same instant: no token, nothing sent.
        let error = error.downcast_ref::<AuthError>().expect("an AuthError");
        assert!(matches!(error, AuthError::Timeout { .. }), "{way}: {error}");
        assert_eq!(
            tokio::time::Instant::now() - started,
            std::time::Duration::from_secs(3),
            "{way}"
        );
    };
    for way in 0..2 {
        // No token yet, and the fetch never ends.
        let silent = TokenCache::new(Arc::new(OnceThenSilent {
            fetches: AtomicUsize::new(1),
        }));
        let (name, service, _handle) = with_total_timeout(&silent, way);
        let started = tokio::time::Instant::now();
        let result = guarded(service.oneshot(request())).await;
        ends_at_deadline(result, started, name);

        // A 401, and the fetch of the token that would replace it never ends.
        let tokens = TokenCache::new(Arc::new(OnceThenSilent::default()));
        tokens.bearer().await.unwrap();
        let (name, service, mut handle) = with_total_timeout(&tokens, way);
        let started = tokio::time::Instant::now();
        let call = tokio::spawn(service.oneshot(request()));
        assert_eq!(
            answer(&mut handle, StatusCode::UNAUTHORIZED).await,
            "Bearer token-1"
        );
        let result = guarded(call).await;
        ends_at_deadline(result.unwrap(), started, name);
    }
}

/// Hands out `token-N` after `delay`, counting the fetches.
struct Slow {
    delay: std::time::Duration,
    fetches: AtomicUsize,
}

impl TokenProvider for Slow {
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            Ok(AccessToken::new(
                SecretString::from(format!("token-{n}")),
                None,
            ))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_provider_slower_than_the_call_deadline_is_asked_once_and_serves_a_later_call() {
    let provider = Arc::new(Slow {
        delay: std::time::Duration::from_secs(10),
        fetches: AtomicUsize::new(0),
    });
    let tokens = TokenCache::new(provider.clone());
    // The client's order: total timeout, retry, auth.
    let (_, service, mut handle) = with_total_timeout(&tokens, 1);
    // Three calls with a 3 s deadline each: each gives up, none starts a fetch of its own.
    for _ in 0..3 {
        let error = service.clone().oneshot(request()).await.unwrap_err();
        assert!(error.downcast_ref::<AuthError>().is_some(), "{error}");
    }
    assert_eq!(provider.fetches.load(Ordering::SeqCst), 1);
    // The one fetch ran on and brought the token at 10 s: a later call succeeds.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let call = tokio::spawn(service.oneshot(request()));
    assert_eq!(answer(&mut handle, StatusCode::OK).await, "Bearer token-1");
    assert_eq!(call.await.unwrap().unwrap().status(), StatusCode::OK);
    assert_eq!(provider.fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn no_token_goes_over_plain_http_to_another_host_unless_allowed() {
    let tokens = TokenCache::from_provider(StaticToken::new(SecretString::from("pat")));
    let to = |uri: &str| {
        let mut request = request();
        *request.uri_mut() = uri.parse().unwrap();
        request
    };
    let (inner, mut handle) = mock::pair::<Request<Bytes>, Response<&'static str>>();
    let refusing = AuthLayer::new(tokens.clone()).layer(inner);
    let error = refusing
        .clone()
        .oneshot(to("http://acme.lusid.com/identity/api/users"))
        .await
        .unwrap_err();
    let error = error.downcast::<AuthError>().unwrap();
    assert!(
        matches!(&*error, AuthError::InsecureTarget { host } if host == "acme.lusid.com"),
        "{error:?}"
    );
    assert!(!error.to_string().contains("pat"));
    assert!(
        matches!(handle.next_request().now_or_never(), None | Some(None)),
        "nothing was sent"
    );
    // https, and plain http to this machine, are fine.
    for uri in [
        "https://acme.lusid.com/identity/api/users",
        "http://localhost:8080/identity/api/users",
        "http://[::1]:8080/identity/api/users",
    ] {
        let call = tokio::spawn(refusing.clone().oneshot(to(uri)));
        assert_eq!(answer(&mut handle, StatusCode::OK).await, "Bearer pat");
        assert_eq!(
            call.await.unwrap().unwrap().status(),
            StatusCode::OK,
            "{uri}"
        );
    }
    // Allowed by the one who composed the stack.
    let (inner, mut handle) = mock::pair::<Request<Bytes>, Response<&'static str>>();
    let allowing = AuthLayer::new(tokens)
        .allow_insecure_http(true)
        .layer(inner);
    let call = tokio::spawn(allowing.oneshot(to("http://acme.lusid.com/identity/api/users")));
    assert_eq!(answer(&mut handle, StatusCode::OK).await, "Bearer pat");
    assert_eq!(call.await.unwrap().unwrap().status(), StatusCode::OK);
}
