//! Access and refresh tokens: issued by the token endpoint, checked on every
//! API call, expiring on tokio's clock (so tests with paused time can expire
//! them without waiting).
//!
//! Refresh tokens are not rotated: a refresh answers a new access token and
//! the same refresh token, as an Okta authorization server does for a
//! confidential client by default. They live [`REFRESH_TOKEN_TTL_FACTOR`]
//! times the access token lifetime.
//!
//! The store is bounded ([`Limits::max_grants`](crate::Limits)): at most
//! that many refresh grants and that many access tokens, the oldest
//! forgotten first. Every token of a kind lives as long, so issue order is
//! expiry order: a queue per kind sweeps the expired ones from its front,
//! at each grant and each check, at no cost beyond them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::time::Instant;

use crate::config::{MAX_TOKEN_TTL, REFRESH_TOKEN_TTL_FACTOR};

/// What a successful grant hands back.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct IssuedTokens {
    pub(crate) access_token: String,
    pub(crate) refresh_token: String,
    pub(crate) expires_in: Duration,
    pub(crate) scope: String,
}

#[derive(Debug)]
struct RefreshGrant {
    client_id: String,
    scope: String,
    expires_at: Instant,
}

/// Why a bearer token is not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Valid,
    /// Unknown or expired.
    Invalid,
}

/// Every token the emulator knows.
pub(crate) struct TokenStore {
    static_tokens: HashSet<String>,
    access: HashMap<String, Instant>,
    refresh: HashMap<String, RefreshGrant>,
    /// The tokens of `access` and `refresh`, oldest (so first to expire)
    /// first; a token forgotten by [`TokenStore::clear`] is not in them.
    access_order: VecDeque<(String, Instant)>,
    refresh_order: VecDeque<(String, Instant)>,
    ttl: Duration,
    max_grants: usize,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore")
            .field("static_tokens", &self.static_tokens.len())
            .field("access", &self.access.len())
            .field("refresh", &self.refresh.len())
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl TokenStore {
    /// A store with these static tokens, issuing tokens for `ttl`. The
    /// configuration is checked against [`MAX_TOKEN_TTL`] before start; the
    /// lifetime is held to it here too, so that no expiry sum can overflow
    /// the clock.
    /// At most `max_grants` refresh grants and `max_grants` access tokens
    /// are kept.
    pub(crate) fn new(static_tokens: &[String], ttl: Duration, max_grants: usize) -> Self {
        Self {
            static_tokens: static_tokens.iter().cloned().collect(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            access_order: VecDeque::new(),
            refresh_order: VecDeque::new(),
            ttl: ttl.min(MAX_TOKEN_TTL),
            max_grants: max_grants.max(1),
        }
    }

    fn refresh_ttl(&self) -> Duration {
        self.ttl.saturating_mul(REFRESH_TOKEN_TTL_FACTOR)
    }

    /// Is `token` a static token or an issued, unexpired access token?
    pub(crate) fn check(&mut self, token: &str) -> TokenCheck {
        self.sweep();
        let now = Instant::now();
        let valid = self.static_tokens.contains(token)
            || self
                .access
                .get(token)
                .is_some_and(|expires_at| now < *expires_at);
        if valid {
            TokenCheck::Valid
        } else {
            TokenCheck::Invalid
        }
    }

    /// Issues a new access token and a new refresh token (password grant).
    pub(crate) fn issue(&mut self, client_id: &str, scope: &str) -> IssuedTokens {
        self.sweep();
        let refresh_token = random_token();
        let expires_at = Instant::now() + self.refresh_ttl();
        let grant = RefreshGrant {
            client_id: client_id.to_owned(),
            scope: scope.to_owned(),
            expires_at,
        };
        if self.refresh.len() >= self.max_grants
            && let Some((oldest, _)) = self.refresh_order.pop_front()
        {
            self.refresh.remove(&oldest);
        }
        self.refresh.insert(refresh_token.clone(), grant);
        self.refresh_order
            .push_back((refresh_token.clone(), expires_at));
        self.issue_access(refresh_token, scope.to_owned())
    }

    /// Issues a new access token for a live refresh token of this client
    /// (refresh_token grant); `None` when the refresh token is unknown,
    /// expired or another client's. A requested scope replaces the granted
    /// one in the answer only when given.
    pub(crate) fn refresh(
        &mut self,
        refresh_token: &str,
        client_id: &str,
        scope: Option<&str>,
    ) -> Option<IssuedTokens> {
        self.sweep();
        let grant = self.refresh.get(refresh_token)?;
        if grant.client_id != client_id || grant.expires_at <= Instant::now() {
            return None;
        }
        let scope = scope.map_or_else(|| grant.scope.clone(), str::to_owned);
        Some(self.issue_access(refresh_token.to_owned(), scope))
    }

    fn issue_access(&mut self, refresh_token: String, scope: String) -> IssuedTokens {
        let access_token = random_token();
        let expires_at = Instant::now() + self.ttl;
        if self.access.len() >= self.max_grants
            && let Some((oldest, _)) = self.access_order.pop_front()
        {
            self.access.remove(&oldest);
        }
        self.access.insert(access_token.clone(), expires_at);
        self.access_order
            .push_back((access_token.clone(), expires_at));
        IssuedTokens {
            access_token,
            refresh_token,
            expires_in: self.ttl,
            scope,
        }
    }

    /// Forgets every issued token (static tokens stay).
    pub(crate) fn clear(&mut self) {
        self.access.clear();
        self.refresh.clear();
        self.access_order.clear();
        self.refresh_order.clear();
    }

    /// How many access tokens and refresh grants are kept.
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        debug_assert_eq!(self.access.len(), self.access_order.len());
        debug_assert_eq!(self.refresh.len(), self.refresh_order.len());
        (self.access.len(), self.refresh.len())
    }

    /// Forgets the expired tokens, from the front of each queue.
    fn sweep(&mut self) {
        let now = Instant::now();
        while let Some((token, _)) = self
            .access_order
            .front()
            .filter(|(_, expires_at)| *expires_at <= now)
        {
            self.access.remove(token);
            self.access_order.pop_front();
        }
        while let Some((token, _)) = self
            .refresh_order
            .front()
            .filter(|(_, expires_at)| *expires_at <= now)
        {
            self.refresh.remove(token);
            self.refresh_order.pop_front();
        }
    }
}

/// 256 random bits (from the operating system's generator, through uuid v4),
/// base64url-encoded.
fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn access_tokens_expire_after_the_ttl() {
        let mut store = TokenStore::new(&["static".to_owned()], Duration::from_secs(60), 100);
        let issued = store.issue("client", "openid");
        assert_eq!(store.check(&issued.access_token), TokenCheck::Valid);
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(store.check(&issued.access_token), TokenCheck::Valid);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(store.check(&issued.access_token), TokenCheck::Invalid);
        assert_eq!(store.check("static"), TokenCheck::Valid);
        assert_eq!(store.check("other"), TokenCheck::Invalid);
    }

