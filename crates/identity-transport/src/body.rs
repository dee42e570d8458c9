//! [`ResponseBody`]: the body of an answer, bounded in size and in time.
//!
//! Headers arrive within the attempt timeout; the body then streams. Without
//! limits a service (or a proxy) could send an endless body, or stop sending
//! halfway and hold the call forever. A `ResponseBody` counts the bytes it
//! passes on and fails with [`BodyTooLarge`](TransportErrorKind::BodyTooLarge)
//! past its limit (it never buffers: memory stays bounded by the limit plus
//! one frame), and fails with a [`Timeout`](TransportErrorKind::Timeout) when
//! the next piece takes longer than the read timeout, or the call's deadline
//! passes.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

use crate::error::{TimeoutKind, TransportError, TransportErrorKind, hyper_failure};

/// The default limit of an answer's body: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// The limits a body is read under.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BodyLimits {
    /// Most bytes the body may have.
    pub(crate) max_bytes: u64,
    /// Longest wait for the next frame.
    pub(crate) read_timeout: Option<Duration>,
    /// When reading must be over (the call's deadline).
    pub(crate) deadline: Option<Instant>,
}

/// The body of an answer of [`HttpClient`](crate::HttpClient):
/// `http_body::Body<Data = Bytes, Error = TransportError>`, limited in size
/// and bounded in time (see the module docs).
///
/// Read it with `http_body_util::BodyExt::collect`. It can also be made from
/// bytes ([`ResponseBody::from`]), for test doubles of the client.
pub struct ResponseBody {
    source: Source,
    limits: BodyLimits,
    received: u64,
    /// Armed while waiting for a frame; boxed so that the body is `Unpin`,
    /// and made only the first time a frame is not ready at once.
    timer: Option<Pin<Box<Sleep>>>,
    /// Which limit the timer is armed for, if it is.
    armed: Option<TimeoutKind>,
    done: bool,
}

enum Source {
    Incoming(Incoming),
    Bytes(Option<Bytes>),
}

impl ResponseBody {
    pub(crate) fn new(incoming: Incoming, limits: BodyLimits) -> Self {
        Self::with_source(Source::Incoming(incoming), limits)
    }

    fn with_source(source: Source, limits: BodyLimits) -> Self {
        Self {
            source,
            limits,
            received: 0,
            timer: None,
            armed: None,
            done: false,
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self::from(Bytes::new())
    }

    fn poll_source(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, TransportError>>> {
        match &mut self.source {
            Source::Incoming(incoming) => Pin::new(incoming).poll_frame(cx).map(|frame| {
                frame.map(|result| {
                    result.map_err(|error| {
                        let (kind, message) = hyper_failure(&error);
                        TransportError::new(kind, message).with_source(error)
                    })
                })
            }),
            Source::Bytes(bytes) => Poll::Ready(
                bytes
                    .take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
        }
    }

    /// Waits on the read timer, arming it first if needed; `Ready` with
    /// the error when it fires.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<TransportError> {
        let kind = match self.armed {
            Some(kind) => kind,
            None => {
                let Some((at, kind)) = self.next_timeout() else {
                    return Poll::Pending;
                };
                match &mut self.timer {
                    Some(timer) => timer.as_mut().reset(at),
                    None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
                }
                self.armed = Some(kind);
                kind
            }
        };
        let Some(timer) = &mut self.timer else {
            return Poll::Pending;
        };
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(match kind {
            TimeoutKind::Attempt => TransportError::new(
                TransportErrorKind::Timeout(TimeoutKind::Attempt),
                "timed out waiting for the rest of the service's answer (read timeout)",
            ),
            other => TransportError::timeout(other),
        })
    }

    /// When the wait for the next frame ends, and which limit ends it.
    fn next_timeout(&self) -> Option<(Instant, TimeoutKind)> {
        let idle = self
            .limits
            .read_timeout
            .and_then(|timeout| Instant::now().checked_add(timeout));
        match (idle, self.limits.deadline) {
            (Some(idle), Some(deadline)) if idle < deadline => Some((idle, TimeoutKind::Attempt)),
            (_, Some(deadline)) => Some((deadline, TimeoutKind::Total)),
            (Some(idle), None) => Some((idle, TimeoutKind::Attempt)),
            (None, None) => None,
        }
    }

    fn too_large(&mut self) -> TransportError {
        self.done = true;
        TransportError::new(
            TransportErrorKind::BodyTooLarge,
            format!(
                "the service's answer is larger than the limit of {} bytes",
                self.limits.max_bytes
            ),
        )
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = TransportError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, TransportError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.received == 0 && this.size_hint().lower() > this.limits.max_bytes {
            return Poll::Ready(Some(Err(this.too_large())));
        }
        match this.poll_source(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.armed = None;
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                    if this.received > this.limits.max_bytes {
                        return Poll::Ready(Some(Err(this.too_large())));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.done = true;
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                let error = ready!(this.poll_timer(cx));
                this.done = true;
                Poll::Ready(Some(Err(error)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
            || match &self.source {
                Source::Incoming(incoming) => incoming.is_end_stream(),
                Source::Bytes(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.source {
            Source::Incoming(incoming) => incoming.size_hint(),
            Source::Bytes(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}

impl From<Bytes> for ResponseBody {
    fn from(bytes: Bytes) -> Self {
        Self::with_source(
            Source::Bytes(Some(bytes)),
            BodyLimits {
                max_bytes: u64::MAX,
                read_timeout: None,
                deadline: None,
            },
        )
    }
}

impl From<String> for ResponseBody {
    fn from(text: String) -> Self {
        Self::from(Bytes::from(text))
    }
}

impl From<&'static str> for ResponseBody {
    fn from(text: &'static str) -> Self {
        Self::from(Bytes::from_static(text.as_bytes()))
    }
}

impl Default for ResponseBody {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("received", &self.received)
            .field("max_bytes", &self.limits.max_bytes)
            .field("read_timeout", &self.limits.read_timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_body_from_bytes_reads_back() {
        let body = ResponseBody::from("{\"id\":\"00u1\"}");
        assert_eq!(body.size_hint().exact(), Some(13));
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes, "{\"id\":\"00u1\"}");
        assert!(ResponseBody::empty().is_end_stream());
    }
}
