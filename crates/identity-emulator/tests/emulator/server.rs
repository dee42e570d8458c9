//! The server itself: HTTP/2, shutdown, drop, the address rule, the CLI flags.

use std::time::Duration;

use clap::Parser;
use http::{Method, StatusCode};
use identity_emulator::{EmulatorArgs, EmulatorConfig, EmulatorError, Fault, FaultRule};

use crate::common::{Http, PATIENCE, TestEmulator, personal};

#[tokio::test]
async fn serves_cleartext_http2_with_prior_knowledge() {
    let mut emulator = TestEmulator::start().await;
    emulator.http = Http::http2();
    let reply = emulator
        .send(
            emulator
                .api(Method::POST, "users")
                .json(&personal("ada@example.com")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("lusid-meta-requestId").is_some());
    let reply = emulator
        .send(emulator.api(Method::GET, "users/..%2Froles"))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn urls_point_at_the_bound_port() {
    let emulator = TestEmulator::start().await;
    let port = emulator.emulator.addr().port();
    assert_ne!(port, 0);
    assert_eq!(
        emulator.emulator.root_url(),
        format!("http://127.0.0.1:{port}")
    );
    assert_eq!(
        emulator.emulator.base_url(),
        format!("http://127.0.0.1:{port}/identity")
    );
    assert_eq!(
        emulator.emulator.token_url(),
        format!("http://127.0.0.1:{port}/oauth2/token")
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_lets_a_request_in_flight_finish() {
    let emulator = TestEmulator::start().await;
    emulator.emulator.set_faults(vec![FaultRule::new(
        Some("ListUsers"),
        Fault::Delay { ms: 2_000 },
    )]);
    let call = emulator.api(Method::GET, "users");
    let http = emulator.http.clone();
    let in_flight = tokio::spawn(async move { http.try_send(&call).await });
    // Let the request reach the server and start its delay.
    while emulator.emulator.requests().is_empty() {
        tokio::task::yield_now().await;
    }
    let addr = emulator.emulator.addr();
    emulator.emulator.shutdown().await;
    let reply = in_flight.await.unwrap().unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let emulator = TestEmulator::start().await;
    let addr = emulator.emulator.addr();
    drop(emulator);
    let stopped = tokio::time::timeout(PATIENCE, async {
        while tokio::net::TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(stopped.is_ok(), "still listening on {addr}");
}

#[tokio::test]
async fn non_loopback_addresses_need_allow_remote() {
    let config = EmulatorConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        ..EmulatorConfig::default()
    };
    let error = identity_emulator::start(config.clone()).await.unwrap_err();
    assert!(
        matches!(error, EmulatorError::NonLoopbackBind { .. }),
        "{error:?}"
    );
    // Reachable by other machines, it takes no credential anyone can know.
    let public = EmulatorConfig {
        allow_remote: true,
        access_tokens: vec!["tiny-tok".into()],
        ..config.clone()
    };
    let error = identity_emulator::start(public.clone()).await.unwrap_err();
    assert!(error.is_configuration());
    let message = error.to_string();
    for named in [
        "default password",
        "default client secret",
        "1 static token(s) shorter than 16",
        "--password (IDENTITY_EMULATOR_PASSWORD)",
        "--client-secret (IDENTITY_EMULATOR_CLIENT_SECRET)",
        "--access-token (IDENTITY_EMULATOR_ACCESS_TOKEN)",
    ] {
        assert!(message.contains(named), "{named}: {message}");
    }
    assert!(!message.contains("tiny-tok"), "never the value: {message}");
    let own = EmulatorConfig {
        password: "a-password-of-our-own".into(),
        client_secret: "a-client-secret-of-our-own".into(),
        access_tokens: vec!["a-static-token-long-enough".into()],
        ..public.clone()
    };
    let allowed = identity_emulator::start(own).await.unwrap();
    // The URLs are loopback ones, which a client here can use.
    let port = allowed.addr().port();
    assert_eq!(allowed.root_url(), format!("http://127.0.0.1:{port}"));
    allowed.shutdown().await;
    // On a loopback address only this machine can connect: the public
    // defaults are fine there.
    let loopback = identity_emulator::start(EmulatorConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..public
    })
    .await
    .unwrap();
    loopback.shutdown().await;
}

#[test]
fn cli_flags_build_the_config_and_hide_secrets_from_debug() {
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        emulator: EmulatorArgs,
    }
    let defaults = Cli::try_parse_from(["emulator"]).unwrap().emulator;
    assert_eq!(defaults.bind.to_string(), "127.0.0.1:8080");
    assert_eq!(defaults.token_ttl_secs, 3600);
    let cli = Cli::try_parse_from([
        "emulator",
        "--bind",
        "127.0.0.1:0",
        "--username",
        "u",
        "--password",
        "p4ssw0rd-secret",
        "--client-id",
        "c",
        "--client-secret",
        "client-s3cret",
        "--access-token",
        "static-s3cret",
        "--state-file",
        "/tmp/state.json",
        "--allow-remote",
        "--fault",
        r#"{"fault":{"kind":"closeBeforeProcessing"},"when":{"kind":"next","n":1}}"#,
    ])
    .unwrap();
    let debug = format!("{:?}", cli.emulator);
    for secret in ["p4ssw0rd-secret", "client-s3cret", "static-s3cret"] {
        assert!(!debug.contains(secret), "{debug}");
    }
    let config = cli.emulator.into_config();
    assert_eq!(
        (config.username.as_str(), config.password.as_str()),
        ("u", "p4ssw0rd-secret")
    );
    assert!(config.allow_remote);
    assert_eq!(config.faults[0].fault, Fault::CloseBeforeProcessing);
    let bad_fault = Cli::try_parse_from([
        "emulator",
        "--fault",
        r#"{"fault":{"kind":"delay","ms":1},"when":{"kind":"every","n":0}}"#,
    ]);
    assert!(bad_fault.is_err());
}
