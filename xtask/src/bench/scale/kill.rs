//! `--scale kill`: the service gone in the middle of an import, and the
//! import resumed once it is back.
//!
//! The emulator runs as a process of its own (`fbn-identity emulator`, with
//! a state file, and its request log, `identity_emulator::requests`, on
//! stderr to a file). `fbn-identity users import FILE --report R` of 10,000
//! lines runs against it; once the report holds 3,000 lines the emulator
//! is killed (SIGKILL). Goals: the CLI exits within 30 s of the kill, with
//! exit code 3 or 7 and a report. The emulator is then started again on the
//! same port with its state file, and the same import re-run with the same
//! report: it must succeed, every line of the file ending created or
//! skipped because its login exists, and every login held by one user.
//!
//! The request log carries no bodies (no logins), so "at most one
//! successful CreateUser per login" is counted, not matched: the
//! successful CreateUser answers of both runs' logs must be at most the
//! users of the domain, each with a login of its own (a login created
//! twice would need two successes for one user). The figures also say how
//! many creates the resumed run sent, and how many of those the service
//! answered "already exists" (the creates the kill cut off after they were
//! made).
//!
//! `--quick`: 2,000 lines, killed at 600.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{
    Measured, TOKEN, cli_command, import_login, last_outcomes, verdict, write_import_file,
};

/// The longest the CLI may take to exit once the service is gone.
const EXIT_GOAL_SECONDS: f64 = 30.0;

/// Runs the part on a thread of its own (it only waits on processes).
pub(super) async fn run(cli: &Path, work: &Path, quick: bool) -> Result<Value, String> {
    let (cli, work) = (cli.to_path_buf(), work.to_path_buf());
    tokio::task::spawn_blocking(move || measure(&cli, &work, quick))
        .await
        .map_err(|e| format!("the measuring thread failed: {e}"))?
}

