//! Requests through a recording CONNECT proxy on loopback: which targets
//! are tunnelled (explicit proxy, the standard variables given as a map,
//! `NO_PROXY`, loopback), with which credentials, over TCP or TLS.
//!
//! Remote-looking targets are names such as `api.example.test`: the test
//! proxy connects every tunnel to a loopback server, so nothing is resolved
//! or reached outside the machine. A target that must be reached directly
//! without being loopback is `0.0.0.0`, which stands for this machine
//! (connecting to it reaches a server on 127.0.0.1) but is no loopback
//! address, so only `NO_PROXY` or a disabled proxy keeps it off the proxy.

use std::collections::HashMap;
use std::net::SocketAddr;

use base64::Engine;
use http_body_util::BodyExt;
use identity_transport::{HttpClient, ProxyConfig, ProxyEnv, TransportError, TransportErrorKind};
use tower::{Service, ServiceExt};

use crate::support::{self, ProxyOptions};

fn proxy_config(proxy: &support::ConnectProxy) -> ProxyConfig {
    ProxyConfig::new(format!("http://{}", proxy.addr).parse().unwrap())
}

/// The variables of `pairs`, as the process environment would give them.
fn env(pairs: &[(&str, String)]) -> ProxyEnv {
    let map: HashMap<&str, String> = pairs.iter().cloned().collect();
    ProxyEnv::from_lookup(|name| map.get(name).cloned())
}

fn client_with_env(pairs: &[(&str, String)]) -> HttpClient {
    HttpClient::builder().proxy_env(env(pairs)).build().unwrap()
}

/// A proxy that tunnels every CONNECT to `upstream`, requiring `expected`.
async fn proxy_to(upstream: SocketAddr, expected: Option<String>) -> support::ConnectProxy {
    support::start_proxy(ProxyOptions {
        expected,
        upstream: Some(upstream),
        tls: None,
    })
    .await
}

