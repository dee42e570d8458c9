//! [`AuthLayer`]: puts the bearer token on each request; on 401, drops the
//! token it sent (unless another call already has), gets a new one and,
//! when it is a different token, has the request sent again once.
//!
//! It sits inside the retry layer, so every attempt gets the current token:
//!
//! ```
//! # fn wrap<S>(http: S, tokens: identity_auth::TokenCache) -> identity_auth::AuthService<S> {
//! use identity_auth::AuthLayer;
//! use tower::ServiceBuilder;
//!
//! ServiceBuilder::new().layer(AuthLayer::new(tokens)).service(http)
//! # }
//! ```
//!
//! Who sends the request again:
//!
//! - by default, this layer: it keeps a copy of each request (its head;
//!   the `Bytes` body is shared) and of the inner service for the replay;
//! - with [`AuthLayer::replay_through_retry`], the retry layer above it
//!   (`identity-transport`'s `RetryLayer`): this layer marks the 401
//!   [`ReplayWithNewToken`] and the retry layer replays it once, at once,
//!   from the copy it keeps anyway. The client's own stack does this: one
//!   copy of each request instead of two.
//!
//! The fast path, with a fresh cached token, costs a lock-free load and no
//! boxing; the slow paths (fetching a token, answering a 401) are boxed
//! futures. A wait for a token never outlives the call's deadline (in its
//! [`CallContext`]): it fails with [`AuthError::Timeout`] then, so that the
//! deadline holds even when the total-timeout layer above arms no timer of
//! its own (`TotalTimeoutLayer::clipped_below` of `identity-transport`, as
//! in the client's stack).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::AUTHORIZATION;
use http::{Request, Response, StatusCode};
use identity_options::{CallContext, ReplayWithNewToken};
use pin_project_lite::pin_project;
use tokio::time::Instant;
use tower::{BoxError, ServiceExt};
use tower_layer::Layer;
use tower_service::Service;

use crate::{AuthError, BearerToken, TokenCache};

/// Who sends a request again after a 401 that a new token can fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Replayer {
    /// The auth layer, from its own copy.
    Auth,
    /// The retry layer above, told by [`ReplayWithNewToken`].
    Retry,
}

/// Layer that authenticates requests with the tokens of a [`TokenCache`].
///
/// On a 401, it drops the token it sent (unless another call already has)
/// and gets a new one; when that is a different token, the request is sent
/// again once:
///
/// - by default, by this layer, from a copy of each request it keeps (its
///   head; the `Bytes` body is shared) with a clone of the inner service;
/// - with [`replay_through_retry`](Self::replay_through_retry), by the retry
///   layer above (`identity-transport`'s `RetryLayer`), told by the mark
///   [`ReplayWithNewToken`] on the answer, from the copy of the request it
///   keeps anyway. The client's own stack does this: one copy of each
///   request instead of two.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    tokens: TokenCache,
    replayer: Replayer,
}

impl AuthLayer {
    /// Authenticates with the tokens of `tokens`, and replays a request
    /// refused with 401 once, with a new token.
    pub fn new(tokens: TokenCache) -> Self {
        Self {
            tokens,
            replayer: Replayer::Auth,
        }
    }

    /// Leaves the replay after a 401 to the retry layer above (which must
    /// be there): the answer is marked [`ReplayWithNewToken`] instead, and
    /// this layer keeps no copy of the request.
    pub fn replay_through_retry(mut self) -> Self {
        self.replayer = Replayer::Retry;
        self
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            tokens: self.tokens.clone(),
            replayer: self.replayer,
        }
    }
}

/// Service that sets `Authorization: Bearer <token>` on each request and,
/// after a 401 that a new token can fix, replays the request once or marks
/// the answer [`ReplayWithNewToken`] (see [`AuthLayer`]).
///
/// An `Authorization` header already on the request is replaced.
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    tokens: TokenCache,
    replayer: Replayer,
}

