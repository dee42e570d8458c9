//! [`TokenCache`]: the token of a provider, fetched once and shared.
//!
//! The hot path (a fresh token) is one atomic load of an
//! [`ArcSwapOption`](arc_swap::ArcSwapOption) and a reference count: no lock,
//! no allocation; the `Authorization` header value is built once per token.
//!
//! A fetch is one task of its own, shared by every caller that needs it
//! (single flight), spawned on the tokio runtime and bounded by the cache's
//! `fetch_timeout`. A caller that stops waiting (its call's deadline passed,
//! or it was dropped) does not cancel it: the token it brings serves the
//! next calls, and a slow identity provider is asked once, not once per call.
//!
//! A token is *fresh* until `refresh_ahead` before its expiry (60 s by
//! default, at most half its lifetime), then *due* until it expires. A due
//! token is served at once while a refresh runs in the background; when the
//! refresh fails, the token stays in use until it expires. A failure is
//! remembered for `retry_failed_refresh_after` (5 s by default): in that
//! time no caller starts another fetch, and those with no valid token get
//! the failure at once, so a thousand callers do not ask a failing provider
//! a thousand times.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared as SharedFuture};
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use super::{AccessToken, TokenProvider};
use crate::AuthError;
use crate::redact::Redacted;

/// Caches the token of a [`TokenProvider`] and refreshes it ahead of expiry.
///
/// Clones share the cache.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), identity_auth::AuthError> {
/// use identity_auth::{SecretString, StaticToken, TokenCache};
///
/// let tokens = TokenCache::from_provider(StaticToken::new(SecretString::from("pat")));
/// let bearer = tokens.bearer().await?;
/// assert!(bearer.header_value().is_sensitive());
/// // After a 401 with this token: drop it, unless another call already did.
/// assert!(tokens.invalidate_if(&bearer));
/// assert!(!tokens.invalidate_if(&bearer));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenCache {
    shared: Arc<Shared>,
}

struct Shared {
    provider: Arc<dyn TokenProvider>,
    current: ArcSwapOption<Entry>,
    /// The fetch in flight and the last failure; locked briefly, never
    /// across an `.await`.
    fetching: Mutex<Fetching>,
    next_id: AtomicU64,
    refresh_ahead: Duration,
    retry_failed_refresh_after: Duration,
    fetch_timeout: Duration,
}

/// One fetch, awaited by every caller that needs it.
type Fetch = SharedFuture<BoxFuture<'static, Result<Arc<Entry>, AuthError>>>;

#[derive(Default)]
struct Fetching {
    in_flight: Option<Fetch>,
    /// The last fetch failed: no new one before this instant.
    failed: Option<(Instant, AuthError)>,
}

struct Entry {
    id: u64,
    header: HeaderValue,
    token: AccessToken,
    /// When to fetch again (`None`: only after a 401).
    refresh_at: Option<Instant>,
}

impl Entry {
    fn is_fresh(&self) -> bool {
        self.refresh_at.is_none_or(|at| Instant::now() < at)
    }

    fn is_valid(&self) -> bool {
        !self.token.is_expired_at(Instant::now())
    }
}

/// A cached token, as sent: its `Authorization` header value and its id.
///
/// Cheap to clone. Give it back to [`TokenCache::invalidate_if`] when the
/// service refused it.
#[derive(Clone)]
pub struct BearerToken {
    entry: Arc<Entry>,
}

impl BearerToken {
    /// `Bearer <token>`, marked sensitive (so that HTTP/2 never indexes it
    /// and loggers that honour the flag hide it).
    pub fn header_value(&self) -> &HeaderValue {
        &self.entry.header
    }

    /// Which token this is: every token the cache fetches gets a new id.
    pub fn id(&self) -> u64 {
        self.entry.id
    }

    /// When the token expires, if known.
    pub fn expires_at(&self) -> Option<Instant> {
        self.entry.token.expires_at
    }

    /// The token itself.
    pub fn secret(&self) -> &SecretString {
        &self.entry.token.secret
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken")
            .field("id", &self.entry.id)
            .field("header_value", &Redacted)
            .field("expires_at", &self.entry.token.expires_at)
            .finish()
    }
}

/// Settings of a [`TokenCache`].
pub struct TokenCacheBuilder {
    provider: Arc<dyn TokenProvider>,
    refresh_ahead: Duration,
    retry_failed_refresh_after: Duration,
    fetch_timeout: Duration,
}

