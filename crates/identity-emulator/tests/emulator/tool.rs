//! The emulator as a tool any test suite can start: the health check, the
//! `--ready-json` line, `IDENTITY_EMULATOR_*` variables, the request log on
//! stderr, and a graceful exit on SIGTERM, through the binary as a Python
//! or Java fixture would drive it.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use http::{Method, StatusCode};
use identity_emulator::EmulatorConfig;
use serde_json::{Value, json};

use crate::common::{Call, Http, PATIENCE, TestEmulator, personal};

#[tokio::test]
async fn the_health_check_needs_no_token_even_when_the_hooks_do() {
    let directory = tempfile::tempdir().unwrap();
    let emulator = TestEmulator::with(EmulatorConfig {
        state_file: Some(directory.path().join("state.json")),
        ..EmulatorConfig::default()
    })
    .await;
    let health = Call::new(Method::GET, emulator.emulator.health_url());
    let reply = emulator.send(health).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.value(),
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
    // The other hooks still need one.
    let requests = emulator.send(emulator.hook(Method::GET, "requests")).await;
    assert_eq!(requests.status, StatusCode::UNAUTHORIZED);
    // Hooks are not in the request log.
    assert!(emulator.emulator.requests().is_empty());
}

/// The emulator binary, started as a fixture would start it.
struct Fixture {
    /// `None` once terminated; killed when dropped (a failed test leaves no
    /// emulator running).
    child: Option<Child>,
    ready: Value,
    /// What it wrote to stdout after the ready line, once it has exited.
    stdout_rest: mpsc::Receiver<String>,
    /// Everything it wrote to stderr, once it has exited.
    stderr: mpsc::Receiver<String>,
}

