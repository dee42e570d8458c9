//! The limits ([`Limits`]): what no caller can make the emulator hold.
//! Small limits, raw loopback sockets where the client must misbehave, and
//! paused time wherever timing matters (the durations checked are tokio's
//! paused clock's, never the wall clock's). The figures at scale (memory,
//! the health check under thousands of connections) are measured by
//! `cargo xtask hostile`.

use std::net::SocketAddr;
use std::time::Duration;

use http::{Method, StatusCode};
use identity_emulator::{EmulatorConfig, Fault, FaultRule, Limits, SDK_POOL_IDLE_TIMEOUT};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::common::{Call, TOKEN, TestEmulator};

const HEAD: Duration = Duration::from_secs(10);
const IDLE: Duration = Duration::from_secs(120);

fn limited(limits: Limits) -> EmulatorConfig {
    EmulatorConfig {
        limits,
        ..EmulatorConfig::default()
    }
}

/// A raw answer: its status, headers (lower-case) and body.
#[derive(Debug)]
struct RawAnswer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl RawAnswer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads one answer (a head, then a body of its `content-length`).
async fn read_answer(stream: &mut TcpStream) -> RawAnswer {
    let mut bytes = Vec::new();
    let mut byte = [0_u8; 1];
    while !bytes.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "{bytes:?}");
        bytes.push(byte[0]);
    }
    let head = String::from_utf8(bytes).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(key, _)| key == "content-length")
        .map_or(0, |(_, value)| value.parse().unwrap());
    let mut body = vec![0_u8; length];
    stream.read_exact(&mut body).await.unwrap();
    RawAnswer {
        status,
        headers,
        body: String::from_utf8(body).unwrap(),
    }
}

/// Reads until the emulator closes the connection; what came before. Fails
/// when it is still open a day later (on the paused clock, at once).
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    let day = Duration::from_secs(24 * 60 * 60);
    // A reset is a close too.
    let closed = tokio::time::timeout(day, stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the emulator never closed the connection");
    rest
}

fn health_request(addr: SocketAddr) -> String {
    format!("GET /_emulator/health HTTP/1.1\r\nHost: {addr}\r\n\r\n")
}

#[tokio::test]
async fn a_head_over_the_bound_is_431_and_never_logged() {
    let emulator = TestEmulator::with(limited(Limits {
        max_head_bytes: 8 * 1024,
        ..Limits::default()
    }))
    .await;
    let big = emulator
        .api(Method::GET, "users")
        .header("x-filler", &"f".repeat(10 * 1024));
    let reply = emulator.http.try_send(&big).await;
    assert_eq!(
        reply.map(|reply| reply.status).ok(),
        Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
    );
    let small = emulator
        .api(Method::GET, "users")
        .header("x-filler", &"f".repeat(4 * 1024));
    assert_eq!(emulator.send(small).await.status, StatusCode::OK);
    let log = emulator.emulator.requests();
    assert_eq!(log.len(), 1, "{log:?}");
}

#[tokio::test]
async fn the_log_holds_each_entry_and_all_of_them_to_their_bounds() {
    let emulator = TestEmulator::with(limited(Limits {
        request_log_entry_bytes: 1024,
        request_log_bytes: 8 * 1024,
        ..Limits::default()
    }))
    .await;
    for n in 0..40 {
        let call = emulator
            .api(Method::GET, &format!("users?n={n}"))
            .header("x-filler", &"f".repeat(4 * 1024));
        assert_eq!(emulator.send(call).await.status, StatusCode::OK);
    }
    let log = emulator.emulator.requests();
    assert!(!log.is_empty() && log.len() < 8, "{}", log.len());
    assert_eq!(
        log.last().unwrap().query.as_deref(),
        Some("n=39"),
        "the latest kept"
    );
    for entry in &log {
        let text: usize = entry.path.len()
            + entry.query.as_ref().map_or(0, String::len)
            + entry
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        assert!(text <= 1024, "{text}");
        assert!(entry.truncated);
    }
    let served = emulator.send(emulator.hook(Method::GET, "requests")).await;
    assert!(served.value()[0]["truncated"].as_bool().unwrap());
}

