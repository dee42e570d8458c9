//! What `fbn-identity` trusts: only the settings the user chose (a
//! `secrets.json` planted in the working directory steers nothing), no
//! setting that makes no sense, and none of the service's text raw on the
//! terminal.

use identity_emulator::EmulatorConfig;

use crate::support::{Run, TOKEN, TestEmulator, command, finish, run_bare};

/// The token the planted file's emulator accepts.
const PLANTED_TOKEN: &str = "planted-token-9c2d";

/// A `secrets.json` that would send everything to `attacker`: its base URL,
/// its token URL, its token, a proxy at its address, and a CA file (which
/// does not exist, so that reading the file fails the command).
fn hostile_secrets(attacker: &TestEmulator) -> String {
    let root = attacker.emulator().root_url();
    serde_json::json!({
        "api": {
            "identityUrl": attacker.base_url(),
            "tokenUrl": attacker.emulator().token_url(),
            "accessToken": PLANTED_TOKEN,
            "clientCertificate": "attacker-ca.pem",
            "rateLimitRetries": 0
        },
        "proxy": {"address": root}
    })
    .to_string()
}

/// Asserts that `attacker` was never asked anything.
#[track_caller]
fn untouched(attacker: &TestEmulator) {
    let requests = attacker.emulator().requests();
    assert!(
        requests.is_empty(),
        "the planted file's server was called: {requests:#?}"
    );
}

#[test]
fn a_secrets_file_planted_in_the_working_directory_is_ignored() {
    let emulator = TestEmulator::start();
    emulator.create_personal("Ann", "Lee", "ann@example.com");
    let attacker = TestEmulator::start_with(EmulatorConfig {
        access_tokens: vec![PLANTED_TOKEN.to_owned()],
        ..EmulatorConfig::default()
    });
    emulator.write_file("secrets.json", &hostile_secrets(&attacker));

    // Nothing else configured: the missing setting is reported, as if the
    // file were not there.
    let bare = run_bare(emulator.dir(), &["users", "list"]);
    bare.expect_code(2);
    assert!(bare.stderr.contains("missing identity URL"), "{bare:#?}");
    assert_eq!(bare.stdout, "");
    untouched(&attacker);

    // Configured by flags and by the environment: the file's proxy, CA and
    // token are not used either (each would fail the call or reach the
    // attacker's server).
    let flags = emulator.run(&["users", "list", "--json"]);
    assert_eq!(flags.ok().json().as_array().unwrap().len(), 1);
    let env = finish(
        command(emulator.dir())
            .args(["users", "list", "--json"])
            .env("FBN_IDENTITY_URL", emulator.base_url())
            .env("FBN_ACCESS_TOKEN", TOKEN),
    );
    assert_eq!(env.ok().json().as_array().unwrap().len(), 1);
    // Only the base URL given: the planted token does not fill the gap.
    let no_token = run_bare(
        emulator.dir(),
        &["users", "list", "--base-url", &emulator.base_url()],
    );
    no_token.expect_code(2);
    assert!(no_token.stderr.contains("no credentials"), "{no_token:#?}");
    untouched(&attacker);

    // A file that is named is read: the user chose it.
    let named = serde_json::json!({
        "api": {"identityUrl": attacker.base_url(), "accessToken": PLANTED_TOKEN}
    });
    emulator.write_file("chosen.json", &named.to_string());
    let chosen = run_bare(
        emulator.dir(),
        &["users", "list", "--json", "--secrets", "chosen.json"],
    );
    assert_eq!(chosen.ok().json(), serde_json::json!([]));
    assert!(
        attacker.operations().contains(&"ListUsers".to_owned()),
        "the named file was not read: {chosen:#?}"
    );
    // So is the planted one, once named: its CA file does not exist.
    let planted = run_bare(
        emulator.dir(),
        &["users", "list", "--secrets", "secrets.json"],
    );
    planted.expect_code(2);
    assert!(planted.stderr.contains("attacker-ca.pem"), "{planted:#?}");
}

