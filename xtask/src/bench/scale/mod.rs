//! `cargo xtask bench --scale [PART,...]`: the bulk paths at the sizes
//! operators meet, each figure beside its goal, with the release CLI as a
//! process of its own. The parts (all of them without a name):
//!
//! - `export` ([`export`]): export of 10,000, 100,000 and 1,000,000 users,
//!   and the emulator's GetUser at a million users.
//! - `rate` ([`import`]): import of 10,000 users at a rate limit.
//! - `memory` ([`import`]): import of a 1,000,000-line file, `--dry-run`
//!   and for real, peak memory against its goal.
//! - `large` ([`import`]): import of 5 lines into a domain of 1,000,000.
//! - `kill` ([`kill`]): the emulator, as a process of its own, killed
//!   during an import of 10,000 lines; restarted; the import resumed.
//! - `sync` ([`sync`]): `users sync` of a 1,000,000-user domain against a
//!   file with 1 % changed, 0.5 % added and 0.5 % removed: plan, apply at
//!   a rate limit, plan again; peak memory against its goal.
//!
//! The CLI's peak memory is its peak resident set (`VmHWM`, read from
//! `/proc/PID/status` while it runs: the kernel keeps the high-water mark,
//! so reading it last just before the process ends gives the peak). The
//! emulators of `export`, `rate`, `memory` and `large` run in this process,
//! on the bench's runtime; the CLI runs beside them, so both share the
//! machine's 2 cores as they would on a developer's machine. Work files go
//! under `target/bench/scale/` and are removed at the end. `--quick` runs
//! small sizes: a smoke test of the harness, not a measurement.

mod export;
mod import;
mod kill;
mod sync;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use identity_emulator::{Emulator, EmulatorConfig};
use serde_json::{Value, json};

/// The static token of the emulators.
pub(super) const TOKEN: &str = "bench-scale-token";

/// A part of the scale benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// Exports at 10k, 100k and 1M users; GetUser at 1M.
    Export,
    /// An import of 10,000 users at a rate limit.
    Rate,
    /// An import of 1,000,000 lines: its peak memory.
    Memory,
    /// An import of 5 lines into 1,000,000 users.
    Large,
    /// The emulator killed during an import, then resumed.
    Kill,
    /// A sync of a million-user domain: plan, apply, plan again.
    Sync,
}

impl Part {
    /// Every part, in the order they run.
    pub(crate) const ALL: [Part; 6] = [
        Part::Export,
        Part::Rate,
        Part::Memory,
        Part::Large,
        Part::Kill,
        Part::Sync,
    ];

    /// The part's name on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Part::Export => "export",
            Part::Rate => "rate",
            Part::Memory => "memory",
            Part::Large => "large",
            Part::Kill => "kill",
            Part::Sync => "sync",
        }
    }

    /// The parts named in `list` (`import,kill`).
    pub(crate) fn parse_list(list: &str) -> Result<Vec<Part>, String> {
        list.split(',')
            .map(|name| {
                Part::ALL
                    .into_iter()
                    .find(|part| part.name() == name.trim())
                    .ok_or_else(|| {
                        let names: Vec<&str> = Part::ALL.iter().map(|part| part.name()).collect();
                        format!("no scale part {name:?} (the parts: {})", names.join(", "))
                    })
            })
            .collect()
    }
}

/// Runs `parts` with the release CLI at `cli`; answers the figures as JSON
/// (each part's, and how long it took), the table printed on the way.
pub(crate) async fn run(
    cli: PathBuf,
    work: PathBuf,
    parts: Vec<Part>,
    quick: bool,
) -> Result<Value, String> {
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let outcome = run_parts(&cli, &work, &parts, quick).await;
    let _ = std::fs::remove_dir_all(&work);
    outcome
}

async fn run_parts(cli: &Path, work: &Path, parts: &[Part], quick: bool) -> Result<Value, String> {
    let mut figures = serde_json::Map::new();
    for part in parts {
        let started = Instant::now();
        println!("--- part {}", part.name());
        let mut value = match part {
            Part::Export => export::run(cli, work, quick).await?,
            Part::Rate => import::rate(cli, work, quick).await?,
            Part::Memory => import::memory(cli, work, quick).await?,
            Part::Large => import::large(cli, work, quick).await?,
            Part::Kill => kill::run(cli, work, quick).await?,
            Part::Sync => sync::run(cli, work, quick).await?,
        };
        let seconds = started.elapsed().as_secs_f64();
        println!("--- part {} took {seconds:.0} s", part.name());
        value["partSeconds"] = json!(seconds);
        figures.insert(part.name().to_owned(), value);
    }
    Ok(Value::Object(figures))
}

