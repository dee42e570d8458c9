//! Requests through an HTTP CONNECT proxy on loopback.

use base64::Engine;
use http_body_util::BodyExt;
use identity_transport::{HttpClient, ProxyConfig, TransportError, TransportErrorKind};
use tower::{Service, ServiceExt};

use crate::support;

fn proxy_config(proxy: &support::ConnectProxy) -> ProxyConfig {
    ProxyConfig::new(format!("http://{}", proxy.addr).parse().unwrap())
}

async fn call(client: &mut HttpClient, uri: &str) -> Result<String, TransportError> {
    let response = client.ready().await?.call(support::get(uri)).await?;
    let body = response.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn requests_go_through_the_proxy_and_reuse_the_tunnel() {
    let target = support::hello_server().await;
    let proxy = support::connect_proxy(None).await;
    let mut client = HttpClient::builder()
        .proxy(proxy_config(&proxy))
        .build()
        .unwrap();
    let uri = format!("http://{target}/api/users");
    assert_eq!(
        call(&mut client, &uri).await.unwrap(),
        "hello over HTTP/1.1"
    );
    assert_eq!(
        call(&mut client, &uri).await.unwrap(),
        "hello over HTTP/1.1"
    );
    assert_eq!(proxy.tunnels(), 1, "the pooled connection is reused");
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

#[tokio::test]
async fn credentials_are_sent_to_the_proxy() {
    let target = support::hello_server().await;
    let proxy = support::connect_proxy(Some(basic("ann", "s3cret"))).await;
    let config = proxy_config(&proxy).credentials("ann", "s3cret".to_string());
    let mut client = HttpClient::builder().proxy(config).build().unwrap();
    let debug = format!("{client:?}");
    assert!(
        !debug.contains("s3cret") && !debug.contains(&basic("ann", "s3cret")[6..]),
        "{debug}"
    );
    let uri = format!("http://{target}/");
    assert_eq!(
        call(&mut client, &uri).await.unwrap(),
        "hello over HTTP/1.1"
    );
    assert_eq!(proxy.tunnels(), 1);
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_a_proxy_error() {
    let target = support::hello_server().await;
    let proxy = support::connect_proxy(Some(basic("ann", "s3cret"))).await;
    let uri = format!("http://{target}/");
    for config in [
        proxy_config(&proxy).credentials("ann", "wrong-password".to_string()),
        proxy_config(&proxy),
    ] {
        let mut client = HttpClient::builder().proxy(config).build().unwrap();
        let error = call(&mut client, &uri).await.unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::Proxy, "{error}");
        assert!(!error.may_have_been_sent());
        assert!(!error.is_retryable());
        let chain = format!("{error} {:?}", error);
        assert!(!chain.contains("wrong-password"), "{chain}");
    }
    assert_eq!(proxy.tunnels(), 0);
}

#[tokio::test]
async fn a_proxy_that_is_down_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let config = ProxyConfig::new(format!("http://{addr}").parse().unwrap());
    let mut client = HttpClient::builder().proxy(config).build().unwrap();
    let error = call(&mut client, "http://127.0.0.1:9/").await.unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Connect, "{error}");
    assert!(error.to_string().contains("proxy"), "{error}");
    assert!(!error.may_have_been_sent());
}
