//! The password grant, the token cache and the auth layer against the
//! emulator's token endpoint and API, over loopback sockets.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::join_all;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use identity_auth::{
    AuthError, AuthLayer, ExposeSecret, GrantType, OAuthErrorCode, PasswordGrant, SecretString,
    TokenCache, TokenProvider,
};
use identity_config::PasswordGrantCredentials;
use identity_emulator::{Emulator, EmulatorConfig, Fault, FaultRule, FaultWhen, RecordedRequest};
use identity_transport::HttpClient;
use tower::{Layer, ServiceExt};

const USERNAME: &str = "robot@example.com";
const PASSWORD: &str = "pw-7f3a-emulator";
const CLIENT_ID: &str = "client-e2e";
const CLIENT_SECRET: &str = "cs-91bd-emulator";

async fn emulator(token_ttl: Duration) -> Emulator {
    identity_emulator::start(EmulatorConfig {
        username: USERNAME.into(),
        password: PASSWORD.into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        token_ttl,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

/// The token endpoint's HTTP as the SDK gives it: the retry layer over the
/// client, which retries the endpoint's 429 and 5xx (here 5xx twice).
type TokenHttp = identity_transport::Retry<HttpClient>;

fn token_http() -> TokenHttp {
    use tower::Layer;
    let config = identity_transport::RetryConfig::default().transient_retries(2);
    identity_transport::RetryLayer::new(config).layer(HttpClient::new().unwrap())
}

fn grant(emulator: &Emulator, password: &str, client_secret: &str) -> PasswordGrant<TokenHttp> {
    let credentials = PasswordGrantCredentials::new(
        &emulator.token_url(),
        USERNAME,
        SecretString::from(password),
        CLIENT_ID,
        SecretString::from(client_secret),
    )
    .unwrap();
    PasswordGrant::new(credentials, token_http())
}

fn cache(emulator: &Emulator) -> TokenCache {
    TokenCache::from_provider(grant(emulator, PASSWORD, CLIENT_SECRET))
}

/// The token endpoint calls of the log, as (grant, status): the refresh
/// grant is the one with (masked) HTTP Basic credentials.
fn token_calls(emulator: &Emulator) -> Vec<(GrantType, Option<u16>)> {
    emulator
        .requests()
        .into_iter()
        .filter(|request| request.operation.as_deref() == Some("Token"))
        .map(|request: RecordedRequest| {
            let grant = if request.headers.contains_key("authorization") {
                GrantType::RefreshToken
            } else {
                GrantType::Password
            };
            (grant, request.status)
        })
        .collect()
}

/// GET /api/users through the auth layer over a real HTTP client.
async fn list_users(emulator: &Emulator, tokens: &TokenCache) -> StatusCode {
    let service = AuthLayer::new(tokens.clone()).layer(HttpClient::new().unwrap());
    send_list_users(emulator, service).await
}

/// GET /api/users through `service`.
async fn send_list_users<S>(emulator: &Emulator, service: S) -> StatusCode
where
    S: tower::Service<Request<Bytes>, Response = http::Response<identity_transport::ResponseBody>>,
    S::Error: std::fmt::Debug,
{
    let request = Request::get(format!("{}/api/users", emulator.base_url()))
        .body(Bytes::new())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    let status = response.status();
    response.into_body().collect().await.unwrap();
    status
}

#[tokio::test]
async fn the_password_grant_gets_a_token_the_api_accepts() {
    let emulator = emulator(Duration::from_secs(3600)).await;
    let tokens = cache(&emulator);
    let bearer = tokens.bearer().await.unwrap();
    assert!(bearer.expires_at().is_some());

    assert_eq!(list_users(&emulator, &tokens).await, StatusCode::OK);
    assert_eq!(token_calls(&emulator), [(GrantType::Password, Some(200))]);
    // A 401 to its token would name the user and the client, no secret.
    assert_eq!(
        tokens.credential(),
        identity_call::CredentialSent::PasswordGrant {
            username: USERNAME.to_owned(),
            client_id: CLIENT_ID.to_owned(),
        }
    );
    emulator.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_token_is_refreshed_with_the_refresh_token_before_it_expires() {
    let emulator = emulator(Duration::from_secs(120)).await;
    let tokens = cache(&emulator);
    let first = tokens.bearer().await.unwrap();

    tokio::time::advance(Duration::from_secs(50)).await;
    assert_eq!(tokens.bearer().await.unwrap().id(), first.id());
    tokio::time::advance(Duration::from_secs(11)).await; // 60 s before expiry
    // Due: served at once, while the refresh runs in the background.
    assert_eq!(tokens.bearer().await.unwrap().id(), first.id());
    // Without the due token, a caller waits for that same refresh.
    tokens.invalidate_if(&first);
    let second = tokens.bearer().await.unwrap();
    assert_ne!(second.id(), first.id());
    assert_ne!(
        second.secret().expose_secret(),
        first.secret().expose_secret()
    );

    assert_eq!(
        token_calls(&emulator),
        [
            (GrantType::Password, Some(200)),
            (GrantType::RefreshToken, Some(200))
        ]
    );
    assert_eq!(list_users(&emulator, &tokens).await, StatusCode::OK);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_refused_refresh_token_falls_back_to_the_password_grant() {
    let emulator = emulator(Duration::from_secs(3600)).await;
    let provider = grant(&emulator, PASSWORD, CLIENT_SECRET);
    provider.fetch_token().await.unwrap();
    emulator.reset(); // forgets every issued token, the refresh token too

    let token = provider.fetch_token().await.unwrap();
    assert!(!token.secret.expose_secret().is_empty());
    assert_eq!(
        token_calls(&emulator),
        [
            (GrantType::RefreshToken, Some(400)),
            (GrantType::Password, Some(200))
        ]
    );
    // The new refresh token is used next time.
    provider.fetch_token().await.unwrap();
    assert_eq!(
        token_calls(&emulator)[2],
        (GrantType::RefreshToken, Some(200))
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_are_a_typed_error_naming_the_cause() {
    let emulator = emulator(Duration::from_secs(3600)).await;

    let error = grant(&emulator, "not-the-password-3c1e", CLIENT_SECRET)
        .fetch_token()
        .await
        .unwrap_err();
    match &error {
        AuthError::Refused {
            grant,
            status,
            code,
            ..
        } => {
            assert_eq!(*grant, GrantType::Password);
            assert_eq!(*status, StatusCode::BAD_REQUEST);
            assert_eq!(*code, OAuthErrorCode::InvalidGrant);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(error.is_credentials_refused());
    assert!(!error.is_retryable());
    let message = error.to_string();
    assert!(message.contains("invalid_grant"), "{message}");
    assert!(message.contains("password"), "{message}");
    assert!(!message.contains("not-the-password-3c1e"), "{message}");

    let error = grant(&emulator, PASSWORD, "not-the-secret-77aa")
        .fetch_token()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, AuthError::Refused { code: OAuthErrorCode::InvalidClient, status, .. } if *status == StatusCode::UNAUTHORIZED),
        "{error:?}"
    );
    let message = format!("{error} {error:?}");
    assert!(message.contains("invalid_client"), "{message}");
    assert!(!message.contains("not-the-secret-77aa"), "{message}");
    emulator.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_thousand_calls_through_an_expired_token_make_one_token_request() {
    let emulator = emulator(Duration::from_secs(120)).await;
    let tokens = cache(&emulator);
    let expired = tokens.bearer().await.unwrap();
    tokio::time::advance(Duration::from_secs(180)).await;
    emulator.clear_requests();

    // The API under the layer answers the Authorization header it got.
    let api = tower::service_fn(|request: Request<Bytes>| async move {
        let header = request.headers()[http::header::AUTHORIZATION].clone();
        Ok::<_, std::convert::Infallible>(Response::new(header))
    });
    let service = AuthLayer::new(tokens.clone()).layer(api);
    let calls = (0..1000).map(|_| service.clone().oneshot(Request::new(Bytes::new())));
    let answers = join_all(calls).await;

    assert_eq!(
        token_calls(&emulator),
        [(GrantType::RefreshToken, Some(200))]
    );
    let current = tokens.fresh().unwrap();
    assert_ne!(current.id(), expired.id());
    for answer in answers {
        assert_eq!(answer.unwrap().body(), current.header_value());
    }
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_revoked_token_is_replaced_and_the_call_replayed_after_a_401() {
    for through_retry in [false, true] {
        let emulator = emulator(Duration::from_secs(3600)).await;
        let tokens = cache(&emulator);
        let revoked = tokens.bearer().await.unwrap();
        emulator.reset(); // the cached token is now unknown to the service

        let status = if through_retry {
            let service = tower::ServiceBuilder::new()
                .layer(identity_transport::RetryLayer::default())
                .layer(AuthLayer::new(tokens.clone()))
                .service(HttpClient::new().unwrap());
            send_list_users(&emulator, service).await
        } else {
            list_users(&emulator, &tokens).await
        };
        assert_eq!(
            status,
            StatusCode::OK,
            "through the retry layer: {through_retry}"
        );
        let calls: Vec<(Option<String>, Option<u16>)> = emulator
            .requests()
            .into_iter()
            .map(|request| (request.operation, request.status))
            .collect();
        assert_eq!(
            calls,
            [
                (Some("ListUsers".to_owned()), Some(401)),
                (Some("Token".to_owned()), Some(400)), // the refresh token went too
                (Some("Token".to_owned()), Some(200)),
                (Some("ListUsers".to_owned()), Some(200)),
            ]
        );
        assert_ne!(tokens.fresh().unwrap().id(), revoked.id());
        emulator.shutdown().await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_token_endpoint_s_429_is_retried_after_retry_after() {
    let emulator = emulator(Duration::from_secs(3600)).await;
    emulator.set_faults(vec![FaultRule {
        operation: Some("Token".into()),
        fault: Fault::Status {
            status: 429,
            retry_after: Some("1".into()),
        },
        when: FaultWhen::Next { n: 1 },
    }]);
    let tokens = cache(&emulator);
    let started = tokio::time::Instant::now();
    tokens.bearer().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited Retry-After"
    );
    assert_eq!(
        token_calls(&emulator),
        [
            (GrantType::Password, Some(429)),
            (GrantType::Password, Some(200))
        ]
    );
    emulator.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_token_endpoint_s_5xx_is_retried_a_bounded_number_of_times() {
    let emulator = emulator(Duration::from_secs(3600)).await;
    emulator.set_faults(vec![FaultRule::new(
        Some("Token"),
        Fault::Status {
            status: 503,
            retry_after: None,
        },
    )]);
    let provider = grant(&emulator, PASSWORD, CLIENT_SECRET);
    let error = provider.fetch_token().await.unwrap_err();
    assert!(
        matches!(&error, AuthError::Status { status, .. } if status.as_u16() == 503),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(token_calls(&emulator).len(), 3);
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_a_typed_error() {
    // A port nothing listens on: bind one, then free it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/oauth2/token", listener.local_addr().unwrap());
    drop(listener);
    let credentials = PasswordGrantCredentials::new(
        &url,
        USERNAME,
        SecretString::from(PASSWORD),
        CLIENT_ID,
        SecretString::from(CLIENT_SECRET),
    )
    .unwrap();
    let provider: Arc<dyn TokenProvider> =
        Arc::new(PasswordGrant::new(credentials, HttpClient::new().unwrap()));
    let error = provider.fetch_token().await.unwrap_err();
    assert!(matches!(error, AuthError::Unreachable { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert!(std::error::Error::source(&error).is_some());
}
