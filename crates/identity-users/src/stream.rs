//! ListUsers as a stream: users arrive one by one as the body does, with
//! memory that does not grow with the size of the domain.

use std::collections::VecDeque;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use http::{Request, Response};
use http_body::Body;
use identity_models::UserResponse;
use tower_service::Service;

use crate::array::ArrayItems;
use crate::call::{Answer, next_chunk};
use crate::error::snippet;
use crate::operation::{ListUsers, Operation};
use crate::{BoxError, Call, Error};

impl<S, B, E> Call<S, ListUsers, E>
where
    E: From<Error>,
    S: Service<Request<Bytes>, Response = Response<B>>,
    S::Error: Into<BoxError>,
    B: Body,
    B::Error: Into<BoxError>,
{
    /// Sends the call and yields the users one by one as they arrive.
    ///
    /// Memory holds one chunk of the body and the users of that chunk, for a
    /// domain of any size. An error ends the stream.
    pub fn stream(self) -> impl Stream<Item = Result<UserResponse, E>> {
        stream::once(async move {
            let (status, body) = match self.respond().await? {
                Answer::Success(parts, body) => (parts.status, Some(Box::pin(body))),
                Answer::AlreadyDone => (http::StatusCode::NO_CONTENT, None),
            };
            Ok(Users {
                status,
                body,
                elements: ArrayItems::default(),
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
        let name = ListUsers::INFO.name();
        loop {
            if let Some(user) = self.ready.pop_front() {
                return Some((user, self));
            }
            let body = self.body.as_mut()?;
            let status = self.status;
            let decode_error = |head: &[u8], source| Error::Decode {
                operation: name,
                status,
                snippet: snippet(head),
                source,
            };
            match next_chunk(name, status, body.as_mut()).await {
                Err(error) => {
                    self.body = None;
                    self.ready.push_back(Err(error));
                }
                Ok(None) => {
                    self.body = None;
                    let ready = &mut self.ready;
                    if let Err(source) = self.elements.finish(&mut |user| ready.push_back(Ok(user)))
                    {
                        self.ready.push_back(Err(decode_error(&[], source)));
                    }
                }
                Ok(Some(chunk)) => {
                    let ready = &mut self.ready;
                    let pushed = self
                        .elements
                        .push(chunk, &mut |user| ready.push_back(Ok(user)));
                    if let Err(source) = pushed {
                        self.body = None;
                        self.ready.push_back(Err(decode_error(&[], source)));
                    }
                }
            }
        }
    }
}
