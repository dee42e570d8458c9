//! [`AuthLayer`]: puts the bearer token on each request; on 401, drops the
//! token it sent (unless another call already has), gets a new one and
//! replays the request once.
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
//! The fast path, with a fresh cached token, costs a lock-free load, a clone
//! of the inner service and of the request's head (kept for the replay; the
//! `Bytes` body is shared), and no boxing; the slow paths (fetching a token,
//! replaying) are boxed futures.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::AUTHORIZATION;
use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower::{BoxError, ServiceExt};
use tower_layer::Layer;
use tower_service::Service;

use crate::{BearerToken, TokenCache};

/// Layer that authenticates requests with the tokens of a [`TokenCache`].
#[derive(Clone, Debug)]
pub struct AuthLayer {
    tokens: TokenCache,
}

impl AuthLayer {
    /// Authenticates with the tokens of `tokens`.
    pub fn new(tokens: TokenCache) -> Self {
        Self { tokens }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            tokens: self.tokens.clone(),
        }
    }
}

/// Service that sets `Authorization: Bearer <token>` on each request, and
/// replays a request refused with 401 once with a new token.
///
/// An `Authorization` header already on the request is replaced.
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    tokens: TokenCache,
}

impl<S> AuthService<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, tokens: TokenCache) -> Self {
        Self { inner, tokens }
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
        // Take the service that was made ready; leave a clone in its place.
        let clone = self.inner.clone();
        let mut service = std::mem::replace(&mut self.inner, clone);
        let tokens = self.tokens.clone();
        match tokens.fresh() {
            Some(token) => {
                let replay = request.clone();
                set_bearer(&mut request, &token);
                let future = service.call(request);
                ResponseFuture {
                    state: State::Sending { future },
                    replay: Some(Replay {
                        tokens,
                        service,
                        request: replay,
                        sent: token,
                    }),
                }
            }
            None => ResponseFuture {
                state: State::Slow {
                    future: Box::pin(fetch_then_send(tokens, service, request)),
                },
                replay: None,
            },
        }
    }
}

fn set_bearer(request: &mut Request<Bytes>, token: &BearerToken) {
    request
        .headers_mut()
        .insert(AUTHORIZATION, token.header_value().clone());
}

/// Without a fresh token: get one, send, and replay once after a 401.
async fn fetch_then_send<S, B>(
    tokens: TokenCache,
    mut service: S,
    mut request: Request<Bytes>,
) -> Result<Response<B>, BoxError>
where
    S: Service<Request<Bytes>, Response = Response<B>>,
    S::Error: Into<BoxError>,
{
    let token = tokens.bearer().await?;
    let replay = request.clone();
    set_bearer(&mut request, &token);
    // `service` was made ready by `poll_ready` before `call`.
    let response = service.call(request).await.map_err(Into::into)?;
    if response.status() != StatusCode::UNAUTHORIZED {
        return Ok(response);
    }
    Replay {
        tokens,
        service,
        request: replay,
        sent: token,
    }
    .run(response)
    .await
}

/// What a 401 needs to replay the request.
struct Replay<S> {
    tokens: TokenCache,
    service: S,
    request: Request<Bytes>,
    sent: BearerToken,
}

impl<S> Replay<S> {
    /// Drops the refused token if it is still cached, and sends the request
    /// again with a new one. When the provider gives the same token again (a
    /// personal access token), the 401 stands.
    async fn run<B>(mut self, refused: Response<B>) -> Result<Response<B>, BoxError>
    where
        S: Service<Request<Bytes>, Response = Response<B>>,
        S::Error: Into<BoxError>,
    {
        self.tokens.invalidate_if(&self.sent);
        let token = self.tokens.bearer().await?;
        if token.header_value() == self.sent.header_value() {
            return Ok(refused);
        }
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
        replay: Option<Replay<S>>,
    }
}

pin_project! {
    #[project = StateProjection]
    enum State<F, B> {
        // The request went out with a fresh cached token.
        Sending { #[pin] future: F },
        // Fetching a token first, or replaying after a 401.
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
                        && let Some(replay) = this.replay.take()
                    {
                        this.state.set(State::Slow {
                            future: Box::pin(replay.run(response)),
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
