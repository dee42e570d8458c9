//! What a script author relies on: with `--json`, each failure is one JSON
//! object on stderr, its `kind` and `exit_code` those of the one table, with
//! the service's status, code, request id and the wait it asked for; the
//! messages name flags and variables; `--dry-run` refuses what the service
//! would; a CSV on stdin gets a hint, a bad cell names its column.

use identity_emulator::{EmulatorConfig, Fault, FaultRule, FaultWhen};
use serde_json::Value;

use crate::support::{Run, TestEmulator, closed_port, command, finish, run_bare};

/// The one JSON object of a failure: the only line of stderr.
#[track_caller]
fn json_error(run: &Run) -> Value {
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {run:#?}");
    let error: Value = serde_json::from_str(lines[0])
        .unwrap_or_else(|error| panic!("stderr is not JSON ({error}): {run:#?}"));
    assert_eq!(error["exit_code"], run.code, "{run:#?}");
    for key in [
        "kind",
        "message",
        "operation",
        "status",
        "code",
        "request_id",
        "retry_after_seconds",
        "field_errors",
        "causes",
    ] {
        assert!(error.get(key).is_some(), "{key} missing: {error}");
    }
    error
}

#[test]
fn not_found_already_exists_and_a_refusal_have_their_kinds_codes_and_request_ids() {
    let emulator = TestEmulator::start();
    let missing = emulator.run(&["users", "get-by-login", "nobody@example.com", "--json"]);
    missing.expect_code(4);
    assert_eq!(missing.stdout, "");
    let error = json_error(&missing);
    assert_eq!(error["kind"], "not_found");
    assert_eq!(error["status"], 404);
    assert_eq!(error["code"], 657);
    assert_eq!(error["operation"], "GetUserFromLogin");
    assert!(error["request_id"].is_string(), "{error}");

    let ann = emulator.create_personal("Ann", "Lee", "ann@example.com");
    let create = [
        "users",
        "create",
        "--first-name",
        "Ann",
        "--last-name",
        "Lee",
        "--email",
        "ann@example.com",
        "--json",
    ];
    let again = emulator.run(&create);
    again.expect_code(5);
    let error = json_error(&again);
    assert_eq!(error["kind"], "already_exists");
    assert_eq!(
        (error["status"].clone(), error["code"].clone()),
        (400.into(), 658.into())
    );

    let unlock = emulator.run(&["users", "unlock", ann["id"].as_str().unwrap(), "--json"]);
    unlock.expect_code(1);
    let error = json_error(&unlock);
    assert_eq!(error["kind"], "refused");
    assert_eq!(error["code"], 706);
}

#[test]
fn throttled_says_the_wait_asked_and_no_answer_its_causes() {
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
    let run = emulator.run(&["users", "list", "--timeout-ms", "5000", "--json"]);
    run.expect_code(6);
    let error = json_error(&run);
    assert_eq!(error["kind"], "throttled");
    assert_eq!(error["status"], 429);
    assert_eq!(error["retry_after_seconds"], 120.0);

    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/identity", closed_port());
    let nothing = run_bare(
        dir.path(),
        &[
            "users",
            "list",
            "--base-url",
            &url,
            "--access-token",
            "t",
            "--json",
        ],
    );
    nothing.expect_code(3);
    // Not even the opening of a list on stdout.
    assert_eq!(nothing.stdout, "", "{nothing:#?}");
    let error = json_error(&nothing);
    assert_eq!(error["kind"], "no_answer");
    assert_eq!(error["message"], "ListUsers got no answer");
    assert!(
        error["causes"][0]
            .as_str()
            .unwrap()
            .contains("could not connect"),
        "{error}"
    );
}

#[test]
fn a_change_that_may_have_been_made_is_outcome_unknown_exit_7() {
    let emulator = TestEmulator::start();
    let ann = emulator.create_personal("Ann", "Lee", "ann@example.com");
    let id = ann["id"].as_str().unwrap();
    emulator.set_status(id, finbourne_identity::UserStatus::Active);
    // A gateway's 502 after the service acted: a password reset is not
    // sent twice, and nothing says whether it was made.
    emulator.set_faults(vec![FaultRule::new(
        Some("ResetPassword"),
        Fault::StatusAfterProcessing { status: 502 },
    )]);
    let text = emulator.run(&["users", "reset-password", id]);
    text.expect_code(7);
    assert!(
        text.stderr.contains("ResetPassword failed: 502"),
        "{text:#?}"
    );
    let run = emulator.run(&["users", "reset-password", id, "--json"]);
    run.expect_code(7);
    let error = json_error(&run);
    assert_eq!(error["kind"], "outcome_unknown");
    assert_eq!(error["status"], 502);
    // A read that gets the same answer is a refusal, not an unknown outcome.
    emulator.set_faults(vec![FaultRule::new(
        Some("GetUser"),
        Fault::StatusAfterProcessing { status: 502 },
    )]);
    let read = emulator.run(&["users", "get", id, "--json", "--timeout-ms", "3000"]);
    assert_ne!(read.code, 7, "{read:#?}");
}

#[test]
fn usage_and_configuration_errors_are_json_and_name_flags_and_variables() {
    let dir = tempfile::tempdir().unwrap();
    // clap's refusals too, with --json among the arguments.
    let clap = run_bare(dir.path(), &["users", "get", "--json"]);
    clap.expect_code(2);
    let error = json_error(&clap);
    assert_eq!(error["kind"], "usage");
    assert!(!error["message"].as_str().unwrap().is_empty(), "{error}");
    // Without --json, clap's own report.
    let plain = run_bare(dir.path(), &["users", "get"]);
    plain.expect_code(2);
    assert!(plain.stderr.contains("Usage:"), "{plain:#?}");
    // --help is not an error, with --json or without.
    run_bare(dir.path(), &["--help", "--json"]).ok();

    let nothing = run_bare(dir.path(), &["users", "list"]);
    nothing.expect_code(2);
    for words in ["--base-url", "FBN_IDENTITY_URL", "api.identityUrl"] {
        assert!(nothing.stderr.contains(words), "{words}: {nothing:#?}");
    }
    assert!(!nothing.stderr.contains("builder"), "{nothing:#?}");

    let insecure = run_bare(
        dir.path(),
        &[
            "users",
            "list",
            "--base-url",
            "http://identity.test:8080/identity",
            "--access-token",
            "t",
            "--json",
        ],
    );
    insecure.expect_code(2);
    let error = json_error(&insecure);
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("from --base-url"), "{message}");
    assert!(message.contains("--allow-insecure-http"), "{message}");
    assert!(
        message.contains("FBN_ALLOW_INSECURE_HTTP=true"),
        "{message}"
    );
    assert!(
        !message.contains("Builder") && !message.contains("builder"),
        "{message}"
    );
}

