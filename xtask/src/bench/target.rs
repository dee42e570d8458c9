//! `cargo xtask bench --target-url URL --access-token TOKEN`: the GetUser
//! and ListUsers scenarios against a server already running (the emulator,
//! a test domain), in requests per second.

use std::time::Duration;

use serde_json::json;

use super::clients::{Api, Client, Kind, Sdk, with_api};
use super::measure::{
    PerClient, index, micros, millis, percentile, sequential_latencies, throughput, timed, turns,
};
use super::report::{Report, Row, Unit};
use super::suite::IN_FLIGHT;

/// The server to measure.
pub(crate) struct Target {
    /// Base URL of the Identity API, e.g. `http://127.0.0.1:8080/identity`.
    pub(crate) url: String,
    pub(crate) access_token: String,
    /// The user GetUser asks for (else the first user of ListUsers).
    pub(crate) user_id: Option<String>,
}

/// Measures `target` with each client.
pub(crate) async fn run(target: Target, quick: bool) -> Result<Report, String> {
    let settings = if quick {
        (3, 300, Duration::from_millis(500))
    } else {
        (5, 2000, Duration::from_secs(2))
    };
    let rounds = settings.0;
    let clients = Kind::ALL
        .iter()
        .map(|kind| Client::new(*kind, &target.url, &target.access_token))
        .collect::<Result<Vec<_>, _>>()?;
    let client = |kind: Kind| &clients[index(kind)];
    let users = Sdk::new(&target.url, &target.access_token)?
        .list_users()
        .await?;
    let id = match target.user_id {
        Some(id) => id,
        None => users
            .first()
            .map(|user| user.id.clone())
            .ok_or("ListUsers answered no user: give one with --user-id ID")?,
    };
    eprintln!("bench: {} users listed; GetUser asks for {id}", users.len());

    for kind in Kind::ALL {
        with_api!(client(kind), api => warm_up(api, &id, settings.1 / 10).await)?;
    }
    let mut figures: [PerClient; 5] = Default::default();
    for round in 0..rounds {
        for kind in turns(round) {
            let measured = with_api!(client(kind), api => one_round(api, &id, settings).await)?;
            for (per_client, value) in figures.iter_mut().zip(measured) {
                per_client.push(kind, value);
            }
        }
    }
    let [p50, p99, sequential_rate, rate, list_time] = &figures;
    let mut report = Report::default();
    report.context.insert("mode".into(), json!("target"));
    report.context.insert("rounds".into(), json!(rounds));
    report
        .context
        .insert("listUsers".into(), json!(users.len()));
    let list_rate = list_time.medians().map(|ms| ms.map(|ms| 1000.0 / ms));
    report.rows = vec![
        Row::measured("GetUser sequential", "p50 latency", Unit::Micros, p50),
        Row::measured("GetUser sequential", "p99 latency", Unit::Micros, p99),
        Row::measured(
            "GetUser sequential",
            "requests per second",
            Unit::PerSecond,
            sequential_rate,
        ),
        Row::measured(
            "GetUser 64 in flight",
            "requests per second",
            Unit::PerSecond,
            rate,
        ),
        Row::measured("ListUsers", "time per call", Unit::Millis, list_time),
        Row::new(
            "ListUsers",
            "requests per second",
            Unit::PerSecond,
            list_rate,
        ),
    ];
    Ok(report)
}

async fn warm_up(api: &impl Api, id: &str, calls: usize) -> Result<(), String> {
    sequential_latencies(api, id, calls).await?;
    throughput(api, id, IN_FLIGHT, Duration::from_millis(200)).await?;
    api.list_users().await.map(drop)
}

/// One round of one client: GetUser p50 and p99 (us) and requests per
/// second one at a time, requests per second with 64 in flight, and a
/// ListUsers call's time (ms).
async fn one_round(
    api: &impl Api,
    id: &str,
    (_, sequential_calls, throughput_time): (usize, usize, Duration),
) -> Result<[f64; 5], String> {
    let mut latencies = sequential_latencies(api, id, sequential_calls).await?;
    let total: Duration = latencies.iter().sum();
    latencies.sort_unstable();
    let rate = throughput(api, id, IN_FLIGHT, throughput_time).await?;
    let (list_time, _) = timed(api.list_users()).await?;
    Ok([
        micros(percentile(&latencies, 50.0)),
        micros(percentile(&latencies, 99.0)),
        latencies.len() as f64 / total.as_secs_f64(),
        rate,
        millis(list_time),
    ])
}
