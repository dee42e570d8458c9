//! `--scale sync`: `users sync` of a domain of 1,000,000 users against a
//! directory file of the same people with 1 % of them changed (a new last
//! name), 0.5 % added and 0.5 % removed (Personal users left out of the
//! file, pruned):
//!
//! - plan: `users sync FILE --prune --out PLAN` against an emulator in this
//!   process limited to 500 requests per second (the plan is one streamed
//!   ListUsers): its time and the CLI's peak memory, exit 10, and the
//!   plan's counts checked against the file's;
//! - apply: `users sync --from-plan PLAN --apply --report R` at the same
//!   limit (each update and delete is a GetUser and a change, each create
//!   one call): its time, its calls per second against the limit, peak
//!   memory, every change applied;
//! - again: the same `users sync FILE` right after: it must plan nothing
//!   (exit 0).
//!
//! Goal: at most 128 MB of peak memory for the plan and the apply.
//! `--quick`: a domain of 10,000.

use std::io::Write;
use std::num::NonZeroU32;
use std::path::Path;

use identity_models::{UserStatus, UserType};
use serde_json::{Value, json};

use super::{cli_command, run_measured, start, verdict};

/// The rate limit of the apply, per second.
const RATE_LIMIT: u32 = 500;

/// The most memory a plan or an apply may take, in MiB (the issue's
/// 128 MB, read as MiB).
const MEMORY_GOAL_MIB: f64 = 128.0;

/// The account the sync runs as (not in the domain: nothing to spare).
const ME: &str = "admin@bench.example";

