//! [`AuthLayer`]: puts the bearer token of a [`TokenCache`] on each request;
//! after a 401, drops the token it sent (unless another call already has),
//! gets the current one and, when that is a different token, sends the
//! request again once.
//!
//! The layer does the replay itself, from a copy of the request it keeps
//! (the head; the `Bytes` body is shared), so it needs no other layer: a
//! 401 is answered the same in any stack. With a provider that cannot give
//! another token (a personal access token) a 401 is final, and no copy is
//! kept. Under a retry layer it sits
//! inside it, so that every attempt gets the current token:
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
//! A 401 it hands back carries a
//! [`CredentialSent`](identity_call::CredentialSent) in its extensions,
//! naming the credential whose token was refused (a personal access token,
//! a token file, the password grant's user), never the token: the call's
//! error says it.
//!
//! A token never goes over plain `http://` to a host that is not this
//! machine, unless [`AuthLayer::allow_insecure_http`] says so: such a call
//! fails with [`AuthError::InsecureTarget`] before anything is sent, so a
//! stack composed by hand is as safe as the facade's.
//!
//! A wait for a token ends at the call's [`Deadline`] when the request
//! carries one (a total-timeout layer above sets it), with
//! [`AuthError::Timeout`] (or the provider's own timeout error, see
//! [`TokenProvider::timed_out`](crate::TokenProvider::timed_out)): the call
//! then provably sent nothing, which a timeout of the whole call could not
//! tell.

use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::AUTHORIZATION;
use http::{Request, Response, StatusCode};
use identity_call::Deadline;
use tower::{BoxError, ServiceExt};
use tower_layer::Layer;
use tower_service::Service;

use crate::{AuthError, BearerToken, TokenCache};

/// Layer that authenticates requests with the tokens of a [`TokenCache`],
/// and replays a request refused with 401 once, with a new token.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    tokens: TokenCache,
    allow_insecure_http: bool,
}

impl AuthLayer {
    /// Authenticates with the tokens of `tokens`.
    pub fn new(tokens: TokenCache) -> Self {
        Self {
            tokens,
            allow_insecure_http: false,
        }
    }

    /// Lets tokens go over plain `http://` to hosts that are not loopback
    /// (default: refused, as the tokens would travel in clear text).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            tokens: self.tokens.clone(),
            allow_insecure_http: self.allow_insecure_http,
        }
    }
}

/// Service that sets `Authorization: Bearer <token>` on each request and,
/// after a 401 that a new token can fix, sends the request again once (see
/// [`AuthLayer`]). An `Authorization` header already on the request is
/// replaced.
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    tokens: TokenCache,
    allow_insecure_http: bool,
}

impl<S> AuthService<S> {
    /// Wraps `inner`.
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
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<B>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        if !self.allow_insecure_http
            && let Some(host) = insecure_host(request.uri())
        {
            let error = AuthError::InsecureTarget { host };
            return Box::pin(std::future::ready(Err(error.into())));
        }
        // The service `poll_ready` made ready goes with the call; a clone
        // takes its place for the next one.
        let clone = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, clone);
        Box::pin(authenticate(self.tokens.clone(), ready, request))
    }
}

/// Sends `request` with the current token; after a 401, once more with the
/// token that replaced it, if one did.
async fn authenticate<S, B>(
    tokens: TokenCache,
    mut service: S,
    request: Request<Bytes>,
) -> Result<Response<B>, BoxError>
where
    S: Service<Request<Bytes>, Response = Response<B>>,
    S::Error: Into<BoxError>,
{
    let deadline = Deadline::of(&request);
    let sent = by_deadline(deadline, &tokens).await?;
    // A copy to replay after a 401, unless no other token can come (a
    // personal access token): then a 401 is final.
    let (mut first, replay) = if tokens.can_renew() {
        (request.clone(), Some(request))
    } else {
        (request, None)
    };
    set_bearer(&mut first, &sent);
    let response = service.call(first).await.map_err(Into::into)?;
    if response.status() != StatusCode::UNAUTHORIZED {
        return Ok(response);
    }
    tokens.invalidate_if(&sent);
    let Some(mut replay) = replay else {
        return Ok(refused(response, &tokens));
    };
    let current = by_deadline(deadline, &tokens).await?;
    if current.header_value() == sent.header_value() {
        // The provider gave the same token again (a personal access
        // token): a replay would be refused the same way.
        return Ok(refused(response, &tokens));
    }
    drop(response);
    tracing::debug!("replaying a request refused with 401 with a new token");
    set_bearer(&mut replay, &current);
    let service = service.ready().await.map_err(Into::into)?;
    let response = service.call(replay).await.map_err(Into::into)?;
    if response.status() == StatusCode::UNAUTHORIZED {
        return Ok(refused(response, &tokens));
    }
    Ok(response)
}

/// A 401 handed back, marked with the credential whose token it refused
/// ([`CredentialSent`](identity_call::CredentialSent)), for the call's error to name.
fn refused<B>(mut response: Response<B>, tokens: &TokenCache) -> Response<B> {
    tokens.credential().set_on(&mut response);
    response
}

/// A token of `tokens`, unless the call's `deadline` passes first (the
/// error then in the provider's words: a token file names its file).
async fn by_deadline(
    deadline: Option<Deadline>,
    tokens: &TokenCache,
) -> Result<BearerToken, AuthError> {
    let Some(deadline) = deadline else {
        return tokens.bearer().await;
    };
    let timeout = deadline.remaining();
    tokio::time::timeout_at(deadline.instant(), tokens.bearer())
        .await
        .unwrap_or_else(|_| Err(tokens.timed_out(timeout)))
}

/// The host of a plain-http URI whose host is not this machine.
fn insecure_host(uri: &http::Uri) -> Option<String> {
    let host = uri.host()?;
    (uri.scheme() == Some(&http::uri::Scheme::HTTP) && !identity_config::is_loopback(host))
        .then(|| host.to_owned())
}

fn set_bearer(request: &mut Request<Bytes>, token: &BearerToken) {
    request
        .headers_mut()
        .insert(AUTHORIZATION, token.header_value().clone());
}