impl<S> AuthService<S> {
    /// Wraps `inner`; it replays a request refused with 401 itself.
    pub fn new(inner: S, tokens: TokenCache) -> Self {
        AuthLayer::new(tokens).layer(inner)
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, B> Service<Request<Bytes>> for AuthService<S>
where
    S: Service<Request<Bytes>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, S, B>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, mut request: Request<Bytes>) -> Self::Future {
        let context = CallContext::of(&request);
        // A replay the retry layer makes after a 401: its own 401 stands.
        let replayed = context.is_some_and(|c| c.replay_with_new_token);
        let replayer = (!replayed).then_some(self.replayer);
        let deadline = context.and_then(|c| c.deadline).map(Instant::from_std);
        let Some(token) = self.tokens.fresh() else {
            return self.fetch_then_send(request, replayer, deadline);
        };
        // The replay's copy may keep this token's header: the replay sets
        // the new one over it.
        set_bearer(&mut request, &token);
        let mut after_401 = match replayer {
            None => None,
            Some(Replayer::Retry) => Some(After401::Mark {
                tokens: self.tokens.clone(),
                sent: token,
                deadline,
            }),
            Some(Replayer::Auth) => Some(self.replay_copy(&request, token, deadline)),
        };
        let future = match &mut after_401 {
            Some(After401::Replay(replay)) => replay.service.call(request),
            _ => self.inner.call(request),
        };
        ResponseFuture {
            state: State::Sending { future },
            after_401,
        }
    }
}

// The paths below are rare: kept out of line, so that their large locals
// do not grow the stack frame of every call (each cold stack line a call
// touches is a cache miss).
impl<S, B> AuthService<S>
where
    S: Service<Request<Bytes>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    /// No fresh token is cached: the call waits for one, then sends.
    #[cold]
    #[inline(never)]
    fn fetch_then_send(
        &mut self,
        request: Request<Bytes>,
        replayer: Option<Replayer>,
        deadline: Option<Instant>,
    ) -> ResponseFuture<S::Future, S, B> {
        let service = self.take_ready_service();
        let future = fetch_then_send(self.tokens.clone(), service, request, replayer, deadline);
        ResponseFuture {
            state: State::Slow {
                future: Box::pin(future),
            },
            after_401: None,
        }
    }

    /// What this layer needs to replay `request` itself after a 401.
    #[inline(never)]
    fn replay_copy(
        &mut self,
        request: &Request<Bytes>,
        sent: BearerToken,
        deadline: Option<Instant>,
    ) -> After401<S> {
        After401::Replay(Box::new(Replay {
            tokens: self.tokens.clone(),
            service: self.take_ready_service(),
            request: request.clone(),
            sent,
            deadline,
        }))
    }
}

impl<S: Clone> AuthService<S> {
    /// The service `poll_ready` made ready, leaving a clone in its place.
    fn take_ready_service(&mut self) -> S {
        let clone = self.inner.clone();
        std::mem::replace(&mut self.inner, clone)
    }
}

fn set_bearer(request: &mut Request<Bytes>, token: &BearerToken) {
    request
        .headers_mut()
        .insert(AUTHORIZATION, token.header_value().clone());
}

/// The token of `fetch`, unless the call's `deadline` passes first: then
/// the token endpoint did not answer within the time the call had left.
async fn by_deadline(
    deadline: Option<Instant>,
    fetch: impl Future<Output = Result<BearerToken, AuthError>>,
) -> Result<BearerToken, AuthError> {
    let Some(deadline) = deadline else {
        return fetch.await;
    };
    let timeout = deadline.saturating_duration_since(Instant::now());
    tokio::time::timeout_at(deadline, fetch)
        .await
        .unwrap_or(Err(AuthError::Timeout { timeout }))
}

/// Without a fresh token: get one, send, and deal with a 401 (unless the
/// request is the retry layer's replay after one: `replayer` is `None`).
async fn fetch_then_send<S, B>(
    tokens: TokenCache,
    mut service: S,
    mut request: Request<Bytes>,
    replayer: Option<Replayer>,
    deadline: Option<Instant>,
) -> Result<Response<B>, BoxError>
where
    S: Service<Request<Bytes>, Response = Response<B>>,
    S::Error: Into<BoxError>,
{
    let token = by_deadline(deadline, tokens.bearer()).await?;
    let replay = (replayer == Some(Replayer::Auth)).then(|| request.clone());
    set_bearer(&mut request, &token);
    // `service` was made ready by `poll_ready` before `call`.
    let response = service.call(request).await.map_err(Into::into)?;
    if response.status() != StatusCode::UNAUTHORIZED || replayer.is_none() {
        return Ok(response);
    }
    match replay {
        Some(request) => {
            let replay = Replay {
                tokens,
                service,
                request,
                sent: token,
                deadline,
            };
            replay.run(response).await
        }
        None => mark_if_replaced(tokens, token, deadline, response).await,
    }
}

