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
