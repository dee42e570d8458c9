//! The import's parts of `--scale`, each with the release CLI as a process
//! of its own against an emulator in this process:
//!
//! - `rate`: `users import FILE --report R` of 10,000 new users, no
//!   `--concurrency`, against an emulator limited to 500 requests per
//!   second: the rate achieved (at least 0.9 of the limit), the 429s the
//!   service answered, duplicates (a login the emulator holds twice) and
//!   lines reported failed, both 0.
//! - `memory`: a file of 1,000,000 lines (about 150 MB), imported with
//!   `--dry-run`, then for real into an empty emulator with no rate limit:
//!   the CLI's peak memory, at most 64 MB each; every line valid, then
//!   created.
//! - `large`: 5 lines (2 logins the domain has, 3 new ones) into an
//!   emulator seeded with 1,000,000 users: at most 10 s and 64 MB, with no
//!   ListUsers (the domain is never listed).
//!
//! `--quick`: 1,000, 10,000 and 10,000 instead.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};

use super::{
    cli_command, import_login, outcome_counts, run_measured, start, verdict, write_import_file,
};

/// The rate limit of `rate`, per second.
const RATE_LIMIT: u32 = 500;

/// The most memory an import may take, in MiB (the 64 MB goal,
/// read as MiB: the stricter reading would be 61 MiB, the figures are far
/// from either).
const MEMORY_GOAL_MIB: f64 = 64.0;

/// The longest a 5-line import into a large domain may take.
const LARGE_GOAL_SECONDS: f64 = 10.0;

/// `rate`: 10,000 new users at a rate limit.
pub(super) async fn rate(cli: &Path, work: &Path, quick: bool) -> Result<Value, String> {
    let count = if quick { 1_000 } else { 10_000 };
    let file = work.join("rate.jsonl");
    write_import_file(&file, "rate", count)?;
    let emulator = start(0, NonZeroU32::new(RATE_LIMIT)).await?;
    let report = work.join("rate-report.jsonl");
    let mut command = cli_command(cli, work, &emulator.base_url());
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
    let outcomes = outcome_counts(&report)?;
    let _ = std::fs::remove_file(&report);
    let _ = std::fs::remove_file(&file);
    let outcome = |name: &str| outcomes.get(name).copied().unwrap_or(0);
    let failed = outcome("failed");
    if !ran.success() && failed == 0 {
        return Err(format!("the import failed: {}", ran.stderr.trim()));
    }
    let missing = count.saturating_sub(logins.len());
    if missing > 0 && failed == 0 {
        return Err(format!("{missing} users are missing, none reported failed"));
    }
    let created = outcome("created");
    let skipped = outcome("skipped:exists") + outcome("skipped:deprovisioned");
    let duplicates: usize = logins.values().map(|n| n - 1).sum();
    let throttled = requests
        .iter()
        .filter(|request| request.status == Some(429))
        .count();
    let rate = created as f64 / ran.seconds;
    let rate_ratio = rate / f64::from(RATE_LIMIT);
    println!(
        "import of {count} users at --rate-limit {RATE_LIMIT}: {:.1} s, {rate:.0} users/s = \
         {rate_ratio:.2} of the limit (goal: at least 0.9: {}); created {created}, skipped \
         {skipped}, failed {failed}, duplicates {duplicates}, 429 answers {throttled}",
        ran.seconds,
        verdict(rate_ratio >= 0.9),
    );
    let import_ok = failed == 0 && duplicates == 0 && skipped == 0;
    println!(
        "import: 0 failed, 0 duplicates, every line created: {}",
        verdict(import_ok)
    );
    Ok(json!({
        "users": count,
        "rateLimit": RATE_LIMIT,
        "seconds": ran.seconds,
        "usersPerSecond": rate,
        "ofTheLimit": rate_ratio,
        "created": created,
        "skipped": skipped,
        "failed": failed,
        "duplicates": duplicates,
        "throttled": throttled,
        "peakMemoryKiB": ran.peak_kib,
    }))
}

