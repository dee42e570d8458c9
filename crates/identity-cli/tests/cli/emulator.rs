//! `fbn-identity emulator` is the emulator's front end (the
//! `identity-emulator` binary is an alias): every flag, the
//! `IDENTITY_EMULATOR_*` variables, the `--ready-json` line, the graceful
//! exit on SIGTERM and exit 2 for a configuration it cannot start with.
//! The global `--allow-insecure-http` lets the other commands reach an
//! emulator by a name that is not loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::support::{closed_port, command, finish, run_bare};

/// `GET path` on `addr` over a plain socket; the whole answer.
fn get(root_url: &str, path: &str) -> String {
    let addr = root_url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn the_emulator_command_reads_its_variables_prints_ready_json_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut child = command(dir.path())
        .args([
            "emulator",
            "--ready-json",
            "--bind",
            "127.0.0.1:0",
            "--state-file",
        ])
        .arg(&state)
        .env("IDENTITY_EMULATOR_ACCESS_TOKEN", "cli-a,cli-b")
        .env("IDENTITY_EMULATOR_SEED_USERS", "3")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let _ = lines.send(line);
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
        let _ = lines.send(rest);
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let line = received.recv_timeout(Duration::from_secs(30)).unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap();
    // Tokens given are not printed back; the public defaults are.
    assert_eq!(ready["access_tokens"], Value::Null);
    assert_eq!(ready["password"], "emulator-password");
    assert!(!line.contains("cli-a") && !line.contains("cli-b"), "{line}");
    let root = ready["root_url"].as_str().unwrap();
    let health = get(root, "/_emulator/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains(r#""status":"ok""#), "{health}");

    let base_url = ready["base_url"].as_str().unwrap();
    let listed = run_bare(
        dir.path(),
        &[
            "--base-url",
            base_url,
            "--access-token",
            "cli-b",
            "--json",
            "users",
            "list",
            "--include-deactivated",
        ],
    );
    listed.ok();
    assert_eq!(listed.json().as_array().map(Vec::len), Some(3));

    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    let stderr = errors.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    let rest = received.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(rest, "", "nothing but the ready line on stdout");
    assert!(stderr.contains("listening on"), "the banner: {stderr}");
    let stored: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(stored["users"].as_array().map(Vec::len), Some(3));
}

#[test]
fn the_emulator_command_has_every_flag_and_refuses_public_credentials_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let help = run_bare(dir.path(), &["emulator", "--help"]);
    help.ok();
    for flag in [
        "--max-head-bytes",
        "--head-timeout-secs",
        "--idle-timeout-secs",
        "--max-connections",
        "--request-log-entries",
        "--request-log-bytes",
        "--request-log-entry-bytes",
        "--max-token-request-bytes",
        "--max-scope-bytes",
        "--max-grants",
        "--allow-remote",
        "--ready-json",
    ] {
        assert!(help.stdout.contains(flag), "{flag}: {}", help.stdout);
    }
    let refused = run_bare(
        dir.path(),
        &[
            "emulator",
            "--bind",
            "0.0.0.0:0",
            "--allow-remote",
            "--ready-json",
        ],
    );
    refused.expect_code(2);
    assert_eq!(refused.stdout, "", "no ready line");
    assert!(
        refused
            .stderr
            .contains("--password (IDENTITY_EMULATOR_PASSWORD)"),
        "{refused:#?}"
    );
    assert!(refused.stderr.contains("--client-secret"), "{refused:#?}");
    let bad_limit = run_bare(dir.path(), &["emulator", "--max-head-bytes", "100"]);
    bad_limit.expect_code(2);
    assert!(
        bad_limit.stderr.contains("--max-head-bytes"),
        "{bad_limit:#?}"
    );
}

#[test]
fn plain_http_to_a_name_that_is_not_loopback_needs_the_opt_in_which_it_names() {
    let dir = tempfile::tempdir().unwrap();
    // A name, as a compose service's would be: never resolved here (the
    // proxy named is a closed loopback port), so nothing leaves the machine.
    let base_url = "http://identity-emulator.test:8080/identity";
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let run = |args: &[&str], opt_in: Option<&str>| {
        let mut command = command(dir.path());
        command
            .args(args)
            .args([
                "--base-url",
                base_url,
                "--access-token",
                "a-token",
                "users",
                "list",
            ])
            .env("FBN_PROXY_ADDRESS", &proxy);
        if let Some(value) = opt_in {
            command.env("FBN_ALLOW_INSECURE_HTTP", value);
        }
        finish(&mut command)
    };
    let refused = run(&[], None);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("--allow-insecure-http"),
        "{refused:#?}"
    );
    assert!(
        refused.stderr.contains("FBN_ALLOW_INSECURE_HTTP=true"),
        "{refused:#?}"
    );
    run(&[], Some("false")).expect_code(2);
    // Opted in, by the flag or the variable: the URL is taken, and the call
    // goes to the proxy (which is not there: no answer, exit 3).
    for opted_in in [
        run(&["--allow-insecure-http"], None),
        run(&[], Some("true")),
    ] {
        opted_in.expect_code(3);
        assert!(!opted_in.stderr.contains("plain http"), "{opted_in:#?}");
    }
}
