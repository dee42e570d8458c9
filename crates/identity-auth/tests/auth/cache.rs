//! The token cache on tokio's paused clock: single flight, a fetch that
//! outlives its callers, refresh ahead of expiry in the background, serving a
//! valid token through failed refreshes, a failure remembered for a while,
//! invalidation of the sent token only.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{BoxFuture, join_all};
use identity_auth::{
    AccessToken, AuthError, ExposeSecret, SecretString, TokenCache, TokenProvider,
};
use tokio::time::{advance, sleep};

/// Answers from a script, after a delay, counting the fetches.
struct Scripted {
    delay: Duration,
    answers: Mutex<VecDeque<Result<Duration, ()>>>,
    fetches: AtomicUsize,
}

impl Scripted {
    fn new(delay: Duration, answers: impl IntoIterator<Item = Result<Duration, ()>>) -> Arc<Self> {
        Arc::new(Self {
            delay,
            answers: Mutex::new(answers.into_iter().collect()),
            fetches: AtomicUsize::new(0),
        })
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

impl TokenProvider for Scripted {
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        Box::pin(async move {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            sleep(self.delay).await;
            let answer = self.answers.lock().unwrap().pop_front().unwrap_or(Err(()));
            match answer {
                Ok(lifetime) => Ok(AccessToken::expiring_in(
                    SecretString::from(format!("token-{n}")),
                    lifetime,
                )),
                Err(()) => Err(AuthError::Timeout {
                    timeout: Duration::from_secs(30),
                }),
            }
        })
    }
}

const HOUR: Duration = Duration::from_secs(3600);

#[tokio::test(start_paused = true)]
async fn many_callers_share_one_fetch() {
    let provider = Scripted::new(Duration::from_millis(100), [Ok(HOUR)]);
    let cache = TokenCache::new(provider.clone());
    let tokens = join_all((0..200).map(|_| {
        let cache = cache.clone();
        async move { cache.bearer().await }
    }))
    .await;
    assert_eq!(provider.fetches(), 1);
    for token in tokens {
        let token = token.unwrap();
        assert_eq!(token.secret().expose_secret(), "token-1");
        assert_eq!(token.id(), 1);
    }
}

#[tokio::test(start_paused = true)]
async fn callers_waiting_on_a_failed_fetch_get_its_error() {
    let provider = Scripted::new(Duration::from_millis(100), [Err(())]);
    let cache = TokenCache::new(provider.clone());
    let results = join_all((0..50).map(|_| {
        let cache = cache.clone();
        async move { cache.bearer().await }
    }))
    .await;
    assert_eq!(provider.fetches(), 1);
    for result in results {
        assert!(
            matches!(result, Err(AuthError::Timeout { .. })),
            "{result:?}"
        );
    }
    // The failure is remembered for a while: no new fetch...
    assert!(matches!(
        cache.bearer().await,
        Err(AuthError::Timeout { .. })
    ));
    assert_eq!(provider.fetches(), 1);
    // ...until it has passed.
    advance(Duration::from_secs(6)).await;
    assert!(cache.bearer().await.is_err());
    assert_eq!(provider.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_token_is_refreshed_ahead_of_its_expiry() {
    let provider = Scripted::new(Duration::ZERO, [Ok(Duration::from_secs(600)), Ok(HOUR)]);
    let cache = TokenCache::builder(provider.clone())
        .refresh_ahead(Duration::from_secs(60))
        .build();
    assert_eq!(cache.bearer().await.unwrap().id(), 1);

    advance(Duration::from_secs(539)).await;
    assert_eq!(cache.fresh().unwrap().id(), 1);
    advance(Duration::from_secs(2)).await;
    assert!(cache.fresh().is_none(), "due 60 s before expiry");
    // The due token is served at once; the refresh runs in the background.
    assert_eq!(cache.bearer().await.unwrap().id(), 1);
    settle().await;
    assert_eq!(cache.fresh().unwrap().id(), 2);
    assert_eq!(provider.fetches(), 2);
}

/// Lets the background fetch run as far as it can without time passing.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_short_lived_token_is_refreshed_at_half_its_life() {
    let provider = Scripted::new(Duration::ZERO, [Ok(Duration::from_secs(20)), Ok(HOUR)]);
    let cache = TokenCache::new(provider.clone());
    cache.bearer().await.unwrap();
    advance(Duration::from_secs(9)).await;
    assert!(cache.fresh().is_some());
    advance(Duration::from_secs(2)).await;
    assert!(cache.fresh().is_none());
}

#[tokio::test(start_paused = true)]
async fn a_valid_token_is_served_while_refreshes_fail() {
    let provider = Scripted::new(
        Duration::from_millis(10),
        [Ok(Duration::from_secs(120)), Err(()), Err(())],
    );
    let cache = TokenCache::builder(provider.clone())
        .retry_failed_refresh_after(Duration::from_secs(5))
        .build();
    assert_eq!(cache.bearer().await.unwrap().id(), 1);

    advance(Duration::from_secs(61)).await; // due, still valid
    assert_eq!(cache.bearer().await.unwrap().id(), 1);
    settle().await; // the refresh starts...
    advance(Duration::from_millis(20)).await; // ...and fails
    settle().await;
    assert_eq!(provider.fetches(), 2);
    // The failed refresh is not retried on every call...
    for _ in 0..10 {
        assert_eq!(cache.bearer().await.unwrap().id(), 1);
    }
    assert_eq!(provider.fetches(), 2);
    // ...but after a pause.
    advance(Duration::from_secs(6)).await;
    assert_eq!(cache.bearer().await.unwrap().id(), 1);
    settle().await;
    advance(Duration::from_millis(20)).await;
    settle().await;
    assert_eq!(provider.fetches(), 3);

    advance(Duration::from_secs(60)).await; // expired: nothing valid remains
    assert!(cache.bearer().await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_due_token_is_served_at_once_while_the_provider_takes_seconds() {
    let provider = Scripted::new(
        Duration::from_secs(3),
        [Ok(Duration::from_secs(120)), Ok(HOUR)],
    );
    let cache = TokenCache::new(provider.clone());
    cache.bearer().await.unwrap();
    advance(Duration::from_secs(61)).await; // due, still valid

    let started = tokio::time::Instant::now();
    let tokens = join_all((0..20).map(|_| cache.bearer())).await;
    assert_eq!(started.elapsed(), Duration::ZERO, "nobody waited");
    assert!(tokens.into_iter().all(|token| token.unwrap().id() == 1));
    settle().await; // the refresh starts
    advance(Duration::from_secs(3)).await;
    settle().await;
    assert_eq!(cache.fresh().unwrap().id(), 2);
    assert_eq!(provider.fetches(), 2, "one refresh for them all");
}

#[tokio::test(start_paused = true)]
async fn a_fetch_outlives_the_callers_that_gave_up_and_serves_the_next_call() {
    // The provider takes 5 s; every caller gives up after 1 s.
    let provider = Scripted::new(Duration::from_secs(5), [Ok(HOUR)]);
    let cache = TokenCache::new(provider.clone());
    for _ in 0..3 {
        let gave_up = tokio::time::timeout(Duration::from_secs(1), cache.bearer()).await;
        assert!(gave_up.is_err(), "the caller's own deadline ended its wait");
    }
    assert_eq!(provider.fetches(), 1, "one fetch, not one per caller");
    advance(Duration::from_secs(3)).await;
    settle().await;
    // A later call finds the token the first fetch brought.
    assert_eq!(cache.fresh().unwrap().id(), 1);
    assert_eq!(cache.bearer().await.unwrap().id(), 1);
    assert_eq!(provider.fetches(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_fetch_is_bounded_by_the_fetch_timeout() {
    let provider = Scripted::new(Duration::from_secs(600), [Ok(HOUR)]);
    let cache = TokenCache::builder(provider.clone())
        .fetch_timeout(Duration::from_secs(10))
        .build();
    let started = tokio::time::Instant::now();
    let result = cache.bearer().await;
    assert!(
        matches!(result, Err(AuthError::Timeout { timeout }) if timeout == Duration::from_secs(10)),
        "{result:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn only_the_token_that_was_sent_is_dropped() {
    let provider = Scripted::new(Duration::ZERO, [Ok(HOUR), Ok(HOUR)]);
    let cache = TokenCache::new(provider.clone());
    let first = cache.bearer().await.unwrap();
    assert!(cache.invalidate_if(&first));
    let second = cache.bearer().await.unwrap();
    assert_ne!(first.id(), second.id());

    // A late 401 for the first token leaves the second one alone.
    assert!(!cache.invalidate_if(&first));
    assert_eq!(cache.fresh().unwrap().id(), second.id());
    assert_eq!(provider.fetches(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_token_unfit_for_a_header_is_a_typed_error() {
    struct Newline;
    impl TokenProvider for Newline {
        fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
            Box::pin(async { Ok(AccessToken::new(SecretString::from("a\nb"), None)) })
        }
    }
    let cache = TokenCache::from_provider(Newline);
    assert!(matches!(cache.bearer().await, Err(AuthError::InvalidToken)));
}