#[test]
fn an_export_to_a_missing_directory_is_a_local_file_error() {
    let emulator = TestEmulator::start();
    let text = emulator.run(&["users", "export", "--output", "no-such-dir/users.jsonl"]);
    text.expect_code(8);
    let run = emulator.run(&[
        "users",
        "export",
        "--output",
        "no-such-dir/users.jsonl",
        "--json",
    ]);
    run.expect_code(8);
    assert_eq!(json_error(&run)["kind"], "local_file");
}

#[test]
fn a_refused_token_names_the_credential_and_a_refused_grant_is_not_no_answer() {
    let emulator = TestEmulator::start();
    let wrong_token = finish(command(emulator.dir()).args([
        "users",
        "list",
        "--base-url",
        &emulator.base_url(),
        "--access-token",
        "wrong-token",
    ]));
    wrong_token.expect_code(1);
    assert!(
        wrong_token
            .stderr
            .contains("the token refused is the personal access token (from --access-token"),
        "{wrong_token:#?}"
    );
    assert!(
        !wrong_token.stderr.contains("wrong-token"),
        "{wrong_token:#?}"
    );

    let config = EmulatorConfig::default();
    let wrong_password = finish(
        command(emulator.dir())
            .args(["users", "list", "--base-url", &emulator.base_url()])
            .args(["--token-url", &emulator.emulator().token_url()])
            .args([
                "--username",
                &config.username,
                "--client-id",
                &config.client_id,
            ])
            .env("FBN_PASSWORD", "not-the-password")
            .env("FBN_CLIENT_SECRET", &config.client_secret),
    );
    wrong_password.expect_code(1);
    assert!(
        !wrong_password.stderr.contains("no answer"),
        "an answer came: {wrong_password:#?}"
    );
    assert!(
        wrong_password.stderr.contains("refused the password grant"),
        "{wrong_password:#?}"
    );
}

#[test]
fn a_dry_run_refuses_a_type_the_service_refuses() {
    let emulator = TestEmulator::start();
    let robot = r#"{"firstName":"R","lastName":"Bot","emailAddress":"r@example.com","login":"r@example.com","type":"Robot"}"#;
    let file = emulator.write_file("users.jsonl", &format!("{robot}\n"));
    let run = emulator.run(&["users", "import", file.to_str().unwrap(), "--dry-run"]);
    run.expect_code(9);
    assert!(
        run.stderr
            .contains("The field type must be either 'Personal' or 'Service'."),
        "{run:#?}"
    );
    assert!(emulator.operations().is_empty(), "nothing sent");
}

#[test]
fn a_csv_on_stdin_gets_a_hint_and_a_bad_cell_names_its_column() {
    let emulator = TestEmulator::start();
    let csv = "firstName,lastName,emailAddress,login,type,userExpiry\n\
               Ann,Lee,ann@example.com,ann@example.com,Personal,31/01/2030\n";
    let mut stdin = emulator.command(&["users", "import", "-", "--dry-run"]);
    let run = crate::support::finish_with_stdin(&mut stdin, csv);
    run.expect_code(2);
    assert!(run.stderr.contains("give --format csv"), "{run:#?}");

    let mut as_csv = emulator.command(&["users", "import", "-", "--dry-run", "--format", "csv"]);
    let run = crate::support::finish_with_stdin(&mut as_csv, csv);
    run.expect_code(9);
    assert!(run.stderr.contains("line 2"), "{run:#?}");
    assert!(run.stderr.contains("userExpiry: "), "{run:#?}");
}
