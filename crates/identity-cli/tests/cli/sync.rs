//! `users sync`: plans against the emulator, applied, over real sockets;
//! the binary run as an administrator runs it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use finbourne_identity::{UserResponse, UserStatus, UserType};
use identity_emulator::{Fault, FaultRule};
use serde_json::{Value, json};

use crate::support::{TOKEN, TestEmulator, command, finish};

/// One JSON line of a Personal user.
fn line(first: &str, last: &str, email: &str) -> Value {
    json!({"firstName": first, "lastName": last, "emailAddress": email, "login": email, "type": "Personal"})
}

fn lines(users: &[Value]) -> String {
    users.iter().map(|user| format!("{user}\n")).collect()
}

/// The emulator's user with this login (any case).
fn by_login(emulator: &TestEmulator, login: &str) -> Option<UserResponse> {
    emulator
        .users()
        .into_iter()
        .find(|user| user.login.eq_ignore_ascii_case(login))
}

/// The lines of a report after its header.
fn report_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

#[test]
fn a_plan_shows_each_change_and_exits_10_then_apply_makes_them_and_a_second_run_plans_nothing() {
    let emulator = TestEmulator::start();
    emulator
        .run(&[
            "schema",
            "set",
            "--property",
            "employeeId=HR number",
            "--property",
            "desk=Desk",
        ])
        .ok();
    emulator.create_personal("Ann", "Lee", "ann@acme.com");
    emulator.create_personal("Bob", "Ray", "bob@acme.com");
    emulator
        .run(&[
            "users",
            "create",
            "--type",
            "service",
            "--first-name",
            "Build",
            "--last-name",
            "Bot",
            "--email",
            "ops@acme.com",
            "--login",
            "build-bot",
            "--second-email",
            "old@acme.com",
        ])
        .ok();
    let file = lines(&[
        // Each field that can change, on three users.
        json!({"firstName": "Anne", "lastName": "Lee-Smith", "emailAddress": "ann@acme.com",
               "login": "ann@acme.com", "type": "Personal", "userExpiry": "2030-01-31T00:00:00Z",
               "alternativeUserIds": {"employeeId": "E1", "desk": "FX"}}),
        json!({"firstName": "Build", "lastName": "Bot", "emailAddress": "ops2@acme.com",
               "login": "build-bot", "type": "Service", "secondEmailAddress": "new@acme.com"}),
        // The same as the domain, but for the case of its email.
        line("Bob", "Ray", "BOB@acme.com")
            .as_object()
            .map(|object| {
                let mut object = object.clone();
                object.insert("login".into(), json!("BOB@acme.com"));
                Value::Object(object)
            })
            .unwrap(),
        line("Cy", "New", "cy@acme.com"),
    ]);
    emulator.write_file("directory.jsonl", &file);

    let plan = emulator.run(&["users", "sync", "directory.jsonl"]);
    plan.expect_code(10);
    assert!(
        plan.stdout.contains("create    line 4: cy@acme.com"),
        "{plan:#?}"
    );
    assert!(
        plan.stdout.contains(r#"firstName "Ann" -> "Anne"; lastName "Lee" -> "Lee-Smith"; userExpiry (none) -> "2030-01-31T00:00:00Z"; alternativeUserIds.desk (none) -> "FX"; alternativeUserIds.employeeId (none) -> "E1""#),
        "{plan:#?}"
    );
    assert!(
        plan.stdout.contains(r#"emailAddress "ops@acme.com" -> "ops2@acme.com"; secondEmailAddress "old@acme.com" -> "new@acme.com""#),
        "{plan:#?}"
    );
    assert!(
        !plan.stdout.contains("bob@acme.com"),
        "unchanged: {plan:#?}"
    );
    assert!(
        plan.stderr
            .contains("create 1, update 2, delete 0, conflicts 0, invalid lines 0; unchanged 1"),
        "{plan:#?}"
    );
    assert!(
        by_login(&emulator, "cy@acme.com").is_none(),
        "a plan changes nothing"
    );

    let json = emulator.run(&["users", "sync", "directory.jsonl", "--json"]);
    json.expect_code(10);
    let document = json.json();
    assert_eq!(document["summary"]["update"], 2);
    assert_eq!(document["changes"].as_array().map(Vec::len), Some(3));

    emulator
        .run(&["users", "sync", "directory.jsonl", "--apply"])
        .ok();
    let ann = by_login(&emulator, "ann@acme.com").unwrap();
    assert_eq!(
        (ann.first_name.as_str(), ann.last_name.as_str()),
        ("Anne", "Lee-Smith")
    );
    assert_eq!(ann.user_expiry.map(|at| at.year()), Some(2030));
    assert_eq!(
        ann.alternative_user_ids.unwrap()["employeeId"].as_deref(),
        Some("E1")
    );
    let bot = by_login(&emulator, "build-bot").unwrap();
    assert_eq!(bot.email_address, "ops2@acme.com");
    assert_eq!(bot.second_email_address.as_deref(), Some("new@acme.com"));
    assert_eq!(
        by_login(&emulator, "cy@acme.com").unwrap().status,
        UserStatus::Provisioned
    );
    assert_eq!(
        by_login(&emulator, "bob@acme.com").unwrap().login,
        "bob@acme.com"
    );

    let again = emulator.run(&["users", "sync", "directory.jsonl"]);
    again.ok();
    assert_eq!(again.stdout, "", "{again:#?}");
    assert!(
        again
            .stderr
            .contains("create 0, update 0, delete 0, conflicts 0, invalid lines 0; unchanged 4"),
        "{again:#?}"
    );
}

#[test]
fn a_csv_directory_plans_the_same_and_an_empty_cell_clears_a_value() {
    let emulator = TestEmulator::start();
    emulator
        .run(&[
            "users",
            "create",
            "--type",
            "service",
            "--first-name",
            "Build",
            "--last-name",
            "Bot",
            "--email",
            "ops@acme.com",
            "--login",
            "build-bot",
            "--second-email",
            "old@acme.com",
            "--expiry",
            "2031-01-01T00:00:00Z",
        ])
        .ok();
    emulator.create_personal("Ann", "Lee", "ann@acme.com");
    // No userExpiry column: the expiry is left as it is; an empty
    // secondEmailAddress clears it.
    emulator.write_file(
        "directory.csv",
        "login,firstName,lastName,emailAddress,type,secondEmailAddress\n\
         build-bot,Build,Bot,ops@acme.com,Service,\n\
         ann@acme.com,Ann,Lee,ann@acme.com,Personal,\n\
         dee@acme.com,Dee,\"Dee, Jr\",dee@acme.com,Personal,\n",
    );
    let plan = emulator.run(&["users", "sync", "directory.csv"]);
    plan.expect_code(10);
    assert!(
        plan.stdout
            .contains(r#"secondEmailAddress "old@acme.com" -> (none)"#),
        "{plan:#?}"
    );
    assert!(
        plan.stdout.contains("create    line 4: dee@acme.com"),
        "{plan:#?}"
    );
    emulator
        .run(&["users", "sync", "directory.csv", "--apply"])
        .ok();
    let bot = by_login(&emulator, "build-bot").unwrap();
    assert_eq!(bot.second_email_address, None);
    assert!(bot.user_expiry.is_some(), "no column: not the file's");
    assert_eq!(
        by_login(&emulator, "dee@acme.com").unwrap().last_name,
        "Dee, Jr"
    );
    emulator.run(&["users", "sync", "directory.csv"]).ok();
}

#[test]
fn matched_by_an_alternative_id_a_changed_email_is_one_update() {
    let emulator = TestEmulator::start();
    emulator
        .run(&["schema", "set", "--property", "employeeId=HR number"])
        .ok();
    emulator
        .run(&[
            "users",
            "create",
            "--first-name",
            "Ann",
            "--last-name",
            "Lee",
            "--email",
            "ann@acme.com",
            "--alt-id",
            "employeeId=E1",
        ])
        .ok();
    let id = by_login(&emulator, "ann@acme.com").unwrap().id;
    let mut married = line("Ann", "Lee-Smith", "ann.smith@acme.com");
    married["alternativeUserIds"] = json!({"employeeId": "E1"});
    emulator.write_file("hr.jsonl", &lines(&[married]));

    let by_login_plan = emulator.run(&["users", "sync", "hr.jsonl"]);
    by_login_plan.expect_code(10);
    assert!(
        by_login_plan
            .stdout
            .contains("create    line 1: ann.smith@acme.com"),
        "{by_login_plan:#?}"
    );
    assert!(
        by_login_plan.stdout.contains("keep      ann@acme.com"),
        "{by_login_plan:#?}"
    );

    let plan = emulator.run(&["users", "sync", "hr.jsonl", "--key", "employeeId"]);
    plan.expect_code(10);
    assert!(
        plan.stdout.contains(r#"emailAddress "ann@acme.com" -> "ann.smith@acme.com"; login "ann@acme.com" -> "ann.smith@acme.com""#),
        "{plan:#?}"
    );
    assert!(
        plan.stderr.contains("create 0, update 1, delete 0"),
        "{plan:#?}"
    );
    emulator
        .run(&[
            "users",
            "sync",
            "hr.jsonl",
            "--key",
            "employeeId",
            "--apply",
        ])
        .ok();
    let ann = emulator.user(&id).unwrap();
    assert_eq!(
        (ann.login.as_str(), ann.last_name.as_str()),
        ("ann.smith@acme.com", "Lee-Smith")
    );
    assert_eq!(emulator.users().len(), 1, "one person, one account");
    emulator
        .run(&["users", "sync", "hr.jsonl", "--key", "employeeId"])
        .ok();
}

#[test]
fn conflicts_are_reported_never_attempted() {
    let emulator = TestEmulator::start();
    emulator.create_personal("Gone", "Person", "gone@acme.com");
    let gone = by_login(&emulator, "gone@acme.com").unwrap().id;
    emulator.run(&["users", "delete", &gone]).ok();
    emulator
        .run(&[
            "users",
            "create",
            "--type",
            "service",
            "--first-name",
            "Run",
            "--last-name",
            "Bot",
            "--email",
            "runner@acme.com",
            "--login",
            "runner@acme.com",
        ])
        .ok();
    emulator.write_file(
        "directory.jsonl",
        &lines(&[
            line("Gone", "Person", "gone@acme.com"),
            line("Run", "Bot", "runner@acme.com"),
            line("Twice", "One", "twice@acme.com"),
            line("Twice", "Two", "twice@acme.com"),
        ]),
    );
    let before = emulator.operations().len();
    let plan = emulator.run(&["users", "sync", "directory.jsonl", "--apply"]);
    plan.expect_code(9);
    for expected in [
        "gone@acme.com (",
        ": deprovisioned: the user",
        "runner@acme.com (",
        ": type: the user is Service in the domain and Personal in the directory",
        "line 3: twice@acme.com: duplicate in the file",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}: {plan:#?}");
    }
    assert!(plan.stderr.contains("not attempted 4"), "{plan:#?}");
    let writes: Vec<String> = emulator.operations()[before..]
        .iter()
        .filter(|operation| !matches!(operation.as_str(), "ListUsers" | "GetUser"))
        .cloned()
        .collect();
    assert_eq!(writes, Vec::<String>::new(), "nothing was attempted");
    assert_eq!(
        by_login(&emulator, "gone@acme.com").unwrap().status,
        UserStatus::Deprovisioned
    );
}

#[test]
fn a_prune_deletes_without_purge_behind_its_guard_and_spares_the_caller_and_service_users() {
    let emulator = TestEmulator::start();
    for n in 1..=6 {
        emulator.create_personal("User", &format!("Number{n}"), &format!("user{n}@acme.com"));
    }
    emulator.create_personal("Admin", "Self", "admin@acme.com");
    emulator
        .run(&[
            "users",
            "create",
            "--type",
            "service",
            "--first-name",
            "Run",
            "--last-name",
            "Bot",
            "--email",
            "runner@acme.com",
            "--login",
            "runner-bot",
        ])
        .ok();
    // Users 1 to 4 stay; 5 and 6 left the directory.
    let kept: Vec<Value> = (1..=4)
        .map(|n| line("User", &format!("Number{n}"), &format!("user{n}@acme.com")))
        .collect();
    emulator.write_file("directory.jsonl", &lines(&kept));

    let token_only = emulator.run(&["users", "sync", "directory.jsonl", "--prune"]);
    token_only.expect_code(2);
    assert!(token_only.stderr.contains("--me LOGIN"), "{token_only:#?}");

    let prune = [
        "users",
        "sync",
        "directory.jsonl",
        "--prune",
        "--me",
        "ADMIN@acme.com",
    ];
    let plan = emulator.run(&prune);
    plan.expect_code(10);
    assert!(
        plan.stdout.contains("delete    user5@acme.com"),
        "{plan:#?}"
    );
    assert!(
        plan.stdout.contains("keep      admin@acme.com"),
        "{plan:#?}"
    );
    assert!(
        plan.stdout.contains("the account the sync runs as"),
        "{plan:#?}"
    );
    assert!(plan.stdout.contains("keep      runner-bot"), "{plan:#?}");
    // 2 of 8 users is 25 %: over the default 5 %.
    assert!(
        plan.stderr
            .contains("warning: --apply would change nothing"),
        "{plan:#?}"
    );

    let tripped = emulator.run(&[&prune[..], &["--apply"]].concat());
    tripped.expect_code(2);
    assert!(
        tripped.stderr.contains("more than the 0 allowed"),
        "{tripped:#?}"
    );
    assert!(
        tripped.stderr.contains("nothing was changed"),
        "{tripped:#?}"
    );
    assert_eq!(
        by_login(&emulator, "user5@acme.com").unwrap().status,
        UserStatus::Provisioned
    );

    let one = emulator.run(
        &[
            &prune[..],
            &[
                "--apply",
                "--max-deletes-percent",
                "50",
                "--max-deletes",
                "1",
            ],
        ]
        .concat(),
    );
    one.expect_code(2);
    assert!(one.stderr.contains("more than the 1 allowed"), "{one:#?}");

    emulator
        .run(&[&prune[..], &["--apply", "--max-deletes-percent", "50"]].concat())
        .ok();
    for n in [5, 6] {
        let user = by_login(&emulator, &format!("user{n}@acme.com")).unwrap();
        assert_eq!(
            user.status,
            UserStatus::Deprovisioned,
            "deleted, kept for audit"
        );
    }
    assert_eq!(emulator.users().len(), 8, "nobody purged");
    assert_eq!(
        by_login(&emulator, "admin@acme.com").unwrap().status,
        UserStatus::Provisioned
    );
    assert_eq!(
        by_login(&emulator, "runner-bot").unwrap().status,
        UserStatus::Provisioned
    );

    // Service users only when asked by type.
    let both = emulator.run(
        &[
            &prune[..],
            &["--prune-type", "personal", "--prune-type", "service"],
        ]
        .concat(),
    );
    both.expect_code(10);
    assert!(both.stdout.contains("delete    runner-bot"), "{both:#?}");
}

#[test]
fn the_password_grant_user_is_the_caller_never_pruned() {
    let emulator = TestEmulator::start();
    emulator
        .run(&[
            "users",
            "create",
            "--type",
            "service",
            "--first-name",
            "Emu",
            "--last-name",
            "User",
            "--email",
            "emu@acme.com",
            "--login",
            "emulator-user",
        ])
        .ok();
    emulator.write_file("empty.jsonl", "");
    let base_url = emulator.base_url();
    let token_url = base_url.replace("/identity", "/oauth2/token");
    let run = finish(
        command(emulator.dir())
            .args([
                "users",
                "sync",
                "empty.jsonl",
                "--prune",
                "--prune-type",
                "service",
            ])
            .env("FBN_IDENTITY_URL", &base_url)
            .env("FBN_TOKEN_URL", token_url)
            .env("FBN_USERNAME", "emulator-user")
            .env("FBN_PASSWORD", "emulator-password")
            .env("FBN_CLIENT_ID", "emulator-client")
            .env("FBN_CLIENT_SECRET", "emulator-client-secret"),
    );
    run.ok();
    assert!(run.stdout.contains("keep      emulator-user"), "{run:#?}");
    assert!(
        run.stdout.contains("the account the sync runs as"),
        "{run:#?}"
    );
}

#[test]
fn a_saved_plan_applied_after_a_concurrent_change_skips_that_user() {
    let emulator = TestEmulator::start();
    for (first, email) in [
        ("Ann", "ann@acme.com"),
        ("Bob", "bob@acme.com"),
        ("Cy", "cy@acme.com"),
    ] {
        emulator.create_personal(first, "Lee", email);
    }
    emulator.write_file(
        "directory.jsonl",
        &lines(&[
            line("Ann", "Lee-Smith", "ann@acme.com"),
            line("Bob", "Lee-Jones", "bob@acme.com"),
            line("Dee", "New", "dee@acme.com"),
        ]),
    );
    emulator
        .run(&[
            "users",
            "sync",
            "directory.jsonl",
            "--prune",
            "--me",
            "x@acme.com",
            "--max-deletes-percent",
            "50",
            "--out",
            "plan.json",
        ])
        .expect_code(10);
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(emulator.dir().join("plan.json")).unwrap())
            .unwrap();
    assert_eq!(saved["summary"]["delete"], 1);
    // Someone changes Ann's last name, and Cy's first name, meanwhile.
    let ann = by_login(&emulator, "ann@acme.com").unwrap().id;
    let cy = by_login(&emulator, "cy@acme.com").unwrap().id;
    emulator
        .run(&["users", "update", &ann, "--last-name", "Lee-Brown"])
        .ok();
    emulator
        .run(&["users", "update", &cy, "--first-name", "Cyrus"])
        .ok();

    let shown = emulator.run(&["users", "sync", "--from-plan", "plan.json"]);
    shown.expect_code(10);
    let apply = emulator.run(&[
        "users",
        "sync",
        "--from-plan",
        "plan.json",
        "--apply",
        "--max-deletes-percent",
        "50",
        "--report",
        "report.jsonl",
    ]);
    apply.expect_code(9);
    assert!(apply.stderr.contains("lastName changed since the plan: it is \"Lee-Brown\", the plan saw \"Lee\"; not overwritten"), "{apply:#?}");
    assert!(
        apply.stderr.contains("firstName changed since the plan"),
        "{apply:#?}"
    );
    assert_eq!(emulator.user(&ann).unwrap().last_name, "Lee-Brown");
    assert_eq!(
        emulator.user(&cy).unwrap().status,
        UserStatus::Provisioned,
        "not deleted"
    );
    assert_eq!(
        by_login(&emulator, "bob@acme.com").unwrap().last_name,
        "Lee-Jones"
    );
    assert!(by_login(&emulator, "dee@acme.com").is_some());
    let outcomes: Vec<String> = report_lines(&emulator.dir().join("report.jsonl"))
        .iter()
        .map(|line| {
            format!(
                "{} {}",
                line["action"].as_str().unwrap(),
                line["outcome"].as_str().unwrap()
            )
        })
        .collect();
    let mut sorted = outcomes.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "create applied",
            "delete skipped",
            "update applied",
            "update skipped"
        ]
    );

    // Against another service, a saved plan is refused.
    let other = TestEmulator::start();
    std::fs::copy(
        emulator.dir().join("plan.json"),
        other.dir().join("plan.json"),
    )
    .unwrap();
    let refused = other.run(&["users", "sync", "--from-plan", "plan.json", "--apply"]);
    refused.expect_code(2);
    assert!(
        refused.stderr.contains("plan again against this service"),
        "{refused:#?}"
    );
}

/// The emulator as a process of its own, with a state file.
struct EmulatorProcess {
    child: Child,
    base_url: String,
    port: u16,
}

impl EmulatorProcess {
    fn start(dir: &Path, port: u16, faults: &[&str]) -> Self {
        let mut command = command(dir);
        command
            .args([
                "emulator",
                "--ready-json",
                "--access-token",
                TOKEN,
                "--state-file",
                "state.json",
            ])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for fault in faults {
            command.args(["--fault", fault]);
        }
        let mut child = command.spawn().unwrap();
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        let ready: Value = serde_json::from_str(&ready).unwrap();
        let listening = ready["listening_on"].as_str().unwrap();
        Self {
            child,
            base_url: ready["base_url"].as_str().unwrap().to_owned(),
            port: listening.rsplit(':').next().unwrap().parse().unwrap(),
        }
    }

    fn run(&self, dir: &Path, args: &[&str]) -> crate::support::Run {
        finish(command(dir).args(args).args([
            "--base-url",
            &self.base_url,
            "--access-token",
            TOKEN,
        ]))
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_report_resumes_an_apply_cut_short_when_the_service_was_killed() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let slow = r#"{"operation":"CreateUser","fault":{"kind":"delay","ms":100}}"#;
    let first = EmulatorProcess::start(dir, 0, &[slow]);
    let people: Vec<Value> = (1..=20)
        .map(|n| line("User", &format!("Number{n}"), &format!("user{n}@acme.com")))
        .collect();
    std::fs::write(dir.join("directory.jsonl"), lines(&people)).unwrap();
    first
        .run(
            dir,
            &["users", "sync", "directory.jsonl", "--out", "plan.json"],
        )
        .expect_code(10);

    let apply = command(dir)
        .args([
            "users",
            "sync",
            "--from-plan",
            "plan.json",
            "--apply",
            "--report",
            "report.jsonl",
            "--concurrency",
            "1",
        ])
        .args(["--base-url", &first.base_url, "--access-token", TOKEN])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let report = dir.join("report.jsonl");
    let deadline = Instant::now() + Duration::from_secs(20);
    while report_lines(&report).len() < 3 {
        assert!(Instant::now() < deadline, "the apply did not start");
        std::thread::sleep(Duration::from_millis(10));
    }
    let port = first.port;
    drop(first);
    let stopped = apply.wait_with_output().unwrap();
    let code = stopped.status.code();
    assert!(
        matches!(code, Some(3 | 7)),
        "{code:?}: {}",
        String::from_utf8_lossy(&stopped.stderr)
    );
    let applied_before = report_lines(&report)
        .iter()
        .filter(|line| line["outcome"] == "applied")
        .count();
    assert!((3..20).contains(&applied_before), "{applied_before}");

    let second = EmulatorProcess::start(dir, port, &[]);
    let resumed = second.run(
        dir,
        &[
            "users",
            "sync",
            "--from-plan",
            "plan.json",
            "--apply",
            "--report",
            "report.jsonl",
        ],
    );
    resumed.ok();
    assert!(
        resumed
            .stderr
            .contains(&format!("{applied_before} applied by an earlier run")),
        "{resumed:#?}"
    );
    let listed = second.run(dir, &["users", "list", "--json", "--include-deactivated"]);
    let users: Vec<UserResponse> = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(users.len(), 20, "every user, each once");
    assert!(
        users
            .iter()
            .all(|user| user.user_type == UserType::Personal)
    );
    second.run(dir, &["users", "sync", "directory.jsonl"]).ok();
}

#[test]
fn an_apply_stops_when_a_gateway_answers_for_a_service_that_is_gone() {
    let emulator = TestEmulator::start();
    let mut file = Vec::new();
    for n in 0..8 {
        let email = format!("p{n}@acme.com");
        emulator.create_personal("P", "Old", &email);
        file.push(line("P", "New", &email));
    }
    emulator.write_file("staff.jsonl", &lines(&file));
    // Every GetUser (each update reads its user first) is answered 502 by
    // a gateway: the service behind it is gone, not refusing.
    emulator.set_faults(vec![FaultRule::new(
        Some("GetUser"),
        Fault::Status {
            status: 502,
            retry_after: None,
        },
    )]);
    let run = emulator.run(&[
        "users",
        "sync",
        "staff.jsonl",
        "--apply",
        "--concurrency",
        "1",
        "--stop-after-unanswered",
        "3",
    ]);
    run.expect_code(3);
    assert!(run.stderr.contains("apply stopped"), "{run:#?}");
    let reads = emulator
        .operations()
        .iter()
        .filter(|operation| operation.as_str() == "GetUser")
        .count();
    assert!(reads < 8 * 4, "stopped before reading every user: {reads}");
    assert!(
        emulator.users().iter().all(|user| user.last_name == "Old"),
        "nothing changed"
    );
}

#[test]
fn a_404_that_does_not_say_the_user_is_gone_fails_the_delete_instead_of_counting_it_made() {
    let emulator = TestEmulator::start();
    emulator.create_personal("Ann", "Lee", "ann@acme.com");
    emulator.create_personal("Cy", "Left", "cy@acme.com");
    emulator.write_file("staff.jsonl", &lines(&[line("Ann", "Lee", "ann@acme.com")]));
    // A wrong route's or a gateway's 404: no code 657 in it.
    emulator.set_faults(vec![FaultRule::new(
        Some("GetUser"),
        Fault::Status {
            status: 404,
            retry_after: None,
        },
    )]);
    let run = emulator.run(&[
        "users",
        "sync",
        "staff.jsonl",
        "--apply",
        "--prune",
        "--me",
        "admin@acme.com",
        "--max-deletes-percent",
        "100",
        "--report",
        "applied.jsonl",
    ]);
    run.expect_code(9);
    let cy = by_login(&emulator, "cy@acme.com").unwrap();
    assert_ne!(cy.status, UserStatus::Deprovisioned);
    let report = report_lines(&emulator.dir().join("applied.jsonl"));
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0]["outcome"], "failed", "{report:?}");
}
