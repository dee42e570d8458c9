//! Secrets: with tracing at TRACE captured in a buffer, and every
//! configuration, answer and error formatted with `Display` (with its
//! sources) and `Debug`, a full lifecycle with the password grant, a failing
//! call of each error kind and a short fault soak leave no password, client
//! secret, proxy password, access token, refresh token or temporary password
//! in any of that output.
//!
//! What is looked for, and how it is known:
//! - the configured password, client secret, proxy password, static token
//!   and a wrong password: distinctive strings set by the test;
//! - the access and refresh tokens the emulator issued and the temporary
//!   passwords it answered: the client talks to the emulator through a
//!   recording relay, so they are read from the bytes on the wire
//!   (`"access_token":"…"`, `"refresh_token":"…"`, `Authorization: Bearer …`,
//!   `"password":"…"`); the test fails if it saw none, or no refresh;
//! - any `Bearer ` or `Basic ` followed by a token-like string.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use finbourne_identity::{CreateUserRequest, ErrorKind, IdentityClient, UpdateUserRequest};
use identity_emulator::{EmulatorConfig, Fault, FaultRule};
use tracing_subscriber::fmt::format::FmtSpan;

use crate::support;
use crate::support::raw_server::{RawServer, Reply, full};
use crate::support::recording_proxy::{RecordingProxy, values_after};
use crate::support::soak::{SoakPlan, check, display_chain, run};

const USERNAME: &str = "secrets-user";
const PASSWORD: &str = "Pw7Hq2-distinctive-PASSWORD-xY91";
const CLIENT_ID: &str = "secrets-client";
const CLIENT_SECRET: &str = "Cs4Rt8-distinctive-SECRET-kL55";
const WRONG_PASSWORD: &str = "Wr9Zp3-distinctive-WRONGPASS-aa17";
const WRONG_SECRET: &str = "Ws2Nm6-distinctive-WRONGSECRET-bb28";
const PROXY_PASSWORD: &str = "Px5Jd1-distinctive-PROXYPASS-cc39";
/// A temporary password a hostile answer carries.
const TEMPORARY_PASSWORD: &str = "Tp8Vb4-distinctive-TEMPPASS-dd40";

/// A subscriber at TRACE writing into a buffer, as a dispatcher for one
/// test's threads only: the other tests of this binary, running at the same
/// time, are neither traced into the buffer nor searched.
fn trace_capture() -> (tracing::Dispatch, Arc<Mutex<Vec<u8>>>) {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || TraceWriter(writer.clone()))
        .finish();
    (support::traces::scoped_dispatch(subscriber), buffer)
}

struct TraceWriter(Arc<Mutex<Vec<u8>>>);

impl Write for TraceWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything formatted by a test, to be searched.
#[derive(Default)]
struct Outputs(Vec<String>);

impl Outputs {
    /// `Display` (with sources) and `Debug` of a result.
    fn result<T: std::fmt::Debug>(&mut self, result: &Result<T, finbourne_identity::Error>) {
        match result {
            Ok(value) => self.0.push(format!("{value:?}")),
            Err(error) => self.error(error),
        }
    }

