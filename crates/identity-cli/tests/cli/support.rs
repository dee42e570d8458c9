//! What the CLI tests share: an emulator started in-process on its own
//! runtime, and a way to run the built `fbn-identity` binary as a user
//! would, in an empty temporary directory with no FBN_* variables.

#![allow(unreachable_pub)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use finbourne_identity::{UserResponse, UserStatus};
use identity_emulator::{Emulator, EmulatorConfig, FaultRule};
use serde_json::Value;
use tempfile::TempDir;

/// The static token the test emulators accept.
pub const TOKEN: &str = "cli-test-token-5f1e";

/// The built binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_fbn-identity");

/// A finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {self:#?}"))
    }

    /// Asserts the exit code, showing the run when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code: {self:#?}");
        self
    }

    /// Asserts success.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }
}

/// The binary with a clean environment (PATH and HOME only), run in `dir`.
pub fn command(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .current_dir(dir)
        .stdin(Stdio::null());
    command
}

/// Runs `command` to its end.
pub fn finish(command: &mut Command) -> Run {
    let output = command.output().expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `command` to its end with `input` on its stdin.
pub fn finish_with_stdin(command: &mut Command, input: &str) -> Run {
    use std::io::Write;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    if let Some(mut stdin) = child.stdin.take() {
        // The command may stop reading early: a closed pipe is its answer.
        let _ = stdin.write_all(input.as_bytes());
    }
    let output = child.wait_with_output().expect("the binary ends");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the binary with `args` in `dir`, nothing else configured.
pub fn run_bare(dir: &Path, args: &[&str]) -> Run {
    finish(command(dir).args(args))
}

/// An emulator serving on a loopback port, and an empty working directory.
pub struct TestEmulator {
    // Dropped in order: the emulator (the SDK's own test emulator), then
    // the runtime it is served on.
    emulator: finbourne_identity::testing::TestEmulator,
    _runtime: tokio::runtime::Runtime,
    dir: TempDir,
}

impl TestEmulator {
    /// An emulator accepting [`TOKEN`] and the default test credentials.
    pub fn start() -> Self {
        Self::start_with(EmulatorConfig {
            access_tokens: vec![TOKEN.to_owned()],
            ..EmulatorConfig::default()
        })
    }

    /// An emulator of `config`.
    pub fn start_with(config: EmulatorConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let emulator = runtime
            .block_on(finbourne_identity::testing::TestEmulator::start_with(
                config,
            ))
            .unwrap();
        Self {
            emulator,
            _runtime: runtime,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The emulator itself.
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }

    /// The working directory of the runs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A file in the working directory, written with `text`.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The base URL of the emulator's API.
    pub fn base_url(&self) -> String {
        self.emulator.base_url()
    }

    /// The binary with `args`, then `--base-url` and `--access-token` (after
    /// the command: global flags work there too), not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = command(self.dir());
        command
            .args(args)
            .args(["--base-url", &self.base_url(), "--access-token", TOKEN]);
        command
    }

    /// Runs the binary with `args` against the emulator.
    pub fn run(&self, args: &[&str]) -> Run {
        finish(&mut self.command(args))
    }

    /// Creates a Personal user through the CLI and returns its JSON.
    pub fn create_personal(&self, first: &str, last: &str, email: &str) -> Value {
        self.run(&[
            "users",
            "create",
            "--json",
            "--first-name",
            first,
            "--last-name",
            last,
            "--email",
            email,
        ])
        .ok()
        .json()
    }

    /// Every user of the emulator, deleted ones included.
    pub fn users(&self) -> Vec<UserResponse> {
        self.emulator.users()
    }

    /// How many users of the emulator (deleted ones included) hold each
    /// login: all must be 1.
    pub fn login_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for user in self.users() {
            *counts.entry(user.login).or_insert(0) += 1;
        }
        counts
    }

    /// The user with this id, from the emulator.
    pub fn user(&self, id: &str) -> Option<UserResponse> {
        self.users().into_iter().find(|user| user.id == id)
    }

    /// Sets a user's status with the test hook.
    pub fn set_status(&self, id: &str, status: UserStatus) {
        self.emulator.set_user_status(id, status).unwrap();
    }

    /// Replaces the emulator's fault rules.
    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        self.emulator.set_faults(rules);
    }

    /// The operations the emulator was asked for, in order (token calls too).
    pub fn operations(&self) -> Vec<String> {
        self.emulator
            .requests()
            .into_iter()
            .filter_map(|request| request.operation)
            .collect()
    }
}

/// The names in `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A loopback port with nothing listening on it.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// One JSON line of a Personal user, number `n`.
pub fn person(n: usize) -> String {
    serde_json::json!({
        "firstName": "User",
        "lastName": format!("Number{n}"),
        "emailAddress": format!("user{n}@example.com"),
        "login": format!("user{n}@example.com"),
        "type": "Personal",
    })
    .to_string()
}

/// The JSON lines of the Personal users `numbers`.
pub fn people(numbers: impl IntoIterator<Item = usize>) -> String {
    numbers.into_iter().map(|n| person(n) + "\n").collect()
}
