//! A user's files are never destroyed: a report or an output that would be
//! the input, or a symbolic link, or someone else's file, is refused
//! (exit 8) and left as it was; a report survives a crash and resumes; an
//! export's temporary file goes away on SIGINT, SIGTERM and SIGHUP, and a
//! killed export's is removed by the next export once its process is gone.

use std::process::Stdio;
use std::time::{Duration, Instant};

use identity_emulator::{Fault, FaultRule};
use serde_json::Value;

use crate::support::{TestEmulator, people};

/// How many CreateUser calls reached the emulator.
fn creates(emulator: &TestEmulator) -> usize {
    emulator
        .operations()
        .iter()
        .filter(|operation| *operation == "CreateUser")
        .count()
}

/// Waits (10 s at most) until `ready` holds.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends `signal` (`-TERM`, ...) to `child`.
#[cfg(unix)]
fn signal(child: &std::process::Child, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn a_report_that_is_the_input_however_named_is_refused_and_the_input_kept() {
    let emulator = TestEmulator::start();
    let text = people(1..=3);
    let file = emulator.write_file("users.jsonl", &text);
    std::fs::hard_link(&file, emulator.dir().join("hard-link.jsonl")).unwrap();
    for report in ["users.jsonl", "./users.jsonl", "hard-link.jsonl"] {
        for dry_run in [true, false] {
            let mut args = vec!["users", "import", "users.jsonl", "--report", report];
            if dry_run {
                args.push("--dry-run");
            }
            let run = emulator.run(&args);
            run.expect_code(8);
            assert!(
                run.stderr.contains("would be the input"),
                "{report}: {run:#?}"
            );
            assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        }
    }
    // Stdin redirected from the file is the same file too (where the file
    // behind stdin can be known).
    #[cfg(unix)]
    {
        let run = crate::support::finish(
            emulator
                .command(&["users", "import", "-", "--report", "users.jsonl"])
                .stdin(std::fs::File::open(&file).unwrap()),
        );
        run.expect_code(8);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    }
    assert_eq!(creates(&emulator), 0, "nothing was sent");
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_as_the_report_or_the_output_is_refused_and_its_target_kept() {
    let emulator = TestEmulator::start();
    emulator.create_personal("Ann", "Lee", "ann@example.com");
    let precious = emulator.write_file("precious.txt", "keep me\n");
    let input = emulator.write_file("users.jsonl", &people(1..=2));
    let link = emulator.dir().join("link.jsonl");
    std::os::unix::fs::symlink(&precious, &link).unwrap();
    let dangling = emulator.dir().join("dangling.jsonl");
    std::os::unix::fs::symlink(emulator.dir().join("not-yet"), &dangling).unwrap();

    for target in ["link.jsonl", "dangling.jsonl"] {
        let import = emulator.run(&[
            "users",
            "import",
            input.to_str().unwrap(),
            "--report",
            target,
        ]);
        import.expect_code(8);
        assert!(import.stderr.contains("symbolic link"), "{import:#?}");
        let export = emulator.run(&["users", "export", "--output", target]);
        export.expect_code(8);
        assert!(export.stderr.contains("symbolic link"), "{export:#?}");
    }
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me\n");
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert!(!emulator.dir().join("not-yet").exists());
    assert_eq!(creates(&emulator), 1, "only the seeded user");
}

#[test]
fn an_existing_file_that_is_not_a_report_of_this_input_is_refused_untouched() {
    let emulator = TestEmulator::start();
    let input = emulator.write_file("users.jsonl", &people(1..=2));
    let other = emulator.write_file("other.jsonl", &people(3..=4));
    let notes = emulator.write_file("notes.txt", "my notes\n");
    let run = emulator.run(&[
        "users",
        "import",
        input.to_str().unwrap(),
        "--report",
        "notes.txt",
    ]);
    run.expect_code(8);
    assert!(run.stderr.contains("is not a report"), "{run:#?}");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");

    // The report of another input is not this import's either.
    emulator
        .run(&[
            "users",
            "import",
            other.to_str().unwrap(),
            "--report",
            "other-report.jsonl",
        ])
        .ok();
    let report = std::fs::read_to_string(emulator.dir().join("other-report.jsonl")).unwrap();
    let run = emulator.run(&[
        "users",
        "import",
        input.to_str().unwrap(),
        "--report",
        "other-report.jsonl",
    ]);
    run.expect_code(8);
    assert!(run.stderr.contains("report of another input"), "{run:#?}");
    assert_eq!(
        std::fs::read_to_string(emulator.dir().join("other-report.jsonl")).unwrap(),
        report
    );
    assert_eq!(emulator.users().len(), 2, "only the other input's users");
}

#[test]
fn a_sync_whose_plan_would_take_its_reports_place_is_refused_and_the_report_kept() {
    let emulator = TestEmulator::start();
    emulator.write_file("staff.jsonl", &people(1..=2));
    let report = emulator.write_file("applied.jsonl", "an earlier run's report\n");
    std::fs::hard_link(&report, emulator.dir().join("same.jsonl")).unwrap();
    for (out, report_name) in [
        ("applied.jsonl", "applied.jsonl"),
        ("./applied.jsonl", "applied.jsonl"),
        ("same.jsonl", "applied.jsonl"),
        ("new.json", "./new.json"),
    ] {
        let run = emulator.run(&[
            "users",
            "sync",
            "staff.jsonl",
            "--apply",
            "--out",
            out,
            "--report",
            report_name,
        ]);
        run.expect_code(8);
        assert!(run.stderr.contains("name the same file"), "{run:#?}");
    }
    assert_eq!(
        std::fs::read_to_string(&report).unwrap(),
        "an earlier run's report\n"
    );
    assert!(!emulator.dir().join("new.json").exists());
    assert!(emulator.users().is_empty(), "nothing applied");
}

#[test]
fn a_report_left_by_a_killed_import_resumes_it_without_sending_a_line_twice() {
    let emulator = TestEmulator::start();
    emulator.set_faults(vec![FaultRule::new(
        Some("CreateUser"),
        Fault::Delay { ms: 150 },
    )]);
    let input = emulator.write_file("users.jsonl", &people(1..=20));
    let mut child = emulator
        .command(&[
            "users",
            "import",
            "users.jsonl",
            "--report",
            "report.jsonl",
            "--concurrency",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let report_path = emulator.dir().join("report.jsonl");
    let finished = || {
        std::fs::read_to_string(&report_path)
            .map(|text| text.matches("\"created\"").count())
            .unwrap_or(0)
    };
    wait_until("three lines in the report", || finished() >= 3);
    child.kill().unwrap();
    child.wait().unwrap();
    let done = finished();
    assert!(done < 20, "the import was not killed part-way");
    let sent_before = creates(&emulator);

    emulator.set_faults(Vec::new());
    let run = emulator.run(&[
        "users",
        "import",
        input.to_str().unwrap(),
        "--report",
        "report.jsonl",
    ]);
    run.ok();
    assert!(
        run.stderr
            .contains(&format!("failed 0; {done} done by an earlier run")),
        "{run:#?}"
    );
    // The lines the report holds were not sent again; the one in flight
    // at the kill (if any) was, and was settled by the service.
    let sent_again = creates(&emulator) - sent_before;
    assert!(
        sent_again <= 20 - done + 1,
        "{sent_again} sent for {done} done"
    );
    let mut logins: Vec<String> = emulator
        .users()
        .into_iter()
        .map(|user| user.login)
        .collect();
    logins.sort();
    logins.dedup();
    assert_eq!(logins.len(), 20);
    assert_eq!(emulator.users().len(), 20, "nobody twice");
    let text = std::fs::read_to_string(&report_path).unwrap();
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["report"], "fbn-identity users import");
}

/// Starts an export to `users.jsonl` that stays in progress (every GetUser
/// of `--include-roles` takes 5 s) once its temporary file exists.
#[cfg(unix)]
fn export_in_progress(emulator: &TestEmulator) -> std::process::Child {
    emulator.set_faults(vec![FaultRule::new(
        Some("GetUser"),
        Fault::Delay { ms: 5_000 },
    )]);
    let child = emulator
        .command(&[
            "users",
            "export",
            "--include-roles",
            "--output",
            "users.jsonl",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let temporary = format!(".users.jsonl.fbn-identity-export.{}.tmp", child.id());
    wait_until("the temporary file", || {
        emulator.dir().join(&temporary).exists()
    });
    // The export has reached its GetUser calls.
    wait_until("a GetUser", || {
        emulator
            .operations()
            .iter()
            .any(|operation| operation == "GetUser")
    });
    child
}

#[cfg(unix)]
#[test]
fn an_export_stopped_by_sigint_sigterm_or_sighup_removes_its_temporary_file() {
    let emulator = TestEmulator::start();
    emulator.create_personal("Ann", "Lee", "ann@example.com");
    let old = emulator.write_file("users.jsonl", "the old export\n");
    for name in ["-INT", "-TERM", "-HUP"] {
        let child = export_in_progress(&emulator);
        signal(&child, name);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(130), "{name}: {stderr}");
        assert!(stderr.contains("interrupted (SIG"), "{stderr}");
        assert_eq!(
            crate::support::names_in(emulator.dir()),
            ["users.jsonl"],
            "{name}"
        );
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "the old export\n");
    }
}

#[cfg(unix)]
#[test]
fn a_killed_exports_temporary_file_is_removed_by_the_next_export_once_its_process_is_gone() {
    let emulator = TestEmulator::start();
    emulator.create_personal("Ann", "Lee", "ann@example.com");
    let mut killed = export_in_progress(&emulator);
    let left = format!(".users.jsonl.fbn-identity-export.{}.tmp", killed.id());
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert_eq!(
        crate::support::names_in(emulator.dir()),
        [left],
        "SIGKILL leaves it"
    );

    // The temporary file of an export still running (this test's own
    // process stands for it) is not touched.
    let running = format!(
        ".users.jsonl.fbn-identity-export.{}.tmp",
        std::process::id()
    );
    emulator.write_file(&running, "in progress\n");
    // Nor is that of an export to another target.
    let other = format!(".other.jsonl.fbn-identity-export.{}.tmp", killed.id());
    emulator.write_file(&other, "another target\n");

    emulator.set_faults(Vec::new());
    emulator
        .run(&["users", "export", "--output", "users.jsonl"])
        .ok();
    let mut expected = vec![running, other, "users.jsonl".to_owned()];
    expected.sort();
    assert_eq!(crate::support::names_in(emulator.dir()), expected);
    let exported = std::fs::read_to_string(emulator.dir().join("users.jsonl")).unwrap();
    assert_eq!(exported.lines().count(), 1);
}
