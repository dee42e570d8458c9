//! `users import`: lines checked first, a dry run that reports each bad
//! line, and imports that can be re-run (after an interruption too) without
//! creating anyone twice.

use std::process::Stdio;
use std::time::{Duration, Instant};

use identity_emulator::{Fault, FaultRule};
use serde_json::{Value, json};

use crate::support::{TestEmulator, finish, people as lines, person, run_bare};

#[test]
fn a_dry_run_reports_each_bad_line_and_needs_no_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let bad_fields = json!({"firstName": "", "lastName": "X", "emailAddress": "c@example.com", "login": "other@example.com", "type": "Personal"});
    let text = format!(
        "{}\n\n{bad_fields}\nthis is not json\n{}\n",
        person(1),
        person(2)
    );
    let file = dir.path().join("users.jsonl");
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap();

    let run = run_bare(dir.path(), &["users", "import", file, "--dry-run"]);
    run.expect_code(9);
    for part in [
        "line 3",
        "firstName",
        "lastName",
        "login",
        "line 4",
        "not a CreateUserRequest",
        "2 valid, 2 not valid",
    ] {
        assert!(run.stderr.contains(part), "{part} missing: {run:#?}");
    }
    assert!(!run.stderr.contains("line 1 ("), "{run:#?}");
    assert!(!run.stderr.contains("line 5 ("), "{run:#?}");
    assert!(
        !run.stderr.contains("at line"),
        "serde's own line number is left out: {run:#?}"
    );

    let json = run_bare(
        dir.path(),
        &["users", "import", file, "--dry-run", "--json"],
    );
    let report = json.expect_code(9).json();
    assert_eq!(report["dryRun"], true);
    assert_eq!(
        (report["valid"].as_u64(), report["failed"].as_u64()),
        (Some(2), Some(2))
    );
    let outcomes: Vec<(u64, &str)> = report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| {
            (
                line["line"].as_u64().unwrap(),
                line["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [(1, "valid"), (3, "failed"), (4, "failed"), (5, "valid")]
    );
    assert!(report["lines"][1]["fieldErrors"]["firstName"].is_array());

    let good = dir.path().join("good.jsonl");
    std::fs::write(&good, lines(1..=3)).unwrap();
    let valid = run_bare(
        dir.path(),
        &["users", "import", good.to_str().unwrap(), "--dry-run"],
    );
    assert!(
        valid
            .ok()
            .stderr
            .contains("3 valid, 0 not valid; nothing was created"),
        "{valid:#?}"
    );
}

#[test]
fn an_import_with_bad_lines_creates_the_good_ones_and_exits_9() {
    let emulator = TestEmulator::start();
    let file = emulator.write_file(
        "users.jsonl",
        &format!("{}\n{{\"firstName\":1}}\n{}\n", person(1), person(2)),
    );
    let run = emulator.run(&["users", "import", file.to_str().unwrap(), "--json"]);
    run.expect_code(9);
    let report = run.json();
    assert_eq!(
        (
            report["created"].as_u64(),
            report["skipped"].as_u64(),
            report["failed"].as_u64()
        ),
        (Some(2), Some(0), Some(1))
    );
    assert_eq!(report["lines"][1]["line"], 2);
    assert_eq!(report["lines"][1]["outcome"], "failed");
    assert!(run.stderr.contains("line 2"), "{run:#?}");
    assert!(
        run.stderr.contains("created 2, skipped 0, failed 1"),
        "{run:#?}"
    );
    assert_eq!(emulator.users().len(), 2);
}

#[test]
fn re_running_an_import_creates_nobody_twice() {
    let emulator = TestEmulator::start();
    let first = emulator.write_file("first.jsonl", &lines(1..=4));
    let run = emulator.run(&[
        "users",
        "import",
        first.to_str().unwrap(),
        "--concurrency",
        "3",
    ]);
    assert!(
        run.ok().stderr.contains("created 4, skipped 0, failed 0"),
        "{run:#?}"
    );
    assert_eq!(run.stdout, "");

    // The same file again: everyone exists already.
    let again = emulator.run(&["users", "import", first.to_str().unwrap(), "--json"]);
    let report = again.ok().json();
    assert_eq!(
        (report["created"].as_u64(), report["skipped"].as_u64()),
        (Some(0), Some(4))
    );
    assert!(
        again.stderr.contains("line 1 (user1@example.com): skipped"),
        "{again:#?}"
    );

    // A file overlapping the first, with a login repeated (in other case)
    // and a deactivated user's login.
    let deleted = emulator.create_personal("User", "Number9", "user9@example.com");
    emulator
        .run(&["users", "delete", deleted["id"].as_str().unwrap()])
        .ok();
    let repeated = person(6).replace("user6@", "USER6@");
    let overlapping = emulator.write_file(
        "second.jsonl",
        &format!("{}{repeated}\n{}", lines([3, 4, 5, 6]), lines([9])),
    );
    let run = emulator.run(&["users", "import", overlapping.to_str().unwrap(), "--json"]);
    let report = run.ok().json();
    assert_eq!(
        (
            report["created"].as_u64(),
            report["skipped"].as_u64(),
            report["failed"].as_u64()
        ),
        (Some(2), Some(4), Some(0))
    );
    let outcomes: Vec<&str> = report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["outcome"].as_str().unwrap())
        .collect();
    // Lines 4 and 5 (user6, then USER6) are created at once: which of the
    // two the service takes first is its call; the other is its "already
    // exists", naming the same user.
    let (first, second) = (outcomes[3], outcomes[4]);
    assert_eq!(
        [&outcomes[..3], &outcomes[5..]].concat(),
        ["skipped", "skipped", "created", "skipped"]
    );
    assert!(
        matches!(
            (first, second),
            ("created", "skipped") | ("skipped", "created")
        ),
        "{outcomes:?}"
    );
    let repeat = if first == "skipped" { 3 } else { 4 };
    // The repeat of user6's login, and the deleted user's, are the
    // service's "already exists".
    for at in [repeat, 5] {
        assert_eq!(report["lines"][at]["reason"], "exists", "{report}");
    }
    assert_eq!(report["lines"][4]["id"], report["lines"][3]["id"]);

    let counts = emulator.login_counts();
    assert_eq!(counts.len(), 7, "{counts:?}");
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
}

