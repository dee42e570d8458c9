//! `cargo xtask bench --fanout`: many calls at once through one default
//! client against a rate-limited emulator, the client keeping the service's
//! pace by itself.
//!
//! - Fan-outs: 200 CreateUser against a limit of 20 a second, and 2,000
//!   GetUser and 2,000 CreateUser against 200 a second, each with 1, 64
//!   and 256 calls in flight (`futures::StreamExt::buffer_unordered`),
//!   through one `IdentityClient` built as a user builds it. The
//!   emulator's bucket passes a burst of the limit at once, then the limit
//!   a second: the ideal time is `(calls - limit) / limit` (9 s in each
//!   case). Goals: 0 failed, time at most 1.15 times the ideal, answers of
//!   429 at most the calls in flight plus 5 % of the calls, each user
//!   created once (counted per login in the emulator's request log, which
//!   names the login of each create it carried out).
//! - Four `fbn-identity users import` processes (the release CLI) with one
//!   static token, 1,000 lines each, against a limit of 100 a second (one
//!   bucket for the token): every line created once, and 4,000 lines over
//!   the time from the first start to the last end at least 0.9 of the
//!   limit after the burst.
//! - The throttle's cost when the service never throttles: GetUser with 64
//!   calls in flight against the benchmark's own server, the default client
//!   against one with `ThrottleConfig::off()`, in rotated rounds; goal: at
//!   most 5 % less throughput.
//!
//! The emulator runs in this process, on the same runtime as the clients
//! (as in `--scale`); the CLI processes are children.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use finbourne_identity::{CreateUserRequest, IdentityClient, ThrottleConfig};
use futures_util::{StreamExt, stream};
use identity_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::clients::Sdk;
use super::measure::{median, throughput};
use super::server::BenchServer;

/// The emulator's token for these runs.
const TOKEN: &str = "fanout-token";

/// One fan-out to measure.
#[derive(Clone, Copy)]
struct Case {
    operation: Operation,
    calls: usize,
    in_flight: usize,
    rate: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Operation {
    GetUser,
    CreateUser,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::GetUser => "GetUser",
            Operation::CreateUser => "CreateUser",
        }
    }
}

/// What one fan-out did.
struct Outcome {
    failed: usize,
    seconds: f64,
    throttled: usize,
    created_answers: usize,
    first_error: Option<String>,
}

/// Runs every part (with `quick`: one fan-out, small imports, few rounds)
/// and returns the figures.
pub(crate) async fn run(cli: PathBuf, work: PathBuf, quick: bool) -> Result<Value, String> {
    let widths: &[usize] = if quick { &[64] } else { &[1, 64, 256] };
    let mut cases = Vec::new();
    for &in_flight in widths {
        cases.push(Case {
            operation: Operation::CreateUser,
            calls: 200,
            in_flight,
            rate: 20,
        });
    }
    if !quick {
        for operation in [Operation::GetUser, Operation::CreateUser] {
            for &in_flight in widths {
                cases.push(Case {
                    operation,
                    calls: 2000,
                    in_flight,
                    rate: 200,
                });
            }
        }
    }
    println!(
        "{:<11} {:>6} {:>9} {:>6} {:>7} {:>9} {:>6} {:>10} {:>7}",
        "operation",
        "calls",
        "in flight",
        "limit",
        "failed",
        "time (s)",
        "ideal",
        "x ideal",
        "429s"
    );
    let mut rows = Vec::new();
    let mut all_met = true;
    for case in cases {
        let outcome = fan_out(case).await?;
        let ideal = (case.calls as f64 - f64::from(case.rate)) / f64::from(case.rate);
        let ratio = outcome.seconds / ideal;
        let allowed = case.in_flight + case.calls / 20;
        let created_once =
            case.operation == Operation::GetUser || outcome.created_answers == case.calls;
        let met =
            outcome.failed == 0 && ratio <= 1.15 && outcome.throttled <= allowed && created_once;
        all_met &= met;
        println!(
            "{:<11} {:>6} {:>9} {:>6} {:>7} {:>9.2} {:>6.1} {:>10.3} {:>7}  {}{}",
            case.operation.name(),
            case.calls,
            case.in_flight,
            case.rate,
            outcome.failed,
            outcome.seconds,
            ideal,
            ratio,
            format!("{}/{allowed}", outcome.throttled),
            if met { "met" } else { "MISSED" },
            outcome
                .first_error
                .as_deref()
                .map(|error| format!(" (first failure: {error})"))
                .unwrap_or_default(),
        );
        rows.push(json!({
            "operation": case.operation.name(),
            "calls": case.calls,
            "inFlight": case.in_flight,
            "ratePerSecond": case.rate,
            "failed": outcome.failed,
            "seconds": outcome.seconds,
            "idealSeconds": ideal,
            "ratioToIdeal": ratio,
            "answered429": outcome.throttled,
            "allowed429": allowed,
            "createdOnce": created_once,
            "met": met,
        }));
    }
    let imports = four_imports(&cli, &work, if quick { 100 } else { 1000 }).await?;
    let cost = throttle_cost(if quick { 3 } else { 9 }).await?;
    Ok(json!({
        "fanOuts": rows,
        "fanOutsMet": all_met,
        "fourImports": imports,
        "throttleCost": cost,
    }))
}

