//! One request to the token endpoint: post the form, retry 429 and 5xx with
//! backoff, give up at the deadline, and read the answer.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use identity_options::OperationInfo;
use tokio::time::Instant;
use tower::ServiceExt;

use super::response::{TokenResponse, parse_error, parse_token};
use super::retry_after::retry_after;
use crate::{AuthError, GrantType};

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
        source: Arc::from(error.into()),
    }
}

/// The token endpoint and how to talk to it.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    pub(crate) url: Uri,
    pub(crate) max_retries: u32,
    pub(crate) timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) first_backoff: Duration,
    pub(crate) max_backoff: Duration,
}

/// A form to post, and the HTTP Basic credentials to post it with.
pub(crate) struct TokenForm {
    pub(crate) grant: GrantType,
    pub(crate) body: Bytes,
    pub(crate) basic: Option<HeaderValue>,
}

impl Endpoint {
    /// Posts the form until it gets an answer that is not 429 or 5xx, the
    /// retries run out, or the deadline passes.
    pub(crate) async fn post<H: TokenHttp + ?Sized>(
        &self,
        http: &H,
        form: &TokenForm,
        deadline: Instant,
    ) -> Result<TokenResponse, AuthError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let request = self.request(form)?;
            let sent = http.send(request, self.max_response_bytes);
            let response = match tokio::time::timeout_at(deadline, sent).await {
                Ok(response) => response?,
                Err(_) => {
                    return Err(AuthError::Timeout {
                        timeout: self.timeout,
                    });
                }
            };
            let status = response.status();
            tracing::debug!(grant = %form.grant, status = status.as_u16(), attempts, "token endpoint answered");
            if status.is_success() {
                return parse_token(response.body());
            }
            let throttled = status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::SERVICE_UNAVAILABLE;
            if throttled || status.is_server_error() {
                if attempts <= self.max_retries {
                    let mut wait = self.backoff(attempts);
                    if throttled
                        && let Some(asked) = retry_after(response.headers(), SystemTime::now())
                    {
                        wait = wait.max(asked);
                    }
                    if Instant::now()
                        .checked_add(wait)
                        .is_some_and(|end| end < deadline)
                    {
                        tracing::debug!(?wait, "retrying the token request");
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                }
                return Err(AuthError::Status {
                    grant: form.grant,
                    status,
                    attempts,
                });
            }
            return Err(match parse_error(response.body()) {
                Some((code, description)) => AuthError::Refused {
                    grant: form.grant,
                    status,
                    code,
                    description,
                },
                None => AuthError::Status {
                    grant: form.grant,
                    status,
                    attempts,
                },
            });
        }
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
        OperationInfo::new("Token", "{tokenUrl}", true).set_on(&mut request);
        Ok(request)
    }

    /// Exponential backoff: the first wait, doubled after each attempt, capped.
    fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
        self.first_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let endpoint = Endpoint {
            url: Uri::from_static("https://t"),
            max_retries: 5,
            timeout: Duration::from_secs(30),
            max_response_bytes: 1024,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(3),
        };
        let waits: Vec<_> = (1..=5).map(|n| endpoint.backoff(n).as_millis()).collect();
        assert_eq!(waits, [500, 1000, 2000, 3000, 3000]);
        assert_eq!(endpoint.backoff(u32::MAX), Duration::from_secs(3));
    }
}
