//! [`TokenFile`]: a token another process writes to a file and rotates.
//!
//! The file is a secret input that the configuration names, not the SDK:
//! it may be anything (a FIFO, `/dev/zero`, a file on a mount that
//! stalls). So it is read:
//!
//! - up to [`MAX_TOKEN_FILE_BYTES`] (64 KiB, the longest token endpoint
//!   answer the SDK reads, far over any token): a longer file is refused,
//!   after reading no more than that;
//! - on a thread of its own (not tokio's blocking pool, which a runtime
//!   waits for when it shuts down), so that a read that never ends (a FIFO
//!   with no writer, a stalled mount) is abandoned when the token fetch
//!   times out, and the program can still exit. While such a read hangs,
//!   later fetches wait for the same one rather than start more threads;
//! - and a timeout names the file ([`AuthError::TokenFileTimeout`]), not the
//!   token endpoint.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use secrecy::SecretString;

use super::{AccessToken, TokenProvider};
use crate::AuthError;

/// How often the cache looks at the file by default.
const DEFAULT_RECHECK: Duration = Duration::from_secs(10);

/// The longest token file read: 64 KiB, as the longest answer of the token
/// endpoint (a token is a few KiB at most).
pub const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

/// A bearer token read from a file (`FBN_ACCESS_TOKEN_FILE`), such as one a
/// sidecar or a mounted secret rotates.
///
/// Surrounding whitespace is trimmed. The file is read again when its
/// modification time or length changed since the last read; the
/// [`TokenCache`](super::TokenCache) looks every 10 seconds by default, and
/// after every 401. At most [`MAX_TOKEN_FILE_BYTES`] are read, within the
/// cache's fetch timeout (see the module's documentation).
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    recheck: Duration,
    state: Arc<Mutex<State>>,
}

/// The last token read, and the read in flight.
#[derive(Debug, Default)]
struct State {
    last: Option<Snapshot>,
    reading: Option<Reading>,
}

/// A read of the file on its thread, shared by every fetch that waits for
/// it.
type Reading = Shared<BoxFuture<'static, Result<Snapshot, AuthError>>>;

