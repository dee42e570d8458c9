//! The accept loop: a tokio listener, one hyper-util "auto" connection
//! (HTTP/1.1, or HTTP/2 cleartext with prior knowledge) per accepted socket,
//! each serving a [`ConnectionService`], all watched for graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::guard::RequestGuard;
use crate::service::ConnectionService;
use crate::shared::AppState;

/// How long shutdown waits for requests in flight before giving up on them.
const GRACEFUL_SHUTDOWN_LIMIT: Duration = Duration::from_secs(5);

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
    let guard = Arc::new(guard);
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%error, "cannot set TCP_NODELAY");
                    }
                    let service = ConnectionService::new(shared.clone(), router.clone(), guard.clone());
                    let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(error) = connection.await {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                    });
                }
                Err(error) => {
                    // Out of file descriptors and the like: back off a little.
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
