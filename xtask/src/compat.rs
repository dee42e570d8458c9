//! `cargo xtask compat`: FINBOURNE's official Python SDK
//! (`finbourne-identity-sdk` from PyPI), unchanged, against the emulator.
//!
//! 1. Builds the `identity-emulator` binary and starts it on a free loopback
//!    port with a static access token (killed at the end, also on failure).
//! 2. Installs the SDK, pinned with its dependencies by
//!    `xtask/compat/requirements.txt`, into a virtual environment under
//!    `target/compat/venv` (reused while that file is unchanged). When the
//!    venv or the install fails (no Python venv module, PyPI unreachable),
//!    the task prints `compat: SKIPPED: ...` and succeeds: a registry outage
//!    is no reason to fail. Every failure after a successful install fails
//!    the task.
//! 3. Runs `xtask/compat/official_python_sdk.py` twice with the venv's
//!    Python, configured the SDK's documented way (the `FBN_*` environment
//!    variables its default loaders read): once with a personal access token
//!    (`FBN_ACCESS_TOKEN`), once with the OAuth2 password grant
//!    (`FBN_TOKEN_URL`, `FBN_USERNAME`, ...), which also exercises the SDK's
//!    refresh handling against the emulator's token endpoint. The script
//!    walks the user lifecycle through the SDK's `UsersApi`, printing one
//!    line per step, and exits non-zero at the first failed check.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The static bearer token the emulator is started with (the emulator's own
/// test credential, not a secret).
const STATIC_TOKEN: &str = "compat-personal-access-token";
/// The emulator's default password-grant credentials (see its `--help`).
const USERNAME: &str = "emulator-user";
const PASSWORD: &str = "emulator-password";
const CLIENT_ID: &str = "emulator-client";
const CLIENT_SECRET: &str = "emulator-client-secret";
/// The PyPI name of the official SDK.
const SDK_PACKAGE: &str = "finbourne-identity-sdk";
/// How long the emulator may take to print its URLs.
const START_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one pass of the script may take (it normally takes a few seconds).
const PASS_TIMEOUT: Duration = Duration::from_secs(120);
/// The SDK's own total timeout per call, so a stuck call fails rather than
/// waiting for the SDK's default of 30 minutes.
const SDK_TOTAL_TIMEOUT_MS: &str = "30000";

/// Runs the check. Takes no arguments.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!(
            "unexpected argument {arg:?}; usage: cargo xtask compat"
        ));
    }
    let sources = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat");
    let requirements_path = sources.join("requirements.txt");
    let requirements = std::fs::read_to_string(&requirements_path)
        .map_err(|error| format!("cannot read {}: {error}", requirements_path.display()))?;
    let sdk_version = pinned_version(&requirements).ok_or_else(|| {
        format!(
            "{} pins no `{SDK_PACKAGE}==<version>`",
            requirements_path.display()
        )
    })?;
    let work = target_dir()?.join("compat");

    let emulator_binary = build_emulator()?;
    let python = match install_sdk(&work.join("venv"), &requirements_path, &requirements) {
        Ok(python) => python,
        Err(reason) => {
            println!("compat: SKIPPED: could not install the official SDK: {reason}");
            return Ok(());
        }
    };
    let emulator = RunningEmulator::start(&emulator_binary)?;
    println!(
        "compat: emulator at {} (token URL {})",
        emulator.base_url, emulator.token_url
    );

    let script = sources.join("official_python_sdk.py");
    let run_dir = fresh_dir(&work.join("run"))?;
    for pass in Pass::both(&emulator) {
        pass.run(&python, &script, &run_dir)?;
    }
    println!(
        "compat: {SDK_PACKAGE} {sdk_version}, unchanged, passed against the emulator \
         with a personal access token and with the password grant"
    );
    Ok(())
}

/// The version of the SDK pinned by `requirements.txt`.
fn pinned_version(requirements: &str) -> Option<&str> {
    requirements.lines().find_map(|line| {
        let (name, version) = line.trim().split_once("==")?;
        (name.trim() == SDK_PACKAGE && !version.trim().is_empty()).then_some(version.trim())
    })
}

fn cargo_command() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The workspace's target directory, as cargo reports it.
fn target_dir() -> Result<PathBuf, String> {
    let output = cargo_command()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("could not start cargo: {error}"))?;
    if !output.status.success() {
        return Err(format!("`cargo metadata` failed ({})", output.status));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|error| format!("`cargo metadata` printed no JSON: {error}"))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "`cargo metadata` names no target_directory".to_owned())
}