#[derive(Clone)]
struct Snapshot {
    stamp: Stamp,
    token: SecretString,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("stamp", &self.stamp)
            .field("token", &crate::redact::Redacted)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl TokenFile {
    /// Reads the token from `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            recheck: DEFAULT_RECHECK,
            state: Arc::default(),
        }
    }

    /// Sets how often the cache looks at the file for a new token.
    pub fn with_recheck_after(mut self, interval: Duration) -> Self {
        self.recheck = interval;
        self
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn read(&self) -> Result<AccessToken, AuthError> {
        let reading = {
            let mut state = self.lock();
            let reading = match state.reading.take() {
                // A read still in flight (an earlier fetch timed out while
                // it hung), or one that ended after its fetch gave up and
                // whose token nobody took yet: that one, rather than
                // another thread.
                Some(reading) if !matches!(reading.peek(), Some(Err(_))) => reading,
                _ => self.start_read(state.last.clone()),
            };
            state.reading = Some(reading.clone());
            reading
        };
        let result = reading.clone().await;
        let mut state = self.lock();
        if state
            .reading
            .as_ref()
            .is_some_and(|current| current.ptr_eq(&reading))
        {
            state.reading = None;
        }
        let snapshot = result?;
        state.last = Some(snapshot.clone());
        Ok(AccessToken::new(snapshot.token, None))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the file on a thread of its own: its token, or the last one
    /// when the file has not changed since.
    fn start_read(&self, last: Option<Snapshot>) -> Reading {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let path = self.path.clone();
        let spawned = std::thread::Builder::new()
            .name("fbn-token-file".into())
            .spawn(move || {
                let _ = sender.send(read_file(&path, last));
            });
        let path = self.path.clone();
        async move {
            if let Err(source) = spawned {
                return Err(unreadable(&path, source));
            }
            receiver.await.unwrap_or_else(|_| {
                Err(unreadable(
                    &path,
                    std::io::Error::other("the thread reading it ended without an answer"),
                ))
            })
        }
        .boxed()
        .shared()
    }
}

/// The token of the file at `path`, or `last`'s when its stamp is the
/// file's.
fn read_file(path: &Path, last: Option<Snapshot>) -> Result<Snapshot, AuthError> {
    let metadata = std::fs::metadata(path).map_err(|source| unreadable(path, source))?;
    let stamp = Stamp {
        modified: metadata.modified().ok(),
        len: metadata.len(),
    };
    if let Some(last) = last.filter(|last| last.stamp == stamp) {
        return Ok(last);
    }
    let file = File::open(path).map_err(|source| unreadable(path, source))?;
    let mut bytes = Vec::new();
    file.take(MAX_TOKEN_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| unreadable(path, source))?;
    if bytes.len() as u64 > MAX_TOKEN_FILE_BYTES {
        return Err(AuthError::TokenFileTooLong {
            path: path.to_path_buf(),
            max_bytes: MAX_TOKEN_FILE_BYTES,
        });
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        unreadable(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text"),
        )
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(AuthError::TokenFileEmpty {
            path: path.to_path_buf(),
        });
    }
    tracing::debug!(path = %path.display(), "read the access token file");
    Ok(Snapshot {
        stamp,
        token: SecretString::from(token),
    })
}

fn unreadable(path: &Path, source: std::io::Error) -> AuthError {
    AuthError::TokenFileUnreadable {
        path: path.to_path_buf(),
        source: crate::SharedSource::new(source),
    }
}

impl TokenProvider for TokenFile {
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        Box::pin(self.read())
    }

    fn recheck_after(&self) -> Option<Duration> {
        Some(self.recheck)
    }

    fn timed_out(&self, timeout: Duration) -> AuthError {
        AuthError::TokenFileTimeout {
            path: self.path.clone(),
            timeout,
        }
    }

    fn credential(&self) -> identity_call::CredentialSent {
        identity_call::CredentialSent::TokenFile {
            path: self.path.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[tokio::test]
    async fn reads_trims_and_rereads_when_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "  first-token\n").unwrap();
        let provider = TokenFile::new(&path);
        let token = provider.fetch_token().await.unwrap();
        assert_eq!(token.secret.expose_secret(), "first-token");
        assert_eq!(token.expires_at, None);

        std::fs::write(&path, "second-token-longer\n").unwrap();
        let token = provider.fetch_token().await.unwrap();
        assert_eq!(token.secret.expose_secret(), "second-token-longer");
        assert_eq!(provider.recheck_after(), Some(DEFAULT_RECHECK));
        // A 401 to its token names the file, never the token.
        let named = provider.credential().to_string();
        assert!(named.contains(&path.display().to_string()), "{named}");
        assert!(!named.contains("second-token"), "{named}");
    }

    #[tokio::test]
    async fn a_missing_empty_or_binary_file_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let provider = TokenFile::new(&path);
        let err = provider.fetch_token().await.unwrap_err();
        assert!(
            matches!(err, AuthError::TokenFileUnreadable { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("token"), "{err}");

        std::fs::write(&path, " \n").unwrap();
        let err = provider.fetch_token().await.unwrap_err();
        assert!(matches!(err, AuthError::TokenFileEmpty { .. }), "{err:?}");

        std::fs::write(&path, b"\xff\xfe").unwrap();
        let err = provider.fetch_token().await.unwrap_err();
        assert!(err.to_string().contains("cannot be read"), "{err}");
    }

    #[tokio::test]
    async fn a_file_longer_than_the_bound_is_refused_after_reading_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let bound = usize::try_from(MAX_TOKEN_FILE_BYTES).unwrap();
        std::fs::write(&path, "t".repeat(bound)).unwrap();
        let provider = TokenFile::new(&path);
        assert_eq!(
            provider
                .fetch_token()
                .await
                .unwrap()
                .secret
                .expose_secret()
                .len(),
            bound,
            "the bound itself is accepted"
        );
        std::fs::write(&path, "t".repeat(bound + 1)).unwrap();
        let err = provider.fetch_token().await.unwrap_err();
        assert!(matches!(err, AuthError::TokenFileTooLong { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
    }

    /// `/dev/zero` never ends: it is read up to the bound, then refused.
    #[cfg(unix)]
    #[tokio::test]
    async fn an_endless_device_ends_at_the_bound() {
        let err = TokenFile::new("/dev/zero").fetch_token().await.unwrap_err();
        assert!(matches!(err, AuthError::TokenFileTooLong { .. }), "{err:?}");
        assert!(err.to_string().contains("/dev/zero"), "{err}");
    }

    /// A FIFO nobody writes to: the fetch ends at the cache's timeout, with
    /// an error naming the file; the read hanging on its thread is waited
    /// for by the next fetch, not started again.
    #[cfg(unix)]
    #[tokio::test(start_paused = true)]
    async fn a_fifo_with_no_writer_times_out_naming_the_file() {
        use crate::TokenCache;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token-fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        let provider = Arc::new(TokenFile::new(&path));
        let cache = TokenCache::builder(provider.clone())
            .fetch_timeout(Duration::from_secs(3))
            .retry_failed_refresh_after(Duration::ZERO)
            .build();
        let err = cache.bearer().await.unwrap_err();
        assert!(
            matches!(&err, AuthError::TokenFileTimeout { timeout, .. } if *timeout == Duration::from_secs(3)),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains("token-fifo"), "{message}");
        assert!(!message.contains("token endpoint"), "{message}");

        let first = provider.lock().reading.clone().unwrap();
        let _ = cache.bearer().await.unwrap_err();
        let second = provider.lock().reading.clone().unwrap();
        assert!(first.ptr_eq(&second), "one read in flight, not two");

        // A writer comes: the hanging read ends with its token.
        std::fs::write(&path, "late-token\n").unwrap();
        let token = provider.fetch_token().await.unwrap();
        assert_eq!(token.secret.expose_secret(), "late-token");
    }
}