#[cfg(unix)]
#[test]
fn a_secrets_file_others_may_read_is_used_with_a_warning_on_stderr() {
    use std::os::unix::fs::PermissionsExt;

    let emulator = TestEmulator::start();
    let secret = "pat-in-a-shared-file";
    let file = emulator.write_file(
        "mine.json",
        &serde_json::json!({"api": {"identityUrl": emulator.base_url(), "accessToken": TOKEN,
                                    "applicationName": secret}})
        .to_string(),
    );
    let list = || {
        run_bare(
            emulator.dir(),
            &["users", "list", "--json", "--secrets", "mine.json"],
        )
    };

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shared = list();
    shared.ok();
    let warning = shared
        .stderr
        .lines()
        .find(|line| line.starts_with("warning: "))
        .unwrap_or_else(|| panic!("no warning: {shared:#?}"));
    for part in ["group or others", "mine.json", "mode=0644", "chmod 600"] {
        assert!(warning.contains(part), "{part} missing: {warning}");
    }
    assert!(!shared.stderr.contains(secret), "{shared:#?}");
    assert!(!shared.stderr.contains(TOKEN), "{shared:#?}");

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let private = list();
    private.ok();
    assert!(!private.stderr.contains("warning"), "{private:#?}");
}

#[test]
fn settings_that_make_no_sense_are_refused_naming_them() {
    let emulator = TestEmulator::start();
    for (name, value, named) in [
        ("FBN_TOTAL_TIMEOUT_MS", "0", "FBN_TOTAL_TIMEOUT_MS"),
        ("FBN_CONNECT_TIMEOUT_MS", "0", "FBN_CONNECT_TIMEOUT_MS"),
        ("FBN_READ_TIMEOUT_MS", "99999999999", "FBN_READ_TIMEOUT_MS"),
        ("FBN_RATE_LIMIT_RETRIES", "1000", "FBN_RATE_LIMIT_RETRIES"),
    ] {
        let run = finish(emulator.command(&["users", "list"]).env(name, value));
        run.expect_code(2);
        assert!(run.stderr.contains(named), "{run:#?}");
        assert!(run.stderr.contains(value), "{run:#?}");
    }
    for flags in [
        ["--rate-limit-retries", "101"],
        ["--timeout-ms", "0"],
        ["--timeout-ms", "86400001"],
    ] {
        let run = emulator.run(&["users", "list", flags[0], flags[1]]);
        run.expect_code(2);
        assert!(run.stderr.contains(flags[0]), "{run:#?}");
    }
    assert!(emulator.operations().is_empty());
}

/// Whether `text` holds a control character other than a line break.
fn raw_control(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n')
}

#[track_caller]
fn no_raw_control(run: &Run) {
    assert!(!raw_control(&run.stdout), "raw control on stdout: {run:?}");
    assert!(!raw_control(&run.stderr), "raw control on stderr: {run:?}");
}

#[test]
fn the_services_text_reaches_the_terminal_escaped_and_json_exact() {
    let emulator = TestEmulator::start();
    let first = "\u{1b}[31mAnn\u{7}";
    let last = "Lee\u{9b}2J";
    let created = emulator.run(&[
        "users",
        "create",
        "--json",
        "--first-name",
        first,
        "--last-name",
        last,
        "--email",
        "ann@example.com",
    ]);
    no_raw_control(&created);
    let user = created.ok().json();
    // JSON: the exact text.
    assert_eq!(user["firstName"], first);
    assert_eq!(user["lastName"], last);
    let id = user["id"].as_str().unwrap();

    // Tables: a visible form.
    for args in [&["users", "list"][..], &["users", "get", id]] {
        let run = emulator.run(args);
        no_raw_control(run.ok());
        assert!(run.stdout.contains("\\x1b[31mAnn\\x07"), "{run:#?}");
        assert!(run.stdout.contains("Lee\\u{9b}2J"), "{run:#?}");
    }
    let json = emulator.run(&["users", "list", "--json"]);
    no_raw_control(json.ok());
    assert_eq!(json.json()[0]["firstName"], first);
    let export = emulator.run(&["users", "export"]);
    no_raw_control(export.ok());
    let line: serde_json::Value = serde_json::from_str(export.stdout.trim()).unwrap();
    assert_eq!(line["lastName"], last);

    // An error answer quoting a hostile login: its detail is escaped.
    let missing = emulator.run(&["users", "get-by-login", "\u{1b}]0;owned\u{7}"]);
    missing.expect_code(4);
    no_raw_control(&missing);
    assert!(
        missing.stderr.contains("\\x1b]0;owned\\x07"),
        "{missing:#?}"
    );
}
