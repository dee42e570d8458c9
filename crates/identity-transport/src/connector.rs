//! How [`HttpClient`](crate::HttpClient) opens a connection: TCP (keep-alive,
//! no delay) to the target, or to the proxy its route names (TLS to an
//! `https://` proxy) and a CONNECT tunnel through it; then TLS for
//! `https://` targets; all within the connect timeout. Every failure comes
//! out as a [`TransportError`] that says which step failed, so the retry
//! layer knows the request was not sent.
//!
//! ```text
//! Connector (timeout, error kinds)
//!   -> hyper-rustls HttpsConnector (TLS to the target when https://, ALPN h2 / http/1.1)
//!     -> Transport: the route of the target (proxy::Routes)
//!          direct: TcpConnector
//!          proxy:  hyper-util's Tunnel over ProxyLeg (TcpConnector, TLS when https://)
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
use crate::proxy::{Endpoint, Route, Routes};

/// A stream to the target: TCP, or a tunnel through a proxy reached over
/// TCP or TLS.
pub(crate) type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;

/// A connection as the pooled client receives it.
pub(crate) type Connection = MaybeHttpsStream<Stream>;

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

/// The connection to a proxy: TCP, then TLS when the proxy is `https://`
/// (HTTP/1.1 only: the CONNECT request is HTTP/1.1). Failures are
/// [`TransportError`]s that name the proxy.
#[derive(Clone, Debug)]
pub(crate) struct ProxyLeg {
    https: HttpsConnector<TcpConnector>,
}

impl ProxyLeg {
    pub(crate) fn new(tcp: TcpConnector, tls: rustls::ClientConfig) -> Self {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Self { https }
    }
}

impl Service<Uri> for ProxyLeg {
    type Response = Stream;
    type Error = TransportError;
    type Future = BoxFuture<'static, Result<Stream, TransportError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.https
            .poll_ready(cx)
            .map_err(|error| proxy_tls_failure(error, None))
    }

    fn call(&mut self, proxy: Uri) -> Self::Future {
        let connecting = self.https.call(proxy.clone());
        Box::pin(async move {
            connecting
                .await
                .map_err(|error| proxy_tls_failure(error, Some(&proxy)))
        })
    }
}

/// A failure of the connection to a proxy: ours from TCP, or of TLS.
fn proxy_tls_failure(error: BoxError, proxy: Option<&Uri>) -> TransportError {
    let error = match error.downcast::<TransportError>() {
        Ok(ours) => return *ours,
        Err(error) => error,
    };
    let proxy = proxy.map_or_else(|| "the proxy".to_owned(), host_port);
    TransportError::new(
        TransportErrorKind::Tls,
        format!("the TLS handshake with the proxy {proxy} failed (is its certificate trusted?)"),
    )
    .with_source(error)
}

/// Opens the stream of a target's route: TCP to it, or a CONNECT tunnel
/// through its proxy.
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    routes: Arc<Routes>,
    tcp: TcpConnector,
    proxy_leg: ProxyLeg,
}

impl Transport {
    pub(crate) fn new(routes: Arc<Routes>, tcp: TcpConnector, proxy_leg: ProxyLeg) -> Self {
        Self {
            routes,
            tcp,
            proxy_leg,
        }
    }
}

impl Service<Uri> for Transport {
    type Response = Stream;
    type Error = TransportError;
    type Future = BoxFuture<'static, Result<Stream, TransportError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // A proxy's tunnel is made ready in `call`, where it is made.
        self.tcp.poll_ready(cx)
    }

    fn call(&mut self, target: Uri) -> Self::Future {
        match self.routes.route(&target) {
            Route::Direct => {
                let connecting = self.tcp.call(target);
                Box::pin(async move { connecting.await.map(MaybeHttpsStream::Http) })
            }
            Route::Proxy(proxy) => {
                let mut tunnel = Tunnel::new(proxy.uri.clone(), self.proxy_leg.clone());
                if let Some(authorization) = proxy.authorization.clone() {
                    tunnel = tunnel.with_auth(authorization);
                }
                Box::pin(async move {
                    let tunnelling = async {
                        tunnel.ready().await?;
                        tunnel.call(target.clone()).await
                    };
                    tunnelling
                        .await
                        .map_err(|error| tunnel_failure(error, &target, &proxy))
                })
            }
        }
    }
}

/// A failed tunnel: the connection to the proxy failed (a
/// [`TransportError`] inside), or the proxy refused or failed the CONNECT.
fn tunnel_failure<E>(error: E, target: &Uri, proxy: &Endpoint) -> TransportError
where
    E: std::error::Error + Send + Sync + 'static,
{
    if let Some(leg) = TransportError::find(&error) {
        let kind = leg.kind();
        let message = if leg.kind() == TransportErrorKind::Tls {
            leg.to_string()
        } else {
            format!("{leg} (the HTTP proxy)")
        };
        return TransportError::new(kind, message).with_source(error);
    }
    TransportError::new(
        TransportErrorKind::Proxy,
        format!(
            "the HTTP proxy {} did not open a tunnel to {} (wrong or missing proxy credentials, or a host the proxy refuses)",
            proxy.host_port(),
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