async fn call(client: &mut HttpClient, uri: &str) -> Result<String, TransportError> {
    let response = client.ready().await?.call(support::get(uri)).await?;
    let body = response.into_body().collect().await?.to_bytes();
    Ok(String::from_utf8(body.to_vec()).unwrap())
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

const HELLO: &str = "hello over HTTP/1.1";

#[tokio::test]
async fn a_loopback_target_is_never_tunnelled() {
    let target = support::hello_server().await;
    let proxy = proxy_to(target, None).await;
    let proxy_url = format!("http://{}", proxy.addr);
    let clients = [
        HttpClient::builder()
            .proxy(proxy_config(&proxy))
            .build()
            .unwrap(),
        client_with_env(&[("HTTP_PROXY", proxy_url.clone()), ("ALL_PROXY", proxy_url)]),
    ];
    for mut client in clients {
        for host in ["127.0.0.1", "localhost"] {
            let uri = format!("http://{host}:{}/api/users", target.port());
            assert_eq!(call(&mut client, &uri).await.unwrap(), HELLO, "{uri}");
        }
    }
    assert_eq!(proxy.targets(), Vec::<String>::new());
}

#[tokio::test]
async fn a_remote_looking_target_goes_through_the_proxy_and_reuses_the_tunnel() {
    let target = support::hello_server().await;
    let proxy = proxy_to(target, None).await;
    let mut client = HttpClient::builder()
        .proxy(proxy_config(&proxy))
        .build()
        .unwrap();
    let uri = format!("http://api.example.test:{}/api/users", target.port());
    assert_eq!(call(&mut client, &uri).await.unwrap(), HELLO);
    assert_eq!(call(&mut client, &uri).await.unwrap(), HELLO);
    assert_eq!(
        proxy.targets(),
        [format!("api.example.test:{}", target.port())]
    );
    assert_eq!(proxy.tunnels(), 1, "the pooled connection is reused");
}

#[tokio::test]
async fn the_proxy_variables_choose_the_proxy_and_no_proxy_is_honoured() {
    let target = support::hello_server().await;
    let port = target.port();
    let proxy = proxy_to(target, None).await;
    let proxy_url = format!("http://{}", proxy.addr);

    // HTTP_PROXY carries http:// targets, except those of NO_PROXY.
    let mut client = client_with_env(&[
        ("http_proxy", proxy_url.clone()),
        ("no_proxy", "0.0.0.0, .internal.test".to_owned()),
    ]);
    let direct = format!("http://0.0.0.0:{port}/");
    assert_eq!(call(&mut client, &direct).await.unwrap(), HELLO);
    assert_eq!(
        proxy.targets(),
        Vec::<String>::new(),
        "NO_PROXY is honoured"
    );
    let remote = format!("http://api.example.test:{port}/");
    assert_eq!(call(&mut client, &remote).await.unwrap(), HELLO);
    assert_eq!(proxy.targets(), [format!("api.example.test:{port}")]);

    // Without NO_PROXY the same target is tunnelled; an entry with a port
    // keeps that port only off the proxy.
    for (no_proxy, tunnelled) in [
        (None, true),
        (Some(format!("0.0.0.0:{port}")), false),
        (Some(format!("0.0.0.0:{}", port.wrapping_add(1))), true),
    ] {
        let mut vars = vec![("HTTP_PROXY", proxy_url.clone())];
        vars.extend(no_proxy.clone().map(|value| ("NO_PROXY", value)));
        let mut client = client_with_env(&vars);
        let before = proxy.targets().len();
        assert_eq!(call(&mut client, &direct).await.unwrap(), HELLO);
        assert_eq!(
            proxy.targets().len() - before,
            usize::from(tunnelled),
            "NO_PROXY {no_proxy:?}"
        );
    }

    // HTTPS_PROXY does not carry http:// targets; ALL_PROXY does.
    let mut https_only = client_with_env(&[("HTTPS_PROXY", proxy_url.clone())]);
    let before = proxy.targets().len();
    assert_eq!(call(&mut https_only, &direct).await.unwrap(), HELLO);
    assert_eq!(proxy.targets().len(), before);
    let mut all = client_with_env(&[("ALL_PROXY", proxy_url)]);
    assert_eq!(call(&mut all, &direct).await.unwrap(), HELLO);
    assert_eq!(proxy.targets().len(), before + 1);
}

#[tokio::test]
async fn proxy_variables_off_means_direct() {
    let target = support::hello_server().await;
    let proxy = proxy_to(target, None).await;
    let proxy_url = format!("http://{}", proxy.addr);
    let mut client = HttpClient::builder()
        .proxy_env(env(&[("ALL_PROXY", proxy_url)]))
        .system_proxy(false)
        .build()
        .unwrap();
    let uri = format!("http://0.0.0.0:{}/", target.port());
    assert_eq!(call(&mut client, &uri).await.unwrap(), HELLO);
    assert_eq!(proxy.targets(), Vec::<String>::new());
}

#[tokio::test]
async fn credentials_in_the_proxy_url_reach_the_proxy() {
    let target = support::hello_server().await;
    let expected = basic("ann", "s3cr:t");
    let proxy = proxy_to(target, Some(expected.clone())).await;
    let url = format!("http://ann:s3cr%3At@{}", proxy.addr);
    let clients = [
        HttpClient::builder()
            .proxy(ProxyConfig::new(url.parse().unwrap()))
            .build()
            .unwrap(),
        client_with_env(&[("HTTP_PROXY", url)]),
    ];
    for mut client in clients {
        let debug = format!("{client:?}");
        assert!(
            !debug.contains("s3cr") && !debug.contains(&expected[6..]),
            "{debug}"
        );
        let uri = format!("http://api.example.test:{}/", target.port());
        assert_eq!(call(&mut client, &uri).await.unwrap(), HELLO);
    }
    assert_eq!(
        proxy.authorizations(),
        [Some(expected.clone()), Some(expected)]
    );
}

#[tokio::test]
async fn credentials_given_apart_are_sent_to_the_proxy() {
    let target = support::hello_server().await;
    let proxy = proxy_to(target, Some(basic("ann", "s3cret"))).await;
    let config = proxy_config(&proxy).credentials("ann", "s3cret".to_string());
    let mut client = HttpClient::builder().proxy(config).build().unwrap();
    let debug = format!("{client:?}");
    assert!(
        !debug.contains("s3cret") && !debug.contains(&basic("ann", "s3cret")[6..]),
        "{debug}"
    );
    let uri = format!("http://api.example.test:{}/", target.port());
    assert_eq!(call(&mut client, &uri).await.unwrap(), HELLO);
    assert_eq!(proxy.tunnels(), 1);
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_a_proxy_error() {
    let target = support::hello_server().await;
    let proxy = proxy_to(target, Some(basic("ann", "s3cret"))).await;
    let uri = format!("http://api.example.test:{}/", target.port());
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
        assert!(chain.contains(&proxy.addr.to_string()), "{chain}");
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
    let error = call(&mut client, "http://api.example.test:9/")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Connect, "{error}");
    assert!(error.to_string().contains("proxy"), "{error}");
    assert!(!error.may_have_been_sent());
}

#[tokio::test]
async fn an_https_proxy_is_reached_over_tls_and_tls_runs_inside_its_tunnel() {
    let pki = support::TestPki::new(&["127.0.0.1", "api.example.test"], &[b"h2", b"http/1.1"]);
    let target = support::tls_hello_server(&pki).await;
    let proxy = support::start_proxy(ProxyOptions {
        expected: Some(basic("ann", "s3cret")),
        upstream: Some(target),
        tls: Some(pki.server.clone()),
    })
    .await;
    let root = pki.root_file();
    let address = format!("https://ann:s3cret@127.0.0.1:{}", proxy.addr.port());
    let mut client = HttpClient::builder()
        .extra_root_certificate_file(root.path())
        .proxy(ProxyConfig::new(address.parse().unwrap()))
        .build()
        .unwrap();
    let uri = format!("https://api.example.test:{}/api/users", target.port());
    assert_eq!(
        call(&mut client, &uri).await.unwrap(),
        "hello over HTTP/2.0"
    );
    assert_eq!(
        proxy.targets(),
        [format!("api.example.test:{}", target.port())]
    );

    // A proxy whose certificate is not trusted is a TLS error naming it.
    let mut untrusting = HttpClient::builder()
        .proxy(ProxyConfig::new(address.parse().unwrap()))
        .build()
        .unwrap();
    let error = call(&mut untrusting, &uri).await.unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Tls, "{error}");
    assert!(error.to_string().contains("proxy"), "{error}");
    assert!(!error.may_have_been_sent());
    assert_eq!(proxy.targets().len(), 1, "no CONNECT without TLS");
}

#[tokio::test]
async fn an_unusable_proxy_variable_is_refused_at_build_time_naming_it() {
    let error = HttpClient::builder()
        .proxy_env(env(&[(
            "ALL_PROXY",
            "socks5://ann:hunter2@127.0.0.1:1080".to_owned(),
        )]))
        .build()
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("ALL_PROXY"), "{message}");
    assert!(message.contains("socks5"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
    // Off, the variable is not read at all.
    assert!(
        HttpClient::builder()
            .proxy_env(env(&[("ALL_PROXY", "socks5://127.0.0.1:1080".to_owned())]))
            .system_proxy(false)
            .build()
            .is_ok()
    );
}
