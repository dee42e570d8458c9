//! The emulator under load: 64 concurrent creates of one login
//! make exactly one user; and the emulator binary, killed with SIGKILL while
//! it appends to its state file's journal under a stream of creates, starts
//! again from the snapshot and the journal with every user it acknowledged.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use finbourne_identity::{CreateUserRequest, IdentityClient};
use futures_util::future::join_all;
use identity_emulator::EmulatorConfig;

use crate::support;
use crate::support::emulator_process::EmulatorProcess;

/// Sends 64 creates of `logins` (one per call) at once; the results.
async fn create_all(
    client: &IdentityClient,
    logins: &[String],
) -> Vec<Result<String, finbourne_identity::Error>> {
    let calls = logins.iter().map(|login| async move {
        client
            .users()
            .create_user(&CreateUserRequest::personal("Race", "Runner", login))
            .send()
            .await
            .map(|user| user.id)
    });
    join_all(calls).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_login_make_exactly_one_user() {
    let emulator = support::emulator_with(EmulatorConfig::default()).await;
    let client = support::client(&emulator.base_url());
    let same = vec!["race@example.com".to_owned(); 64];
    // Logins are unique whatever their case.
    let cased: Vec<String> = (0..64)
        .map(|i| {
            "Case@Example.com"
                .chars()
                .enumerate()
                .map(|(j, c)| {
                    if (i >> (j % 6)) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect()
        })
        .collect();
    for logins in [same, cased] {
        let results = create_all(&client, &logins).await;
        let created: Vec<&String> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(created.len(), 1, "{results:?}");
        for error in results.iter().filter_map(|r| r.as_ref().err()) {
            let api = error
                .api()
                .unwrap_or_else(|| panic!("not an answer: {error}"));
            assert_eq!(
                (api.status.as_u16(), api.code().map(|code| code.number())),
                (400, Some(658)),
                "{error}"
            );
        }
        let wanted = logins[0].to_lowercase();
        let stored: Vec<_> = emulator
            .users()
            .into_iter()
            .filter(|user| user.login.to_lowercase() == wanted)
            .collect();
        assert_eq!(stored.len(), 1);
        assert_eq!(&stored[0].id, created[0]);
    }
}

/// The size of the state file's journal (`PATH.journal`).
fn journal_size(state: &Path) -> u64 {
    let mut name = state.as_os_str().to_owned();
    name.push(".journal");
    std::fs::metadata(std::path::PathBuf::from(name)).map_or(0, |metadata| metadata.len())
}

/// Whether the journal grows while it is watched for a moment (a write in
/// progress, or one just done with more to come).
fn writing(state: &Path) -> bool {
    let before = journal_size(state);
    let watching = Instant::now();
    while watching.elapsed() < Duration::from_millis(20) {
        if journal_size(state) != before {
            return true;
        }
        std::hint::spin_loop();
    }
    false
}

/// Creates users from 4 tasks until stopped; keeps the acknowledged ids.
fn create_stream(
    client: IdentityClient,
    round: usize,
    acknowledged: Arc<Mutex<Vec<String>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..4)
        .map(|task| {
            let client = client.clone();
            let acknowledged = acknowledged.clone();
            tokio::spawn(async move {
                for number in 0.. {
                    let login = format!("crash-{round}-{task}-{number}@example.com");
                    let request = CreateUserRequest::personal("Crash", "Tester", &login);
                    match client.users().create_user(&request).send().await {
                        Ok(user) => acknowledged.lock().unwrap().push(user.id),
                        // The emulator was killed: the stream ends.
                        Err(error) if error.status().is_none() => break,
                        Err(error) => panic!("{login}: {error}"),
                    }
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_during_a_state_write_loses_no_acknowledged_user() {
    let directory = tempfile::tempdir().unwrap();
    let state = directory.path().join("state.json");
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut killed_while_writing = 0;
    for round in 0..3 {
        let emulator = EmulatorProcess::start(&state, support::TOKEN).unwrap();
        let client = support::builder(&emulator.base_url())
            .access_token(support::TOKEN)
            .transient_retries(0)
            .build()
            .unwrap();
        let before = acknowledged.lock().unwrap().len();
        let stream = create_stream(client, round, acknowledged.clone());
        // Some creates first, then the kill as soon as the journal is seen
        // growing (appends in progress).
        let started = Instant::now();
        while acknowledged.lock().unwrap().len() < before + 40
            && started.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let watching = Instant::now();
        let mut growing = false;
        while !growing && watching.elapsed() < Duration::from_secs(2) {
            growing = writing(&state);
        }
        if growing {
            killed_while_writing += 1;
        }
        emulator.kill();
        for task in join_all(stream).await {
            task.unwrap();
        }
        assert!(
            acknowledged.lock().unwrap().len() >= before + 40,
            "too few creates"
        );
    }

    // The file loads, and holds every user ever acknowledged.
    let emulator = EmulatorProcess::start(&state, support::TOKEN).unwrap();
    let client = support::client(&emulator.base_url());
    let stored = client
        .users()
        .list_users()
        .include_deactivated(true)
        .send()
        .await
        .unwrap();
    let stored: HashSet<String> = stored.into_iter().map(|user| user.id).collect();
    let acknowledged = acknowledged.lock().unwrap();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    println!(
        "emulator kill: {} users acknowledged over 3 kills ({killed_while_writing} with the journal growing), {} stored, {} lost",
        acknowledged.len(),
        stored.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(
        killed_while_writing > 0,
        "no kill landed while the journal grew"
    );
}

#[test]
fn a_corrupt_state_file_stops_the_start_with_an_error_naming_it() {
    let directory = tempfile::tempdir().unwrap();
    let state = directory.path().join("state.json");
    std::fs::write(&state, b"{\"users\": [ {\"id\": ").unwrap();
    let error = EmulatorProcess::start(&state, support::TOKEN)
        .err()
        .expect("it must not start");
    assert!(error.contains("state.json"), "{error}");
    // And the file is left as it was, for a person to look at.
    assert_eq!(std::fs::read(&state).unwrap(), b"{\"users\": [ {\"id\": ");
}
