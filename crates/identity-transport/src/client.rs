//! [`HttpClient`]: the innermost service of the request path, hyper-util's
//! pooled legacy client over rustls.
//!
//! Connections are kept alive and reused (HTTP/1.1, or HTTP/2 when the
//! server offers it through ALPN); TCP keep-alive is on so that load
//! balancers do not drop long calls on idle connections (the official SDKs
//! turned it on after calls were dropped at 350 s); `http://` targets are
//! allowed (the emulator, a local proxy). Each connection goes directly or
//! through a proxy, by its target (see [`ProxyEnv`] and
//! [`HttpClientBuilder::proxy`]): by default the standard `HTTPS_PROXY`,
//! `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` variables apply, and a loopback
//! target is always reached directly. Servers are verified against the
//! system's trust store (or the roots the crate's features choose) and the
//! extra CA file, if any. Failures come out as [`TransportError`]s and the
//! answer's body as a [`ResponseBody`] limited by
//! [`HttpClientBuilder::max_response_bytes`], unless the request is marked
//! [`StreamedAnswer`] (a streamed list, whose reader bounds each element).
//! Time is the timeout layers' business: the client knows no deadline.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::{self, Client};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use identity_call::StreamedAnswer;
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::body::{DEFAULT_MAX_RESPONSE_BYTES, ResponseBody};
use crate::connector::{Connector, ProxyLeg, TcpConnector, Transport};
use crate::error::{BuildError, TransportError, TransportErrorKind, causes, hyper_failure};
use crate::proxy::{ProxyConfig, ProxyEnv, Routes};
use crate::tls;

/// Default time to open a connection (TCP, proxy tunnel and TLS): 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default TCP keep-alive idle time: 60 s.
pub const DEFAULT_TCP_KEEPALIVE: Duration = Duration::from_secs(60);
/// Default time an idle pooled connection is kept: 90 s.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The HTTP client at the bottom of the request path: a
/// `Service<http::Request<Bytes>, Response = http::Response<ResponseBody>,
/// Error = TransportError>`.
///
/// Cloning is cheap and the clones share the connection pool.
///
/// ```
/// use std::time::Duration;
/// use identity_transport::HttpClient;
///
/// let client = HttpClient::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .max_response_bytes(8 * 1024 * 1024)
///     .build()?;
/// # let _ = client;
/// # Ok::<(), identity_transport::BuildError>(())
/// ```
#[derive(Clone, Debug)]
pub struct HttpClient {
    /// One allocation shared by the clones: every call clones the client
    /// (each layer above keeps a copy of its inner service), and hyper's
    /// client is several hundred bytes of `Arc`s and settings.
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    client: Client<Connector, Full<Bytes>>,
    max_response_bytes: u64,
}

/// Settings of an [`HttpClient`].
#[derive(Clone, Debug)]
#[must_use]
pub struct HttpClientBuilder {
    connect_timeout: Option<Duration>,
    tcp_keepalive: Option<Duration>,
    extra_ca_file: Option<PathBuf>,
    proxy: Option<ProxyConfig>,
    system_proxy: bool,
    proxy_env: Option<ProxyEnv>,
    max_response_bytes: u64,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
}

impl Default for HttpClientBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            tcp_keepalive: Some(DEFAULT_TCP_KEEPALIVE),
            extra_ca_file: None,
            proxy: None,
            system_proxy: true,
            proxy_env: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            pool_max_idle_per_host: usize::MAX,
        }
    }
}

impl HttpClient {
    /// Settings with the defaults.
    pub fn builder() -> HttpClientBuilder {
        HttpClientBuilder::default()
    }

    /// A client with the default settings.
    pub fn new() -> Result<Self, BuildError> {
        Self::builder().build()
    }
}

impl HttpClientBuilder {
    /// Time to open a connection, proxy tunnel and TLS handshake included
    /// (default [`DEFAULT_CONNECT_TIMEOUT`]; `None`: no limit).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// Idle time before TCP keep-alive probes start (default
    /// [`DEFAULT_TCP_KEEPALIVE`]; `None`: off).
    pub fn tcp_keepalive(mut self, idle: impl Into<Option<Duration>>) -> Self {
        self.tcp_keepalive = idle.into();
        self
    }

