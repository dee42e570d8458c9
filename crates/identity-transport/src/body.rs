//! [`ResponseBody`]: the body of an answer, bounded in size.
//!
//! Without a limit a service (or a proxy) could send an endless body. A
//! `ResponseBody` counts the bytes it passes on and fails with
//! [`BodyTooLarge`](TransportErrorKind::BodyTooLarge) past its limit (it
//! never buffers: memory stays bounded by the limit plus one frame). Time is
//! not its business: the timeout layers bound the bodies they let through
//! ([`TimeoutBody`](crate::timeout::TimeoutBody)).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;

use crate::error::{TransportError, TransportErrorKind, hyper_failure};

/// The default limit of an answer's body: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// The body of an answer of [`HttpClient`](crate::HttpClient):
/// `http_body::Body<Data = Bytes, Error = TransportError>`, limited in size
/// (see the module docs).
///
/// Read it with `http_body_util::BodyExt::collect`. It can also be made from
/// bytes ([`ResponseBody::from`]), for test doubles of the client.
pub struct ResponseBody {
    source: Source,
    max_bytes: u64,
    received: u64,
    done: bool,
}

enum Source {
    Incoming(Incoming),
    Bytes(Option<Bytes>),
}

impl ResponseBody {
    pub(crate) fn new(incoming: Incoming, max_bytes: u64) -> Self {
        Self::with_source(Source::Incoming(incoming), max_bytes)
    }

    fn with_source(source: Source, max_bytes: u64) -> Self {
        Self {
            source,
            max_bytes,
            received: 0,
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

    fn too_large(&mut self) -> TransportError {
        self.done = true;
        TransportError::new(
            TransportErrorKind::BodyTooLarge,
            format!(
                "the service's answer is larger than the limit of {} bytes",
                self.max_bytes
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
        if this.received == 0 && this.size_hint().lower() > this.max_bytes {
            return Poll::Ready(Some(Err(this.too_large())));
        }
        match this.poll_source(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                    if this.received > this.max_bytes {
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
            Poll::Pending => Poll::Pending,
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
        Self::with_source(Source::Bytes(Some(bytes)), u64::MAX)
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
            .field("max_bytes", &self.max_bytes)
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
