//! A purpose-built HTTP/1.1 server over a raw tokio `TcpListener` that
//! answers with exactly the bytes a test chooses: truncated bodies, bodies
//! that never end, floods, garbage, silence. It reads each request (head and
//! `Content-Length` body), records it, asks the test's handler for a
//! [`Reply`], writes it and closes the connection.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    #[allow(dead_code, reason = "no test checks it, a failing one shows it")]
    pub method: String,
    pub path: String,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl SeenRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with a request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Writes these bytes, then closes.
    Bytes(Vec<u8>),
    /// Writes these bytes, then keeps the connection open and silent.
    BytesThenHang(Vec<u8>),
    /// Writes the head, then `chunk` (already framed, see [`chunked`]) every
    /// `every`, forever (until the client goes away).
    Trickle {
        head: Vec<u8>,
        chunk: Vec<u8>,
        every: Duration,
    },
    /// Writes the head, then `chunk` (raw, or framed with [`chunked`]) as
    /// fast as the client reads, forever.
    Flood { head: Vec<u8>, chunk: Vec<u8> },
    /// Never answers.
    Silence,
}

type Handler = dyn Fn(&SeenRequest, usize) -> Reply + Send + Sync;

/// A running raw server; stops (with its connections) when dropped.
pub struct RawServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    _tasks: JoinSet<()>,
}

impl RawServer {
    /// Starts a server on a free loopback port; `handler` gets each request
    /// and its number (from 0, across connections).
    pub async fn start(
        handler: impl Fn(&SeenRequest, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let mut tasks = JoinSet::new();
        let accepted = seen.clone();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                connections.spawn(serve(stream, handler.clone(), accepted.clone()));
            }
        });
        Self {
            addr,
            seen,
            _tasks: tasks,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The SDK's base URL on this server.
    pub fn base_url(&self) -> String {
        format!("{}/identity", self.root_url())
    }

    /// The requests read so far.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(mut stream: TcpStream, handler: Arc<Handler>, seen: Arc<Mutex<Vec<SeenRequest>>>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let number = {
        let mut seen = seen.lock().unwrap();
        seen.push(request.clone());
        seen.len() - 1
    };
    // Write errors mean the client went away: the point of several tests.
    match handler(&request, number) {
        Reply::Bytes(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::BytesThenHang(bytes) => {
            let _ = stream.write_all(&bytes).await;
            hold(&mut stream).await;
        }
        Reply::Trickle { head, chunk, every } => {
            if stream.write_all(&head).await.is_ok() {
                loop {
                    tokio::time::sleep(every).await;
                    if stream.write_all(&chunk).await.is_err() {
                        break;
                    }
                }
            }
        }
        Reply::Flood { head, chunk } => {
            if stream.write_all(&head).await.is_ok() {
                while stream.write_all(&chunk).await.is_ok() {}
            }
        }
        Reply::Silence => hold(&mut stream).await,
    }
}

/// Keeps the connection open until the client closes it.
async fn hold(stream: &mut TcpStream) {
    let mut sink = [0_u8; 1024];
    while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
}

/// Reads a request head and its `Content-Length` body.
async fn read_request(stream: &mut TcpStream) -> Option<SeenRequest> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = buffer.len() - head_end;
    while body < length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        body += read;
    }
    Some(SeenRequest {
        method,
        path,
        headers,
    })
}

/// One chunk of a chunked body, framed.
pub fn chunked(data: &[u8]) -> Vec<u8> {
    let mut framed = format!("{:X}\r\n", data.len()).into_bytes();
    framed.extend_from_slice(data);
    framed.extend_from_slice(b"\r\n");
    framed
}

/// A response head with these headers (and `Connection: close`).
pub fn head(status_line: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut text = format!("HTTP/1.1 {status_line}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.into_bytes()
}

/// A whole response with a `Content-Length` body.
pub fn full(status_line: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let length = body.len().to_string();
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("Content-Length", &length));
    let mut bytes = head(status_line, &all);
    bytes.extend_from_slice(body);
    bytes
}

/// The head of a chunked body.
pub fn chunked_head(status_line: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("Transfer-Encoding", "chunked"));
    head(status_line, &all)
}

/// A user as the service would send it.
pub const USER_JSON: &str = r#"{"id":"00u1","emailAddress":"ann@example.com","login":"ann@example.com","firstName":"Ann","lastName":"Lee","type":"Personal","status":"ACTIVE","external":false}"#;

/// 200 with [`USER_JSON`].
pub fn ok_user() -> Reply {
    Reply::Bytes(full(
        "200 OK",
        &[("Content-Type", "application/json")],
        USER_JSON.as_bytes(),
    ))
}
