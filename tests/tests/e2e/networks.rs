//! Corporate networks: which calls of the facade go through a proxy (the
//! configured one, else the standard variables, given as a map so that no
//! test changes the process environment), with which credentials, and
//! which go directly (loopback always, `NO_PROXY`, the variables turned off).
//!
//! The proxy is a recording CONNECT proxy that tunnels every CONNECT to the
//! emulator: a client of `api.example.test` reaches the emulator through
//! it, and nothing is resolved or reached outside the machine. A service
//! reached directly without being loopback is `0.0.0.0`, which stands for
//! this machine (connecting to it reaches the emulator on 127.0.0.1) but is
//! no loopback address.

use std::collections::HashMap;

use finbourne_identity::{ErrorKind, IdentityClientBuilder, ProxyEnv};
use identity_emulator::Emulator;

use crate::support::recording_proxy::{Connect, ConnectProxy};
use crate::support::{self, TOKEN};

/// The standard proxy variables of `pairs`.
fn vars(pairs: &[(&str, String)]) -> ProxyEnv {
    let map: HashMap<&str, String> = pairs.iter().cloned().collect();
    ProxyEnv::from_lookup(|name| map.get(name).cloned())
}

/// A client of the emulator under another host name (plain http, so
/// allowed explicitly).
fn remote(emulator: &Emulator, host: &str) -> IdentityClientBuilder {
    support::builder(&format!(
        "http://{host}:{}/identity",
        emulator.addr().port()
    ))
    .allow_insecure_http(true)
    .access_token(TOKEN)
}

fn basic(credentials: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

/// An emulator that answers to any host name (`allow_remote`): the tests
/// reach it under a remote-looking name through a proxy, which its guard
/// against DNS rebinding refuses otherwise. It still listens on loopback.
async fn remote_emulator() -> finbourne_identity::testing::TestEmulator {
    support::emulator_with(identity_emulator::EmulatorConfig {
        allow_remote: true,
        ..identity_emulator::EmulatorConfig::default()
    })
    .await
}

#[tokio::test]
async fn a_loopback_service_is_reached_directly_whatever_the_proxies() {
    let emulator = remote_emulator().await;
    let proxy = ConnectProxy::start(emulator.addr()).await;
    let clients = [
        support::builder(&emulator.base_url())
            .access_token(TOKEN)
            .proxy_address(proxy.url()),
        support::builder(&emulator.base_url())
            .access_token(TOKEN)
            .proxy_env(vars(&[
                ("HTTP_PROXY", proxy.url()),
                ("ALL_PROXY", proxy.url()),
            ])),
        support::builder(&format!(
            "http://localhost:{}/identity",
            emulator.addr().port()
        ))
        .access_token(TOKEN)
        .proxy_address(proxy.url()),
    ];
    for client in clients {
        client
            .build()
            .unwrap()
            .users()
            .list_users()
            .send()
            .await
            .unwrap();
    }
    assert_eq!(proxy.connects(), []);
}

#[tokio::test]
async fn a_remote_service_goes_through_the_configured_proxy_with_its_credentials() {
    let emulator = remote_emulator().await;
    let proxy = ConnectProxy::start(emulator.addr()).await;
    let builders = [
        remote(&emulator, "api.example.test").proxy_address(proxy.url_with("ann", "s3:cr@t")),
        remote(&emulator, "api.example.test")
            .proxy_address(proxy.url())
            .proxy_username("ann")
            .proxy_password("s3:cr@t"),
    ];
    for builder in builders {
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains("s3:cr@t"));
        client.users().list_users().send().await.unwrap();
    }
    let expected = Connect {
        target: format!("api.example.test:{}", emulator.addr().port()),
        authorization: Some(basic("ann:s3:cr@t")),
    };
    assert_eq!(proxy.connects(), [expected.clone(), expected]);
    assert_eq!(support::api_requests(&emulator).len(), 2);
}

#[tokio::test]
async fn the_proxy_variables_route_the_calls_and_no_proxy_is_honoured() {
    let emulator = remote_emulator().await;
    let proxy = ConnectProxy::start(emulator.addr()).await;
    let https_proxy = ConnectProxy::start(emulator.addr()).await;
    let env = || {
        vars(&[
            ("http_proxy", proxy.url_with("ann", "pa ss")),
            ("HTTPS_PROXY", https_proxy.url()),
            ("NO_PROXY", "0.0.0.0, .internal.test".to_owned()),
        ])
    };
    let through = remote(&emulator, "api.example.test")
        .proxy_env(env())
        .build()
        .unwrap();
    through.users().list_users().send().await.unwrap();
    assert_eq!(
        proxy.connects(),
        [Connect {
            target: format!("api.example.test:{}", emulator.addr().port()),
            authorization: Some(basic("ann:pa ss")),
        }]
    );
    let direct = remote(&emulator, "0.0.0.0")
        .proxy_env(env())
        .build()
        .unwrap();
    direct.users().list_users().send().await.unwrap();
    assert_eq!(proxy.connects().len(), 1, "NO_PROXY is honoured");
    assert_eq!(
        https_proxy.connects(),
        [],
        "HTTPS_PROXY is for https:// only"
    );

    // Without NO_PROXY, the same host goes through the proxy.
    let without = remote(&emulator, "0.0.0.0")
        .proxy_env(vars(&[("ALL_PROXY", proxy.url())]))
        .build()
        .unwrap();
    without.users().list_users().send().await.unwrap();
    assert_eq!(
        proxy.connects()[1].target,
        format!("0.0.0.0:{}", emulator.addr().port())
    );
}

#[tokio::test]
async fn the_configured_proxy_wins_over_the_variables() {
    let emulator = remote_emulator().await;
    let configured = ConnectProxy::start(emulator.addr()).await;
    let from_env = ConnectProxy::start(emulator.addr()).await;
    let client = remote(&emulator, "api.example.test")
        .proxy_address(configured.url())
        .proxy_env(vars(&[("ALL_PROXY", from_env.url())]))
        .build()
        .unwrap();
    client.users().list_users().send().await.unwrap();
    assert_eq!(configured.connects().len(), 1);
    assert_eq!(from_env.connects(), []);
}

#[tokio::test]
async fn proxies_of_the_environment_turned_off_means_direct() {
    let emulator = remote_emulator().await;
    let proxy = ConnectProxy::start(emulator.addr()).await;
    let client = remote(&emulator, "0.0.0.0")
        .proxy_env(vars(&[("ALL_PROXY", proxy.url())]))
        .system_proxy(false)
        .build()
        .unwrap();
    client.users().list_users().send().await.unwrap();
    assert_eq!(proxy.connects(), []);
}

#[tokio::test]
async fn an_unusable_proxy_is_refused_at_build_time_naming_its_setting() {
    let emulator = remote_emulator().await;
    let socks = "socks5://ann:hunter2@127.0.0.1:1080".to_owned();
    for (builder, named) in [
        (
            remote(&emulator, "api.example.test").proxy_address(&socks),
            "FBN_PROXY_ADDRESS",
        ),
        (
            remote(&emulator, "api.example.test").proxy_env(vars(&[("ALL_PROXY", socks.clone())])),
            "ALL_PROXY",
        ),
    ] {
        let error = builder.build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config);
        let message = support::soak::display_chain(&error);
        assert!(message.contains(named), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}