    fn error(&mut self, error: &(dyn std::error::Error + 'static)) {
        self.0.push(display_chain(error));
        self.0.push(format!("{error:?}"));
    }

    fn debug(&mut self, value: &dyn std::fmt::Debug) {
        self.0.push(format!("{value:?}"));
    }
}

/// Where each secret appears in `text`, shown with the secret masked.
fn leaks(text: &str, secrets: &[(&str, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (what, secret) in secrets {
        for (at, _) in text.match_indices(secret.as_str()) {
            let mut from = at.saturating_sub(80);
            while !text.is_char_boundary(from) {
                from -= 1;
            }
            let mut to = (at + secret.len() + 40).min(text.len());
            while !text.is_char_boundary(to) {
                to += 1;
            }
            found.push(format!(
                "{what} in: {}",
                text[from..to].replace(secret.as_str(), "<SECRET>")
            ));
        }
    }
    for scheme in ["Bearer ", "Basic "] {
        for (at, _) in text.match_indices(scheme) {
            let rest = &text[at + scheme.len()..];
            let credential: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "-._~+/=".contains(*c))
                .collect();
            if credential.len() >= 8 {
                found.push(format!("a {scheme}credential: {scheme}{:.4}…", credential));
            }
        }
    }
    found
}

/// The secrets that went over the wire, read from the relay's record.
fn secrets_on_the_wire(wire: &str) -> Vec<(&'static str, String)> {
    let mut secrets = Vec::new();
    for (what, marker, end) in [
        ("an access token", "\"access_token\":\"", &['"'][..]),
        ("a refresh token", "\"refresh_token\":\"", &['"'][..]),
        ("a refresh token", "refresh_token=", &['&', '\r', '\n'][..]),
        ("a bearer token", "Bearer ", &['\r', '\n'][..]),
        ("a temporary password", "\"password\":\"", &['"'][..]),
    ] {
        for value in values_after(wire, marker, end) {
            secrets.push((what, value));
        }
    }
    secrets.sort();
    secrets.dedup();
    secrets
}

#[test]
fn a_lifecycle_every_error_kind_and_a_soak_leak_no_secret() {
    // The calls run on many threads: every thread of the runtime, and this
    // one that blocks on it, trace into the test's buffer.
    let (dispatch, traces) = trace_capture();
    let _guard = tracing::dispatcher::set_default(&dispatch);
    support::traces::runtime_with(&dispatch, 4).block_on(lifecycle_errors_and_soak(&traces));
}

/// The body of [`a_lifecycle_every_error_kind_and_a_soak_leak_no_secret`],
/// traced into `traces`.
async fn lifecycle_errors_and_soak(traces: &Mutex<Vec<u8>>) {
    let emulator = Arc::new(
        support::emulator_with(EmulatorConfig {
            username: USERNAME.to_owned(),
            password: PASSWORD.to_owned(),
            client_id: CLIENT_ID.to_owned(),
            client_secret: CLIENT_SECRET.to_owned(),
            // Tokens live one second and the cache refreshes them half-way,
            // so the soak uses the refresh grant.
            token_ttl: Duration::from_secs(1),
            ..EmulatorConfig::default()
        })
        .await,
    );
    let relay = RecordingProxy::start(emulator.addr()).await;
    let token_url = format!("{}/oauth2/token", relay.root_url());
    let base_url = format!("{}/identity", relay.root_url());
    let password_grant = |password: &str, secret: &str| {
        support::builder(&base_url)
            .token_url(&token_url)
            .username(USERNAME)
            .password(password)
            .client_id(CLIENT_ID)
            .client_secret(secret)
            .application_name("secrets-test")
    };
    let mut out = Outputs::default();

    // Configuration, formatted.
    let builder = password_grant(PASSWORD, CLIENT_SECRET);
    out.debug(&builder);
    let client = builder.build().unwrap();
    out.debug(&client);
    out.debug(client.service());

    // The lifecycle.
    let users = client.users();
    let created = users
        .create_user(&CreateUserRequest::personal(
            "Sam",
            "Secret",
            "sam@example.com",
        ))
        .send()
        .await;
    out.result(&created);
    let created = created.unwrap();
    // Active, so that its password can be expired.
    emulator
        .set_user_status(&created.id, finbourne_identity::UserStatus::Active)
        .unwrap();
    let got = users.get_user(&created.id).send().await;
    out.result(&got);
    let mut update = UpdateUserRequest::from_user(&got.unwrap());
    update.last_name = "Secretson".into();
    out.result(&users.update_user(&created.id, &update).send().await);
    let expired = users.expire_password(&created.id).send().await;
    out.result(&expired);
    assert!(!expired.unwrap().password.is_empty());
    out.result(&users.delete_user(&created.id).send().await);

    // A failing call of each kind.
    let mut kinds = Vec::new();
    let mut failing = |result: Result<(), finbourne_identity::Error>, out: &mut Outputs| {
        let error = result.unwrap_err();
        kinds.push(error.kind());
        out.error(&error);
    };
    // Config: the password grant without its token URL and client id.
    let incomplete = support::builder(&base_url)
        .username(USERNAME)
        .password(PASSWORD)
        .client_secret(CLIENT_SECRET)
        .build()
        .map(|_| ());
    failing(incomplete, &mut out);
    let bad_url = password_grant(PASSWORD, CLIENT_SECRET)
        .base_url("not a url")
        .build()
        .map(|_| ());
    failing(bad_url, &mut out);
    // InvalidInput, NotFound, Validation, Api (a wrong lifecycle step),
    // AlreadyExists.
    failing(users.get_user("").send().await.map(|_| ()), &mut out);
    failing(
        users.unlock_user(&created.id).send().await.map(|_| ()),
        &mut out,
    );
    failing(
        users.get_user("00u-nobody").send().await.map(|_| ()),
        &mut out,
    );
    let invalid = CreateUserRequest::personal("", "x", "not an email");
    failing(
        users.create_user(&invalid).send().await.map(|_| ()),
        &mut out,
    );
    // Auth: a wrong password, a wrong client secret.
    for (password, secret) in [(WRONG_PASSWORD, CLIENT_SECRET), (PASSWORD, WRONG_SECRET)] {
        let wrong = password_grant(password, secret).build().unwrap();
        out.debug(&wrong);
        failing(
            wrong.users().get_user("00u1").send().await.map(|_| ()),
            &mut out,
        );
    }
    // NoAnswer: an attempt timeout, a token endpoint that is not there, a
    // proxy that is not there (with its credentials set).
    emulator.set_faults(vec![FaultRule::new(
        Some("GetUser"),
        Fault::Delay { ms: 600 },
    )]);
    let impatient = password_grant(PASSWORD, CLIENT_SECRET)
        .read_timeout(Duration::from_millis(200))
        .total_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    failing(
        impatient
            .users()
            .get_user(&created.id)
            .send()
            .await
            .map(|_| ()),
        &mut out,
    );
    emulator.set_faults(Vec::new());
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let nowhere = password_grant(PASSWORD, CLIENT_SECRET)
        .token_url(format!("http://{closed}/oauth2/token"))
        .build()
        .unwrap();
    failing(
        nowhere.users().get_user("00u1").send().await.map(|_| ()),
        &mut out,
    );
    // A loopback host never goes through a proxy: the proxied calls are to
    // a name the proxy (that is not there) would have resolved.
    let remote_base = "http://api.example.test:9/identity";
    for proxied in [
        password_grant(PASSWORD, CLIENT_SECRET)
            .proxy_address(format!("http://{closed}"))
            .proxy_username("proxy-user")
            .proxy_password(PROXY_PASSWORD),
        password_grant(PASSWORD, CLIENT_SECRET)
            .proxy_address(format!("http://proxy-user:{PROXY_PASSWORD}@{closed}")),
    ] {
        let proxied = proxied.base_url(remote_base).allow_insecure_http(true);
        out.debug(&proxied);
        let proxied = proxied.build().unwrap();
        out.debug(&proxied);
        failing(
            proxied.users().get_user("00u1").send().await.map(|_| ()),
            &mut out,
        );
    }
    // Decode: a user that is not one.
    let hostile = RawServer::start(|_, _| Reply::Bytes(full("200 OK", &[], br#"{"id":5}"#))).await;
    let decoding = support::client(&hostile.base_url());
    failing(
        decoding.users().get_user("00u1").send().await.map(|_| ()),
        &mut out,
    );
    for kind in [
        ErrorKind::Config,
        ErrorKind::InvalidInput,
        ErrorKind::NotFound,
        ErrorKind::Validation,
        ErrorKind::Api,
        ErrorKind::Auth,
        ErrorKind::NoAnswer,
        ErrorKind::Decode,
    ] {
        assert!(kinds.contains(&kind), "no {kind:?} error among {kinds:?}");
    }

    // A short soak with faults on every call, the token endpoint's too.
    let plan = SoakPlan {
        calls: 300,
        tasks: 8,
        ..SoakPlan::from_env(300)
    };
    out.debug(&emulator.requests());
    emulator.clear_requests();
    emulator.set_faults(plan.fault_rules());
    let soaker = plan
        .configure(password_grant(PASSWORD, CLIENT_SECRET))
        .build()
        .unwrap();
    let soak = run(&soaker, &emulator, &plan).await;
    emulator.set_faults(Vec::new());
    let (summary, violations) = check(&soak, &emulator, &plan);
    println!("{summary}");
    assert!(violations.is_empty(), "{violations:#?}");
    for failure in soak.calls.iter().filter_map(|call| match &call.outcome {
        support::soak::Outcome::Failed(failure) => Some(failure),
        _ => None,
    }) {
        out.0.push(failure.message.clone());
        out.0.push(failure.debug.clone());
    }
    out.debug(&emulator.requests());

    // What was sent, and where it must not be.
    let wire = relay.traffic();
    let mut secrets: Vec<(&str, String)> = vec![
        ("the password", PASSWORD.to_owned()),
        ("the client secret", CLIENT_SECRET.to_owned()),
        ("a wrong password", WRONG_PASSWORD.to_owned()),
        ("a wrong client secret", WRONG_SECRET.to_owned()),
        ("the proxy password", PROXY_PASSWORD.to_owned()),
        ("the static token", support::TOKEN.to_owned()),
    ];
    let issued = secrets_on_the_wire(&wire);
    let count = |what: &str| issued.iter().filter(|(w, _)| *w == what).count();
    assert!(count("an access token") >= 2, "no tokens seen on the wire");
    assert!(
        count("a refresh token") >= 1,
        "no refresh token seen on the wire"
    );
    assert!(
        wire.contains("grant_type=refresh_token"),
        "the soak never refreshed its token: {:?}",
        values_after(&wire, "grant_type=", &['&', '\r', '\n'])
    );
    assert!(
        count("a temporary password") >= 1,
        "no temporary password seen"
    );
    secrets.extend(issued);

    let traces = String::from_utf8_lossy(&traces.lock().unwrap()).into_owned();
    assert!(
        traces.contains("identity.call") && traces.contains("identity.attempt"),
        "the TRACE output holds no call: {:.300}",
        traces
    );
    let mut found = leaks(&traces, &secrets);
    for output in &out.0 {
        found.extend(leaks(output, &secrets));
    }
    println!(
        "secrets: looked for {} secrets ({} read from the wire) in {} bytes of traces and {} formatted values",
        secrets.len(),
        secrets.len() - 6,
        traces.len(),
        out.0.len()
    );
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "secrets leaked:\n{}", found.join("\n"));
}

/// A temporary password is a secret too: when ExpirePassword's answer cannot
/// be decoded, the error must not quote it.
#[tokio::test]
async fn an_undecodable_temporary_password_is_not_quoted_in_the_error() {
    // At TRACE, as the test above, on this thread (the runtime's only one).
    let (dispatch, _traces) = trace_capture();
    let _guard = tracing::dispatcher::set_default(&dispatch);
    let body = format!(r#"{{"password":"{TEMPORARY_PASSWORD}","#);
    let hostile =
        RawServer::start(move |_, _| Reply::Bytes(full("200 OK", &[], body.as_bytes()))).await;
    let client: IdentityClient = support::client(&hostile.base_url());
    let result = client.users().expire_password("00u1").send().await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    let mut out = Outputs::default();
    out.error(&error);
    let secrets = [("a temporary password", TEMPORARY_PASSWORD.to_owned())];
    let found: Vec<String> = out.0.iter().flat_map(|o| leaks(o, &secrets)).collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}
