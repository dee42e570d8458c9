//! Servers for the socket tests: a plain HTTP server, a TLS one with a root
//! CA of its own, a recording CONNECT proxy (over TCP or TLS) and a raw TCP
//! server that answers fixed bytes. All on loopback.
//! And a `tracing` dispatcher a test can set as its thread's default while
//! the other tests of this binary run beside it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
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
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Option<String> {
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

/// A CONNECT request as received: its target (`host:port`) and its
/// `Proxy-Authorization`.
type Connect = (String, Option<String>);

/// A CONNECT proxy on loopback that records what it was asked.
pub(crate) struct ConnectProxy {
    pub(crate) addr: SocketAddr,
    /// Tunnels opened.
    tunnels: Arc<AtomicUsize>,
    /// Each CONNECT's target (`host:port`) and `Proxy-Authorization`.
    connects: Arc<Mutex<Vec<Connect>>>,
}

impl ConnectProxy {
    /// Tunnels opened.
    pub(crate) fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }

    /// The targets of the CONNECT requests received, refused ones included.
    pub(crate) fn targets(&self) -> Vec<String> {
        self.connects
            .lock()
            .unwrap()
            .iter()
            .map(|(target, _)| target.clone())
            .collect()
    }

    /// The `Proxy-Authorization` of each CONNECT request received.
    pub(crate) fn authorizations(&self) -> Vec<Option<String>> {
        self.connects
            .lock()
            .unwrap()
            .iter()
            .map(|(_, authorization)| authorization.clone())
            .collect()
    }
}

/// How a test proxy behaves.
#[derive(Clone, Default)]
pub(crate) struct ProxyOptions {
    /// The `Proxy-Authorization` it requires, if any (else 407).
    pub(crate) expected: Option<String>,
    /// Where it connects every tunnel, whatever its target: names such as
    /// `api.example.test` then reach a loopback server, and nothing is
    /// resolved or reached outside the machine.
    pub(crate) upstream: Option<SocketAddr>,
    /// Spoken over TLS with this configuration (an `https://` proxy).
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
}

/// Starts a CONNECT proxy of `options`.
pub(crate) async fn start_proxy(options: ProxyOptions) -> ConnectProxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let connects = Arc::new(Mutex::new(Vec::new()));
    let proxy = ConnectProxy {
        addr,
        tunnels: Arc::clone(&tunnels),
        connects: Arc::clone(&connects),
    };
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let options = options.clone();
            let tunnels = Arc::clone(&tunnels);
            let connects = Arc::clone(&connects);
            tokio::spawn(async move {
                match &options.tls {
                    None => serve_connect(client, &options, &tunnels, &connects).await,
                    Some(tls) => {
                        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(tls));
                        if let Ok(client) = acceptor.accept(client).await {
                            serve_connect(client, &options, &tunnels, &connects).await;
                        }
                    }
                }
            });
        }
    });
    proxy
}

/// Serves one CONNECT request on `client`, then relays the tunnel.
async fn serve_connect<S>(
    mut client: S,
    options: &ProxyOptions,
    tunnels: &AtomicUsize,
    connects: &Mutex<Vec<Connect>>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
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
    connects
        .lock()
        .unwrap()
        .push((target.clone(), authorization.clone()));
    if options.expected.is_some() && authorization != options.expected {
        let _ = client
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
            .await;
        return;
    }
    let upstream = match options.upstream {
        Some(upstream) => TcpStream::connect(upstream).await,
        None => TcpStream::connect(&target).await,
    };
    let Ok(mut upstream) = upstream else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
        return;
    };
    tunnels.fetch_add(1, Ordering::SeqCst);
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_ok()
    {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }
}

/// A root CA of a test's own and a server certificate it signed.
pub(crate) struct TestPki {
    /// The root's certificate, PEM.
    pub(crate) root_pem: String,
    /// A TLS server configuration with the signed certificate (and the
    /// root, as servers send their chain).
    pub(crate) server: Arc<rustls::ServerConfig>,
}

impl TestPki {
    /// A root, and a certificate for `names` offering `alpn`.
    pub(crate) fn new(names: &[&str], alpn: &[&[u8]]) -> Self {
        let mut root = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        root.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        root.distinguished_name
            .push(rcgen::DnType::CommonName, "Identity SDK test root");
        root.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let root =
            rcgen::CertifiedIssuer::self_signed(root, rcgen::KeyPair::generate().unwrap()).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let leaf = rcgen::CertificateParams::new(names)
            .unwrap()
            .signed_by(&leaf_key, &root)
            .unwrap();
        let chain = vec![leaf.der().clone(), root.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        server.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Self {
            root_pem: root.pem(),
            server: Arc::new(server),
        }
    }

    /// The root in a PEM file, for `extra_root_certificate_file`.
    pub(crate) fn root_file(&self) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, self.root_pem.as_bytes()).unwrap();
        file
    }
}

/// A TLS server of `pki` answering `serve_hello`.
pub(crate) async fn tls_hello_server(pki: &TestPki) -> SocketAddr {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&pki.server));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    serve_hello(tls).await;
                }
            });
        }
    });
    addr
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
