//! The futures the layers' services return.
//!
//! Every layer's error is `tower::BoxError`: [`BoxErrorFuture`] is the one
//! mechanism that turns an inner service's error into it, or fails a call
//! before it starts (a header value that cannot be sent).

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tower::BoxError;

pub use crate::client::ResponseFuture;
pub use crate::retry::RetryFuture;
pub use crate::timeout::TimeoutFuture;
pub use crate::trace::TraceFuture;

pin_project! {
    /// The inner service's future with its error boxed, or an error before
    /// any call.
    pub struct BoxErrorFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Called { #[pin] future: F },
        Failed { error: Option<BoxError> },
    }
}

impl<F> BoxErrorFuture<F> {
    pub(crate) fn called(future: F) -> Self {
        Self {
            state: State::Called { future },
        }
    }

    pub(crate) fn failed(error: impl Into<BoxError>) -> Self {
        Self {
            state: State::Failed {
                error: Some(error.into()),
            },
        }
    }
}

impl<F, T, E> Future for BoxErrorFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called { future } => {
                Poll::Ready(ready!(future.poll(cx)).map_err(Into::into))
            }
            StateProj::Failed { error } => Poll::Ready(Err(error
                .take()
                .unwrap_or_else(|| "the future was polled after it completed".into()))),
        }
    }
}

impl<F> std::fmt::Debug for BoxErrorFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoxErrorFuture").finish_non_exhaustive()
    }
}
