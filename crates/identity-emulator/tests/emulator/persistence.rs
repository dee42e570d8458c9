//! The state file: users and schema survive a restart; a change is in the
//! journal before its answer and replayed at the next start; seeded users
//! are written once; a corrupt file stops the start; with one, the hooks
//! need a token; its files are written privately, through temporary files
//! no one can plant a link for.

use http::{Method, StatusCode};
use identity_emulator::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME, EmulatorConfig,
    EmulatorError,
};
use serde_json::json;

use crate::common::{Call, TOKEN, TestEmulator, id_of};

fn config(path: &std::path::Path) -> EmulatorConfig {
    EmulatorConfig {
        state_file: Some(path.to_owned()),
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn users_and_schema_survive_a_restart() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    let first = TestEmulator::with(config(&path)).await;
    let schema =
        json!({"alternativeUserIds": [{"name": "employeeNo", "description": "HR number"}]});
    assert_eq!(
        first
            .send(first.api(Method::PUT, "users/schema").json(&schema))
            .await
            .status,
        StatusCode::OK
    );
    let kept = id_of(&first.create_personal("ada@example.com").await);
    let deleted = id_of(&first.create_personal("gone@example.com").await);
    first
        .send(first.api(Method::DELETE, &format!("users/{deleted}")))
        .await;
    first
        .emulator
        .set_user_status(&kept, identity_models::UserStatus::LockedOut)
        .unwrap();
    let before = first.emulator.users();
    assert!(path.exists(), "written before the answers");
    first.emulator.shutdown().await;

    let second = TestEmulator::with(config(&path)).await;
    assert_eq!(second.emulator.users(), before);
    assert_eq!(
        second
            .send(second.api(Method::GET, "users/schema"))
            .await
            .value(),
        schema
    );
    let all = second
        .send(second.api(Method::GET, "users?includeDeactivated=true"))
        .await
        .value();
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    let unlock = second
        .send(second.api(Method::POST, &format!("users/{kept}/lifecycle/$unlock")))
        .await;
    assert_eq!(unlock.status, StatusCode::NO_CONTENT);
    let duplicate = second
        .send(
            second
                .api(Method::POST, "users")
                .json(&crate::common::personal("ada@example.com")),
        )
        .await;
    assert_eq!(
        duplicate.code(),
        658,
        "logins stay taken across the restart"
    );

    second.emulator.reset();
    second.emulator.shutdown().await;
    let third = TestEmulator::with(config(&path)).await;
    assert!(
        third.emulator.users().is_empty(),
        "the reset was written too"
    );
}

#[tokio::test]
async fn a_corrupt_state_file_stops_the_start_naming_the_file() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("corrupt-state.json");
    for content in [
        "{\"format\":\"identity-emulator/1\",\"users\":[",
        "",
        "{\"format\":\"other\",\"users\":[],\"schema\":[],\"roles\":[]}",
    ] {
        std::fs::write(&path, content).unwrap();
        let error = identity_emulator::start(config(&path)).await.unwrap_err();
        assert!(
            matches!(error, EmulatorError::CorruptStateFile { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("corrupt-state.json"), "{error}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            content,
            "the file is left as it was"
        );
    }
}

#[tokio::test]
async fn a_state_file_that_cannot_be_written_fails_the_start() {
    // (A journal line that cannot be written answers 500: the unit tests of
    // `persist` fill the disk with /dev/full.)
    let directory = tempfile::tempdir().unwrap();
    let nowhere = directory.path().join("missing-dir").join("state.json");
    let error = identity_emulator::start(config(&nowhere))
        .await
        .unwrap_err();
    assert!(
        matches!(error, EmulatorError::StateFile { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("missing-dir"), "{error}");
}

/// The lines of the journal beside `state`.
fn journal_lines(state: &std::path::Path) -> Vec<serde_json::Value> {
    let mut name = state.as_os_str().to_owned();
    name.push(".journal");
    std::fs::read_to_string(std::path::PathBuf::from(name))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn a_change_is_in_the_journal_before_its_answer_and_a_restart_replays_it() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    let first = TestEmulator::with(config(&path)).await;
    let snapshot = std::fs::read(&path).unwrap();
    let ada = id_of(&first.create_personal("ada@example.com").await);
    let lines = journal_lines(&path);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["seq"], 1);
    assert_eq!(lines[0]["effects"][0]["op"], "putUser");
    assert_eq!(lines[0]["effects"][0]["user"]["id"], ada.as_str());
    first
        .emulator
        .set_user_status(&ada, identity_models::UserStatus::LockedOut)
        .unwrap();
    assert_eq!(journal_lines(&path).len(), 2);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        snapshot,
        "only the journal grows"
    );
    let before = first.emulator.users();
    // No graceful shutdown: what is on disk is the snapshot and the journal.
    drop(first);

    let second = TestEmulator::with(config(&path)).await;
    assert_eq!(second.emulator.users(), before);
    assert!(
        journal_lines(&path).is_empty(),
        "folded into the snapshot at start"
    );
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(stored["journalSeq"], 2);
    assert_eq!(stored["users"][0]["status"], "LOCKED_OUT");
    // A graceful shutdown folds the journal too.
    second.create_personal("bob@example.com").await;
    second.emulator.shutdown().await;
    assert!(journal_lines(&path).is_empty());
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(stored["users"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn seeded_users_are_written_once_and_not_seeded_again() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.json");
    let seeded = EmulatorConfig {
        seed_users: 300,
        ..config(&path)
    };
    let first = TestEmulator::with(seeded.clone()).await;
    assert_eq!(first.emulator.user_count(), 300);
    assert!(journal_lines(&path).is_empty(), "a snapshot, not 300 lines");
    let user = first
        .send(first.api(Method::GET, "users/fromlogin/user-000300@seed.example"))
        .await
        .value();
    first.emulator.shutdown().await;
    let second = TestEmulator::with(seeded).await;
    assert_eq!(second.emulator.user_count(), 300);
    assert_eq!(
        second
            .send(second.api(Method::GET, &format!("users/{}", id_of(&user))))
            .await
            .value(),
        user
    );
}

#[tokio::test]
async fn with_a_state_file_the_hooks_need_a_token() {
    let directory = tempfile::tempdir().unwrap();
    let emulator = TestEmulator::with(config(&directory.path().join("state.json"))).await;
    let id = id_of(&emulator.create_personal("ada@example.com").await);
    let status = json!({"status": "LOCKED_OUT"});
    for call in [
        emulator.hook(Method::POST, "reset"),
        emulator.hook(Method::GET, "requests"),
        emulator.hook(Method::DELETE, "requests"),
        emulator.hook(Method::GET, "faults"),
        emulator
            .hook(Method::PUT, "faults")
            .json(&json!({"rules": []})),
        emulator
            .hook(Method::PUT, &format!("users/{id}/status"))
            .json(&status),
    ] {
        let reply = emulator.send(call).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
    let wrong = emulator.hook(Method::POST, "reset").bearer("wrong");
    assert_eq!(emulator.send(wrong).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(emulator.emulator.users().len(), 1, "the users are intact");

    // A static token, or one the token endpoint issued, opens them.
    let locked = emulator
        .hook(Method::PUT, &format!("users/{id}/status"))
        .json(&status)
        .bearer(TOKEN);
    assert_eq!(emulator.send(locked).await.status, StatusCode::NO_CONTENT);
    let issued = emulator
        .send(
            Call::new(Method::POST, emulator.emulator.token_url()).raw_body(
                "application/x-www-form-urlencoded",
                format!(
                    "grant_type=password&username={DEFAULT_USERNAME}&password={DEFAULT_PASSWORD}\
                     &client_id={DEFAULT_CLIENT_ID}&client_secret={DEFAULT_CLIENT_SECRET}"
                ),
            ),
        )
        .await
        .value();
    let access_token = issued["access_token"].as_str().unwrap();
    let reset = emulator.hook(Method::POST, "reset").bearer(access_token);
    assert_eq!(emulator.send(reset).await.status, StatusCode::NO_CONTENT);
    assert!(emulator.emulator.users().is_empty());
}

/// The temporary name the state file's writer used to take: fixed, so that
/// anyone able to write the directory could plant a link there.
#[cfg(unix)]
fn old_temporary_name(state: &std::path::Path) -> std::path::PathBuf {
    let name = state.file_name().unwrap().to_string_lossy();
    state.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

#[cfg(unix)]
#[tokio::test]
async fn a_link_planted_at_the_temporary_name_is_not_followed_and_the_file_is_private() {
    use std::os::unix::fs::PermissionsExt;

    let directory = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = elsewhere.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let state = directory.path().join("state.json");
    let planted = old_temporary_name(&state);
    std::os::unix::fs::symlink(&victim, &planted).unwrap();

    let emulator = TestEmulator::with(config(&state)).await;
    emulator.create_personal("ada@example.com").await;
    emulator.create_personal("bob@example.com").await;
    emulator.emulator.shutdown().await;

    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "precious",
        "the link's target is untouched"
    );
    assert_eq!(
        std::fs::read_link(&planted).unwrap(),
        victim,
        "the link is left as planted"
    );
    let metadata = std::fs::symlink_metadata(&state).unwrap();
    assert!(metadata.file_type().is_file(), "{metadata:?}");
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    let again = TestEmulator::with(config(&state)).await;
    assert_eq!(again.emulator.users().len(), 2);
    let names: Vec<_> = std::fs::read_dir(directory.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(
        names.len(),
        3,
        "the state file, its journal and the link: {names:?}"
    );
    let journal = directory.path().join("state.json.journal");
    let metadata = std::fs::symlink_metadata(&journal).unwrap();
    assert!(metadata.file_type().is_file(), "{metadata:?}");
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
}
