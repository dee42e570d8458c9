//! [`TimeoutBody`]: an answer's body, bounded in time by the layer that let
//! it through.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::BoxError;

use super::BodyBound;
use crate::error::{TimeoutKind, TransportError, TransportErrorKind};

pin_project! {
    /// A body that fails with a timeout error of its layer's kind when its
    /// [`BodyBound`] is passed: the whole body not in by an instant (the
    /// total timeout), or a wait for the next piece longer than the read
    /// timeout (the attempt timeout). After the error it ends.
    pub struct TimeoutBody<B> {
        #[pin]
        inner: B,
        bound: BodyBound,
        kind: TimeoutKind,
        // Boxed so that the body is `Unpin` when `B` is, and made only the
        // first time a frame is not ready at once.
        sleep: Option<Pin<Box<Sleep>>>,
        // Whether the sleep is set for the wait going on.
        armed: bool,
        done: bool,
    }
}

impl<B> TimeoutBody<B> {
    /// `inner`, bounded by `bound`, failing with a `kind` timeout.
    pub fn new(inner: B, bound: BodyBound, kind: TimeoutKind) -> Self {
        Self {
            inner,
            bound,
            kind,
            sleep: None,
            armed: false,
            done: false,
        }
    }

    /// The body inside.
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B> Body for TimeoutBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            *this.armed = false;
            *this.done = frame.is_none();
            return Poll::Ready(frame.map(|result| result.map_err(Into::into)));
        }
        let at = match *this.bound {
            BodyBound::None => return Poll::Pending,
            BodyBound::Until(at) => at,
            BodyBound::Idle(idle) => match Instant::now().checked_add(idle) {
                Some(at) => at,
                None => return Poll::Pending,
            },
        };
        let sleep = match this.sleep {
            Some(sleep) if *this.armed => sleep,
            Some(sleep) => {
                // An `Until` bound never moves; an `Idle` one starts again
                // with each wait.
                if matches!(this.bound, BodyBound::Idle(_)) {
                    sleep.as_mut().reset(at);
                }
                sleep
            }
            None => this.sleep.insert(Box::pin(tokio::time::sleep_until(at))),
        };
        *this.armed = true;
        ready!(sleep.as_mut().poll(cx));
        *this.done = true;
        Poll::Ready(Some(Err(Box::new(timed_out(*this.kind)))))
    }

    fn is_end_stream(&self) -> bool {
        self.done || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn timed_out(kind: TimeoutKind) -> TransportError {
    match kind {
        TimeoutKind::Attempt => TransportError::new(
            TransportErrorKind::Timeout(TimeoutKind::Attempt),
            "timed out waiting for the rest of the service's answer (read timeout)",
        ),
        other => TransportError::new(
            TransportErrorKind::Timeout(other),
            "the call's total timeout ran out before the service's whole answer arrived",
        ),
    }
}

impl<B> std::fmt::Debug for TimeoutBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeoutBody")
            .field("bound", &self.bound)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}
