//! The emulator under attack: `fbn-identity emulator` in release, as its
//! own process, with its open files limited (`ulimit -n`), started and read
//! as a test fixture would (`--ready-json`); its memory read from
//! `/proc/PID/status`.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the emulator may take to say it is ready.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running emulator process, killed when dropped.
pub(crate) struct EmulatorProcess {
    child: Child,
    /// The loopback address it serves (from the ready line).
    pub(crate) addr: SocketAddr,
    /// The ready line.
    pub(crate) ready: serde_json::Value,
}

impl EmulatorProcess {
    /// Starts `fbn-identity emulator --ready-json ARGS` with at most
    /// `open_files` file descriptors.
    pub(crate) fn start(cli: &Path, open_files: u32, args: &[&str]) -> Result<Self, String> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n {open_files} && exec \"$0\" \"$@\""))
            .arg(cli)
            .args(["emulator", "--ready-json"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot start the emulator: {error}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        // Drain stderr (the banner, warnings) so that it never blocks.
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut sink);
        });
        let (lines, line) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let _ = lines.send(first);
            let mut rest = String::new();
            let _ = reader.read_to_string(&mut rest);
        });
        let line = match line.recv_timeout(START_TIMEOUT) {
            Ok(line) if !line.is_empty() => line,
            _ => {
                let _ = child.kill();
                let status = child.wait().map_err(|error| error.to_string())?;
                return Err(format!("the emulator did not start ({status})"));
            }
        };
        let ready: serde_json::Value =
            serde_json::from_str(&line).map_err(|error| format!("ready line: {error}: {line}"))?;
        let addr = ready["root_url"]
            .as_str()
            .and_then(|url| url.strip_prefix("http://"))
            .and_then(|addr| addr.parse().ok())
            .ok_or_else(|| format!("no root_url in {line}"))?;
        Ok(Self { child, addr, ready })
    }

    /// Resident memory now and at its peak, in bytes (Linux; `None`
    /// elsewhere).
    pub(crate) fn memory(&self) -> Option<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
                .map(|kb| kb * 1024)
        };
        Some(Memory {
            resident: field("VmRSS:")?,
            peak: field("VmHWM:")?,
        })
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory of a process.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Memory {
    pub(crate) resident: u64,
    pub(crate) peak: u64,
}

impl Memory {
    /// How far the peak rose above `before`'s resident memory, in MB.
    pub(crate) fn growth_mb(self, before: Memory) -> f64 {
        self.peak.saturating_sub(before.resident) as f64 / 1e6
    }
}

/// Runs `fbn-identity ARGS` with `env`, to its end: the exit code and
/// stderr.
pub(crate) fn run_cli(
    cli: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(i32, String), String> {
    let output = Command::new(cli)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run {}: {error}", cli.display()))?;
    Ok((
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}