    /// A PEM file of certificates to trust besides the system's (or the
    /// compiled-in) roots: a corporate CA. It is read by
    /// [`build`](Self::build).
    pub fn extra_root_certificate_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.extra_ca_file = Some(path.into());
        self
    }

    /// Sends every request through this proxy, with CONNECT, except those
    /// to a loopback host; the standard proxy variables are then not read.
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Whether the standard proxy variables (`HTTPS_PROXY`, `HTTP_PROXY`,
    /// `ALL_PROXY`, `NO_PROXY`; see [`ProxyEnv`]) choose a proxy when no
    /// [`proxy`](Self::proxy) is given (default true). Off, every target
    /// without an explicit proxy is reached directly, whatever the
    /// environment and [`proxy_env`](Self::proxy_env) say.
    pub fn system_proxy(mut self, enabled: bool) -> Self {
        self.system_proxy = enabled;
        self
    }

    /// The proxy variables to use instead of the process's (read by
    /// [`build`](Self::build) otherwise): for tests, which must not change
    /// the environment of a process whose other tests run beside them, and
    /// for programs that keep their settings elsewhere.
    pub fn proxy_env(mut self, env: ProxyEnv) -> Self {
        self.proxy_env = Some(env);
        self
    }

    /// Most bytes an answer's body may have (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]), unless the request is marked
    /// [`StreamedAnswer`].
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// How long an idle pooled connection is kept (default
    /// [`DEFAULT_POOL_IDLE_TIMEOUT`]; `None`: as long as the server keeps it).
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.pool_idle_timeout = timeout.into();
        self
    }

    /// Most idle connections kept per host (default: no limit).
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// Builds the client: loads the trust store and reads the CA file,
    /// reads the proxy variables (unless given or turned off) and checks
    /// the proxy settings.
    pub fn build(self) -> Result<HttpClient, BuildError> {
        let tls = tls::client_config(self.extra_ca_file.as_deref())?;
        let env = match (&self.proxy, self.system_proxy, self.proxy_env) {
            (Some(_), _, _) | (None, false, _) => None,
            (None, true, Some(given)) => Some(given),
            (None, true, None) => Some(ProxyEnv::from_process()),
        };
        let routes = Routes::new(self.proxy.as_ref(), env.as_ref())?;
        let tcp = TcpConnector::new(self.tcp_keepalive, self.connect_timeout);
        let proxy_leg = ProxyLeg::new(tcp.clone(), tls.clone());
        let transport = Transport::new(Arc::new(routes), tcp, proxy_leg);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(transport);
        let connector = Connector::new(https, self.connect_timeout);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout)
            .pool_max_idle_per_host(self.pool_max_idle_per_host)
            .build(connector);
        Ok(HttpClient {
            shared: Arc::new(Shared {
                client,
                max_response_bytes: self.max_response_bytes,
            }),
        })
    }
}

impl Service<http::Request<Bytes>> for HttpClient {
    type Response = http::Response<ResponseBody>;
    type Error = TransportError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Bytes>) -> Self::Future {
        if let Err(error) = check_target(request.uri()) {
            return ResponseFuture::failed(error);
        }
        let max_bytes = if StreamedAnswer::is_on(&request) {
            u64::MAX
        } else {
            self.shared.max_response_bytes
        };
        ResponseFuture::sending(
            self.shared.client.request(request.map(Full::new)),
            max_bytes,
        )
    }
}

/// The client sends only to absolute `http://` and `https://` URIs.
fn check_target(uri: &http::Uri) -> Result<(), TransportError> {
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if scheme_ok && uri.host().is_some_and(|host| !host.is_empty()) {
        Ok(())
    } else {
        Err(TransportError::new(
            TransportErrorKind::InvalidRequest,
            "the request's URI must be absolute, http:// or https://, with a host",
        ))
    }
}

/// A failure of hyper-util's client as a [`TransportError`].
fn client_failure(error: legacy::Error) -> TransportError {
    if let Some(ours) = TransportError::find(&error) {
        return ours.clone();
    }
    if error.is_connect() {
        return TransportError::new(
            TransportErrorKind::Connect,
            "could not connect to the service",
        )
        .with_source(error);
    }
    let hyper_error = causes(&error).find_map(|e| e.downcast_ref::<hyper::Error>());
    let (kind, message) = match hyper_error {
        Some(hyper_error) => hyper_failure(hyper_error),
        None => (TransportErrorKind::Other, "the HTTP client failed"),
    };
    TransportError::new(kind, message).with_source(error)
}

pin_project! {
    /// The future of [`HttpClient::call`].
    pub struct ResponseFuture {
        #[pin]
        state: State,
    }
}

pin_project! {
    #[project = StateProj]
    enum State {
        // Waiting for the answer's headers.
        Sending {
            #[pin]
            future: legacy::ResponseFuture,
            max_bytes: u64,
        },
        // The request was refused before sending.
        Failed { error: Option<TransportError> },
    }
}

impl ResponseFuture {
    fn sending(future: legacy::ResponseFuture, max_bytes: u64) -> Self {
        Self {
            state: State::Sending { future, max_bytes },
        }
    }

    fn failed(error: TransportError) -> Self {
        Self {
            state: State::Failed { error: Some(error) },
        }
    }
}

impl std::fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl Future for ResponseFuture {
    type Output = Result<http::Response<ResponseBody>, TransportError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Sending { future, max_bytes } => future.poll(cx).map(|result| {
                result
                    .map(|response| {
                        response.map(|incoming| ResponseBody::new(incoming, *max_bytes))
                    })
                    .map_err(client_failure)
            }),
            StateProj::Failed { error } => Poll::Ready(Err(error.take().unwrap_or_else(|| {
                TransportError::new(
                    TransportErrorKind::Other,
                    "the future was polled after it completed",
                )
            }))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn relative_and_foreign_uris_are_invalid_requests() {
        let mut client = HttpClient::new().unwrap();
        for uri in ["/api/users", "ftp://example.com/x"] {
            let request = http::Request::builder()
                .uri(uri)
                .body(Bytes::new())
                .unwrap();
            let error = client.call(request).await.unwrap_err();
            assert_eq!(error.kind(), TransportErrorKind::InvalidRequest, "{uri}");
            assert!(!error.may_have_been_sent());
        }
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_connect_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let mut client = HttpClient::new().unwrap();
        let request = http::Request::builder()
            .uri(format!("http://{addr}/api/users"))
            .body(Bytes::new())
            .unwrap();
        let error = client.call(request).await.unwrap_err();
        assert_eq!(error.kind(), TransportErrorKind::Connect);
        assert!(!error.may_have_been_sent());
        assert!(error.is_retryable());
        assert!(error.to_string().contains(&addr.to_string()), "{error}");
    }
}
