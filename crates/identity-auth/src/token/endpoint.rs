//! One request to the token endpoint: post the form and read the answer.
//! (The [`TokenCache`](crate::TokenCache) bounds the whole fetch with its
//! own timeout.)
//!
//! Retrying the endpoint's 429 and 5xx is the business of the HTTP service
//! the request goes through: the SDK passes `identity-transport`'s
//! `RetryLayer` over its `HttpClient`, which waits `Retry-After` and backs
//! off with jitter as for every other call. The request says it is safe to
//! replay (a second token request leaves the service as one would).

use std::time::SystemTime;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, Uri};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use identity_call::{Deadline, OperationInfo, Outcome};
use tower::ServiceExt;

use super::response::{TokenResponse, parse_error, parse_token};
use crate::redact::Secrets;
use crate::{AuthError, GrantType, SharedSource};

/// The HTTP a [`PasswordGrant`](super::PasswordGrant) posts to the token
/// endpoint with.
///
/// Implemented for every cloneable tower service from `Request<Bytes>` to
/// `Response<B>` (`B` an [`http_body::Body`]), such as
/// `identity_transport::HttpClient`: this crate does not pick the HTTP client.
pub trait TokenHttp: Send + Sync + 'static {
    /// Sends `request` and reads the whole answer, refusing a body longer
    /// than `max_body_bytes`.
    fn send(
        &self,
        request: Request<Bytes>,
        max_body_bytes: usize,
    ) -> BoxFuture<'_, Result<Response<Bytes>, AuthError>>;
}

impl<S, B> TokenHttp for S
where
    S: tower_service::Service<Request<Bytes>, Response = Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    S::Error: Into<tower::BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<tower::BoxError>,
{
    fn send(
        &self,
        request: Request<Bytes>,
        max_body_bytes: usize,
    ) -> BoxFuture<'_, Result<Response<Bytes>, AuthError>> {
        let http = self.clone();
        Box::pin(async move {
            let response = http.oneshot(request).await.map_err(unreachable)?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, max_body_bytes)
                .collect()
                .await
                .map_err(|error| {
                    if error.is::<LengthLimitError>() {
                        AuthError::BadResponse {
                            reason: format!("the answer is longer than {max_body_bytes} bytes"),
                        }
                    } else {
                        unreachable(error)
                    }
                })?
                .to_bytes();
            Ok(Response::from_parts(parts, body))
        })
    }
}

fn unreachable(error: impl Into<tower::BoxError>) -> AuthError {
    AuthError::Unreachable {
        source: SharedSource::new(error),
    }
}

/// The token endpoint and how to talk to it.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    pub(crate) url: Uri,
    pub(crate) max_response_bytes: usize,
}

/// A form to post, the HTTP Basic credentials to post it with, and the
/// secrets they carry (removed from any text of the answer that is kept).
pub(crate) struct TokenForm {
    pub(crate) grant: GrantType,
    pub(crate) body: Bytes,
    pub(crate) basic: Option<HeaderValue>,
    pub(crate) secrets: Secrets,
}

/// What the token request is, for the layers of the HTTP service: the
/// retry layer may replay it after any failure.
const TOKEN_REQUEST: OperationInfo = OperationInfo::new("Token", "{tokenUrl}", true);

impl Endpoint {
    /// Posts the form and reads the answer.
    /// The request carries `deadline`, so that the HTTP service's retries
    /// end at it, and a wait the endpoint asks that is longer ends the fetch
    /// at once as throttled, saying how long.
    pub(crate) async fn post<H: TokenHttp + ?Sized>(
        &self,
        http: &H,
        form: &TokenForm,
        deadline: Option<Deadline>,
    ) -> Result<TokenResponse, AuthError> {
        let mut request = self.request(form)?;
        if let Some(deadline) = deadline {
            deadline.set_on(&mut request);
        }
        let response = http.send(request, self.max_response_bytes).await?;
        let status = response.status();
        tracing::debug!(grant = %form.grant, status = status.as_u16(), "token endpoint answered");
        if status.is_success() {
            return parse_token(response.body(), &form.secrets);
        }
        // Throttled or failing after the HTTP service's retries (what
        // `Outcome` says is worth another try later): no OAuth2 verdict on
        // the credentials, whatever the body says.
        let outcome = Outcome::of_answer(status, response.headers(), SystemTime::now());
        if outcome.is_worth_retrying() {
            return Err(AuthError::Status {
                grant: form.grant,
                status,
                retry_after: outcome.wait(),
            });
        }
        Err(match parse_error(response.body(), &form.secrets) {
            Some((code, description)) => AuthError::Refused {
                grant: form.grant,
                status,
                code,
                description,
            },
            None => AuthError::Status {
                grant: form.grant,
                status,
                retry_after: None,
            },
        })
    }

    fn request(&self, form: &TokenForm) -> Result<Request<Bytes>, AuthError> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(form.body.clone())
            .map_err(AuthError::provider)?;
        if let Some(basic) = &form.basic {
            request.headers_mut().insert(AUTHORIZATION, basic.clone());
        }
        TOKEN_REQUEST.set_on(&mut request);
        Ok(request)
    }
}