#[tokio::test]
async fn a_request_refused_at_the_token_check_is_logged_with_its_401_and_meets_no_fault() {
    let emulator = TestEmulator::start().await;
    emulator.emulator.set_faults(vec![
        FaultRule::new(
            Some("ListUsers"),
            Fault::Status {
                status: 503,
                retry_after: Some("1".into()),
            },
        )
        .when(identity_emulator::FaultWhen::Next { n: 1 }),
    ]);
    let no_token = Call::new(
        Method::GET,
        format!("{}/api/users", emulator.emulator.base_url()),
    )
    .header("x-filler", &"f".repeat(1_000));
    assert_eq!(
        emulator.send(no_token).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The fault was left for a request that passed the check.
    let with_token = emulator.api(Method::GET, "users");
    assert_eq!(
        emulator.send(with_token).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let log = emulator.emulator.requests();
    let statuses: Vec<Option<u16>> = log.iter().map(|entry| entry.status).collect();
    assert_eq!(statuses, [Some(401), Some(503)]);
    assert_eq!(log[0].fault, None);
}

#[tokio::test(start_paused = true)]
async fn a_slow_head_is_closed_at_the_head_timeout_from_its_first_byte() {
    let emulator = TestEmulator::start().await;
    let addr = emulator.emulator.addr();
    // A new connection that sends nothing: closed at the head timeout.
    let connected = Instant::now();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(until_closed(&mut silent).await.is_empty());
    assert_eq!(connected.elapsed(), HEAD);

    // After an answer, a connection may wait the idle timeout; a head
    // started then has the head timeout from its first byte.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(health_request(addr).as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut stream).await.status, 200);
    tokio::time::advance(Duration::from_secs(100)).await;
    let started = Instant::now();
    stream
        .write_all(format!("GET /_emulator/health HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ").as_bytes())
        .await
        .unwrap();
    assert!(until_closed(&mut stream).await.is_empty());
    assert_eq!(started.elapsed(), HEAD);
}

#[tokio::test(start_paused = true)]
async fn an_idle_connection_lives_longer_than_the_sdks_pool_keeps_it() {
    assert!(Limits::default().idle_timeout > SDK_POOL_IDLE_TIMEOUT);
    let emulator = TestEmulator::start().await;
    let addr = emulator.emulator.addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(health_request(addr).as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut stream).await.status, 200);
    let answered = Instant::now();
    // Reused just before the SDK would give it up: still served.
    tokio::time::advance(SDK_POOL_IDLE_TIMEOUT - Duration::from_millis(1)).await;
    stream
        .write_all(health_request(addr).as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut stream).await.status, 200);
    let answered_again = Instant::now();
    assert!(answered_again > answered);
    assert!(until_closed(&mut stream).await.is_empty());
    assert_eq!(answered_again.elapsed(), IDLE);
}

#[tokio::test(start_paused = true)]
async fn at_the_cap_a_new_connection_takes_the_longest_waiting_ones_place() {
    let emulator = TestEmulator::with(limited(Limits {
        max_connections: 2,
        ..Limits::default()
    }))
    .await;
    let addr = emulator.emulator.addr();
    let mut oldest = TcpStream::connect(addr).await.unwrap();
    oldest
        .write_all(b"GET /_emulator/health HTTP/1.1\r\n")
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(1)).await;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(health_request(addr).as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut idle).await.status, 200);
    // A third: the health check answers, in the place of the oldest.
    let mut third = TcpStream::connect(addr).await.unwrap();
    third
        .write_all(health_request(addr).as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut third).await.status, 200);
    let evicted_at = Instant::now();
    assert!(until_closed(&mut oldest).await.is_empty());
    assert_eq!(
        evicted_at.elapsed(),
        Duration::ZERO,
        "evicted, not timed out"
    );
    // The one left idle is still served.
    idle.write_all(health_request(addr).as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut idle).await.status, 200);
}

