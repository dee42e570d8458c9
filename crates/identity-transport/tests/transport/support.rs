//! Servers for the socket tests: a plain HTTP server, a TLS one, a CONNECT
//! proxy and a raw TCP server that answers fixed bytes. All on loopback.
//! And a `tracing` dispatcher a test can set as its thread's default while
//! the other tests of this binary run beside it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Dispatch, Metadata, Subscriber, span};

/// A GET of `uri` with an empty body.
pub(crate) fn get(uri: &str) -> http::Request<Bytes> {
    http::Request::get(uri).body(Bytes::new()).unwrap()
}

/// Serves one connection with HTTP/1.1 or HTTP/2, answering every request
/// 200 `hello over HTTP/x`.
pub(crate) async fn serve_hello<I>(io: I)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(|request: http::Request<Incoming>| async move {
        let text = format!("hello over {:?}", request.version());
        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(text))))
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// A plain HTTP server answering `serve_hello`.
pub(crate) async fn hello_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_hello(stream));
        }
    });
    addr
}

/// A raw server: reads each request's head, writes `answer`, then holds
/// the connection open until the client closes it.
pub(crate) async fn raw_server(answer: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = Arc::clone(&answer);
            tokio::spawn(async move {
                if read_head(&mut stream).await.is_none() {
                    return;
                }
                let _ = stream.write_all(&answer).await;
                let mut sink = [0u8; 1024];
                while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
            });
        }
    });
    addr
}

/// Reads up to the end of an HTTP head (`\r\n\r\n`).
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// A CONNECT proxy on loopback.
pub(crate) struct ConnectProxy {
    pub(crate) addr: SocketAddr,
    /// Tunnels opened.
    pub(crate) tunnels: Arc<AtomicUsize>,
}

impl ConnectProxy {
    pub(crate) fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

/// Starts a CONNECT proxy that requires `Proxy-Authorization: <expected>`
/// when `expected` is set.
pub(crate) async fn connect_proxy(expected: Option<String>) -> ConnectProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&tunnels);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let expected = expected.clone();
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let Some(head) = read_head(&mut client).await else {
                    return;
                };
                let mut lines = head.lines();
                let target = match lines.next().map(|l| l.split(' ').collect::<Vec<_>>()) {
                    Some(parts) if parts.len() == 3 && parts[0] == "CONNECT" => parts[1].to_owned(),
                    _ => {
                        let _ = client.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
                        return;
                    }
                };
                let authorization = lines.find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("proxy-authorization")
                        .then(|| value.trim().to_owned())
                });
                if expected.is_some() && authorization != expected {
                    let _ = client
                        .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                }
                let Ok(mut upstream) = TcpStream::connect(&target).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                if client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_ok()
                {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    ConnectProxy { addr, tunnels }
}

/// A dispatcher of `subscriber`, for a test to set as the default of its
/// thread(s) with `tracing::dispatcher::set_default`, safely while other
/// tests of this binary run the same code on other threads without one.
///
/// `tracing` caches per call site, process-wide, whether it is wanted. While
/// at most one dispatcher is registered, that is decided by the default of
/// whichever thread reaches the call site first: another test's thread, with
/// no subscriber, would cache "never" and this test's subscriber would miss
/// the span. Two dispatchers that want nothing, registered once before any
/// test's own, make `tracing` ask every live dispatcher instead, so a call
/// site that this test's subscriber wants is cached as "sometimes" and each
/// thread's default decides.
pub(crate) fn scoped_dispatch<S>(subscriber: S) -> Dispatch
where
    S: Subscriber + Send + Sync + 'static,
{
    static WANT_NOTHING: OnceLock<[Dispatch; 2]> = OnceLock::new();
    WANT_NOTHING.get_or_init(|| [Dispatch::new(WantsNothing), Dispatch::new(WantsNothing)]);
    Dispatch::new(subscriber)
}

/// A subscriber that wants no span and no event, at any level.
struct WantsNothing;

impl Subscriber for WantsNothing {
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::never()
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::OFF)
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, _: &tracing::Event<'_>) {}

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}
