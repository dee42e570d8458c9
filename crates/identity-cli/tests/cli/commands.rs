//! Each command of `fbn-identity`, as a user runs it: the built binary
//! against an emulator started by the test, output read as JSON and as
//! tables.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use finbourne_identity::{UserStatus, UserType};
use serde_json::Value;

use crate::support::{self, TOKEN, TestEmulator, command, finish, run_bare};

#[test]
fn create_makes_a_personal_user_by_default_with_the_email_as_login() {
    let emulator = TestEmulator::start();
    let run = emulator.run(&[
        "users",
        "create",
        "--json",
        "--first-name",
        "Ann",
        "--last-name",
        "Lee",
        "--email",
        "ann@example.com",
    ]);
    let user = run.ok().json();
    assert_eq!(user["type"], "Personal");
    assert_eq!(user["login"], "ann@example.com");
    assert!(run.stderr.contains("created user"), "{run:#?}");
    let stored = emulator.user(user["id"].as_str().unwrap()).unwrap();
    assert_eq!(stored.user_type, UserType::Personal);
    assert_eq!(stored.first_name, "Ann");
}

#[test]
fn create_takes_every_option() {
    let emulator = TestEmulator::start();
    emulator
        .run(&["schema", "set", "--property", "employeeId=HR number"])
        .ok();
    let run = emulator.run(&[
        "users",
        "create",
        "--json",
        "--type",
        "service",
        "--first-name",
        "Nightly",
        "--last-name",
        "Reports",
        "--email",
        "reports@example.com",
        "--login",
        "nightly-reports",
        "--second-email",
        "ops@example.com",
        "--role",
        "default/runner",
        "--role",
        "ops/admin",
        "--alt-id",
        "employeeId=E42",
        "--expiry",
        "2031-05-01T12:00:00Z",
        "--wait-for-reindex",
    ]);
    let user = run.ok().json();
    let stored = emulator.user(user["id"].as_str().unwrap()).unwrap();
    assert_eq!(stored.user_type, UserType::Service);
    assert_eq!(stored.login, "nightly-reports");
    assert_eq!(
        stored.second_email_address.as_deref(),
        Some("ops@example.com")
    );
    let roles: Vec<String> = stored
        .roles
        .unwrap_or_default()
        .into_iter()
        .map(|role| format!("{}/{}", role.role_id.scope, role.role_id.code))
        .collect();
    assert_eq!(roles, ["default/runner", "ops/admin"]);
    assert_eq!(
        stored.alternative_user_ids.unwrap()["employeeId"].as_deref(),
        Some("E42")
    );
    assert_eq!(stored.user_expiry.map(|at| at.year()), Some(2031));
    let create = emulator
        .emulator()
        .requests()
        .into_iter()
        .find(|request| request.operation.as_deref() == Some("CreateUser"))
        .unwrap();
    assert_eq!(create.query.as_deref(), Some("waitForReindex=true"));
}

#[test]
fn list_prints_a_table_or_a_json_array() {
    let emulator = TestEmulator::start();
    emulator.create_personal("Ann", "Lee", "ann@example.com");
    emulator.create_personal("Bob", "Ray", "bob@example.com");

    let json = emulator.run(&["users", "list", "--json"]).ok().json();
    let logins: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins.len(), 2);
    assert!(logins.contains(&"ann@example.com") && logins.contains(&"bob@example.com"));

    let table = emulator.run(&["users", "list"]);
    table.ok();
    for value in [
        "Login",
        "Status",
        "ann@example.com",
        "Ann Lee",
        "bob@example.com",
        "Bob Ray",
        "Personal",
        "PROVISIONED",
    ] {
        assert!(table.stdout.contains(value), "{value} missing: {table:#?}");
    }
    assert!(table.stderr.contains("2 users"), "{table:#?}");
}

