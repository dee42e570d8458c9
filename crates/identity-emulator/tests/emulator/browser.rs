//! A page in the developer's browser cannot drive the emulator: a request
//! naming another host (DNS rebinding) is answered 421 and one from another
//! web origin 403, before the log, the faults, a route or a hook sees it;
//! no CORS preflight succeeds.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use identity_emulator::EmulatorConfig;

use crate::common::{Call, Reply, TOKEN, TestEmulator};

/// Asserts a refusal: its status, a problem document with code 0 and the
/// request id, and no CORS header.
fn assert_refused(reply: &Reply, status: StatusCode) {
    assert_eq!(reply.status, status, "{:?}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(reply.code(), 0);
    assert!(reply.header("lusid-meta-requestId").is_some());
    assert_no_cors_headers(reply);
}

fn assert_no_cors_headers(reply: &Reply) {
    let cors: Vec<_> = reply
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(cors.is_empty(), "{cors:?}");
}

/// A form a page would post cross-origin: no preflight needed.
fn simple_post(call: Call) -> Call {
    call.raw_body("text/plain", "")
}

#[tokio::test]
async fn a_cross_origin_post_to_reset_is_refused_and_the_users_stay() {
    let emulator = TestEmulator::start().await;
    emulator.create_personal("ada@example.com").await;
    for origin in [
        "http://attacker.example",
        // Another server on this machine is another origin too.
        "http://localhost:3000",
        // Sandboxed frames and file:// pages.
        "null",
    ] {
        let call = simple_post(emulator.hook(Method::POST, "reset")).header("origin", origin);
        let reply = emulator.send(call).await;
        assert_refused(&reply, StatusCode::FORBIDDEN);
        assert!(
            reply.value()["detail"].as_str().unwrap().contains("Origin"),
            "{:?}",
            reply.body
        );
    }
    assert_eq!(emulator.emulator.users().len(), 1, "the users are intact");
}

#[tokio::test]
async fn a_cross_origin_api_call_is_refused_even_with_a_token_and_not_logged() {
    let emulator = TestEmulator::start().await;
    let call = emulator
        .api(Method::POST, "users")
        .json(&crate::common::personal("ada@example.com"))
        .header("origin", "https://attacker.example");
    assert_refused(&emulator.send(call).await, StatusCode::FORBIDDEN);
    assert!(emulator.emulator.users().is_empty());
    assert!(emulator.emulator.requests().is_empty(), "refused unlogged");
    let token = Call::new(Method::POST, emulator.emulator.token_url())
        .raw_body("application/x-www-form-urlencoded", "grant_type=password")
        .header("origin", "http://attacker.example");
    assert_refused(&emulator.send(token).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_rebinding_host_is_refused_on_an_api_call_and_on_a_hook() {
    let emulator = TestEmulator::start().await;
    emulator.create_personal("ada@example.com").await;
    emulator.emulator.clear_requests();
    let host = format!("attacker.example:{}", emulator.emulator.addr().port());
    let api = emulator.api(Method::GET, "users").header("host", &host);
    let reply = emulator.send(api).await;
    assert_refused(&reply, StatusCode::MISDIRECTED_REQUEST);
    let problem = reply.value();
    assert_eq!(problem["name"], "MisdirectedRequest");
    assert!(
        problem["detail"].as_str().unwrap().contains(&host),
        "{problem}"
    );
    assert!(
        !problem["instance"]
            .as_str()
            .unwrap()
            .contains("attacker.example"),
        "the problem's link names the emulator, not the host sent: {problem}"
    );
    // A rebound page is same-origin with attacker.example: no Origin on its
    // GETs, and a POST it sends names its own origin.
    let hook = simple_post(emulator.hook(Method::POST, "reset")).header("host", &host);
    assert_refused(&emulator.send(hook).await, StatusCode::MISDIRECTED_REQUEST);
    let requests = emulator.hook(Method::GET, "requests").header("host", &host);
    assert_refused(
        &emulator.send(requests).await,
        StatusCode::MISDIRECTED_REQUEST,
    );
    assert_eq!(emulator.emulator.users().len(), 1, "the users are intact");
    assert!(emulator.emulator.requests().is_empty(), "refused unlogged");
}

/// Sends one request over HTTP/2 to the emulator's socket, with `uri`'s
/// authority as `:authority` whatever it names (as a rebound name would).
async fn send_http2(emulator: &TestEmulator, method: Method, uri: &str) -> StatusCode {
    let stream = tokio::net::TcpStream::connect(emulator.emulator.addr())
        .await
        .unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let _ = response.into_body().collect().await;
    status
}

#[tokio::test]
async fn a_rebinding_authority_is_refused_over_http2() {
    let emulator = TestEmulator::start().await;
    emulator.create_personal("ada@example.com").await;
    let port = emulator.emulator.addr().port();
    let rebound = format!("http://attacker.example:{port}");
    assert_eq!(
        send_http2(
            &emulator,
            Method::GET,
            &format!("{rebound}/identity/api/users")
        )
        .await,
        StatusCode::MISDIRECTED_REQUEST
    );
    assert_eq!(
        send_http2(
            &emulator,
            Method::POST,
            &format!("{rebound}/_emulator/reset")
        )
        .await,
        StatusCode::MISDIRECTED_REQUEST
    );
    assert_eq!(emulator.emulator.users().len(), 1);
    let own = format!("http://localhost:{port}/identity/api/users");
    assert_eq!(
        send_http2(&emulator, Method::GET, &own).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn loopback_names_and_the_own_origins_are_served() {
    let emulator = TestEmulator::start().await;
    let port = emulator.emulator.addr().port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("[::1]:{port}"),
        // Through a port forward or a relay on this machine.
        "localhost:1".to_owned(),
    ] {
        let reply = emulator
            .send(emulator.api(Method::GET, "users").header("host", &host))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{host}");
        assert_no_cors_headers(&reply);
    }
    for origin in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let reply = emulator
            .send(
                emulator
                    .hook(Method::GET, "requests")
                    .header("origin", &origin),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{origin}");
    }
}

#[tokio::test]
async fn no_cors_preflight_succeeds() {
    let emulator = TestEmulator::start().await;
    for path in [
        "_emulator/reset".to_owned(),
        "identity/api/users".to_owned(),
    ] {
        let preflight = Call::new(
            Method::OPTIONS,
            format!("{}/{path}", emulator.emulator.root_url()),
        )
        .header("origin", "http://attacker.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type");
        assert_refused(&emulator.send(preflight).await, StatusCode::FORBIDDEN);
        // Without an Origin (no browser sends that), nothing answers OPTIONS.
        let bare = Call::new(
            Method::OPTIONS,
            format!("{}/{path}", emulator.emulator.root_url()),
        )
        .bearer(TOKEN);
        let reply = emulator.send(bare).await;
        assert!(!reply.status.is_success(), "{path}: {}", reply.status);
        assert_no_cors_headers(&reply);
    }
}

#[tokio::test]
async fn with_allow_remote_any_host_is_served_and_the_hooks_need_a_token() {
    let emulator = TestEmulator::with(EmulatorConfig {
        allow_remote: true,
        ..EmulatorConfig::default()
    })
    .await;
    let host = format!("emulator.internal:{}", emulator.emulator.addr().port());
    let api = emulator.api(Method::GET, "users").header("host", &host);
    assert_eq!(emulator.send(api).await.status, StatusCode::OK);
    let hook = emulator.hook(Method::GET, "requests").header("host", &host);
    let refused = emulator.send(hook).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    let with_token = emulator
        .hook(Method::GET, "requests")
        .header("host", &host)
        .bearer(TOKEN);
    assert_eq!(emulator.send(with_token).await.status, StatusCode::OK);
    // A page served under that name (a rebound one) is no origin of the
    // emulator's: it stays out, token or not, and cannot get a token.
    let cross = emulator
        .api(Method::GET, "users")
        .header("host", &host)
        .header("origin", &format!("http://{host}"));
    assert_refused(&emulator.send(cross).await, StatusCode::FORBIDDEN);
    let token = Call::new(Method::POST, emulator.emulator.token_url())
        .raw_body(
            "application/x-www-form-urlencoded",
            "grant_type=password&username=emulator-user&password=emulator-password\
             &client_id=emulator-client&client_secret=emulator-client-secret",
        )
        .header("host", &host)
        .header("origin", &format!("http://{host}"));
    assert_refused(&emulator.send(token).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_binary_logs_each_refusal_on_stderr() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_identity-emulator"))
        .args(["--bind", "127.0.0.1:0", "--access-token", TOKEN])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "no banner");
        if let Some((_, addr)) = line.split_once("listening on ") {
            break addr.trim().to_owned();
        }
    };
    let http = crate::common::Http::http1();
    let rebinding = Call::new(Method::GET, format!("http://{addr}/_emulator/requests"))
        .header("host", "attacker.example");
    let reply = http.send(rebinding).await;
    assert_eq!(reply.status, StatusCode::MISDIRECTED_REQUEST);
    let cross = Call::new(Method::POST, format!("http://{addr}/_emulator/reset"))
        .header("origin", "http://attacker.example");
    assert_eq!(http.send(cross).await.status, StatusCode::FORBIDDEN);
    // Each line is on stderr before its answer leaves.
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let refusals: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("refused") && line.contains("attacker.example"))
        .collect();
    assert_eq!(refusals.len(), 2, "{stderr}");
    assert!(refusals[0].contains("WARN"), "{stderr}");
}
