//! HTTP for the FINBOURNE Identity SDK: hyper-util's pooled client over
//! rustls, and the tower layers every call goes through.
//!
//! The facade crate stacks them in this order, outermost first:
//!
//! ```text
//! TraceLayer::call()      span per call                         (trace)
//! SdkHeadersLayer         User-Agent, X-LUSID-SDK-*, CorrelationId  (headers)
//! TotalTimeoutLayer       one Deadline for the whole call, its  (timeout)
//!                         waits and its answer's body
//! RetryLayer              judge, wait, replay the Bytes body    (retry)
//! ThrottleLayer           free until a 429, then every attempt  (throttle)
//!                         at the pace the service lets through
//!   [AuthLayer]           bearer token per attempt; after a 401 (identity-auth)
//!                         a new token and one replay
//! AttemptTimeoutLayer     read timeout of one attempt: its head (timeout)
//!                         and each piece of its body
//! TraceLayer::attempt()   span per attempt                      (trace)
//! HttpClient              pooled HTTP/1.1 + HTTP/2, rustls, proxies (client)
//! ```
//!
//! Every layer is a `Layer` and its `Service` side by side in one module,
//! and keeps its promise alone, in any order and over any service: the
//! total timeout arms its own timer and bounds the body it lets through, the
//! retry layer honours `Retry-After` by itself, the headers layer only sets
//! headers. Errors of other layers pass through unchanged (as
//! `tower::BoxError`), and [`TransportError::find`] finds this crate's
//! again. What an outcome means is decided once, by
//! [`identity_call::Outcome`] (with [`failure_of`] for errors), for the
//! retry layer, the throttle and the metrics alike. Request bodies are
//! [`Bytes`](bytes::Bytes), so an attempt can be replayed. The layers read
//! the call's [`identity_call::RequestOptions`] and
//! [`identity_call::OperationInfo`] and never write them; what a layer
//! tells the layers below is a typed extension: [`Deadline`] (set by the
//! total timeout) and [`RetryAttempt`] (set by the retry layer).
//!
//! The defaults, and why:
//!
//! | setting | default | where |
//! |---|---|---|
//! | total timeout | 30 min, as the official SDKs | [`timeout::DEFAULT_TOTAL_TIMEOUT`] |
//! | attempt (read) timeout | 60 s (the official SDKs have none) | [`timeout::DEFAULT_ATTEMPT_TIMEOUT`] |
//! | connect timeout | 10 s | [`client::DEFAULT_CONNECT_TIMEOUT`] |
//! | TCP keep-alive | 60 s | [`client::DEFAULT_TCP_KEEPALIVE`] |
//! | answer body limit | 64 MiB | [`DEFAULT_MAX_RESPONSE_BYTES`] |
//! | retries of 429 | none: waited out within the deadline (the official SDKs stop at 2) | [`retry::RetryConfig`] |
//! | transient retries | 3 (idempotent calls only) | [`retry::DEFAULT_TRANSIENT_RETRIES`] |
//! | throttle | on: free until a 429 | [`throttle::ThrottleConfig`] |
//! | proxy | the standard variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`); loopback always direct | [`ProxyEnv`], [`HttpClientBuilder::proxy`] |
//! | trust store | the operating system's (feature `native-roots`) | [Networks](#networks-proxies-and-trust) |
//!
//! # Networks: proxies and trust
//!
//! Each connection of [`HttpClient`] goes directly or through a proxy by
//! its target: a loopback host (`localhost`, 127.0.0.0/8, `::1`) always
//! directly; else through the proxy given with
//! [`HttpClientBuilder::proxy`] ([`ProxyConfig`]), when there is one; else
//! as the standard variables say ([`ProxyEnv`]: `HTTPS_PROXY` for
//! `https://` targets, `HTTP_PROXY` for `http://` ones, `ALL_PROXY` for
//! both, except the hosts of `NO_PROXY`), read from the process unless
//! [`HttpClientBuilder::proxy_env`] gives them or
//! [`HttpClientBuilder::system_proxy`]`(false)` turns them off. Every
//! proxied target goes through a CONNECT tunnel; the proxy is reached over
//! TCP (`http://`) or TLS (`https://`), and credentials in its URL or given
//! apart go in `Proxy-Authorization: Basic` (never in a log or error). A
//! proxy URL with another scheme is refused by
//! [`build`](HttpClientBuilder::build), naming the setting or variable.
//!
//! Servers' certificates are checked, always (there is no switch to turn
//! the checks off), with rustls and the `ring` provider, against the roots
//! the crate's features choose, and the certificates of
//! [`HttpClientBuilder::extra_root_certificate_file`]:
//!
//! | feature | roots |
//! |---|---|
//! | `native-roots` (default) | the operating system's trust store and verifier (`rustls-platform-verifier`): a corporate root installed on the machine is trusted. On Linux the store is the system's CA bundle, or the PEM file of `SSL_CERT_FILE` (and the directories of `SSL_CERT_DIR`) when set |
//! | `webpki-roots` | the Mozilla roots compiled into the binary, whatever the machine trusts; used when `native-roots` is off |
//! | neither | the extra CA file's only |
//!
//! Feature `metrics` (off by default) adds the `metrics` module: a
//! `MetricsLayer` recording each request's duration, and the retry layer's
//! counters of retries and of retries the budget refused, on the `metrics`
//! facade.
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use identity_transport::{
//!     AttemptTimeoutLayer, HeadersConfig, HttpClient, RetryConfig, RetryLayer, SdkHeadersLayer,
//!     ThrottleLayer, TotalTimeoutLayer, TraceLayer,
//! };
//! use tower::{Service, ServiceBuilder, ServiceExt};
//!
//! let stack = ServiceBuilder::new()
//!     .layer(TraceLayer::call())
//!     .layer(SdkHeadersLayer::new(HeadersConfig {
//!         application_name: Some("payroll-sync".into()),
//!         correlation_id: None,
//!     })?)
//!     .layer(TotalTimeoutLayer::new(Duration::from_secs(120)))
//!     .layer(RetryLayer::new(RetryConfig::default()))
//!     .layer(ThrottleLayer::default())
//!     .layer(AttemptTimeoutLayer::new(Duration::from_secs(30)))
//!     .layer(TraceLayer::attempt())
//!     .service(HttpClient::builder().connect_timeout(Duration::from_secs(5)).build()?);
//!
//! // A call: build the request (identity-users does it), send it, read the answer.
//! async fn get_user<S, B>(stack: S) -> Result<http::StatusCode, tower::BoxError>
//! where
//!     S: Service<http::Request<Bytes>, Response = http::Response<B>, Error = tower::BoxError>,
//! {
//!     let request = http::Request::get("https://acme.lusid.com/identity/api/users/00u1")
//!         .body(Bytes::new())?;
//!     let response = stack.oneshot(request).await?;
//!     Ok(response.status())
//! }
//! # let _ = get_user(stack.clone());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod body;
pub mod client;
mod connector;
mod error;
pub mod headers;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
mod proxy;
pub mod retry;
pub mod throttle;
pub mod timeout;
mod tls;
pub mod trace;

pub use body::{DEFAULT_MAX_RESPONSE_BYTES, ResponseBody};
pub use client::{HttpClient, HttpClientBuilder};
pub use error::{BuildError, TimeoutKind, TransportError, TransportErrorKind, failure_of};
pub use headers::{HeadersConfig, SdkHeaders, SdkHeadersLayer};
#[cfg(feature = "metrics")]
pub use metrics::{Metrics, MetricsLayer};
pub use proxy::{ProxyConfig, ProxyEnv};
pub use retry::{Retry, RetryAttempt, RetryConfig, RetryLayer};
pub use throttle::{Throttle, ThrottleConfig, ThrottleLayer, ThrottleSnapshot};
pub use timeout::{
    AttemptTimeout, AttemptTimeoutLayer, Deadline, TimeoutBody, TimeoutFuture, TotalTimeout,
    TotalTimeoutLayer,
};
pub use trace::{Trace, TraceLayer};
