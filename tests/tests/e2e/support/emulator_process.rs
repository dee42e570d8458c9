//! The emulator binary as a child process, to kill with SIGKILL and start
//! again on the same state file.
//!
//! An integration test of another package has no `CARGO_BIN_EXE_…` for the
//! emulator, so the binary is found beside the test's own: the test runs
//! from `target/<profile>/deps/`, the binary is `target/<profile>/identity-emulator`.
//! It is built first with `cargo build -p identity-emulator --bin
//! identity-emulator` (in the same profile), which is a quick no-op when it
//! is up to date and makes sure a binary older than its sources is never
//! tested.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::Duration;

/// The line of the banner that names the address.
const LISTENING: &str = "listening on ";

/// The emulator binary, built if needed.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let test = std::env::current_exe().unwrap();
        let profile_dir = test.parent().and_then(Path::parent).unwrap().to_owned();
        let release = profile_dir
            .file_name()
            .is_some_and(|name| name == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut build = Command::new(cargo);
        build.args([
            "build",
            "--quiet",
            "-p",
            "identity-emulator",
            "--bin",
            "identity-emulator",
        ]);
        if release {
            build.arg("--release");
        }
        let status = build
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the emulator binary failed");
        let binary = profile_dir.join(format!("identity-emulator{}", std::env::consts::EXE_SUFFIX));
        assert!(
            binary.exists(),
            "no emulator binary at {}",
            binary.display()
        );
        binary
    })
}

/// A running emulator process.
pub struct EmulatorProcess {
    child: Child,
    pub addr: SocketAddr,
    /// What it wrote to stderr.
    #[allow(dead_code, reason = "read by `errors`, for a test to show")]
    errors: Arc<Mutex<String>>,
}

impl EmulatorProcess {
    /// Starts the binary on a free loopback port with `state_file`,
    /// accepting `token`; waits for its banner. `Err` holds what it printed
    /// when it did not start (e.g. a state file it cannot load).
    pub fn start(state_file: &Path, token: &str) -> Result<Self, String> {
        let mut child = Command::new(binary())
            .args([
                "--bind",
                "127.0.0.1:0",
                "--access-token",
                token,
                "--state-file",
            ])
            .arg(state_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| format!("cannot start the emulator: {error}"))?;
        // Both outputs are drained to their end: a closed pipe would make
        // the emulator's next print fail (and its banner is written in more
        // than one piece).
        let (lines, receive) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let errors = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let written = errors.clone();
        let stderr_reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut errors = written.lock().unwrap();
                errors.push_str(&line);
                errors.push('\n');
            }
        });
        let addr = loop {
            match receive.recv_timeout(Duration::from_secs(20)) {
                Ok(line) => {
                    if let Some(at) = line.find(LISTENING) {
                        break line[at + LISTENING.len()..].trim().parse().unwrap();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait().map_err(|e| e.to_string())?;
                    let _ = stderr_reader.join();
                    return Err(format!(
                        "the emulator did not start ({status}): {}",
                        errors.lock().unwrap()
                    ));
                }
            }
        };
        Ok(Self {
            child,
            addr,
            errors,
        })
    }

    /// `http://<addr>/identity`.
    pub fn base_url(&self) -> String {
        format!("http://{}/identity", self.addr)
    }

    /// What it wrote to stderr so far.
    #[allow(dead_code, reason = "no test shows it at present")]
    pub fn errors(&self) -> String {
        self.errors.lock().unwrap().clone()
    }

    /// SIGKILL (on Unix, `Child::kill` sends it), then reaps the process.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
