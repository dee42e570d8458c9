//! What `fbn-identity` trusts: none of the service's text raw on the
//! terminal.

use crate::support::{Run, TestEmulator};

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
    missing.expect_code(1);
    no_raw_control(&missing);
    assert!(
        missing.stderr.contains("\\x1b]0;owned\\x07"),
        "{missing:#?}"
    );
}
