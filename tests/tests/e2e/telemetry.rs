//! Metrics (feature `metrics`) through a real recorder: the duration of each
//! request by operation and status, retries by reason, token fetches.

use std::time::Duration;

use finbourne_identity::testing::{Fault, FaultRule, FaultWhen, TestEmulator};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

/// One recorded metric: its name, its labels and its value.
type Recorded = (String, Vec<(String, String)>, DebugValue);

/// The metrics recorded while `body` ran.
fn recorded<T>(body: impl FnOnce() -> T) -> (T, Vec<Recorded>) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let value = metrics::with_local_recorder(&recorder, body);
    let metrics = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels = key
                .labels()
                .map(|label| (label.key().to_owned(), label.value().to_owned()))
                .collect();
            (key.name().to_owned(), labels, value)
        })
        .collect();
    (value, metrics)
}

fn has_label(labels: &[(String, String)], key: &str, value: &str) -> bool {
    labels.iter().any(|(k, v)| k == key && v == value)
}

#[test]
fn durations_retries_and_token_fetches_are_recorded() {
    // One thread: the local recorder sees the runtime's tasks.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ((), metrics) = recorded(|| {
        runtime.block_on(async {
            let emulator = TestEmulator::start().await.unwrap();
            let client = emulator
                .builder()
                .read_timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            emulator.set_faults(vec![
                FaultRule::new(
                    Some("ListUsers"),
                    Fault::Status {
                        status: 503,
                        retry_after: Some("0".into()),
                    },
                )
                .when(FaultWhen::Next { n: 1 }),
            ]);
            client.users().list_users().send().await.unwrap();
            emulator.shutdown().await;
        })
    });
    let durations: Vec<_> = metrics
        .iter()
        .filter(|(name, _, _)| name == "http.client.request.duration")
        .collect();
    let of_status = |status: &str| {
        durations.iter().any(|(_, labels, value)| {
            has_label(labels, "identity.operation", "ListUsers")
                && has_label(labels, "http.request.method", "GET")
                && has_label(labels, "http.response.status_code", status)
                && matches!(value, DebugValue::Histogram(samples) if samples.len() == 1)
        })
    };
    assert!(of_status("503") && of_status("200"), "{metrics:?}");
    assert!(
        metrics
            .iter()
            .any(|(name, labels, value)| name == "identity.client.retries"
                && has_label(labels, "reason", "unavailable")
                && has_label(labels, "identity.operation", "ListUsers")
                && *value == DebugValue::Counter(1)),
        "{metrics:?}"
    );
    assert!(
        metrics.iter().any(
            |(name, labels, value)| name == "identity.client.token_fetches"
                && has_label(labels, "outcome", "success")
                && *value == DebugValue::Counter(1)
        ),
        "{metrics:?}"
    );
}