    #[tokio::test(start_paused = true)]
    async fn refresh_keeps_the_refresh_token_and_checks_client_and_expiry() {
        let mut store = TokenStore::new(&[], Duration::from_secs(10), 100);
        let issued = store.issue("client", "openid offline_access");
        assert!(
            store
                .refresh(&issued.refresh_token, "other-client", None)
                .is_none()
        );
        let refreshed = store
            .refresh(&issued.refresh_token, "client", None)
            .unwrap();
        assert_eq!(refreshed.refresh_token, issued.refresh_token);
        assert_ne!(refreshed.access_token, issued.access_token);
        assert_eq!(refreshed.scope, "openid offline_access");
        tokio::time::advance(Duration::from_secs(
            10 * u64::from(REFRESH_TOKEN_TTL_FACTOR),
        ))
        .await;
        assert!(
            store
                .refresh(&issued.refresh_token, "client", None)
                .is_none()
        );
        assert!(store.refresh("unknown", "client", None).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn the_store_holds_at_most_its_bound_the_oldest_forgotten() {
        let mut store = TokenStore::new(&[], Duration::from_secs(60), 3);
        let grants: Vec<IssuedTokens> = (0..5).map(|_| store.issue("client", "openid")).collect();
        assert_eq!(store.held(), (3, 3));
        assert_eq!(store.check(&grants[0].access_token), TokenCheck::Invalid);
        assert!(
            store
                .refresh(&grants[1].refresh_token, "client", None)
                .is_none()
        );
        assert_eq!(store.check(&grants[4].access_token), TokenCheck::Valid);
        // Refreshing makes access tokens only, held to the same bound.
        for _ in 0..10 {
            store
                .refresh(&grants[4].refresh_token, "client", None)
                .unwrap();
        }
        assert_eq!(store.held(), (3, 3));
    }

    #[tokio::test(start_paused = true)]
    async fn expired_tokens_are_swept() {
        let mut store = TokenStore::new(&[], Duration::from_secs(60), 1_000);
        for _ in 0..10 {
            store.issue("client", "openid");
        }
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(store.check("anything"), TokenCheck::Invalid);
        assert_eq!(
            store.held(),
            (0, 10),
            "access tokens expired, refresh grants live on"
        );
        tokio::time::advance(Duration::from_secs(60 * 24)).await;
        store.issue("client", "openid");
        assert_eq!(store.held(), (1, 1));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }
}
