//! Many users: lookups go through indexes (the unit tests of `state` prove
//! that no lookup scans), so 200,000 seeded users are served as a hundred
//! are. No timing is asserted here: timing belongs in benchmarks.

use http::{Method, StatusCode};
use identity_emulator::EmulatorConfig;

use crate::common::{TestEmulator, id_of, personal};

#[tokio::test]
async fn two_hundred_thousand_seeded_users_are_found_by_id_and_login() {
    let emulator = TestEmulator::with(EmulatorConfig {
        seed_users: 200_000,
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(emulator.emulator.user_count(), 200_000);
    for n in [1, 123_456, 200_000] {
        let login = format!("user-{n:06}@seed.example");
        let by_login = emulator
            .send(emulator.api(
                Method::GET,
                &format!("users/fromlogin/{}", login.to_uppercase()),
            ))
            .await;
        assert_eq!(by_login.status, StatusCode::OK);
        let user = by_login.value();
        assert_eq!(user["login"], login.as_str());
        let by_id = emulator
            .send(emulator.api(Method::GET, &format!("users/{}", id_of(&user))))
            .await;
        assert_eq!(by_id.value(), user);
    }
    let taken = emulator
        .send(
            emulator
                .api(Method::POST, "users")
                .json(&personal("USER-000777@seed.example")),
        )
        .await;
    assert_eq!(taken.code(), 658);
    let missing = emulator
        .send(emulator.api(Method::GET, "users/fromlogin/user-200001@seed.example"))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn seeded_users_are_listed_first_in_order_and_varied() {
    let emulator = TestEmulator::with(EmulatorConfig {
        seed_users: 60,
        ..EmulatorConfig::default()
    })
    .await;
    let own = id_of(&emulator.create_personal("ada@example.com").await);
    let all = emulator
        .send(emulator.api(Method::GET, "users?includeDeactivated=true"))
        .await
        .value();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 61);
    for (index, user) in all[..60].iter().enumerate() {
        assert_eq!(user["login"], format!("user-{:06}@seed.example", index + 1));
    }
    assert_eq!(id_of(&all[60]), own);
    let statuses: std::collections::BTreeSet<&str> = all
        .iter()
        .filter_map(|user| user["status"].as_str())
        .collect();
    assert!(statuses.len() >= 4, "{statuses:?}");
    assert!(all.iter().any(|user| user["type"] == "Service"));
    // Live users only, by default.
    let live = emulator
        .send(emulator.api(Method::GET, "users"))
        .await
        .value();
    let live = live.as_array().unwrap();
    assert!(live.iter().all(|user| user["status"] != "DEPROVISIONED"));
}

#[tokio::test]
async fn a_long_list_is_written_as_it_is_read_each_part_as_the_directory_then_is() {
    use http_body_util::BodyExt;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let emulator = TestEmulator::with(EmulatorConfig {
        seed_users: 100_000,
        ..EmulatorConfig::default()
    })
    .await;
    let last = emulator
        .send(emulator.api(Method::GET, "users/fromlogin/user-100000@seed.example"))
        .await
        .value();

    // Start reading the list (about 37 MB) and stop after its first piece:
    // the emulator writes only as far as the sockets' buffers take.
    let client = Client::builder(TokioExecutor::new()).build_http();
    let list = emulator.api(Method::GET, "users?includeDeactivated=true");
    let response = client.request(list.request()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{:?}",
        response.headers()
    );
    let mut body = response.into_body();
    let mut read = Vec::new();
    while read.is_empty() {
        let frame = body.frame().await.unwrap().unwrap();
        read.extend_from_slice(&frame.into_data().unwrap());
    }

    // Meanwhile the emulator serves other calls: the last user is purged
    // and a new one created before the list's end is written.
    let purged = emulator
        .send(emulator.api(
            Method::DELETE,
            &format!("users/{}?purge=true", id_of(&last)),
        ))
        .await;
    assert_eq!(purged.status, StatusCode::NO_CONTENT);
    let late = emulator.create_personal("late@example.com").await;

    read.extend_from_slice(&body.collect().await.unwrap().to_bytes());
    let users: Vec<serde_json::Value> = serde_json::from_slice(&read).unwrap();
    assert_eq!(users.len(), 99_999, "every user but the purged one");
    assert_eq!(users[0]["login"], "user-000001@seed.example");
    assert_eq!(users[99_998]["login"], "user-099999@seed.example");
    assert!(users.iter().all(|user| user["id"] != late["id"]));
    let ids: std::collections::HashSet<&str> = users
        .iter()
        .filter_map(|user| user["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 99_999, "no user twice");
}