fn measure(cli: &Path, work: &Path, quick: bool) -> Result<Value, String> {
    let count = if quick { 2_000 } else { 10_000 };
    let kill_at = count * 3 / 10;
    let file = work.join("kill.jsonl");
    write_import_file(&file, "kill", count)?;
    let state = work.join("kill-state.json");
    let report = work.join("kill-report.jsonl");

    let mut first = EmulatorProcess::start(cli, work, &state, 0, "emulator-1.log")?;
    let mut command = cli_command(cli, work, &first.base_url);
    command
        .args(["users", "import", "--report"])
        .arg(&report)
        .arg(&file);
    let mut import = Measured::spawn(command, work.join("import-1.txt"))?;
    loop {
        if import.poll()?.is_some() {
            return Err("the import ended before the emulator was killed".into());
        }
        if report_lines(&report) >= kill_at {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    first.kill();
    let killed = Instant::now();
    let stopped = loop {
        if let Some(ran) = import.poll()? {
            break ran;
        }
        if killed.elapsed() > Duration::from_secs(300) {
            return Err("the import did not stop within 5 minutes of the kill".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let exit_seconds = killed.elapsed().as_secs_f64();
    let exit_code = stopped.status.code();
    let finished_before = finished(&last_outcomes(&report)?);
    let stopped_after = stopped
        .stderr
        .split("stopped after line ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|line| line.parse::<u64>().ok());
    let exit_met = exit_seconds <= EXIT_GOAL_SECONDS && matches!(exit_code, Some(3 | 7));
    println!(
        "emulator killed at {kill_at} of {count} lines: the CLI exited {exit_seconds:.1} s later \
         with {exit_code:?}, stopped after line {}, {finished_before} lines finished in the \
         report (goal: within {EXIT_GOAL_SECONDS} s, exit 3 or 7: {})",
        stopped_after.map_or("?".to_owned(), |line| line.to_string()),
        verdict(exit_met)
    );

    let second = EmulatorProcess::start(cli, work, &state, first.port, "emulator-2.log")?;
    let mut command = cli_command(cli, work, &second.base_url);
    command
        .args(["users", "import", "--report"])
        .arg(&report)
        .arg(&file);
    let resumed = Measured::spawn(command, work.join("import-2.txt"))?.wait()?;
    let outcomes = last_outcomes(&report)?;
    let accounted = (1..=count as u64)
        .filter(|line| {
            outcomes
                .get(line)
                .is_some_and(|outcome| outcome == "created" || outcome == "skipped:exists")
        })
        .count();
    let logins = domain_logins(cli, work, &second.base_url)?;
    drop(second);
    let once = (1..=count).all(|n| logins.get(&import_login("kill", n)) == Some(&1));
    let users = logins.values().sum::<usize>();
    let first_log = CreateLog::read(&work.join("emulator-1.log"))?;
    let second_log = CreateLog::read(&work.join("emulator-2.log"))?;
    let successes = first_log.succeeded + second_log.succeeded;
    let resumed_met = resumed.success() && accounted == count && once && users == count;
    let once_met = successes <= users && once;
    println!(
        "resumed after a restart: {:.1} s, exit {:?}; {accounted} of {count} lines created or \
         existing, {users} users, each login once (goal: every line accounted for: {}); it sent \
         {} creates, {} answered \"already exists\"",
        resumed.seconds,
        resumed.status.code(),
        verdict(resumed_met),
        second_log.sent,
        second_log.refused,
    );
    println!(
        "successful CreateUser in the request logs: {} + {} = {successes} for {users} users with \
         a login each (goal: at most one per login: {})",
        first_log.succeeded,
        second_log.succeeded,
        verdict(once_met)
    );
    Ok(json!({
        "lines": count,
        "killedAtReportLines": kill_at,
        "exitSecondsAfterKill": exit_seconds,
        "exitCode": exit_code,
        "stoppedAfterLine": stopped_after,
        "finishedBeforeRestart": finished_before,
        "resumed": {
            "seconds": resumed.seconds,
            "exitCode": resumed.status.code(),
            "accounted": accounted,
            "users": users,
            "eachLoginOnce": once,
            "createsSent": second_log.sent,
            "answeredExists": second_log.refused,
        },
        "successfulCreates": [first_log.succeeded, second_log.succeeded],
        "peakMemoryKiB": [stopped.peak_kib, resumed.peak_kib],
    }))
}

/// How many lines of a report's last outcomes are finished.
fn finished(outcomes: &HashMap<u64, String>) -> usize {
    outcomes
        .values()
        .filter(|outcome| *outcome == "created" || *outcome == "skipped:exists")
        .count()
}

/// How many lines a file has so far (0 when it does not exist yet).
fn report_lines(path: &Path) -> usize {
    std::fs::read(path).map_or(0, |bytes| {
        bytes.iter().filter(|byte| **byte == b'\n').count()
    })
}

/// How many users of the domain at `base_url` hold each login (through the
/// CLI's own export).
fn domain_logins(
    cli: &Path,
    work: &Path,
    base_url: &str,
) -> Result<HashMap<String, usize>, String> {
    let export = work.join("kill-export.jsonl");
    let mut command = cli_command(cli, work, base_url);
    command.args(["users", "export", "--output"]).arg(&export);
    let ran = Measured::spawn(command, work.join("export.txt"))?.wait()?;
    if !ran.success() {
        return Err(format!("the export failed: {}", ran.stderr.trim()));
    }
    let reader = BufReader::new(
        std::fs::File::open(&export).map_err(|e| format!("{}: {e}", export.display()))?,
    );
    let mut logins = HashMap::new();
    for line in reader.lines() {
        let user: Value =
            serde_json::from_str(&line.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let login = user["login"].as_str().unwrap_or_default().to_lowercase();
        *logins.entry(login).or_default() += 1;
    }
    Ok(logins)
}

/// The emulator as a process of its own, its request log on stderr to a
/// file. Killed (SIGKILL) when dropped.
struct EmulatorProcess {
    child: Child,
    base_url: String,
    port: u16,
}

impl EmulatorProcess {
    /// Starts `fbn-identity emulator` with `state`, on `port` (0: any),
    /// once it listens.
    fn start(cli: &Path, work: &Path, state: &Path, port: u16, log: &str) -> Result<Self, String> {
        let log: PathBuf = work.join(log);
        let stderr = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let mut child = Command::new(cli)
            .current_dir(work)
            .args(["emulator", "--ready-json", "--access-token", TOKEN])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .arg("--state-file")
            .arg(state)
            .env("RUST_LOG", "identity_emulator::requests=info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("could not start the emulator: {e}"))?;
        let mut ready = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut ready);
        }
        let ready: Value = serde_json::from_str(&ready).map_err(|e| {
            let _ = child.kill();
            format!(
                "the emulator did not say it was ready ({e}): see {}",
                log.display()
            )
        })?;
        let base_url = ready["base_url"].as_str().unwrap_or_default().to_owned();
        let port = base_url
            .rsplit(':')
            .next()
            .and_then(|rest| rest.split('/').next())
            .and_then(|port| port.parse().ok())
            .ok_or_else(|| format!("no port in {base_url:?}"))?;
        Ok(Self {
            child,
            base_url,
            port,
        })
    }

    /// SIGKILL, and waits for it to be gone.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The CreateUser calls of an emulator's request log.
#[derive(Debug, Default)]
struct CreateLog {
    /// Calls logged.
    sent: usize,
    /// Answered 2xx.
    succeeded: usize,
    /// Answered 400 or 409 (the login exists: the service's 658).
    refused: usize,
}

impl CreateLog {
    /// Reads the log lines `operation=CreateUser ... status=N`.
    fn read(path: &Path) -> Result<Self, String> {
        let reader = BufReader::new(
            std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?,
        );
        let mut log = Self::default();
        for line in reader.lines() {
            let line = line.map_err(|e| e.to_string())?;
            if !line.contains("operation=CreateUser") {
                continue;
            }
            log.sent += 1;
            let status = line
                .split("status=")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or_default();
            if status.starts_with('2') {
                log.succeeded += 1;
            } else if status == "400" || status == "409" {
                log.refused += 1;
            }
        }
        Ok(log)
    }
}