#[test]
fn list_include_deactivated_and_runnable() {
    let emulator = TestEmulator::start();
    let ann = emulator.create_personal("Ann", "Lee", "ann@example.com");
    let bob = emulator.create_personal("Bob", "Ray", "bob@example.com");
    let bot = emulator
        .run(&[
            "users",
            "create",
            "--json",
            "--type",
            "service",
            "--first-name",
            "Job",
            "--last-name",
            "Runner",
            "--email",
            "jobs@example.com",
            "--login",
            "job-runner",
        ])
        .ok()
        .json();
    emulator
        .run(&["users", "delete", bob["id"].as_str().unwrap()])
        .ok();

    let active = emulator.run(&["users", "list", "--json"]).ok().json();
    assert_eq!(active.as_array().unwrap().len(), 2);
    let all = emulator
        .run(&["users", "list", "--include-deactivated", "--json"])
        .ok()
        .json();
    assert_eq!(all.as_array().unwrap().len(), 3);

    let runnable = emulator.run(&["users", "runnable", "--json"]).ok().json();
    let ids: Vec<&Value> = runnable
        .as_array()
        .unwrap()
        .iter()
        .map(|user| &user["id"])
        .collect();
    assert!(ids.contains(&&bot["id"]), "{runnable}");
    assert!(!ids.contains(&&ann["id"]), "{runnable}");
}

#[test]
fn get_shows_one_user_as_fields_or_json() {
    let emulator = TestEmulator::start();
    let user = emulator
        .run(&[
            "users",
            "create",
            "--json",
            "--first-name",
            "Ann",
            "--last-name",
            "Lee",
            "--email",
            "ann@example.com",
            "--role",
            "default/analyst",
        ])
        .ok()
        .json();
    let id = user["id"].as_str().unwrap();

    let table = emulator.run(&["users", "get", id, "--include-roles"]);
    table.ok();
    for value in [
        "Field",
        "Value",
        "First name",
        "Ann",
        "Last name",
        "Lee",
        id,
        "default/analyst",
        "PROVISIONED",
    ] {
        assert!(table.stdout.contains(value), "{value} missing: {table:#?}");
    }

    let json = emulator.run(&["users", "get", id, "--json"]).ok().json();
    assert_eq!(json["id"], id);
    assert!(json.get("roles").is_none(), "roles only when asked: {json}");
    let with_roles = emulator
        .run(&["users", "get", id, "--include-roles", "--json"])
        .ok()
        .json();
    assert_eq!(with_roles["roles"][0]["roleId"]["code"], "analyst");

    let by_login = emulator
        .run(&["users", "get-by-login", "ann@example.com", "--json"])
        .ok()
        .json();
    assert_eq!(by_login["id"], id);
}

#[test]
fn find_merges_found_and_failed_and_asks_a_repeated_id_once() {
    let emulator = TestEmulator::start();
    let ann = emulator.create_personal("Ann", "Lee", "ann@example.com");
    let id = ann["id"].as_str().unwrap();

    let json = emulator
        .run(&["users", "find", id, "nobody1", id, "--json"])
        .ok()
        .json();
    assert_eq!(json["values"][id]["login"], "ann@example.com");
    assert!(json["failed"].get("nobody1").is_some(), "{json}");
    let find = emulator
        .emulator()
        .requests()
        .into_iter()
        .find(|request| request.operation.as_deref() == Some("FindUsersById"))
        .unwrap();
    let query = find.query.unwrap();
    assert_eq!(query.matches(&format!("id={id}")).count(), 1, "{query}");

    let table = emulator.run(&["users", "find", id, "nobody1"]);
    table.ok();
    for value in [id, "ann@example.com", "yes", "nobody1", "no"] {
        assert!(table.stdout.contains(value), "{value} missing: {table:#?}");
    }
    assert!(
        table.stderr.contains("found 1 user, 1 not found"),
        "{table:#?}"
    );
}

