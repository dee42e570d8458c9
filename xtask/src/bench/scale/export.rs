//! `--scale export`: `fbn-identity users export --output FILE` (the
//! release binary, a process of its own) of an emulator seeded with 10,000,
//! 100,000 and 1,000,000 users: time, users per second, and the CLI's peak
//! memory, which must not grow with the domain: 1M within 1.5 times 10k.
//! Each file is checked to hold every live user of the domain, once.
//!
//! Then the emulator's GetUser: p50 latency of GetUser of varied ids with
//! 1M users over the same with 100 users, at most 1.2. The two emulators
//! take turns, in rounds; the figure is the median of the per-round ratios.
//!
//! `--quick`: 1,000 and 10,000 users.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Instant;

use identity_emulator::Emulator;
use serde_json::{Value, json};

use super::super::clients::{Api, Sdk};
use super::super::measure::{median, percentile};
use super::{TOKEN, cli_command, run_measured, start, verdict};

/// GetUser calls per round and rounds, for the emulator's latency.
const LATENCY_CALLS: usize = 300;
const LATENCY_ROUNDS: usize = 41;

/// How many ids of the large domain GetUser cycles through.
const SAMPLED_IDS: usize = 1_000;

/// The domains exported: small, medium, large.
fn sizes(quick: bool) -> &'static [u64] {
    if quick {
        &[1_000, 10_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    }
}

/// The exports, then GetUser at the largest size; the figures as JSON.
pub(super) async fn run(cli: &Path, work: &Path, quick: bool) -> Result<Value, String> {
    let sizes = sizes(quick);
    let mut exports = Vec::new();
    let mut large = None;
    for &users in sizes {
        let emulator = start(users, None).await?;
        let export = export(cli, work, &emulator).await?;
        println!(
            "export of {users:>9} users: {:>7.2} s, {:>9.0} users/s, CLI peak memory {:.1} MiB",
            export.seconds,
            export.exported as f64 / export.seconds,
            export.peak_kib as f64 / 1024.0
        );
        if Some(&users) == sizes.last() {
            large = Some((emulator, export.sampled_ids.clone()));
        } else {
            emulator.shutdown().await;
        }
        exports.push(json!({
            "users": users,
            "exported": export.exported,
            "seconds": export.seconds,
            "usersPerSecond": export.exported as f64 / export.seconds,
            "peakMemoryKiB": export.peak_kib,
        }));
    }
    let memory_ratio = match (exports.first(), exports.last()) {
        (Some(first), Some(last)) => {
            last["peakMemoryKiB"].as_f64().unwrap_or(f64::NAN)
                / first["peakMemoryKiB"].as_f64().unwrap_or(f64::NAN)
        }
        _ => f64::NAN,
    };
    println!(
        "CLI peak memory, largest export over smallest: {memory_ratio:.2} (goal: at most 1.5: {})",
        verdict(memory_ratio <= 1.5)
    );

    let (large, large_ids) = large.ok_or("no export was run")?;
    let latency = latency(&large, &large_ids).await;
    large.shutdown().await;
    let latency = latency?;
    println!(
        "emulator GetUser p50, {} users over 100: {:.2} (goal: at most 1.2: {})",
        sizes.last().copied().unwrap_or_default(),
        latency.ratio,
        verdict(latency.ratio <= 1.2)
    );
    Ok(json!({
        "exports": exports,
        "exportPeakMemoryRatio": memory_ratio,
        "emulatorGetUser": {
            "users": sizes.last(),
            "p50MicrosSmall": latency.small_p50_micros,
            "p50MicrosLarge": latency.large_p50_micros,
            "ratio": latency.ratio,
        },
    }))
}

/// One export's figures.
struct Export {
    exported: usize,
    seconds: f64,
    peak_kib: u64,
    /// Ids spread over the domain, for GetUser.
    sampled_ids: Vec<String>,
}

