//! `cargo xtask bench --scale`: the bulk paths at the sizes operators meet,
//! each figure beside its goal.
//!
//! - **Export**: `fbn-identity users export --output FILE` (the release
//!   binary, a process of its own) of an emulator seeded with 10,000,
//!   100,000 and 1,000,000 users: time, users per second, and the CLI's
//!   peak memory (its peak resident set, `VmHWM`, read from `/proc` while it
//!   runs), which must not grow with the domain: 1M within 1.5 times 10k.
//!   Each file is checked to hold every live user of the domain, once.
//! - **Import**: `fbn-identity users import FILE --report R` of 10,000 new
//!   users, no `--concurrency`, against an emulator limited to 500 requests
//!   per second: the rate achieved (at least 0.9 of the limit), the 429s
//!   the service answered, duplicates (a login the emulator holds twice)
//!   and lines reported failed, both 0.
//! - **Emulator GetUser**: p50 latency of GetUser of varied ids with 1M
//!   users over the same with 100 users, at most 1.2. The two emulators
//!   take turns, in rounds; the figure is the median of the per-round
//!   ratios.
//!
//! The emulators run in this process, on the bench's runtime; the CLI runs
//! beside them, so both share the machine's 2 cores as they would on a
//! developer's machine. Work files go under `target/bench/scale/` and are
//! removed at the end. `--quick` runs 1,000 and 10,000 users, and an import
//! of 1,000: a smoke test of the harness, not a measurement.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use identity_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

use super::clients::{Api, Sdk};
use super::measure::{median, percentile};

/// The static token of the emulators.
const TOKEN: &str = "bench-scale-token";

/// The import's rate limit, per second.
const RATE_LIMIT: u32 = 500;

/// GetUser calls per round and rounds, for the emulator's latency.
const LATENCY_CALLS: usize = 300;
const LATENCY_ROUNDS: usize = 41;

/// How many ids of the large domain GetUser cycles through.
const SAMPLED_IDS: usize = 1_000;

/// The sizes of one run.
struct Sizes {
    exports: &'static [u64],
    imported: usize,
}

impl Sizes {
    fn of(quick: bool) -> Self {
        if quick {
            Self {
                exports: &[1_000, 10_000],
                imported: 1_000,
            }
        } else {
            Self {
                exports: &[10_000, 100_000, 1_000_000],
                imported: 10_000,
            }
        }
    }
}

/// Runs the scale benchmark with the release CLI at `cli`; answers the
/// figures as JSON, the table printed on the way.
pub(crate) async fn run(cli: PathBuf, work: PathBuf, quick: bool) -> Result<Value, String> {
    let sizes = Sizes::of(quick);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let outcome = measure_all(&cli, &work, &sizes).await;
    let _ = std::fs::remove_dir_all(&work);
    outcome
}

async fn measure_all(cli: &Path, work: &Path, sizes: &Sizes) -> Result<Value, String> {
    let mut exports = Vec::new();
    let mut large = None;
    for &users in sizes.exports {
        let emulator = start(users, None).await?;
        let export = export(cli, work, &emulator).await?;
        println!(
            "export of {users:>9} users: {:>7.2} s, {:>9.0} users/s, CLI peak memory {:.1} MiB",
            export.seconds,
            export.exported as f64 / export.seconds,
            export.peak_kib as f64 / 1024.0
        );
        if Some(&users) == sizes.exports.last() {
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
        sizes.exports.last().copied().unwrap_or_default(),
        latency.ratio,
        verdict(latency.ratio <= 1.2)
    );

    let import = import(cli, work, sizes.imported).await?;
    let rate = import.created as f64 / import.seconds;
    let rate_ratio = rate / f64::from(RATE_LIMIT);
    println!(
        "import of {} users at --rate-limit {RATE_LIMIT}: {:.1} s, {rate:.0} users/s = {rate_ratio:.2} of the limit \
         (goal: at least 0.9: {}); created {}, skipped {}, failed {}, duplicates {}, 429 answers {}",
        sizes.imported,
        import.seconds,
        verdict(rate_ratio >= 0.9),
        import.created,
        import.skipped,
        import.failed,
        import.duplicates,
        import.throttled,
    );
    let import_ok = import.failed == 0 && import.duplicates == 0 && import.skipped == 0;
    println!(
        "import: 0 failed, 0 duplicates, every line created: {}",
        verdict(import_ok)
    );

    Ok(json!({
        "exports": exports,
        "exportPeakMemoryRatio": memory_ratio,
        "emulatorGetUser": {
            "users": sizes.exports.last(),
            "p50MicrosSmall": latency.small_p50_micros,
            "p50MicrosLarge": latency.large_p50_micros,
            "ratio": latency.ratio,
        },
        "import": {
            "users": sizes.imported,
            "rateLimit": RATE_LIMIT,
            "seconds": import.seconds,
            "usersPerSecond": rate,
            "ofTheLimit": rate_ratio,
            "created": import.created,
            "skipped": import.skipped,
            "failed": import.failed,
            "duplicates": import.duplicates,
            "throttled": import.throttled,
        },
    }))
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// An emulator seeded with `users`, limited to `rate` requests per second.
async fn start(users: u64, rate: Option<NonZeroU32>) -> Result<Emulator, String> {
    identity_emulator::start(EmulatorConfig {
        access_tokens: vec![TOKEN.to_owned()],
        seed_users: users,
        rate_limit: rate,
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| format!("could not start the emulator: {e}"))
}

/// The CLI at `cli`, pointed at `emulator`, its output in `work`.
fn cli_command(cli: &Path, work: &Path, emulator: &Emulator) -> Command {
    let mut command = Command::new(cli);
    command
        .current_dir(work)
        .env("FBN_IDENTITY_URL", emulator.base_url())
        .env("FBN_ACCESS_TOKEN", TOKEN)
        .stdin(Stdio::null());
    command
}

/// What a process did: its exit, its stderr, how long it took and its
/// peak resident set.
struct Ran {
    success: bool,
    stderr: String,
    seconds: f64,
    peak_kib: u64,
}

/// Runs `command` to its end (stdout and stderr to files in `work`),
/// reading its peak resident set from `/proc` every few milliseconds; on a
/// thread of its own, off the runtime that serves the emulator.
async fn run_measured(mut command: Command, work: &Path) -> Result<Ran, String> {
    let stderr_path = work.join("stderr.txt");
    let stderr = std::fs::File::create(&stderr_path).map_err(|e| e.to_string())?;
    command.stdout(Stdio::null()).stderr(stderr);
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| format!("could not run the CLI: {e}"))?;
        let status_file = format!("/proc/{}/status", child.id());
        let mut peak_kib = 0;
        let status = loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                break status;
            }
            if let Some(kib) = peak_resident_kib(&status_file) {
                peak_kib = peak_kib.max(kib);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let seconds = started.elapsed().as_secs_f64();
        let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        Ok(Ran {
            success: status.success(),
            stderr,
            seconds,
            peak_kib,
        })
    })
    .await
    .map_err(|e| format!("the measuring thread failed: {e}"))?
}

