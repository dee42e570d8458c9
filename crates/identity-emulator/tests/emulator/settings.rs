//! Absurd settings are refused at start with an error naming the flag, never
//! a panic: a token lifetime or a fault delay no clock can hold, an empty
//! static token, a `Retry-After` no header can carry.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::Parser;
use http::{Method, StatusCode};
use identity_emulator::{
    EmulatorArgs, EmulatorConfig, EmulatorError, Fault, FaultRule, MAX_FAULT_DELAY_MS,
    MAX_TOKEN_TTL,
};
use serde_json::json;

use crate::common::TestEmulator;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    emulator: EmulatorArgs,
}

fn with_ttl(token_ttl: Duration) -> EmulatorConfig {
    EmulatorConfig {
        token_ttl,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn a_token_lifetime_beyond_ten_years_is_an_error_not_a_panic() {
    assert_eq!(MAX_TOKEN_TTL, Duration::from_secs(315_360_000));
    assert!(with_ttl(MAX_TOKEN_TTL).validate().is_ok());
    for absurd in [
        MAX_TOKEN_TTL + Duration::from_secs(1),
        Duration::from_secs(u64::MAX),
        Duration::MAX,
    ] {
        let error = with_ttl(absurd).validate().unwrap_err();
        assert!(
            matches!(error, EmulatorError::InvalidSetting { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("--token-ttl-secs"), "{error}");
        let start = identity_emulator::start(with_ttl(absurd)).await;
        assert!(start.is_err(), "{absurd:?} started");
    }

    // At the limit, tokens are issued and refreshed (refresh tokens live 24
    // times longer) without overflowing anything.
    let emulator = TestEmulator::with(with_ttl(MAX_TOKEN_TTL)).await;
    let reply = emulator
        .send(
            crate::common::Call::new(Method::POST, emulator.emulator.token_url()).raw_body(
                "application/x-www-form-urlencoded",
                "grant_type=password&username=emulator-user&password=emulator-password\
                 &client_id=emulator-client&client_secret=emulator-client-secret",
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.value()["expires_in"], MAX_TOKEN_TTL.as_secs());
}

#[test]
fn the_flags_refuse_absurd_values_by_name() {
    let limit = MAX_TOKEN_TTL.as_secs().to_string();
    let at_limit = Cli::try_parse_from(["emulator", "--token-ttl-secs", &limit]).unwrap();
    assert!(at_limit.emulator.into_config().validate().is_ok());
    for absurd in ["315360001", "18446744073709551615"] {
        let error = Cli::try_parse_from(["emulator", "--token-ttl-secs", absurd])
            .err()
            .unwrap();
        assert!(error.to_string().contains("--token-ttl-secs"), "{error}");
    }
    let huge_delay = format!(
        r#"{{"fault":{{"kind":"delay","ms":{}}}}}"#,
        MAX_FAULT_DELAY_MS + 1
    );
    let error = Cli::try_parse_from(["emulator", "--fault", &huge_delay])
        .err()
        .unwrap();
    assert!(error.to_string().contains("--fault"), "{error}");
    let overflowing = r#"{"fault":{"kind":"delay","ms":18446744073709551616}}"#;
    assert!(Cli::try_parse_from(["emulator", "--fault", overflowing]).is_err());
}

#[tokio::test]
async fn huge_delays_empty_tokens_and_unsendable_retry_afters_are_refused() {
    let delay = EmulatorConfig {
        faults: vec![FaultRule::new(None, Fault::Delay { ms: u64::MAX })],
        ..EmulatorConfig::default()
    };
    assert!(matches!(
        identity_emulator::start(delay).await,
        Err(EmulatorError::InvalidFault(_))
    ));
    let empty_token = EmulatorConfig {
        access_tokens: vec![String::new()],
        ..EmulatorConfig::default()
    };
    let error = empty_token.validate().unwrap_err();
    assert!(error.to_string().contains("--access-token"), "{error}");

    // The hook refuses them the same way.
    let emulator = TestEmulator::start().await;
    for fault in [
        json!({"kind": "delay", "ms": u64::MAX}),
        json!({"kind": "status", "status": 503, "retryAfter": "1\r\nSet-Cookie: a=b"}),
    ] {
        let reply = emulator
            .send(
                emulator
                    .hook(Method::PUT, "faults")
                    .json(&json!({"rules": [{"fault": fault}]})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{fault}");
        assert_eq!(reply.error_fields(), ["rules[0]"]);
    }
}

#[test]
fn the_binary_exits_with_a_message_naming_the_flag() {
    for args in [
        ["--token-ttl-secs", "18446744073709551615"],
        [
            "--fault",
            r#"{"fault":{"kind":"delay","ms":18446744073709551615}}"#,
        ],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_identity-emulator"))
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The banner would mean it started: stop it and fail. Otherwise
        // stdout ends when the process does.
        let stdout = BufReader::new(child.stdout.take().unwrap());
        for line in stdout.lines() {
            if line.unwrap().contains("listening on") {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("started with {args:?}");
            }
        }
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(args[0]), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
