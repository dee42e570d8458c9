//! Moving users in bulk: exports that are whole or absent, a closed pipe,
//! the import's report, resuming, settling unknown outcomes, and the
//! adaptive pace under the service's 429s (round trips: `round_trip.rs`).

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use identity_emulator::{Fault, FaultRule, FaultWhen};
use serde_json::{Value, json};

use crate::support::{Run, TestEmulator, names_in, people, person};

/// Creates users `numbers` through the CLI's own import.
fn seed(emulator: &TestEmulator, numbers: impl IntoIterator<Item = usize>) {
    let file = emulator.write_file("seed.jsonl", &people(numbers));
    emulator
        .run(&[
            "users",
            "import",
            file.to_str().unwrap(),
            "--concurrency",
            "16",
        ])
        .ok();
}

/// The JSON lines of a file or of stdout.
fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect()
}

/// The outcome lines of a report (its header line left out).
fn outcomes(report: &str) -> Vec<Value> {
    let mut lines = json_lines(report);
    assert_eq!(
        lines.first().map(|header| header["report"].clone()),
        Some(json!("fbn-identity users import")),
        "{report}"
    );
    lines.remove(0);
    lines
}

/// No progress line (nor any other terminal control) on a stderr that is
/// not a terminal.
#[track_caller]
fn no_progress(run: &Run) {
    assert!(
        !run.stderr.contains('\r') && !run.stderr.contains('\u{1b}'),
        "{run:#?}"
    );
}

