//! The lists of users as streams: users arrive one by one as the body does,
//! with memory that does not grow with the size of the domain.
//!
//! A streamed call marks its request
//! [`StreamedAnswer`](identity_call::StreamedAnswer), so the stack bounds
//! the body by its read timeout between pieces rather than by a whole-body
//! size limit or the call's deadline (a domain of a million users is a long
//! body, read for as long as the reader wants it). What bounds memory
//! instead is here: one user may have at most [`MAX_STREAMED_USER_BYTES`].

use std::collections::VecDeque;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use http::{Request, Response};
use http_body::Body;
use identity_models::UserResponse;
use tower_service::Service;

use crate::array::{ArrayError, ArrayItems};
use crate::call::{Answer, next_chunk};
use crate::operation::Operation;
use crate::{BoxError, Call, Error};

/// The most bytes one user of a streamed list may have: 1 MiB, a thousand
/// times a user with many roles and alternative ids.
pub const MAX_STREAMED_USER_BYTES: usize = 1024 * 1024;

impl<S, O, B, E> Call<S, O, E>
where
    O: Operation<Output = Vec<UserResponse>>,
    E: From<Error>,
    S: Service<Request<Bytes>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
{
    /// Sends the call and yields the users one by one as they arrive
    /// (ListUsers, ListRunnableUsers).
    ///
    /// Memory holds one chunk of the body and the users of that chunk, for a
    /// domain of any size. The body is bounded by the read timeout between
    /// its pieces, not by the client's whole-body limit nor by the call's
    /// total timeout (which still bounds the wait for the answer's headers);
    /// one user may have at most [`MAX_STREAMED_USER_BYTES`]. An error ends
    /// the stream.
    pub fn stream(mut self) -> impl Stream<Item = Result<UserResponse, E>> {
        self.streamed = true;
        stream::once(async move {
            let (status, body) = match self.respond().await? {
                Answer::Success(parts, body) => (parts.status, Some(Box::pin(body))),
                Answer::AlreadyDone => (http::StatusCode::NO_CONTENT, None),
            };
            Ok(Users {
                operation: O::INFO.name(),
                status,
                body,
                elements: ArrayItems::with_max_element(MAX_STREAMED_USER_BYTES),
                ready: VecDeque::new(),
            })
        })
        .flat_map(|started| match started {
            Ok(users) => stream::unfold(users, Users::next).left_stream(),
            Err(error) => stream::iter([Err(error)]).right_stream(),
        })
        .map(|user| user.map_err(E::from))
    }
}

/// The state of a stream of users: the body still to read, the elements
/// split from it and decoded but not yet yielded.
struct Users<B> {
    operation: &'static str,
    status: http::StatusCode,
    /// `None` once the body has ended or failed.
    body: Option<Pin<Box<B>>>,
    elements: ArrayItems<UserResponse>,
    ready: VecDeque<Result<UserResponse, Error>>,
}

impl<B> Users<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    async fn next(mut self) -> Option<(Result<UserResponse, Error>, Self)> {
        loop {
            if let Some(user) = self.ready.pop_front() {
                return Some((user, self));
            }
            let body = self.body.as_mut()?;
            let chunk = next_chunk(self.operation, self.status, body.as_mut()).await;
            let ready = &mut self.ready;
            let each = &mut |user| ready.push_back(Ok(user));
            let step = match chunk {
                Ok(Some(chunk)) => self.elements.push(chunk, each),
                Ok(None) => {
                    self.body = None;
                    self.elements.finish(each)
                }
                Err(error) => {
                    self.body = None;
                    self.ready.push_back(Err(error));
                    continue;
                }
            };
            if let Err(error) = step {
                self.body = None;
                let error = self.failed(error);
                self.ready.push_back(Err(error));
            }
        }
    }

    /// The stream's error for what the decoder refused.
    fn failed(&self, error: ArrayError) -> Error {
        match error {
            ArrayError::Json(source) => Error::Decode {
                operation: self.operation,
                status: self.status,
                snippet: String::new(),
                source,
            },
            ArrayError::ElementTooLarge { limit } => Error::ElementTooLarge {
                operation: self.operation,
                limit,
            },
        }
    }
}
