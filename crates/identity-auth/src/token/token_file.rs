//! [`TokenFile`]: a token another process writes to a file and rotates.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;
use secrecy::SecretString;

use super::{AccessToken, TokenProvider};
use crate::AuthError;

/// How often the cache looks at the file by default.
const DEFAULT_RECHECK: Duration = Duration::from_secs(10);

/// A bearer token read from a file (`FBN_ACCESS_TOKEN_FILE`), such as one a
/// sidecar or a mounted secret rotates.
///
/// Surrounding whitespace is trimmed. The file is read again when its
/// modification time or length changed since the last read; the
/// [`TokenCache`](super::TokenCache) looks every 10 seconds by default, and
/// after every 401.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
    recheck: Duration,
    last: Mutex<Option<Snapshot>>,
}

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
            last: Mutex::new(None),
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
        let unreadable = |source: std::io::Error| AuthError::TokenFileUnreadable {
            path: self.path.clone(),
            source: crate::SharedSource::new(source),
        };
        let metadata = tokio::fs::metadata(&self.path).await.map_err(unreadable)?;
        let stamp = Stamp {
            modified: metadata.modified().ok(),
            len: metadata.len(),
        };
        if let Some(last) = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            && last.stamp == stamp
        {
            return Ok(AccessToken::new(last.token.clone(), None));
        }
        let text = tokio::fs::read_to_string(&self.path)
            .await
            .map_err(unreadable)?;
        let token = text.trim();
        if token.is_empty() {
            return Err(AuthError::TokenFileEmpty {
                path: self.path.clone(),
            });
        }
        let token = SecretString::from(token);
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(Snapshot {
            stamp,
            token: token.clone(),
        });
        tracing::debug!(path = %self.path.display(), "read the access token file");
        Ok(AccessToken::new(token, None))
    }
}

impl TokenProvider for TokenFile {
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        Box::pin(self.read())
    }

    fn recheck_after(&self) -> Option<Duration> {
        Some(self.recheck)
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
    }

    #[tokio::test]
    async fn a_missing_or_empty_file_is_a_typed_error() {
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
    }
}
