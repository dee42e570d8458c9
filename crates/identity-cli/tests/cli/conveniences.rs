//! The conveniences: NO_COLOR, requests from a file, and `users get` of
//! several ids (the shells' completions: `completions.rs`).

use std::io::Write;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::support::{TestEmulator, finish};

#[test]
fn no_color_turns_every_colour_off() {
    let emulator = TestEmulator::start();
    let colour = |run: &crate::support::Run| run.stderr.contains('\u{1b}');

    // Forced into a pipe, the error's prefix is coloured...
    let forced = finish(
        emulator
            .command(&["users", "get", "nobody"])
            .env("CLICOLOR_FORCE", "1"),
    );
    forced.expect_code(4);
    assert!(colour(&forced), "{forced:#?}");
    assert!(forced.stderr.contains("error:"), "{forced:#?}");
    // ... and NO_COLOR wins, for errors, logs and clap's own output.
    for args in [
        &["users", "get", "nobody"][..],
        &["users", "get", "nobody", "-v"],
        &["users", "frobnicate"],
    ] {
        let plain = finish(
            emulator
                .command(args)
                .env("CLICOLOR_FORCE", "1")
                .env("NO_COLOR", "1"),
        );
        assert_ne!(plain.code, 0);
        assert!(!colour(&plain), "{args:?}: {plain:#?}");
    }
    let help = finish(
        crate::support::command(emulator.dir())
            .args(["users", "export", "--help"])
            .env("CLICOLOR_FORCE", "1")
            .env("NO_COLOR", "1"),
    );
    help.ok();
    assert!(!help.stdout.contains('\u{1b}'), "{help:#?}");
    let logs = finish(
        emulator
            .command(&["users", "list", "-v"])
            .env("CLICOLOR_FORCE", "1"),
    );
    logs.ok();
    assert!(
        colour(&logs),
        "the logs are coloured when forced: {logs:#?}"
    );

    // Not a terminal, not forced: no colour and no progress line.
    let plain = emulator.run(&["users", "get", "nobody"]);
    assert!(!colour(&plain), "{plain:#?}");
}

/// Runs `args` with `input` on stdin.
fn with_stdin(emulator: &TestEmulator, args: &[&str], input: &str) -> crate::support::Run {
    let mut child = emulator
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    crate::support::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn create_and_update_take_a_request_body_from_a_file_or_stdin() {
    let emulator = TestEmulator::start();
    let body = json!({
        "firstName": "Build", "lastName": "Bot", "emailAddress": "ops@example.com",
        "login": "build-bot", "type": "Service", "secondEmailAddress": "oncall@example.com",
        "roles": [{"scope": "default", "code": "runner"}],
    });
    let file = emulator.write_file("bot.json", &serde_json::to_string_pretty(&body).unwrap());
    let created = emulator
        .run(&[
            "users",
            "create",
            "--from-file",
            file.to_str().unwrap(),
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(created["login"], "build-bot");
    assert_eq!(created["type"], "Service");
    let id = created["id"].as_str().unwrap().to_owned();
    let user = emulator.user(&id).unwrap();
    assert_eq!(
        user.second_email_address.as_deref(),
        Some("oncall@example.com")
    );
    assert_eq!(user.roles.unwrap()[0].role_id.code, "runner");

    let from_stdin = with_stdin(
        &emulator,
        &["users", "create", "--from-file", "-", "--json"],
        &json!({"firstName": "Ann", "lastName": "Lee", "emailAddress": "ann@example.com",
                "login": "ann@example.com", "type": "Personal"})
        .to_string(),
    );
    assert_eq!(from_stdin.ok().json()["login"], "ann@example.com");

    // Update replaces the details with the body given.
    let update = json!({"firstName": "Builder", "lastName": "Robot", "emailAddress": "ops@example.com",
                        "login": "build-bot", "secondEmailAddress": "pager@example.com"});
    let updated = with_stdin(
        &emulator,
        &["users", "update", &id, "--from-file", "-", "--json"],
        &update.to_string(),
    );
    let updated: Value = updated.ok().json();
    assert_eq!(updated["firstName"], "Builder");
    assert_eq!(
        emulator.user(&id).unwrap().second_email_address.as_deref(),
        Some("pager@example.com")
    );

    // Mistakes are usage errors, found before anything is sent.
    let before = emulator.operations().len();
    let not_json = emulator.write_file("bad.json", "{\"firstName\": ");
    let run = emulator.run(&["users", "create", "--from-file", not_json.to_str().unwrap()]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("not the JSON of a CreateUserRequest"),
        "{run:#?}"
    );
    let invalid = emulator.write_file(
        "invalid.json",
        &json!({"firstName": "A", "lastName": "B", "emailAddress": "a@example.com",
                "login": "a@example.com", "type": "Personal"})
        .to_string(),
    );
    let run = emulator.run(&["users", "create", "--from-file", invalid.to_str().unwrap()]);
    run.expect_code(2);
    assert!(run.stderr.contains("lastName"), "{run:#?}");
    let run = emulator.run(&[
        "users",
        "update",
        &id,
        "--from-file",
        not_json.to_str().unwrap(),
    ]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("not the JSON of an UpdateUserRequest"),
        "{run:#?}"
    );
    assert_eq!(emulator.operations().len(), before, "nothing was sent");
    // A file and field flags together make no sense.
    let run = emulator.run(&[
        "users",
        "create",
        "--from-file",
        file.to_str().unwrap(),
        "--first-name",
        "X",
    ]);
    run.expect_code(2);
    // A file that cannot be read is a local file error.
    let run = emulator.run(&["users", "create", "--from-file", "missing.json"]);
    run.expect_code(8);
    assert!(run.stderr.contains("missing.json"), "{run:#?}");
}

#[test]
fn get_shows_several_users_and_reports_each_one_missing() {
    let emulator = TestEmulator::start();
    let ann = emulator.create_personal("Ann", "Lee", "ann@example.com");
    let bob = emulator.create_personal("Bob", "Ray", "bob@example.com");
    let (ann, bob) = (ann["id"].as_str().unwrap(), bob["id"].as_str().unwrap());

    let table = emulator.run(&["users", "get", ann, "nobody", bob]);
    table.expect_code(4);
    for value in [ann, bob, "ann@example.com", "bob@example.com"] {
        assert!(table.stdout.contains(value), "{value} missing: {table:#?}");
    }
    assert!(
        table
            .stderr
            .contains("error: user nobody: GetUser failed: 404"),
        "{table:#?}"
    );
    assert!(
        table.stderr.contains("1 of 3 users not shown"),
        "{table:#?}"
    );

    let json = emulator.run(&["users", "get", bob, ann, "--json"]);
    let users = json.ok().json();
    let ids: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [bob, ann], "in the order asked");

    let missing = emulator.run(&["users", "get", "nobody", "nobody2", "--json"]);
    missing.expect_code(4);
    assert_eq!(missing.json(), json!([]));
}
