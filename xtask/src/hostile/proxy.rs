//! A CONNECT proxy on loopback that sends every tunnel to one address, as
//! a compose network's DNS sends a service's name to its container: the
//! client names a host that is not loopback by its spelling, and no lookup
//! of it is made (no hosts file, nothing leaves the machine).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The proxy, serving until dropped.
pub(crate) struct NameProxy {
    pub(crate) addr: SocketAddr,
    task: JoinHandle<()>,
}

impl NameProxy {
    /// Tunnels every CONNECT, whatever its target, to `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|error| format!("proxy: {error}"))?;
        let addr = listener
            .local_addr()
            .map_err(|error| format!("proxy: {error}"))?;
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(tunnel(client, upstream));
            }
        });
        Ok(Self { addr, task })
    }
}

impl Drop for NameProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn tunnel(mut client: TcpStream, upstream: SocketAddr) {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || !matches!(client.read(&mut byte).await, Ok(1)) {
            return;
        }
        head.push(byte[0]);
    }
    if !head.starts_with(b"CONNECT ") {
        let _ = client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            .await;
        return;
    }
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
