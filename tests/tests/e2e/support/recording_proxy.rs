//! A TCP relay that records the bytes going both ways: the client talks to
//! it as if it were the service, so a test learns exactly which tokens and
//! temporary passwords went over the wire (the emulator's are random and
//! its request log masks them) and can then look for them elsewhere.

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
