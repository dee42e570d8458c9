//! The request path: the tower stack every call goes through, composed in
//! the order of the design, outermost first.
//!
//! ```text
//! TraceLayer::call()     a span per call
//! SdkHeadersLayer        User-Agent, X-LUSID-SDK-Language/-Version, X-LUSID-Application, CorrelationId
//! TotalTimeoutLayer      one deadline for the whole call: waits, attempts and the answer's body
//! RetryLayer             judges each outcome, waits, replays the Bytes body
//! ThrottleLayer          shared by every clone of the client: free until a 429, then paces
//!                        every attempt to what the service lets through
//! AuthLayer              bearer token per attempt; on 401 a new token and one replay
//! AttemptTimeoutLayer    read timeout of one attempt: its answer's head and each piece of its body
//! TraceLayer::attempt()  a span per attempt
//! HttpClient             pooled keep-alive HTTP/1.1 and HTTP/2 over rustls, proxy
//! ```
//!
//! Headers sit outside the retry so that every attempt of a call carries the
//! same `CorrelationId`; the throttle sits inside the retry so that it sees
//! every attempt and a retry waits for its turn, and inside the total
//! timeout so that the wait is bounded by the call's deadline; auth sits
//! inside the throttle so that each attempt gets a valid token when its turn
//! comes; the attempt timeout sits inside auth so that waiting for a token
//! is bounded by the total deadline, not by one attempt's. Each layer keeps
//! its promise alone: this order is the facade's choice, not a condition of
//! the layers.
//!
//! The token endpoint's requests go through a retry layer of their own over
//! the same [`HttpClient`], so that its 429 and 5xx are retried by the same
//! rules as every call.
//!
//! [`DefaultStack`] is the composed service. The layers and their order are
//! not part of its type: they may change without breaking anyone.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use identity_auth::{AuthLayer, AuthService, TokenCache, token_provider};
use identity_config::IdentityConfig;
use identity_transport::{
    AttemptTimeout, AttemptTimeoutLayer, HeadersConfig, HttpClient, ProxyConfig, ProxyEnv,
    ResponseBody, Retry, RetryConfig, RetryLayer, SdkHeaders, SdkHeadersLayer, Throttle,
    ThrottleConfig, ThrottleLayer, ThrottleSnapshot, TimeoutBody, TotalTimeout, TotalTimeoutLayer,
    Trace, TraceLayer,
};
use pin_project_lite::pin_project;
use tower::{BoxError, Layer, Service, ServiceBuilder};

use crate::Error;

/// The layers of [`DefaultStack`], innermost last.
type Layers =
    Trace<SdkHeaders<TotalTimeout<Retry<Throttle<AuthService<AttemptTimeout<Trace<Http>>>>>>>>;

/// The body the layers hand back: each timeout layer's bound around the
/// client's size limit.
type LayersBody = TimeoutBody<TimeoutBody<ResponseBody>>;

/// The HTTP client, under the metrics layer when the `metrics` feature is on.
#[cfg(not(feature = "metrics"))]
type Http = HttpClient;
#[cfg(feature = "metrics")]
type Http = identity_transport::Metrics<HttpClient>;

/// The service an [`IdentityClient`](crate::IdentityClient) calls through:
/// the whole request path of the [module docs](self), as one
/// `Service<http::Request<Bytes>>`.
///
/// Cheap to clone: clones share the connection pool, the token cache, the
/// retry budget and the throttle.
#[derive(Clone, Debug)]
pub struct DefaultStack {
    layers: Layers,
    throttle: ThrottleLayer,
}

impl DefaultStack {
    /// The throttle's pace now, and counts of what it has seen (see
    /// [`identity_transport::throttle`]).
    pub fn throttle(&self) -> ThrottleSnapshot {
        self.throttle.snapshot()
    }
}

impl Service<http::Request<Bytes>> for DefaultStack {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.layers.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Bytes>) -> ResponseFuture {
        ResponseFuture {
            inner: self.layers.call(request),
        }
    }
}

pin_project! {
    /// The future of [`DefaultStack`]: the answer's head, or why there is none.
    pub struct ResponseFuture {
        #[pin]
        inner: <Layers as Service<http::Request<Bytes>>>::Future,
    }
}

impl Future for ResponseFuture {
    type Output = Result<http::Response<Body>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll(cx)
            .map_ok(|response| response.map(|inner| Body { inner }))
    }
}

