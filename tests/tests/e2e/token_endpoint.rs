//! A token endpoint that fails, seen through every wrapper: a refused
//! connection is found by `Error::transport()` and `kind()`; a dead
//! endpoint costs one call the token endpoint's own retries, not those of
//! the call as well; a throttled endpoint is reported as throttled.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use finbourne_identity::layers::auth::{AuthLayer, PasswordGrant, TokenCache};
use finbourne_identity::layers::config::PasswordGrantCredentials;
use finbourne_identity::layers::transport::{
    HttpClient, RetryConfig, RetryLayer, TransportErrorKind,
};
use finbourne_identity::{BaseUrl, ErrorKind, SecretString, UsersApi};
use identity_emulator::{Fault, FaultRule};
use tower::ServiceBuilder;

use crate::support;

/// A loopback port nothing listens on.
fn closed_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A token endpoint that accepts each connection and closes it at once,
/// counting them.
async fn dead_endpoint() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (addr, accepted)
}

fn credentials(token_url: &str) -> PasswordGrantCredentials {
    PasswordGrantCredentials::new(
        token_url,
        "robot@acme.com",
        SecretString::from("the password"),
        "the-client",
        SecretString::from("the client secret"),
    )
    .unwrap()
}

#[tokio::test]
async fn a_refused_connection_to_the_token_endpoint_is_found_through_the_auth_error() {
    let emulator = support::emulator().await;
    let client = support::builder(&emulator.base_url())
        .token_url(format!("http://{}/oauth2/token", closed_port()))
        .username("robot@acme.com")
        .password("the password")
        .client_id("the-client")
        .client_secret("the client secret")
        .build()
        .unwrap();
    let error = client.users().get_user("00u1").send().await.unwrap_err();
    assert!(error.auth().is_some(), "{error:?}");
    assert_eq!(
        error.transport().map(|transport| transport.kind()),
        Some(TransportErrorKind::Connect),
        "{error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::NoAnswer);
    assert!(!error.may_have_been_sent());
    assert!(support::api_requests(&emulator).is_empty());
}

#[tokio::test]
async fn a_dead_token_endpoint_costs_one_call_the_endpoints_own_retries_only() {
    let emulator = support::emulator().await;
    let (addr, accepted) = dead_endpoint().await;
    let http = HttpClient::new().unwrap();
    let quick = || {
        RetryConfig::default().backoff(
            finbourne_identity::layers::transport::retry::Backoff::exponential(
                Duration::from_millis(1),
                Duration::from_millis(5),
            ),
        )
    };
    let grant = PasswordGrant::new(
        credentials(&format!("http://{addr}/oauth2/token")),
        tower::Layer::layer(&RetryLayer::new(quick()), http.clone()),
    );
    // A failed fetch is not remembered: an outer retry that fetched again
    // would open connections again, and be counted.
    let tokens = TokenCache::builder(Arc::new(grant))
        .retry_failed_refresh_after(Duration::ZERO)
        .build();
    let stack = ServiceBuilder::new()
        .layer(RetryLayer::new(quick()))
        .layer(AuthLayer::new(tokens))
        .service(http);
    let users = UsersApi::new(stack, BaseUrl::parse(&emulator.base_url()).unwrap());
    let error = users.get_user("00u1").send().await.unwrap_err();
    assert!(
        support::soak::display_chain(&error).contains("token endpoint"),
        "{error:?}"
    );
    // One attempt and the three transient retries of the token request;
    // not four times that.
    assert_eq!(accepted.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_throttled_token_endpoint_is_reported_as_throttled_not_as_a_timeout() {
    let emulator = support::emulator().await;
    emulator.set_faults(vec![FaultRule::new(
        Some("Token"),
        Fault::Status {
            status: 429,
            retry_after: Some("3600".into()),
        },
    )]);
    let client = support::password_client(&emulator);
    // At once: a wait past the fetch's deadline (30 s) is not waited at
    // all. (The guard fails the test instead of letting it hang.)
    let call = client.users().get_user("00u1").send();
    let error = tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("ended at once, not at a timeout")
        .unwrap_err();
    assert!(error.is_throttled(), "{error:?}");
    assert!(!error.is_timeout(), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Throttled);
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert!(
        support::soak::display_chain(&error).contains("3600 s"),
        "{error:?}"
    );
}
