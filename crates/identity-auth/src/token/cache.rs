//! [`TokenCache`]: the token of a provider, fetched once and shared.
//!
//! The hot path (a fresh token) is one atomic load of an
//! [`ArcSwapOption`](arc_swap::ArcSwapOption) and a reference count: no lock,
//! no allocation; the `Authorization` header value is built once per token.
//! Refreshing takes a [`tokio::sync::Mutex`], so one fetch is in flight
//! however many calls wait, and every caller re-checks the cache once it holds
//! the lock.
//!
//! A token is *fresh* until `refresh_ahead` before its expiry (60 s by
//! default, at most half its lifetime), then *due* until it expires. A due
//! token is still served: one caller refreshes while the others keep using it,
//! and when the refresh fails the token stays in use (asking again after
//! `retry_failed_refresh_after`) until it expires. Only when no valid token
//! remains does a failure reach the callers: each caller that was waiting for
//! that fetch gets its error, rather than starting a fetch of its own.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{Mutex, MutexGuard};
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
    /// Held while a fetch is in flight; holds the outcome of the last fetch.
    refresh: Mutex<LastFetch>,
    /// Fetches made so far, to tell a waiter whether one ended while it waited.
    fetches: AtomicU64,
    next_id: AtomicU64,
    refresh_ahead: Duration,
    retry_failed_refresh_after: Duration,
}

#[derive(Default)]
struct LastFetch {
    error: Option<AuthError>,
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
}

impl TokenCacheBuilder {
    /// How long before its expiry a token is refreshed (default 60 s, as the
    /// official SDKs; never more than half the token's lifetime).
    pub fn refresh_ahead(mut self, ahead: Duration) -> Self {
        self.refresh_ahead = ahead;
        self
    }

    /// After a failed refresh while the token is still valid, how long to
    /// keep serving it before trying again (default 5 s).
    pub fn retry_failed_refresh_after(mut self, pause: Duration) -> Self {
        self.retry_failed_refresh_after = pause;
        self
    }

    /// The cache.
    pub fn build(self) -> TokenCache {
        TokenCache {
            shared: Arc::new(Shared {
                provider: self.provider,
                current: ArcSwapOption::empty(),
                refresh: Mutex::new(LastFetch::default()),
                fetches: AtomicU64::new(0),
                next_id: AtomicU64::new(1),
                refresh_ahead: self.refresh_ahead,
                retry_failed_refresh_after: self.retry_failed_refresh_after,
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

    /// A valid token: the cached one, or a new one from the provider.
    pub async fn bearer(&self) -> Result<BearerToken, AuthError> {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let current = self.shared.current.load_full();
        if let Some(entry) = current.filter(|entry| entry.is_valid()) {
            // Due, still valid: one caller refreshes, the others use it.
            return match self.shared.refresh.try_lock() {
                Ok(last) => self.refresh(last, None).await,
                Err(_) => Ok(BearerToken { entry }),
            };
        }
        let seen = self.shared.fetches.load(Ordering::Acquire);
        let last = self.shared.refresh.lock().await;
        self.refresh(last, Some(seen)).await
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

    /// Drops the cached token, whichever it is.
    pub fn invalidate(&self) {
        self.shared.current.store(None);
    }

    /// Fetches a token, holding the refresh lock. `waited_since` is the fetch
    /// count seen before waiting for the lock, when the caller had no valid
    /// token.
    async fn refresh(
        &self,
        mut last: MutexGuard<'_, LastFetch>,
        waited_since: Option<u64>,
    ) -> Result<BearerToken, AuthError> {
        let shared = &*self.shared;
        // Another caller may have refreshed while this one waited.
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let previous = shared.current.load_full().filter(|entry| entry.is_valid());
        if previous.is_none() {
            let fetched_meanwhile =
                waited_since.is_some_and(|seen| seen != shared.fetches.load(Ordering::Acquire));
            if let (true, Some(error)) = (fetched_meanwhile, &last.error) {
                return Err(error.clone());
            }
        }
        let fetched = shared.provider.fetch_token().await;
        let fetched = fetched.and_then(|token| self.entry(token));
        shared.fetches.fetch_add(1, Ordering::Release);
        match fetched {
            Ok(entry) => {
                last.error = None;
                shared.current.store(Some(Arc::clone(&entry)));
                tracing::debug!(token = entry.id, "fetched a new token");
                Ok(BearerToken { entry })
            }
            Err(error) => {
                last.error = Some(error.clone());
                match previous.filter(|entry| entry.is_valid()) {
                    Some(entry) => {
                        tracing::warn!(%error, "token refresh failed; the current token stays in use until it expires");
                        Ok(BearerToken {
                            entry: self.postpone_refresh(entry),
                        })
                    }
                    None => Err(error),
                }
            }
        }
    }

    /// The same token, asked about again after a pause, if it is still the
    /// cached one.
    fn postpone_refresh(&self, entry: Arc<Entry>) -> Arc<Entry> {
        let shared = &*self.shared;
        let retry_at = Instant::now().checked_add(shared.retry_failed_refresh_after);
        let refresh_at = match (retry_at, entry.token.expires_at) {
            (Some(retry), Some(expiry)) => Some(retry.min(expiry)),
            (retry, expiry) => retry.or(expiry),
        };
        let postponed = Arc::new(Entry {
            id: entry.id,
            header: entry.header.clone(),
            token: entry.token.clone(),
            refresh_at,
        });
        let expected = Some(entry);
        shared
            .current
            .compare_and_swap(&expected, Some(Arc::clone(&postponed)));
        postponed
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
            .finish_non_exhaustive()
    }
}
