//! How `fbn-identity` fails: each exit code of the table (`fbn-identity
//! --help`), and what it says on stderr.

use identity_emulator::{EmulatorConfig, Fault, FaultRule, FaultWhen};

use crate::support::{TOKEN, TestEmulator, closed_port, command, finish, run_bare};

#[test]
fn a_missing_user_exits_4_with_the_status_problem_and_request_id() {
    let emulator = TestEmulator::start();
    let run = emulator.run(&["users", "get", "00uNobody"]);
    run.expect_code(4);
    assert_eq!(run.stdout, "");
    for part in ["404", "GetUser", "detail:", "code: 657", "request id:"] {
        assert!(run.stderr.contains(part), "{part} missing: {run:#?}");
    }
    // --json changes nothing on stdout for a failure.
    let json = emulator.run(&["users", "get", "00uNobody", "--json"]);
    assert_eq!(json.expect_code(4).stdout, "");
}

#[test]
fn a_create_of_an_existing_login_exits_5_with_the_services_code_and_the_users_id() {
    let emulator = TestEmulator::start();
    let ann = emulator.create_personal("Ann", "Lee", "ann@example.com");
    let run = emulator.run(&[
        "users",
        "create",
        "--first-name",
        "Ann",
        "--last-name",
        "Lee",
        "--email",
        "ann@example.com",
    ]);
    run.expect_code(5);
    let owner = format!("the login is user {}'s", ann["id"].as_str().unwrap());
    for part in ["400", "CreateUser", "code: 658", "request id:", &owner] {
        assert!(run.stderr.contains(part), "{part} missing: {run:#?}");
    }
}

#[test]
fn a_wrong_lifecycle_step_exits_1() {
    let emulator = TestEmulator::start();
    let ann = emulator.create_personal("Ann", "Lee", "ann@example.com");
    let run = emulator.run(&["users", "unlock", ann["id"].as_str().unwrap()]);
    run.expect_code(1);
    assert!(run.stderr.contains("code: 706"), "{run:#?}");
}

#[test]
fn bad_usage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["users", "frobnicate"][..],
        &["users", "list", "--no-such-flag"],
        &["users", "create", "--first-name", "Ann"],
        &[
            "users",
            "create",
            "--first-name",
            "A",
            "--last-name",
            "B",
            "--email",
            "e",
            "--type",
            "robot",
        ],
        &[
            "users",
            "create",
            "--first-name",
            "A",
            "--last-name",
            "Lee",
            "--email",
            "a@example.com",
            "--role",
            "norole",
        ],
        &[
            "users",
            "create",
            "--first-name",
            "A",
            "--last-name",
            "Lee",
            "--email",
            "a@example.com",
            "--expiry",
            "tomorrow",
        ],
        &["schema", "set"],
        &["users", "list", "--timeout-ms", "soon"],
        &[],
    ] {
        let run = run_bare(dir.path(), args);
        run.expect_code(2);
        assert!(!run.stderr.is_empty(), "{args:?} says why: {run:#?}");
    }
}

#[test]
fn a_request_breaking_the_rules_exits_2_before_anything_is_sent() {
    let emulator = TestEmulator::start();
    let run = emulator.run(&[
        "users",
        "create",
        "--first-name",
        "",
        "--last-name",
        "L",
        "--email",
        "ann@example.com",
        "--second-email",
        "other@example.com",
    ]);
    run.expect_code(2);
    for field in ["firstName", "lastName", "secondEmailAddress"] {
        assert!(run.stderr.contains(field), "{field} missing: {run:#?}");
    }
    let schema = emulator.run(&["schema", "set", "--property", "bad name=spaces"]);
    schema.expect_code(2);
    assert!(
        schema.stderr.contains("alternativeUserIds[0].name"),
        "{schema:#?}"
    );
    assert!(
        emulator.operations().is_empty(),
        "nothing sent: {:?}",
        emulator.operations()
    );
}

#[test]
fn missing_or_bad_configuration_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let nothing = run_bare(dir.path(), &["users", "list"]);
    nothing.expect_code(2);
    assert!(!nothing.stderr.is_empty());

    let no_credentials = run_bare(
        dir.path(),
        &["users", "list", "--base-url", "http://127.0.0.1:1/identity"],
    );
    no_credentials.expect_code(2);

    let not_a_url = run_bare(
        dir.path(),
        &[
            "users",
            "list",
            "--base-url",
            "not a url",
            "--access-token",
            "t",
        ],
    );
    not_a_url.expect_code(2);

    let missing_file = run_bare(
        dir.path(),
        &["users", "list", "--secrets", "no-such-file.json"],
    );
    missing_file.expect_code(2);

    let insecure = run_bare(
        dir.path(),
        &[
            "users",
            "list",
            "--base-url",
            "http://example.com/identity",
            "--access-token",
            "t",
        ],
    );
    insecure.expect_code(2);
}