/// An emulator limited to `rate` requests a second per token.
async fn emulator(rate: u32) -> Result<Emulator, String> {
    identity_emulator::start(EmulatorConfig {
        access_tokens: vec![TOKEN.to_owned()],
        rate_limit: NonZeroU32::new(rate),
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| format!("could not start the emulator: {e}"))
}

/// The client a user builds: the defaults, a static token.
fn client(emulator: &Emulator) -> Result<IdentityClient, String> {
    IdentityClient::builder()
        .environment(false)
        .base_url(emulator.base_url())
        .access_token(TOKEN)
        .build()
        .map_err(|e| format!("could not build the client: {e}"))
}

async fn fan_out(case: Case) -> Result<Outcome, String> {
    let emulator = emulator(case.rate).await?;
    let client = client(&emulator)?;
    let someone = client
        .users()
        .create_user(&CreateUserRequest::personal(
            "Some",
            "One",
            "someone@example.com",
        ))
        .send()
        .await
        .map_err(|e| format!("could not create the user to get: {e}"))?;
    // A full bucket for the fan-out, and a log of its requests only.
    emulator.set_rate_limit(NonZeroU32::new(case.rate));
    emulator.clear_requests();
    let started = Instant::now();
    let results: Vec<Result<(), String>> = stream::iter(0..case.calls)
        .map(|n| {
            let client = client.clone();
            let id = someone.id.clone();
            async move {
                let users = client.users();
                match case.operation {
                    Operation::GetUser => users.get_user(&id).send().await.map(drop),
                    Operation::CreateUser => {
                        let email = format!("fan{n}@example.com");
                        let request = CreateUserRequest::personal("Fan", "Out", &email);
                        users.create_user(&request).send().await.map(drop)
                    }
                }
                .map_err(|e| e.to_string())
            }
        })
        .buffer_unordered(case.in_flight)
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let log = emulator.requests();
    let throttled = log.iter().filter(|r| r.status == Some(429)).count();
    let created_answers = created_once(&log);
    let failed = results.iter().filter(|r| r.is_err()).count();
    let first_error = results.into_iter().find_map(Result::err);
    Ok(Outcome {
        failed,
        seconds,
        throttled,
        created_answers,
        first_error,
    })
}

/// How many logins the emulator's log shows created exactly once, when no
/// create reached it twice; else 0. The emulator refuses a second create of
/// a login, so a create sent again shows as a create answered neither
/// 2xx nor 429 (its "already exists"), not as a login created twice.
fn created_once(log: &[identity_emulator::RecordedRequest]) -> usize {
    let sent_again = log.iter().any(|r| {
        r.operation.as_deref() == Some("CreateUser")
            && r.status
                .is_some_and(|status| status != 429 && !(200..300).contains(&status))
    });
    if sent_again {
        return 0;
    }
    let mut created: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for login in log.iter().filter_map(|r| r.created_login.as_deref()) {
        *created.entry(login).or_default() += 1;
    }
    created.values().filter(|count| **count == 1).count()
}

/// Four CLI imports of `lines` lines each, with one token, at 100 a second.
async fn four_imports(cli: &Path, work: &Path, lines: usize) -> Result<Value, String> {
    let rate = 100;
    let emulator = emulator(rate).await?;
    std::fs::create_dir_all(work).map_err(|e| e.to_string())?;
    let mut commands = Vec::new();
    for process in 0..4 {
        let file = work.join(format!("import-{process}.jsonl"));
        let text: String = (0..lines)
            .map(|n| {
                let email = format!("p{process}-u{n}@example.com");
                format!(
                    "{{\"firstName\":\"Four\",\"lastName\":\"Imports\",\"emailAddress\":\"{email}\",\"login\":\"{email}\",\"type\":\"Personal\"}}\n"
                )
            })
            .collect();
        std::fs::write(&file, text).map_err(|e| e.to_string())?;
        let mut command = Command::new(cli);
        command
            .args(["users", "import"])
            .arg(&file)
            .env_clear()
            .env("FBN_IDENTITY_URL", emulator.base_url())
            .env("FBN_ACCESS_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        commands.push(command);
    }
    let ran = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let children: Vec<_> = commands
            .iter_mut()
            .map(|command| command.spawn())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("could not run the CLI: {e}"))?;
        let mut outputs = Vec::new();
        for child in children {
            outputs.push(child.wait_with_output().map_err(|e| e.to_string())?);
        }
        Ok::<_, String>((started.elapsed(), outputs))
    })
    .await
    .map_err(|e| e.to_string())??;
    let (elapsed, outputs) = ran;
    let failed_processes = outputs.iter().filter(|o| !o.status.success()).count();
    let log = emulator.requests();
    let created_answers = created_once(&log);
    let throttled = log.iter().filter(|r| r.status == Some(429)).count();
    let users = emulator.users().len();
    let total = 4 * lines;
    let seconds = elapsed.as_secs_f64();
    let rate_after_burst = (total as f64 - f64::from(rate)) / seconds;
    let share = rate_after_burst / f64::from(rate);
    let met = failed_processes == 0 && users == total && created_answers == total && share >= 0.9;
    println!(
        "4 imports x {lines} lines, one token, limit {rate}/s: {seconds:.1} s, {rate_after_burst:.1} lines/s after the burst ({share:.2} of the limit), {users} users, {created_answers} logins created once, {throttled} answers of 429, {failed_processes} processes failed  {}",
        if met { "met" } else { "MISSED" }
    );
    for output in outputs.iter().filter(|o| !o.status.success()) {
        println!("  {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(json!({
        "processes": 4,
        "linesEach": lines,
        "ratePerSecond": rate,
        "seconds": seconds,
        "linesPerSecondAfterBurst": rate_after_burst,
        "shareOfLimit": share,
        "users": users,
        "loginsCreatedOnce": created_answers,
        "answered429": throttled,
        "failedProcesses": failed_processes,
        "met": met,
    }))
}