#[test]
fn an_export_to_a_file_is_whole_or_not_written_at_all() {
    let emulator = TestEmulator::start();
    seed(&emulator, 1..=5);

    let run = emulator.run(&["users", "export", "--output", "users.jsonl"]);
    run.ok();
    no_progress(&run);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("exported 5 users to users.jsonl"),
        "{run:#?}"
    );
    let path = emulator.dir().join("users.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(json_lines(&text).len(), 5);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "user data is the owner's alone");
    }

    // The service fails: no new file, the old one as it was, no temporary
    // file left behind.
    emulator.set_faults(vec![FaultRule::new(
        Some("ListUsers"),
        Fault::Status {
            status: 500,
            retry_after: None,
        },
    )]);
    for target in ["users.csv", "users.jsonl"] {
        let run = emulator.run(&["users", "export", "--output", target]);
        run.expect_code(1);
        for part in [
            "export stopped after 0 users: ListUsers failed: 500",
            &format!("nothing was written to {target}"),
        ] {
            assert!(run.stderr.contains(part), "{part} missing: {run:#?}");
        }
    }
    assert_eq!(names_in(emulator.dir()), ["seed.jsonl", "users.jsonl"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    // On stdout, the same message.
    let run = emulator.run(&["users", "export"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("error: export stopped after 0 users: ListUsers failed: 500"),
        "{run:#?}"
    );
}

#[test]
fn an_export_stopped_part_way_says_how_many_users_it_wrote_whole() {
    let emulator = TestEmulator::start();
    seed(&emulator, 1..=12);
    // Every fourth GetUser is refused: the export with roles stops at one.
    emulator.set_faults(vec![
        FaultRule::new(
            Some("GetUser"),
            Fault::Status {
                status: 400,
                retry_after: None,
            },
        )
        .when(FaultWhen::Every { n: 4 }),
    ]);
    let run = emulator.run(&["users", "export", "--include-roles"]);
    run.expect_code(1);
    let count: usize = run
        .stderr
        .split("export stopped after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no count: {run:#?}"));
    assert!(count < 12, "{run:#?}");
    assert!(run.stderr.contains(": GetUser failed: 400"), "{run:#?}");
    let lines = json_lines(&run.stdout);
    assert_eq!(lines.len(), count, "every line written is whole: {run:#?}");
    assert!(lines.iter().all(|user| user["roles"].is_array()));
}

#[test]
fn a_closed_pipe_ends_an_export_quietly_with_141() {
    let emulator = TestEmulator::start();
    // More than a pipe's buffer holds, so that the export is still writing
    // when its reader goes.
    seed(&emulator, 1..=600);
    let mut child = emulator
        .command(&["users", "export"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("@example.com"), "{first}");
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert_eq!(stderr, "", "no noise");
}

#[test]
fn the_report_has_one_line_per_input_line_with_ids_statuses_and_codes() {
    let emulator = TestEmulator::start();
    let existing = emulator.create_personal("User", "Number1", "user1@example.com");
    // The first line's login exists; the second create is refused by the
    // service itself (a 400 with its code); the third line is not even sent
    // (bad line); the fourth repeats the second's login in other case: the
    // service decides it.
    emulator.set_faults(vec![
        FaultRule::new(
            Some("CreateUser"),
            Fault::Status {
                status: 400,
                retry_after: None,
            },
        )
        .when(FaultWhen::Every { n: 2 }),
    ]);
    let text = format!(
        "{}\n{}\nnot json\n{}\n",
        person(1),
        person(2),
        person(2).replace("user2@", "USER2@")
    );
    let file = emulator.write_file("users.jsonl", &text);
    let run = emulator.run(&[
        "users",
        "import",
        file.to_str().unwrap(),
        "--report",
        "report.jsonl",
        "--concurrency",
        "1",
    ]);
    run.expect_code(9);
    let report = std::fs::read_to_string(emulator.dir().join("report.jsonl")).unwrap();
    let mut lines = outcomes(&report);
    lines.sort_by_key(|line| line["line"].as_u64());
    assert_eq!(lines.len(), 4, "{report}");
    assert_eq!(lines[0]["outcome"], "skipped");
    assert_eq!(lines[0]["reason"], "exists");
    assert_eq!(lines[0]["id"], existing["id"]);
    assert_eq!(lines[1]["outcome"], "failed");
    assert_eq!(lines[1]["status"], 400);
    assert!(lines[1]["code"].is_i64(), "{report}");
    assert!(lines[1]["message"].as_str().unwrap().contains("400"));
    assert_eq!(lines[2]["outcome"], "failed");
    assert!(lines[2].get("status").is_none());
    assert_eq!(lines[3]["outcome"], "created", "line 2 was not");
    assert!(!report.contains("unknown"));

    // A re-run resumes: it sends only the lines that failed; line 2's login
    // exists now, which the service says.
    emulator.set_faults(Vec::new());
    let before = emulator.operations().len();
    let rerun = emulator.run(&[
        "users",
        "import",
        file.to_str().unwrap(),
        "--report",
        "report.jsonl",
    ]);
    rerun.expect_code(9);
    assert!(
        rerun
            .stderr
            .contains("created 0, skipped 1, failed 1; 2 done by an earlier run"),
        "{rerun:#?}"
    );
    let creates = emulator.operations()[before..]
        .iter()
        .filter(|operation| *operation == "CreateUser")
        .count();
    assert_eq!(creates, 1, "only line 2 was sent again");
    let report = std::fs::read_to_string(emulator.dir().join("report.jsonl")).unwrap();
    let last = outcomes(&report)
        .into_iter()
        .rfind(|line| line["line"] == 2)
        .unwrap();
    assert_eq!(last["outcome"], "skipped");
    assert_eq!(last["id"], lines[3]["id"]);
    assert_eq!(emulator.login_counts().len(), 2);
}

#[test]
fn an_import_that_failed_half_way_resumes_without_duplicates() {
    let emulator = TestEmulator::start();
    // Every other create is refused: half the file is created.
    emulator.set_faults(vec![
        FaultRule::new(
            Some("CreateUser"),
            Fault::Status {
                status: 400,
                retry_after: None,
            },
        )
        .when(FaultWhen::Every { n: 2 }),
    ]);
    let file = emulator.write_file("users.jsonl", &people(1..=20));
    let file = file.to_str().unwrap();
    let first = emulator.run(&["users", "import", file, "--json"]);
    let report = first.expect_code(9).json();
    let created = report["created"].as_u64().unwrap();
    assert_eq!(created, 10, "{report}");
    assert_eq!(emulator.users().len() as u64, created);

    emulator.set_faults(Vec::new());
    let second = emulator.run(&["users", "import", file, "--json"]);
    let report = second.ok().json();
    assert_eq!(report["skipped"].as_u64(), Some(created));
    assert_eq!(report["created"].as_u64(), Some(20 - created));
    let counts = emulator.login_counts();
    assert_eq!(counts.len(), 20);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
}

#[test]
fn creates_whose_outcome_is_unknown_are_settled_by_their_login() {
    let emulator = TestEmulator::start();
    // A third of the creates are made, then their connection is closed
    // before the answer.
    emulator.set_faults(vec![
        FaultRule::new(Some("CreateUser"), Fault::CloseAfterProcessing).when(FaultWhen::Rate {
            rate: 0.34,
            seed: 11,
        }),
    ]);
    let file = emulator.write_file("users.jsonl", &people(1..=30));
    let run = emulator.run(&[
        "users",
        "import",
        file.to_str().unwrap(),
        "--report",
        "report.jsonl",
    ]);
    run.ok();
    let dropped = emulator
        .emulator()
        .requests()
        .iter()
        .filter(|request| request.fault.as_deref() == Some("closeAfterProcessing"))
        .count();
    assert!(dropped >= 3, "the fault fired {dropped} times");
    let report = std::fs::read_to_string(emulator.dir().join("report.jsonl")).unwrap();
    let lines = outcomes(&report);
    assert_eq!(lines.len(), 30);
    assert!(
        lines.iter().all(|line| line["outcome"] == "created"),
        "{report}"
    );
    assert!(!report.contains("unknown"));
    // Each created line's id is the user with its login.
    for line in &lines {
        let user = emulator.user(line["id"].as_str().unwrap()).unwrap();
        assert_eq!(Some(user.login.as_str()), line["login"].as_str());
    }
    let counts = emulator.login_counts();
    assert_eq!(counts.len(), 30);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");
    assert!(
        emulator
            .operations()
            .iter()
            .any(|operation| operation == "GetUserFromLogin"),
        "settled by login"
    );
}

#[test]
fn the_clients_pace_waits_out_429s_and_creates_each_user_once() {
    let emulator = TestEmulator::start();
    emulator.set_faults(vec![
        FaultRule::new(
            Some("CreateUser"),
            Fault::Status {
                status: 429,
                retry_after: Some("0.05".into()),
            },
        )
        .when(FaultWhen::Rate { rate: 0.3, seed: 5 }),
    ]);
    let file = emulator.write_file("users.jsonl", &people(1..=40));
    let run = emulator.run(&["users", "import", file.to_str().unwrap(), "--json"]);
    let report = run.ok().json();
    assert_eq!(report["created"], 40, "{report}");
    no_progress(&run);
    let throttled = emulator
        .emulator()
        .requests()
        .iter()
        .filter(|request| request.status == Some(429))
        .count();
    assert!(throttled >= 5, "{throttled} throttled");
    assert!(
        run.stderr.contains("concurrency: up to 32; ")
            && run
                .stderr
                .contains(&format!("the service throttled {throttled} calls")),
        "{run:#?}"
    );
    let counts = emulator.login_counts();
    assert_eq!(counts.len(), 40);
    assert!(counts.values().all(|count| *count == 1), "{counts:?}");

    // --concurrency caps the creates in flight.
    let fixed = emulator.write_file("more.jsonl", &people(41..=42));
    let run = emulator.run(&[
        "users",
        "import",
        fixed.to_str().unwrap(),
        "--concurrency",
        "2",
    ]);
    run.ok();
    assert!(
        run.stderr.contains("concurrency: 2 (--concurrency)"),
        "{run:#?}"
    );
}
