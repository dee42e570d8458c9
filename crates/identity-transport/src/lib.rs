//! HTTP for the FINBOURNE Identity SDK: hyper-util's pooled client over
//! rustls, and the tower layers every call goes through.
//!
//! The facade crate stacks them in this order, outermost first:
//!
//! ```text
//! TraceLayer::call()      span per call                         (trace)
//! SdkHeadersLayer         User-Agent, X-LUSID-SDK-*, CorrelationId  (headers)
//! TotalTimeoutLayer       one Deadline for the whole call       (timeout)
//! RetryLayer              classify, wait, replay the Bytes body (retry)
//!   [AuthLayer]           bearer token per attempt; after a 401 (identity-auth)
//!                         a new token and one replay
//! AttemptTimeoutLayer     read timeout of one attempt           (timeout)
//! TraceLayer::attempt()   span per attempt                      (trace)
//! HttpClient              pooled HTTP/1.1 + HTTP/2, rustls, proxy (client)
//! ```
//!
//! Every layer is a `Layer` and its `Service` side by side in one module,
//! and keeps its promise alone, in any order and over any service: the
//! total timeout arms its own timer, the retry layer honours `Retry-After`
//! by itself, the headers layer only sets headers. Errors of other layers
//! pass through unchanged (as `tower::BoxError`), and
//! [`TransportError::from_box`] finds this crate's again. Request bodies
//! are [`Bytes`](bytes::Bytes), so an attempt can be replayed. The layers
//! read the call's [`identity_call::RequestOptions`] and
//! [`identity_call::OperationInfo`] and never write them; what a layer
//! tells the layers below is a typed extension of its own module:
//! [`Deadline`] (set by the total timeout) and [`RetryAttempt`] (set by
//! the retry layer).
//!
//! One more layer is not in the facade's stack, for programs that fan
//! calls out: [`AdaptiveConcurrencyLayer`] (concurrency) limits the calls
//! in flight to a number it finds from the answers, growing while they
//! succeed and halving on 429 and `Retry-After`.
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
//! | retries of 429 | 2, as the official SDKs | [`retry::RetryConfig`] |
//! | transient retries | 3 (idempotent calls only) | [`retry::RetryConfig`] |
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use identity_transport::{
//!     AttemptTimeoutLayer, HeadersConfig, HttpClient, RetryConfig, RetryLayer, SdkHeadersLayer,
//!     TotalTimeoutLayer, TraceLayer,
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
//!     .layer(AttemptTimeoutLayer::new(Duration::from_secs(30)))
//!     .layer(TraceLayer::attempt())
//!     .service(HttpClient::builder().connect_timeout(Duration::from_secs(5)).build()?);
//!
//! // A call: build the request (identity-users does it), send it, read the answer.
//! async fn get_user<S>(stack: S) -> Result<http::StatusCode, tower::BoxError>
//! where
//!     S: Service<http::Request<Bytes>, Response = http::Response<identity_transport::ResponseBody>, Error = tower::BoxError>,
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
pub mod concurrency;
mod connector;
mod error;
pub mod headers;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub mod metrics;
mod proxy;
pub mod retry;
pub mod timeout;
mod tls;
pub mod trace;

pub use body::{DEFAULT_MAX_RESPONSE_BYTES, ResponseBody};
pub use client::{HttpClient, HttpClientBuilder};
pub use concurrency::{
    AdaptiveConcurrency, AdaptiveConcurrencyConfig, AdaptiveConcurrencyLayer, ConcurrencySnapshot,
};
pub use error::{BuildError, TimeoutKind, TransportError, TransportErrorKind};
pub use headers::{HeadersConfig, SdkHeaders, SdkHeadersLayer};
#[cfg(feature = "metrics")]
pub use metrics::{Metrics, MetricsLayer};
pub use proxy::ProxyConfig;
pub use retry::{Retry, RetryAttempt, RetryConfig, RetryLayer};
pub use timeout::{
    AttemptTimeout, AttemptTimeoutLayer, Deadline, TimeoutFuture, TotalTimeout, TotalTimeoutLayer,
};
pub use trace::{Trace, TraceLayer};