pin_project! {
    /// The body of an answer through [`DefaultStack`]: an
    /// `http_body::Body<Data = Bytes, Error = BoxError>`, bounded in size by
    /// the client's limit and in time by the total and attempt timeouts.
    pub struct Body {
        #[pin]
        inner: LayersBody,
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

/// Settings of the stack that the configuration keys do not cover.
#[derive(Clone, Debug, Default)]
pub(crate) struct StackSettings {
    pub(crate) proxies: ProxySource,
    /// The throttle's settings, when not the defaults.
    pub(crate) throttle: Option<ThrottleConfig>,
}

/// Where the HTTP client reads the standard proxy variables.
#[derive(Clone, Debug, Default)]
pub(crate) enum ProxySource {
    /// The process environment.
    #[default]
    Process,
    /// These, given in code.
    Given(ProxyEnv),
    /// Nowhere: no proxy but a configured one.
    Off,
}

/// Builds the stack of a resolved configuration.
pub(crate) fn build(
    config: &IdentityConfig,
    settings: &StackSettings,
) -> Result<DefaultStack, Error> {
    let http = http_client(config, settings)?;

    let retry = RetryConfig::default()
        .rate_limit_retries(config.rate_limit_retries())
        .transient_retries(config.transient_retries());
    let token_http = RetryLayer::new(retry.clone()).layer(http.clone());
    let tokens = TokenCache::new(token_provider(config.credentials(), token_http));
    let throttle = ThrottleLayer::new(settings.throttle.clone().unwrap_or_default());
    let headers = SdkHeadersLayer::new(HeadersConfig {
        application_name: config.application_name().map(str::to_owned),
        correlation_id: config.correlation_id().map(str::to_owned),
    })?;

    #[cfg(feature = "metrics")]
    let http = identity_transport::MetricsLayer::new().layer(http);
    let layers = ServiceBuilder::new()
        .layer(TraceLayer::call())
        .layer(headers)
        .layer(TotalTimeoutLayer::new(config.total_timeout()))
        .layer(RetryLayer::new(retry))
        .layer(throttle.clone())
        .layer(AuthLayer::new(tokens).allow_insecure_http(config.allow_insecure_http()))
        .layer(AttemptTimeoutLayer::new(config.read_timeout()))
        .layer(TraceLayer::attempt())
        .service(http);
    Ok(DefaultStack { layers, throttle })
}

/// The HTTP client: connect timeout, extra CA, proxy (the configured one,
/// else the standard variables of `settings.proxies`), body limit.
fn http_client(config: &IdentityConfig, settings: &StackSettings) -> Result<HttpClient, Error> {
    let mut http = HttpClient::builder()
        .connect_timeout(config.connect_timeout())
        .max_response_bytes(config.max_response_bytes());
    if let Some(file) = config.client_certificate() {
        http = http.extra_root_certificate_file(file);
    }
    http = match &settings.proxies {
        ProxySource::Process => http,
        ProxySource::Given(env) => http.proxy_env(env.clone()),
        ProxySource::Off => http.system_proxy(false),
    };
    if let Some(proxy) = config.proxy() {
        let mut proxy_config = ProxyConfig::new(proxy.address().clone())
            .setting_name("proxy address (FBN_PROXY_ADDRESS, or proxy.address in secrets.json)");
        proxy_config.username = proxy.username().map(str::to_owned);
        proxy_config.password = proxy.password().cloned();
        http = http.proxy(proxy_config);
    }
    Ok(http.build()?)
}

#[cfg(test)]
mod tests {
    use identity_config::defaults;
    use identity_transport::{DEFAULT_MAX_RESPONSE_BYTES, client, retry, timeout};

    /// The configuration's defaults (the values in force of the facade's
    /// client) and the transport's own (of its layers used alone) are one.
    #[test]
    fn the_defaults_of_the_configuration_are_the_transports() {
        assert_eq!(defaults::TOTAL_TIMEOUT, timeout::DEFAULT_TOTAL_TIMEOUT);
        assert_eq!(defaults::READ_TIMEOUT, timeout::DEFAULT_ATTEMPT_TIMEOUT);
        assert_eq!(defaults::CONNECT_TIMEOUT, client::DEFAULT_CONNECT_TIMEOUT);
        assert_eq!(
            defaults::TRANSIENT_RETRIES,
            retry::DEFAULT_TRANSIENT_RETRIES
        );
        assert_eq!(defaults::MAX_RESPONSE_BYTES, DEFAULT_MAX_RESPONSE_BYTES);
    }
}