/// `VmHWM` of a `/proc/PID/status` file: the process's peak resident set.
fn peak_resident_kib(status_file: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
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
    let mut command = cli_command(cli, work, emulator);
    command.args(["users", "export", "--output"]).arg(&file);
    let ran = run_measured(command, work).await?;
    if !ran.success {
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

/// One import's figures.
struct Import {
    seconds: f64,
    created: usize,
    skipped: usize,
    failed: usize,
    duplicates: usize,
    throttled: usize,
}

/// Imports `count` new users into a rate-limited emulator, with no
/// `--concurrency`, and checks the report and the domain.
async fn import(cli: &Path, work: &Path, count: usize) -> Result<Import, String> {
    let file = work.join("import.jsonl");
    write_import_file(&file, count)?;
    let emulator = start(0, NonZeroU32::new(RATE_LIMIT)).await?;
    let report = work.join("import-report.jsonl");
    let mut command = cli_command(cli, work, &emulator);
    command
        .args(["users", "import"])
        .arg(&file)
        .arg("--report")
        .arg(&report);
    let ran = run_measured(command, work).await;
    let requests = emulator.requests();
    let logins = emulator
        .users()
        .into_iter()
        .filter(|user| user.login.ends_with("@import.example"))
        .fold(HashMap::<String, usize>::new(), |mut counts, user| {
            *counts.entry(user.login.to_lowercase()).or_default() += 1;
            counts
        });
    emulator.shutdown().await;
    let ran = ran?;
    let outcomes = read_report(&report)?;
    let outcome = |name: &str| outcomes.get(name).copied().unwrap_or(0);
    if !ran.success && outcome("failed") == 0 {
        return Err(format!("the import failed: {}", ran.stderr.trim()));
    }
    let missing = count.saturating_sub(logins.len());
    if missing > 0 && outcome("failed") == 0 {
        return Err(format!("{missing} users are missing, none reported failed"));
    }
    Ok(Import {
        seconds: ran.seconds,
        created: outcome("created"),
        skipped: outcome("skipped"),
        failed: outcome("failed"),
        duplicates: logins.values().map(|n| n - 1).sum(),
        throttled: requests
            .iter()
            .filter(|request| request.status == Some(429))
            .count(),
    })
}

/// `count` CreateUserRequests as JSON lines (`import-000001@import.example`, ...).
fn write_import_file(file: &Path, count: usize) -> Result<(), String> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(file).map_err(|e| format!("{}: {e}", file.display()))?,
    );
    for n in 1..=count {
        let login = format!("import-{n:06}@import.example");
        let user = json!({
            "firstName": "Imported",
            "lastName": format!("User{n}"),
            "emailAddress": login,
            "login": login,
            "type": "Personal",
        });
        writeln!(out, "{user}").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())
}

/// How many lines of an import's report have each outcome.
fn read_report(report: &Path) -> Result<HashMap<String, usize>, String> {
    let reader = BufReader::new(
        std::fs::File::open(report).map_err(|e| format!("{}: {e}", report.display()))?,
    );
    let mut outcomes = HashMap::new();
    for line in reader.lines() {
        let line: Value =
            serde_json::from_str(&line.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let outcome = line["outcome"].as_str().unwrap_or("unknown").to_owned();
        *outcomes.entry(outcome).or_default() += 1;
    }
    Ok(outcomes)
}