#[test]
fn an_import_reads_stdin_and_ignores_blank_lines() {
    let emulator = TestEmulator::start();
    let mut command = emulator.command(&["users", "import", "-"]);
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        write!(stdin, "\n{}\n   \n{}\n\n", person(1), person(2)).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("created 2, skipped 0, failed 0"),
        "{stderr}"
    );
    assert_eq!(emulator.users().len(), 2);
}

#[test]
fn an_unreadable_file_exits_8() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_bare(
        dir.path(),
        &["users", "import", "no-such-file.jsonl", "--dry-run"],
    );
    run.expect_code(8);
    assert!(run.stderr.contains("no-such-file.jsonl"), "{run:#?}");
}

/// Starts an import of users 1 to 5, one create at a time, each taking
/// 400 ms, and waits until the first create has reached the emulator.
fn import_in_progress(emulator: &TestEmulator, file: &str) -> std::process::Child {
    emulator.set_faults(vec![FaultRule::new(
        Some("CreateUser"),
        Fault::Delay { ms: 400 },
    )]);
    let child = emulator
        .command(&["users", "import", file, "--concurrency", "1", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !emulator
        .operations()
        .iter()
        .any(|operation| operation == "CreateUser")
    {
        assert!(Instant::now() < deadline, "no create arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

fn interrupt(child: &std::process::Child) {
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
}

#[test]
fn an_interrupted_import_finishes_its_creates_says_where_it_stopped_and_re_runs_cleanly() {
    let emulator = TestEmulator::start();
    let file = emulator.write_file("users.jsonl", &lines(1..=5));
    let file = file.to_str().unwrap();

    let child = import_in_progress(&emulator, file);
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    // With --json, the error is its JSON object, on the last line.
    let error: Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(error["kind"], "interrupted", "{stderr}");
    assert_eq!(error["message"], "interrupted (SIGINT)", "{stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let created = report["created"].as_u64().unwrap();
    assert_eq!(
        report["failed"], 0,
        "the create in flight finished: {report}"
    );
    let after = report["stopped"]["afterLine"].as_u64().unwrap();
    assert!(after < 5, "{report}");
    assert_eq!(created, after, "every line read is accounted for: {report}");
    assert!(
        stderr.contains(&format!(
            "stopped after line {after}: the lines after it were not read"
        )),
        "{stderr}"
    );
    assert_eq!(emulator.users().len() as u64, created);

    emulator.set_faults(Vec::new());
    let rerun = finish(&mut emulator.command(&["users", "import", file, "--json"]));
    let report = rerun.ok().json();
    assert_eq!(report["skipped"].as_u64(), Some(created));
    assert_eq!(report["created"].as_u64(), Some(5 - created));
    let counts = emulator.login_counts();
    assert_eq!(counts.len(), 5);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
}

#[test]
fn a_second_interruption_stops_at_once_and_reports_the_create_in_flight() {
    let emulator = TestEmulator::start();
    let file = emulator.write_file("users.jsonl", &lines(1..=5));
    let child = import_in_progress(&emulator, file.to_str().unwrap());
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(50));
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted again: stopping now"),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let line = &report["lines"][0];
    assert_eq!(line["outcome"], "failed", "{report}");
    assert!(
        line["message"]
            .as_str()
            .unwrap()
            .contains("interrupted while being created: the user may exist"),
        "{report}"
    );
}