impl Fixture {
    /// Starts the binary with `--ready-json --bind 127.0.0.1:0` (unless
    /// `args` bind elsewhere), `args` and `env`, and reads the one line it
    /// prints when ready.
    fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let bind: &[&str] = if args.contains(&"--bind") {
            &[]
        } else {
            &["--bind", "127.0.0.1:0"]
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_identity-emulator"))
            .arg("--ready-json")
            .args(bind)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (lines, first) = mpsc::channel();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = stdout.read_line(&mut line);
            let _ = lines.send(line);
            // Whatever else it writes to stdout, to the end.
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
            let _ = lines.send(rest);
        });
        let (errors, stderr) = mpsc::channel();
        let mut pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            let _ = errors.send(text);
        });
        let line = first.recv_timeout(Duration::from_secs(30)).unwrap();
        assert!(line.ends_with('\n'), "one whole line: {line:?}");
        let ready: Value = serde_json::from_str(&line).unwrap();
        Self {
            child: Some(child),
            ready,
            stdout_rest: first,
            stderr,
        }
    }

    fn url(&self, key: &str) -> String {
        self.ready[key].as_str().unwrap().to_owned()
    }

    /// SIGTERM through `kill`, as a fixture's `terminate()` sends it; the
    /// exit code, what followed the ready line on stdout, and stderr.
    async fn terminate(mut self) -> (Option<i32>, String, String) {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        let rest = self.stdout_rest.recv_timeout(PATIENCE).unwrap_or_default();
        let stderr = self.stderr.recv_timeout(PATIENCE).unwrap_or_default();
        (status.code(), rest, stderr)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs the binary with `args` to its end, or kills it after `PATIENCE`
/// times four: its exit code (`None` when killed) and stderr.
fn run_to_end(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_identity-emulator"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + PATIENCE * 4;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn snapshot(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn the_fixture_contract_ready_json_calls_sigterm_exit_zero_state_flushed() {
    let directory = tempfile::tempdir().unwrap();
    let state = directory.path().join("state.json");
    let fixture = Fixture::start(
        &["--state-file", state.to_str().unwrap()],
        &[
            ("IDENTITY_EMULATOR_ACCESS_TOKEN", "tok-first,tok-second"),
            ("IDENTITY_EMULATOR_SEED_USERS", "25"),
            // The flag wins over its variable.
            ("IDENTITY_EMULATOR_BIND", "127.0.0.1:1"),
            ("RUST_LOG", "identity_emulator::requests=info"),
        ],
    );
    let ready = &fixture.ready;
    // Tokens given to it are not printed back (the caller has them); the
    // public defaults are, for a fixture that gave none.
    assert_eq!(ready["access_tokens"], Value::Null);
    assert_eq!(ready["username"], "emulator-user");
    assert_eq!(ready["password"], "emulator-password");
    assert_eq!(ready["client_id"], "emulator-client");
    assert_eq!(ready["client_secret"], "emulator-client-secret");
    assert_eq!(ready["other_addresses"], json!([]), "bound to loopback");
    let base_url = fixture.url("base_url");
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    assert!(!base_url.starts_with("http://127.0.0.1:1/"));
    assert_eq!(
        fixture.url("token_url"),
        base_url.replace("/identity", "/oauth2/token")
    );
    assert_eq!(
        fixture.url("hooks_url"),
        base_url.replace("/identity", "/_emulator")
    );

    let http = Http::http1();
    let health = http
        .send(Call::new(Method::GET, fixture.url("health_url")))
        .await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.value()["status"], "ok");
    let created = http
        .send(
            Call::new(Method::POST, format!("{base_url}/api/users"))
                .bearer("tok-second")
                .json(&personal("fixture@example.com")),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let seeded = http
        .send(
            Call::new(
                Method::GET,
                format!("{base_url}/api/users/fromlogin/user-000025@seed.example"),
            )
            .bearer("tok-first"),
        )
        .await;
    assert_eq!(seeded.status, StatusCode::OK);

    let (code, rest, stderr) = fixture.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(rest, "", "nothing but the ready line on stdout");
    // The state file holds everything, the journal folded into it.
    let stored = snapshot(&state);
    assert_eq!(stored["users"].as_array().map(Vec::len), Some(26));
    assert_eq!(stored["users"][25]["login"], "fixture@example.com");
    let journal = std::fs::read(directory.path().join("state.json.journal")).unwrap();
    assert!(journal.is_empty(), "{}", String::from_utf8_lossy(&journal));
    // The request log on stderr: one line per request, templates and
    // operations, never a token, a login or an id.
    assert!(stderr.contains("listening on"), "the banner: {stderr}");
    let log: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("identity_emulator::requests"))
        .collect();
    assert_eq!(log.len(), 3, "{stderr}");
    assert!(log[0].contains("route=/_emulator/health") && log[0].contains("status=200"));
    assert!(log[1].contains("method=POST") && log[1].contains("operation=CreateUser"));
    assert!(log[1].contains("duration_ms="), "{}", log[1]);
    assert!(log[2].contains("route=/identity/api/users/fromlogin/{login}"));
    for secret in [
        "tok-first",
        "tok-second",
        "fixture@example.com",
        "user-000025",
    ] {
        assert!(!stderr.contains(secret), "{secret} in {stderr}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn sigterm_lets_a_request_in_flight_finish_then_exits_zero() {
    let fixture = Fixture::start(
        &["--access-token", "tok"],
        &[(
            "IDENTITY_EMULATOR_FAULT",
            r#"[{"operation":"ListUsers","fault":{"kind":"delay","ms":1500}}]"#,
        )],
    );
    let http = Http::http1();
    let call = Call::new(
        Method::GET,
        format!("{}/api/users", fixture.url("base_url")),
    )
    .bearer("tok");
    let client = http.clone();
    let in_flight = tokio::spawn(async move { client.try_send(&call).await });
    // Until the emulator has the request (its log says so).
    let requests = format!("{}/requests", fixture.url("hooks_url"));
    tokio::time::timeout(PATIENCE, async {
        loop {
            let log = http.send(Call::new(Method::GET, requests.clone())).await;
            if log.value().as_array().is_some_and(|log| !log.is_empty()) {
                break;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    let (code, _, stderr) = fixture.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
    let reply = in_flight.await.unwrap().unwrap();
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test(flavor = "current_thread")]
async fn credentials_given_are_never_printed_back() {
    let secrets = [
        "given-password-1f3e",
        "given-client-secret-9a7c",
        "given-static-token-5d2b",
    ];
    let fixture = Fixture::start(
        &[
            "--password",
            secrets[0],
            "--access-token",
            secrets[2],
            "--username",
            "ci-user",
        ],
        &[("IDENTITY_EMULATOR_CLIENT_SECRET", secrets[1])],
    );
    let ready = fixture.ready.clone();
    assert_eq!(ready["password"], Value::Null);
    assert_eq!(ready["client_secret"], Value::Null);
    assert_eq!(ready["access_tokens"], Value::Null);
    assert_eq!(ready["username"], "ci-user", "not a secret");
    // They work.
    let http = Http::http1();
    let users = Call::new(
        Method::GET,
        format!("{}/api/users", fixture.url("base_url")),
    )
    .bearer(secrets[2]);
    assert_eq!(http.send(users).await.status, StatusCode::OK);
    let (code, rest, stderr) = fixture.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("listening on"), "the banner: {stderr}");
    assert!(stderr.contains("(the one given; not shown)"), "{stderr}");
    assert!(stderr.contains("1 given (not shown)"), "{stderr}");
    for secret in secrets {
        let line = ready.to_string();
        assert!(!line.contains(secret), "{secret} in the ready line: {line}");
        assert!(!stderr.contains(secret), "{secret} in the banner: {stderr}");
        assert!(!rest.contains(secret), "{secret} on stdout: {rest}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn bound_to_every_address_the_urls_are_loopback_and_the_others_listed() {
    let fixture = Fixture::start(
        &[
            "--bind",
            "0.0.0.0:0",
            "--allow-remote",
            "--password",
            "a-password-of-our-own",
            "--client-secret",
            "a-client-secret-of-our-own",
        ],
        &[],
    );
    let base_url = fixture.url("base_url");
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    let port = base_url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/identity");
    assert_eq!(fixture.ready["listening_on"], format!("0.0.0.0:{port}"));
    let others = fixture.ready["other_addresses"].as_array().unwrap().clone();
    for other in &others {
        let other: std::net::SocketAddr = other.as_str().unwrap().parse().unwrap();
        assert!(other.is_ipv4() && !other.ip().is_loopback(), "{other}");
        assert_eq!(other.port().to_string(), port);
    }
    // Only loopback traffic: the health check through the URL given.
    let health = Http::http1()
        .send(Call::new(Method::GET, fixture.url("health_url")))
        .await;
    assert_eq!(health.status, StatusCode::OK);
    let (code, _, stderr) = fixture.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("EXPOSED to other machines"), "{stderr}");
    assert!(stderr.contains("POST /_emulator/reset"), "{stderr}");
    assert!(stderr.contains("FBN_ALLOW_INSECURE_HTTP"), "{stderr}");
}

#[test]
fn allow_remote_with_public_credentials_refuses_to_start_with_exit_2() {
    let (code, stdout, stderr) =
        run_to_end(&["--bind", "0.0.0.0:0", "--allow-remote", "--ready-json"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty(), "no ready line: {stdout}");
    assert!(
        stderr.contains("--password (IDENTITY_EMULATOR_PASSWORD)"),
        "{stderr}"
    );
    assert!(stderr.contains("--client-secret"), "{stderr}");
}

#[test]
fn every_flag_reads_its_variable_and_the_flag_wins() {
    use clap::Parser;
    use identity_emulator::EmulatorArgs;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        emulator: EmulatorArgs,
    }
    // The variables are read from the process environment, which a test may
    // not change: the binary's --help shows each one instead.
    let output = Command::new(env!("CARGO_BIN_EXE_identity-emulator"))
        .arg("--help")
        .env("IDENTITY_EMULATOR_PASSWORD", "hidden-s3cret")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for variable in [
        "BIND",
        "ALLOW_REMOTE",
        "ACCESS_TOKEN",
        "USERNAME",
        "PASSWORD",
        "CLIENT_ID",
        "CLIENT_SECRET",
        "TOKEN_TTL_SECS",
        "STATE_FILE",
        "FAULT",
        "RATE_LIMIT",
        "SEED_USERS",
        "READY_JSON",
        "MAX_HEAD_BYTES",
        "HEAD_TIMEOUT_SECS",
        "IDLE_TIMEOUT_SECS",
        "MAX_CONNECTIONS",
        "REQUEST_LOG_ENTRIES",
        "REQUEST_LOG_BYTES",
        "REQUEST_LOG_ENTRY_BYTES",
        "MAX_TOKEN_REQUEST_BYTES",
        "MAX_SCOPE_BYTES",
        "MAX_GRANTS",
    ] {
        assert!(
            help.contains(&format!("[env: IDENTITY_EMULATOR_{variable}")),
            "{variable}: {help}"
        );
    }
    assert!(!help.contains("hidden-s3cret"), "{help}");
    let cli = Cli::try_parse_from([
        "emulator",
        "--fault",
        r#"[{"fault":{"kind":"closeBeforeProcessing"}},{"fault":{"kind":"delay","ms":5}}]"#,
    ])
    .unwrap();
    assert_eq!(cli.emulator.into_config().faults.len(), 2);
}
