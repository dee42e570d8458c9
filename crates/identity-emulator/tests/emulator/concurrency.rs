//! Concurrent calls: one lock, whole changes.

use http::{Method, StatusCode};

use crate::common::{TestEmulator, personal};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_creates_of_one_login_make_exactly_one_user() {
    let emulator = std::sync::Arc::new(TestEmulator::start().await);
    let calls = (0..64).map(|_| {
        let emulator = emulator.clone();
        tokio::spawn(async move {
            let reply = emulator
                .send(
                    emulator
                        .api(Method::POST, "users")
                        .json(&personal("ada@example.com")),
                )
                .await;
            let code = (reply.status == StatusCode::BAD_REQUEST).then(|| reply.code());
            (reply.status, code)
        })
    });
    let mut created = 0;
    let mut duplicates = 0;
    for call in calls.collect::<Vec<_>>() {
        match call.await.unwrap() {
            (StatusCode::OK, _) => created += 1,
            (StatusCode::BAD_REQUEST, Some(658)) => duplicates += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((created, duplicates), (1, 63));
    assert_eq!(emulator.emulator.users().len(), 1);
}