#[test]
fn an_emulator_that_cannot_start_as_asked_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_bare(dir.path(), &["emulator", "--bind", "192.0.2.1:0"]);
    run.expect_code(2);
    assert!(run.stderr.contains("non-loopback"), "{run:#?}");
}

#[test]
fn a_closed_stdout_ends_quietly_with_141() {
    let emulator = TestEmulator::start();
    emulator.create_personal("Ann", "Lee", "ann@example.com");
    let mut child = emulator
        .command(&["users", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // 128 + SIGPIPE, as a shell reports a process the signal killed.
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert_eq!(stderr, "", "a closed pipe ends the command without a word");
}

#[test]
fn nothing_listening_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/identity", closed_port());
    let run = run_bare(
        dir.path(),
        &["users", "list", "--base-url", &url, "--access-token", "t"],
    );
    run.expect_code(3);
    assert!(run.stderr.contains("could not connect"), "{run:#?}");
}

#[test]
fn a_timeout_exits_3() {
    let emulator = TestEmulator::start_with(EmulatorConfig {
        access_tokens: vec![TOKEN.to_owned()],
        faults: vec![FaultRule::new(
            Some("ListUsers"),
            Fault::Delay { ms: 3_000 },
        )],
        ..EmulatorConfig::default()
    });
    let run = emulator.run(&["users", "list", "--timeout-ms", "200"]);
    run.expect_code(3);
    assert!(run.stderr.contains("timeout"), "{run:#?}");
}

#[test]
fn rate_limit_retries_retry_429_and_0_turns_them_off() {
    let emulator = TestEmulator::start();
    let throttle_once = || {
        vec![
            FaultRule::new(
                Some("ListUsers"),
                Fault::Status {
                    status: 429,
                    retry_after: Some("0".to_owned()),
                },
            )
            .when(FaultWhen::Next { n: 1 }),
        ]
    };
    emulator.set_faults(throttle_once());
    let off = emulator.run(&["users", "list", "--rate-limit-retries", "0"]);
    off.expect_code(6);
    assert!(off.stderr.contains("429"), "{off:#?}");

    emulator.set_faults(throttle_once());
    emulator
        .run(&["users", "list", "--rate-limit-retries", "1"])
        .ok();
}

#[test]
fn a_wait_longer_than_the_time_left_is_reported_with_how_long_the_service_asked() {
    let emulator = TestEmulator::start();
    emulator.set_faults(vec![
        FaultRule::new(
            Some("ListUsers"),
            Fault::Status {
                status: 429,
                retry_after: Some("120".to_owned()),
            },
        )
        .when(FaultWhen::Next { n: 1 }),
    ]);
    let run = emulator.run(&["users", "list", "--timeout-ms", "5000"]);
    run.expect_code(6);
    assert!(run.stderr.contains("429"), "{run:#?}");
    assert!(
        run.stderr
            .contains("the service asked to wait 120 s before trying again"),
        "{run:#?}"
    );
}

#[test]
fn refused_credentials_exit_1() {
    let emulator = TestEmulator::start();
    let config = EmulatorConfig::default();
    let wrong_password = finish(
        command(emulator.dir())
            .args(["users", "list", "--base-url", &emulator.base_url()])
            .args([
                "--token-url",
                &emulator.emulator().token_url(),
                "--username",
                &config.username,
            ])
            .args(["--client-id", &config.client_id])
            .env("FBN_PASSWORD", "not-the-password")
            .env("FBN_CLIENT_SECRET", &config.client_secret),
    );
    wrong_password.expect_code(1);
    assert!(
        !wrong_password.stderr.contains("not-the-password"),
        "{wrong_password:#?}"
    );

    let wrong_token = finish(command(emulator.dir()).args([
        "users",
        "list",
        "--base-url",
        &emulator.base_url(),
        "--access-token",
        "wrong-token",
    ]));
    wrong_token.expect_code(1);
    assert!(wrong_token.stderr.contains("401"), "{wrong_token:#?}");
}