/// The part.
pub(super) async fn run(cli: &Path, work: &Path, quick: bool) -> Result<Value, String> {
    let seeded = if quick { 10_000 } else { 1_000_000 };
    let emulator = start(seeded, NonZeroU32::new(RATE_LIMIT)).await?;
    let file = work.join("directory.jsonl");
    let expected = write_directory(&file, &emulator.users())?;
    let bytes = std::fs::metadata(&file).map_or(0, |metadata| metadata.len());
    let limits = [
        "--max-deletes".to_owned(),
        expected.removed.to_string(),
        "--max-deletes-percent".to_owned(),
        "1".to_owned(),
    ];

    let plan_file = work.join("plan.json");
    let mut command = cli_command(cli, work, &emulator.base_url());
    command
        .args(["users", "sync", "--prune", "--me", ME, "--out"])
        .arg(&plan_file)
        .args(&limits)
        .arg(&file);
    let plan = run_measured(command, work).await?;
    let summary: Value = std::fs::read_to_string(&plan_file)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .map(|plan| plan["summary"].clone())
        .unwrap_or(Value::Null);
    let counted = |name: &str| summary[name].as_u64().unwrap_or(0);
    let planned = (counted("create"), counted("update"), counted("delete"));
    if plan.status.code() != Some(10)
        || planned != (expected.added, expected.changed, expected.removed)
    {
        emulator.shutdown().await;
        return Err(format!(
            "the plan of {seeded} users planned {planned:?}, not {:?}: {}",
            (expected.added, expected.changed, expected.removed),
            plan.stderr.trim()
        ));
    }
    println!(
        "sync plan of a {seeded}-user domain against a file of {} lines ({:.0} MB): {:.1} s, CLI \
         peak memory {:.1} MiB (goal: at most {MEMORY_GOAL_MIB} MB: {}); create {}, update {}, \
         delete {}, unchanged {}",
        expected.lines,
        bytes as f64 / 1e6,
        plan.seconds,
        plan.peak_mib(),
        verdict(plan.peak_mib() <= MEMORY_GOAL_MIB),
        planned.0,
        planned.1,
        planned.2,
        counted("unchanged"),
    );

    let report = work.join("sync-report.jsonl");
    let mut command = cli_command(cli, work, &emulator.base_url());
    command
        .args(["users", "sync", "--apply", "--from-plan"])
        .arg(&plan_file)
        .args(&limits)
        .arg("--report")
        .arg(&report);
    let apply = run_measured(command, work).await?;
    let outcomes = super::outcome_counts_of(&report, "outcome")?;
    let applied = outcomes.get("applied").copied().unwrap_or(0);
    let changes = planned.0 + planned.1 + planned.2;
    // A create is one call; an update or a delete reads the user first
    // (the emulator's request log is bounded: counted, not read back).
    let calls = planned.0 + 2 * (planned.1 + planned.2);
    // The CLI's own count, from its last line: "the service throttled N calls".
    let throttled: u64 = apply
        .stderr
        .split("the service throttled ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or(0);
    let rate = calls as f64 / apply.seconds;
    println!(
        "sync apply of {changes} changes at --rate-limit {RATE_LIMIT}: {:.1} s, {calls} calls = \
         {rate:.0} calls/s = {:.2} of the limit, {throttled} answers 429; CLI peak memory {:.1} \
         MiB (goal: at most {MEMORY_GOAL_MIB} MB: {}); applied {applied} of {changes}: {}",
        apply.seconds,
        rate / f64::from(RATE_LIMIT),
        apply.peak_mib(),
        verdict(apply.peak_mib() <= MEMORY_GOAL_MIB),
        verdict(apply.success() && applied as u64 == changes),
    );

    let mut command = cli_command(cli, work, &emulator.base_url());
    command
        .args(["users", "sync", "--prune", "--me", ME])
        .args(&limits)
        .arg(&file);
    let again = run_measured(command, work).await;
    emulator.shutdown().await;
    let again = again?;
    println!(
        "sync plan again right after: {:.1} s, exit {:?} (goal: 0, nothing to do: {})",
        again.seconds,
        again.status.code(),
        verdict(again.success())
    );
    for path in [&file, &plan_file, &report] {
        let _ = std::fs::remove_file(path);
    }
    Ok(json!({
        "domainUsers": seeded,
        "fileLines": expected.lines,
        "fileBytes": bytes,
        "rateLimit": RATE_LIMIT,
        "plan": {
            "seconds": plan.seconds, "peakMemoryKiB": plan.peak_kib,
            "create": planned.0, "update": planned.1, "delete": planned.2,
        },
        "apply": {
            "seconds": apply.seconds, "peakMemoryKiB": apply.peak_kib, "calls": calls,
            "callsPerSecond": rate, "throttled": throttled, "applied": applied,
            "exit": apply.status.code(),
        },
        "again": {"seconds": again.seconds, "peakMemoryKiB": again.peak_kib, "exit": again.status.code()},
    }))
}

/// What the directory file holds against the domain.
struct Expected {
    lines: u64,
    changed: u64,
    added: u64,
    removed: u64,
}

/// Writes the directory: each live user of the domain (its required
/// fields, so the others are left as they are), but every 200th Personal
/// one (removed); every 100th with a new last name (changed); and one new
/// person for each 200 users (added).
fn write_directory(
    file: &Path,
    users: &[identity_models::UserResponse],
) -> Result<Expected, String> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(file).map_err(|e| format!("{}: {e}", file.display()))?,
    );
    let mut expected = Expected {
        lines: 0,
        changed: 0,
        added: 0,
        removed: 0,
    };
    let mut write = |line: Value, expected: &mut Expected| {
        expected.lines += 1;
        writeln!(out, "{line}").map_err(|e| e.to_string())
    };
    for (n, user) in users
        .iter()
        .filter(|user| user.status != UserStatus::Deprovisioned)
        .enumerate()
    {
        if n % 200 == 7 && user.user_type == UserType::Personal {
            expected.removed += 1;
            continue;
        }
        let mut last_name = user.last_name.clone();
        if n % 100 == 3 {
            last_name = format!("{}-Sync", user.last_name);
            expected.changed += 1;
        }
        let line = json!({
            "firstName": user.first_name, "lastName": last_name,
            "emailAddress": user.email_address, "login": user.login, "type": user.user_type,
        });
        write(line, &mut expected)?;
        if n % 200 == 11 {
            let login = format!("joiner-{n:07}@sync.example");
            let line = json!({
                "firstName": "New", "lastName": "Joiner", "emailAddress": login,
                "login": login, "type": "Personal",
            });
            write(line, &mut expected)?;
            expected.added += 1;
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(expected)
}