/// What to do with a 401 answer to the request sent with a cached token.
enum After401<S> {
    /// Mark it for the retry layer.
    Mark {
        tokens: TokenCache,
        sent: BearerToken,
        deadline: Option<Instant>,
    },
    /// Replay it from this copy. Boxed: inline, the copy of the request
    /// would make every call's future (moved several times per call) a few
    /// hundred bytes larger, replay or not.
    Replay(Box<Replay<S>>),
}

impl<S> After401<S> {
    #[cold]
    #[inline(never)]
    fn run<B>(self, refused: Response<B>) -> BoxFuture<'static, Result<Response<B>, BoxError>>
    where
        S: Service<Request<Bytes>, Response = Response<B>> + Send + 'static,
        S::Future: Send,
        S::Error: Into<BoxError>,
        B: Send + 'static,
    {
        match self {
            After401::Mark {
                tokens,
                sent,
                deadline,
            } => Box::pin(mark_if_replaced(tokens, sent, deadline, refused)),
            After401::Replay(replay) => Box::pin(replay.run(refused)),
        }
    }
}

/// Drops `sent` if it is still cached and gets the current token: `None`
/// when the provider gave the same token again (a personal access token),
/// for which the 401 stands.
async fn replacement(
    tokens: &TokenCache,
    sent: &BearerToken,
    deadline: Option<Instant>,
) -> Result<Option<BearerToken>, BoxError> {
    tokens.invalidate_if(sent);
    let current = by_deadline(deadline, tokens.bearer()).await?;
    Ok((current.header_value() != sent.header_value()).then_some(current))
}

/// A 401 refused `sent`: marks the answer for a replay by the retry layer
/// when a different token replaced it.
async fn mark_if_replaced<B>(
    tokens: TokenCache,
    sent: BearerToken,
    deadline: Option<Instant>,
    mut refused: Response<B>,
) -> Result<Response<B>, BoxError> {
    if replacement(&tokens, &sent, deadline).await?.is_some() {
        tracing::debug!("a 401 refused a token that is now replaced: marking it for a replay");
        refused.extensions_mut().insert(ReplayWithNewToken);
    }
    Ok(refused)
}

/// What a 401 needs to replay the request.
struct Replay<S> {
    tokens: TokenCache,
    service: S,
    request: Request<Bytes>,
    sent: BearerToken,
    /// The call's deadline, which ends the wait for a new token.
    deadline: Option<Instant>,
}

impl<S> Replay<S> {
    /// Sends the request again with the token that replaced the refused one.
    async fn run<B>(mut self, refused: Response<B>) -> Result<Response<B>, BoxError>
    where
        S: Service<Request<Bytes>, Response = Response<B>>,
        S::Error: Into<BoxError>,
    {
        let Some(token) = replacement(&self.tokens, &self.sent, self.deadline).await? else {
            return Ok(refused);
        };
        drop(refused);
        tracing::debug!("replaying a request refused with 401 with a new token");
        set_bearer(&mut self.request, &token);
        let service = self.service.ready().await.map_err(Into::into)?;
        service.call(self.request).await.map_err(Into::into)
    }
}

pin_project! {
    /// Response future of [`AuthService`].
    pub struct ResponseFuture<F, S, B> {
        #[pin]
        state: State<F, B>,
        // What to do with a 401 to the request sent with a cached token.
        after_401: Option<After401<S>>,
    }
}

pin_project! {
    #[project = StateProjection]
    enum State<F, B> {
        // The request went out with a fresh cached token.
        Sending { #[pin] future: F },
        // Fetching a token first, or answering a 401.
        Slow { future: BoxFuture<'static, Result<Response<B>, BoxError>> },
    }
}

impl<F, S, B, E> Future for ResponseFuture<F, S, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
    S: Service<Request<Bytes>, Response = Response<B>> + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    type Output = Result<Response<B>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProjection::Sending { future } => {
                    let response = ready!(future.poll(cx)).map_err(Into::into)?;
                    if response.status() == StatusCode::UNAUTHORIZED
                        && let Some(after_401) = this.after_401.take()
                    {
                        this.state.set(State::Slow {
                            future: after_401.run(response),
                        });
                        continue;
                    }
                    return Poll::Ready(Ok(response));
                }
                StateProjection::Slow { future } => return future.as_mut().poll(cx),
            }
        }
    }
}

impl<F, S, B> std::fmt::Debug for ResponseFuture<F, S, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
