//! The layers alone: `identity-users` over a tower stack a consumer composes
//! themselves, here a plain hyper-util client with only our auth layer, to
//! show that the crates do not need the facade.

use bytes::Bytes;
use identity_auth::{AuthLayer, StaticToken, TokenCache};
use identity_transport::HttpClient;
use identity_users::{BaseUrl, UsersApi};
use std::sync::Arc;
use tower::ServiceBuilder;

use crate::support;

#[tokio::test]
async fn identity_users_runs_over_a_stack_of_your_own() {
    let emulator = support::emulator().await;
    let tokens = TokenCache::new(Arc::new(StaticToken::new(support::TOKEN.to_owned().into())));
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = calls.clone();
    let stack = ServiceBuilder::new()
        // A layer of the consumer's own: counts calls.
        .map_request(move |request: http::Request<Bytes>| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            request
        })
        .layer(AuthLayer::new(tokens))
        .service(HttpClient::new().unwrap());
    let users = UsersApi::new(stack, BaseUrl::parse(&emulator.base_url()).unwrap());

    let created = users
        .create_user(&identity_models::CreateUserRequest::personal(
            "Lou",
            "Layer",
            "lou@example.com",
        ))
        .send()
        .await
        .unwrap();
    let fetched = users.get_user(&created.id).send().await.unwrap();
    assert_eq!(fetched.login, "lou@example.com");
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);
    let log = emulator.requests();
    assert!(
        log.iter()
            .all(|request| !request.headers.contains_key("x-lusid-sdk-language")),
        "no facade headers: only the layers we chose"
    );
}

#[tokio::test]
async fn the_facade_takes_a_layer_of_yours_and_hands_out_its_service() {
    let emulator = support::emulator().await;
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = calls.clone();
    let client =
        support::client(&emulator.base_url()).with_layer(tower::layer::layer_fn(move |inner| {
            let counted = counted.clone();
            tower::util::MapRequest::new(inner, move |request: http::Request<Bytes>| {
                counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                request
            })
        }));
    client.users().list_users().send().await.unwrap();
    client.users().list_runnable_users().send().await.unwrap();
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 2);

    // The composed service, used directly.
    use tower::ServiceExt;
    let request = http::Request::get(format!("{}/api/users", emulator.base_url()))
        .body(Bytes::new())
        .unwrap();
    let response = client.service().clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
}

/// Code written against `IdentityClient` handed a `tower-test` mock: the
/// test sees each request and writes each answer.
#[tokio::test]
async fn an_identity_client_over_a_tower_test_mock() {
    use finbourne_identity::IdentityClient;
    use http_body_util::Full;

    let (mock, mut handle) =
        tower_test::mock::pair::<http::Request<Bytes>, http::Response<Full<Bytes>>>();
    let base_url = finbourne_identity::BaseUrl::parse("https://acme.lusid.com/identity").unwrap();
    let client = IdentityClient::from_service(mock, base_url);
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.users().delete_user("00u1").purge(true).send().await }
    });
    let (request, respond) = handle.next_request().await.unwrap();
    assert_eq!(request.method(), http::Method::DELETE);
    assert_eq!(
        request.uri(),
        "https://acme.lusid.com/identity/api/users/00u1?purge=true"
    );
    respond.send_response(
        http::Response::builder()
            .status(204)
            .body(Full::new(Bytes::new()))
            .unwrap(),
    );
    call.await.unwrap().unwrap();
}
