//! Raw HTTP/1.1 on loopback sockets, the way a hostile client speaks it:
//! heads written by hand, answers read no further than their status line.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How long one answer may take before it counts as none.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// The status of the answer read from `reader`; `None` when the connection
/// closed (or reset) before one came, or none came in time.
pub(crate) async fn read_status<R: AsyncRead + Unpin>(reader: &mut R) -> Option<u16> {
    let mut head = Vec::new();
    let mut chunk = [0_u8; 1024];
    let read = tokio::time::timeout(ANSWER_TIMEOUT, async {
        while !head.windows(2).any(|pair| pair == b"\r\n") {
            match reader.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&chunk[..n]),
            }
        }
    });
    read.await.ok()?;
    let line = String::from_utf8_lossy(&head);
    line.split(' ').nth(1)?.trim().parse().ok()
}

/// `GET path` on a new connection (`Connection: close`): the status, or
/// `None` when none came.
pub(crate) async fn get(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    read_status(&mut stream).await
}

/// A request head with about `filler` bytes of headers (`X-Filler-N:
/// fff...`, 4 KiB a line, never more than `filler`), without a token.
pub(crate) fn padded_head(addr: SocketAddr, path: &str, filler: usize) -> Vec<u8> {
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n").into_bytes();
    let value = "f".repeat(4 * 1024 - 20);
    let mut written = 0;
    for n in 0.. {
        let line = format!("X-Filler-{n:04}: {value}\r\n");
        if written + line.len() > filler {
            break;
        }
        written += line.len();
        head.extend_from_slice(line.as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// Sends `head` (and `body`) on a new connection and reads the status:
/// `None` when the connection closed or reset first (the emulator may
/// answer and close before it has read everything, and the reset that
/// follows can destroy its answer).
pub(crate) async fn send(addr: SocketAddr, head: &[u8], body: &[u8]) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let (mut reader, mut writer) = stream.split();
    let write = async {
        let _ = writer.write_all(head).await;
        let _ = writer.write_all(body).await;
    };
    let (_, status) = tokio::join!(write, read_status(&mut reader));
    status
}