/// `memory`: a file of a million lines, checked, then imported.
pub(super) async fn memory(cli: &Path, work: &Path, quick: bool) -> Result<Value, String> {
    let count = if quick { 10_000 } else { 1_000_000 };
    let file = work.join("million.jsonl");
    write_import_file(&file, "mem", count)?;
    let bytes = std::fs::metadata(&file).map_or(0, |metadata| metadata.len());

    // The dry run needs no service: the address is never called.
    let report = work.join("dry-run-report.jsonl");
    let mut command = cli_command(cli, work, "http://127.0.0.1:9/identity");
    command
        .args(["users", "import", "--dry-run", "--report"])
        .arg(&report)
        .arg(&file);
    let dry = run_measured(command, work).await?;
    let valid = outcome_counts(&report)?.get("valid").copied().unwrap_or(0);
    let _ = std::fs::remove_file(&report);
    if !dry.success() || valid != count {
        return Err(format!(
            "the dry run found {valid} of {count} lines valid: {}",
            dry.stderr.trim()
        ));
    }
    println!(
        "import --dry-run of {count} lines ({:.0} MB): {:.1} s, CLI peak memory {:.1} MiB \
         (goal: at most {MEMORY_GOAL_MIB} MB: {})",
        bytes as f64 / 1e6,
        dry.seconds,
        dry.peak_mib(),
        verdict(dry.peak_mib() <= MEMORY_GOAL_MIB)
    );

    let emulator = start(0, None).await?;
    let report = work.join("million-report.jsonl");
    let mut command = cli_command(cli, work, &emulator.base_url());
    command
        .args(["users", "import", "--report"])
        .arg(&report)
        .arg(&file);
    let real = run_measured(command, work).await;
    let users = emulator.user_count();
    emulator.shutdown().await;
    let real = real?;
    let created = outcome_counts(&report)?
        .get("created")
        .copied()
        .unwrap_or(0);
    let _ = std::fs::remove_file(&report);
    let _ = std::fs::remove_file(&file);
    if !real.success() || created != count || users != count {
        return Err(format!(
            "the import created {created} of {count} lines ({users} users in the emulator): {}",
            real.stderr.trim()
        ));
    }
    println!(
        "import of {count} lines, no rate limit: {:.1} s, {:.0} users/s, CLI peak memory {:.1} MiB \
         (goal: at most {MEMORY_GOAL_MIB} MB: {}); every line created once",
        real.seconds,
        count as f64 / real.seconds,
        real.peak_mib(),
        verdict(real.peak_mib() <= MEMORY_GOAL_MIB)
    );
    Ok(json!({
        "lines": count,
        "fileBytes": bytes,
        "dryRun": {"seconds": dry.seconds, "peakMemoryKiB": dry.peak_kib},
        "import": {
            "seconds": real.seconds,
            "usersPerSecond": count as f64 / real.seconds,
            "peakMemoryKiB": real.peak_kib,
            "created": created,
        },
    }))
}

/// `large`: 5 lines into a domain of a million users.
pub(super) async fn large(cli: &Path, work: &Path, quick: bool) -> Result<Value, String> {
    let seeded = if quick { 10_000 } else { 1_000_000 };
    let started = Instant::now();
    let emulator = start(seeded, None).await?;
    let seeding = started.elapsed().as_secs_f64();
    let file = work.join("five.jsonl");
    let line = |login: &str, n: usize| {
        json!({
            "firstName": "Five", "lastName": format!("Lines{n}"), "emailAddress": login,
            "login": login, "type": "Personal",
        })
        .to_string()
    };
    let mut text = String::new();
    // Two logins the domain has (seeded users 7 and 999,999 of a million),
    // three new ones.
    for (n, login) in [
        (1, "user-000007@seed.example".to_owned()),
        (2, format!("user-{:06}@seed.example", seeded - 1)),
        (3, import_login("five", 3)),
        (4, import_login("five", 4)),
        (5, import_login("five", 5)),
    ] {
        text.push_str(&line(&login, n));
        text.push('\n');
    }
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let report = work.join("five-report.jsonl");
    emulator.clear_requests();
    let mut command = cli_command(cli, work, &emulator.base_url());
    command
        .args(["users", "import", "--report"])
        .arg(&report)
        .arg(&file);
    let ran = run_measured(command, work).await;
    let calls: Vec<String> = emulator
        .requests()
        .into_iter()
        .filter_map(|request| request.operation)
        .collect();
    emulator.shutdown().await;
    let ran = ran?;
    let outcomes = outcome_counts(&report)?;
    let created = outcomes.get("created").copied().unwrap_or(0);
    let skipped = outcomes.get("skipped:exists").copied().unwrap_or(0);
    let listed = calls.iter().any(|call| call == "ListUsers");
    if !ran.success() || created != 3 || skipped != 2 || listed {
        return Err(format!(
            "5 lines into {seeded} users: created {created}, skipped {skipped}, calls {calls:?}: {}",
            ran.stderr.trim()
        ));
    }
    let met = ran.seconds <= LARGE_GOAL_SECONDS && ran.peak_mib() <= MEMORY_GOAL_MIB;
    println!(
        "import of 5 lines into {seeded} users: {:.2} s, CLI peak memory {:.1} MiB, {} calls, no \
         ListUsers (goal: at most {LARGE_GOAL_SECONDS} s and {MEMORY_GOAL_MIB} MB: {}); seeding \
         the emulator took {seeding:.1} s",
        ran.seconds,
        ran.peak_mib(),
        calls.len(),
        verdict(met)
    );
    Ok(json!({
        "seededUsers": seeded,
        "seconds": ran.seconds,
        "peakMemoryKiB": ran.peak_kib,
        "calls": calls,
        "created": created,
        "skipped": skipped,
    }))
}
