//! Inputs that are secrets are bounded, and secrets never reach the
//! terminal: a token file that never ends (`/dev/zero`) or never answers
//! (a FIFO nobody writes to) ends the command with an error naming the
//! file; a token endpoint that echoes the request has the password, the
//! client secret and the refresh token removed from what is shown and
//! logged.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use crate::support::{command, finish};

/// Runs `command` to its end, failing the test if it has not ended after
/// 60 s (a process that never exits is the failure looked for).
#[cfg(unix)]
fn finish_or_fail(command: &mut std::process::Command) -> crate::support::Run {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the command did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    crate::support::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[cfg(unix)]
#[test]
fn an_endless_token_file_is_read_up_to_its_bound_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "http://127.0.0.1:{}/identity",
        crate::support::closed_port()
    );
    let run = finish_or_fail(
        command(dir.path())
            .args(["users", "list", "--base-url", &url])
            .env("FBN_ACCESS_TOKEN_FILE", "/dev/zero"),
    );
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("the access token file /dev/zero is longer than 65536 bytes"),
        "{run:#?}"
    );
}

#[cfg(unix)]
#[test]
fn a_token_file_nobody_writes_ends_the_command_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("token-fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let url = format!(
        "http://127.0.0.1:{}/identity",
        crate::support::closed_port()
    );
    let run = finish_or_fail(
        command(dir.path())
            .args(["users", "list", "--base-url", &url, "--timeout-ms", "300"])
            .env("FBN_ACCESS_TOKEN_FILE", &fifo),
    );
    run.expect_code(2);
    assert!(
        run.stderr.contains(&format!(
            "the access token file {} could not be read within",
            fifo.display()
        )),
        "{run:#?}"
    );
    assert!(!run.stderr.contains("token endpoint"), "{run:#?}");
}

/// A token endpoint on a loopback port that refuses every request with an
/// `error_description` echoing its form and its `Authorization` header.
fn echoing_token_endpoint() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut authorization = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("authorization:") {
                    authorization = line.trim().to_owned();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut form = vec![0; length];
            if reader.read_exact(&mut form).is_err() {
                continue;
            }
            let body = serde_json::json!({
                "error": "invalid_request",
                "error_description": format!(
                    "you sent {} with {authorization}",
                    String::from_utf8_lossy(&form)
                ),
            })
            .to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[test]
fn a_token_endpoint_echoing_the_form_never_shows_the_password_or_the_client_secret() {
    let port = echoing_token_endpoint();
    let dir = tempfile::tempdir().unwrap();
    let password = "pw-Q7x SECRET&=";
    let client_secret = "cs-Z9k+SECRET";
    for verbose in [None, Some("-vv")] {
        let mut command = command(dir.path());
        command
            .args(["users", "list"])
            .args(["--base-url", &format!("http://127.0.0.1:{port}/identity")])
            .args([
                "--token-url",
                &format!("http://127.0.0.1:{port}/oauth2/token"),
            ])
            .args(["--username", "robot", "--client-id", "client"])
            .env("FBN_PASSWORD", password)
            .env("FBN_CLIENT_SECRET", client_secret);
        command.args(verbose);
        let run = finish(&mut command);
        run.expect_code(1);
        assert!(
            run.stderr.contains("you sent grant_type=password"),
            "{run:#?}"
        );
        assert!(run.stderr.contains("[REDACTED]"), "{run:#?}");
        for shown in ["pw-Q7x", "Q7x+SECRET", "cs-Z9k", "Z9k%2BSECRET"] {
            assert!(!run.stderr.contains(shown), "{shown} shown: {run:#?}");
        }
    }
}