#[test]
fn update_changes_only_the_fields_given() {
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
    let ann = emulator
        .run(&[
            "users",
            "create",
            "--json",
            "--first-name",
            "Ann",
            "--last-name",
            "Lee",
            "--email",
            "ann@example.com",
            "--alt-id",
            "employeeId=E1",
            "--role",
            "default/analyst",
        ])
        .ok()
        .json();
    let id = ann["id"].as_str().unwrap();

    let updated = emulator
        .run(&[
            "users",
            "update",
            id,
            "--last-name",
            "Smith",
            "--alt-id",
            "desk=FX",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(updated["lastName"], "Smith");
    let stored = emulator.user(id).unwrap();
    assert_eq!(stored.first_name, "Ann");
    assert_eq!(stored.last_name, "Smith");
    assert_eq!(stored.login, "ann@example.com");
    let ids = stored.alternative_user_ids.unwrap();
    assert_eq!(ids["employeeId"].as_deref(), Some("E1"));
    assert_eq!(ids["desk"].as_deref(), Some("FX"));
    assert_eq!(stored.roles.unwrap().len(), 1, "roles kept");

    // A Personal user's login follows its email.
    emulator
        .run(&["users", "update", id, "--email", "ann.smith@example.com"])
        .ok();
    let stored = emulator.user(id).unwrap();
    assert_eq!(
        (stored.email_address.as_str(), stored.login.as_str()),
        ("ann.smith@example.com", "ann.smith@example.com")
    );
}

#[test]
fn lifecycle_commands_print_nothing_on_stdout_and_change_the_status() {
    let emulator = TestEmulator::start();
    let ann = emulator.create_personal("Ann", "Lee", "ann@example.com");
    let id = ann["id"].as_str().unwrap();
    let status = || emulator.user(id).unwrap().status;
    let quiet = |args: &[&str]| {
        let run = emulator.run(args);
        run.ok();
        assert_eq!(run.stdout, "", "{run:#?}");
        assert!(!run.stderr.is_empty(), "a confirmation on stderr: {run:#?}");
    };

    quiet(&["users", "activate", id, "--json"]);
    assert_eq!(status(), UserStatus::Provisioned);

    emulator.set_status(id, UserStatus::LockedOut);
    quiet(&["users", "unlock", id, "--json"]);
    assert_eq!(status(), UserStatus::Active);

    emulator.set_status(id, UserStatus::Suspended);
    quiet(&["users", "unsuspend", id]);
    assert_eq!(status(), UserStatus::Active);

    let password = emulator
        .run(&["users", "expire-password", id, "--json"])
        .ok()
        .json();
    assert!(!password["password"].as_str().unwrap().is_empty());
    assert_eq!(status(), UserStatus::PasswordExpired);
    let table = emulator.run(&["users", "expire-password", id]);
    assert!(
        table.ok().stdout.contains("Temporary password"),
        "{table:#?}"
    );

    quiet(&["users", "reset-password", id]);
    assert_eq!(status(), UserStatus::Recovery);

    quiet(&["users", "reset-factors", id]);
    assert_eq!(status(), UserStatus::Recovery);

    quiet(&["users", "delete", id, "--json"]);
    assert_eq!(status(), UserStatus::Deprovisioned);

    quiet(&["users", "delete", id, "--purge"]);
    assert!(emulator.user(id).is_none());
}

#[test]
fn schema_set_replaces_and_get_shows_it() {
    let emulator = TestEmulator::start();
    emulator
        .run(&["schema", "set", "--property", "old=Old one"])
        .ok();
    let set = emulator
        .run(&[
            "schema",
            "set",
            "--property",
            "employeeId=HR number",
            "--property",
            "desk=Trading desk",
            "--json",
        ])
        .ok()
        .json();
    let names: Vec<&str> = set["alternativeUserIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["employeeId", "desk"]);

    let table = emulator.run(&["schema", "get"]);
    table.ok();
    for value in [
        "Property",
        "employeeId",
        "HR number",
        "desk",
        "Trading desk",
    ] {
        assert!(table.stdout.contains(value), "{value} missing: {table:#?}");
    }
    assert!(!table.stdout.contains("Old one"));
    let json = emulator.run(&["schema", "get", "--json"]).ok().json();
    assert_eq!(json["alternativeUserIds"].as_array().unwrap().len(), 2);
}

#[test]
fn export_writes_json_lines_of_every_user() {
    let emulator = TestEmulator::start();
    for n in 0..5 {
        emulator.create_personal(
            "User",
            &format!("Number{n}"),
            &format!("user{n}@example.com"),
        );
    }
    let gone = emulator.create_personal("Gone", "Away", "gone@example.com");
    emulator
        .run(&["users", "delete", gone["id"].as_str().unwrap()])
        .ok();

    let run = emulator.run(&["users", "export"]);
    run.ok();
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert!(
        lines
            .iter()
            .all(|user| user["id"].is_string() && user["status"] == "PROVISIONED")
    );
    assert!(run.stderr.contains("exported 5 users"), "{run:#?}");

    let all = emulator.run(&["users", "export", "--include-deactivated"]);
    assert_eq!(all.ok().stdout.lines().count(), 6);
}

#[test]
fn global_flags_work_before_and_after_the_command() {
    let emulator = TestEmulator::start();
    emulator.create_personal("Ann", "Lee", "ann@example.com");
    let base = emulator.base_url();
    let before = run_bare(
        emulator.dir(),
        &[
            "--json",
            "--base-url",
            &base,
            "--access-token",
            TOKEN,
            "--timeout-ms",
            "5000",
            "users",
            "list",
        ],
    );
    let after = run_bare(
        emulator.dir(),
        &[
            "users",
            "list",
            "--json",
            "--base-url",
            &base,
            "--access-token",
            TOKEN,
            "--rate-limit-retries",
            "0",
        ],
    );
    let mixed = run_bare(
        emulator.dir(),
        &[
            "--base-url",
            &base,
            "users",
            "--json",
            "list",
            "--access-token",
            TOKEN,
        ],
    );
    for run in [before, after, mixed] {
        assert_eq!(run.ok().json().as_array().unwrap().len(), 1);
    }
}

#[test]
fn app_name_and_correlation_id_are_sent() {
    let emulator = TestEmulator::start();
    emulator
        .run(&[
            "users",
            "list",
            "--app-name",
            "payroll-sync",
            "--correlation-id",
            "corr-77",
        ])
        .ok();
    let list = emulator
        .emulator()
        .requests()
        .into_iter()
        .find(|request| request.operation.as_deref() == Some("ListUsers"))
        .unwrap();
    assert_eq!(
        list.headers.get("x-lusid-application").map(String::as_str),
        Some("payroll-sync")
    );
    assert_eq!(
        list.headers.get("correlationid").map(String::as_str),
        Some("corr-77")
    );
}

#[test]
fn settings_come_from_the_environment_and_the_secrets_file() {
    let emulator = TestEmulator::start();
    emulator.create_personal("Ann", "Lee", "ann@example.com");

    let from_env = finish(
        command(emulator.dir())
            .args(["users", "list", "--json"])
            .env("FBN_IDENTITY_URL", emulator.base_url())
            .env("FBN_ACCESS_TOKEN", TOKEN),
    );
    assert_eq!(from_env.ok().json().as_array().unwrap().len(), 1);

    let secrets =
        serde_json::json!({"api": {"identityUrl": emulator.base_url(), "accessToken": TOKEN}});
    let file = emulator.write_file("my-secrets.json", &secrets.to_string());
    let from_file = run_bare(
        emulator.dir(),
        &[
            "users",
            "list",
            "--json",
            "--secrets",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(from_file.ok().json().as_array().unwrap().len(), 1);

    // FBN_SECRETS_PATH names it too.
    let by_variable = finish(
        command(emulator.dir())
            .args(["users", "list", "--json"])
            .env("FBN_SECRETS_PATH", &file),
    );
    assert_eq!(by_variable.ok().json().as_array().unwrap().len(), 1);

    // A ./secrets.json that was not named is not read (see `trust.rs`).
    emulator.write_file("secrets.json", &secrets.to_string());
    run_bare(emulator.dir(), &["users", "list", "--json"]).expect_code(2);

    // A flag wins over the environment.
    let flag_wins = finish(
        command(emulator.dir())
            .args([
                "users",
                "list",
                "--json",
                "--base-url",
                &emulator.base_url(),
            ])
            .env(
                "FBN_IDENTITY_URL",
                format!("http://127.0.0.1:{}/identity", support::closed_port()),
            )
            .env("FBN_ACCESS_TOKEN", TOKEN),
    );
    flag_wins.ok();
}

#[test]
fn the_password_grant_takes_its_secrets_from_the_environment() {
    let emulator = TestEmulator::start();
    let config = identity_emulator::EmulatorConfig::default();
    let run = finish(
        command(emulator.dir())
            .args([
                "users",
                "list",
                "--json",
                "--base-url",
                &emulator.base_url(),
            ])
            .args([
                "--token-url",
                &emulator.emulator().token_url(),
                "--username",
                &config.username,
            ])
            .args(["--client-id", &config.client_id])
            .env("FBN_PASSWORD", &config.password)
            .env("FBN_CLIENT_SECRET", &config.client_secret),
    );
    assert_eq!(run.ok().json(), serde_json::json!([]));
    assert!(emulator.operations().contains(&"Token".to_owned()));
}

#[test]
fn verbose_logs_go_to_stderr_without_secrets() {
    let emulator = TestEmulator::start();
    let run = emulator.run(&["-vv", "users", "list", "--json"]);
    assert_eq!(run.ok().json(), serde_json::json!([]));
    assert!(!run.stderr.is_empty(), "-vv logs something: {run:#?}");
    assert!(
        !run.stderr.contains(TOKEN),
        "the token leaked: {}",
        run.stderr
    );
    let quiet = emulator.run(&["users", "list", "--json"]);
    assert_eq!(quiet.ok().stderr.trim(), "0 users");
}

#[test]
fn help_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let help = run_bare(dir.path(), &["--help"]);
    for word in [
        "users",
        "schema",
        "emulator",
        "demo",
        "--json",
        "--secrets",
        "FBN_PASSWORD",
    ] {
        assert!(help.ok().stdout.contains(word), "{word} missing: {help:#?}");
    }
    let users = run_bare(dir.path(), &["users", "--help"]);
    for word in [
        "list",
        "runnable",
        "get-by-login",
        "find",
        "create",
        "update",
        "delete",
        "activate",
        "unlock",
        "unsuspend",
        "reset-password",
        "reset-factors",
        "expire-password",
        "import",
        "export",
    ] {
        assert!(
            users.ok().stdout.contains(word),
            "{word} missing: {users:#?}"
        );
    }
    assert!(
        run_bare(dir.path(), &["--version"])
            .ok()
            .stdout
            .contains("fbn-identity")
    );
}

#[test]
fn the_emulator_command_serves_in_the_foreground_until_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = command(dir.path())
        .args([
            "emulator",
            "--bind",
            "127.0.0.1:0",
            "--access-token",
            "fg-token",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut base_url = None;
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        if let Some(url) = line
            .split_whitespace()
            .find(|word| word.ends_with("/identity"))
        {
            base_url = Some(url.to_owned());
            break;
        }
        line.clear();
    }
    let base_url = base_url.expect("the banner names the base URL");
    let list = run_bare(
        dir.path(),
        &[
            "users",
            "list",
            "--json",
            "--base-url",
            &base_url,
            "--access-token",
            "fg-token",
        ],
    );
    assert_eq!(list.ok().json(), serde_json::json!([]));

    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success());
}

#[test]
fn the_demo_walks_the_whole_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    // Neither the environment nor a secrets.json are read.
    std::fs::write(dir.path().join("secrets.json"), "not json").unwrap();
    let run = finish(
        command(dir.path())
            .arg("demo")
            .env("FBN_IDENTITY_URL", "not a url")
            .env("FBN_ACCESS_TOKEN", "wrong"),
    );
    run.ok();
    for step in [
        "password grant",
        "user schema",
        "Create a Personal user",
        "Create a Service user",
        "List the users",
        "runnable",
        "Find users by id",
        "not found: 00uDoesNotExist",
        "with its roles",
        "default/analyst",
        "Update",
        "Augusta Ada",
        "activation email",
        "Expire the password",
        "temporary password:",
        "PASSWORD_EXPIRED",
        "Reset the password",
        "RECOVERY",
        "MFA factors",
        "LOCKED_OUT -> ACTIVE",
        "SUSPENDED -> ACTIVE",
        "Delete the Service user",
        "deactivated ones included",
        "DEPROVISIONED",
        "Purge",
        "gone from every list",
        "Tour complete: 18 steps",
    ] {
        assert!(
            run.stdout.contains(step),
            "{step} missing from the demo:\n{}",
            run.stdout
        );
    }
}
