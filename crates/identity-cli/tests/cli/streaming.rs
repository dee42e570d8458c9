//! Bulk work at any size: an import that reads its input as a stream and
//! never lists the domain, stops when the service is gone without reading
//! the rest of its input, and leaves users who left alone; lists printed as
//! they stream in.

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use identity_emulator::{EmulatorConfig, Fault, FaultRule};
use serde_json::Value;

use crate::support::{Run, TOKEN, TestEmulator, closed_port, finish, people, person};

/// An emulator seeded with `users` users (`user-000001@seed.example`, ...).
fn seeded(users: u64) -> TestEmulator {
    TestEmulator::start_with(EmulatorConfig {
        access_tokens: vec![TOKEN.to_owned()],
        seed_users: users,
        ..EmulatorConfig::default()
    })
}

/// The outcome lines of a report file (its header left out).
fn report_lines(emulator: &TestEmulator, name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(emulator.dir().join(name)).unwrap();
    text.lines()
        .skip(1)
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn an_import_into_a_large_domain_decides_each_line_by_the_services_answer_never_by_a_list() {
    let emulator = seeded(3_000);
    // Two logins the domain has (one in other case), three new ones.
    let seeded_line = |n: u64, login: &str| {
        serde_json::json!({
            "firstName": "Seeded", "lastName": format!("User{n}"), "emailAddress": login,
            "login": login, "type": "Personal",
        })
        .to_string()
    };
    let text = format!(
        "{}\n{}\n{}",
        seeded_line(7, "user-000007@seed.example"),
        seeded_line(2999, "USER-002999@seed.example"),
        people(1..=3)
    );
    let file = emulator.write_file("five.jsonl", &text);
    let run = emulator.run(&["users", "import", file.to_str().unwrap(), "--json"]);
    let report = run.ok().json();
    assert_eq!(
        (report["created"].as_u64(), report["skipped"].as_u64()),
        (Some(3), Some(2)),
        "{report}"
    );
    let existing = emulator
        .users()
        .into_iter()
        .find(|user| user.login == "user-000007@seed.example")
        .unwrap();
    assert_eq!(report["lines"][0]["id"], existing.id.as_str());
    let operations = emulator.operations();
    assert!(
        !operations.iter().any(|operation| operation == "ListUsers"),
        "the domain was listed: {operations:?}"
    );
    assert_eq!(
        operations
            .iter()
            .filter(|operation| *operation == "CreateUser")
            .count(),
        5,
        "one create a line"
    );
    assert!(operations.len() <= 7, "a handful of calls: {operations:?}");
}

#[test]
fn an_import_stops_when_the_service_is_gone_without_reading_the_rest_of_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}/identity", closed_port());
    let mut child = crate::support::command(dir.path())
        .args(["users", "import", "-", "--report", "report.jsonl"])
        .args(["--base-url", &url, "--access-token", TOKEN])
        .args(["--stop-after-unanswered", "5"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Forty lines, and stdin left open: an import that waited for its end
    // would never stop.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(people(1..=40).as_bytes()).unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the import did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("error: import stopped: the service did not answer 5 creates in a row"),
        "{stderr}"
    );
    let after: usize = stderr
        .split("stopped after line ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|line| line.parse().ok())
        .unwrap_or_else(|| panic!("no line: {stderr}"));
    assert!(after < 40, "{stderr}");
    assert!(
        stderr.contains("re-run with the same --report to resume"),
        "{stderr}"
    );
    let report = std::fs::read_to_string(dir.path().join("report.jsonl")).unwrap();
    assert!(report.lines().count() > 5, "{report}");

    // The service is back: a re-run with the report creates every user,
    // each once, from the same input.
    let emulator = TestEmulator::start();
    std::fs::copy(
        dir.path().join("report.jsonl"),
        emulator.dir().join("report.jsonl"),
    )
    .unwrap();
    let resumed = finish(
        emulator
            .command(&["users", "import", "-", "--report", "report.jsonl"])
            .stdin(std::fs::File::open(emulator.write_file("in.jsonl", &people(1..=40))).unwrap()),
    );
    resumed.ok();
    assert_eq!(emulator.users().len(), 40);
}

#[test]
fn creates_that_get_no_answer_and_cannot_be_settled_stop_the_import_with_7() {
    let emulator = TestEmulator::start();
    emulator.set_faults(vec![
        FaultRule::new(Some("CreateUser"), Fault::CloseAfterProcessing),
        FaultRule::new(Some("GetUserFromLogin"), Fault::CloseBeforeProcessing),
    ]);
    let file = emulator.write_file("users.jsonl", &people(1..=30));
    let run = emulator.run(&[
        "users",
        "import",
        file.to_str().unwrap(),
        "--report",
        "report.jsonl",
        "--stop-after-unanswered",
        "3",
        "--concurrency",
        "1",
    ]);
    run.expect_code(7);
    assert!(run.stderr.contains("may have been created"), "{run:#?}");
    assert!(
        emulator.users().len() < 30,
        "it stopped: {} created",
        emulator.users().len()
    );

    // Settled by the re-run: the users made are skipped, the rest created.
    emulator.set_faults(Vec::new());
    emulator
        .run(&[
            "users",
            "import",
            file.to_str().unwrap(),
            "--report",
            "report.jsonl",
        ])
        .ok();
    let mut logins: Vec<String> = emulator
        .users()
        .into_iter()
        .map(|user| user.login)
        .collect();
    logins.sort();
    logins.dedup();
    assert_eq!((logins.len(), emulator.users().len()), (30, 30));
    let lines = report_lines(&emulator, "report.jsonl");
    for n in 1..=30 {
        let last = lines
            .iter()
            .rfind(|line| line["line"] == n)
            .unwrap_or_else(|| panic!("line {n} missing"));
        assert!(
            last["outcome"] == "created" || last["reason"] == "exists",
            "{last}"
        );
    }
}

#[test]
fn a_service_that_asks_to_wait_longer_than_the_import_can_stops_it_with_6_naming_the_wait() {
    let emulator = TestEmulator::start();
    emulator.set_faults(vec![FaultRule::new(
        Some("CreateUser"),
        Fault::Status {
            status: 429,
            retry_after: Some("1000000000000".into()),
        },
    )]);
    let file = emulator.write_file("users.jsonl", &people(1..=30));
    let started = Instant::now();
    let run = emulator.run(&[
        "users",
        "import",
        file.to_str().unwrap(),
        "--report",
        "report.jsonl",
        "--stop-after-unanswered",
        "3",
    ]);
    run.expect_code(6);
    // At once: no create waited for the service's 30,000 years.
    assert!(started.elapsed() < Duration::from_secs(60), "{run:#?}");
    assert!(
        run.stderr
            .contains("throttled 3 creates in a row for longer than --longest-wait"),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("asked to wait 1000000000000 s"),
        "{run:#?}"
    );
    // The service was asked once, by the first creates: then the client's
    // throttle ended the others at once, without sending them.
    let creates = emulator
        .emulator()
        .requests()
        .iter()
        .filter(|request| request.operation.as_deref() == Some("CreateUser"))
        .count();
    assert!(creates <= 32, "{creates} creates sent");
    let lines = report_lines(&emulator, "report.jsonl");
    assert!(
        lines.iter().all(|line| line["outcome"] == "failed"),
        "{lines:?}"
    );

    // A wait within --longest-wait is waited out: the lines are created.
    emulator.set_faults(vec![
        FaultRule::new(
            Some("CreateUser"),
            Fault::Status {
                status: 429,
                retry_after: Some("1".into()),
            },
        )
        .when(identity_emulator::FaultWhen::Next { n: 1 }),
    ]);
    emulator
        .run(&[
            "users",
            "import",
            file.to_str().unwrap(),
            "--report",
            "report.jsonl",
        ])
        .ok();
    assert_eq!(emulator.users().len(), 30);
}

#[test]
fn rows_of_users_who_left_are_not_recreated_unless_asked() {
    let source = TestEmulator::start();
    let ann = source.create_personal("Ann", "Lee", "ann@example.com");
    source.create_personal("Bob", "Ray", "bob@example.com");
    source
        .run(&["users", "delete", ann["id"].as_str().unwrap()])
        .ok();
    let export = source.run(&["users", "export", "--include-deactivated"]);
    export.ok();

    let target = TestEmulator::start();
    let file = target.write_file("users.jsonl", &export.stdout);
    let run = target.run(&["users", "import", file.to_str().unwrap(), "--json"]);
    let report = run.ok().json();
    assert_eq!(
        (report["created"].as_u64(), report["skipped"].as_u64()),
        (Some(1), Some(1))
    );
    let skipped = report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|line| line["outcome"] == "skipped")
        .unwrap();
    assert_eq!(skipped["login"], "ann@example.com");
    assert_eq!(skipped["reason"], "deprovisioned");
    assert!(
        run.stderr
            .contains("not recreated without --recreate-deprovisioned"),
        "{run:#?}"
    );
    assert_eq!(target.users().len(), 1);

    let asked = target.run(&[
        "users",
        "import",
        file.to_str().unwrap(),
        "--recreate-deprovisioned",
        "--json",
    ]);
    let report = asked.ok().json();
    assert_eq!(
        (report["created"].as_u64(), report["skipped"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(target.users().len(), 2);
}

#[test]
fn a_line_longer_than_a_user_can_be_is_reported_and_the_next_lines_read() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("{{\"firstName\":\"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let text = format!("{}\n{long}\n{}\n", person(1), person(2));
    let file = dir.path().join("users.jsonl");
    std::fs::write(&file, text).unwrap();
    let run = crate::support::run_bare(
        dir.path(),
        &["users", "import", file.to_str().unwrap(), "--dry-run"],
    );
    run.expect_code(9);
    assert!(
        run.stderr.contains("line 2: failed: the line is "),
        "{run:#?}"
    );
    assert!(
        run.stderr
            .contains("bytes long, over the 1048576 bytes a user can be: not read"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("2 valid, 1 not valid"), "{run:#?}");
}

/// The number of header rows in a table printed by `users list`.
fn headers(run: &Run) -> usize {
    run.stdout
        .lines()
        .filter(|line| line.contains(" ID ") && line.contains(" Login "))
        .count()
}

#[test]
fn users_list_streams_tables_in_chunks_and_json_as_one_array() {
    let emulator = seeded(2_500);
    let table = emulator.run(&["users", "list", "--include-deactivated"]);
    table.ok();
    assert_eq!(headers(&table), 3, "chunks of 1,000 rows");
    let rows = table
        .stdout
        .lines()
        .filter(|line| line.contains("@seed.example"))
        .count();
    assert_eq!(rows, 2_500);
    assert!(table.stderr.contains("2500 users"), "{table:#?}");

    let json = emulator.run(&["users", "list", "--include-deactivated", "--json"]);
    let users = json.ok().json();
    assert_eq!(users.as_array().unwrap().len(), 2_500);
    // Exactly what the whole answer printed pretty would be.
    let typed: Vec<finbourne_identity::UserResponse> = serde_json::from_str(&json.stdout).unwrap();
    let whole = format!("{}\n", serde_json::to_string_pretty(&typed).unwrap());
    assert!(
        json.stdout == whole,
        "the streamed array is laid out otherwise"
    );

    let small = TestEmulator::start();
    small.create_personal("Ann", "Lee", "ann@example.com");
    let one = small.run(&["users", "list"]);
    assert_eq!(headers(one.ok()), 1);
    let empty = TestEmulator::start();
    assert_eq!(empty.run(&["users", "list", "--json"]).ok().stdout, "[]\n");
    assert_eq!(headers(empty.run(&["users", "runnable"]).ok()), 1);
}

#[test]
fn refused_credentials_stop_an_import_at_once() {
    let emulator = TestEmulator::start();
    let file = emulator.write_file("users.jsonl", &people(1..=50));
    let run = finish(crate::support::command(emulator.dir()).args([
        "users",
        "import",
        file.to_str().unwrap(),
        "--concurrency",
        "1",
        "--base-url",
        &emulator.base_url(),
        "--access-token",
        "not-the-token",
    ]));
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("error: import stopped: every line would fail: 401"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("stopped after line 1:"), "{run:#?}");
    let creates = emulator
        .operations()
        .iter()
        .filter(|operation| *operation == "CreateUser")
        .count();
    assert_eq!(creates, 1, "not one a line");
}
