//! Two recording proxies on loopback.
//!
//! [`RecordingProxy`], a TCP relay that records the bytes going both ways:
//! the client talks to it as if it were the service, so a test learns
//! exactly which tokens and temporary passwords went over the wire (the
//! emulator's are random and its request log masks them) and can then look
//! for them elsewhere.
//!
//! [`ConnectProxy`], an HTTP CONNECT proxy that records each CONNECT's
//! target and `Proxy-Authorization`, and tunnels every one to one address
//! (the emulator's) whatever its target: a client configured for
//! `api.example.test` then reaches the local emulator through it, and
//! nothing is resolved or reached outside the machine.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

type Stream = Arc<Mutex<Vec<u8>>>;

/// A running relay to one address; stops when dropped.
pub struct RecordingProxy {
    addr: SocketAddr,
    /// One buffer per connection and direction, so a value split across two
    /// reads stays whole.
    traffic: Arc<Mutex<Vec<Stream>>>,
    _tasks: JoinSet<()>,
}

impl RecordingProxy {
    /// Relays every connection on a free loopback port to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let traffic = Arc::new(Mutex::new(Vec::new()));
        let recorded = traffic.clone();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let recorded = recorded.clone();
                connections.spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    let (up, down) = (Stream::default(), Stream::default());
                    recorded.lock().unwrap().extend([up.clone(), down.clone()]);
                    tokio::join!(
                        copy(client_read, server_write, up),
                        copy(server_read, client_write, down),
                    );
                });
            }
        });
        Self {
            addr,
            traffic,
            _tasks: tasks,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything relayed so far, both ways, as text (lossily), one
    /// connection's direction after the other.
    pub fn traffic(&self) -> String {
        let streams = self.traffic.lock().unwrap();
        let mut all = Vec::new();
        for stream in streams.iter() {
            all.extend_from_slice(&stream.lock().unwrap());
            all.push(b'\n');
        }
        String::from_utf8_lossy(&all).into_owned()
    }
}

/// A CONNECT request the [`ConnectProxy`] received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connect {
    /// Its target, `host:port`.
    pub target: String,
    /// Its `Proxy-Authorization` header, if any.
    pub authorization: Option<String>,
}

/// A running CONNECT proxy that tunnels to one address; stops when dropped.
pub struct ConnectProxy {
    addr: SocketAddr,
    connects: Arc<Mutex<Vec<Connect>>>,
    _tasks: JoinSet<()>,
}

impl ConnectProxy {
    /// Accepts CONNECT requests on a free loopback port and tunnels each one
    /// to `upstream`, whatever its target.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connects = Arc::new(Mutex::new(Vec::new()));
        let recorded = connects.clone();
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut tunnels = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                tunnels.spawn(tunnel(client, upstream, recorded.clone()));
            }
        });
        Self {
            addr,
            connects,
            _tasks: tasks,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://<user>:<password>@127.0.0.1:<port>`, both percent-encoded.
    pub fn url_with(&self, user: &str, password: &str) -> String {
        let encode = |text: &str| {
            percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        };
        format!("http://{}:{}@{}", encode(user), encode(password), self.addr)
    }

    /// The CONNECT requests received so far.
    pub fn connects(&self) -> Vec<Connect> {
        self.connects.lock().unwrap().clone()
    }
}

/// Serves one CONNECT request, then relays the tunnel to `upstream`.
async fn tunnel(mut client: TcpStream, upstream: SocketAddr, recorded: Arc<Mutex<Vec<Connect>>>) {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || !matches!(client.read(&mut byte).await, Ok(1)) {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.lines();
    let target = match lines.next().map(|line| line.split(' ').collect::<Vec<_>>()) {
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
    recorded.lock().unwrap().push(Connect {
        target,
        authorization,
    });
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_ok()
    {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}

/// Copies `from` to `to`, recording each piece, until either side closes.
async fn copy(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin, recorded: Stream) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        recorded.lock().unwrap().extend_from_slice(&buffer[..read]);
        if to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Every value that follows `marker` up to `end` in `text` (e.g. the tokens
/// after `"access_token":"` up to `"`).
pub fn values_after(text: &str, marker: &str, end: &[char]) -> Vec<String> {
    text.match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &text[at + marker.len()..];
            let value = &rest[..rest.find(end).unwrap_or(rest.len())];
            (!value.is_empty()).then(|| value.to_owned())
        })
        .collect()
}