/// Exports every user of `emulator` to a file and checks the file.
async fn export(cli: &Path, work: &Path, emulator: &Emulator) -> Result<Export, String> {
    let file = work.join("export.jsonl");
    let mut command = cli_command(cli, work, &emulator.base_url());
    command.args(["users", "export", "--output"]).arg(&file);
    let ran = run_measured(command, work).await?;
    if !ran.success() {
        return Err(format!("the export failed: {}", ran.stderr.trim()));
    }
    let live = emulator
        .users()
        .into_iter()
        .filter(|user| user.status != identity_models::UserStatus::Deprovisioned)
        .count();
    let (exported, sampled_ids) = read_export(&file, live)?;
    let _ = std::fs::remove_file(&file);
    if exported != live {
        return Err(format!(
            "the export holds {exported} users; the domain has {live} live users"
        ));
    }
    Ok(Export {
        exported,
        seconds: ran.seconds,
        peak_kib: ran.peak_kib,
        sampled_ids,
    })
}

/// Counts the users of an export, checks each id appears once, and
/// samples [`SAMPLED_IDS`] ids spread over the `expected` lines.
fn read_export(file: &Path, expected: usize) -> Result<(usize, Vec<String>), String> {
    let reader =
        BufReader::new(std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?);
    let every = (expected / SAMPLED_IDS).max(1);
    let mut seen = std::collections::HashSet::with_capacity(expected);
    let mut sampled = Vec::with_capacity(SAMPLED_IDS);
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        let user: Value = serde_json::from_str(&line)
            .map_err(|e| format!("line {} of the export: {e}", n + 1))?;
        let id = user["id"]
            .as_str()
            .ok_or("a user without an id")?
            .to_owned();
        if n % every == 0 && sampled.len() < SAMPLED_IDS {
            sampled.push(id.clone());
        }
        if !seen.insert(id) {
            return Err(format!("line {} repeats a user", n + 1));
        }
    }
    Ok((seen.len(), sampled))
}

/// The emulator's GetUser latency, large over small.
struct Latency {
    small_p50_micros: f64,
    large_p50_micros: f64,
    ratio: f64,
}

async fn latency(large: &Emulator, large_ids: &[String]) -> Result<Latency, String> {
    let small = start(100, None).await?;
    let small_ids: Vec<String> = small.users().into_iter().map(|user| user.id).collect();
    let outcome = latency_rounds((&small, &small_ids), (large, large_ids)).await;
    small.shutdown().await;
    outcome
}

async fn latency_rounds(
    small: (&Emulator, &[String]),
    large: (&Emulator, &[String]),
) -> Result<Latency, String> {
    let small_client = Sdk::new(&small.0.base_url(), TOKEN)?;
    let large_client = Sdk::new(&large.0.base_url(), TOKEN)?;
    // Warm up: connections open, code and data paged in.
    p50(&small_client, small.1).await?;
    p50(&large_client, large.1).await?;
    let (mut smalls, mut larges, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..LATENCY_ROUNDS {
        let (s, l) = if round % 2 == 0 {
            let s = p50(&small_client, small.1).await?;
            (s, p50(&large_client, large.1).await?)
        } else {
            let l = p50(&large_client, large.1).await?;
            (p50(&small_client, small.1).await?, l)
        };
        smalls.push(s);
        larges.push(l);
        ratios.push(l / s);
    }
    Ok(Latency {
        small_p50_micros: median(&smalls),
        large_p50_micros: median(&larges),
        ratio: median(&ratios),
    })
}

/// The p50 latency, in microseconds, of [`LATENCY_CALLS`] GetUser calls
/// one after another, cycling through `ids`.
async fn p50(client: &Sdk, ids: &[String]) -> Result<f64, String> {
    let mut latencies = Vec::with_capacity(LATENCY_CALLS);
    for id in ids.iter().cycle().take(LATENCY_CALLS) {
        let started = Instant::now();
        client.get_user(id).await?;
        latencies.push(started.elapsed());
    }
    latencies.sort();
    Ok(percentile(&latencies, 50.0).as_secs_f64() * 1e6)
}
