//! The accept loop: a tokio listener, one hyper-util "auto" connection
//! (HTTP/1.1, or HTTP/2 cleartext with prior knowledge) per accepted socket,
//! each serving a [`ConnectionService`], all watched for graceful shutdown.
//!
//! Every connection is held to the [`Limits`]: its head to
//! `max_head_bytes` (hyper answers 431 past it; HTTP/2 announces it as its
//! header list size), its waits to the head and idle timeouts, and the
//! number open to `max_connections` ([`crate::connections`]). A connection
//! past the cap, when no open one can make room, is answered 503 with
//! `Retry-After` as soon as it is accepted, before anything of it is read,
//! and closed: the service's own refusal, which a client may replay.
//! Running out of file descriptors evicts a waiting connection, so that
//! new ones (the health check's) are still accepted.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::connections::{ConnectionWatch, Connections};
use crate::guard::RequestGuard;
use crate::problems::{ApiError, RequestContext};
use crate::service::{ConnectionIds, ConnectionService};
use crate::shared::AppState;
use crate::watched_io::WatchedIo;

/// How long shutdown waits for requests in flight before giving up on them.
const GRACEFUL_SHUTDOWN_LIMIT: Duration = Duration::from_secs(5);

/// How long a refused connection is read from (and what it sent dropped)
/// after its 503, so that the kernel does not answer its unread request
/// with a reset that would destroy the 503 before the client reads it.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// How many refused connections may linger at once; past it, one is closed
/// right after its 503.
const MAX_LINGERING: usize = 64;

/// Serves `listener` until `stop` says so (or its sender is dropped), then
/// stops accepting, lets the requests in flight finish (up to
/// [`GRACEFUL_SHUTDOWN_LIMIT`]) and closes idle connections.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: AppState,
    router: Router,
    guard: RequestGuard,
    mut stop: watch::Receiver<()>,
) {
    let limits = shared.limits.clone();
    let guard = Arc::new(guard);
    let connections = Arc::new(Connections::new(limits.max_connections));
    let lingering = Arc::new(Semaphore::new(MAX_LINGERING));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        // A head longer than the read buffer is answered 431.
        .max_buf_size(limits.max_head_bytes)
        // The head and idle timeouts are the connection watch's: hyper's
        // would run from the moment a connection goes idle (see
        // `crate::connections`).
        .header_read_timeout(None);
    builder
        .http2()
        .max_header_list_size(u32::try_from(limits.max_head_bytes).unwrap_or(u32::MAX));
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%error, "cannot set TCP_NODELAY");
                    }
                    let watch = Arc::new(ConnectionWatch::new(limits.head_timeout, limits.idle_timeout));
                    let Some(place) = connections.admit(watch.clone()) else {
                        refuse(stream, &guard, limits.max_connections, &lingering);
                        continue;
                    };
                    let service = ConnectionService::new(shared.clone(), router.clone(), guard.clone(), watch.clone());
                    let io = TokioIo::new(WatchedIo::new(stream, watch));
                    let connection = builder.serve_connection(io, service).into_owned();
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                        drop(place);
                    });
                }
                Err(error) if is_out_of_descriptors(&error) && connections.evict_one() => {
                    // The evicted connection's socket closes as its task
                    // runs: give it that moment.
                    tracing::debug!(%error, "out of file descriptors: closed the longest-waiting connection");
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err(error) => {
                    // Out of file descriptors with every connection busy,
                    // and the like: back off a little.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(GRACEFUL_SHUTDOWN_LIMIT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after {GRACEFUL_SHUTDOWN_LIMIT:?}; stopping anyway"
        );
    }
}

/// Whether accepting failed for want of a file descriptor (the process's
/// or the system's).
fn is_out_of_descriptors(error: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

/// Answers a connection past the cap 503 with `Retry-After: 1`, before
/// reading anything of it, and closes it.
fn refuse(stream: TcpStream, guard: &RequestGuard, max: usize, lingering: &Arc<Semaphore>) {
    tracing::debug!(max, "every connection busy: refused a new one with 503");
    let answer = overloaded_answer(&guard.own_host(), max);
    let linger = Arc::clone(lingering).try_acquire_owned().ok();
    tokio::spawn(async move {
        let mut stream = stream;
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            stream.write_all(&answer).await?;
            stream.shutdown().await?;
            if let Some(_permit) = linger {
                let mut sink = [0_u8; 4096];
                while stream.read(&mut sink).await? > 0 {}
            }
            Ok::<(), std::io::Error>(())
        })
        .await;
    });
}

/// The bytes of a 503 problem answer (HTTP/1.1), with the service's marks:
/// `Retry-After`, a request id and a problem document.
fn overloaded_answer(host: &str, max: usize) -> Vec<u8> {
    let context = RequestContext {
        request_id: ConnectionIds::new().next_request_id(),
        host: host.to_owned(),
    };
    let body = ApiError::overloaded(max).body_bytes(&context);
    let mut answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\n\
         content-type: application/problem+json\r\n\
         retry-after: 1\r\n\
         lusid-meta-requestid: {}\r\n\
         connection: close\r\n\
         content-length: {}\r\n\r\n",
        context.request_id,
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}
