//! The request path: the tower stack every call goes through, composed in
//! the order of the design, outermost first.
//!
//! ```text
//! TraceLayer::call()     a span per call
//! SdkHeadersLayer        User-Agent, X-LUSID-SDK-Language/-Version, X-LUSID-Application, CorrelationId
//! TotalTimeoutLayer      one deadline for the whole call, backoff waits included;
//!                        every wait below ends by it, so it arms no timer itself
//! RetryLayer             classifies each outcome, waits, replays the Bytes body
//! AuthLayer              bearer token per attempt; on 401 a new token, and a mark
//!                        that has the retry layer replay the call once
//! AttemptTimeoutLayer    read timeout of one attempt, clipped to the time left
//! TraceLayer::attempt()  a span per attempt
//! HttpClient             pooled keep-alive HTTP/1.1 and HTTP/2 over rustls, proxy
//! ```
//!
//! Headers sit outside the retry so that every attempt of a call carries the
//! same `CorrelationId`; auth sits inside it so that each attempt gets a
//! valid token; the attempt timeout sits inside auth so that waiting for a
//! token is bounded by the total deadline, not by one attempt's.
//! The deadline needs no timer of its own: the retry layer never waits past
//! it, the auth layer ends a wait for a token at it, the attempt timeout is
//! clipped to it and so is every read of the body; one timer per attempt
//! instead of two (each costs a call an insertion into tokio's timer wheel
//! and a removal).
//! The stack is a concrete type ([`DefaultStack`]): no boxing per call.

use identity_auth::{AuthLayer, AuthService, TokenCache, token_provider};
use identity_config::IdentityConfig;
use identity_transport::timeout::{DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_TOTAL_TIMEOUT};
use identity_transport::{
    AttemptTimeout, AttemptTimeoutLayer, HeadersConfig, HttpClient, ProxyConfig, Retry,
    RetryConfig, RetryLayer, SdkHeaders, SdkHeadersLayer, TotalTimeout, TotalTimeoutLayer, Trace,
    TraceLayer,
};
use tower::ServiceBuilder;

use crate::Error;

/// The service an [`IdentityClient`](crate::IdentityClient) calls through.
pub type DefaultStack =
    Trace<SdkHeaders<TotalTimeout<Retry<AuthService<AttemptTimeout<Trace<HttpClient>>>>>>>;

/// Settings of the stack that the configuration keys do not cover.
#[derive(Clone, Debug, Default)]
pub(crate) struct StackSettings {
    pub(crate) transient_retries: Option<u32>,
    pub(crate) max_response_bytes: Option<usize>,
}

/// Builds the stack of a resolved configuration.
pub(crate) fn build(
    config: &IdentityConfig,
    settings: &StackSettings,
) -> Result<DefaultStack, Error> {
    let http = http_client(config, settings)?;
    let tokens = TokenCache::new(token_provider(config.credentials(), http.clone()));

    let mut retry = RetryConfig::default();
    if let Some(retries) = config.rate_limit_retries() {
        retry = retry.rate_limit_retries(retries);
    }
    if let Some(retries) = settings.transient_retries {
        retry = retry.transient_retries(retries);
    }
    let headers = SdkHeadersLayer::new(HeadersConfig {
        application_name: config.application_name().map(str::to_owned),
        correlation_id: config.correlation_id().map(str::to_owned),
    })?;

    Ok(ServiceBuilder::new()
        .layer(TraceLayer::call())
        .layer(headers)
        .layer(
            TotalTimeoutLayer::new(config.total_timeout().unwrap_or(DEFAULT_TOTAL_TIMEOUT))
                .clipped_below(),
        )
        .layer(RetryLayer::new(retry))
        // The retry layer replays a 401 from the copy it keeps anyway.
        .layer(AuthLayer::new(tokens).replay_through_retry())
        .layer(AttemptTimeoutLayer::new(
            config.read_timeout().unwrap_or(DEFAULT_ATTEMPT_TIMEOUT),
        ))
        .layer(TraceLayer::attempt())
        .service(http))
}

/// The HTTP client: connect timeout, extra CA, proxy, body limit.
fn http_client(config: &IdentityConfig, settings: &StackSettings) -> Result<HttpClient, Error> {
    let mut http = HttpClient::builder();
    if let Some(timeout) = config.connect_timeout() {
        http = http.connect_timeout(timeout);
    }
    if let Some(file) = config.client_certificate() {
        http = http.extra_root_certificate_file(file);
    }
    if let Some(limit) = settings.max_response_bytes {
        http = http.max_response_bytes(u64::try_from(limit).unwrap_or(u64::MAX));
    }
    if let Some(proxy) = config.proxy() {
        let mut proxy_config = ProxyConfig::new(proxy.address().clone());
        if let (Some(username), Some(password)) = (proxy.username(), proxy.password()) {
            proxy_config = proxy_config.credentials(username, password.clone());
        }
        http = http.proxy(proxy_config);
    }
    Ok(http.build()?)
}