/// "met" or "MISSED".
pub(super) fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// An emulator in this process, seeded with `users`, limited to `rate`
/// requests per second.
pub(super) async fn start(users: u64, rate: Option<NonZeroU32>) -> Result<Emulator, String> {
    identity_emulator::start(EmulatorConfig {
        access_tokens: vec![TOKEN.to_owned()],
        seed_users: users,
        rate_limit: rate,
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| format!("could not start the emulator: {e}"))
}

/// The CLI at `cli`, pointed at the service at `base_url`, run in `work`.
pub(super) fn cli_command(cli: &Path, work: &Path, base_url: &str) -> Command {
    let mut command = Command::new(cli);
    command
        .current_dir(work)
        .env("FBN_IDENTITY_URL", base_url)
        .env("FBN_ACCESS_TOKEN", TOKEN)
        .stdin(Stdio::null());
    command
}

/// What a process did: its exit, its stderr, how long it took and its
/// peak resident set.
pub(super) struct Ran {
    pub(super) status: ExitStatus,
    pub(super) stderr: String,
    pub(super) seconds: f64,
    pub(super) peak_kib: u64,
}

impl Ran {
    /// Whether it exited with 0.
    pub(super) fn success(&self) -> bool {
        self.status.success()
    }

    /// Its peak resident set in MiB.
    pub(super) fn peak_mib(&self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }
}

/// A process running, its peak resident set read as it goes.
pub(super) struct Measured {
    child: Child,
    started: Instant,
    status_file: String,
    stderr_path: PathBuf,
    peak_kib: u64,
}

impl Measured {
    /// Starts `command`, stdout to nothing, stderr to `stderr_path`.
    pub(super) fn spawn(mut command: Command, stderr_path: PathBuf) -> Result<Self, String> {
        let stderr = std::fs::File::create(&stderr_path).map_err(|e| e.to_string())?;
        command.stdout(Stdio::null()).stderr(stderr);
        let started = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("could not run the CLI: {e}"))?;
        let status_file = format!("/proc/{}/status", child.id());
        Ok(Self {
            child,
            started,
            status_file,
            stderr_path,
            peak_kib: 0,
        })
    }

    /// Reads the peak so far; the exit, once the process has ended.
    pub(super) fn poll(&mut self) -> Result<Option<Ran>, String> {
        if let Some(kib) = peak_resident_kib(&self.status_file) {
            self.peak_kib = self.peak_kib.max(kib);
        }
        let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        Ok(Some(Ran {
            status,
            stderr: std::fs::read_to_string(&self.stderr_path).unwrap_or_default(),
            seconds: self.started.elapsed().as_secs_f64(),
            peak_kib: self.peak_kib,
        }))
    }

    /// Polls every 5 ms until the process ends.
    pub(super) fn wait(mut self) -> Result<Ran, String> {
        loop {
            if let Some(ran) = self.poll()? {
                return Ok(ran);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Runs `command` to its end (stdout to nothing, stderr to a file in
/// `work`), measured, on a thread of its own, off the runtime that serves
/// the emulators.
pub(super) async fn run_measured(command: Command, work: &Path) -> Result<Ran, String> {
    let stderr = work.join("stderr.txt");
    tokio::task::spawn_blocking(move || Measured::spawn(command, stderr)?.wait())
        .await
        .map_err(|e| format!("the measuring thread failed: {e}"))?
}

/// `VmHWM` of a `/proc/PID/status` file: the process's peak resident set.
fn peak_resident_kib(status_file: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The login of line `n` of an import file of `prefix`.
pub(super) fn import_login(prefix: &str, n: usize) -> String {
    format!("{prefix}-{n:07}@import.example")
}

/// `count` CreateUserRequests as JSON lines (`PREFIX-0000001@import.example`, ...).
pub(super) fn write_import_file(file: &Path, prefix: &str, count: usize) -> Result<(), String> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(file).map_err(|e| format!("{}: {e}", file.display()))?,
    );
    for n in 1..=count {
        let login = import_login(prefix, n);
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

/// Each line of an import's report (its header left out), by line number:
/// the last outcome recorded for it (`created`, `skipped:exists`, ...).
pub(super) fn last_outcomes(report: &Path) -> Result<HashMap<u64, String>, String> {
    let reader = BufReader::new(
        std::fs::File::open(report).map_err(|e| format!("{}: {e}", report.display()))?,
    );
    let mut outcomes = HashMap::new();
    for line in reader.lines().skip(1) {
        let line: Value =
            serde_json::from_str(&line.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let Some(number) = line["line"].as_u64() else {
            continue;
        };
        let mut outcome = line["outcome"].as_str().unwrap_or("unknown").to_owned();
        if let Some(reason) = line["reason"].as_str() {
            outcome = format!("{outcome}:{reason}");
        }
        outcomes.insert(number, outcome);
    }
    Ok(outcomes)
}

/// How many lines of a report (its header left out) have each value of
/// the field `field`.
pub(super) fn outcome_counts_of(
    report: &Path,
    field: &str,
) -> Result<HashMap<String, usize>, String> {
    let reader = BufReader::new(
        std::fs::File::open(report).map_err(|e| format!("{}: {e}", report.display()))?,
    );
    let mut counts = HashMap::new();
    for line in reader.lines().skip(1) {
        let line: Value =
            serde_json::from_str(&line.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let value = line[field].as_str().unwrap_or("unknown").to_owned();
        *counts.entry(value).or_default() += 1;
    }
    Ok(counts)
}

/// How many lines of a report end with each outcome.
pub(super) fn outcome_counts(report: &Path) -> Result<HashMap<String, usize>, String> {
    let mut counts = HashMap::new();
    for outcome in last_outcomes(report)?.into_values() {
        *counts.entry(outcome).or_default() += 1;
    }
    Ok(counts)
}
