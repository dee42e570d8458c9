//! Only the `secrets.json` the user named is read: a file planted in the
//! working directory (as a cloned repository may bring one) steers nothing,
//! and a named file that others may read or write is read with a warning.
//!
//! [`IdentityConfig::load`] reads the process environment and the working
//! directory, which tests must not change: this test binary runs itself as a
//! child process, in a directory and with an environment of its own, for the
//! one test that calls it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use identity_config::{ConfigError, IdentityConfig, SECRETS_PATH_VAR};

/// Set in the environment of the child process only.
const CHILD: &str = "IDENTITY_CONFIG_TEST_CHILD";
/// The explicit path the child passes to `load`, when set.
const CHILD_EXPLICIT: &str = "IDENTITY_CONFIG_TEST_EXPLICIT";
/// Where the child writes what `load` gave, in its working directory.
const OUTCOME: &str = "outcome.txt";

/// A `secrets.json` that would send the credentials elsewhere: a base URL,
/// a token, a token URL, a proxy, a CA and a token file of its own.
const HOSTILE: &str = r#"{
  "api": {
    "identityUrl": "https://attacker.example.com/identity",
    "accessToken": "planted-token",
    "tokenUrl": "https://attacker.example.com/oauth2/token",
    "clientCertificate": "/tmp/attacker-ca.pem",
    "accessTokenFile": "/tmp/attacker-token"
  },
  "proxy": {"address": "http://attacker.example.com:3128"}
}"#;

/// Not a test of its own: the child process's part of the tests below. It
/// does nothing unless run as their child.
#[test]
fn child_loads_the_configuration_of_its_process() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let explicit = std::env::var_os(CHILD_EXPLICIT).map(PathBuf::from);
    let outcome = match IdentityConfig::load(IdentityConfig::builder(), explicit.as_deref()) {
        Ok(config) => format!(
            "ok url={} proxy={} ca={:?} credentials={:?}",
            config.identity_url(),
            config.proxy().is_some(),
            config.client_certificate(),
            config.credentials(),
        ),
        Err(error) => format!("error {error}"),
    };
    std::fs::write(OUTCOME, outcome).unwrap();
}

/// What `IdentityConfig::load` gives in a child process working in `dir`,
/// with the environment `vars` alone and `explicit` as the path it is given.
fn load_in(dir: &Path, vars: &[(&str, &str)], explicit: Option<&Path>) -> String {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "--exact",
            "planted::child_loads_the_configuration_of_its_process",
            "--test-threads",
            "1",
        ])
        .env_clear()
        .env(CHILD, "1")
        .envs(vars.iter().copied())
        .current_dir(dir);
    if let Some(path) = explicit {
        child.env(CHILD_EXPLICIT, path);
    }
    let output = child.output().unwrap();
    assert!(output.status.success(), "the child failed: {output:?}");
    let outcome = dir.join(OUTCOME);
    let text = std::fs::read_to_string(&outcome)
        .unwrap_or_else(|error| panic!("the child wrote no outcome ({error}): {output:?}"));
    std::fs::remove_file(outcome).unwrap();
    text
}

fn plant(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_secrets_file_planted_in_the_working_directory_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    plant(dir.path(), "secrets.json", HOSTILE);

    // Nothing else configured: the planted file does not fill the gap.
    let outcome = load_in(dir.path(), &[], None);
    assert!(
        outcome.starts_with("error missing identity URL"),
        "{outcome}"
    );

    // With the environment's settings, nothing of the planted file is used:
    // no proxy, no CA, no token file, the environment's URL and token.
    let outcome = load_in(
        dir.path(),
        &[
            ("FBN_IDENTITY_URL", "https://acme.lusid.com/identity"),
            ("FBN_USERNAME", "ann"),
            ("FBN_PASSWORD", "pw"),
            ("FBN_CLIENT_ID", "client"),
            ("FBN_CLIENT_SECRET", "secret"),
        ],
        None,
    );
    assert!(
        outcome.starts_with("error no credentials"),
        "the planted token or token URL was used: {outcome}"
    );
    let outcome = load_in(
        dir.path(),
        &[
            ("FBN_IDENTITY_URL", "https://acme.lusid.com/identity"),
            ("FBN_ACCESS_TOKEN", "mine"),
        ],
        None,
    );
    assert_eq!(
        outcome,
        "ok url=https://acme.lusid.com/identity proxy=false ca=None \
         credentials=AccessToken([REDACTED])"
    );
}

#[test]
fn a_named_secrets_file_is_read_by_path_or_by_fbn_secrets_path() {
    let dir = tempfile::tempdir().unwrap();
    plant(dir.path(), "secrets.json", HOSTILE);
    let mine = tempfile::tempdir().unwrap();
    let named = plant(
        mine.path(),
        "mine.json",
        r#"{"api": {"identityUrl": "https://acme.lusid.com/identity", "accessToken": "t"}}"#,
    );
    let expected = "ok url=https://acme.lusid.com/identity proxy=false ca=None \
                    credentials=AccessToken([REDACTED])";
    assert_eq!(load_in(dir.path(), &[], Some(&named)), expected);
    let by_variable = [(SECRETS_PATH_VAR, named.to_str().unwrap())];
    assert_eq!(load_in(dir.path(), &by_variable, None), expected);

    // Naming the planted file reads it: the user chose it.
    let outcome = load_in(dir.path(), &[], Some(Path::new("secrets.json")));
    assert!(outcome.contains("attacker.example.com"), "{outcome}");
    assert!(outcome.contains("proxy=true"), "{outcome}");
}

/// A writer the warning test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The configuration of `file` and what was logged while reading it, with a
/// subscriber of this thread only (tests share the process).
fn read_logged(file: &Path) -> (Result<IdentityConfig, ConfigError>, String) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let result = tracing::subscriber::with_default(subscriber, || {
        IdentityConfig::from_sources(IdentityConfig::builder(), |_| None, Some(file))
    });
    (result, captured.text())
}

#[cfg(unix)]
#[test]
fn a_secrets_file_others_may_read_or_write_is_read_with_a_warning() {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let file = plant(
        dir.path(),
        "secrets.json",
        r#"{"api": {"identityUrl": "https://acme.lusid.com/identity",
                     "accessToken": "pat-W4rnSECRET"}}"#,
    );
    let set_mode = |mode: u32| {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    };

    for (mode, shown) in [(0o644, "0644"), (0o604, "0604"), (0o620, "0620")] {
        set_mode(mode);
        let (result, logged) = read_logged(&file);
        result.unwrap();
        assert!(logged.contains("WARN"), "{mode:o}: {logged}");
        assert!(
            logged.contains(&file.display().to_string()),
            "the file is not named: {logged}"
        );
        assert!(logged.contains(shown), "the mode is not shown: {logged}");
        assert!(!logged.contains("pat-W4rnSECRET"), "{logged}");
        assert!(!logged.contains("acme.lusid.com"), "{logged}");
    }

    for mode in [0o600, 0o400] {
        set_mode(mode);
        let (result, logged) = read_logged(&file);
        result.unwrap();
        assert!(!logged.contains("WARN"), "{mode:o}: {logged}");
    }
}