/// Builds the emulator binary and returns its path, as cargo reports it.
fn build_emulator() -> Result<PathBuf, String> {
    eprintln!("$ cargo build -p identity-emulator");
    let output = cargo_command()
        .args([
            "build",
            "-p",
            "identity-emulator",
            "--bin",
            "identity-emulator",
            "--message-format=json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("could not start cargo: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo build -p identity-emulator` failed ({})",
            output.status
        ));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["name"] == "identity-emulator"
        })
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo built no identity-emulator executable".to_owned())
}

/// The venv's Python with the SDK installed; `Err` is the reason it could
/// not be installed (the caller skips the check).
fn install_sdk(
    venv: &Path,
    requirements_path: &Path,
    requirements: &str,
) -> Result<PathBuf, String> {
    let python = venv_python(venv);
    // The requirements the venv was installed from, written after a
    // successful install.
    let stamp = venv.join("compat-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).is_ok_and(|done| done == requirements) {
        eprintln!("compat: reusing {}", venv.display());
        return Ok(python);
    }
    if venv.exists() {
        std::fs::remove_dir_all(venv)
            .map_err(|error| format!("cannot remove the old {}: {error}", venv.display()))?;
    }
    let system_python = if cfg!(windows) { "python" } else { "python3" };
    eprintln!("$ {system_python} -m venv {}", venv.display());
    quiet(Command::new(system_python).arg("-m").arg("venv").arg(venv))?;
    eprintln!(
        "$ {} -m pip install -r {}",
        python.display(),
        requirements_path.display()
    );
    quiet(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "--retries",
                "2",
                "--timeout",
                "20",
                "-r",
            ])
            .arg(requirements_path),
    )?;
    std::fs::write(&stamp, requirements)
        .map_err(|error| format!("cannot write {}: {error}", stamp.display()))?;
    Ok(python)
}

fn venv_python(venv: &Path) -> PathBuf {
    if cfg!(windows) {
        venv.join("Scripts").join("python.exe")
    } else {
        venv.join("bin").join("python")
    }
}

/// Runs `command` with its output captured; on failure, the reason is the
/// last lines it wrote to stderr.
fn quiet(command: &mut Command) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("could not start {program}: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let tail = last[last.len().saturating_sub(3)..].join(" | ");
    Err(format!("{program} failed ({}): {tail}", output.status))
}

/// An empty directory at `path` (the working directory of the script, so
/// that the SDK's loaders find no stray `secrets.json`).
fn fresh_dir(path: &Path) -> Result<PathBuf, String> {
    if path.exists() {
        std::fs::remove_dir_all(path)
            .map_err(|error| format!("cannot clear {}: {error}", path.display()))?;
    }
    std::fs::create_dir_all(path)
        .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
    Ok(path.to_owned())
}

/// The emulator as a child process, killed when dropped.
struct RunningEmulator {
    child: Child,
    /// Drains the child's stdout for as long as it runs.
    reader: Option<JoinHandle<()>>,
    base_url: String,
    token_url: String,
    /// The URL the `/_emulator/...` hooks hang off.
    root_url: String,
}

impl RunningEmulator {
    fn start(binary: &Path) -> Result<Self, String> {
        let mut child = Command::new(binary)
            .args(["--bind", "127.0.0.1:0", "--access-token", STATIC_TOKEN])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|error| format!("could not start {}: {error}", binary.display()))?;
        let (lines, reader) = match child.stdout.take() {
            Some(stdout) => drain_lines(stdout),
            None => return Err("the emulator's stdout was not piped".to_owned()),
        };
        let mut emulator = Self {
            child,
            reader: Some(reader),
            base_url: String::new(),
            token_url: String::new(),
            root_url: String::new(),
        };
        // From here on, an early return drops `emulator`, which kills it.
        emulator.read_banner(&lines)?;
        Ok(emulator)
    }

    /// Reads the URLs from the banner the emulator prints at start.
    fn read_banner(&mut self, lines: &Receiver<String>) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        while self.base_url.is_empty() || self.token_url.is_empty() || self.root_url.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match lines.recv_timeout(left) {
                Ok(line) => line,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "the emulator printed no URLs within {START_TIMEOUT:?}"
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().map_or_else(
                        |error| format!("unknown status: {error}"),
                        |status| status.to_string(),
                    );
                    return Err(format!("the emulator stopped at start ({status})"));
                }
            };
            let url = line.split_whitespace().last().unwrap_or_default();
            if line.starts_with("base URL") {
                url.clone_into(&mut self.base_url);
            } else if line.starts_with("token URL") {
                url.clone_into(&mut self.token_url);
            } else if line.starts_with("hooks:") {
                url.trim_end_matches("/_emulator/...")
                    .clone_into(&mut self.root_url);
            }
        }
        Ok(())
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        // Nothing to do about a failure here: the process is gone or ours
        // to leave.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// Sends each line of `stdout` to the receiver, and keeps reading (so the
/// pipe never fills) after the receiver is gone, until the stream ends.
fn drain_lines(stdout: impl std::io::Read + Send + 'static) -> (Receiver<String>, JoinHandle<()>) {
    let (sender, receiver) = mpsc::channel();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // No one listens after start-up: dropping the line is fine.
            let _ = sender.send(line);
        }
    });
    (receiver, reader)
}

/// One run of the script: a name and the SDK's settings.
struct Pass {
    name: &'static str,
    env: Vec<(&'static str, String)>,
}

impl Pass {
    /// The personal-access-token pass and the password-grant pass.
    fn both(emulator: &RunningEmulator) -> [Self; 2] {
        let common = |name: &'static str| -> Vec<(&'static str, String)> {
            vec![
                ("FBN_IDENTITY_URL", emulator.base_url.clone()),
                ("FBN_TOTAL_TIMEOUT_MS", SDK_TOTAL_TIMEOUT_MS.to_owned()),
                ("COMPAT_EMULATOR_ROOT", emulator.root_url.clone()),
                ("COMPAT_PASS", name.to_owned()),
            ]
        };
        let mut token = common("pat");
        token.push(("FBN_ACCESS_TOKEN", STATIC_TOKEN.to_owned()));
        let mut grant = common("oauth");
        grant.extend([
            ("FBN_TOKEN_URL", emulator.token_url.clone()),
            ("FBN_USERNAME", USERNAME.to_owned()),
            ("FBN_PASSWORD", PASSWORD.to_owned()),
            ("FBN_CLIENT_ID", CLIENT_ID.to_owned()),
            ("FBN_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ]);
        [
            Self {
                name: "personal access token",
                env: token,
            },
            Self {
                name: "password grant",
                env: grant,
            },
        ]
    }

    /// Runs the script with the venv's Python; its output goes straight to
    /// ours.
    fn run(&self, python: &Path, script: &Path, dir: &Path) -> Result<(), String> {
        eprintln!("$ python {} ({})", script.display(), self.name);
        let mut command = Command::new(python);
        command
            .arg(script)
            .current_dir(dir)
            .stdin(Stdio::null())
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        // Only this pass's settings reach the SDK's loaders.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("FBN_") {
                command.env_remove(key);
            }
        }
        command.envs(self.env.iter().map(|(key, value)| (OsStr::new(key), value)));
        let mut child = command
            .spawn()
            .map_err(|error| format!("could not start {}: {error}", python.display()))?;
        let status = wait_with_deadline(&mut child, PASS_TIMEOUT)?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "the official SDK failed against the emulator in the {} pass ({status}); \
                 see the FAIL line above",
                self.name
            ))
        }
    }
}

/// Waits for `child`, killing it after `timeout`.
fn wait_with_deadline(child: &mut Child, timeout: Duration) -> Result<ExitStatus, String> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("the script did not finish within {timeout:?}"));
            }
            Err(error) => return Err(format!("could not wait for the script: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_version_is_read_from_the_sdk_line() {
        let requirements = "# comment\naenum==3.1.17\nfinbourne-identity-sdk==2.3.22\n";
        assert_eq!(pinned_version(requirements), Some("2.3.22"));
        assert_eq!(pinned_version("finbourne-identity-sdk>=2\n"), None);
        assert_eq!(pinned_version("finbourne-identity-sdk==\n"), None);
    }

    #[test]
    fn the_checked_in_requirements_pin_the_sdk() -> Result<(), String> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat/requirements.txt");
        let requirements = std::fs::read_to_string(&path).map_err(|error| error.to_string())?;
        let version = pinned_version(&requirements).ok_or("no pin")?;
        assert!(version.starts_with("2."), "{version}");
        Ok(())
    }
}