#[tokio::test(start_paused = true)]
async fn when_every_connection_is_busy_a_new_one_gets_503_with_retry_after_unread() {
    let emulator = TestEmulator::with(limited(Limits {
        max_connections: 2,
        ..Limits::default()
    }))
    .await;
    emulator.emulator.set_faults(vec![FaultRule::new(
        Some("ListUsers"),
        Fault::Delay { ms: 10_000 },
    )]);
    let mut busy = Vec::new();
    for _ in 0..2 {
        let call = emulator.api(Method::GET, "users");
        let http = crate::common::Http::http1();
        busy.push(tokio::spawn(async move { http.try_send(&call).await }));
    }
    while emulator.emulator.requests().len() < 2 {
        tokio::task::yield_now().await;
    }
    let mut refused = TcpStream::connect(emulator.emulator.addr()).await.unwrap();
    let answer = read_answer(&mut refused).await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert_eq!(
        answer.header("content-type"),
        Some("application/problem+json")
    );
    assert!(answer.header("lusid-meta-requestid").is_some());
    assert!(answer.body.contains("--max-connections"), "{}", answer.body);
    assert!(until_closed(&mut refused).await.is_empty());
    assert_eq!(
        emulator.emulator.requests().len(),
        2,
        "nothing of it was read"
    );
    for call in busy {
        assert_eq!(call.await.unwrap().unwrap().status, StatusCode::OK);
    }
}

fn token_form(scope: &str) -> String {
    format!(
        "grant_type=password&username=emulator-user&password=emulator-password\
         &client_id=emulator-client&client_secret=emulator-client-secret&scope={scope}"
    )
}

#[tokio::test]
async fn token_requests_are_bounded_in_size_and_grants_in_number() {
    let emulator = TestEmulator::with(limited(Limits {
        max_token_request_bytes: 2 * 1024,
        max_scope_bytes: 64,
        max_grants: 3,
        ..Limits::default()
    }))
    .await;
    let token = |body: String| {
        Call::new(Method::POST, emulator.emulator.token_url())
            .raw_body("application/x-www-form-urlencoded", body)
    };
    let large = emulator
        .send(token(token_form(&"s".repeat(4 * 1024))))
        .await;
    assert_eq!(large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(large.value()["error"], "invalid_request");
    let long_scope = emulator.send(token(token_form(&"s".repeat(65)))).await;
    assert_eq!(long_scope.status, StatusCode::BAD_REQUEST);
    assert_eq!(long_scope.value()["error"], "invalid_scope");

    let mut issued = Vec::new();
    for _ in 0..4 {
        let reply = emulator.send(token(token_form("openid"))).await;
        assert_eq!(reply.status, StatusCode::OK);
        issued.push(reply.value()["access_token"].as_str().unwrap().to_owned());
    }
    let with = |token: &str| {
        Call::new(
            Method::GET,
            format!("{}/api/users", emulator.emulator.base_url()),
        )
        .bearer(token)
    };
    assert_eq!(
        emulator.send(with(&issued[0])).await.status,
        StatusCode::UNAUTHORIZED,
        "the oldest went"
    );
    assert_eq!(emulator.send(with(&issued[3])).await.status, StatusCode::OK);
    assert_eq!(
        emulator.send(with(TOKEN)).await.status,
        StatusCode::OK,
        "static tokens stay"
    );
}

#[tokio::test(start_paused = true)]
async fn a_token_form_slower_than_the_head_timeout_is_408() {
    let emulator = TestEmulator::start().await;
    let addr = emulator.emulator.addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /oauth2/token HTTP/1.1\r\nHost: {addr}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type="
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let answer = read_answer(&mut stream).await;
    assert_eq!(answer.status, 408);
    assert_eq!(started.elapsed(), HEAD);
}

#[tokio::test(start_paused = true)]
async fn an_authenticated_body_slower_than_the_head_timeout_is_408_and_frees_its_connection() {
    let emulator = TestEmulator::start().await;
    let addr = emulator.emulator.addr();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // A CreateUser that says 1,000 bytes and sends a few: no head or idle
    // timeout watches a connection while its request is in flight.
    stream
        .write_all(
            format!(
                "POST /identity/api/users HTTP/1.1\r\nHost: {addr}\r\n\
                 Authorization: Bearer {TOKEN}\r\n\
                 Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"firstName\":"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let answer = tokio::time::timeout(HEAD * 2, read_answer(&mut stream))
        .await
        .expect("an answer, not a connection held by its body");
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(started.elapsed(), HEAD);
    // No longer in flight: the connection is closed, not held.
    until_closed(&mut stream).await;
    assert!(started.elapsed() <= HEAD + IDLE, "{:?}", started.elapsed());
}
