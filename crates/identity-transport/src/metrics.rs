//! Metrics on the [`metrics`] facade (feature `metrics`): the application
//! installs the recorder and exporter of its choice (Prometheus,
//! OpenTelemetry, ...); without one, recording costs a check.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `http.client.request.duration` | histogram, seconds | `identity.operation`, `http.request.method`, `http.response.status_code` or `error.type` |
//! | `identity.client.retries` | counter | `identity.operation`, `reason` (an [`Outcome`](identity_call::Outcome)'s name: `throttled`, `unavailable`, `overloaded`, `transient`, `unknown`, `not_sent`) |
//! | `identity.client.retry_budget_exhausted` | counter | `identity.operation` |
//! | `identity.client.throttle.rate` | gauge, calls per second | none; 0 while calls are free |
//!
//! The duration is of each HTTP request, as OpenTelemetry's metric of that
//! name: [`MetricsLayer`] sits just above the HTTP client, so a call that
//! was retried records one duration per attempt. The retry layer counts the
//! rest, the throttle sets its pace; identity-auth's `metrics` feature counts
//! token fetches.
//!
//! ```
//! use identity_transport::{HttpClient, MetricsLayer};
//! use tower::ServiceBuilder;
//!
//! let client = ServiceBuilder::new()
//!     .layer(MetricsLayer::new())
//!     .service(HttpClient::new()?);
//! # let _ = client;
//! # Ok::<(), identity_transport::BuildError>(())
//! ```

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use identity_call::OperationInfo;
use pin_project_lite::pin_project;
use tokio::time::Instant;
use tower::BoxError;
use tower_layer::Layer;
use tower_service::Service;

use crate::error::error_type;

/// The name of the duration histogram.
pub const REQUEST_DURATION: &str = "http.client.request.duration";
/// The name of the retries counter.
pub const RETRIES: &str = "identity.client.retries";
/// The name of the counter of retries the budget refused.
pub const RETRY_BUDGET_EXHAUSTED: &str = "identity.client.retry_budget_exhausted";
/// The name of the throttle's pace gauge, in calls per second (0 while
/// calls are free).
pub const THROTTLE_RATE: &str = "identity.client.throttle.rate";

/// Records [`REQUEST_DURATION`] for each request (see the module docs).
#[derive(Clone, Copy, Debug, Default)]
pub struct MetricsLayer;

impl MetricsLayer {
    /// The layer.
    pub fn new() -> Self {
        Self
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Metrics { inner }
    }
}

/// The service of [`MetricsLayer`].
#[derive(Clone, Debug)]
pub struct Metrics<S> {
    inner: S,
}

impl<S, B, R> Service<http::Request<B>> for Metrics<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<R>;
    type Error = BoxError;
    type Future = MetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let operation = OperationInfo::of(&request).map_or("", |info| info.name());
        let method = request.method().clone();
        MetricsFuture {
            inner: self.inner.call(request),
            started: Instant::now(),
            operation,
            method,
        }
    }
}

pin_project! {
    /// The future of [`Metrics`].
    pub struct MetricsFuture<F> {
        #[pin]
        inner: F,
        started: Instant,
        operation: &'static str,
        method: http::Method,
    }
}

impl<F, R, E> Future for MetricsFuture<F>
where
    F: Future<Output = Result<http::Response<R>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<http::Response<R>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx)).map_err(Into::into);
        let (outcome_label, outcome) = match &result {
            Ok(response) => (
                "http.response.status_code",
                response.status().as_u16().to_string(),
            ),
            Err(error) => ("error.type", error_type(&**error).to_owned()),
        };
        metrics::histogram!(
            REQUEST_DURATION,
            "identity.operation" => *this.operation,
            "http.request.method" => this.method.as_str().to_owned(),
            outcome_label => outcome,
        )
        .record(this.started.elapsed().as_secs_f64());
        Poll::Ready(result)
    }
}

impl<F> std::fmt::Debug for MetricsFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsFuture")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}
