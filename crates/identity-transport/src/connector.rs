//! How [`HttpClient`](crate::HttpClient) opens a connection: TCP (keep-alive,
//! no delay), then a CONNECT tunnel when a proxy is set, then TLS for
//! `https://` targets, all within the connect timeout. Every failure comes
//! out as a [`TransportError`] that says which step failed, so the retry
//! layer knows the request was not sent.
//!
//! ```text
//! Connector (timeout, error kinds)
//!   -> hyper-rustls HttpsConnector (TLS when https://, ALPN h2 / http/1.1)
//!     -> Transport: TcpConnector directly, or hyper-util's Tunnel over it
//! ```

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use http::Uri;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower::{BoxError, ServiceExt};
use tower_service::Service;

use crate::error::{TimeoutKind, TransportError, TransportErrorKind, causes};

/// A connection as the pooled client receives it.
pub(crate) type Connection = MaybeHttpsStream<TokioIo<TcpStream>>;

/// TCP connections through hyper-util's resolver and connector, with its
/// failures as [`TransportError`]s.
#[derive(Clone, Debug)]
pub(crate) struct TcpConnector {
    http: HttpConnector,
}

impl TcpConnector {
    pub(crate) fn new(tcp_keepalive: Option<Duration>, connect_timeout: Option<Duration>) -> Self {
        let mut http = HttpConnector::new();
        // https:// targets reach this connector too: TLS is added above it.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(tcp_keepalive);
        // Bounds each address tried; `Connector` bounds the whole connect.
        http.set_connect_timeout(connect_timeout);
        Self { http }
    }
}

impl Service<Uri> for TcpConnector {
    type Response = TokioIo<TcpStream>;
    type Error = TransportError;
    type Future = BoxFuture<'static, Result<Self::Response, TransportError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(|error| {
            TransportError::new(TransportErrorKind::Connect, "cannot open connections")
                .with_source(error)
        })
    }

    fn call(&mut self, target: Uri) -> Self::Future {
        let connecting = self.http.call(target.clone());
        Box::pin(async move {
            connecting.await.map_err(|error| {
                let timed_out = causes(&error)
                    .filter_map(|e| e.downcast_ref::<std::io::Error>())
                    .any(|io| io.kind() == std::io::ErrorKind::TimedOut);
                let (kind, what) = if timed_out {
                    (
                        TransportErrorKind::Timeout(TimeoutKind::Connect),
                        "timed out connecting to",
                    )
                } else {
                    (TransportErrorKind::Connect, "could not connect to")
                };
                TransportError::new(kind, format!("{what} {}", host_port(&target)))
                    .with_source(error)
            })
        })
    }
}

/// TCP to the target, or through a CONNECT tunnel of an HTTP proxy.
#[derive(Clone, Debug)]
pub(crate) enum Transport {
    Direct(TcpConnector),
    Tunnel(Tunnel<TcpConnector>),
}

impl Service<Uri> for Transport {
    type Response = TokioIo<TcpStream>;
    type Error = TransportError;
    type Future = BoxFuture<'static, Result<Self::Response, TransportError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self {
            Transport::Direct(tcp) => tcp.poll_ready(cx),
            Transport::Tunnel(tunnel) => tunnel.poll_ready(cx).map_err(|error| {
                TransportError::new(TransportErrorKind::Proxy, "cannot use the proxy")
                    .with_source(error)
            }),
        }
    }

    fn call(&mut self, target: Uri) -> Self::Future {
        match self {
            Transport::Direct(tcp) => tcp.call(target),
            Transport::Tunnel(tunnel) => {
                let tunnelling = tunnel.call(target.clone());
                Box::pin(async move {
                    tunnelling
                        .await
                        .map_err(|error| tunnel_failure(error, &target))
                })
            }
        }
    }
}

/// A failed tunnel: the TCP connection to the proxy failed (a
/// [`TransportError`] inside), or the proxy refused or failed the CONNECT.
fn tunnel_failure<E>(error: E, target: &Uri) -> TransportError
where
    E: std::error::Error + Send + Sync + 'static,
{
    if let Some(tcp) = TransportError::find(&error) {
        let kind = tcp.kind();
        return TransportError::new(kind, format!("{} (the HTTP proxy)", tcp)).with_source(error);
    }
    TransportError::new(
        TransportErrorKind::Proxy,
        format!(
            "the HTTP proxy did not open a tunnel to {} (wrong or missing proxy credentials, or a host the proxy refuses)",
            host_port(target)
        ),
    )
    .with_source(error)
}

/// The whole connect (TCP, tunnel, TLS) within the connect timeout, its
/// failures as [`TransportError`]s.
///
/// hyper-util's client clones its connector for every request, in case the
/// pool has no idle connection, and drops the clone when it has one: the
/// TLS connector (several `Arc`s) is kept behind one `Arc`, cloned only when
/// a connection is really opened.
#[derive(Clone, Debug)]
pub(crate) struct Connector {
    https: Arc<HttpsConnector<Transport>>,
    timeout: Option<Duration>,
}

impl Connector {
    pub(crate) fn new(https: HttpsConnector<Transport>, timeout: Option<Duration>) -> Self {
        Self {
            https: Arc::new(https),
            timeout,
        }
    }
}

impl Service<Uri> for Connector {
    type Response = Connection;
    type Error = TransportError;
    type Future = BoxFuture<'static, Result<Connection, TransportError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The clone that connects is made ready in `call`.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, target: Uri) -> Self::Future {
        let mut https = HttpsConnector::clone(&self.https);
        let timeout = self.timeout;
        Box::pin(async move {
            let connecting = async {
                https.ready().await?;
                https.call(target.clone()).await
            };
            let connected = match timeout {
                Some(limit) => tokio::time::timeout(limit, connecting)
                    .await
                    .map_err(|_| TransportError::timeout(TimeoutKind::Connect))?,
                None => connecting.await,
            };
            connected.map_err(|error| tls_failure(error, &host_port(&target)))
        })
    }
}

/// A failure of the TLS connector: ours from below, or of TLS itself.
fn tls_failure(error: BoxError, target: &str) -> TransportError {
    let error = match error.downcast::<TransportError>() {
        Ok(ours) => return *ours,
        Err(error) => error,
    };
    let invalid_name = causes(&*error).any(|e| e.is::<rustls_pki_types::InvalidDnsNameError>());
    if invalid_name {
        return TransportError::new(
            TransportErrorKind::InvalidRequest,
            "the host name cannot be used for TLS",
        )
        .with_source(error);
    }
    TransportError::new(
        TransportErrorKind::Tls,
        format!("the TLS handshake with {target} failed (is its certificate trusted?)"),
    )
    .with_source(error)
}

/// `host:port` of a target, for messages (never its user info or path).
fn host_port(target: &Uri) -> String {
    let host = target.host().unwrap_or("?");
    let port = target.port_u16().unwrap_or(match target.scheme_str() {
        Some("https") => 443,
        _ => 80,
    });
    format!("{host}:{port}")
}
