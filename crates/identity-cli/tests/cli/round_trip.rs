//! Every export imports back: each format, with and without
//! `--include-roles` and `--include-deactivated`, into an empty domain,
//! with no failures and the same users (those who left are skipped, not
//! recreated).

use std::collections::BTreeMap;

use finbourne_identity::{UserResponse, UserStatus};
use identity_emulator::EmulatorConfig;
use serde_json::{Value, json};

use crate::support::{TOKEN, TestEmulator, finish};

/// An emulator with the schema property `employeeId`, seeded with
/// `seeded` users.
fn domain(seeded: u64) -> TestEmulator {
    let emulator = TestEmulator::start_with(EmulatorConfig {
        access_tokens: vec![TOKEN.to_owned()],
        seed_users: seeded,
        ..EmulatorConfig::default()
    });
    emulator
        .run(&["schema", "set", "--property", "employeeId=HR number"])
        .ok();
    emulator
}

/// A source domain: seeded users of every type and status, and users with
/// everything an import carries: roles, alternative ids, a second email,
/// an expiry, cells that CSV must quote or escape.
fn source() -> TestEmulator {
    let source = domain(60);
    source.create_personal("Ann", "Lee", "ann@example.com");
    source
        .run(&[
            "users",
            "create",
            "--first-name",
            "Build, \"the\"",
            "--last-name",
            "Bot\nSecond line",
            "--email",
            "ops@example.com",
            "--login",
            "build-bot",
            "--type",
            "service",
            "--second-email",
            "oncall@example.com",
            "--role",
            "default/runner",
            "--role",
            "odd;scope/code=x",
            "--alt-id",
            "employeeId=E1;E2=3",
            "--expiry",
            "2030-01-31T00:00:00Z",
        ])
        .ok();
    let leaver = source.create_personal("Dan", "Left", "dan@example.com");
    source
        .run(&["users", "delete", leaver["id"].as_str().unwrap()])
        .ok();
    source
}

/// What an import must carry across, by login; roles only when exported.
fn portable(users: Vec<UserResponse>, roles: bool) -> BTreeMap<String, Value> {
    users
        .into_iter()
        .map(|user| {
            let mut role_ids: Vec<String> = user
                .roles
                .unwrap_or_default()
                .into_iter()
                .map(|role| format!("{}/{}", role.role_id.scope, role.role_id.code))
                .collect();
            role_ids.sort();
            let value = json!({
                "firstName": user.first_name,
                "lastName": user.last_name,
                "emailAddress": user.email_address,
                "secondEmailAddress": user.second_email_address,
                "type": user.user_type.to_string(),
                "userExpiry": user.user_expiry.map(|at| at.unix_timestamp()),
                "alternativeUserIds": user.alternative_user_ids,
                "roles": if roles { json!(role_ids) } else { Value::Null },
            });
            (user.login, value)
        })
        .collect()
}

/// Exports `source` as `format` with `flags`, imports the file into an
/// empty domain, and checks the import and the users.
fn round_trip(format: &str, flags: &[&str]) {
    let source = source();
    let roles = flags.contains(&"--include-roles");
    let deactivated = flags.contains(&"--include-deactivated");
    let file = format!("users.{format}");
    let mut args = vec!["users", "export", "--output", file.as_str()];
    args.extend_from_slice(flags);
    source.run(&args).ok();
    let text = std::fs::read_to_string(source.dir().join(&file)).unwrap();

    let target = domain(0);
    let path = target.write_file(&file, &text);
    let import = target.run(&["users", "import", path.to_str().unwrap(), "--json"]);
    let report = import.ok().json();
    let (live, left): (Vec<UserResponse>, Vec<UserResponse>) = source
        .users()
        .into_iter()
        .partition(|user| user.status != UserStatus::Deprovisioned);
    assert!(!left.is_empty() && live.len() > 50, "a varied source");
    assert_eq!(report["failed"], 0, "{report}");
    assert_eq!(report["created"], live.len(), "{report}");
    let skipped = if deactivated { left.len() } else { 0 };
    assert_eq!(report["skipped"], skipped, "{report}");
    if deactivated {
        assert!(
            report["lines"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|line| line["outcome"] == "skipped")
                .all(|line| line["reason"] == "deprovisioned"),
            "{report}"
        );
    }
    assert_eq!(portable(live, roles), portable(target.users(), roles));
}

#[test]
fn a_json_lines_export_imports_back() {
    round_trip("jsonl", &[]);
}

#[test]
fn a_json_lines_export_with_roles_imports_back() {
    round_trip("jsonl", &["--include-roles"]);
}

#[test]
fn a_json_lines_export_with_users_who_left_imports_back_without_them() {
    round_trip("jsonl", &["--include-deactivated"]);
}

#[test]
fn a_json_lines_export_with_roles_and_users_who_left_imports_back() {
    round_trip("jsonl", &["--include-roles", "--include-deactivated"]);
}

#[test]
fn a_csv_export_imports_back() {
    round_trip("csv", &[]);
}

#[test]
fn a_csv_export_with_roles_imports_back() {
    round_trip("csv", &["--include-roles"]);
}

#[test]
fn a_csv_export_with_users_who_left_imports_back_without_them() {
    round_trip("csv", &["--include-deactivated"]);
}

#[test]
fn a_csv_export_with_roles_and_users_who_left_imports_back() {
    round_trip("csv", &["--include-roles", "--include-deactivated"]);
}

#[test]
fn a_csv_export_escapes_what_its_lists_hold_and_imports_from_stdin_too() {
    let source = source();
    source
        .run(&[
            "users",
            "export",
            "--include-roles",
            "--output",
            "users.csv",
        ])
        .ok();
    let csv = std::fs::read_to_string(source.dir().join("users.csv")).unwrap();
    assert!(
        csv.starts_with("id,login,firstName,lastName,emailAddress,secondEmailAddress,type,status,"),
        "{csv}"
    );
    assert!(csv.contains("default/runner;odd\\;scope/code\\=x"), "{csv}");
    assert!(csv.contains("employeeId=E1\\;E2\\=3"), "{csv}");

    let target = domain(0);
    let file = target.write_file("users.csv", &csv);
    let import = finish(
        target
            .command(&["users", "import", "-", "--format", "csv", "--json"])
            .stdin(std::fs::File::open(&file).unwrap()),
    );
    let report = import.ok().json();
    assert_eq!(report["failed"], 0, "{report}");
    // Once more: every user exists now, which the service says.
    let again = target.run(&["users", "import", file.to_str().unwrap(), "--json"]);
    let report = again.ok().json();
    assert_eq!(report["created"], 0, "{report}");
    assert_eq!(report["skipped"], report["valid"], "{report}");
}
