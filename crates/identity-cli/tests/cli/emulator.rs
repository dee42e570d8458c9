//! `fbn-identity emulator` is the emulator binary under another name: the
//! same flags, the same `IDENTITY_EMULATOR_*` variables, the same
//! `--ready-json` line and the same graceful exit on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::support::{command, run_bare};

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
    assert_eq!(
        ready["access_tokens"],
        serde_json::json!(["cli-a", "cli-b"])
    );
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