/// GetUser throughput with 64 in flight, the throttle on (the default) and
/// off, against a server that never throttles: median of `rounds` rounds,
/// the order of the two rotated each round.
async fn throttle_cost(rounds: usize) -> Result<Value, String> {
    let server = BenchServer::start(1).await?;
    let on = Sdk::new(&server.base_url(), "bench-token")?;
    let off = IdentityClient::builder()
        .environment(false)
        .base_url(server.base_url())
        .access_token("bench-token")
        .throttle(ThrottleConfig::off())
        .build()
        .map(Sdk)
        .map_err(|e| e.to_string())?;
    let id = "00u1";
    let window = Duration::from_secs(2);
    // Warm both up: connections open, code paged in.
    throughput(&on, id, 64, Duration::from_millis(500)).await?;
    throughput(&off, id, 64, Duration::from_millis(500)).await?;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            with.push(throughput(&on, id, 64, window).await?);
            without.push(throughput(&off, id, 64, window).await?);
        } else {
            without.push(throughput(&off, id, 64, window).await?);
            with.push(throughput(&on, id, 64, window).await?);
        }
    }
    let (with, without) = (median(&with), median(&without));
    let ratio = with / without;
    let met = ratio >= 0.95;
    println!(
        "throttle on / off, GetUser with 64 in flight, never throttled: {with:.0} / {without:.0} calls/s = {ratio:.3}  {}",
        if met { "met" } else { "MISSED" }
    );
    Ok(json!({
        "rounds": rounds,
        "callsPerSecondOn": with,
        "callsPerSecondOff": without,
        "ratio": ratio,
        "met": met,
    }))
}