impl TokenCacheBuilder {
    /// How long before its expiry a token is refreshed (default 60 s, as the
    /// official SDKs; never more than half the token's lifetime).
    pub fn refresh_ahead(mut self, ahead: Duration) -> Self {
        self.refresh_ahead = ahead;
        self
    }

    /// After a failed fetch, how long to wait before the next one (default
    /// 5 s): meanwhile a valid token keeps being served, and callers without
    /// one get the failure at once.
    pub fn retry_failed_refresh_after(mut self, pause: Duration) -> Self {
        self.retry_failed_refresh_after = pause;
        self
    }

    /// The longest one fetch may take, whoever waits for it (default
    /// [`DEFAULT_FETCH_DEADLINE`](super::DEFAULT_FETCH_DEADLINE), 30 s).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// The cache.
    pub fn build(self) -> TokenCache {
        TokenCache {
            shared: Arc::new(Shared {
                provider: self.provider,
                current: ArcSwapOption::empty(),
                fetching: Mutex::new(Fetching::default()),
                next_id: AtomicU64::new(1),
                refresh_ahead: self.refresh_ahead,
                retry_failed_refresh_after: self.retry_failed_refresh_after,
                fetch_timeout: self.fetch_timeout,
            }),
        }
    }
}

impl fmt::Debug for TokenCacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCacheBuilder")
            .field("refresh_ahead", &self.refresh_ahead)
            .field(
                "retry_failed_refresh_after",
                &self.retry_failed_refresh_after,
            )
            .field("fetch_timeout", &self.fetch_timeout)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache over `provider`, with the default settings.
    pub fn new(provider: Arc<dyn TokenProvider>) -> Self {
        Self::builder(provider).build()
    }

    /// A cache over `provider`, with the default settings.
    pub fn from_provider(provider: impl TokenProvider) -> Self {
        Self::new(Arc::new(provider))
    }

    /// Settings for a cache over `provider`.
    pub fn builder(provider: Arc<dyn TokenProvider>) -> TokenCacheBuilder {
        TokenCacheBuilder {
            provider,
            refresh_ahead: Duration::from_secs(60),
            retry_failed_refresh_after: Duration::from_secs(5),
            fetch_timeout: super::DEFAULT_FETCH_DEADLINE,
        }
    }

    /// The cached token when it is fresh: lock-free, without I/O.
    pub fn fresh(&self) -> Option<BearerToken> {
        let current = self.shared.current.load();
        match &*current {
            Some(entry) if entry.is_fresh() => Some(BearerToken {
                entry: Arc::clone(entry),
            }),
            _ => None,
        }
    }

    /// A valid token: the cached one when it is fresh; when it is due, the
    /// same at once while a refresh runs in the background; else the token
    /// of the fetch in flight, or of a new one.
    pub async fn bearer(&self) -> Result<BearerToken, AuthError> {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let valid = self
            .shared
            .current
            .load_full()
            .filter(|entry| entry.is_valid());
        let fetch = {
            let mut fetching = self.lock_fetching();
            match &fetching.failed {
                Some((until, error)) if Instant::now() < *until => {
                    return match valid {
                        Some(entry) => Ok(BearerToken { entry }),
                        None => Err(error.clone()),
                    };
                }
                _ => fetching.failed = None,
            }
            match &fetching.in_flight {
                Some(fetch) => fetch.clone(),
                None => {
                    let fetch = self.start_fetch();
                    fetching.in_flight = Some(fetch.clone());
                    fetch
                }
            }
        };
        match valid {
            // Due but valid: served now; the fetch goes on without us.
            Some(entry) => Ok(BearerToken { entry }),
            None => fetch.await.map(|entry| BearerToken { entry }),
        }
    }

    /// Whether the provider can give a different token than the one it gave
    /// (see [`TokenProvider::can_renew`]).
    pub fn can_renew(&self) -> bool {
        self.shared.provider.can_renew()
    }

    /// Drops the cached token if it is `sent` (the one a refused request
    /// carried), so that the next call fetches a new one. Returns whether it
    /// did: a token another call already replaced stays.
    pub fn invalidate_if(&self, sent: &BearerToken) -> bool {
        let current = self.shared.current.load();
        match &*current {
            Some(entry) if entry.id == sent.entry.id => {
                let previous = self.shared.current.compare_and_swap(&current, None);
                let dropped = match (&*previous, &*current) {
                    (Some(previous), Some(current)) => Arc::ptr_eq(previous, current),
                    _ => false,
                };
                if dropped {
                    tracing::debug!(token = sent.entry.id, "dropped the refused token");
                }
                dropped
            }
            _ => false,
        }
    }

    /// What names the credential of the provider's tokens (see
    /// [`TokenProvider::credential`]).
    pub fn credential(&self) -> identity_call::CredentialSent {
        self.shared.provider.credential()
    }

    /// The error of a wait for a token that took longer than `timeout`, in
    /// the provider's words (see [`TokenProvider::timed_out`]).
    pub(crate) fn timed_out(&self, timeout: Duration) -> AuthError {
        self.shared.provider.timed_out(timeout)
    }

    /// Drops the cached token, whichever it is.
    pub fn invalidate(&self) {
        self.shared.current.store(None);
    }

    fn lock_fetching(&self) -> std::sync::MutexGuard<'_, Fetching> {
        self.shared
            .fetching
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A fetch of its own task, that no waiter's cancellation stops; inline
    /// (run by whoever awaits it) only where there is no tokio runtime.
    fn start_fetch(&self) -> Fetch {
        let cache = self.clone();
        let task = async move {
            let result = cache.fetch().await;
            cache.settle(&result);
            result
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let handle = runtime.spawn(task);
                async move {
                    handle.await.unwrap_or_else(|_| {
                        Err(AuthError::provider("the token fetch's task was cancelled"))
                    })
                }
                .boxed()
                .shared()
            }
            Err(_) => task.boxed().shared(),
        }
    }

    /// Asks the provider, within the fetch timeout.
    async fn fetch(&self) -> Result<Arc<Entry>, AuthError> {
        let shared = &*self.shared;
        let timeout = shared.fetch_timeout;
        let fetched = tokio::time::timeout(timeout, shared.provider.fetch_token())
            .await
            .unwrap_or_else(|_| Err(shared.provider.timed_out(timeout)));
        fetched.and_then(|token| self.entry(token))
    }

    /// Keeps what a fetch brought: the new token, or the failure for a while.
    fn settle(&self, result: &Result<Arc<Entry>, AuthError>) {
        let shared = &*self.shared;
        #[cfg(feature = "metrics")]
        metrics::counter!(
            "identity.client.token_fetches",
            "outcome" => if result.is_ok() { "success" } else { "failure" },
        )
        .increment(1);
        let mut fetching = self.lock_fetching();
        fetching.in_flight = None;
        match result {
            Ok(entry) => {
                fetching.failed = None;
                shared.current.store(Some(Arc::clone(entry)));
                tracing::debug!(token = entry.id, "fetched a new token");
            }
            Err(error) => {
                let until = Instant::now().checked_add(shared.retry_failed_refresh_after);
                fetching.failed = until.map(|until| (until, error.clone()));
                if shared.current.load().as_ref().is_some_and(|e| e.is_valid()) {
                    tracing::warn!(%error, "token refresh failed; the current token stays in use until it expires");
                } else {
                    tracing::warn!(%error, "token fetch failed");
                }
            }
        }
    }

    /// A cache entry for a new token: its header value and when to refresh it.
    fn entry(&self, token: AccessToken) -> Result<Arc<Entry>, AuthError> {
        let shared = &*self.shared;
        let mut header = HeaderValue::try_from(format!("Bearer {}", token.secret.expose_secret()))
            .map_err(|_| AuthError::InvalidToken)?;
        header.set_sensitive(true);
        let now = Instant::now();
        let by_expiry = token.expires_at.map(|expiry| {
            let ahead = shared
                .refresh_ahead
                .min(expiry.saturating_duration_since(now) / 2);
            expiry.checked_sub(ahead).unwrap_or(now)
        });
        let by_recheck = shared
            .provider
            .recheck_after()
            .and_then(|interval| now.checked_add(interval));
        let refresh_at = match (by_expiry, by_recheck) {
            (Some(expiry), Some(recheck)) => Some(expiry.min(recheck)),
            (expiry, recheck) => expiry.or(recheck),
        };
        Ok(Arc::new(Entry {
            id: shared.next_id.fetch_add(1, Ordering::Relaxed),
            header,
            token,
            refresh_at,
        }))
    }
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let current = self.shared.current.load();
        f.debug_struct("TokenCache")
            .field(
                "token",
                &current.as_ref().map(|entry| BearerToken {
                    entry: Arc::clone(entry),
                }),
            )
            .field("refresh_ahead", &self.shared.refresh_ahead)
            .field(
                "retry_failed_refresh_after",
                &self.shared.retry_failed_refresh_after,
            )
            .field("fetch_timeout", &self.shared.fetch_timeout)
            .finish_non_exhaustive()
    }
}
